"""Renderers: the records formatted as rich tables, markdown or JSON. They never compute."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from .numbers import NumberFormat

if TYPE_CHECKING:
    from ..sheet import Question


def number_format(decimals: int | None, rounding: str | None) -> NumberFormat:
    return NumberFormat(decimals if decimals is not None else 6, rounding, decimals is not None)


# What draws each traced result (its FORM), in each format: (module of this package, function).
# Looked up by the result's own FORM, so `run` never imports a training trace's renderers.
# "sheet": an exercise's question sheet of a traced step — its model's problem statement and
# diagram, and what to find (`sheet` below).
DRAWN_BY: dict[str, dict[str, tuple[str, str]]] = {
    "network step": {
        "table": ("table", "render"),
        "markdown": ("markdown", "render"),
        "json": ("json", "render"),
        "sheet": ("sheets", "question"),
    },
    "network training": {
        "table": ("epochs", "render"),
        "markdown": ("markdown", "render_training"),
        "json": ("json", "render_training"),
    },
    "graph step": {
        "table": ("graph_table", "renderable"),
        "markdown": ("graph_markdown", "render_markdown"),
        "json": ("graph_json", "render_json"),
        "sheet": ("sheets", "graph_question"),
    },
    "model step": {
        "table": ("model_table", "render"),
        "markdown": ("model_markdown", "render"),
        "json": ("model_json", "render"),
        "sheet": ("sheets", "model_question"),
    },
    "model training": {
        "table": ("model_table", "training"),
        "markdown": ("model_markdown", "training"),
        "json": ("model_json", "training"),
    },
    "graph training": {
        "table": ("graph_table", "training_renderable"),
        "markdown": ("graph_markdown", "training_markdown"),
        "json": ("graph_json", "training_json"),
    },
}


def _drawer(result: Any, fmt: str) -> Callable[..., Any]:
    from importlib import import_module  # each renderer loads when it is used

    module, function = DRAWN_BY[result.FORM][fmt]
    return getattr(import_module(f"{__name__}.{module}"), function)  # type: ignore[no-any-return]


def renderable(result: Any, number: NumberFormat) -> Any:
    """The rich renderable of a trace (`run`) or a training trace (`step`)."""
    return _drawer(result, "table")(result, number)


def sheet(
    result: Any, number: NumberFormat, ident: str, asked: Sequence[Question], **options: Any
) -> str:
    """Variant `ident`'s question sheet, from its traced step: the problem statement and the
    diagram of its model, a table of what to find (`asked`), how to hand in — no answers.
    `options`: a platform quiz's `blank` and `draw` (`sheets.question`)."""
    drawer = _drawer(result, "sheet")
    return drawer(result, number, ident, asked, **options)  # type: ignore[no-any-return]


def to_terminal(
    result: Any, number: NumberFormat, progress: Callable[[int], None] | None = None
) -> None:
    from rich.console import Console

    write(Console(highlight=False, emoji=False), renderable(result, number), progress)


def write(console: Any, renderable: Any, progress: Callable[[int], None] | None = None) -> None:
    """Print part by part, so that a long trace streams out as it is laid out (and a section
    of 200,000 rows is written by its LongTable, never held whole in rich's buffer).
    `progress(n)`: told each time n more lines of a long table are written."""
    from rich.console import Group

    from .lines import Streamed, written_line

    if isinstance(renderable, Group):
        for part in renderable.renderables:
            write(console, part, progress)
    elif isinstance(renderable, Streamed):
        renderable.write(console, progress)
    elif (line := written_line(renderable, console)) is not None:
        console.file.write(line)
    else:
        console.print(renderable)


def text(
    result: Any, fmt: str, number: NumberFormat, progress: Callable[[int], None] | None = None
) -> str:
    """The trace as text in `fmt`: json, markdown, or the tables without colour (for files)."""
    if fmt == "json":
        return _drawer(result, "json")(result)  # type: ignore[no-any-return]
    if fmt == "markdown":
        return _drawer(result, "markdown")(result, number)  # type: ignore[no-any-return]
    import io

    from rich.console import Console

    buffer = io.StringIO()
    console = Console(file=buffer, width=100, color_system=None, highlight=False, emoji=False)
    write(console, renderable(result, number), progress)
    return buffer.getvalue()
