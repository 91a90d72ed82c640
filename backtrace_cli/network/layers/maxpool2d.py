"""torch's `nn.MaxPool2d` in a `model:`: each window of kernel_size (an int or a pair [h, w];
stride apart, kernel_size by default) keeps its largest input, y[c,i,j] = max over x[c, i·s_h
+ m·d_h − p_h, j·s_w + n·d_w − p_w]; on a tie the first, row by row, as torch. The padding (at
most half the window, as torch's) is −∞: never kept, so a window's rows leave it out and say
where it was. A dilation d spaces a window's rows and columns d apart; with ceil_mode the last
windows may run past the end, what they run past left out as the padding is (maxpool1d's).
Backward: each window's δ goes to the input it kept, and nowhere else.

Its named slips are maxpool1d's, over a 2-D window: the window's δ spread over every input of
the window (`SPREAD`), or shared among them as average pooling's, δ/(k_h·k_w) each
(`AVERAGED`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from ...draws import NEAR_ZERO
from ...worked import Section
from . import grid, maxpool1d
from .tensor import POOLED, ModelView

if TYPE_CHECKING:
    import numpy.typing as npt

    from ..model_spec import LayerSpec

    Array = npt.NDArray[np.float64]
    Carry = Callable[[Array], Array]

TAKES = grid.TAKES
PAIRS = grid.PAIRS
ARGUMENTS = grid.MAX_POOL_ARGUMENTS
limits = grid.pool_limits  # padding at most kernel_size/2
QUIET = grid.POOL_QUIET
shape = grid.pool_shape
written = grid.pool_written
parameter_shapes = grid.pool_parameter_shapes
SPREAD, AVERAGED = maxpool1d.SPREAD, maxpool1d.AVERAGED  # the same slips, over a 2-D window


def unfair(layer: LayerSpec, x: Array, y: Array) -> str | None:
    """Why an exercise variant should not ask this layer at input `x`: a window whose two
    largest inputs are within `draws.NEAR_ZERO` of each other (which one it keeps, and where
    its δ goes, is then a coin toss at the precision a student writes)."""
    for c, i, j in np.ndindex(*y.shape):
        window = np.sort(x[c][grid.cells(*grid.pool_window(layer, i, j))], axis=None)
        if len(window) > 1 and window[-1] - window[-2] <= NEAR_ZERO + 1e-9:
            return f"a max-pool window whose two largest inputs are within {NEAR_ZERO:g}"
    return None


# what a homework question asks of this layer: in the forward pass, going back, in the gradients
# (`model_statement`); "" where nothing more than "every layer" is asked
ASKED = (
    "a max-pool: each window's maximum",
    "a max-pool's only to the input each window kept",
    "",
)


class MaxPool2d(NamedTuple):
    spec: LayerSpec
    kind = "maxpool2d"
    LETTERS = POOLED  # its output a layer's own activation: a^l (tensor.Letters)

    @property
    def parameters(self) -> dict[str, Array]:
        return {}

    def forward(self, x: Array, carry: Carry) -> tuple[Array, tuple[Array, Array]]:
        """y, and the (row, column) each window kept: kept[c,i,j]."""
        y = np.zeros(self.spec.shape_out)
        kept = np.zeros((*y.shape, 2), dtype=np.int64)
        for c, i, j in np.ndindex(*y.shape):
            rows, columns = grid.pool_window(self.spec, i, j)
            window = x[c][grid.cells(rows, columns)]
            m, n = divmod(int(np.argmax(window)), len(columns))  # row by row: first on a tie
            kept[c, i, j] = (rows[m], columns[n])
            y[c, i, j] = x[c, rows[m], columns[n]]
        return y, (x, kept)

    def backward(
        self, cache: tuple[Array, Array], upstream: Array, carry: Carry, below: bool = True
    ) -> tuple[Array | None, dict[str, Array]]:
        x, kept = cache
        sent = np.zeros_like(x)
        for c, i, j in np.ndindex(*upstream.shape):
            u, v = kept[c, i, j]
            sent[c, u, v] += upstream[c, i, j]
        return (sent if below else None), {}

    def reads(self) -> maxpool1d.Reads:
        """Each window [c,i,j]: the inputs [c,u,v] it reads, row by row."""
        out = {}
        for c, i, j in np.ndindex(*self.spec.shape_out):
            rows, columns = grid.pool_window(self.spec, i, j)
            out[c, i, j] = [(c, u, v) for u in rows for v in columns]
        return out

    @staticmethod
    def forward_rows(view: ModelView, p: int) -> list[Section]:
        layer: MaxPool2d = view.layers[p]
        rows, columns = grid.spec_axes(layer.spec)
        rule = (
            f"each window keeps its largest input, y[c,i,j] = max {grid.pool_slice(layer.spec)}"
            " (a tie keeps the first, row by row, as torch)"
        )
        rule += maxpool1d.PADDED if rows.padding or columns.padding else ""
        rule += maxpool1d.overhang(layer.spec)
        return maxpool1d.forward_section(view, p, layer.reads(), rule)

    @staticmethod
    def delta_rows(view: ModelView, p: int) -> list[Section]:
        if view.sent[p] is None:
            return []
        rule = "each input's δx[c,u,v] = δ[c,i,j] where window (i,j) kept it, 0 where none kept it"
        return maxpool1d.delta_section(view, p, view.layers[p].reads(), rule)
