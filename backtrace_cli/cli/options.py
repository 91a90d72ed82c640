"""What the commands share: the trace options, --notation, --round, and where the output goes.

Nothing here imports numpy or rich at module level: `--help` reads these decorators.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple

import click

from .status import bad_input

FORMATS = ("table", "markdown", "json")
EXTENSIONS = {".md": "markdown", ".markdown": "markdown", ".json": "json"}


def rounding_spec(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """--round SPEC, checked and written the one way (3sf, 4dp)."""
    if value is None:
        return None
    from ..core.rounding import parse  # read only when given: `--help` stays fast

    parsed = parse(value)
    if parsed is None:
        raise click.BadParameter(
            f"{value!r} is not a rounding spec; use e.g. 3sf (3 "
            "significant figures) or 4dp (4 decimal places)"
        )
    return f"{parsed[0]}{parsed[1]}"


def _notation(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """--notation's book, checked against the notations there are (read only when given:
    `--help` stays fast)."""
    if value is None:
        return None
    from ..definitions.notations import NAMES  # start-up: see the docstring

    if value not in NAMES:
        raise click.BadParameter(f"{value!r} is not a notation; use one of {', '.join(NAMES)}")
    return value


def notation_option(command: Callable[..., Any]) -> Callable[..., Any]:
    """--notation BOOK: the trace (and the names answers use) in a textbook's symbols."""
    return click.option(
        "--notation",
        metavar="BOOK",
        callback=_notation,
        default=None,
        help="The textbook whose symbols and δ sign the trace uses, and the names answers are "
        "read in: lecture (net3, o3, δ = −∂E/∂net, w13), or a book's, e.g. nielsen (z^2_1, "
        "δ = ∂C/∂z) — docs/student-guide.md lists them all. Default: the config's or answers "
        "file's `notation:`, else lecture. Networks and models of layers (z^2[0,1]); a "
        "computational graph's names are its own.",
    )(command)


def in_notation(spec: Any, book: str | None) -> Any:
    """The spec with --notation's book, or exit 2 (a computational graph's names are its
    own: no book renames them)."""
    from ..api import _in_notation  # numpy loads here, not for --help

    with bad_input():
        return _in_notation(spec, book)


def trace_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Options shared by every command that prints a trace."""
    command = notation_option(command)  # listed last
    for option in reversed(
        [
            click.option(
                "--format",
                "fmt",
                type=click.Choice(FORMATS),
                default=None,
                help="table: rich tables for the terminal (default); markdown: the homework "
                "export (LaTeX math, Mermaid diagrams); json: the machine-readable trace. "
                "With -o, the file's extension decides unless this is given.",
            ),
            click.option(
                "-o",
                "--output",
                metavar="FILE",
                help="Write to FILE instead of the terminal (- for standard output); written "
                "atomically, never over an existing file without --force.",
            ),
            click.option("--force", is_flag=True, help="Let -o (and --save) overwrite a file."),
            click.option(
                "--decimals",
                type=click.IntRange(0, 15),
                default=None,
                help="Decimal places shown (display only; default 6, trailing zeros dropped).",
            ),
            click.option(
                "--round",
                "rounding",
                callback=rounding_spec,
                metavar="SPEC",
                help="Hand-calculation mode: round every carried intermediate as a "
                "student does (3sf = 3 significant figures, 4dp = 4 decimal places).",
            ),
            click.option(
                "--full",
                is_flag=True,
                help="Show every unit of wide layers (tables "
                "summarise them otherwise; JSON always has everything).",
            ),
            click.option(
                "--verify",
                is_flag=True,
                help="Beside every gradient of the traced steps, its central finite "
                "difference (through the same forward pass) and whether they agree.",
            ),
            click.option(
                "--gradients/--no-gradients",
                default=None,
                help="Show the chain-rule "
                "rows ∂E/∂w for every weight (default: only for one-layer networks).",
            ),
        ]
    ):
        command = option(command)
    return command


def load_config(config: str | None) -> Any:
    """CONFIG (a path, a built-in name, or None for the lecture's example), or exit 2."""
    from .. import models as cfg  # numpy loads here, not for --help

    with bad_input():
        return cfg.load(config)


class Target(NamedTuple):
    """Where the trace goes and in which format; checked before any work is done."""

    fmt: str
    path: str | None  # None: standard output
    force: bool


def output_target(fmt: str | None, output: str | None, force: bool) -> Target:
    """--format, -o and --force as a Target: the format from -o's extension unless given."""
    path = None if output in (None, "-") else output
    if fmt is None:
        import os  # only when needed, for start-up time

        extension = os.path.splitext(path)[1].lower() if path else ""
        fmt = EXTENSIONS.get(extension, "table")
    if path is not None:
        from ..core.output import refuse_existing  # only when writing, for start-up time

        if not force:
            with bad_input():
                refuse_existing(path)
    return Target(fmt, path, force)


SET_ASIDE = 100_000  # objects: a trace that made more is set aside once built (`built_aside`)


@contextmanager
def built_aside() -> Iterator[None]:
    """Build a trace with Python's cycle collector paused; a large one is then set aside
    (`gc.freeze`). `--full` on a 784-256-10 network makes two million objects without a cycle
    among them, which every collection would walk again: as long as building them took, and
    as long again for the first collection after a pause. For a command's one-shot process,
    which holds the trace to its end; the Python API leaves the collector alone."""
    import gc  # built in: costs nothing at start-up, imported where it is used

    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if gc.get_count()[0] > SET_ASIDE:  # tracked objects made since the pause
            gc.freeze()  # never walked again (a small trace: collected as usual)
        if enabled:
            gc.enable()


def emit(
    result: Any,
    target: Target,
    decimals: int | None,
    rounding: str | None,
    progress: Callable[[int], None] | None = None,
) -> None:
    """Print the trace, or write it atomically to the target file."""
    from .. import render  # the renderers load here, not for --help

    number = render.number_format(decimals, rounding)
    if target.path is None and target.fmt == "table":
        # rich, with colour where the terminal has it
        render.to_terminal(result, number, progress)
        return
    text = render.text(result, target.fmt, number, progress)
    if target.path is None:
        click.echo(text, nl=False)
        return
    from ..core.output import write_text  # only when writing a file, for start-up time

    with bad_input():
        write_text(target.path, text or "", force=target.force, option="-o")
    click.echo(f"Wrote {target.fmt} to {target.path}.", err=True)
