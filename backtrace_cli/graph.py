"""A scalar computational graph: the config (`expression:` or `nodes:`) → a validated
`GraphSpec`, and its engine — the forward pass node by node, the backward pass in reverse.

The second model beside the layered network. Each node is one operation of `operations`
applied to inputs, other nodes or constants; expressions are parsed by `expression` into the
tool's own node types and never evaluated as Python. Every carried number passes through
`carry` — the identity, or `--round`'s rounding — so hand mode is the same path. Pure Python
floats (float64).
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from . import expression as ex
from . import optimizer_config, optimizers
from .errors import ConfigError
from .operations import OPS, Op
from .validate import Checker, closest, show
from .yamlsource import Document

KEYS = (
    "name",
    "description",
    "expression",
    "nodes",
    "output",
    "inputs",
    "parameters",
    "learning_rate",
    "optimizer",
    "weight_decay",
)
MAX_NODES = 500  # operations in the whole graph
NAME_HINT = "a name starts with a letter and has letters, digits and _ (x, w0, y_hat, theta)"

Carry = Callable[[float], float]


def exact(value: float) -> float:
    return value


@dataclass(frozen=True, slots=True)
class Const:
    """A constant operand, written as in the expression."""

    value: float
    text: str


Arg = str | Const  # an input's or node's name, or a constant


@dataclass(frozen=True, slots=True)
class Node:
    """One operation: `op` applied to `args`; `line`/`column` locate it in the config."""

    name: str
    op: str  # key of operations.OPS
    args: tuple[Arg, ...]
    line: int | None
    column: int | None
    field: str  # "nodes.f" or "expression"
    named: bool  # named by the user (a `nodes:` key or the output), not by the tool

    @property
    def operation(self) -> Op:
        return OPS[self.op]

    def variables(self) -> list[tuple[int, str]]:
        """(argument index, name) of the arguments that are not constants."""
        return [(k, a) for k, a in enumerate(self.args) if isinstance(a, str)]


@dataclass(frozen=True, slots=True)
class GraphSpec:
    """A validated graph: inputs with their values, nodes in forward order, the output."""

    name: str
    source: str
    inputs: tuple[tuple[str, float], ...]
    nodes: tuple[Node, ...]
    output: str
    parameters: tuple[str, ...] = ()
    learning_rate: float | None = None
    description: str = ""
    written: tuple[tuple[str, str], ...] = ()  # (node or "expression", text) as written
    form: str = "nodes"  # "nodes" or "expression"
    optimizer: optimizers.Settings = field(default_factory=optimizers.Settings)  # plain GD
    weight_decay: float = 0.0  # L2 on every parameter: g ← ∂f/∂w + λ·w

    @property
    def plain(self) -> bool:
        """Plain gradient descent, w ← w − η·∂f/∂w, written as one line."""
        return self.optimizer.name == "sgd" and not self.weight_decay

    @property
    def input_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.inputs)

    def with_inputs(self, values: Mapping[str, float]) -> GraphSpec:
        return replace(self, inputs=tuple((n, float(values.get(n, v))) for n, v in self.inputs))


# ---------------------------------------------------------------- loading


def is_graph(data: Any) -> bool:
    """A config is a graph when it has `expression:` or `nodes:` at the top."""
    return isinstance(data, dict) and ("expression" in data or "nodes" in data)


def _name_ok(name: Any) -> bool:
    return isinstance(name, str) and name.isidentifier() and not name.startswith("__")


class _Builder:
    """Lowers parsed expressions into nodes, naming inner ones n1, n2, … in forward order."""

    def __init__(self, doc: Document, taken: set[str]) -> None:
        self.doc = doc
        self.taken = set(taken)
        self.nodes: list[Node] = []
        self.counter = 0

    def fresh(self) -> str:
        while True:
            self.counter += 1
            name = f"n{self.counter}"
            if name not in self.taken:
                self.taken.add(name)
                return name

    def lower(self, tree: ex.Expr, path: tuple, text: str, name: str | None) -> Arg:
        """The expression's operations as nodes, in forward order (left to right, inner
        first); `name` names its root. Iterative: a long sum is a deep tree."""
        done: dict[int, Arg] = {}
        stack: list[tuple[ex.Expr, bool]] = [(tree, False)]
        while stack:
            item, ready = stack.pop()
            if isinstance(item, ex.Num):
                done[id(item)] = Const(item.value, _constant_text(item.value))
            elif isinstance(item, ex.Var):
                done[id(item)] = item.name
            elif not ready:
                stack.append((item, True))
                stack.extend((a, False) for a in reversed(item.args))
            else:
                args = tuple(done[id(a)] for a in item.args)
                done[id(item)] = self.node(item, args, path, text, name if item is tree else None)
        return done[id(tree)]

    def node(
        self, tree: ex.Apply, args: tuple[Arg, ...], path: tuple, text: str, name: str | None
    ) -> Arg:
        op = OPS[tree.op]
        if all(isinstance(a, Const) for a in args):  # 1/2 is the constant 0.5
            values = [a.value for a in args if isinstance(a, Const)]
            value = _apply(op, values, lambda p: _located(self.doc, path, text, tree.at, p))
            return Const(value, _constant_text(value))
        line, column = position(self.doc, path, text, tree.at)
        node = Node(
            name or self.fresh(), tree.op, args, line, column, _field(path), name is not None
        )
        self.nodes.append(node)
        if len(self.nodes) > MAX_NODES:
            raise _located(
                self.doc, path, text, tree.at, f"more than {MAX_NODES:,} operations in the graph"
            )
        return node.name


def _constant_text(value: float) -> str:
    text = f"{value:.12g}"
    return text.replace("-", "−")


def _field(path: tuple) -> str:
    return ".".join(str(p) for p in path)


def position(doc: Document, path: tuple, text: str, offset: int) -> tuple[int | None, int | None]:
    """Line and column in the file of character `offset` of the expression at `path`."""
    found = doc.scalars.get(tuple(path))
    if found is None:
        return doc.line(path), None
    line, column, style = found
    if style in ("", "'", '"'):
        return line, column + offset + (1 if style else 0)
    if style == "|":  # a literal block: its lines are the expression's lines
        before = text[:offset]
        return line + 1 + before.count("\n"), None
    return line, None


def _located(doc: Document, path: tuple, text: str, offset: int, problem: str) -> ConfigError:
    line, column = position(doc, path, text, offset)
    piece = text[max(0, offset - 20) : offset + 20].replace("\n", " ")
    if column is None:
        problem += f" (at character {offset + 1} of the expression: {piece!r})"
    return ConfigError(doc.file, line, _field(path), problem, column)


def _number(doc: Document, path: tuple, value: Any, what: str) -> float:
    if isinstance(value, str):  # the tool's own minus sign, as printed
        with contextlib.suppress(ValueError):
            value = float(value.strip().replace("−", "-"))
    return Checker(doc).number(path, value, what)


def _expression_text(doc: Document, path: tuple, value: Any) -> str:
    if isinstance(value, bool) or value is None or isinstance(value, (list, dict)):
        raise doc.error(path, f"{show(value)} is not an expression; write one such as (x + y) * z")
    if isinstance(value, (int, float)):
        return doc.texts.get(tuple(path), repr(value))
    return value


def from_document(doc: Document) -> GraphSpec:
    """Validate a graph config into a GraphSpec, or raise a located ConfigError."""
    data = doc.value
    for key in data:
        if key not in KEYS:
            close = closest(str(key), KEYS)
            hint = f"did you mean {close!r}? " if close else ""
            network = (
                " (a graph config has no layers or weights: those belong to a network config)"
                if key in ("layers", "weights", "activation", "activations", "biases", "loss")
                else ""
            )
            raise doc.error((key,), f"unknown key{network}; {hint}valid keys: {', '.join(KEYS)}")
    if "expression" in data and "nodes" in data:
        raise doc.error(
            ("nodes",), "give either `expression` (one line) or `nodes` (named steps), not both"
        )
    for key in ("name", "description"):
        if key in data and not isinstance(data[key], str):
            raise doc.error((key,), f"{show(data[key])} is not text")
    inputs = _inputs(doc, data)
    form = "expression" if "expression" in data else "nodes"
    output = data.get("output")
    if output is not None and not _name_ok(output):
        raise doc.error(("output",), f"{show(output)} is not a node's name; {NAME_HINT}")
    if form == "expression":
        nodes, written, output = _one_line(doc, data, inputs, output)
    else:
        nodes, written, output = _named(doc, data, inputs, output)
    parameters = _parameters(doc, data, inputs)
    learning_rate = None
    if "learning_rate" in data:
        learning_rate = _number(doc, ("learning_rate",), data["learning_rate"], "η > 0")
        if learning_rate <= 0:
            raise doc.error(("learning_rate",), f"{data['learning_rate']} is not > 0; η must be")
    elif parameters:
        raise doc.missing(
            "learning_rate",
            "missing; `parameters` are updated by gradient descent and need "
            "`learning_rate: 0.1` (say)",
        )
    for key in ("optimizer", "weight_decay", "learning_rate"):
        if key in data and not parameters:
            raise doc.error(
                (key,), "has nothing to update: list the inputs to train in `parameters: [w, b]`"
            )
    settings, weight_decay = optimizer_config.read(Checker(doc), data)
    return GraphSpec(
        name=data.get("name") or os.path.splitext(os.path.basename(doc.file))[0],
        source=doc.file,
        inputs=tuple(inputs.items()),
        nodes=tuple(nodes),
        output=output,
        parameters=parameters,
        learning_rate=learning_rate,
        description=data.get("description", "") or "",
        written=tuple(written),
        form=form,
        optimizer=settings,
        weight_decay=weight_decay,
    )


def _inputs(doc: Document, data: dict[str, Any]) -> dict[str, float]:
    raw = data.get("inputs", {})
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise doc.error(
            ("inputs",),
            f"expected a mapping of names to numbers ({{x: -2, y: 5}}), found {show(raw)}",
        )
    out = {}
    for name, value in raw.items():
        if not _name_ok(name) or name in OPS:
            why = "is a function's name" if name in OPS else NAME_HINT
            raise doc.error(("inputs", name), f"{show(name)} cannot be an input's name: {why}")
        out[name] = _number(doc, ("inputs", name), value, f"the value of input {name}")
    return out


def _unknown(doc: Document, path: tuple, text: str, var: ex.Var, known: Sequence[str]) -> None:
    close = closest(var.name, known)
    hint = f"did you mean {close!r}? " if close else ""
    listing = ", ".join(known) if known else "none"
    raise _located(
        doc,
        path,
        text,
        var.at,
        f"unknown name {var.name!r}: not an input or a node; {hint}known: {listing}",
    )


def _parse(doc: Document, path: tuple, text: str) -> ex.Expr:
    try:
        return ex.parse(text)
    except ex.ExpressionError as err:
        raise _located(doc, path, text, err.offset, err.problem) from None


def _one_line(
    doc: Document, data: dict[str, Any], inputs: dict[str, float], output: str | None
) -> tuple[list[Node], list[tuple[str, str]], str]:
    path = ("expression",)
    text = _expression_text(doc, path, data["expression"])
    tree = _parse(doc, path, text)
    output = output or "f"
    if output in inputs:
        raise doc.error(
            ("output",) if "output" in data else ("inputs", output),
            f"{output!r} is an input; name the expression's value another way with `output:`",
        )
    for var in ex.names(tree):
        if var.name not in inputs:
            _unknown(doc, path, text, var, list(inputs))
    builder = _Builder(doc, {*inputs, output})
    root = builder.lower(tree, path, text, output)
    _root_node(builder, root, output, doc, path, text)
    return builder.nodes, [("expression", text)], output


def _root_node(
    builder: _Builder, root: Arg, name: str, doc: Document, path: tuple, text: str
) -> None:
    """A node that is just a name or a constant (`y: q`, `c: 3`) is the identity on it."""
    if isinstance(root, str) and builder.nodes and builder.nodes[-1].name == name:
        return
    line, column = position(doc, path, text, 0)
    builder.nodes.append(Node(name, "id", (root,), line, column, _field(path), True))


def _named(
    doc: Document, data: dict[str, Any], inputs: dict[str, float], output: str | None
) -> tuple[list[Node], list[tuple[str, str]], str]:
    raw = data["nodes"]
    if not isinstance(raw, dict) or not raw:
        raise doc.error(
            ("nodes",),
            "expected a mapping of node names to expressions, in order, e.g. {q: x + y, f: q * z}",
        )
    trees: dict[str, tuple[ex.Expr, str]] = {}
    for name, value in raw.items():
        path = ("nodes", name)
        if not _name_ok(name) or name in OPS:
            why = "is a function's name" if name in OPS else NAME_HINT
            raise doc.error(path, f"{show(name)} cannot be a node's name: {why}")
        if name in inputs:
            raise doc.error(path, f"{name!r} is an input already; give the node another name")
        text = _expression_text(doc, path, value)
        trees[name] = (_parse(doc, path, text), text)
    known = [*inputs, *trees]
    for name, (tree, text) in trees.items():
        for var in ex.names(tree):
            if var.name not in inputs and var.name not in trees:
                _unknown(doc, ("nodes", name), text, var, known)
    order = _order(doc, trees)
    if output is None:
        output = list(trees)[-1]
    elif output not in trees:
        close = closest(output, list(trees))
        hint = f"did you mean {close!r}? " if close else ""
        raise doc.error(("output",), f"{output!r} is not a node; {hint}nodes: {', '.join(trees)}")
    builder = _Builder(doc, {*inputs, *trees})
    for name in order:
        tree, text = trees[name]
        root = builder.lower(tree, ("nodes", name), text, name)
        _root_node(builder, root, name, doc, ("nodes", name), text)
    return builder.nodes, [(name, trees[name][1]) for name in trees], output


def _order(doc: Document, trees: dict[str, tuple[ex.Expr, str]]) -> list[str]:
    """The nodes in an order where each comes after the nodes it uses (as written, where
    that already holds); a cycle is refused, named by its nodes."""
    order: list[str] = []
    state: dict[str, int] = {}  # 1: being visited, 2: done

    def visit(name: str, trail: list[str]) -> None:
        state[name] = 1
        tree, text = trees[name]
        for var in ex.names(tree):
            if var.name not in trees:
                continue
            if state.get(var.name) == 1:
                cycle = [*trail[trail.index(var.name) :], var.name] if var.name in trail else []
                loop = " → ".join(cycle or [name, var.name])
                raise _located(
                    doc,
                    ("nodes", name),
                    text,
                    var.at,
                    f"a cycle: {loop}; a node may use inputs and earlier nodes, never itself "
                    "through others",
                )
            if var.name not in state:
                visit(var.name, [*trail, var.name])
        state[name] = 2
        order.append(name)

    for name in trees:
        if name not in state:
            visit(name, [name])
    return order


def _parameters(doc: Document, data: dict[str, Any], inputs: dict[str, float]) -> tuple[str, ...]:
    raw = data.get("parameters")
    if raw is None:
        return ()
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list) or not raw:
        raise doc.error(("parameters",), "expected a list of input names to train, e.g. [w, b]")
    out = []
    for k, name in enumerate(raw):
        if not isinstance(name, str) or name not in inputs:
            close = closest(str(name), list(inputs))
            hint = f"did you mean {close!r}? " if close else ""
            raise doc.error(
                ("parameters", k),
                f"{show(name)} is not an input; {hint}parameters are inputs: "
                f"{', '.join(inputs) or 'none'}",
            )
        if name in out:
            raise doc.error(("parameters", k), f"{name!r} is listed twice")
        out.append(name)
    return tuple(out)


def from_dict(data: dict[str, Any], file: str = "<dict>") -> GraphSpec:
    return from_document(Document(file, data))


# ---------------------------------------------------------------- the engine


class GraphError(Exception):
    """A number that cannot be computed: out of a function's domain, or overflow."""

    def __init__(self, node: Node, problem: str) -> None:
        self.node = node
        self.problem = problem
        super().__init__(problem)

    def config_error(self, spec: GraphSpec, when: str = "") -> ConfigError:
        node = self.node
        place = f"node {node.name}" if node.named else f"inner node {node.name}"
        return ConfigError(
            spec.source, node.line, node.field, f"{when}{place}: {self.problem}", node.column
        )


