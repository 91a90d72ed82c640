"""The scalar engine's function as a syntax tree (`scalar.py` builds, checks and runs it).

`Builder` writes a network's epoch of updates as `ast` nodes — never as text: the names are
made of integers, the numbers are the config's values as constants, the activations', loss's and
optimizer's formulas come as structure (`formula.Formula`) and the registry's functions as
objects in the function's namespace.
"""

from __future__ import annotations

import ast
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .. import formula

if TYPE_CHECKING:
    from .spec import Spec

# samples × weights up to which an epoch's samples are written out one by one: beyond it the
# tree, and compiling it, grow past what the loop over samples costs (16 × 144: 0.16 s)
UNROLL = 600


@dataclass(frozen=True, slots=True)
class Formulas:
    outputs: tuple[formula.Formula | None, ...]  # per non-input layer: o over "net", or None
    slopes: tuple[formula.Formula, ...]  # per non-input layer: ∂o/∂net over "o" and "net"
    delta: formula.Formula  # δ at an output over "o", "t" and "net" (its slope included)
    lines: tuple[formula.Formula, ...]  # the optimizer's lines over their slots; () plain SGD


def unrolled(spec: Spec) -> bool:
    """Are an epoch's samples written out one by one (a fixed order, and not too many)?"""
    size = sum(w.size for w in spec.weights)
    return not spec.shuffle and len(spec.samples) * size <= UNROLL


# ---------------------------------------------------------------- the tree


def _load(name: str) -> ast.expr:
    return ast.Name(name, ast.Load())


def _store(name: str) -> ast.expr:
    return ast.Name(name, ast.Store())


def _assign(target: str | list[str], value: ast.expr) -> ast.stmt:
    if isinstance(target, list):
        return ast.Assign([ast.Tuple([_store(t) for t in target], ast.Store())], value)
    return ast.Assign([_store(target)], value)


_ONE = 1.0


def _binary(left: ast.expr, op: ast.operator, right: ast.expr) -> ast.expr:
    """left op right; a product with the constant 1.0 is its other factor (1.0·x is x, bit for
    bit, whatever x is: η = 1, an input of 1)."""
    if isinstance(op, ast.Mult):
        for one, other in ((left, right), (right, left)):
            if isinstance(one, ast.Constant) and one.value == _ONE and type(one.value) is float:
                return other
    return ast.BinOp(left, op, right)


def _zero(node: ast.expr) -> bool:
    """The constant 0 (an input of 0 written in)."""
    return isinstance(node, ast.Constant) and node.value == 0.0 and type(node.value) is float


def _chain(terms: Sequence[ast.expr]) -> ast.expr:
    """t0 + t1 + … added left to right, as numpy adds a short row."""
    out = terms[0]
    for term in terms[1:]:
        out = _binary(out, ast.Add(), term)
    return out


def _call(function: str, *args: ast.expr) -> ast.expr:
    return ast.Call(_load(function), list(args), [])


_OPERATORS = {"add": ast.Add, "sub": ast.Sub, "mul": ast.Mult, "div": ast.Div}
_COMPARE = {"positive": ast.Gt, "not_positive": ast.LtE}


