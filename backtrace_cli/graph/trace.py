"""A graph's passes, named as a worked solution writes them. Computes nothing.

Every number in a `Equation` is read from the engine's `Pass`; a row's `Formula` says which writer
of `operations` (or which of the few general ones: a product, a sum, an update) writes it, and
holds its operands — so renderers only format, in text or in LaTeX.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from ..definitions.operations import COPY_PATTERN, OPS
from ..definitions.optimizers import describe
from ..worked import Equation, Formula, Operand, Section
from . import config as graph
from .config import Const, GraphSpec, Node, Pass
from .formula import write


@dataclass(frozen=True, slots=True)
class NodeRecord:
    """The JSON contract's node: name, op, inputs (names or constants), value, grad."""

    name: str
    op: str
    inputs: tuple[str | float, ...]
    value: float
    grad: float
    named: bool


@dataclass(frozen=True, slots=True)
class Check:
    """--verify: ∂f/∂input beside its central finite difference."""

    name: str
    backprop: float
    numeric: float | None
    difference: float
    agrees: bool


@dataclass(frozen=True, slots=True)
class Update:
    """One parameter's gradient-descent step."""

    name: str
    before: float
    grad: float
    after: float


@dataclass(frozen=True, slots=True)
class GraphTrace:
    """Everything the renderers show of one pass (and update) of a graph."""

    FORM: ClassVar[str] = "graph step"  # what draws it (`render.DRAWN_BY`)

    spec: GraphSpec
    rounding: str | None
    blocks: tuple[Section, ...]
    nodes: tuple[NodeRecord, ...]  # forward order
    inputs: tuple[tuple[str, float], ...]  # the values this pass used
    gradients: tuple[tuple[str, float], ...]  # ∂f/∂input, every input
    value: float  # f
    checks: tuple[Check, ...] | None = None
    updates: tuple[Update, ...] = ()
    value_after: float | None = None  # f after the update
    inference: bool = False  # forward pass only
    epoch: int | None = None  # `step`: which epoch this is


def _slot(operand: Operand) -> str:
    """An operand in a row's template: its name as a {slot}, a constant as its number."""
    if operand.name is None:
        text = operand.text.replace("−", "-")
        return f"({text})" if text.startswith("-") else text
    return "{" + operand.name + "}"


def _row(
    symbol: str, formula: Formula, value: float, note: str = "", factor: bool = False
) -> Equation:
    """One traced equation: symbol = formula = numbers = value, the formula held as its
    structure and written as a template over its operands' names (as a network's rows are).
    `factor`: the chain rule's (∂f/∂f, a local gradient, one branch of a sum), not asked."""
    named = dict((o.name, o.value) for o in formula.operands if o.name is not None)
    template = write(formula, _slot, latex=False)
    return Equation(
        symbol, template, tuple(named.items()), value, note=note, structure=formula, factor=factor
    )


def grad_symbol(output: str, name: str) -> str:
    return f"∂{output}/∂{name}"


def _operands(node: Node, values: Mapping[str, float]) -> tuple[Operand, ...]:
    return tuple(
        Operand(None, a.value, a.text) if isinstance(a, Const) else Operand(a, values[a])
        for a in node.args
    )


def _ordinal(k: int) -> str:
    return ("1st", "2nd", "3rd")[k] if k < 3 else f"{k + 1}th"


def branch_symbol(spec: GraphSpec, done: Pass, name: str, use: tuple[str, int]) -> str:
    """∂f/∂x for a value's only use; "∂f/∂x via q" where it has several branches."""
    symbol = grad_symbol(spec.output, name)
    uses = done.users[name]
    if len(uses) == 1:
        return symbol
    node, k = use
    twice = sum(1 for n, _ in uses if n == node) > 1
    return f"{symbol} via {node}" + (f" ({_ordinal(k)})" if twice else "")


def local_symbol(node: Node, k: int, name: str) -> str:
    twice = sum(1 for a in node.args if a == name) > 1
    return f"∂{node.name}/∂{name}" + (f" ({_ordinal(k)})" if twice else "")


