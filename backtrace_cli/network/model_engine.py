"""A `model:` of tensor layers computed: each sample's forward pass layer by layer, its loss,
the backward pass (δ = −∂E/∂y, the lecture's sign) and every parameter's gradient, the
optimizer's update (`definitions.optimizers`, torch.optim's formulas), finite differences."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from ..definitions import activations, optimizers
from ..definitions import losses as loss_functions
from .layers import MODEL_KINDS
from .layers.tensor import ModelView
from .model_spec import ModelSpec
from .spec import frozen

if TYPE_CHECKING:
    import numpy.typing as npt

    Array = npt.NDArray[np.float64]
    Carry = Callable[[Array], Array]

FD_STEP = 1e-6  # central differences: error ~h², far below the tolerance
FD_TOLERANCE = 1e-6  # relative, plus 1e-8 absolute


def build(
    spec: ModelSpec,
    parameters: dict[str, Array] | None = None,
    masks: dict[int, Array] | None = None,
) -> tuple[Any, ...]:
    """The spec's layers, each with its parameters (`parameters`: others by name); a dropout
    at position p with its keep-mask `masks[p]` (none: at inference, nothing dropped)."""
    values = dict(spec.parameters) if parameters is None else parameters
    out = []
    for p, layer in enumerate(spec.layers):
        module, cls = MODEL_KINDS[layer.kind]
        if hasattr(cls, "built"):  # a layer whose parameters are not one weight and bias (rnn)
            out.append(cls.built(layer, values))
        elif module.parameter_shapes(dict(layer.arguments)):
            out.append(cls(layer, values[f"{layer.name}.weight"], values.get(f"{layer.name}.bias")))
        elif layer.kind == "dropout":
            out.append(cls(layer, None if masks is None else masks.get(p)))
        elif layer.kind in activations.NAMES:  # the registry's: one generic layer
            out.append(cls(layer, activations.get(layer.kind)))
        else:  # pooling, flatten: no parameters
            out.append(cls(layer))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class Pass:
    """One sample through the model and back: what its rows show (`view`), its loss."""

    view: ModelView
    error: Array  # t − y
    loss: float
    gradients: dict[str, Array]  # ∂E/∂θ by state-dict name (torch's sign)


def _loss(spec: ModelSpec, y: Array, t: Array, before: Array) -> tuple[Array, float, Array]:
    definition = loss_functions.get(spec.loss)
    error = t - y
    rows = (error.reshape(1, -1), before.reshape(1, -1), y.reshape(1, -1), t.reshape(1, -1))
    value = float(definition.value(*rows)[0])
    dE_dy = definition.gradient(rows[0], rows[2], rows[3]).reshape(y.shape)
    return error, value, dE_dy


def run(spec: ModelSpec, layers: tuple[Any, ...], x: Array, t: Array, carry: Carry) -> Pass:
    """Forward and backward for one sample, every value carried (rounded in hand mode)."""
    inputs, outputs, caches = [], [], []
    for layer in layers:
        inputs.append(x)
        x, cache = layer.forward(x, carry)
        outputs.append(x)
        caches.append(cache)
    error, loss, dE_dy = _loss(spec, x, t, inputs[-1])
    delta = carry(-dE_dy)
    deltas: list[Any] = [None] * len(layers)
    sent: list[Any] = [None] * len(layers)
    grads: list[dict[str, Array]] = [{} for _ in layers]
    for p in range(len(layers) - 1, -1, -1):
        deltas[p] = delta
        below, grads[p] = layers[p].backward(caches[p], delta, carry, below=p > 0)
        sent[p] = below
        delta = below
    view = ModelView(
        spec,
        layers,
        tuple(inputs),
        tuple(outputs),
        tuple(deltas),
        tuple(sent),
        tuple(grads),
        caches=tuple(caches),
    )
    gradients = {
        f"{spec.layers[p].name}.{key}": -value
        for p, own in enumerate(grads)
        for key, value in own.items()
    }
    return Pass(view, error, loss, gradients)


def masks(spec: ModelSpec, epoch: int) -> list[dict[int, Array]]:
    """Each sample's dropout keep-masks in epoch `epoch`, by layer position (none: {})."""
    from .layers import tensor_dropout

    out: list[dict[int, Array]] = [{} for _ in spec.samples]
    for p, layer in enumerate(spec.layers):
        if layer.kind == "dropout":
            drawn = tensor_dropout.masks(layer, p, epoch, len(spec.samples))
            for own, mask in zip(out, drawn):
                own[p] = mask
    return out