def _apply(op: Op, values: Sequence[float], fail: Callable[[str], Exception]) -> float:
    problem = op.domain(*values)
    if problem:
        raise fail(problem)
    try:
        value = op.forward(*values)
    except OverflowError:
        value = math.inf
    except (ValueError, ZeroDivisionError):
        raise fail(f"{op.name} is not defined at {', '.join(map(_plain, values))}") from None
    if not math.isfinite(value):
        raise fail(
            f"overflow: {op.name} of {', '.join(map(_plain, values))} is beyond what float64 "
            "holds (about 1.8e308)"
        )
    return float(value)


def _plain(value: float) -> str:
    return f"{value:.6g}".replace("-", "−")


@dataclass(frozen=True, slots=True)
class Pass:
    """One forward and backward pass: every value, local gradient, branch and gradient."""

    values: Mapping[str, float]  # inputs and nodes
    locals: Mapping[tuple[str, int], float]  # (node, argument) → ∂node/∂argument
    branches: Mapping[tuple[str, int], float]  # (node, argument) → ∂f/∂node · ∂node/∂arg
    grads: Mapping[str, float]  # ∂f/∂v for the output, every node and every input
    users: Mapping[str, tuple[tuple[str, int], ...]]  # v → the (node, argument) that use it


def arg_value(values: Mapping[str, float], arg: Arg) -> float:
    return arg.value if isinstance(arg, Const) else values[arg]