def _forward(spec: GraphSpec, done: Pass) -> Section:
    rows = []
    for node in spec.nodes:
        rows.append(
            _row(
                node.name,
                Formula(node.op, _operands(node, done.values)),
                done.values[node.name],
            )
        )
    inner = [n.name for n in spec.nodes if not n.named]
    rule = "each node's value from its inputs, in order"
    if inner:
        names = f"{', '.join(inner[:3])}{' …' if len(inner) > 3 else ''}"
        rule += f"; {names} {'is' if len(inner) == 1 else 'are'} named by the tool"
    return Section("forward", "Forward pass", rule, tuple(rows))


def _sum_row(spec: GraphSpec, done: Pass, name: str) -> Equation:
    uses = done.users[name]
    parts = tuple(Operand(branch_symbol(spec, done, name, use), done.branches[use]) for use in uses)
    note = COPY_PATTERN.format(name=name, count=len({n for n, _ in uses}))
    if len({n for n, _ in uses}) == 1:
        note = f"a copy sums: {name} is used twice by {uses[0][0]}, so its gradient is the sum"
    return _row(grad_symbol(spec.output, name), Formula("sum", parts), done.grads[name], note)


def _backward(spec: GraphSpec, done: Pass) -> list[Section]:
    blocks = []
    out = spec.output
    for node in reversed(spec.nodes):
        rows: list[Equation] = []
        upstream = grad_symbol(out, node.name)
        if node.name == out:
            rows.append(_row(upstream, Formula("seed", ()), done.grads[node.name], factor=True))
        elif len(done.users[node.name]) > 1:
            rows.append(_sum_row(spec, done, node.name))
        elif not done.users[node.name]:
            continue  # the output does not depend on it
        operands = _operands(node, done.values)
        result = Operand(node.name, done.values[node.name])
        for k, name in node.variables():
            local, whole = local_symbol(node, k, name), grad_symbol(out, name)
            shared = len(done.users[name]) > 1
            # f = q + x: the output's local ∂f/∂x = 1 is one branch of ∂f/∂x, named as one
            branch_only = node.name == out and shared and local == whole
            if branch_only:
                local = branch_symbol(spec, done, name, (node.name, k))
            rows.append(
                _row(
                    local,
                    Formula(node.op, (*operands, result), part=k),
                    done.locals[(node.name, k)],
                    factor=local != whole,  # at the output (upstream 1) it is ∂f/∂name
                )
            )
            if node.name == out and (not shared or branch_only):
                continue  # upstream is 1: the local gradient is ∂f/∂name, or that branch
            branch = branch_symbol(spec, done, name, (node.name, k))
            rows.append(
                _row(
                    branch,
                    Formula(
                        "product",
                        (
                            Operand(upstream, done.grads[node.name]),
                            Operand(local, done.locals[(node.name, k)]),
                        ),
                    ),
                    done.branches[(node.name, k)],
                    factor=branch != whole,  # one branch of the sum ∂f/∂name
                )
            )
        op = OPS[node.op]
        title = f"Backward · {node.name}"
        rule = f"upstream {upstream} times the local gradient of {op.name}"
        if node.name == out:
            rule = f"{upstream} = 1: the output's gradient with respect to itself"
        blocks.append(Section("backward", title, rule, tuple(rows), op.pattern))
    return blocks


def _gradients(spec: GraphSpec, done: Pass) -> Section:
    rows = []
    for name in spec.input_names:
        uses = done.users[name]
        if len(uses) > 1:
            rows.append(_sum_row(spec, done, name))
        elif uses:
            node, k = uses[0]
            rows.append(
                _row(
                    grad_symbol(spec.output, name),
                    Formula(
                        "product",
                        (
                            Operand(grad_symbol(spec.output, node), done.grads[node]),
                            Operand(local_symbol(_node(spec, node), k, name), done.locals[uses[0]]),
                        ),
                    ),
                    done.grads[name],
                )
            )
        else:
            rows.append(
                _row(
                    grad_symbol(spec.output, name),
                    Formula("seed", (), part=0),
                    done.grads[name],
                    f"{spec.output} does not use {name}",
                )
            )
    return Section(
        "gradients",
        f"Gradients · ∂{spec.output}/∂input",
        "the sum over every path from the input to the output",
        tuple(rows),
    )


