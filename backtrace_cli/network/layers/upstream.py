"""What reaches a layer from above in the backward pass: the loss's gradient at the output, or
the layer above's Σ_k w_kj·δ_k with any dropout scales between them. Each turns a layer's
∂o/∂net into its δ = −∂E/∂net (the lecture's sign)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from ...definitions.losses import fill
from ..hand import worked

if TYPE_CHECKING:  # numpy.typing costs start-up time; annotations only
    import numpy.typing as npt

    from ...definitions.activations import Activation
    from ...definitions.losses import Loss

    Array = npt.NDArray[np.float64]
    Carry = Callable[[Array], Array]

NO_PARTS: dict[str, Array] = {}  # nothing carried beside δ (never mutated)


class FromLoss(NamedTuple):
    """At the output layer: the loss's gradient ∂E/∂o, and the error for its shortcuts."""

    loss: Loss
    error: Array  # t − o, carried
    dE_do: Array

    def delta(
        self, activation: Activation, out: Array, slope: Array, carry: Carry
    ) -> tuple[Array, dict[str, Array]]:
        """δ = −∂E/∂o · ∂o/∂net — through softmax's whole Jacobian — or shorter where the
        factors cancel (bce on sigmoid, cross-entropy on softmax); and any carried parts."""
        shortcut = self.loss.shortcut(activation.name)
        if shortcut is None:
            if carry.hand and activation.elementwise:
                # as the trace writes it, ∂o/∂net·factor·(t − o): its factor (2, (2/n)) and
                # e = t − o, not ∂E/∂o's carried value (2e, rounded, is another number)
                factor = fill(self.loss.factor, self.error.shape[1])
                if factor:
                    return slope * worked(carry, factor, True) * self.error, NO_PARTS
                return slope * self.error, NO_PARTS
            return activation.backward(out, slope, -self.dE_do, carry)
        if activation.elementwise:
            return shortcut.delta(self.error), {}
        # the Jacobian's parts too, for a trace that shows the long way (`--gradients`); an o_k
        # that underflowed to 0 makes them ∞·0 there, and the trace refuses to show those
        with np.errstate(invalid="ignore", over="ignore"):
            delta, parts = activation.backward(out, slope, -self.dE_do, carry)
        if carry.jacobian:  # carried, the long way need not come to t − o: its δ is the one shown
            return delta, parts
        return shortcut.delta(self.error), parts

    chained = True  # the chain rule's ∂E/∂o is a row of its own

    def shown_dE_do(self, carry: Carry) -> Array:
        """∂E/∂o as its row has it (carried)."""
        return self.dE_do


class FromAbove(NamedTuple):
    """Below the output: g = −∂E/∂o = Σ_k w_kj·δ_k from the layer above (weights before the
    update), and the elementwise factors ∂õ/∂o of the layers between (dropout's m/(1 − rate))."""

    back: Array
    factors: tuple[Array, ...] = ()
    bracketed: bool = False  # a sum of several terms: (w46·δ6 + w47·δ7), written down in hand mode

    def times(self, factor: Array) -> FromAbove:
        """The same gradient with one more elementwise factor, multiplied in last."""
        return FromAbove(self.back, (*self.factors, factor), self.bracketed)

    @property
    def chained(self) -> bool:
        """Does the trace write ∂E/∂o of the units below as a row of its own (`--gradients`):
        where no dropout's factor stands between."""
        return not self.factors

    def shown_dE_do(self, carry: Carry) -> Array:
        """∂E/∂o = −Σ_k w_kj·δ_k as its row has it (carried)."""
        return -carry(self.back)

    def gradient(self) -> Array:
        """−∂E/∂o as one array: Σ_k w_kj·δ_k times each factor."""
        out = self.back
        for factor in self.factors:
            out = out * factor
        return out

    def delta(
        self, activation: Activation, out: Array, slope: Array, carry: Carry
    ) -> tuple[Array, dict[str, Array]]:
        """δ = ∂o/∂net · Σ_k w_kj·δ_k · m/(1 − rate), multiplied left to right as the trace
        writes it (the order sets the rounding); a dropped unit's δ is 0."""
        delta = slope * (carry.written(self.back) if carry.hand and self.bracketed else self.back)
        for factor in self.factors:
            delta = delta * factor
        return delta, NO_PARTS