def forward(spec: GraphSpec, carry: Carry = exact) -> dict[str, float]:
    """Every input's and node's value, node by node; raises GraphError."""
    values = {name: carry(value) for name, value in spec.inputs}
    for node in spec.nodes:
        op = OPS[node.op]
        args = [arg_value(values, a) for a in node.args]
        values[node.name] = carry(_apply(op, args, lambda p, n=node: GraphError(n, p)))
    return values


def run(spec: GraphSpec, carry: Carry = exact) -> Pass:
    """The forward pass, then the backward pass in reverse order: upstream × local, each
    branch, and where a value is used more than once the sum of its branches."""
    values = forward(spec, carry)
    users: dict[str, list[tuple[str, int]]] = {name: [] for name in values}
    for node in spec.nodes:
        for k, name in node.variables():
            users[name].append((node.name, k))
    locals_: dict[tuple[str, int], float] = {}
    branches: dict[tuple[str, int], float] = {}
    grads: dict[str, float] = {}

    def total(name: str) -> float:
        parts = [branches[use] for use in users[name]]
        if name == spec.output:
            return 1.0
        if not parts:
            return 0.0
        if len(parts) == 1:
            return parts[0]
        exact_sum = math.fsum(parts) if all(map(math.isfinite, parts)) else sum(parts)
        return carry(exact_sum)

    # IEEE arithmetic throughout, as autograd's: an infinite local gradient (sqrt at 0) makes
    # its branch infinite or nan, unless a routing gate downstream of it (relu, max, min)
    # passes that gradient nowhere — those gates select, they do not multiply. Only a
    # non-finite ∂f/∂input is refused, blamed on the first node where a number broke.
    broken: list[tuple[Node, str]] = []
    for node in reversed(spec.nodes):
        upstream = grads[node.name] = total(node.name)
        op = OPS[node.op]
        args = [arg_value(values, a) for a in node.args]
        for k, name in node.variables():
            local = locals_[(node.name, k)] = carry(float(op.local[k](*args, values[node.name])))
            routed_away = op.routes and local == 0
            branch = 0.0 if routed_away else upstream * local
            if not math.isfinite(local) and math.isfinite(upstream):
                broken.append((node, _local_problem(node, k, args)))
            elif not math.isfinite(branch) and math.isfinite(upstream):
                broken.append((node, f"overflow in the backward pass: ∂f/∂{name} via {node.name}"))
            branches[(node.name, k)] = carry(branch)
    for name in spec.input_names:
        grads[name] = total(name)
    if broken and not all(math.isfinite(grads[name]) for name in spec.input_names):
        raise GraphError(*broken[0])
    order = [*spec.input_names, *(n.name for n in spec.nodes)]
    return Pass(
        values,
        locals_,
        branches,
        {name: grads[name] for name in order},
        {name: tuple(users[name]) for name in order},
    )


