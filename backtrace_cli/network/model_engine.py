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
from .engine import exact
from .layers.model_kinds import EVALUATED, MODEL_KINDS
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
    inference: bool = False,
) -> tuple[Any, ...]:
    """The spec's layers, each with its parameters (`parameters`: others by name) and its
    buffers (batch norm's running statistics); a dropout at position p with its keep-mask
    `masks[p]`, an rnn with its dropout's between its layers (none: at inference, nothing
    dropped). `inference`: each layer as torch's eval
    mode computes it (`model_kinds.EVALUATED`: batch norm with its running statistics)."""
    values = dict(spec.parameters) if parameters is None else parameters
    out = []
    for p, layer in enumerate(spec.layers):
        module, cls = MODEL_KINDS[layer.kind]
        if hasattr(cls, "built"):  # its own parameters' and buffers' names (rnn, batch norm)
            built = cls.built(layer, values, dict(spec.buffers))
        elif module.parameter_shapes(dict(layer.arguments)):
            built = cls(layer, values[f"{layer.name}.weight"], values.get(f"{layer.name}.bias"))
        elif layer.kind == "dropout":
            built = cls(layer, None if masks is None else masks.get(p))
        elif layer.kind in activations.NAMES:  # the registry's: one generic layer
            built = cls(layer, activations.get(layer.kind))
        else:  # pooling, flatten: no parameters
            built = cls(layer)
        if masks is not None and p in masks and hasattr(built, "dropping"):
            built = built.dropping(masks[p])  # an rnn's dropout between its stacked layers
        out.append(EVALUATED[layer.kind](built) if inference and layer.kind in EVALUATED else built)
    return tuple(out)


def batched(layers: Sequence[Any]) -> bool:
    """A layer works over the whole batch (batch norm in training mode): the samples run
    together."""
    return any(getattr(layer, "BATCH", False) for layer in layers)


@dataclass(frozen=True, slots=True)
class Pass:
    """One sample through the model and back: what its rows show (`view`), its loss."""

    view: ModelView
    error: Array  # t − y
    loss: float
    gradients: dict[str, Array]  # ∂E/∂θ by state-dict name (torch's sign), carried
    # the same before they are carried: sums of products of carried values, as a gradient
    # row writes them; a batch's gradient is carried once from their sum (`combined`)
    terms: dict[str, Array]


def delta_template(loss: loss_functions.Loss, n: int) -> str:
    """δ = −∂E/∂y as its definition writes ∂E/∂o, sign taken in: t − o for ½Σ(t − o)²."""
    derivative = loss.derivative.replace("{n}", str(n))
    if derivative.startswith("−(") and derivative.endswith(")") and derivative.count("(") == 1:
        return derivative[2:-1]
    if derivative.startswith("−"):
        return derivative[1:]
    if loss.factor:
        return loss.factor.replace("{n}", str(n)) + "({t} − {o})"
    return f"−({derivative})"


def _output_delta(spec: ModelSpec, y: Array, t: Array, dE_dy: Array, carry: Carry) -> Array:
    """The output's δ, carried; by hand (`--round`) worked as its row writes it, each bracket
    rounded: (2/1)(t − y) from t − y as written, not 2·(t − y) rounded once."""
    if not getattr(carry, "hand", False):
        return carry(-dE_dy)
    from .hand import worked  # start-up: only --round works a quantity by hand

    template = delta_template(loss_functions.get(spec.loss), y.size)
    by_hand = worked(carry, template, t=t, o=y, e=t - y)
    return carry(np.where(np.isnan(by_hand), -dE_dy, by_hand))


def _loss(spec: ModelSpec, y: Array, t: Array, before: Array) -> tuple[Array, float, Array]:
    definition = loss_functions.get(spec.loss)
    error = t - y
    rows = (error.reshape(1, -1), before.reshape(1, -1), y.reshape(1, -1), t.reshape(1, -1))
    value = float(definition.value(*rows)[0])
    dE_dy = definition.gradient(rows[0], rows[2], rows[3]).reshape(y.shape)
    return error, value, dE_dy


def run(
    spec: ModelSpec, layers: tuple[Any, ...], x: Array, t: Array, carry: Carry, number: int = 1
) -> Pass:
    """Forward and backward for one sample (sample `number`, from 1), every value carried
    (rounded in hand mode)."""
    return run_batch(spec, [layers], [(x, t)], carry, (number,))[0]


def _forward(
    layers: Sequence[tuple[Any, ...]], xs: list[Array], carry: Carry
) -> tuple[list[list[Array]], list[list[Array]], list[Any]]:
    """Every sample through its layers (`layers[s]`: its own dropout masks): each sample's
    inputs and outputs of every layer, and each layer's caches — one a sample, or a batch
    layer's one for the stacked batch (the samples share it: the first's is run)."""
    inputs: list[list[Array]] = [[] for _ in xs]
    outputs: list[list[Array]] = [[] for _ in xs]
    caches: list[Any] = []
    for p, layer in enumerate(layers[0]):
        for s, x in enumerate(xs):
            inputs[s].append(x)
        if getattr(layer, "BATCH", False):
            y, cache = layer.forward(np.stack(xs), carry)
            xs = list(y)
        else:
            done = [own[p].forward(x, carry) for own, x in zip(layers, xs)]
            xs, cache = [y for y, _ in done], [c for _, c in done]
        caches.append(cache)
        for s, y in enumerate(xs):
            outputs[s].append(y)
    return inputs, outputs, caches


