"""torch's `nn.AvgPool2d` in a `model:`: each window of kernel_size (an int or a pair [h, w];
stride apart, kernel_size by default) gives the mean of its inputs, y[c,i,j] = (Σ x[c, i·s_h
+ m, j·s_w + n])/(k_h·k_w). Backward: each window's δ is shared equally among its inputs,
δ[c,i,j]/(k_h·k_w) each, an input in several windows summing their shares.

Its named slip (`UNDIVIDED`): the division by the window's size k_h·k_w left out, in a
window's mean (its sum) and in the δ each input receives (the windows' whole δ)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from ...worked import Section
from . import grid
from .tensor import POOLED, ModelView, row, shared, summed

if TYPE_CHECKING:
    import numpy.typing as npt

    from ..model_spec import LayerSpec

    Array = npt.NDArray[np.float64]
    Carry = Callable[[Array], Array]

TAKES = grid.TAKES
PAIRS = grid.PAIRS
ARGUMENTS = grid.POOL_ARGUMENTS
shape = grid.pool_shape
written = grid.pool_written
parameter_shapes = grid.pool_parameter_shapes


def _bracket(totals: Array, carry: Carry) -> Array:
    """Each window's sum as its row writes it, (a + b + …)/n: under `--round`, the bracket
    written down rounded before the division (`rounding.Carrier.written`)."""
    return carry.written(totals) if getattr(carry, "hand", False) else totals  # type: ignore[attr-defined]


UNDIVIDED = (
    "average pooling without the division by the window's size (a window's sum for its mean, "
    "each input given the window's whole δ for δ/k)"
)


# what a homework question asks of this layer: in the forward pass, going back, in the gradients
# (`model_statement`); "" where nothing more than "every layer" is asked
ASKED = (
    "an average pool: each window's mean",
    "an average pool's shared over its window",
    "",
)


class AvgPool2d(NamedTuple):
    spec: LayerSpec
    kind = "avgpool2d"
    LETTERS = POOLED  # its output a layer's own activation: a^l (tensor.Letters)

    @property
    def parameters(self) -> dict[str, Array]:
        return {}

    @property
    def count(self) -> int:
        """The entries of a window: each one's share of its mean and of its δ."""
        k = grid.pair(self.spec.argument("kernel_size"))
        return k[0] * k[1]

    def undivided(self, terms: list[Any]) -> tuple[tuple[str, list[Any]], ...]:
        """The slip of the division by the window's size left out: the terms' sum alone
        (none for a window of one entry, or an input no window holds)."""
        return ((UNDIVIDED, summed(terms)),) if terms and self.count > 1 else ()

    def forward(self, x: Array, carry: Carry) -> tuple[Array, tuple[int, ...]]:
        y = np.zeros(self.spec.shape_out)
        for c, i, j in np.ndindex(*y.shape):
            rows, columns = grid.pool_window(self.spec, i, j)
            y[c, i, j] = x[c, rows.start : rows.stop, columns.start : columns.stop].sum()
        return carry(_bracket(y, carry) / self.count), x.shape

    def backward(
        self, cache: tuple[int, ...], upstream: Array, carry: Carry, below: bool = True
    ) -> tuple[Array | None, dict[str, Array]]:
        if not below:
            return None, {}
        total = np.zeros(cache)  # each input's windows' δ summed, then shared: as its row
        for c, i, j in np.ndindex(*upstream.shape):
            rows, columns = grid.pool_window(self.spec, i, j)
            total[c, rows.start : rows.stop, columns.start : columns.stop] += upstream[c, i, j]
        return carry(_bracket(total, carry) / self.count), {}

    @staticmethod
    def forward_rows(view: ModelView, p: int) -> list[Section]:
        layer: AvgPool2d = view.layers[p]
        x, y = view.inputs[p], view.outputs[p]
        xs, ys = view.name(p - 1), view.name(p)
        rows = []
        for c, i, j in np.ndindex(*y.shape):
            window = grid.pool_window(layer.spec, i, j)
            terms = [(xs((c, u, v)), x[c, u, v]) for u in window[0] for v in window[1]]
            pieces = shared(terms, layer.count)
            rows.append(row(ys((c, i, j)), pieces, y[c, i, j], slips=layer.undivided(terms)))
        rule = f"each window's mean, y[c,i,j] = (Σ {grid.pool_slice(layer.spec)})/{layer.count}"
        return [Section("forward", grid.pool_title(layer.spec), rule, tuple(rows))]

    @staticmethod
    def delta_rows(view: ModelView, p: int) -> list[Section]:
        sent = view.sent[p]
        if sent is None:
            return []
        layer: AvgPool2d = view.layers[p]
        x, d = view.inputs[p], view.deltas[p]
        ds, below = view.delta(p), view.delta(p - 1)
        out = []
        for index, terms in grid.pool_holding(layer.spec, d, ds, x.shape).items():
            note = "" if terms else "in no window: gets no gradient"
            pieces = shared(terms, layer.count)
            out.append(row(below(index), pieces, sent[index], note, slips=layer.undivided(terms)))
        rule = (
            f"each window's δ shared equally among its {layer.count} inputs: δx[c,u,v] = "
            f"Σ δ[c,i,j]/{layer.count} over the windows (i,j) holding x[c,u,v]"
        )
        return [Section("delta", f"δ · into layer {layer.spec.name} (avgpool2d)", rule, tuple(out))]