def _local_problem(node: Node, k: int, args: Sequence[float]) -> str:
    where = ", ".join(map(_plain, args))
    if node.op == "sqrt":
        return "the gradient of sqrt, 1/(2√x), is infinite at 0"
    if node.op == "pow" and k == 1:
        return (
            f"∂(a^b)/∂b = a^b·ln a needs a > 0, and a = {_plain(args[0])} (a constant "
            "exponent has no such term)"
        )
    if node.op == "pow":
        return f"the gradient of a^b at {where} is infinite (0 to a power below 1)"
    return f"the local gradient of {node.op} at {where} is not finite"


def evaluate(spec: GraphSpec, values: Mapping[str, float]) -> float:
    """f at other input values (finite differences); raises GraphError."""
    return forward(spec.with_inputs(values))[spec.output]


def traced(spec: GraphSpec, carry: Carry = exact, when: str = "") -> Pass:
    """`run`, with a failure as the located ConfigError the CLI reports."""
    try:
        return run(spec, carry)
    except GraphError as err:
        raise err.config_error(spec, when) from None


# ---------------------------------------------------------------- checking and updating

FD_STEP = 1e-6
FD_TOLERANCE = 1e-5


@dataclass(frozen=True, slots=True)
class GradientCheck:
    """∂f/∂input from the backward pass beside the central finite difference."""

    name: str
    backprop: float
    numeric: float | None  # None: f is not defined a step away
    value: float  # f itself: rounding in the difference scales with it

    @property
    def difference(self) -> float:
        if self.numeric is None:
            return math.inf
        scale = max(abs(self.backprop), abs(self.numeric))
        return abs(self.backprop - self.numeric) / scale if scale else 0.0

    @property
    def agrees(self) -> bool:
        if self.numeric is None:
            return False
        scale = max(abs(self.backprop), abs(self.numeric))
        return abs(self.backprop - self.numeric) <= FD_TOLERANCE * scale + 1e-8 * (
            1.0 + abs(self.value)
        )