def loss_of(
    spec: ModelSpec,
    parameters: dict[str, Array],
    x: Array,
    t: Array,
    masks: dict[int, Array] | None = None,
) -> float:
    """E for one sample with these parameters, exactly (finite differences read it), through
    its dropout masks where given."""
    below, out = x, x
    for layer in build(spec, parameters, masks):
        below = out
        out, _ = layer.forward(out, lambda a: a)
    return _loss(spec, out, t, below)[1]


@dataclass(frozen=True, slots=True)
class Moved:
    """One parameter's update: every optimizer line's value (arrays, its shape) by name."""

    name: str
    before: Array
    lines: dict[str, Any]  # optimizers.update's: "g", each state line, "step", "new", "t"


def update(
    spec: ModelSpec, gradients: dict[str, Array], carry: Carry
) -> tuple[ModelSpec, tuple[Moved, ...]]:
    """One update of every parameter with its gradient ∂E/∂θ: the model after it, with the
    optimizer's state and count of updates, and each parameter's lines."""
    settings = spec.optimizer
    t = spec.updates + 1
    after, moved, new_state = [], [], []
    for name, value in spec.parameters:
        own = spec.state(name)
        before = {line: own.get(line, np.zeros_like(value)) for line in settings.optimizer.state}
        is_weight = name.rpartition(".")[2].startswith("weight")  # an rnn's weight_hh_l0 too
        n = optimizers.update(
            settings,
            spec.learning_rate,
            t,
            value,
            gradients[name],
            before,
            l2=spec.weight_decay if is_weight else 0.0,
            decoupled=1.0 if is_weight else 0.0,
            carry=carry,
        )
        for line in settings.optimizer.state:
            n[f"before {line}"] = before[line]
        moved.append(Moved(name, value, n))
        lines = tuple((line, frozen(n[line])) for line in settings.optimizer.state)
        if lines:
            new_state.append((name, lines))
        after.append((name, frozen(n["new"])))
    done = replace(spec, parameters=tuple(after), optimizer_state=tuple(new_state), updates=t)
    return done, tuple(moved)


@dataclass(frozen=True, slots=True)
class Check:
    """--verify: one parameter entry's ∂E/∂θ beside its central finite difference."""

    name: str  # "w0[1,0,2]"
    backprop: float
    numeric: float
    difference: float
    agrees: bool


def combined(spec: ModelSpec, gradients: Sequence[dict[str, Array]]) -> dict[str, Array]:
    """The gradient an update takes: one sample's (online), or the batch's mean or sum."""
    if len(gradients) == 1:
        return gradients[0]
    scale = 1.0 / len(gradients) if spec.batch_gradient == "mean" else 1.0
    return {name: scale * sum(g[name] for g in gradients) for name in gradients[0]}


def batch_loss(
    spec: ModelSpec,
    parameters: dict[str, Array],
    samples: Sequence[Any],
    masks: Sequence[dict[int, Array] | None] | None = None,
) -> float:
    """The loss an update descends: one sample's, or the batch's mean or sum (each sample
    through its own dropout masks, where given)."""
    each = masks if masks is not None else [None] * len(samples)
    losses = [loss_of(spec, parameters, s.inputs, s.targets, m) for s, m in zip(samples, each)]
    return sum(losses) / (len(losses) if spec.batch_gradient == "mean" else 1)


def check(
    spec: ModelSpec,
    gradients: dict[str, Array],
    samples: Sequence[Any],
    symbol: Callable[[str, tuple[int, ...]], str],
    masks: Sequence[dict[int, Array] | None] | None = None,
) -> tuple[Check, ...]:
    """Every parameter entry's gradient against [E(θ + h) − E(θ − h)]/2h, E the loss of the
    update's samples (one, or the batch's mean or sum), through their dropout masks."""
    base = {name: np.array(value) for name, value in spec.parameters}
    out = []
    for name, value in spec.parameters:
        for index in np.ndindex(*value.shape):

            def shifted(h: float, name: str = name, index: tuple[int, ...] = index) -> float:
                moved = dict(base)
                moved[name] = base[name].copy()
                moved[name][index] += h
                return batch_loss(spec, moved, samples, masks)

            numeric = (shifted(FD_STEP) - shifted(-FD_STEP)) / (2 * FD_STEP)
            backprop = float(gradients[name][index])
            difference = abs(numeric - backprop) / max(abs(numeric), abs(backprop), 1e-12)
            agrees = abs(numeric - backprop) <= FD_TOLERANCE * abs(numeric) + 1e-8
            out.append(Check(symbol(name, index), backprop, numeric, difference, agrees))
    return tuple(out)
