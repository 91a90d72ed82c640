"""The maths of an update: the spec's layers (`layers/`) forward and back, the loss, δ of every
unit and the weight updates, vectorised over units and samples.

Arrays are 2-D with one row per sample. Sign convention (the lecture's): δ_j = −∂E/∂net_j and
w ← w + η·δ_j·o_i. Every carried intermediate passes through `carry` — the identity, or the
rounding a student does by hand (`rounding.py`) — so hand mode is this same path.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from ..definitions import optimizers
from ..definitions.activations import sigmoid  # noqa: F401  (engine.sigmoid: tests and benchmarks)
from ..definitions.losses import Loss, fill
from ..definitions.losses import get as get_loss
from .computed import Layer, Update
from .dropout import dropout_masks, scaled_masks
from .hand import worked
from .layers import Dense, Dropout, FromLoss, build
from .optimize import Optimized, layout, optimize, plain_sgd  # noqa: F401  (engine.layout)
from .order import sample_order
from .spec import Spec

if TYPE_CHECKING:  # numpy.typing costs start-up time; annotations only
    import numpy.typing as npt

    Array = npt.NDArray[np.float64]
    Carry = Callable[[Array], Array]


class _Exact:
    """The identity carry: full float64 precision, nothing written down rounded."""

    hand = chain = jacobian = False  # hand mode's (`rounding.Carrier`): none of it

    def __call__(self, values: Array) -> Array:
        return values

    def written(self, values: Array) -> Array:
        return values


exact = _Exact()


# ---------------------------------------------------------------- functions


def losses(loss: str, error: Array, net: Array, out: Array, t: Array) -> Array:
    """Per-sample loss from the error e = t − o, the output's net input and output, and t."""
    return get_loss(loss).value(error, net, out, t)


# ---------------------------------------------------------------- one update


@dataclass(frozen=True, slots=True, eq=False)
class Epoch:
    """One pass over the samples: the updates, and the network and loss after it."""

    number: int
    updates: tuple[Update, ...]
    loss: float  # mean over samples of each one's loss before its own update
    loss_after: float  # mean loss over all samples of the network after the epoch
    losses_after: Array  # (samples,)
    outputs_after: Array  # (samples, n_out)
    spec_after: Spec  # the network after the epoch
    loss_inference: float | None = None  # dropout: the loss before the epoch, no dropout


def forward(
    spec: Spec,
    weights: Sequence[Array],
    biases: Sequence[Array | None] | None,
    x: Array,
    carry: Carry = exact,
    keeps: Sequence[Array | None] | None = None,
    parts: list[dict[str, Array]] | None = None,
) -> tuple[list[Array], list[Array], list[Array]]:
    """Net inputs and outputs of every non-input layer, for rows of inputs `x`, and what
    each layer received: the layer below's outputs, times `keeps[p]` (the dropout mask
    already scaled by 1/(1 − rate)) where there is one. No `keeps`: inference. `parts`, if
    given, gets each layer's carried intermediates (softmax: numerators, denominator)."""
    stack = build(spec, weights, biases, keeps)
    _, nets, outs, received, carried = _forward(stack, x, carry)
    if parts is not None:
        parts.extend(carried)
    return nets, outs, received


def _forward(stack: Sequence[Dense | Dropout], x: Array, carry: Carry) -> tuple[list, ...]:
    """Every layer's cache, and the dense layers' nets, outputs, inputs and carried parts."""
    caches, nets, outs, received, parts = [], [], [], [], []
    out = x
    for layer in stack:
        out, cache = layer.forward(out, carry)
        caches.append(cache)
        if layer.new_units:  # the records show the numbers of each layer of new units
            inputs, net, _, carried = cache
            received.append(inputs)
            nets.append(net)
            outs.append(out)
            parts.append(carried)
    return caches, nets, outs, received, parts


class Pass(NamedTuple):
    """Everything one forward-and-backward pass computed, per non-input layer."""

    nets: list[Array]
    outs: list[Array]
    error: Array  # t − o, carried
    loss: Array  # (S,) each sample's loss, carried
    dE_do: Array
    slopes: list[Array]  # ∂o/∂net
    backs: list[Array | None]  # hidden layers: Σ_k w_kj·δ_k
    received: list[Array]  # per layer: its inputs after dropout (õ), or the plain outputs
    deltas: list[Array]
    summed: list[Array]  # Σ_s δ_j·o_i, divided by `reduce` (−∂E/∂w as the trace writes it)
    dw: list[Array]
    weights_after: list[Array]
    bias_summed: list[Array | None] | None  # Σ_s δ_j, divided by `reduce`; None: no biases
    db: list[Array | None] | None
    biases_after: list[Array | None] | None
    reduce: int
    parts: list[dict[str, Array]]  # per layer: carried intermediates (softmax), else empty
    optimized: Optimized | None = None