def check_gradients(spec: GraphSpec, done: Pass) -> list[GradientCheck]:
    """Every ∂f/∂input against (f(x + h) − f(x − h))/2h through the same forward pass."""
    base = dict(spec.inputs)
    checks = []
    for name, value in spec.inputs:
        try:
            up = evaluate(spec, {**base, name: value + FD_STEP})
            down = evaluate(spec, {**base, name: value - FD_STEP})
            numeric: float | None = (up - down) / (2 * FD_STEP)
        except GraphError:
            numeric = None
        checks.append(GradientCheck(name, done.grads[name], numeric, done.values[spec.output]))
    return checks


@dataclass(frozen=True, slots=True)
class Moment:
    """The optimizer's state between updates: t, and each parameter's state values."""

    t: int = 0
    values: tuple[tuple[str, tuple[tuple[str, float], ...]], ...] = ()

    def of(self, parameter: str) -> dict[str, float]:
        return dict(dict(self.values).get(parameter, ()))


def step(
    spec: GraphSpec, done: Pass, carry: Carry = exact, moment: Moment | None = None
) -> tuple[GraphSpec, Moment, dict[str, dict[str, float]]]:
    """One update of the parameters by the spec's optimizer (PyTorch's torch.optim formulas;
    plain gradient descent w ← w − η·∂f/∂w by default). Returns the graph with the new
    values, the optimizer's state after it, and per parameter every line's value by name
    ("g", "m", …, "step", "new") with the state before it under "before <name>"."""
    moment = moment or Moment()
    settings = spec.optimizer
    state_names = settings.optimizer.state
    t = moment.t + 1
    eta = spec.learning_rate or 0.0
    values = dict(spec.inputs)
    lines: dict[str, dict[str, float]] = {}
    kept = []
    for name in spec.parameters:
        before = {s: moment.of(name).get(s, 0.0) for s in state_names}
        n = optimizers.update(
            settings,
            eta,
            t,
            values[name],
            done.grads[name],
            before,
            l2=spec.weight_decay,
            carry=carry,
        )
        numbers = {
            k: float(v) for k, v in n.items() if isinstance(v, (int, float)) or hasattr(v, "dtype")
        }
        numbers.update({f"before {s}": v for s, v in before.items()})
        lines[name] = numbers
        values[name] = numbers["new"]
        kept.append((name, tuple((s, numbers[s]) for s in state_names)))
    return spec.with_inputs(values), Moment(t, tuple(kept)), lines


