"""`backtrace step` in the terminal: the per-epoch table, the loss curve, traced epochs."""

from __future__ import annotations

import math

from rich import box
from rich.console import Group, RenderableType
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from ..history import EpochRow, TrainingTrace
from ..records import Elided
from . import table as run_table
from .numbers import NumberFormat

BLOCKS = " ▁▂▃▄▅▆▇█"


def epoch_table(trace: TrainingTrace, fmt: NumberFormat) -> Table:
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=0)
    table.add_column("epoch ", justify="right", style="bold cyan", no_wrap=True)
    table.add_column("loss", justify="right", no_wrap=True)
    for name in trace.output_names:
        table.add_column(name, justify="right", no_wrap=True)
    for name in trace.parameter_names:
        table.add_column(name, justify="right", no_wrap=True)
    moved = not trace.parameter_names and any(
        isinstance(row, EpochRow) and row.moved for row in trace.rows
    )
    if moved:
        table.add_column("changed most", no_wrap=True)
    if trace.dropped is not None:
        table.add_column("dropped", justify="right", no_wrap=True)
    for row in trace.rows:
        if isinstance(row, Elided):
            continue  # the epoch numbers and the note above say which rows are left out
        cells = [f"{row.epoch} ", fmt(row.loss)]
        cells += [fmt(v) for v in row.outputs]
        cells += [fmt(v) for v in row.parameters]
        if moved:
            cells.append(f"{row.moved} = {fmt(row.moved_value)} ({fmt.signed(row.moved_change)})")
        if trace.dropped is not None:
            cells.append(f"{row.dropped}/{trace.maskable}")
        table.add_row(*cells)
    return table


def loss_curve(losses: list[float], width: int = 60, height: int = 8) -> tuple[list[str], bool]:
    """Rows of a block-character chart of the losses (log scale when they span decades)."""
    finite = [v for v in losses if math.isfinite(v)]
    if not finite:
        return [], False
    # each column shows the loss at the end of its share of the epochs
    samples = [
        finite[min(len(finite) - 1, (c + 1) * len(finite) // width - 1)]
        if len(finite) >= width
        else finite[c * len(finite) // width]
        for c in range(width)
    ]
    low, high = min(samples), max(samples)
    log = low > 0 and high / low > 100
    if log:
        samples = [math.log10(v) for v in samples]
        low, high = math.log10(low), math.log10(high)
    span = high - low or 1.0
    levels = [round((v - low) / span * (height * 8 - 1)) + 1 for v in samples]
    rows = []
    for r in reversed(range(height)):
        rows.append("".join(BLOCKS[max(0, min(8, level - r * 8))] for level in levels))
    return rows, log


def curve_panel(trace: TrainingTrace, fmt: NumberFormat) -> RenderableType:
    losses = [float(v) for v in trace.losses_after]
    rows, log = loss_curve(losses)
    if not rows:
        return Text("no finite loss to draw", style="dim")
    finite = [v for v in losses if math.isfinite(v)]
    top, bottom = fmt(max(finite)), fmt(min(finite))
    pad = max(len(top), len(bottom))
    lines = []
    for r, row in enumerate(rows):
        label = top if r == 0 else bottom if r == len(rows) - 1 else ""
        lines.append(Text.assemble((label.rjust(pad), "dim"), " │", (row, "green")))
    run = len(trace.losses)
    lines.append(Text(" " * pad + " └" + "─" * len(rows[0]), style="dim"))
    lines.append(
        Text(" " * pad + "  epoch 1" + f"epoch {run}".rjust(len(rows[0]) - 7), style="dim")
    )
    first = trace.loss_start
    summary = (
        f"loss after each epoch{', log scale' if log else ''}. Before training "
        f"{fmt(first)}, after epoch {run} {fmt(losses[-1])}"
    )
    if math.isfinite(trace.relative_drop):
        change = "lower" if trace.relative_drop >= 0 else "higher"
        summary += f": {abs(trace.relative_drop):.1%} {change}"
    return Group(Text("Loss curve", style="bold"), *lines, Text(summary))


def render(trace: TrainingTrace, fmt: NumberFormat) -> RenderableType:
    """The whole `step` output, as one renderable."""
    spec = trace.spec
    run = len(trace.losses)
    parts: list[RenderableType] = [
        Text(spec.name, style="bold underline"),
        Text(run_table.network_line_for(spec), style="dim"),
        Text(f"{run} of {trace.epochs_asked} epochs", style="dim"),
    ]
    for traced in trace.traces:
        parts.append(run_table.render(traced, fmt, title=False))
    parts.append(Text(""))
    parts.append(Rule("Epochs", align="left"))
    note = (
        f"rows: {trace.rows_note}. loss: the mean of each sample's loss before its own "
        "update; outputs and weights: after the epoch."
    )
    if not trace.parameter_names:
        note += " changed most: the parameter that moved most since the row above (by how much)."
    parts.append(Text(note, style="dim"))
    parts.append(epoch_table(trace, fmt))
    parts.append(Text(""))
    parts.append(curve_panel(trace, fmt))
    if trace.stop_reason:
        style = "bold red" if trace.stop == "diverged" else "bold"
        parts.append(Text(f"Stopped: {trace.stop_reason}.", style=style))
    return Group(*parts)
