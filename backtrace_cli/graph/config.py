"""A scalar computational graph's config (`expression:` or `nodes:`) → a validated `GraphSpec`.

The second model beside the layered network. Each node is one operation of `operations`
applied to inputs, other nodes or constants; expressions are parsed by `expression` into the
tool's own node types and never evaluated as Python. The graph itself is `graph_spec`, its
engine — the forward pass node by node, the backward pass in reverse — `graph_engine`; both are
re-exported here, so `graph.run` and `graph.GraphSpec` are the graph model's one address.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from typing import Any

from ..core.errors import ConfigError
from ..core.validate import Checker, closest, show
from ..core.yamlsource import Document
from ..definitions import optimizer_config
from ..definitions.operations import OPS
from . import expression as ex
from .engine import (
    DIVERGENCE_FACTOR,
    FD_STEP,
    FD_TOLERANCE,
    Epoch,
    GradientCheck,
    GraphError,
    Moment,
    Pass,
    Training,
    arg_value,
    check_gradients,
    compute,
    evaluate,
    forward,
    run,
    step,
    traced,
    train,
)
from .spec import Arg, Carry, Const, GraphSpec, Node, exact

__all__ = [  # the graph model's names, wherever they are defined
    "DIVERGENCE_FACTOR",
    "FD_STEP",
    "FD_TOLERANCE",
    "KEYS",
    "MAX_NODES",
    "NAME_HINT",
    "Arg",
    "Carry",
    "Const",
    "Epoch",
    "GradientCheck",
    "GraphError",
    "GraphSpec",
    "Moment",
    "Node",
    "Pass",
    "Training",
    "arg_value",
    "check_gradients",
    "evaluate",
    "exact",
    "forward",
    "from_dict",
    "from_document",
    "position",
    "run",
    "step",
    "traced",
    "train",
]

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

# ---------------------------------------------------------------- loading


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
            value = compute(op, values, lambda p: _located(self.doc, path, text, tree.at, p))
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
    if "expression" not in data and "nodes" not in data:
        raise doc.missing(
            "expression",
            "missing; a computational graph gives `expression: (x + y) * z` (one line) or "
            "`nodes: {q: x + y, f: q * z}` (named steps)",
        )
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
