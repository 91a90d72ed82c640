"""Renderers: the records formatted as rich tables, markdown or JSON. They never compute."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .numbers import NumberFormat


def number_format(decimals: int | None, rounding: str | None) -> NumberFormat:
    return NumberFormat(decimals if decimals is not None else 6, rounding, decimals is not None)


def _is_training(result: Any) -> bool:
    # a TrainingTrace has every epoch's losses; checked by shape so `run` never imports it
    return hasattr(result, "losses")


def _graph(result: Any) -> str | None:
    """ "trace" or "training" for a computational graph's records, else None."""
    kind = type(result).__name__
    return {"GraphTrace": "trace", "GraphTraining": "training"}.get(kind)


def renderable(result: Any, number: NumberFormat) -> Any:
    """The rich renderable of a trace (`run`) or a training trace (`step`)."""
    if _graph(result):
        from . import graph

        if _graph(result) == "training":
            return graph.training_renderable(result, number)
        return graph.renderable(result, number)
    if _is_training(result):
        from . import epochs

        return epochs.render(result, number)
    from . import table

    return table.render(result, number)


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

    from .table import Streamed

    if isinstance(renderable, Group):
        for part in renderable.renderables:
            write(console, part, progress)
    elif isinstance(renderable, Streamed):
        renderable.write(console, progress)
    else:
        console.print(renderable)


def text(
    result: Any, fmt: str, number: NumberFormat, progress: Callable[[int], None] | None = None
) -> str:
    """The trace as text in `fmt`: json, markdown, or the tables without colour (for files)."""
    if _graph(result) and fmt != "table":
        from . import graph

        if fmt == "json":
            return graph.render_json(result)
        if _graph(result) == "training":
            return graph.training_markdown(result, number)
        return graph.render_markdown(result, number)
    if fmt == "json":
        from . import json

        return json.render(result)
    if fmt == "markdown":
        from . import markdown

        if _is_training(result):
            return markdown.render_training(result, number)
        return markdown.render(result, number)
    import io

    from rich.console import Console

    buffer = io.StringIO()
    console = Console(file=buffer, width=100, color_system=None, highlight=False, emoji=False)
    write(console, renderable(result, number), progress)
    return buffer.getvalue()
