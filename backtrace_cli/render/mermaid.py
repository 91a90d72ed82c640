"""Mermaid diagrams: a network's flowchart, a graph's circuit, and the loss over the epochs."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from ..definitions import notation
from ..graph.trace import GraphTrace
from ..network.config import Spec
from ..network.records import Step, shown_units, translation
from .graph_formula import text_formula
from .numbers import NumberFormat

if TYPE_CHECKING:
    from ..network.history import TrainingTrace


# ---------------------------------------------------------------- a network


LABELLED_EDGES = 16  # networks with at most this many weights get them written on the edges


def _shown_units(width: int) -> list[int | None]:
    """Indices drawn for a layer, the units the equations write out; None stands for the
    collapsed middle."""
    shown = shown_units(width)
    if len(shown) == width:
        return list(shown)
    return [*shown[:-1], None, shown[-1]]


def diagram(
    spec: Spec,
    fmt: NumberFormat,
    title: str,
    inputs: list[float] | None = None,
    dropped: set[int] | None = None,
) -> str:
    """The network as a Mermaid flowchart: layers left to right, weights on the edges."""

    numbering = spec.numbering
    named = translation(spec).symbol
    labelled = sum(w.size for w in spec.weights) <= LABELLED_EDGES
    lines = ["```mermaid", "---", f'title: "{title}"', "---", "flowchart LR"]
    node: dict[tuple[int, int | None], str] = {}
    last = len(spec.layers) - 1
    for k, width in enumerate(spec.layers):
        name = (
            "inputs"
            if k == 0
            else f"output layer ({spec.activations[k - 1]})"
            if k == last
            else f"hidden layer {k} ({spec.activations[k - 1]})"
        )
        lines.append(f'  subgraph L{k}["{name}"]')
        lines.append("    direction TB")
        for i in _shown_units(width):
            if i is None:
                ident = f"more{k}"
                shown = shown_units(width)
                first, last = numbering.unit(k, shown[-2] + 1), numbering.unit(k, width - 2)
                what = f"units {first}–{last}" if k else f"x{first}–x{last}"
                lines.append(f'    {ident}["… {width - len(shown)} more: {what}"]')
            else:
                u = numbering.unit(k, i)
                ident = f"u{u}"
                label = named(f"x{u}") if k == 0 else f"unit {u}"
                if k and spec.notation != "lecture":
                    label = named(f"o{u}")  # the book's name of the unit's output: a^2_1, out_h1
                if k == 0 and inputs is not None:
                    label += f" = {fmt(inputs[i])}"
                if k > 0 and spec.biases is not None and spec.biases[k - 1] is not None:
                    label += f"<br/>{named(f'b{u}')} = {fmt(float(spec.biases[k - 1][i]))}"
                shape = ('(["', '"])') if k == 0 else ('(("', '"))')
                lines.append(f"    {ident}{shape[0]}{label}{shape[1]}")
            node[(k, i)] = ident
        lines.append("  end")
    for k, w in enumerate(spec.weights, start=1):
        for j in _shown_units(spec.layers[k]):
            for i in _shown_units(spec.layers[k - 1]):
                a, b = node[(k - 1, i)], node[(k, j)]
                if labelled and i is not None and j is not None:
                    weight = notation.weight_name(numbering.unit(k - 1, i), numbering.unit(k, j))
                    lines.append(f'  {a} -->|"{named(weight)} = {fmt(float(w[j, i]))}"| {b}')
                else:
                    lines.append(f"  {a} --> {b}")
    if dropped:
        shown = [node[key] for key in node if key[1] is not None]
        faded = [n for n in shown if int(n[1:]) in dropped] if shown else []
        if faded:
            lines.append("  classDef dropped fill:#eeeeee,stroke:#999999,stroke-dasharray:4 3")
            lines.append(f"  class {','.join(faded)} dropped")
    lines.append("```")
    return "\n".join(lines)


def dropped_units(step: Step, spec: Spec) -> set[int]:
    numbering = spec.numbering
    out = set()
    masks = [(0, step.input_mask)] + [(k + 1, layer.mask) for k, layer in enumerate(step.layers)]
    for k, mask in masks:
        if mask is not None:
            out |= {numbering.unit(k, i) for i, m in enumerate(mask) if m == 0}
    return out


# ---------------------------------------------------------------- a graph


def quoted(text: str) -> str:
    """Text inside a quoted Mermaid label."""
    return text.replace('"', "#quot;")


def graph_diagram(trace: GraphTrace, fmt: NumberFormat, title: str, blank: bool = False) -> str:
    """The circuit as a Mermaid flowchart, inputs on the left, each node with its formula,
    its value and (after the backward pass) its gradient, as lecture slides annotate them."""
    spec = trace.spec
    out = spec.output
    ident = {name: f"v{k}" for k, (name, _) in enumerate(trace.inputs)}
    for k, node in enumerate(trace.nodes):
        ident[node.name] = f"node{k}"
    grads = dict(trace.gradients)
    lines = ["```mermaid", "---", f'title: "{quoted(title)}"', "---", "flowchart LR"]
    for name, value in trace.inputs:
        label = f"{name} = {fmt(value)}"
        if not trace.inference and not blank:
            label += f"<br/>∂{out}/∂{name} = {fmt(grads[name])}"
        lines.append(f'  {ident[name]}(["{quoted(label)}"])')
    rows = {row.symbol: row for row in trace.blocks[0].rows}
    for node in trace.nodes:
        formula = text_formula(rows[node.name].structure)
        label = f"{node.name} = {formula}" + ("" if blank else f"<br/>= {fmt(node.value)}")
        if not trace.inference and not blank:
            label += f"<br/>∂{out}/∂{node.name} = {fmt(node.grad)}"
        shape = ('(("', '"))') if node.name == out else ('["', '"]')
        lines.append(f"  {ident[node.name]}{shape[0]}{quoted(label)}{shape[1]}")
    for node in trace.nodes:
        for arg in dict.fromkeys(a for a in node.inputs if isinstance(a, str)):
            lines.append(f"  {ident[arg]} --> {ident[node.name]}")
    lines.append("```")
    return "\n".join(lines)


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
