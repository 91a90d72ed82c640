"""`backtrace step` in the terminal: the per-epoch table, the loss curve, traced epochs."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence

import numpy as np
from rich import box
from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.rule import Rule
from rich.text import Text

from ..core.errors import visible
from ..network.history import TrainingTrace, loss_meanings, output_heading
from ..network.records import Elided
from . import table as run_table
from .lines import Streamed, lit
from .numbers import NumberFormat, accuracy_caption, loss_change, percent

BLOCKS = " ▁▂▃▄▅▆▇█"


def _columns(trace: TrainingTrace, fmt: NumberFormat) -> list[tuple[str, list[str], bool]]:
    """Every column of the per-epoch table as (header, cells, is a parameter)."""
    rows = [row for row in trace.rows if not isinstance(row, Elided)]
    columns = [
        ("epoch ", [f"{row.epoch} " for row in rows], False),
        ("loss", [fmt(row.loss) for row in rows], False),
    ]
    if trace.accuracy is not None:
        columns.append(("accuracy", [percent(row.accuracy or 0.0) for row in rows], False))
    for n, name in enumerate(trace.output_names):
        symbol, sample = output_heading(name)
        header = f"{symbol}\n{sample}" if sample else symbol
        columns.append((header, [fmt(row.outputs[n]) for row in rows], False))
    if not trace.parameter_names and any(row.moved for row in rows):
        cells = [f"{r.moved} = {fmt(r.moved_value)} ({fmt.signed(r.moved_change)})" for r in rows]
        columns.append(("changed most", cells, False))
    if trace.dropped is not None:
        columns.append(("dropped", [f"{row.dropped}/{trace.maskable}" for row in rows], False))
    for n, name in enumerate(trace.parameter_names):
        columns.append((name, [fmt(row.parameters[n]) for row in rows], True))
    return columns


def _table(columns: list[tuple[str, list[str], bool]]) -> RenderableType:
    from rich.table import Table  # only where a table must narrow: start-up time

    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=0)
    for n, (header, _, _) in enumerate(columns):
        style = "bold cyan" if n == 0 else None
        justify = "left" if header == "changed most" else "right"
        table.add_column(header, justify=justify, style=style, no_wrap=True)
    for cells in zip(*(cells for _, cells, _ in columns)):
        table.add_row(*cells)
    return table


class EpochTables(Streamed):
    """The per-epoch table; when its parameter columns do not fit the width, they continue
    in further tables, each with the epoch column again: every parameter keeps a column.
    Written line by line, byte for byte as rich's Table writes it (its start-up cost), and
    left to rich's Table where a table must narrow."""

    STYLES = ("bold cyan", "bold")
    keeps_spaces = True  # as rich's Table writes a line: padded to the table's width

    def __init__(self, columns: list[tuple[str, list[str], bool]]) -> None:
        self.columns = columns

    def groups(self, width: int) -> list[list[tuple[str, list[str], bool]]]:
        def size(column: tuple[str, list[str], bool]) -> int:
            return _widths([column])[0] + 1  # with the space before the next column

        fixed = [c for c in self.columns if not c[2]]
        groups = [fixed]
        used = sum(size(c) for c in fixed)
        for column in (c for c in self.columns if c[2]):
            if used + size(column) > width and len(groups[-1]) > 1:
                groups.append([fixed[0]])
                used = size(fixed[0])
            groups[-1].append(column)
            used += size(column)
        return groups

    def instead(self, width: int) -> RenderableType | None:
        """rich's Table where a table is wider than the console (its columns narrowed) or a
        cell is wider on screen than its length."""
        texts = "".join(h + "".join(cells) for h, cells, _ in self.columns).replace("\n", "")
        groups = self.groups(width)
        if cell_len(texts) != len(texts) or any(
            sum(_widths(g)) + len(g) - 1 > width for g in groups
        ):
            return Group(*self.by_rich(width))
        return None

    def by_rich(self, width: int) -> list[RenderableType]:
        parts: list[RenderableType] = []
        for n, group in enumerate(self.groups(width)):
            parts += [Text(""), _table(group)] if n else [_table(group)]
        return parts

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield from self.by_rich(options.max_width)  # inside another renderable: rich lays it out

    def lines(self, width: int, codes: tuple[tuple[str, str], ...]) -> Iterator[str]:
        (c_on, c_off), (h_on, h_off) = codes
        for n, group in enumerate(self.groups(width)):
            if n:
                yield ""
            widths = _widths(group)
            left = [header == "changed most" for header, _, _ in group]
            headers = [header.split("\n") for header, _, _ in group]
            height = max(map(len, headers))
            for line in range(height):  # a shorter header at the bottom, as rich aligns it
                cells = []
                for lines, w, flush in zip(headers, widths, left):
                    at = line - (height - len(lines))
                    text = lines[at].rstrip() if at >= 0 else ""  # rich justifies it stripped
                    cells.append(
                        f"{h_on}{text:<{w}}{h_off}" if flush else f"{h_on}{text:>{w}}{h_off}"
                    )
                yield " ".join(cells)
            yield "─" * (sum(widths) + len(widths) - 1)
            aligned = [f"%-{w}s" if flush else f"%{w}s" for w, flush in zip(widths, left)]
            row = " ".join([f"{lit(c_on)}{aligned[0]}{lit(c_off)}", *aligned[1:]])
            for cells in zip(*(cells for _, cells, _ in group)):
                yield row % tuple(cell.rstrip() for cell in cells)