def run_batch(
    spec: ModelSpec,
    layers: Sequence[tuple[Any, ...]],
    samples: Sequence[tuple[Array, Array]],
    carry: Carry,
    numbers: Sequence[int] = (),
) -> list[Pass]:
    """Forward and backward for samples (inputs, targets), sample s through `layers[s]` (the
    same layers but for its dropout masks), each layer one sample at a time but a batch layer
    (`BATCH`) on all of them stacked: its δ in are every sample's δ, so below it a sample's δ
    is −∂(ΣE)/∂y, and its gradient terms sum to the batch's. `numbers`: each sample's number
    (from 1) in the config, in the order given (a shuffled epoch's); none: 1, 2, … A layer's
    gradients come back not yet carried: each sample's is carried here, its terms kept for a
    batch's sum (`combined`)."""
    count = len(samples)
    inputs, outputs, caches = _forward(layers, [x for x, _ in samples], carry)
    losses = [_loss(spec, outputs[s][-1], t, inputs[s][-1]) for s, (_, t) in enumerate(samples)]
    delta = [
        _output_delta(spec, outputs[s][-1], t, losses[s][2], carry)
        for s, (_, t) in enumerate(samples)
    ]
    deltas: list[list[Any]] = [[None] * len(layers[0]) for _ in range(count)]
    sent: list[list[Any]] = [[None] * len(layers[0]) for _ in range(count)]
    grads: list[list[dict[str, Array]]] = [[{} for _ in layers[0]] for _ in range(count)]
    records: list[Any] = [None] * len(layers[0])
    for p in range(len(layers[0]) - 1, -1, -1):
        for s in range(count):
            deltas[s][p] = delta[s]
        if getattr(layers[0][p], "BATCH", False):
            below, own, records[p] = layers[0][p].backward(
                caches[p], np.stack(delta), carry, below=p > 0
            )
            for s in range(count):
                grads[s][p] = {key: value[s] for key, value in own.items()}
            delta = [None] * count if below is None else list(below)
        else:
            for s in range(count):
                below, grads[s][p] = layers[s][p].backward(
                    caches[p][s], delta[s], carry, below=p > 0
                )
                delta[s] = below
        for s in range(count):
            sent[s][p] = delta[s]
    out = []
    batch = tuple(records) if any(r is not None for r in records) else ()
    for s in range(count):
        carried = tuple({key: carry(value) for key, value in own.items()} for own in grads[s])
        view = ModelView(
            spec,
            tuple(layers[s]),
            tuple(inputs[s]),
            tuple(outputs[s]),
            tuple(deltas[s]),
            tuple(sent[s]),
            carried,
            caches=tuple(
                c if getattr(layers[0][p], "BATCH", False) else c[s] for p, c in enumerate(caches)
            ),
            sample=s,
            batch=batch,
            numbers=tuple(numbers),
            terms=tuple(grads[s]),
        )

        def named(per_layer: Sequence[dict[str, Array]]) -> dict[str, Array]:
            return {
                f"{spec.layers[p].name}.{key}": -value
                for p, own in enumerate(per_layer)
                for key, value in own.items()
            }

        error, loss, _ = losses[s]
        out.append(Pass(view, error, loss, named(carried), named(grads[s])))
    return out


def tracked(spec: ModelSpec, done: Pass, carry: Carry) -> ModelSpec:
    """The model with its buffers after this training pass over the batch (batch norm's
    running statistics); the same model where no layer keeps any."""
    if not spec.buffers:
        return spec
    new = dict(spec.buffers)
    for p, layer in enumerate(done.view.layers):
        if hasattr(layer, "tracked"):
            moved = layer.tracked(done.view.batch[p].stats, carry)
            for key, value in moved.items():
                array = np.array(value, dtype=new[f"{spec.layers[p].name}.{key}"].dtype)
                array.setflags(write=False)  # a count stays a whole number
                new[f"{spec.layers[p].name}.{key}"] = array
    return replace(spec, buffers=tuple((name, new[name]) for name, _ in spec.buffers))


