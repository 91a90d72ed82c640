"""`python -m backtrace_cli …`: the same command line as the `backtrace` script."""

from __future__ import annotations

from .cli import main

if __name__ == "__main__":
    main()