def _widths(group: list[tuple[str, list[str], bool]]) -> list[int]:
    """Each column's width as rich measures it with nothing wrapped: its widest line."""
    return [
        max(len(line) for text in (h, *cells) for line in text.split("\n")) for h, cells, _ in group
    ]


def epoch_table(trace: TrainingTrace, fmt: NumberFormat) -> EpochTables:
    return EpochTables(_columns(trace, fmt))


def loss_curve(losses: Sequence[float], width: int = 60, height: int = 8) -> tuple[list[str], bool]:
    """Rows of a block-character chart of the losses (log scale when they span decades)."""
    values = np.asarray(losses, dtype=np.float64)  # 100,000 epochs' losses: no Python loop
    finite = values[np.isfinite(values)]
    count = len(finite)
    if not count:
        return [], False
    # each column shows the loss at the end of its share of the epochs
    picked = [
        min(count - 1, (c + 1) * count // width - 1) if count >= width else c * count // width
        for c in range(width)
    ]
    samples = finite[picked].tolist()
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
    losses = np.asarray(trace.losses_after, dtype=np.float64)
    rows, log = loss_curve(losses)
    if not rows:
        return Text("no finite loss to draw", style="dim")
    finite = losses[np.isfinite(losses)]
    top, bottom = fmt(float(finite.max())), fmt(float(finite.min()))
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
    _, meaning = loss_meanings(trace.spec)
    title = Text.assemble(("Loss curve", "bold"), f"   {meaning}{', log scale' if log else ''}")
    summary = (
        f"The same loss before training: {fmt(trace.loss_start)}; after epoch {run}: "
        f"{fmt(float(losses[-1]))}"
    )
    if math.isfinite(trace.relative_drop):
        summary += f", {loss_change(trace.relative_drop)}"
    if trace.accuracy is not None:
        summary += f"; {accuracy_caption(trace.accuracy)}"
    return Group(title, *lines, Text(summary + "."))


def render(trace: TrainingTrace, fmt: NumberFormat) -> RenderableType:
    """The whole `step` output, as one renderable."""
    spec = trace.spec
    run = len(trace.losses)
    parts: list[RenderableType] = [
        Text(visible(spec.name), style="bold underline"),
        Text(run_table.network_line_for(spec), style="dim"),
        Text(f"{run} of {trace.epochs_asked} epochs", style="dim"),
        *run_table.layout_note(spec),
    ]
    for traced in trace.traces:
        parts.append(run_table.render(traced, fmt, title=False))
    parts.append(Text(""))
    parts.append(Rule("Epochs", align="left"))
    table_loss, _ = loss_meanings(spec)
    note = f"rows: {trace.rows_note}. loss: {table_loss}; outputs"
    note += " and parameters" if trace.parameter_names else ""
    note += ": after the epoch."
    if trace.accuracy is not None:
        note += " accuracy: the share of samples right, each before its own update."
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