@dataclass(frozen=True, slots=True)
class Epoch:
    """One epoch of `step` on a graph: f before the update, the gradients, the new values."""

    epoch: int
    value: float
    value_after: float
    parameters: tuple[tuple[str, float], ...]  # after the update
    gradients: tuple[tuple[str, float], ...]  # ∂f/∂parameter, before the update


@dataclass(frozen=True, slots=True)
class Training:
    """What `train` did: the kept epochs, every epoch's f after it, the traced passes."""

    start: GraphSpec
    final: GraphSpec
    epochs: tuple[Epoch, ...]  # the kept ones, and always the last
    values_after: tuple[float, ...]  # f after every epoch
    # (epoch, before, pass, after, f after, the update's lines per parameter)
    traced: tuple[tuple[int, GraphSpec, Pass, GraphSpec, float, dict], ...]
    stop_reason: str = ""


DIVERGENCE_FACTOR = 1e6


def train(
    spec: GraphSpec,
    epochs: int,
    carry: Carry = exact,
    traced: Callable[[int], bool] = lambda epoch: False,
    keep: Callable[[int], bool] = lambda epoch: True,
    trace_last: bool = False,
    progress: Callable[[int], None] | None = None,
) -> Training:
    """Gradient descent on the parameters, `epochs` times: one forward and backward pass and
    one update per epoch. Stops, saying why, where f leaves a function's domain or
    overflows; the first epoch failing is an error."""
    current = spec
    kept: list[Epoch] = []
    values_after: list[float] = []
    passes = []
    stop = ""
    try:
        done = run(current, carry)
    except GraphError as err:
        raise err.config_error(spec, "epoch 1, ") from None
    first = done.values[spec.output]
    moment = Moment()
    for epoch in range(1, epochs + 1):
        new, moment, moved = step(current, done, carry, moment)
        try:
            following = run(new, carry)
            after = following.values[spec.output]
        except GraphError as err:
            stop = f"after epoch {epoch} the graph cannot be evaluated: {err.problem}"
            following, after = None, math.nan
        if not math.isfinite(after) or abs(after) > DIVERGENCE_FACTOR * max(1.0, abs(first)):
            stop = stop or f"{spec.output} grew to {after:.6g} at epoch {epoch}: it diverges"
        if epoch == 1 and (following is None or not math.isfinite(after)):
            # the first update cannot be shown at all: an error, as in `run`
            raise ConfigError(
                spec.source,
                None,
                None,
                f"the numbers overflow: {stop or f'{spec.output} = {after}'} (the update in "
                "epoch 1); use a smaller learning_rate",
            )
        grads = tuple((n, done.grads[n]) for n in spec.parameters)
        row = Epoch(
            epoch,
            done.values[spec.output],
            after,
            tuple((n, v) for n, v in new.inputs if n in spec.parameters),
            grads,
        )
        values_after.append(after)
        last = epoch == epochs or bool(stop) or following is None
        if keep(epoch) or last:
            kept.append(row)
        if traced(epoch) or (trace_last and last):
            passes.append((epoch, current, done, new, after, moved))
        if progress is not None:
            progress(epoch)
        current = new
        if following is None or stop:
            break
        done = following
    return Training(spec, current, tuple(kept), tuple(values_after), tuple(passes), stop)
