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

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import formula
from ..definitions import optimizers
from ..definitions.losses import Loss, fill
from ..definitions.losses import get as get_loss
from .dropout import dropout_masks, dropped_units, scaled_masks
from .optimize import plain_sgd
from .scalar_tree import Builder, Formulas, unrolled

if TYPE_CHECKING:  # numpy.typing costs start-up time; annotations only
    import numpy.typing as npt

    from ..definitions.activations import Activation
    from .spec import Spec

    Array = npt.NDArray[np.float64]

LIMIT = 160  # parameters: beyond this numpy's vector work outweighs its cost per call
# updates (epochs × samples) from which `train` builds the engine on its own: numpy's 30–50 µs
# an update against building it, 1–30 ms (8-12-4, 200 epochs of 16 samples: 0.11 s on numpy)
WORTH = 1_000
HISTORY = 150_000  # floats of parameter history a chunk of epochs keeps (1.2 MB as an array)
PROBES = (-3.7, -1.3, -0.25, 0.0, 0.4, 1.9, 4.2)  # nets where a formula is checked once


@dataclass(frozen=True, slots=True)
class Chunk:
    """Consecutive epochs run on floats: each one's losses and the network after it."""

    losses: Array  # (epochs,) the mean over its updates' samples of the loss before each update
    accuracy: Array | None  # (epochs,) classification losses: the share of samples right
    parameters: Array  # (epochs, width) the network after each epoch, as `Runner.flat` has it


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
        # the optimizer's state after the parameters: each state over the trained ones, then t
        self.trained = self.size if spec.train_biases else sum(a * b for a, b in shapes)
        self.states = () if plain_sgd(spec) else spec.optimizer.optimizer.state
        self.width = self.size + (len(self.states) * self.trained + 1 if self.states else 0)

    @property
    def longest(self) -> int:
        """The most epochs one chunk may run (its parameter history stays small)."""
        return max(1, HISTORY // self.width)

    def flat(
        self,
        weights: Sequence[Array],
        biases: Sequence[Array | None] | None,
        state: optimizers.State | None,
    ) -> list[float]:
        """The network as the compiled function holds it: weights, biases, the optimizer's
        state and its count t."""
        out = [float(v) for w in weights for v in np.ravel(w)]
        for b in biases or ():
            if b is not None:
                out.extend(float(v) for v in b)
        if self.states:
            state = state if state is not None else optimizers.State()
            for name in self.states:
                out.extend(float(v) for v in np.ravel(state.get(name, self.trained)))
            out.append(float(state.t))
        return out

    def arrays(
        self, flat: Array
    ) -> tuple[list[Array], list[Array | None] | None, optimizers.State | None]:
        """`flat` back as the engine's weight matrices, bias vectors and optimizer state."""
        weights, at = [], 0
        for rows, columns in self.shapes:
            weights.append(flat[at : at + rows * columns].reshape(rows, columns).copy())
            at += rows * columns
        biases: list[Array | None] | None = None
        if self.spec.biases is not None:
            biases = []
            for (rows, _), has in zip(self.shapes, self.biased):
                biases.append(flat[at : at + rows].copy() if has else None)
                at += rows if has else 0
        if not self.states:
            return weights, biases, self.spec.optimizer_state
        values = []
        for name in self.states:
            values.append((name, flat[at : at + self.trained].copy()))
            at += self.trained
        return weights, biases, optimizers.State(int(flat[at]), tuple(values))

    def keeps(self, first: int, orders: Sequence[Sequence[int]]) -> tuple[list[Any], Array]:
        """Dropout's keep-factors m/(1 − rate) for epochs `first`, … (one per order): a tuple
        per sample as the updates read them, and the units each epoch drops (as `train`
        counts them). Drawn as the numpy engine draws them (`dropout.dropout_masks`)."""
        spec = self.spec
        batch = spec.mode == "batch"
        factors: list[Any] = []
        dropped = np.zeros(len(orders))
        for n, order in enumerate(orders):
            sizes = [len(order)] if batch else [1] * len(order)
            drawn = dropout_masks(spec, first + n, sizes)
            dropped[n] = dropped_units(drawn, sizes)
            for rows, masks in zip(sizes, drawn):
                scaled = scaled_masks(spec, masks) or []
                kept = [m for m in scaled if m is not None]
                joined = np.concatenate([np.broadcast_to(m, (rows, m.shape[1])) for m in kept], 1)
                factors.extend(map(tuple, joined.tolist()))
        return factors, dropped

    def run(
        self, flat: list[float], orders: Sequence[Sequence[int]], keeps: Sequence[Any] = ()
    ) -> Chunk:
        """Run one epoch per order from the parameters `flat` (left as after the last);
        `keeps`: dropout's keep-factors, a tuple per sample (`keeps`)."""
        outs, history = bytearray(), bytearray()  # extended by doubles' bytes (`Builder.packed`)
        self.function(flat, self.inputs, self.targets, orders, outs, history, keeps)
        count, outputs = len(orders), self.t.shape[1]
        kept = np.frombuffer(history, dtype=np.float64).reshape(count, -1)
        parameters = kept[:, : self.width]
        if self.unrolled:  # each epoch's entry ends with its samples' (net, o) per output
            recorded = kept[:, self.width :].reshape(-1, outputs, 2)
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
    network, weight decay, AdamW, or a formula that does not give its engine's numbers."""
    if spec.weight_decay or spec.optimizer.optimizer.decoupled:
        return None
    size = sum(w.size for w in spec.weights) + sum(
        b.size for b in spec.biases or () if b is not None
    )
    if size > LIMIT:
        return None
    parts = _formulas(spec)
    if parts is None:
        return None
    namespace: dict[str, Any] = {"__builtins__": {}, "iter": iter}
    tree = Builder(spec, parts, namespace).module()
    code = compile(tree, "<backtrace: the scalar engine>", "exec")
    body = next(c for c in code.co_consts if hasattr(c, "co_code"))
    function = _function(body, namespace)
    return Runner(spec, function)


def _function(code: Any, namespace: dict[str, Any]) -> Callable[..., None]:
    """A function from the compiled body of our tree (never from text)."""
    import types  # only where the scalar engine is built

    return types.FunctionType(code, namespace, "epochs")


# ---------------------------------------------------------------- the formulas used


def _formulas(spec: Spec) -> Formulas | None:
    """The structure each step is computed from, each checked against its engine's numbers."""
    slopes, outputs = [], []
    for activation in spec.functions:
        if not activation.elementwise and activation.scalar_layer is None:
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
    lines = () if plain_sgd(spec) else _optimizer_lines(spec.optimizer)
    if lines is None:
        return None
    return Formulas(tuple(outputs), tuple(slopes), delta, lines)


def _optimizer_lines(settings: optimizers.Settings) -> tuple[formula.Formula, ...] | None:
    """The optimizer's lines as structure, each checked against its `compute` on one set of
    values (hyperparameters, η, t = 3, w, g and every state)."""
    optimizer = settings.optimizer
    names: dict[str, float] = {**dict(settings.values), "eta": 0.3, "t": 3, "w": 0.37}
    names |= {"g": -0.21} | {state: 0.05 + 0.01 * n for n, state in enumerate(optimizer.state)}
    out = []
    for line in optimizer.lines:
        parsed = formula.parse(line.text)
        if parsed is None:
            return None
        by_symbol = {_symbol(optimizer, settings, key): value for key, value in names.items()}
        got = formula.evaluate(parsed, by_symbol)
        names[line.name] = line.compute(names, lambda v: v)
        if got is None or not _close([got], np.array([names[line.name]])):
            return None
        out.append(parsed)
    return tuple(out)


def _symbol(optimizer: optimizers.Optimizer, settings: optimizers.Settings, key: str) -> str:
    """The slot a template writes for a value named `key`: β1 for beta1, m̂ for m_hat."""
    for h in optimizer.hyperparameters:
        if h.key == key:
            return h.symbol
    for line in optimizer.lines:
        if line.name == key:
            return line.symbol
    return {"eta": "η"}.get(key, key)


def _output_delta(
    loss: Loss, activation: Activation, slope: formula.Formula, n: int
) -> formula.Formula | None:
    """δ = −∂E/∂o·∂o/∂net at an output, or the loss's shortcut for this activation."""
    shortcut = loss.shortcut(activation.name)
    if shortcut is not None:
        return formula.parse(fill(shortcut.formula(n), n, t="t", o="o"))
    if not activation.elementwise:  # softmax's whole Jacobian without cross-entropy: numpy's
        return None
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
