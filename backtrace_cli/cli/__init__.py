"""The command line: options in, stages called, output out. No maths here.

One module a group of commands: `trace` (run, step, examples), `teach` (check, quiz, exercise);
`options` holds what they share, `status` the exit statuses. Heavy imports (numpy, rich, yaml)
happen inside the commands, so `--help` stays instant.
"""

from __future__ import annotations

import sys
from typing import ClassVar

import click

from .. import __version__
from . import trace
from .status import BadInput, Exit

__all__ = ["BadInput", "Exit", "cli", "main", "wrap_words"]


class _Commands(click.Group):
    """The commands, the teaching ones imported only when named (or listed by `--help`):
    `run` and `step` never load the marker's or the exercise sheets' options (start-up)."""

    LAZY: ClassVar[dict[str, tuple[str, str]]] = {  # name: (module, attribute)
        "check": ("teach", "check_answers"),
        "exercise": ("exercise", "exercise"),
        "quiz": ("teach", "quiz"),
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*self.commands, *self.LAZY])

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.LAZY and name not in self.commands:
            import importlib

            module, attribute = self.LAZY[name]
            self.add_command(getattr(importlib.import_module(f".{module}", __name__), attribute))
        return super().get_command(ctx, name)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="backtrace")
def cli() -> None:
    """Backpropagation traced step by step: every equation, with its numbers.

    \b
        backtrace run                      # the lecture's 2-2-1 example
        backtrace run --round 3sf          # as a student rounds by hand
        backtrace step --epochs 50         # watch the loss go down
        backtrace run -o homework.md       # the worked step as markdown
        backtrace check answers.yaml       # mark your own answers
        backtrace quiz                     # find each value yourself, marked at once
        backtrace exercise lecture --variants 10 -o sheets
        backtrace run my_net.yaml --format json
        backtrace examples                 # the built-in examples
    """


for command in trace.COMMANDS:
    cli.add_command(command)


INTERRUPTED = 130  # 128 + SIGINT, as shells report a command stopped by Ctrl-C
UNWRITTEN = 74  # sysexits' EX_IOERR: standard output is full or failing (`run > /dev/full`)


def main() -> None:
    """The console script: click's own handling, except that Ctrl-C exits with status 130
    (click would say "Aborted!" and exit 1). Files are only ever written whole, so nothing
    is left half-written."""
    try:
        code = cli.main(standalone_mode=False, terminal_width=_help_width())
    except click.exceptions.Abort:
        click.echo("Interrupted: nothing was written.", err=True)
        code = INTERRUPTED
    except click.ClickException as err:
        _show_error(err)
        code = err.exit_code
    except OSError as err:
        if not _unwritable(err):
            raise
        code = _unwritten(err)
    _leave(code if isinstance(code, int) else 0)


def _unwritable(err: OSError) -> bool:
    """An error of writing the output (a full disk, a failing device) rather than a bug."""
    import errno

    return err.errno in (errno.ENOSPC, errno.EIO, errno.EDQUOT, errno.EFBIG)


def _unwritten(err: OSError) -> int:
    import contextlib

    with contextlib.suppress(OSError):
        sys.stderr.write(f"Error: the output could not be written: {err.strerror}\n")
        sys.stderr.flush()
    return UNWRITTEN


def _leave(code: int) -> None:
    """Exit with `code` once the output is flushed, without the interpreter's teardown.

    Tearing down numpy's, rich's and the trace's objects one by one took about 45 ms a
    command, as long as all of its own work on the lecture's example (docs/speed.md). Nothing
    is lost by skipping it: every file was written whole and closed before this point, and
    the command holds no other process, lock or temporary file. Only the console script and
    `python -m backtrace_cli` call `main`; tests and the Python API go through `cli`."""
    import os

    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BrokenPipeError:  # `run | head -1`: the reader has its lines
            pass
        except OSError as err:  # the last of the output did not fit (`run > /dev/full`)
            if stream is sys.stdout and _unwritable(err):
                code = _unwritten(err)
    os._exit(code)


def _help_width() -> int | None:
    """The width click lays its help out in, worked out as click does (the terminal's columns,
    at most 80, less 2, at least 50) but without importing shutil — and bz2, lzma and zlib
    behind it — only to ask the terminal (start-up time). None where a test forces a width."""
    if click.formatting.FORCED_WIDTH is not None:
        return None
    import os

    try:
        columns = int(os.environ["COLUMNS"])  # as shutil.get_terminal_size reads it
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns
        except (AttributeError, ValueError, OSError):
            columns = 0
    return max(min(columns or 80, 80) - 2, 50)


def _show_error(err: click.ClickException) -> None:
    """The error as click writes it; in a terminal, wrapped at spaces to its width, so that
    the terminal never breaks a word ("did you m / ean")."""
    if not sys.stderr.isatty():
        err.show()
        return
    # start-up: only when an error is shown in a terminal
    import io
    import shutil

    buffer = io.StringIO()
    err.show(file=buffer)
    width = shutil.get_terminal_size().columns
    sys.stderr.write(wrap_words(buffer.getvalue(), width))
    sys.stderr.flush()


def wrap_words(text: str, width: int) -> str:
    """Every line of `text` wrapped at spaces to `width`; a word longer than a line (a long
    path) stays whole. Continuation lines are indented by two spaces."""
    import textwrap  # start-up: only when an error is wrapped

    lines = []
    for line in text.splitlines():
        lines += textwrap.wrap(
            line,
            width,
            subsequent_indent="  ",
            break_long_words=False,
            break_on_hyphens=False,
        ) or [""]
    return "\n".join(lines) + "\n"