def backprop(
    spec: Spec,
    weights: Sequence[Array],
    biases: Sequence[Array | None] | None,
    x: Array,
    t: Array,
    carry: Carry = exact,
    masks: Sequence[Array | None] | None = None,
    state: optimizers.State | None = None,
) -> Pass:
    """One update for rows of samples `x`, `t`: forward pass, δ of every unit, new weights.

    The one place the maths happens: traced steps (`update`) and untraced training
    (`train`) both call it, so they compute the same numbers the same way. `masks`: the
    dropout keep-masks per position (`dropout_masks`), or None. `state`: the optimizer's
    state before this update (None: all 0, t = 0).
    """
    keeps = scaled_masks(spec, masks)
    stack = build(spec, weights, biases, keeps)
    caches, nets, outs, received, parts = _forward(stack, x, carry)
    error = carry(t - outs[-1])
    definition = get_loss(spec.loss)
    loss = carry(_loss(definition, error, nets[-1], outs[-1], t, carry))
    if carry.hand:  # ∂E/∂o as its row writes it, worked and carried
        template = fill(definition.derivative, t.shape[1])
        dE_do = carry(worked(carry, template, o=outs[-1], t=t))
    else:
        dE_do = definition.gradient(error, outs[-1], t)

    reduce = len(x) if spec.mode == "batch" and spec.batch_gradient == "mean" else 1
    count = len(weights)
    deltas: list[Array] = [error] * count
    backs: list[Array | None] = [None] * count
    slopes: list[Array] = [error] * count
    summed: list[Array] = [error] * count  # Σ_s δ_j·õ_i, divided by `reduce`
    b_summed: list[Array | None] | None = None if biases is None else [None] * count
    shown = list(summed)  # −∂E/∂w as the trace writes it (the chain rule's product, carried)
    b_shown = None if b_summed is None else list(b_summed)
    upstream = FromLoss(definition, error, dE_do)
    k = count
    for index in reversed(range(len(stack))):
        layer = stack[index]
        if not layer.new_units:  # dropout: its scale rides down to the δ below
            upstream = layer.backward(caches[index], upstream, carry)[0]
            continue
        k -= 1
        below, gradients, slopes[k], deltas[k], carried = layer.backward(
            caches[index], upstream, carry, k > 0
        )
        if carried:
            parts[k] = parts[k] | carried
        product = gradients["weight"]
        summed[k] = product / reduce if reduce != 1 else product
        shown[k] = gradients.get("weight chain", summed[k])
        if b_summed is not None and b_shown is not None and "bias" in gradients:
            product = gradients["bias"]
            b_summed[k] = product / reduce if reduce != 1 else product
            b_shown[k] = gradients.get("bias chain", b_summed[k])
        if k == 0:
            break  # the inputs' dropout, if any, has nothing below it
        upstream = below
        backs[k - 1] = below.back  # hidden δ uses the weights before the update

    eta = spec.learning_rate
    dw, w_after = [], []
    plain = plain_sgd(spec)
    # a batch's Δw = −η·∂E/∂w from ∂E/∂w as its row carries it; one sample's, η·δ·o
    batch = carry if len(x) > 1 else exact
    if plain:
        for k in range(count):
            dw.append(carry(eta * batch(summed[k])))
            w_after.append(carry(weights[k] + dw[k]))
    db = b_after = None
    if biases is not None:
        if not spec.train_biases:
            b_after = list(biases)
        elif plain:
            db = [None if g is None else carry(eta * batch(g)) for g in b_summed]
            b_after = [None if b is None else carry(b + change) for b, change in zip(biases, db)]
    optimized = None
    if not plain:
        # g = ∂E/∂θ = −Σ δ·o (the lecture's sign), then the optimizer's own rule
        w_after, b_after, optimized = optimize(spec, weights, biases, shown, b_shown, state, carry)
    return Pass(
        nets,
        outs,
        error,
        loss,
        dE_do,
        slopes,
        backs,
        received,
        deltas,
        shown,
        dw,
        w_after,
        b_shown,
        db,
        b_after,
        reduce,
        parts,
        optimized,
    )


