"""The fast engine for small networks: many untraced epochs at the pace of a plain loop.

For a network of a few units numpy's cost per call, not the arithmetic, is what training pays
(about 50 µs an update against 1 µs of sums and products). So for such a network `runner`
builds, once, a function that does an epoch's updates on plain Python floats, one local
variable per weight, unrolled: what a student would write by hand for that network.

No text is ever executed. The function is built as a syntax tree (`ast` nodes, not source)
from the network's sizes — integers — and from our definitions' own formulas as structure
(`formula.parse` of an activation's ∂o/∂net and of the loss's δ at the output, the same rows the
trace shows), with the registry's functions (σ, tanh, …) passed in as objects; `compile` turns
that tree into bytecode. A definition whose formula does not give its engine's numbers (checked
on sample points when the runner is built) leaves the network to numpy.

The numbers are the numpy engine's to 1e-12 (`tests/test_scalar_engine.py` trains every built-in
example both ways); each epoch's loss is computed afterwards, for a whole chunk of epochs at once,
by the loss's own array definition from the outputs the updates recorded.
"""

from __future__ import annotations

import array
import ast
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import formula
from ..definitions.losses import Loss, fill
from ..definitions.losses import get as get_loss
from .optimize import plain_sgd

if TYPE_CHECKING:  # numpy.typing costs start-up time; annotations only
    import numpy.typing as npt

    from ..definitions.activations import Activation
    from .spec import Spec

    Array = npt.NDArray[np.float64]

UNROLL = 2_400  # samples × parameters up to which an epoch's samples are written out one by one
LIMIT = 160  # parameters: beyond this numpy's vector work outweighs its cost per call
HISTORY = 150_000  # floats of parameter history a chunk of epochs keeps (1.2 MB as an array)
PROBES = (-3.7, -1.3, -0.25, 0.0, 0.4, 1.9, 4.2)  # nets where a formula is checked once


@dataclass(frozen=True, slots=True)
class Chunk:
    """Consecutive epochs run on floats: each one's losses and the network after it."""

    losses: Array  # (epochs,) the mean over its updates' samples of the loss before each update
    accuracy: Array | None  # (epochs,) classification losses: the share of samples right
    parameters: Array  # (epochs, parameters) the network after each epoch (`Runner.flat`)


