"""What one update computed, as the engine records it and the rows read it: each non-input
layer's arrays and the update's own (error, loss, dropout masks, optimizer state). Computes
nothing; apart from the engine so that the layers' row builders can read it without importing
the engine that runs them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # numpy.typing costs start-up time; annotations only
    import numpy.typing as npt

    from .optimize import Optimized

    Array = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True, eq=False)
class Layer:
    """What one non-input layer computed in one update. Rows of net/out/delta are samples."""

    net: Array
    out: Array
    do_dnet: Array  # ∂o/∂net
    back: Array | None  # hidden layers: Σ_k w_kj·δ_k (weights before the update)
    delta: Array
    weights_before: Array
    gradient: Array  # ∂E/∂w, summed or averaged over the samples of the update
    dw: Array  # Δw = −η·∂E/∂w, carried
    weights_after: Array
    biases_before: Array | None
    bias_gradient: Array | None  # ∂E/∂b
    db: Array | None  # None when there are no biases or they are not trained
    biases_after: Array | None
    # carried intermediates, rows samples: softmax's "numerator", "denominator", "shift" and,
    # through the Jacobian, "weighted" (Σ_k g_k·o_k); empty for an elementwise activation
    parts: dict[str, Array] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, eq=False)
class Update:
    """One weight update: one sample (online) or all samples at once (batch)."""

    samples: tuple[int, ...]  # indices into spec.samples
    inputs: Array  # (S, n_in)
    targets: Array  # (S, n_out)
    error: Array  # t − o, carried
    dE_do: Array  # ∂E/∂o at the output
    loss: Array  # (S,) each sample's loss before the update, carried
    layers: tuple[Layer, ...]
    reduce: int  # the gradient is the sum over samples divided by this (1 or S)
    # dropout, per position (layer p of `layers`, 0: the inputs; all but the output layer):
    masks: tuple[Array | None, ...] = ()  # (S, n) keep-masks, 1 kept / 0 dropped; None: none
    kept: tuple[Array, ...] = ()  # (S, n) what layer p passes on: õ = m·o/(1 − rate), or o
    optimized: Optimized | None = None  # any optimizer but plain SGD without weight decay
    penalty: float = 0.0  # L2 weight decay: (λ/2)·Σw² over the weights before the update
