"""A network's optimizer step: every trained parameter updated at once by the spec's optimizer
(`optimizers`), beside the lecture's plain rule that `engine.backprop` writes out itself."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..definitions import optimizers
from .spec import Spec

if TYPE_CHECKING:  # numpy.typing costs start-up time; annotations only
    import numpy.typing as npt

    Array = npt.NDArray[np.float64]
    Carry = Callable[[Array], Array]


@dataclass(frozen=True, slots=True, eq=False)
class Optimized:
    """One optimizer update of every trained parameter, as flat vectors (`layout`'s order)."""

    t: int  # this update's count (1 for the first)
    before: optimizers.State  # the state before the update
    after: optimizers.State  # and after it
    values: dict[str, Array]  # every line's value by name, "w", "g" (after L2) and "new"
    shapes: tuple[tuple[int, ...] | None, ...]  # weights per layer, then trained biases


def layout(spec: Spec) -> tuple[tuple[int, ...] | None, ...]:
    """The shapes of the trained parameters, in the optimizer state's order: each layer's
    weights, then each layer's biases (None where a layer has none or they are fixed)."""
    shapes: list[tuple[int, ...] | None] = [w.shape for w in spec.weights]
    if spec.biases is not None and spec.train_biases:
        shapes += [None if b is None else b.shape for b in spec.biases]
    return tuple(shapes)


def plain_sgd(spec: Spec) -> bool:
    """The lecture's rule, w ← w + η·δ·o, with nothing else to trace."""
    return spec.optimizer.name == "sgd" and not spec.weight_decay


@functools.lru_cache(maxsize=64)
def _weights_only(weights: int, total: int, value: float) -> Array | float:
    """`value` for each weight and 0 for each bias, in layout order (a float: no biases)."""
    if weights == total:
        return value
    out = np.zeros(total)
    out[:weights] = value
    out.setflags(write=False)
    return out


def optimize(
    spec: Spec,
    weights: Sequence[Array],
    biases: Sequence[Array | None] | None,
    summed: Sequence[Array],
    bias_summed: Sequence[Array | None] | None,
    state: optimizers.State | None,
    carry: Carry,
) -> tuple[list[Array], list[Array | None] | None, Optimized]:
    """Every trained parameter updated at once by the spec's optimizer, from g = ∂E/∂θ =
    −Σ δ·o (`summed`: Σ δ·o per layer, then Σ δ per layer for the biases)."""
    trained = biases is not None and spec.train_biases and bias_summed is not None
    params = [*weights, *(biases if trained else ())]
    shapes = tuple(None if p is None else p.shape for p in params)
    w = optimizers.flatten(params)
    g = carry(-optimizers.flatten([*summed, *(bias_summed if trained else ())]))
    n_weights = sum(a.size for a in weights)
    before = state if state is not None else optimizers.State()
    t = before.t + 1
    names = spec.optimizer.optimizer.state
    values = optimizers.update(
        spec.optimizer,
        spec.learning_rate,
        t,
        w,
        g,
        {name: before.get(name, w.size) for name in names},
        l2=_weights_only(n_weights, w.size, spec.weight_decay) if spec.weight_decay else 0.0,
        decoupled=_weights_only(n_weights, w.size, 1.0),
        carry=carry,
    )
    after = optimizers.State(t, tuple((name, values[name]) for name in names))
    new = optimizers.split(values["new"], shapes)
    w_after = new[: len(weights)]
    b_after = new[len(weights) :] if trained else (list(biases) if biases is not None else None)
    return w_after, b_after, Optimized(t, before, after, values, shapes)
