"""The lecture's layer: net_j = Σ_i w_ji·o_i (+ b_j), o_j = f(net_j); backward δ = −∂E/∂net."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from .upstream import FromAbove

if TYPE_CHECKING:  # numpy.typing costs start-up time; annotations only
    import numpy.typing as npt

    from ...definitions.activations import Activation
    from .upstream import FromLoss

    Array = npt.NDArray[np.float64]
    Carry = Callable[[Array], Array]


class DenseCache(NamedTuple):
    """What a dense layer's forward pass keeps for its backward pass; rows are samples."""

    received: Array  # its inputs õ (after any dropout)
    net: Array
    out: Array
    parts: dict[str, Array]  # carried intermediates of the activation (softmax), else empty


class DenseBackward(NamedTuple):
    """A dense layer's backward pass; rows of slope and delta are samples."""

    below: FromAbove | None  # Σ_k w_kj·δ_k for the layer below; None: not asked for
    gradients: dict[str, Array]  # "weight": Σ_s δ_j·õ_i, "bias": Σ_s δ_j (−∂E/∂θ, unreduced)
    slope: Array  # ∂o/∂net
    delta: Array  # δ = −∂E/∂net, carried
    parts: dict[str, Array]  # carried parts of δ (softmax's "weighted"), else empty


class Dense(NamedTuple):  # a tuple: built for every update, and cheaper than a dataclass
    """Fully connected units with one activation; weights: row = unit, column = unit before."""

    weights: Array
    biases: Array | None
    activation: Activation
    kind = "dense"  # no annotation: a class attribute, not a field

    @property
    def parameters(self) -> dict[str, Array]:
        if self.biases is None:
            return {"weight": self.weights}
        return {"weight": self.weights, "bias": self.biases}

    def forward(self, x: Array, carry: Carry) -> tuple[Array, DenseCache]:
        """o = f(W·õ + b) for rows of inputs `x`, each intermediate carried."""
        net = x @ self.weights.T
        if self.biases is not None:
            net += self.biases  # in place: a fresh array from the product
        net = carry(net)
        out, parts = self.activation.apply(net, carry)
        return out, DenseCache(x, net, out, parts)

    def backward(
        self, cache: DenseCache, upstream: FromAbove | FromLoss, carry: Carry, below: bool = True
    ) -> DenseBackward:
        """δ from ∂o/∂net and what came from above; the gradient sums over the samples; and,
        if `below`, Σ_k w_kj·δ_k for the layer below (these weights, before the update)."""
        slope = self.activation.derivative(cache.net, cache.out)
        delta, parts = upstream.delta(self.activation, cache.out, slope, carry)
        delta = carry(delta)
        gradients = {"weight": delta.T @ cache.received}  # Σ_s δ_j·õ_i
        if self.biases is not None:
            # with one sample Σ_s δ_j is the row itself (a reduction costs more than the sum)
            gradients["bias"] = delta[0] if len(delta) == 1 else delta.sum(axis=0)
        back = FromAbove(delta @ self.weights) if below else None
        return DenseBackward(back, gradients, slope, delta, parts)