def losses_of(
    spec: ModelSpec,
    parameters: dict[str, Array],
    samples: Sequence[tuple[Array, Array]],
    masks: Sequence[dict[int, Array] | None] | None = None,
    inference: bool = False,
) -> list[float]:
    """E of each sample with these parameters, exactly (finite differences read it), each
    through its own dropout masks where given, the samples run together where a layer works
    over the batch, one at a time otherwise; `inference`: in torch's eval mode."""
    each = masks if masks is not None else [None] * len(samples)
    built = [build(spec, parameters, m, inference) for m in each]
    if batched(built[0]):
        groups = [(built, list(samples))]
    else:
        groups = [([layers], [sample]) for layers, sample in zip(built, samples)]
    out = []
    for layers, group in groups:
        inputs, outputs, _ = _forward(layers, [x for x, _ in group], lambda a: a)
        for s, (_, t) in enumerate(group):
            out.append(_loss(spec, outputs[s][-1], t, inputs[s][-1])[1])
    return out


def loss_of(
    spec: ModelSpec,
    parameters: dict[str, Array],
    x: Array,
    t: Array,
    masks: dict[int, Array] | None = None,
) -> float:
    """E for one sample with these parameters, exactly, through its dropout masks if given."""
    return losses_of(spec, parameters, [(x, t)], [masks])[0]


def masks(spec: ModelSpec, epoch: int) -> list[dict[int, Array]]:
    """The dropout keep-masks of epoch `epoch`'s samples, in the order the epoch takes them
    (the k-th sample of a shuffled epoch the k-th drawn, as a network's updates), by layer
    position (none: {}) — a dropout layer's, an rnn's between its stacked layers (its kind's
    `masks`); a saved model's epochs continue after its `epochs_done`."""
    out: list[dict[int, Array]] = [{} for _ in spec.samples]
    for p, layer in enumerate(spec.layers):
        drawing = getattr(MODEL_KINDS[layer.kind][0], "masks", None)
        drawn = drawing and drawing(layer, p, spec.epochs_done + epoch, len(spec.samples))
        for own, mask in zip(out, drawn or ()):
            own[p] = mask
    return out


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
    plain = settings.name == "sgd" and not spec.weight_decay  # written as one row
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
        if plain:  # θ − η·∂E/∂θ is one row: η·g stays in the calculator, as the row shows it
            n["new"] = carry(value - spec.learning_rate * n["g"])
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


def combined(
    spec: ModelSpec, terms: Sequence[dict[str, Array]], carry: Carry = exact
) -> dict[str, Array]:
    """The gradient an update takes from the samples' `Pass.terms`, carried as its row writes
    it: one sample's −(Σ …); the batch's sum −((…) + (…)); or its mean −(1/m)·((…) + (…)),
    the bracket of the samples' terms written down (`carry.written`, as a student carrying
    the rounding writes it), then times 1/m — the samples' unrounded products added, as a
    network's batch row adds them, never each sample's gradient rounded first."""
    if len(terms) == 1:
        return {name: carry(value) for name, value in terms[0].items()}
    if spec.batch_gradient == "sum":
        return {name: carry(sum(g[name] for g in terms)) for name in terms[0]}
    scale = carry.written(np.array(1.0 / len(terms)))  # (1/m) is a bracket too: (1/3) 0.333
    return {name: carry(scale * carry.written(sum(g[name] for g in terms))) for name in terms[0]}


def batch_loss(
    spec: ModelSpec,
    parameters: dict[str, Array],
    samples: Sequence[Any],
    masks: Sequence[dict[int, Array] | None] | None = None,
    inference: bool = False,
) -> float:
    """The loss an update descends: one sample's, or the batch's mean or sum (each sample
    through its own dropout masks, where given; `inference`: in eval mode)."""
    pairs = [(s.inputs, s.targets) for s in samples]
    losses = losses_of(spec, parameters, pairs, masks, inference)
    return sum(losses) / (len(losses) if spec.batch_gradient == "mean" else 1)


def check(
    spec: ModelSpec,
    gradients: dict[str, Array],
    samples: Sequence[Any],
    symbol: Callable[[str, tuple[int, ...]], str],
    masks: Sequence[dict[int, Array] | None] | None = None,
    inference: bool = False,
) -> tuple[Check, ...]:
    """Every parameter entry's gradient against [E(θ + h) − E(θ − h)]/2h, E the loss of the
    update's samples (one, or the batch's mean or sum), through their dropout masks; in
    eval mode where `inference` (`run --eval --verify`)."""
    base = {name: np.array(value) for name, value in spec.parameters}
    out = []
    for name, value in spec.parameters:
        for index in np.ndindex(*value.shape):

            def shifted(h: float, name: str = name, index: tuple[int, ...] = index) -> float:
                moved = dict(base)
                moved[name] = base[name].copy()
                moved[name][index] += h
                return batch_loss(spec, moved, samples, masks, inference)

            numeric = (shifted(FD_STEP) - shifted(-FD_STEP)) / (2 * FD_STEP)
            backprop = float(gradients[name][index])
            difference = abs(numeric - backprop) / max(abs(numeric), abs(backprop), 1e-12)
            agrees = abs(numeric - backprop) <= FD_TOLERANCE * abs(numeric) + 1e-8
            out.append(Check(symbol(name, index), backprop, numeric, difference, agrees))
    return tuple(out)
