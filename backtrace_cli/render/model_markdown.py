"""A `model:` of tensor layers, traced and trained, as markdown: its layers and tensor shapes
as a table, then every section's equations in LaTeX, as a graph's are written
(`graph_markdown.block_markdown`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import tracing
from ..core.rounding import describe
from ..network.model_notation import word
from . import escape
from .graph_formula import latex_name
from .graph_markdown import block_markdown
from .latex import math_inline
from .mermaid import flowchart
from .model_table import (
    closing,
    describe_line,
    layers_markdown,
    notes,
    shown,
    shown_sections,
    summary,
    verify_note,
)
from .numbers import NumberFormat
from .problem import problem

if TYPE_CHECKING:
    from ..network.model_trace import ModelTrace, ModelTraining


def _header(spec: Any, fmt: NumberFormat, traced: Any) -> list[str]:
    """The title, the problem statement (an eval-mode pass's, or training's: `traced`), the
    layers."""
    parts = [f"# {escape.markdown(spec.name)}", ""]
    if spec.description:
        parts += [escape.markdown(spec.description.strip(), lines=True), ""]
    parts += [escape.markdown(line) + "  " for line in describe_line(spec).split("\n")]
    parts.append("")
    for note in notes(spec, traced):
        parts += [f"*{escape.markdown(note)}.*", ""]
    parts += [problem(tracing.model(spec).problem(spec, traced), fmt), ""]
    parts += layers_markdown(spec)
    drawn = tracing.model(spec).diagram(spec)
    return [*parts, "", flowchart(drawn, fmt, "The layers and the shapes they give"), ""]


def _steps(trace: ModelTrace, fmt: NumberFormat, level: str) -> list[str]:
    parts = []
    if trace.rounding:
        parts += [f"*Every carried value rounded to {describe(trace.rounding)}.*", ""]
    for step in trace.steps:
        parts += [f"{level} {step.heading}", ""]
        for section in shown_sections(step.sections, trace.full):
            parts.append(block_markdown(section, fmt))
    if trace.checks is not None:
        parts += [f"{level} Gradient check · central finite differences", ""]
        parts += [
            "| gradient | backprop | finite difference | relative difference | |",
            "| --- | ---: | ---: | ---: | --- |",
        ]
        for c in trace.checks:
            name = math_inline(latex_name(f"∂{word(trace.spec, 'E')}/∂{c.name}"))
            parts.append(
                f"| {name} | {fmt(c.backprop)} | {fmt(c.numeric)} | {c.difference:.1e} "
                f"| {'agrees' if c.agrees else 'DISAGREES'} |"
            )
        parts += ["", f"*{verify_note(trace.checks)}*", ""]
    return [*parts, escape.markdown(closing(trace, fmt)), ""]


def render(trace: ModelTrace, fmt: NumberFormat) -> str:
    parts = [*_header(trace.spec, fmt, trace), *_steps(trace, fmt, "##")]
    return "\n".join(parts).rstrip() + "\n"


def training(trace: ModelTraining, fmt: NumberFormat) -> str:
    parts = _header(trace.spec, fmt, trace)
    parts += ["## Epochs", "", "| epoch | loss | loss after |", "| ---: | ---: | ---: |"]
    parts += [f"| {r.epoch} | {fmt(r.loss)} | {fmt(r.loss_after)} |" for r in shown(trace)]
    parts += ["", escape.markdown(summary(trace, fmt)), ""]
    for traced in trace.traces:
        parts += [f"## Epoch {traced.epoch} in full", ""]
        parts += _steps(traced, fmt, "###")
    return "\n".join(parts).rstrip() + "\n"
