"""Mermaid diagrams: a model's diagram (a network's layers, a graph's circuit), and the loss
over the epochs."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from ..statement import Box, Diagram, Label
from ..worked import Formula
from .graph_formula import text_formula
from .numbers import NumberFormat

if TYPE_CHECKING:
    from ..network.history import TrainingTrace


# ---------------------------------------------------------------- a model's diagram

# Mermaid's brackets for each shape: a graph's output is a rounded box (a circle's text spills
# out of it, and the arrowheads land on the text), drawn with a heavy border (OUTPUT_STYLE)
SHAPES = {
    "stadium": ('(["', '"])'),
    "circle": ('(("', '"))'),
    "box": ('["', '"]'),
    "output": ('("', '")'),
}
OUTPUT_STYLE = "stroke-width:3px"


def quoted(text: str) -> str:
    """Text inside a quoted Mermaid label."""
    return text.replace('"', "#quot;")


# a diagram drawn down the page: the rows of boxes twice Mermaid's default 50 px apart, so an
# edge reaches its box from above, on its long side, not across the box beside it
DOWN_SPACING = 100


def flowchart(diagram: Diagram, fmt: NumberFormat, title: str) -> str:
    """A model's diagram (`statement.Diagram`) as a Mermaid flowchart, left to right or (a
    circuit) top to bottom: its groups as subgraphs, top to bottom; its faded boxes grey and
    dashed; a graph's output with a heavy border."""
    lines = ["```mermaid", "---", f'title: "{quoted(title)}"']
    if diagram.flow == "down":
        lines += ["config:", "  flowchart:", f"    rankSpacing: {DOWN_SPACING}"]
    lines += ["---", "flowchart " + ("TB" if diagram.flow == "down" else "LR")]
    for group in diagram.groups:
        lines.append(f'  subgraph {group.ident}["{quoted(group.title)}"]')
        lines.append("    direction TB")
        lines += [_box(box, fmt, "    ") for box in group.boxes]
        lines.append("  end")
    lines += [_box(box, fmt, "  ") for box in diagram.boxes]
    for edge in diagram.edges:
        if edge.label:
            label = quoted(label_text(edge.label, fmt))
            lines.append(f'  {edge.source} -->|"{label}"| {edge.target}')
        else:
            lines.append(f"  {edge.source} --> {edge.target}")
    outputs = [box.ident for box in diagram.all_boxes if box.shape == "output"]
    if outputs:
        lines.append(f"  classDef output {OUTPUT_STYLE}")
        lines.append(f"  class {','.join(outputs)} output")
    faded = [box.ident for box in diagram.all_boxes if box.faded]
    if faded:
        lines.append("  classDef dropped fill:#eeeeee,stroke:#999999,stroke-dasharray:4 3")
        lines.append(f"  class {','.join(faded)} dropped")
    lines.append("```")
    return "\n".join(lines)


def _box(box: Box, fmt: NumberFormat, indent: str) -> str:
    left, right = SHAPES[box.shape]
    label = "<br/>".join(label_text(line, fmt) for line in box.lines)
    return f"{indent}{box.ident}{left}{quoted(label)}{right}"


def label_text(line: Label, fmt: NumberFormat) -> str:
    """Words as they are, a number formatted, a formula written as text."""
    return "".join(
        p if isinstance(p, str) else text_formula(p) if isinstance(p, Formula) else fmt(p)
        for p in line
    )


# ---------------------------------------------------------------- the loss over the epochs


CHART_POINTS = 40


def loss_chart(trace: TrainingTrace, fmt: NumberFormat) -> str:
    """The loss after each epoch as a Mermaid xychart-beta line (thinned to about 40 points,
    from epoch 1 to the last)."""

    run = len(trace.losses_after)
    step = max(1, math.ceil(run / CHART_POINTS))
    # epoch 1 always: the steep first drop is what a student should see
    picked = sorted({0, *range(step - 1, run, step), run - 1})
    values = [float(trace.losses_after[i]) for i in picked]
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return "*No finite loss to draw.*"
    numbers = ", ".join(plain(v) if math.isfinite(v) else "0" for v in values)
    top = max(finite)
    return "\n".join(
        [
            "```mermaid",
            "xychart-beta",
            '  title "Loss after each epoch"',
            "  x-axis [" + ", ".join(str(i + 1) for i in picked) + "]",
            f'  y-axis "loss" 0 --> {plain(top * 1.05 if top > 0 else 1)}',
            f"  line [{numbers}]",
            "```",
        ]
    )


def plain(value: float) -> str:
    """A chart value: positional digits only, as Mermaid's grammar reads them (no 1e-07)."""
    text = f"{value:.10f}".rstrip("0").rstrip(".")
    return text if text not in ("", "-0") else "0"