def update(
    spec: Spec,
    samples: tuple[int, ...],
    carry: Carry = exact,
    masks: Sequence[Array | None] | None = None,
) -> Update:
    """Forward pass, δ of every unit and the weight update for the given samples together."""
    x = np.array([spec.samples[i].inputs for i in samples])
    t = np.array([spec.samples[i].targets for i in samples])
    p = backprop(spec, spec.weights, spec.biases, x, t, carry, masks, spec.optimizer_state)
    dw, db = p.dw, p.db
    if p.optimized is not None:  # the optimizer's steps Δ, per layer (training never needs them)
        steps = optimizers.split(p.optimized.values["step"], p.optimized.shapes)
        dw = steps[: len(spec.weights)]
        if spec.biases is not None and spec.train_biases:
            db = steps[len(spec.weights) :]
    layers = []
    for k in range(len(spec.weights)):
        has_bias = spec.biases is not None and spec.biases[k] is not None
        layers.append(
            Layer(
                net=p.nets[k],
                out=p.outs[k],
                do_dnet=carry(p.slopes[k]),  # as the rows show them: carried
                back=None if p.backs[k] is None else carry(p.backs[k]),
                delta=p.deltas[k],
                weights_before=spec.weights[k],
                gradient=carry(-p.summed[k]),
                dw=dw[k],
                weights_after=p.weights_after[k],
                biases_before=spec.biases[k] if has_bias else None,
                bias_gradient=carry(-p.bias_summed[k]) if has_bias else None,
                db=db[k] if db is not None else None,
                biases_after=p.biases_after[k] if has_bias else None,
                parts=p.parts[k],
            )
        )
    shown_masks: tuple[Array | None, ...] = ()
    if masks is not None:
        shown_masks = tuple(
            None if m is None else _readonly(np.broadcast_to(m, (len(x), m.shape[1])))
            for m in masks
        )
    return Update(
        samples,
        x,
        t,
        p.error,
        p.dE_do,
        p.loss,
        tuple(layers),
        p.reduce,
        shown_masks,
        tuple(p.received),
        p.optimized,
        penalty(spec, spec.weights, carry) if spec.weight_decay else 0.0,
    )


def _loss(loss: Loss, error: Array, net: Array, out: Array, t: Array, carry: Carry) -> Array:
    """Each sample's E; in hand mode as its row writes it, ½(e4² + e5²), brackets rounded
    (where that has no value — ln of an o rounded to 0 — as the engine has it)."""
    value = loss.value(error, net, out, t)
    if not carry.hand:
        return value
    names = [(f"e{k}", f"t{k}", f"o{k}") for k in range(error.shape[1])]
    columns = {
        f"{kind}{k}": a[:, k]
        for k in range(error.shape[1])
        for kind, a in (("e", error), ("t", t), ("o", out))
    }
    worked_out = worked(carry, loss.formula(names), **columns)
    return np.where(np.isnan(worked_out), value, worked_out)


def penalty(spec: Spec, weights: Sequence[Array], carry: Carry = exact) -> float:
    """The L2 penalty (λ/2)·Σw² over every weight (never the biases); in hand mode as its row
    writes it, (λ/2)·(w13² + …), each bracket rounded."""
    if carry.hand:
        flat = np.concatenate([w.ravel() for w in weights])
        names = {f"w{n}": value for n, value in enumerate(flat)}
        squares = " + ".join(f"{{{name}}}²" for name in names)
        template = f"({{λ}}/2)·({squares})"
        return float(carry(worked(carry, template, λ=np.array(spec.weight_decay), **names)))
    squares = sum(float((w * w).sum()) for w in weights)
    return float(carry(np.array(spec.weight_decay / 2 * squares)))


def apply(spec: Spec, done: Update) -> Spec:
    """The spec with the update's new weights and biases (and optimizer state)."""
    weights = tuple(_readonly(layer.weights_after) for layer in done.layers)
    biases = None
    if spec.biases is not None:
        biases = tuple(
            None if layer.biases_after is None else _readonly(layer.biases_after)
            for layer in done.layers
        )
    state = spec.optimizer_state if done.optimized is None else done.optimized.after
    return replace(spec, weights=weights, biases=biases, optimizer_state=state)


def inference(spec: Spec, carry: Carry = exact) -> Update:
    """Every sample through the network as it is: no dropout, and nothing to update.

    The backward part of the pass is computed but not shown (`records.build_inference`)."""
    return update(spec, tuple(range(len(spec.samples))), carry, None)


def evaluate(spec: Spec, carry: Carry = exact) -> tuple[Array, Array]:
    """Each sample's loss and outputs under the spec's current network."""
    x = np.array([s.inputs for s in spec.samples])
    t = np.array([s.targets for s in spec.samples])
    nets, outs, _ = forward(spec, spec.weights, spec.biases, x, carry)  # inference: no dropout
    error = carry(t - outs[-1])
    return carry(losses(spec.loss, error, nets[-1], outs[-1], t)), outs[-1]