def _node(spec: GraphSpec, name: str) -> Node:
    return next(n for n in spec.nodes if n.name == name)


def _records(spec: GraphSpec, done: Pass) -> tuple[NodeRecord, ...]:
    return tuple(
        NodeRecord(
            node.name,
            node.op,
            tuple(a.value if isinstance(a, Const) else a for a in node.args),
            done.values[node.name],
            done.grads[node.name],
            node.named,
        )
        for node in spec.nodes
    )


def _update(
    spec: GraphSpec, done: Pass, after: GraphSpec, moved: dict[str, dict[str, float]]
) -> tuple[Section, tuple[Update, ...]]:
    new = dict(after.inputs)
    eta = spec.learning_rate or 0.0
    rows: list[Equation] = []
    updates = []
    for name in spec.parameters:
        grad = done.grads[name]
        symbol = grad_symbol(spec.output, name)
        if spec.plain:
            rows.append(
                _row(
                    f"new {name}",
                    Formula(
                        "update",
                        (
                            Operand(name, done.values[name]),
                            Operand("η", eta),
                            Operand(symbol, grad),
                        ),
                    ),
                    new[name],
                )
            )
        else:
            rows += _optimizer_rows(spec, done, name, moved[name])
        updates.append(Update(name, done.values[name], grad, new[name]))
    w = spec.parameters[0] if len(spec.parameters) == 1 else "w"
    if spec.plain:
        rule = f"{w} ← {w} − η·∂{spec.output}/∂{w}, η = {eta:g}"
        title = "Update · gradient descent"
    else:
        rule = f"{spec.optimizer.optimizer.rule()}, η = {eta:g}"
        title = f"Update · {describe(spec.optimizer, spec.weight_decay)}"
    latex = "" if spec.plain else spec.optimizer.optimizer.rule_latex()
    return Section("update", title, rule, tuple(rows), rule_latex=latex), tuple(updates)


_SLOT = re.compile(r"\{([^{}]+)\}")


def _optimizer_rows(spec: GraphSpec, done: Pass, name: str, n: dict[str, float]) -> list[Equation]:
    """An optimizer's lines for one parameter, each with its numbers (torch.optim's order)."""
    settings = spec.optimizer
    opt = settings.optimizer
    hyper = settings.symbols()
    by_symbol = {line.symbol: line for line in opt.lines}
    grad = done.grads[name]
    g_symbol = f"g_{name}"

    def operand(slot: str, line_name: str) -> Operand:
        if slot in hyper:
            return Operand(slot, hyper[slot], slot=slot)
        if slot == "η":
            return Operand("η", spec.learning_rate or 0.0, slot=slot)
        if slot == "λ":
            return Operand("λ", hyper.get("λ", spec.weight_decay), slot=slot)
        if slot == "t":
            return Operand("t", n["t"], slot=slot)
        if slot == "w":
            return Operand(name, done.values[name], slot=slot)
        if slot == "g":
            return Operand(g_symbol, n["g"], slot=slot)
        line = by_symbol[slot]
        own = line.name == line_name and line.name in opt.state
        value = n[f"before {line.name}"] if own else n[line.name]
        return Operand(f"{slot}_{name}", value, slot=slot)

    def row(symbol: str, text: str, latex: str, line_name: str, value: float) -> Equation:
        slots = dict.fromkeys(_SLOT.findall(text))
        operands = tuple(operand(slot, line_name) for slot in slots)
        return _row(symbol, Formula("template", operands, template=(text, latex)), value)

    rows = []
    if not spec.weight_decay:
        rows.append(
            _row(
                g_symbol,
                Formula(
                    "template",
                    (Operand(grad_symbol(spec.output, name), grad, slot="∂"),),
                    template=("{∂}", "{∂}"),
                ),
                n["g"],
            )
        )
    else:
        rows.append(
            _row(
                g_symbol,
                Formula(
                    "template",
                    (
                        Operand(grad_symbol(spec.output, name), grad, slot="∂"),
                        Operand("λ", spec.weight_decay, slot="λ"),
                        Operand(name, done.values[name], slot="w"),
                    ),
                    template=("{∂} + {λ}·{w}", "{∂} + {λ} \\cdot {w}"),
                ),
                n["g"],
            )
        )
    for line in opt.lines[:-1]:
        rows.append(row(f"{line.symbol}_{name}", line.text, line.latex, line.name, n[line.name]))
    step = opt.lines[-1]
    rows.append(row(f"Δ_{name}", opt.step_text(), opt.step_latex(), step.name, n["step"]))
    rows.append(
        _row(
            f"new {name}",
            Formula(
                "template",
                (
                    Operand(name, done.values[name], slot="w"),
                    Operand(f"Δ_{name}", n["step"], slot="Δ"),
                ),
                template=("{w} + {Δ}", "{w} + {Δ}"),
            ),
            n["new"],
        )
    )
    return rows


