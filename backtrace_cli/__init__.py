"""backtrace: backpropagation traced step by step, in the lecture's notation.

The Python API (see `backtrace_cli.api`): `load`, `trace`, `train`, `check`. Imported on first use,
so that `backtrace --help` never pays for numpy.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["__version__", "check", "load", "trace", "train"]


def __getattr__(name: str) -> Any:
    if name == "check":  # the marking module, callable as the API's check(answers, config)
        import importlib  # start-up: `import backtrace_cli` loads nothing it does not use

        return importlib.import_module(f"{__name__}.teach.check")
    if name in ("load", "trace", "train", "Worked", "ConfigError"):
        from . import api  # start-up: the API (and numpy) load on first use

        return getattr(api, name)
    raise AttributeError(f"module 'backtrace_cli' has no attribute {name!r}")
