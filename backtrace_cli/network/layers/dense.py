"""The lecture's layer: net_j = Σ_i w_ji·o_i (+ b_j), o_j = f(net_j); backward δ = −∂E/∂net."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from ...definitions import notation
from ...definitions.notations import Names, either
from ..hand import added_up, worked
from . import dense_rows, dense_updates
from .upstream import FromAbove

if TYPE_CHECKING:  # numpy.typing costs start-up time; annotations only
    import numpy.typing as npt

    from ...definitions.activations import Activation
    from ...worked import Section
    from ..config import Spec
    from ..rows import View
    from .upstream import FromLoss

    Array = npt.NDArray[np.float64]
    Carry = Callable[[Array], Array]
    # Plain tuples rather than records: one of each per layer and update, in training's hot loop.
    # What forward keeps for backward (rows: samples): its inputs õ (after any dropout), net,
    # out, and the activation's carried parts (softmax), else empty.
    DenseCache = tuple[Array, Array, Array, dict[str, Array]]
    # What backward gives: Σ_k w_kj·δ_k for the layer below (None: not asked for); the
    # gradients "weight": Σ_s δ_j·õ_i and "bias": Σ_s δ_j (−∂E/∂θ, unreduced), and "weight
    # chain", "bias chain": −∂E/∂θ as `--round --gradients` writes it, carried; ∂o/∂net;
    # δ = −∂E/∂net, carried; and the carried parts of δ (softmax's "weighted"), else empty.
    DenseBackward = tuple[FromAbove | None, dict[str, Array], Array, Array, dict[str, Array]]


# Its quantities in each book: the letters of net_j, o_j, δ_j and softmax's g_j (each book writes
# them in its own style, and its weights and biases its own way: `Book.weight`, `Book.bias`), and
# its rules' names, written for layer l (Nielsen) or m (Hagan): the output layer's are the book's
# letter for the last layer (L, M) unless given. The lecture's are the trace's own.
NAMES = {
    "nielsen": Names(
        units={"net": "z", "o": "a", "δ": "δ", "g": "g"},
        heads={"net": "z", "o": "a"},
        generic={
            **either(
                {
                    ("net", "j"): "z^l_j",
                    ("net", "k"): "z^l_k",
                    ("o", "j"): "a^l_j",
                    ("o", "k"): "a^l_k",
                    ("o", "i"): "a^(l−1)_k",  # the unit below is k in the book
                    ("w", "ij"): "w^l_jk",
                    ("δ", "j"): "δ^l_j",
                    ("b", "j"): "b^l_j",
                    ("g", "j"): "g_j",
                    ("g", "k"): "g_k",
                }
            ),
            ("w", "jk", False): "w^(l+1)_kj",  # the layer above's, in a hidden layer's rule
            ("δ", "k", False): "δ^(l+1)_k",
            ("δ", "k", True): "δ^L_k",
        },
    ),
    "hagan": Names(
        units={"net": "n", "o": "a", "δ": "s", "g": "g"},
        heads={"net": "n", "o": "a", "δ": "s"},
        generic={
            **either(
                {
                    ("net", "j"): "n^m_i",
                    ("net", "k"): "n^m_i",
                    ("o", "j"): "a^m_i",
                    ("o", "k"): "a^m_i",
                    ("o", "i"): "a^(m−1)_j",
                    ("w", "ij"): "w^m_i,j",
                    ("δ", "j"): "s^m_i",
                    ("b", "j"): "b^m_i",
                    ("g", "j"): "g_i",
                    ("g", "k"): "g_k",
                }
            ),
            ("w", "jk", False): "w^(m+1)_k,i",
            ("δ", "k", False): "s^(m+1)_k",
            ("δ", "k", True): "s^M_k",
        },
    ),
    "mazur": Names(units={"net": "net", "o": "out", "δ": "δ", "g": "g"}, heads={"o": "out"}),
}


class Dense(NamedTuple):  # a tuple: built for every update, and cheaper than a dataclass
    """Fully connected units with one activation; weights: row = unit, column = unit before."""

    weights: Array
    biases: Array | None
    activation: Activation
    kind = "dense"  # no annotation: a class attribute, not a field
    new_units = True  # its outputs are new units (net_j, o_j), not the ones below passed on
    NAMES = NAMES  # its quantities in each book

    @property
    def parameters(self) -> dict[str, Array]:
        if self.biases is None:
            return {"weight": self.weights}
        return {"weight": self.weights, "bias": self.biases}

    def forward(self, x: Array, carry: Carry) -> tuple[Array, DenseCache]:
        """o = f(W·õ + b) for rows of inputs `x`, each intermediate carried."""
        if carry.hand:  # each sum added up from the row's numbers, as the student adds it
            net = np.array([added_up(self.weights, row, self.biases) for row in x])
        else:
            net = x @ self.weights.T
            if self.biases is not None:
                net += self.biases  # in place: a fresh array from the product
        net = carry(net)
        out, parts = self.activation.apply(net, carry)
        return out, (x, net, out, parts)

    def backward(
        self, cache: DenseCache, upstream: FromAbove | FromLoss, carry: Carry, below: bool = True
    ) -> DenseBackward:
        """δ from ∂o/∂net and what came from above; the gradient sums over the samples; and,
        if `below`, Σ_k w_kj·δ_k for the layer below (these weights, before the update)."""
        received, net, out, _ = cache
        activation = self.activation
        if carry.hand:  # ∂o/∂net as its template writes it, each bracket rounded: (1 − o²)
            slope = worked(carry, activation.slope, True, o=out, net=net)
        else:
            slope = activation.derivative(net, out)
        delta, parts = upstream.delta(activation, out, slope, carry)
        delta = carry(delta)
        gradients = {"weight": delta.T @ received}  # Σ_s δ_j·õ_i
        if self.biases is not None:
            # with one sample Σ_s δ_j is the row itself (a reduction costs more than the sum)
            gradients["bias"] = delta[0] if len(delta) == 1 else delta.sum(axis=0)
        if carry.chain and activation.elementwise and len(delta) == 1 and upstream.chained:
            # `--round --gradients` writes ∂E/∂w = ∂E/∂o·∂o/∂net·∂net/∂w from those rows'
            # carried values, which need not give −δ·o at the rounding: it is what is used
            factor = upstream.shown_dE_do(carry) * carry(slope)
            gradients["weight chain"] = -carry(factor.T @ received)
            if self.biases is not None:
                gradients["bias chain"] = -carry(factor[0])
        back = FromAbove(delta @ self.weights, bracketed=len(self.weights) > 1) if below else None
        return back, gradients, slope, delta, parts

    # ------------------------------------------------------------ its rows (`dense_rows`)

    @staticmethod
    def forward_rows(view: View, k: int) -> list[Section]:
        """Layer k's net_j = Σ_i w_ij·o_i (+ b_j) and o_j = f(net_j), unit by unit."""
        return [dense_rows.forward_section(view, k)]

    @staticmethod
    def delta_rows(view: View, k: int) -> list[Section]:
        """Layer k's δ_j, from the loss or from what the layer above sends down."""
        return [dense_rows.delta_section(view, k)]

    @staticmethod
    def update_rows(view: View, k: int) -> list[Section]:
        """Layer k's weight updates, then its biases' (`dense_updates`)."""
        return dense_updates.update_sections(view, k)

    SENT_DOWN = dense_rows.SENT_DOWN  # what it sends down, as the δ rule below writes it
    sent_down = staticmethod(dense_rows.sent_down)

    @staticmethod
    def parameter_name(spec: Spec, k: int, parameter: str) -> Callable[[int], str]:
        """The lecture's name of entry n of layer k's `parameter` ("weight", "bias"), its array
        read row by row: w13, w23, w14, … (row: unit of layer k, column: unit below); b3, b4."""
        below, here = spec.numbering.first(k - 1), spec.numbering.first(k)
        if parameter == "bias":
            return lambda n: f"b{here + n}"
        columns = spec.layers[k - 1]
        return lambda n: notation.weight_name(below + n % columns, here + n // columns)

    @staticmethod
    def decayed(spec: Spec, k: int) -> list[tuple[str, float]]:
        """Layer k's weights as L2 weight decay sums them: (name, value), row by row."""
        name = Dense.parameter_name(spec, k, "weight")
        return [(name(n), w) for n, w in enumerate(spec.weights[k - 1].ravel().tolist())]

    @staticmethod
    def unchanged_counts(view: View, k: int, below: int, here: int) -> tuple[int, int, int, int]:
        """(weights unchanged, weights, biases unchanged, biases) of layer k when `below` of
        its inputs pass 0 and `here` of its units get δ = 0 in every sample (dropout): the
        weights into or out of those units, and those units' biases."""
        n_in, n_out = view.spec.layers[k - 1], view.spec.layers[k]
        weights = here * n_in + below * n_out - here * below
        if view.done.layers[k - 1].biases_before is None:
            return weights, n_in * n_out, 0, 0
        return weights, n_in * n_out, here, n_out
