"""A computational graph's trace and training as terminal tables (rich renderables)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from rich import box
from rich.console import Group
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from ..core.errors import visible
from ..definitions.optimizers import describe
from ..graph.config import FD_STEP, FD_TOLERANCE
from ..graph.trace import GraphTrace
from ..worked import Section
from .epochs import loss_curve
from .graph_formula import text_formula, text_working
from .lines import Heading, Wrapped
from .numbers import NumberFormat
from .table import Bullet, title_lines

if TYPE_CHECKING:
    from rich.console import RenderableType

    from ..graph.trace import GraphTraining


def _describe(trace: GraphTrace) -> str:
    spec = trace.spec
    n_in, n_nodes = len(spec.inputs), len(spec.nodes)
    parts = [
        "computational graph",
        f"{n_in} input{'s' if n_in != 1 else ''}",
        f"{n_nodes} node{'s' if n_nodes != 1 else ''}",
        f"output {spec.output}",
    ]
    if spec.parameters:
        parts.append(f"parameters {', '.join(spec.parameters)}, η = {spec.learning_rate:g}")
    line = " · ".join(parts)
    if spec.parameters and not spec.plain:  # as a network's: the optimizer and its settings
        line += "\noptimizer " + describe(spec.optimizer, spec.weight_decay)
    return line


def _written(trace: GraphTrace) -> list[str]:
    spec = trace.spec
    if spec.form == "expression":
        return [f"{spec.output} = {spec.written[0][1]}"]
    return [f"{name} = {text}" for name, text in spec.written]


def _given(trace: GraphTrace, fmt: NumberFormat) -> str:
    if not trace.inputs:
        return "no inputs"
    return "inputs " + ", ".join(f"{n} = {fmt(v)}" for n, v in trace.inputs)


def block_table(block: Section, fmt: NumberFormat) -> RenderableType:
    heading = Heading(block.title, block.rule)  # too long for the line: broken between equations
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=0)
    table.add_column("", style="bold cyan", no_wrap=True)
    table.add_column("formula", style="magenta", overflow="fold")
    table.add_column("with numbers", overflow="fold")
    table.add_column("value", justify="right", style="bold", no_wrap=True)
    notes = []
    for row in block.rows:
        formula = text_formula(row.structure)
        working = text_working(row.structure, fmt)
        # a row with a long sum elided wraps as a network's, between terms: "… (9 terms)" whole
        cell = Wrapped if "…" in formula else (lambda text: text)
        table.add_row(
            Text(row.symbol + " "),
            cell(Text(formula)),
            cell(Text("" if working == formula else working)),
            fmt(row.value),
        )
        if row.note:  # under the table, where it has the width to be read
            notes.append(f"{row.symbol}: {row.note}")
    parts: list[Any] = [heading, table]
    parts += [Text(note, style="italic yellow") for note in notes]
    if block.note:
        parts.append(Text(block.note, style="italic"))
    return Group(*parts)


def _verify_table(trace: GraphTrace, fmt: NumberFormat) -> RenderableType:

    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    table.add_column("gradient", style="bold cyan", no_wrap=True)
    table.add_column("backprop", justify="right")
    table.add_column("finite difference", justify="right")
    table.add_column("relative difference", justify="right")
    table.add_column("")
    for check in trace.checks or ():
        table.add_row(
            f"∂{trace.spec.output}/∂{check.name}",
            fmt(check.backprop),
            "undefined" if check.numeric is None else fmt(check.numeric),
            f"{check.difference:.1e}",
            "agrees" if check.agrees else "DISAGREES",
        )
    return Group(
        Text.assemble(
            ("Gradient check · central finite differences", "bold"),
            "   ",
            (_verify_rule(trace), "dim"),
        ),
        table,
        Text(verify_note(trace), style="italic"),
    )


def _verify_rule(trace: GraphTrace) -> str:

    out = trace.spec.output
    return f"∂{out}/∂x ≈ [{out}(x + h) − {out}(x − h)]/2h, h = {FD_STEP:g}"


def verify_note(trace: GraphTrace) -> str:

    checks = trace.checks or ()
    bad = [c.name for c in checks if not c.agrees]
    tolerance = f"tolerance {FD_TOLERANCE:g} relative + 1e-8·(1 + |{trace.spec.output}|)"
    if bad:
        return f"{len(bad)} of {len(checks)} gradients DISAGREE ({', '.join(bad)}; {tolerance})"
    return (
        f"All {len(checks)} gradients agree with central finite differences of "
        f"{trace.spec.output} through the forward pass ({tolerance})."
    )


def renderable(trace: GraphTrace, fmt: NumberFormat, title: bool = True) -> RenderableType:
    """The whole trace of one pass, as one renderable; the caller prints it once."""

    spec = trace.spec
    parts: list[Any] = []
    if title:
        parts += title_lines(spec.name, _describe(trace), spec.description, _written(trace))
    parts.append(Text(""))
    heading = "Forward pass only (--eval)" if trace.inference else "Forward, then backward"
    if trace.epoch is not None:
        heading = f"Epoch {trace.epoch} · {heading[0].lower()}{heading[1:]}"
    parts.append(Rule(heading, align="left"))
    parts.append(Text(_given(trace, fmt), style="dim"))
    for block in trace.blocks:
        parts.append(Text(""))
        parts.append(block_table(block, fmt))
    if trace.checks is not None:
        parts.append(Text(""))
        parts.append(_verify_table(trace, fmt))
    parts.append(Text(""))
    parts.append(Text(_closing(trace, fmt)))
    return Group(*parts)


def _closing(trace: GraphTrace, fmt: NumberFormat) -> str:
    out = trace.spec.output
    if trace.inference:
        return f"{out} = {fmt(trace.value)} (forward pass only: no gradients)"
    grads = ", ".join(f"∂{out}/∂{n} = {fmt(g)}" for n, g in trace.gradients)
    line = f"{out} = {fmt(trace.value)}" + (f"; {grads}" if grads else "")
    if trace.value_after is not None:
        line += f". After the update {out} = {fmt(trace.value_after)} (before: {fmt(trace.value)})"
    return line


# ---------------------------------------------------------------- training


def shown_rows(trace: GraphTraining) -> list[Any]:
    return [row for row in trace.rows if row.epoch in trace.shown]


def training_renderable(trace: GraphTraining, fmt: NumberFormat) -> RenderableType:

    spec = trace.spec
    out = spec.output
    parts: list[Any] = [
        Text(visible(spec.name), style="bold underline"),
        Text(_describe(trace.first), style="dim"),
        Text(f"{len(trace.rows)} of {trace.epochs_asked} epochs", style="dim"),
    ]
    for line in _written(trace.first):
        parts.append(Bullet(line))
    for traced in trace.traces:
        parts.append(renderable(traced, fmt, title=False))
    parts += [Text(""), Rule("Epochs", align="left")]
    parts.append(
        Text(
            f"rows: {trace.rows_note}. {out}: before the epoch's update; parameters: after it.",
            style="dim",
        )
    )
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    table.add_column("epoch", justify="right", style="bold cyan")
    table.add_column(out, justify="right")
    for name in spec.parameters:
        table.add_column(f"∂{out}/∂{name}", justify="right")
        table.add_column(f"new {name}", justify="right")
    for row in shown_rows(trace):
        cells = [str(row.epoch), fmt(row.value)]
        grads = dict(row.gradients)
        for name, value in row.parameters:
            cells += [fmt(grads[name]), fmt(value)]
        table.add_row(*cells)
    parts.append(table)
    values = [row.value_after for row in trace.rows]
    rows, log = loss_curve(values)
    parts.append(Text(""))
    if rows:
        finite = [v for v in values if math.isfinite(v)]
        top, bottom = fmt(max(finite)), fmt(min(finite))
        pad = max(len(top), len(bottom))
        parts.append(Text(f"{out} after each epoch{', log scale' if log else ''}", style="bold"))
        for r, line in enumerate(rows):
            label = top if r == 0 else bottom if r == len(rows) - 1 else ""
            parts.append(Text.assemble((label.rjust(pad), "dim"), " │", (line, "green")))
        parts.append(Text(" " * pad + " └" + "─" * len(rows[0]), style="dim"))
    parts.append(Text(training_summary(trace, fmt)))
    return Group(*parts)


def training_summary(
    trace: GraphTraining, fmt: NumberFormat, name: Callable[[str], str] = str
) -> str:
    """How training went; `name` writes a name (markdown: as math, θ for theta)."""
    out = name(trace.spec.output)
    last = trace.rows[-1]
    params = ", ".join(f"{name(n)} = {fmt(v)}" for n, v in last.parameters)
    text = (
        f"{out} = {fmt(trace.rows[0].value)} before training, {fmt(last.value_after)} after "
        f"epoch {last.epoch}; {params}"
    )
    if trace.stop_reason:
        text += f". Stopped: {trace.stop_reason}"
    return text + "."