class Runner:
    """A compiled epoch function for one network, and the array work around it."""

    def __init__(self, spec: Spec, function: Callable[..., None]) -> None:
        self.spec = spec
        self.function = function
        self.unrolled = unrolled(spec)
        self.loss = get_loss(spec.loss)
        self.inputs = [tuple(map(float, s.inputs)) for s in spec.samples]
        self.targets = [tuple(map(float, s.targets)) for s in spec.samples]
        self.x = np.array([s.inputs for s in spec.samples])
        self.t = np.array([s.targets for s in spec.samples])
        shapes = [w.shape for w in spec.weights]
        self.shapes = shapes
        self.biased = [
            spec.biases is not None and spec.biases[k] is not None for k in range(len(shapes))
        ]
        self.size = sum(a * b for a, b in shapes) + sum(
            n for (n, _), has in zip(shapes, self.biased) if has
        )

    @property
    def longest(self) -> int:
        """The most epochs one chunk may run (its parameter history stays small)."""
        return max(1, HISTORY // self.size)

    def flat(self, weights: Sequence[Array], biases: Sequence[Array | None] | None) -> list[float]:
        """The parameters as the compiled function holds them: weights, then biases."""
        out = [float(v) for w in weights for v in np.ravel(w)]
        for b in biases or ():
            if b is not None:
                out.extend(float(v) for v in b)
        return out

    def arrays(self, flat: Array) -> tuple[list[Array], list[Array | None] | None]:
        """`flat` back as the engine's weight matrices and bias vectors."""
        weights, at = [], 0
        for rows, columns in self.shapes:
            weights.append(flat[at : at + rows * columns].reshape(rows, columns).copy())
            at += rows * columns
        if self.spec.biases is None:
            return weights, None
        biases: list[Array | None] = []
        for (rows, _), has in zip(self.shapes, self.biased):
            biases.append(flat[at : at + rows].copy() if has else None)
            at += rows if has else 0
        return weights, biases

    def run(self, flat: list[float], orders: Sequence[Sequence[int]]) -> Chunk:
        """Run one epoch per order from the parameters `flat` (left as after the last)."""
        outs, history = array.array("d"), array.array("d")  # extended by tuples of floats
        self.function(flat, self.inputs, self.targets, orders, outs, history)
        count, outputs = len(orders), self.t.shape[1]
        kept = np.frombuffer(history, dtype=np.float64).reshape(count, -1)
        parameters = kept[:, : self.size]
        if self.unrolled:  # each epoch's entry ends with its samples' (net, o) per output
            recorded = kept[:, self.size :].reshape(-1, outputs, 2)
            t = np.tile(self.t, (count, 1))
        else:
            recorded = np.frombuffer(outs, dtype=np.float64).reshape(-1, outputs, 2)
            t = self.t[np.array(orders, dtype=np.intp).ravel()]
        net, out = recorded[:, :, 0], recorded[:, :, 1]
        with np.errstate(all="ignore"):
            each = self.loss.value(t - out, net, out, t).reshape(count, -1)
            losses = each.sum(axis=1) / each.shape[1]
            accuracy = None
            if self.loss.correct is not None:
                accuracy = self.loss.correct(out, t).reshape(count, -1).mean(axis=1)
        return Chunk(losses, accuracy, parameters)

    def losses_after(self, parameters: Array) -> Array:
        """The mean loss over all samples of each network in `parameters` (one per row),
        every epoch's forward pass at once."""
        count, out, at = len(parameters), self.x[None], 0
        offsets = []
        for rows, columns in self.shapes:
            offsets.append(at)
            at += rows * columns
        with np.errstate(all="ignore"):
            for k, ((rows, columns), function) in enumerate(zip(self.shapes, self.spec.functions)):
                w = parameters[:, offsets[k] : offsets[k] + rows * columns]
                net = out @ w.reshape(count, rows, columns).transpose(0, 2, 1)
                if self.biased[k]:
                    net = net + parameters[:, at : at + rows][:, None, :]
                    at += rows
                out = function.forward(net)
            flat_net = net.reshape(-1, net.shape[-1])
            flat_out = out.reshape(flat_net.shape)
            t = np.broadcast_to(self.t[None], out.shape).reshape(flat_net.shape)
            each = self.loss.value(t - flat_out, flat_net, flat_out, t).reshape(count, -1)
        return each.sum(axis=1) / each.shape[1]


def runner(spec: Spec) -> Runner | None:
    """A runner for this network's untraced epochs, or None where numpy runs them: a wide
    network, dropout, an optimizer beyond plain SGD, or a formula without a scalar form."""
    if spec.dropout is not None or not plain_sgd(spec):
        return None
    size = sum(w.size for w in spec.weights) + sum(
        b.size for b in spec.biases or () if b is not None
    )
    if size > LIMIT:
        return None
    parts = _formulas(spec)
    if parts is None:
        return None
    namespace: dict[str, Any] = {"__builtins__": {}}
    tree = _Builder(spec, parts, namespace).module()
    code = compile(tree, "<backtrace: the scalar engine>", "exec")
    body = next(c for c in code.co_consts if hasattr(c, "co_code"))
    function = _function(body, namespace)
    return Runner(spec, function)


def unrolled(spec: Spec) -> bool:
    """Are an epoch's samples written out one by one (a fixed order, and not too many)?"""
    size = sum(w.size for w in spec.weights)
    return not spec.shuffle and len(spec.samples) * size <= UNROLL


def _function(code: Any, namespace: dict[str, Any]) -> Callable[..., None]:
    """A function from the compiled body of our tree (never from text)."""
    import types  # only where the scalar engine is built

    return types.FunctionType(code, namespace, "epochs")


# ---------------------------------------------------------------- the formulas used


@dataclass(frozen=True, slots=True)
class _Formulas:
    outputs: tuple[formula.Formula | None, ...]  # per non-input layer: o over "net", or None
    slopes: tuple[formula.Formula, ...]  # per non-input layer: ∂o/∂net over "o" and "net"
    delta: formula.Formula  # δ at an output over "o", "t" and "net" (its slope included)


def _formulas(spec: Spec) -> _Formulas | None:
    """The structure each step is computed from, each checked against its engine's numbers."""
    slopes, outputs = [], []
    for activation in spec.functions:
        if not activation.elementwise:
            return None
        written = formula.parse(activation.written_out) if activation.written_out else None
        outputs.append(
            written if written is not None and _output_agrees(activation, written) else None
        )
        slope = formula.parse(activation.slope_formula("o", "net"))
        if slope is None or not _slope_agrees(activation, slope):
            return None
        slopes.append(slope)
    loss = get_loss(spec.loss)
    n = spec.layers[-1]
    delta = _output_delta(loss, spec.functions[-1], slopes[-1], n)
    if delta is None or not _delta_agrees(loss, spec.functions[-1], delta, n):
        return None
    return _Formulas(tuple(outputs), tuple(slopes), delta)


def _output_delta(
    loss: Loss, activation: Activation, slope: formula.Formula, n: int
) -> formula.Formula | None:
    """δ = −∂E/∂o·∂o/∂net at an output, or the loss's shortcut for this activation."""
    shortcut = loss.shortcut(activation.name)
    if shortcut is not None:
        return formula.parse(fill(shortcut.formula(n), n, t="t", o="o"))
    derivative = formula.parse(fill(loss.derivative, n, t="t", o="o"))
    if derivative is None:
        return None
    return formula.Apply("mul", (formula.Apply("neg", (derivative,)), slope))


def _output_agrees(activation: Activation, written: formula.Formula) -> bool:
    want = activation.forward(np.array(PROBES))
    return _close([formula.evaluate(written, {"net": v}) for v in PROBES], want)


def _slope_agrees(activation: Activation, slope: formula.Formula) -> bool:
    net = np.array([PROBES])
    out = activation.forward(net)
    want = activation.derivative(net, out)[0]
    got = [formula.evaluate(slope, {"o": o, "net": v}) for o, v in zip(out[0], net[0])]
    return _close(got, want)


def _delta_agrees(loss: Loss, activation: Activation, delta: formula.Formula, n: int) -> bool:
    net = np.array([PROBES[i : i + n] for i in range(len(PROBES) - n + 1)] or [PROBES[:1] * n])
    out = activation.forward(net)
    t = np.clip(np.abs(np.sin(net * 3.0)), 0.05, 0.95)  # targets any loss accepts
    if loss.distribution:
        t = t / t.sum(axis=1, keepdims=True)
    error = t - out
    shortcut = loss.shortcut(activation.name)
    if shortcut is not None:
        want = shortcut.delta(error)
    else:
        with np.errstate(all="ignore"):
            want = -loss.gradient(error, out, t) * activation.derivative(net, out)
    got = [
        formula.evaluate(delta, {"o": o, "t": tt, "net": v})
        for row in range(len(net))
        for o, tt, v in zip(out[row], t[row], net[row])
    ]
    return _close(got, want.ravel())


def _close(got: Sequence[float | None], want: Array) -> bool:
    return all(
        g is not None and math.isclose(g, float(w), rel_tol=1e-13, abs_tol=1e-300)
        for g, w in zip(got, want)
    )


# ---------------------------------------------------------------- the tree


def _load(name: str) -> ast.expr:
    return ast.Name(name, ast.Load())


def _store(name: str) -> ast.expr:
    return ast.Name(name, ast.Store())


def _assign(target: str | list[str], value: ast.expr) -> ast.stmt:
    if isinstance(target, list):
        return ast.Assign([ast.Tuple([_store(t) for t in target], ast.Store())], value)
    return ast.Assign([_store(target)], value)


def _binary(left: ast.expr, op: ast.operator, right: ast.expr) -> ast.expr:
    return ast.BinOp(left, op, right)


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


class _Builder:
    """The syntax tree of `epochs(P, X, T, orders, outs, history)`: for each order, an epoch of
    updates (online: one per sample; batch: one for them all), and the parameters after it
    appended to `history`. Each sample's output nets and o are recorded for its loss: at the
    end of the epoch's entry in `history` where the samples' order is fixed (their code is then
    unrolled, the inputs written in), else appended to `outs` sample by sample."""

    def __init__(self, spec: Spec, parts: _Formulas, namespace: dict[str, Any]) -> None:
        self.spec, self.parts, self.namespace = spec, parts, namespace
        self.depth = len(spec.weights)
        self.units = spec.layers
        self.eta = ast.Constant(float(spec.learning_rate))
        self.unrolled = unrolled(spec)

    # names: x_i the inputs, and per non-input layer k (1…): w, b, net, o, δ, accumulated Σ
    def o(self, k: int, j: int) -> str:
        return f"x{j}" if k == 0 else f"o{k}_{j}"

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
        return names

    def function_name(self, function: Callable[..., float]) -> str:
        """A function of the registry (σ, tanh, exp, …) in the namespace, by a name of ours."""
        for key, value in self.namespace.items():
            if value is function:
                return key
        name = f"f_{len(self.namespace)}"
        self.namespace[name] = function
        return name

    def expression(self, f: formula.Formula, names: dict[str, str]) -> ast.expr:
        if isinstance(f, formula.Ref):
            return _load(names[f.name])
        if isinstance(f, formula.Num):
            return ast.Constant(f.value)
        args = [self.expression(a, names) for a in f.args]
        if f.op in _OPERATORS:
            return _binary(args[0], _OPERATORS[f.op](), args[1])
        if f.op == "neg":
            return ast.UnaryOp(ast.USub(), args[0])
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
            for j in range(self.units[k]):
                terms = [
                    _binary(_load(f"w{k}_{j}_{i}"), ast.Mult(), _load(self.o(k - 1, i)))
                    for i in range(self.units[k - 1])
                ]
                if self.biased(k):
                    terms.append(_load(f"b{k}_{j}"))
                out.append(_assign(f"n{k}_{j}", _chain(terms)))
                if written is not None:
                    o = self.expression(written, {"net": f"n{k}_{j}"})
                else:
                    o = _call(self.function_name(function), _load(f"n{k}_{j}"))
                out.append(_assign(f"o{k}_{j}", o))
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
            names = {"o": f"o{last}_{j}", "t": f"t{j}", "net": f"n{last}_{j}"}
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
                out.append(_assign(f"d{k}_{i}", _binary(slope, ast.Mult(), back)))
        return out

    def products(self) -> list[tuple[str, ast.expr]]:
        """Each trained parameter and its δ·o (δ for a bias) for one sample."""
        out = []
        for k in range(1, self.depth + 1):
            for j in range(self.units[k]):
                for i in range(self.units[k - 1]):
                    product = _binary(_load(f"d{k}_{j}"), ast.Mult(), _load(self.o(k - 1, i)))
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
        if index is None:
            return [
                _assign(inputs, ast.Subscript(_load("X"), _load("s"), ast.Load())),
                _assign(targets, ast.Subscript(_load("T"), _load("s"), ast.Load())),
            ]
        sample = self.spec.samples[index]
        return [
            _assign(inputs, ast.Tuple([ast.Constant(float(v)) for v in sample.inputs], ast.Load())),
            _assign(
                targets, ast.Tuple([ast.Constant(float(v)) for v in sample.targets], ast.Load())
            ),
        ]

    def samples(self, body: Callable[[], list[ast.stmt]]) -> tuple[list[ast.stmt], list[ast.expr]]:
        """`body` for every sample of the epoch: unrolled, each sample's recorded values kept
        in locals of its own for the epoch's entry; or a loop that appends them to `outs`."""
        if not self.unrolled:
            loop = self.sample(None) + body()
            loop.append(ast.Expr(_call("push", ast.Tuple(self.recorded(), ast.Load()))))
            return [ast.For(_store("s"), _load("order"), loop, [])], []
        out: list[ast.stmt] = []
        kept: list[ast.expr] = []
        for index in range(len(self.spec.samples)):
            out += self.sample(index) + body()
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
                body = self.forward() + self.backward()
                for name, product in products:
                    step = _binary(self.eta, ast.Mult(), product)
                    body.append(_assign(name, _binary(_load(name), ast.Add(), step)))
                return body

            return self.samples(update)

        def accumulate() -> list[ast.stmt]:
            body = self.forward() + self.backward()
            for name, product in products:
                body.append(_assign(f"a_{name}", _binary(_load(f"a_{name}"), ast.Add(), product)))
            return body

        out: list[ast.stmt] = [_assign(f"a_{name}", ast.Constant(0.0)) for name, _ in products]
        statements, kept = self.samples(accumulate)
        out += statements
        mean = self.spec.batch_gradient == "mean"
        if mean:
            out.append(_assign("count", ast.Constant(len(self.spec.samples))))
        for name, _ in products:
            summed = _load(f"a_{name}")
            if mean:
                summed = _binary(summed, ast.Div(), _load("count"))
            step = _binary(self.eta, ast.Mult(), summed)
            out.append(_assign(name, _binary(_load(name), ast.Add(), step)))
        return out, kept

    def module(self) -> ast.Module:
        names = self.parameters()
        statements, kept = self.epoch()
        state = ast.Tuple([_load(n) for n in names] + kept, ast.Load())
        body: list[ast.stmt] = [
            _assign(names, _load("P")),
            _assign("push", ast.Attribute(_load("outs"), "extend", ast.Load())),
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
            args=[ast.arg(a) for a in ("P", "X", "T", "orders", "outs", "history")],
            kwonlyargs=[],
            kw_defaults=[],
            defaults=[],
        )
        function = ast.FunctionDef("epochs", arguments, body, [], None)
        return ast.fix_missing_locations(ast.Module([function], []))