class Builder:
    """The syntax tree of `epochs(P, X, T, orders, outs, history)`: for each order, an epoch of
    updates (online: one per sample; batch: one for them all), and the parameters after it
    appended to `history`. Each sample's output nets and o are recorded for its loss: at the
    end of the epoch's entry in `history` where the samples' order is fixed (their code is then
    unrolled, the inputs written in), else appended to `outs` sample by sample."""

    def __init__(self, spec: Spec, parts: Formulas, namespace: dict[str, Any]) -> None:
        self.spec, self.parts, self.namespace = spec, parts, namespace
        self.depth = len(spec.weights)
        self.units = spec.layers
        self.eta = ast.Constant(float(spec.learning_rate))
        self.unrolled = unrolled(spec)
        self.sample_at: int | None = None  # the sample whose code is written out, if any
        rates = spec.dropout.rates if spec.dropout is not None else ()
        self.dropped = [p for p, rate in enumerate(rates) if rate > 0]
        self.constants = dict(spec.optimizer.symbols()) | {"η": float(spec.learning_rate)}

    # names: x_i the inputs, and per non-input layer k (1…): w, b, net, o, δ, accumulated Σ
    def o(self, k: int, j: int) -> str:
        return f"x{j}" if k == 0 else f"o{k}_{j}"

    def received(self, k: int, j: int) -> str:
        """Unit j of layer k as the layer above receives it: times its dropout keep-factor
        m/(1 − rate) (`q`) where layer k's outputs are dropped, else its output."""
        return f"q{k}_{j}" if k in self.dropped else self.o(k, j)

    def value(self, k: int, j: int) -> ast.expr:
        """`received`, as an expression: an input of a sample written out is its number
        (where no dropout scales it), so that a product with an input of 1 is written as its
        other factor."""
        if k in self.dropped:
            return _load(self.received(k, j))
        return self.raw(k, j)

    def raw(self, k: int, j: int) -> ast.expr:
        """Unit j of layer k's output: an input of a sample written out is its number."""
        if k == 0 and self.sample_at is not None:
            return ast.Constant(float(self.spec.samples[self.sample_at].inputs[j]))
        return _load(self.o(k, j))

    def keeps(self) -> list[str]:
        """The keep-factors one sample reads, position by position."""
        return [f"k{p}_{i}" for p in self.dropped for i in range(self.units[p])]

    def biased(self, k: int) -> bool:
        biases = self.spec.biases
        return biases is not None and biases[k - 1] is not None

    def parameters(self) -> list[str]:
        names = [
            f"w{k}_{j}_{i}"
            for k in range(1, self.depth + 1)
            for j in range(self.units[k])
            for i in range(self.units[k - 1])
        ]
        names += [
            f"b{k}_{j}"
            for k in range(1, self.depth + 1)
            if self.biased(k)
            for j in range(self.units[k])
        ]
        if self.parts.lines:  # the optimizer's state per trained parameter, then its count t
            trained = [name for name, _ in self.products()]
            for state in self.spec.optimizer.optimizer.state:
                names += [f"s_{state}_{name}" for name in trained]
            names.append("t")
        return names

    def step(self, name: str, gradient: ast.expr) -> list[ast.stmt]:
        """`name` updated from −∂E/∂θ (Σ δ·o): the lecture's w + η·(δ·o), or the optimizer's
        lines from g = ∂E/∂θ, each state kept in a local of its own."""
        if not self.parts.lines:
            update = _binary(self.eta, ast.Mult(), gradient)
            return [_assign(name, _binary(_load(name), ast.Add(), update))]
        settings = self.spec.optimizer
        optimizer = settings.optimizer
        slots = {"t": "t", "g": "g", "w": name}  # η and the hyperparameters: constants
        slots |= {line.symbol: f"l_{line.name}" for line in optimizer.lines}
        slots |= {state: f"s_{state}_{name}" for state in optimizer.state}
        out = [_assign("g", ast.UnaryOp(ast.USub(), gradient))]
        for line, structure in zip(optimizer.lines, self.parts.lines):
            out.append(_assign(slots[line.symbol], self.expression(structure, slots)))
        return [*out, _assign(name, _binary(_load(name), ast.Add(), _load("l_step")))]

    def packed(self, values: list[ast.expr]) -> ast.expr:
        """`values` as the bytes of as many doubles, for `outs` or `history` (bytearrays): one
        call that converts them all, a third of an epoch's time less for xor than extending an
        array by a tuple of floats, each converted on its own."""
        pack = struct.Struct(f"{len(values)}d").pack
        return _call(self.function_name(pack), *values)

    def function_name(self, function: Callable[..., Any]) -> str:
        """A function of the registry (σ, tanh, exp, …) in the namespace, by a name of ours."""
        for key, value in self.namespace.items():
            if value is function:
                return key
        name = f"f_{len(self.namespace)}"
        self.namespace[name] = function
        return name

    def expression(self, f: formula.Formula, names: dict[str, Any]) -> ast.expr:
        if isinstance(f, formula.Ref):
            if f.name in self.constants:
                return ast.Constant(self.constants[f.name])
            named = names[f.name]
            return _load(named) if isinstance(named, str) else named
        if isinstance(f, formula.Num):
            return ast.Constant(f.value)
        args = [self.expression(a, names) for a in f.args]
        if f.op in _OPERATORS:
            return _binary(args[0], _OPERATORS[f.op](), args[1])
        if f.op == "neg":
            inner = args[0]  # −(−x) is x, bit for bit
            if isinstance(inner, ast.UnaryOp) and isinstance(inner.op, ast.USub):
                return inner.operand
            return ast.UnaryOp(ast.USub(), inner)
        if f.op == "pow" and f.args[1] == formula.Num(2.0):  # x², as numpy squares: x·x
            return _binary(args[0], ast.Mult(), self.expression(f.args[0], names))
        if f.op in _COMPARE:
            test = ast.Compare(args[0], [_COMPARE[f.op]()], [args[1]])
            return ast.IfExp(test, ast.Constant(1.0), ast.Constant(0.0))
        return _call(self.function_name(formula.operation(f.op)), *args)

    def forward(self) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        for k in range(1, self.depth + 1):
            written = self.parts.outputs[k - 1]
            function = self.spec.functions[k - 1].scalar
            layer_wise = self.spec.functions[k - 1].scalar_layer
            if k - 1 in self.dropped:  # õ = o·m/(1 − rate), what this layer receives
                for i in range(self.units[k - 1]):
                    kept = _binary(self.raw(k - 1, i), ast.Mult(), _load(f"k{k - 1}_{i}"))
                    out.append(_assign(self.received(k - 1, i), kept))
            for j in range(self.units[k]):
                terms = [
                    _binary(_load(f"w{k}_{j}_{i}"), ast.Mult(), self.value(k - 1, i))
                    for i in range(self.units[k - 1])
                    if not _zero(self.value(k - 1, i))
                ]
                if self.biased(k):
                    terms.append(_load(f"b{k}_{j}"))
                out.append(_assign(f"n{k}_{j}", _chain(terms or [ast.Constant(0.0)])))
                if layer_wise is not None:
                    continue  # the layer's outputs come together, below
                if written is not None:
                    o = self.expression(written, {"net": f"n{k}_{j}"})
                else:
                    o = _call(self.function_name(function), _load(f"n{k}_{j}"))
                out.append(_assign(f"o{k}_{j}", o))
            if layer_wise is not None:  # (o_1, …) = f(net_1, …): softmax, a layer at once
                nets = ast.Tuple([_load(f"n{k}_{j}") for j in range(self.units[k])], ast.Load())
                call = _call(self.function_name(layer_wise), nets)
                out.append(_assign([f"o{k}_{j}" for j in range(self.units[k])], call))
        return out

    def recorded(self) -> list[ast.expr]:
        """What a sample's loss is computed from: each output's net and o."""
        last = self.depth
        return [_load(f"{kind}{last}_{j}") for j in range(self.units[last]) for kind in ("n", "o")]

    def backward(self) -> list[ast.stmt]:
        """δ of every unit, top down, from the weights before the update."""
        out: list[ast.stmt] = []
        last = self.depth
        for j in range(self.units[last]):
            target: Any = f"t{j}"
            if self.sample_at is not None:  # a sample written out: its target is a number
                target = ast.Constant(float(self.spec.samples[self.sample_at].targets[j]))
            names = {"o": f"o{last}_{j}", "t": target, "net": f"n{last}_{j}"}
            out.append(_assign(f"d{last}_{j}", self.expression(self.parts.delta, names)))
        for k in range(last - 1, 0, -1):
            for i in range(self.units[k]):
                back = _chain(
                    [
                        _binary(_load(f"d{k + 1}_{j}"), ast.Mult(), _load(f"w{k + 1}_{j}_{i}"))
                        for j in range(self.units[k + 1])
                    ]
                )
                names = {"o": f"o{k}_{i}", "net": f"n{k}_{i}"}
                slope = self.expression(self.parts.slopes[k - 1], names)
                delta = _binary(slope, ast.Mult(), back)
                if k in self.dropped:  # ·m/(1 − rate), multiplied in last: 0 where dropped
                    delta = _binary(delta, ast.Mult(), _load(f"k{k}_{i}"))
                out.append(_assign(f"d{k}_{i}", delta))
        return out

    def products(self) -> list[tuple[str, ast.expr]]:
        """Each trained parameter and its δ·o (δ for a bias) for one sample; a written-out
        input of 0 gives the product 0 (w·0 and δ·0 are ±0: adding one changes no sum's
        value)."""
        out = []
        for k in range(1, self.depth + 1):
            for j in range(self.units[k]):
                for i in range(self.units[k - 1]):
                    o = self.value(k - 1, i)
                    product = o if _zero(o) else _binary(_load(f"d{k}_{j}"), ast.Mult(), o)
                    out.append((f"w{k}_{j}_{i}", product))
        if self.spec.train_biases:
            for k in range(1, self.depth + 1):
                if self.biased(k):
                    out.extend((f"b{k}_{j}", _load(f"d{k}_{j}")) for j in range(self.units[k]))
        return out

    def sample(self, index: int | None) -> list[ast.stmt]:
        """Sample `index`'s inputs and targets into locals: written in, or read from X and T
        at `s` (index None)."""
        inputs = [f"x{i}" for i in range(self.units[0])]
        targets = [f"t{j}" for j in range(self.units[-1])]
        keeps = [_assign(self.keeps(), _call("draw"))] if self.dropped else []
        if index is None:
            read = [ast.Subscript(_load(name), _load("s"), ast.Load()) for name in ("X", "T")]
        else:
            sample = self.spec.samples[index]
            read = [
                ast.Tuple([ast.Constant(float(v)) for v in values], ast.Load())
                for values in (sample.inputs, sample.targets)
            ]
        if index is not None:  # inputs and targets are written in where they are used
            return keeps
        return [*keeps, _assign(inputs, read[0]), _assign(targets, read[1])]

    def samples(self, body: Callable[[], list[ast.stmt]]) -> tuple[list[ast.stmt], list[ast.expr]]:
        """`body` for every sample of the epoch: unrolled, each sample's recorded values kept
        in locals of its own for the epoch's entry; or a loop that appends them to `outs`."""
        if not self.unrolled:
            loop = self.sample(None) + body()
            loop.append(ast.Expr(_call("push", self.packed(self.recorded()))))
            return [ast.For(_store("s"), _load("order"), loop, [])], []
        out: list[ast.stmt] = []
        kept: list[ast.expr] = []
        for index in range(len(self.spec.samples)):
            self.sample_at = index  # its inputs written in as numbers
            out += self.sample(index) + body()
            self.sample_at = None
            for n, value in enumerate(self.recorded()):
                out.append(_assign(f"r{index}_{n}", value))
                kept.append(_load(f"r{index}_{n}"))
        return out, kept

    def epoch(self) -> tuple[list[ast.stmt], list[ast.expr]]:
        """One epoch: online, w ← w + η·(δ·o) after each sample; batch, after them all from
        Σ_s δ·o (divided by the count for a mean gradient)."""
        products = self.products()
        if self.spec.mode != "batch":

            def update() -> list[ast.stmt]:
                body = self.forward() + self.backward() + self.count()
                for name, product in self.products():  # this sample's inputs written in
                    if not (_zero(product) and not self.parts.lines):  # w + η·0 is w
                        body += self.step(name, product)
                return body

            return self.samples(update)

        def accumulate() -> list[ast.stmt]:
            body = self.forward() + self.backward()
            for name, product in self.products():
                if not _zero(product):  # Σ + 0 is Σ
                    body.append(
                        _assign(f"a_{name}", _binary(_load(f"a_{name}"), ast.Add(), product))
                    )
            return body

        out: list[ast.stmt] = [_assign(f"a_{name}", ast.Constant(0.0)) for name, _ in products]
        statements, kept = self.samples(accumulate)
        out += statements
        mean = self.spec.batch_gradient == "mean"
        if mean:
            out.append(_assign("count", ast.Constant(len(self.spec.samples))))
        out += self.count()
        for name, _ in products:
            summed = _load(f"a_{name}")
            if mean:
                summed = _binary(summed, ast.Div(), _load("count"))
            out += self.step(name, summed)
        return out, kept

    def count(self) -> list[ast.stmt]:
        """t ← t + 1 before an optimizer's update (none for plain SGD)."""
        if not self.parts.lines:
            return []
        return [_assign("t", _binary(_load("t"), ast.Add(), ast.Constant(1)))]

    def module(self) -> ast.Module:
        names = self.parameters()
        statements, kept = self.epoch()
        state = self.packed([_load(n) for n in names] + kept)
        body: list[ast.stmt] = [
            _assign(names, _load("P")),
            _assign("push", ast.Attribute(_load("outs"), "extend", ast.Load())),
            _assign("draw", ast.Attribute(_call("iter", _load("K")), "__next__", ast.Load())),
            _assign("keep", ast.Attribute(_load("history"), "extend", ast.Load())),
            ast.For(
                _store("order"), _load("orders"), [*statements, ast.Expr(_call("keep", state))], []
            ),
            ast.Assign(
                [ast.Subscript(_load("P"), ast.Slice(), ast.Store())],
                ast.List([_load(n) for n in names], ast.Load()),
            ),
        ]
        arguments = ast.arguments(
            posonlyargs=[],
            args=[ast.arg(a) for a in ("P", "X", "T", "orders", "outs", "history", "K")],
            kwonlyargs=[],
            kw_defaults=[],
            defaults=[],
        )
        function = ast.FunctionDef("epochs", arguments, body, [], None)
        return ast.fix_missing_locations(ast.Module([function], []))