def updates(
    spec: Spec, number: int = 1, carry: Carry = exact, order: Sequence[int] | None = None
) -> Iterator[tuple[Update, Spec]]:
    """One epoch's updates as they are made — online (one per sample, in `order`) or batch
    (one) — each with the network after it: a caller may stop at the first it refuses."""
    indices = tuple(order) if order is not None else sample_order(spec, number)
    groups = [indices] if spec.mode == "batch" else [(i,) for i in indices]
    all_masks = dropout_masks(spec, number, [len(g) for g in groups])
    current = spec
    for group, masks in zip(groups, all_masks):
        done = update(current, group, carry, masks or None)
        current = apply(current, done)
        yield done, current


def epoch(
    spec: Spec, number: int = 1, carry: Carry = exact, order: Sequence[int] | None = None
) -> Epoch:
    """One epoch: online (an update per sample, in `order`) or batch (one update)."""
    made = list(updates(spec, number, carry, order))
    current = made[-1][1] if made else spec
    losses_after, outputs_after = evaluate(current, carry)
    inference = None
    if spec.dropout is not None:
        inference = mean_loss([evaluate(spec, carry)[0]])
    return Epoch(
        number=number,
        updates=tuple(done for done, _ in made),
        loss=mean_loss([done.loss for done, _ in made]),
        loss_after=mean_loss([losses_after]),
        losses_after=losses_after,
        outputs_after=outputs_after,
        spec_after=current,
        loss_inference=inference,
    )


def mean_loss(parts: Sequence[Array]) -> float:
    """The mean of per-sample losses, taken one way everywhere so that results are identical."""
    losses = parts[0] if len(parts) == 1 else np.concatenate(parts)
    return float(losses.sum() / len(losses))


def _readonly(array: Array) -> Array:
    array = np.array(array, dtype=np.float64)
    array.setflags(write=False)
    return array


# ---------------------------------------------------------------- checking gradients


@dataclass(frozen=True, slots=True)
class GradientCheck:
    """One parameter's gradient from backprop beside the central finite difference."""

    layer: int  # index of the non-input layer
    index: tuple[int, ...]  # (j, i) for a weight, (j,) for a bias
    bias: bool
    backprop: float
    numeric: float
    loss: float  # E at the unperturbed network: rounding in the difference scales with it

    @property
    def difference(self) -> float:
        """|backprop − numeric| relative to the larger of the two."""
        scale = max(abs(self.backprop), abs(self.numeric))
        return abs(self.backprop - self.numeric) / scale if scale else 0.0

    @property
    def tolerance(self) -> float:
        """Relative FD_TOLERANCE, plus what rounding alone costs a central difference: each
        loss is exact to about ε·|E|, divided by 2h, about 1e-10·|E|."""
        scale = max(abs(self.backprop), abs(self.numeric))
        return FD_TOLERANCE * scale + 1e-8 * (1.0 + abs(self.loss))

    @property
    def agrees(self) -> bool:
        return abs(self.backprop - self.numeric) <= self.tolerance


FD_STEP = 1e-6
FD_TOLERANCE = 1e-5


def check_gradients(
    spec: Spec, done: Update, weights: Sequence[Array], biases: Sequence[Array | None] | None
) -> list[GradientCheck]:
    """Every ∂E/∂w and ∂E/∂b of one update, against (E(θ + h) − E(θ − h))/2h, where E is the
    update's loss computed by this engine's forward pass with the update's dropout masks.
    Never a second backward pass."""
    masks = list(done.masks) if done.masks else None
    keeps = scaled_masks(spec, masks)

    def loss(w: Sequence[Array], b: Sequence[Array] | None) -> float:
        nets, outs, _ = forward(spec, w, b, done.inputs, exact, keeps)
        error = done.targets - outs[-1]
        total = losses(spec.loss, error, nets[-1], outs[-1], done.targets).sum()
        return float(total / done.reduce)

    base = loss(weights, biases)
    checks = []
    for k, layer in enumerate(done.layers):
        params = [(False, weights, layer.gradient)]
        if biases is not None and layer.bias_gradient is not None:
            params.append((True, biases, layer.bias_gradient))
        for is_bias, arrays, gradient in params:
            for index in np.ndindex(gradient.shape):
                shifted = []
                for sign in (1.0, -1.0):
                    copies = [None if a is None else np.array(a) for a in arrays]
                    copies[k][index] += sign * FD_STEP
                    w = weights if is_bias else copies
                    b = copies if is_bias else biases
                    shifted.append(loss(w, b))
                numeric = (shifted[0] - shifted[1]) / (2 * FD_STEP)
                checks.append(
                    GradientCheck(k, index, is_bias, float(gradient[index]), numeric, base)
                )
    return checks


def check_epoch(spec: Spec, done: Epoch) -> list[list[GradientCheck]]:
    """`check_gradients` for every update of an epoch, each at the network it started from."""
    current = spec
    out = []
    for update_done in done.updates:
        out.append(check_gradients(current, update_done, current.weights, current.biases))
        current = apply(current, update_done)
    return out