def build(
    spec: GraphSpec,
    done: Pass,
    *,
    rounding: str | None = None,
    checks: list[graph.GradientCheck] | None = None,
    after: GraphSpec | None = None,
    moved: dict[str, dict[str, float]] | None = None,
    value_after: float | None = None,
    inference: bool = False,
    epoch: int | None = None,
) -> GraphTrace:
    """Name one pass's numbers: forward, backward node by node, ∂f/∂input, update."""
    blocks = [_forward(spec, done)]
    if not inference:
        blocks += _backward(spec, done)
        blocks.append(_gradients(spec, done))
    updates: tuple[Update, ...] = ()
    if after is not None and spec.parameters and not inference:
        block, updates = _update(spec, done, after, moved or {})
        blocks.append(block)
    records = _records(spec, done)
    checked = None
    if checks is not None:
        checked = tuple(
            Check(c.name, c.backprop, c.numeric, c.difference, c.agrees) for c in checks
        )
    return GraphTrace(
        spec=spec,
        rounding=rounding,
        blocks=tuple(blocks),
        nodes=records,
        inputs=tuple((name, done.values[name]) for name in spec.input_names),
        gradients=tuple((name, done.grads[name]) for name in spec.input_names),
        value=done.values[spec.output],
        checks=checked,
        updates=updates,
        value_after=value_after,
        inference=inference,
        epoch=epoch,
    )


@dataclass(frozen=True, slots=True)
class GraphTraining:
    """`step` on a graph: the epochs' rows, f after each epoch, the traced epochs in full."""

    FORM: ClassVar[str] = "graph training"  # what draws it (`render.DRAWN_BY`)

    spec: GraphSpec  # before training
    final: GraphSpec
    rounding: str | None
    epochs_asked: int
    rows: tuple[graph.Epoch, ...]
    values_after: tuple[float, ...]
    traces: tuple[GraphTrace, ...]
    first: GraphTrace  # epoch 1's pass, for the JSON's nodes and gradients
    start: tuple[tuple[str, float], ...]  # the parameters before training
    shown: frozenset[int]
    rows_note: str
    stop_reason: str = ""


def build_training(
    done: graph.Training,
    *,
    rounding: str | None,
    epochs_asked: int,
    shown: set[int],
    rows_note: str,
    first: GraphTrace,
) -> GraphTraining:
    spec = done.start
    traces = tuple(
        build(
            before,
            passed,
            rounding=rounding,
            after=after,
            value_after=value,
            epoch=epoch,
            moved=moved,
        )
        for epoch, before, passed, after, value, moved in done.traced
    )
    return GraphTraining(
        spec=spec,
        final=done.final,
        rounding=rounding,
        epochs_asked=epochs_asked,
        rows=done.epochs,
        values_after=done.values_after,
        traces=traces,
        first=first,
        start=tuple((n, v) for n, v in spec.inputs if n in spec.parameters),
        shown=frozenset(shown) | {done.epochs[-1].epoch},
        rows_note=rows_note,
        stop_reason=done.stop_reason,
    )
