"""A computational graph's homework question as structure (`statement`): its problem statement —
the expression or its nodes, the inputs' values, what to find, the update — and its circuit,
inputs on the left, each node with its formula, value and gradient. Renderers write them."""

from __future__ import annotations

from typing import Any

from ..definitions.optimizers import describe
from ..statement import (
    Box,
    Diagram,
    Edge,
    Expression,
    Given,
    Label,
    Node,
    Sentence,
    Statement,
    Symbol,
)
from .trace import GraphTrace, NodeRecord


def _joined(parts: Any) -> list[Any]:
    """Parts separated by ", "."""
    out: list[Any] = []
    for part in parts:
        out += [", " if out else "", part]
    return out


def problem(trace: GraphTrace, epochs: int | None = None) -> Statement:
    """What the homework question says, from the traced pass (its inputs' values, carried as
    the pass carries them): evaluate, then the backward pass, then the update (`epochs` of it)."""
    spec = trace.spec
    named = {n.name: n.named for n in trace.nodes}
    nodes = tuple(
        Node(row.symbol, row.structure, named[row.symbol]) for row in trace.blocks[0].rows
    )
    if spec.form == "expression":
        written = spec.written[0][1] if spec.written else ""
        what: list[Any] = ["the expression ", Expression(spec.output, nodes, written)]
    else:
        what = ["the graph of nodes ", *_joined(n for n in nodes if n.named)]
    given = _joined(Given(n, v) for n, v in trace.inputs)
    sentences: list[Sentence] = [("Evaluate ", *what, *((" at ", *given) if given else ()), ".")]
    if trace.inference:
        return Statement("graph", (*sentences, ("Do the forward pass, node by node.",)))
    out = spec.output
    sentences.append(
        (
            "Do the forward pass node by node, then the backward pass in reverse order — for each "
            "node the upstream gradient times the local gradient — and give ",
            *_joined(Symbol(f"∂{out}/∂{n}") for n, _ in trace.inputs),
            ".",
        )
    )
    if spec.parameters:
        how = "gradient descent"
        if not spec.plain:  # Adam, momentum, weight decay: named, with their settings
            how = describe(spec.optimizer, spec.weight_decay)
        sentences.append(
            (
                "Then update ",
                *_joined(Symbol(p) for p in spec.parameters),
                f" by {how} with ",
                Given("η", spec.learning_rate or 0.0),
                f" for {epochs} epochs." if epochs else ".",
            )
        )
    return Statement("graph", tuple(sentences))


def diagram(trace: GraphTrace, solved: bool = True) -> Diagram:
    """The circuit as lecture slides annotate it: the inputs first, each node with its
    formula, its value and (after the backward pass) its gradient — or, not `solved` (a
    question sheet), the formulas alone. Drawn top to bottom, stage by stage; each input is
    declared just before the first node that reads it, so the layout starts with every input
    beside its reader (fewer edges cut across the stage between)."""
    out = trace.spec.output
    ident = {name: f"v{k}" for k, (name, _) in enumerate(trace.inputs)}
    for k, node in enumerate(trace.nodes):
        ident[node.name] = f"node{k}"
    grads = dict(trace.gradients)
    gradients = solved and not trace.inference
    drawn: dict[str, Box] = {}
    for name, value in trace.inputs:
        lines: list[Label] = [(f"{name} = ", value)]
        if gradients:
            lines.append((f"∂{out}/∂{name} = ", grads[name]))
        drawn[name] = Box(ident[name], tuple(lines), "stadium")
    rows = {row.symbol: row for row in trace.blocks[0].rows}
    boxes: list[Box] = []
    for node in trace.nodes:
        lines = [(f"{node.name} = ", rows[node.name].structure)]
        if solved:
            lines.append(("= ", node.value))
        if gradients:
            lines.append((f"∂{out}/∂{node.name} = ", node.grad))
        boxes += [drawn.pop(a) for a in _read(node) if a in drawn]  # its inputs, first read
        boxes.append(Box(ident[node.name], tuple(lines), "output" if node.name == out else "box"))
    boxes += drawn.values()  # inputs no node reads
    edges = [Edge(ident[arg], ident[node.name]) for node in trace.nodes for arg in _read(node)]
    return Diagram((), tuple(boxes), tuple(edges), flow="down")


def _read(node: NodeRecord) -> list[str]:
    """The names a node reads, each once, in order."""
    return list(dict.fromkeys(a for a in node.inputs if isinstance(a, str)))
