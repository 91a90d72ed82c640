"""torch's `nn.MaxPool1d` in a `model:`: each window of kernel_size positions (stride apart,
kernel_size by default) keeps its largest input, y[c,t] = max_k x[c, t·s + k·d − p]; on a tie
the first, as torch. The padding p (at most kernel_size/2, as torch's) is −∞: never kept, so a
window's rows leave it out and say where it was. A dilation d spaces a window's positions d
apart; with ceil_mode the last window may run past the end (torch's ceiling of the windows'
count), what it runs past left out as the padding is. Backward: each window's δ goes to the
input it kept, and nowhere else.

Its named slips, on the δ each input receives: the window's δ spread over every input of the
window (`SPREAD`), or shared among them as average pooling's, δ/k each (`AVERAGED`); on a
padded window's max, the padding taken as 0, as a convolution's is (`ZERO_PADDED`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from ...draws import NEAR_ZERO
from ...worked import Section
from . import grid
from .tensor import POOLED, ModelView, row, shared, summed

if TYPE_CHECKING:
    import numpy.typing as npt

    from ..model_spec import LayerSpec

    Array = npt.NDArray[np.float64]
    Carry = Callable[[Array], Array]

TAKES = (2, "channels × length: one list per channel, e.g. [[1, 2, 3]]")  # its input
ARGUMENTS = grid.MAX_POOL_ARGUMENTS  # stride: kernel_size
limits = grid.pool_limits  # padding at most kernel_size/2
QUIET = grid.POOL_QUIET


def shape(arguments: dict[str, Any], shape_in: tuple[int, ...]) -> tuple[int, ...] | str:
    if len(shape_in) != 2:
        return f"takes channels × length, and gets a vector of {shape_in[0]}"
    return grid.pooled(arguments, shape_in)


parameter_shapes = grid.pool_parameter_shapes
written = grid.pool_written


ZERO_PADDED = (
    "the padding taken as 0 where a max pool's is −∞ (a window's max is over the inputs it holds)"
)
SPREAD = (
    "the pooled gradient spread over the window (every input of a window given its δ, "
    "not only the one it kept)"
)
AVERAGED = (
    "the pooled gradient averaged over the window (every input of a window given δ/k, "
    "as average pooling's, not the kept one all of it)"
)


def _window(layer: LayerSpec, t: int) -> range:
    """Window t's positions inside the signal: the padding, −∞, is never kept."""
    return grid.spec_axes(layer)[0].positions(t, layer.shape_in[1])


def unfair(layer: LayerSpec, x: Array, y: Array) -> str | None:
    """Why an exercise variant should not ask this layer at input `x`: a window whose two
    largest inputs are within `draws.NEAR_ZERO` of each other (which one it keeps, and where
    its δ goes, is then a coin toss at the precision a student writes)."""
    for c, t in np.ndindex(*y.shape):
        window = np.sort(x[c, _window(layer, t)])
        if len(window) > 1 and window[-1] - window[-2] <= NEAR_ZERO + 1e-9:
            return f"a max-pool window whose two largest inputs are within {NEAR_ZERO:g}"
    return None


def spread(holding: list[Any], size: int) -> tuple[tuple[str, list[Any]], ...]:
    """The δ of an input as a student who spreads each window's δ over its inputs writes it,
    from `holding`, the δ of every window that holds it (as operands): their sum (`SPREAD`),
    or each divided by the window's `size` entries (`AVERAGED`); none for an input no window
    holds, or a window of one entry (the slip changes nothing). maxpool2d's as well."""
    if not holding or size == 1:
        return ()
    return ((SPREAD, summed(holding)), (AVERAGED, shared(holding, size)))


PADDED = "; the padding is −∞, never kept: left out of the max"  # a padded pool's rule, 1-D or 2-D


def overhang(layer: LayerSpec) -> str:
    """A max pool's rule's last words where a ceil_mode window runs past the padded input
    (1-D or 2-D); "" where none does."""
    return grid.OVERHANG if grid.overhangs(layer) else ""


Reads = dict[tuple[int, ...], list[tuple[int, ...]]]  # each window [c, …]: its inputs [c, …]


def _kept_by(view: ModelView, p: int) -> dict[tuple[int, ...], tuple[int, ...]]:
    """Each window [c, …] of max pool p: the input [c, …] it kept, as its forward found it."""
    kept = grid.pool_kept(view, p)  # 1-D: a position per window; 2-D: a (row, column)
    windows = np.ndindex(*view.outputs[p].shape)
    return {w: (w[0], *(int(a) for a in np.atleast_1d(kept[w]))) for w in windows}


def forward_section(view: ModelView, p: int, reads: Reads, rule: str) -> list[Section]:
    """A max pool's forward rows, 1-D or 2-D: each window's max over the inputs it `reads`,
    noting the one it keeps."""
    x, y, xs, ys = view.inputs[p], view.outputs[p], view.name(p - 1), view.name(p)
    kept_by = _kept_by(view, p)
    rows = []
    for window, inputs in reads.items():
        pieces: list[Any] = ["max("]
        for n, index in enumerate(inputs):
            pieces += ([", "] if n else []) + [(xs(index), x[index])]
        field = grid.pool_field(view.spec.layers[p], window, "−∞")  # where it is padded
        note = (f"{field}; " if field else "") + f"keeps {xs(kept_by[window])}"
        pieces.append(")")
        tex = ["\\max(", *pieces[1:]]  # KaTeX's operator, upright: not m·a·x in italics
        padded = grid.pool_padded(view.spec.layers[p], window)
        slips = [(ZERO_PADDED, ["max(0, ", *pieces[1:]])] if padded else []
        rows.append(row(ys(window), pieces, y[window], note=note, latex=tex, slips=slips))
    return [Section("forward", grid.pool_title(view.spec.layers[p]), rule, tuple(rows))]


def delta_section(view: ModelView, p: int, reads: Reads, rule: str) -> list[Section]:
    """A max pool's δ rows, 1-D or 2-D: each input's δ, the δ of the windows that kept it, 0
    where none did; its slips from the δ of every window that `reads` it."""
    d, ds, below, sent = view.deltas[p], view.delta(p), view.delta(p - 1), view.sent[p]
    layer, rank = view.spec.layers[p], view.inputs[p].ndim - 1  # 1-D or 2-D
    holding: dict[tuple[int, ...], list[Any]] = {i: [] for i in np.ndindex(*view.inputs[p].shape)}
    keeping: dict[tuple[int, ...], list[tuple[int, ...]]] = {index: [] for index in holding}
    for window, inputs in reads.items():
        for index in inputs:
            holding[index].append((ds(window), d[window]))
    for window, index in _kept_by(view, p).items():
        keeping[index].append(window)
    size = int(np.prod(grid.pair(layer.argument("kernel_size"))[:rank]))  # a window's entries
    rows = []
    for index, windows in keeping.items():
        terms = [(ds(window), d[window]) for window in windows]
        if windows:
            where = [
                str(w[1]) if len(w) == 2 else f"({','.join(map(str, w[1:]))})" for w in windows
            ]
            note = "kept by window " + ", ".join(where)
        elif holding[index]:
            note = "not the maximum of any window: gets no gradient"
        else:  # torch's floor leaves the last positions out when the windows do not tile them
            note = "in no window: gets no gradient"
        slips = spread(holding[index], size)
        rows.append(row(below(index), summed(terms), sent[index], note, slips=slips))
    return [Section("delta", f"δ · into layer {layer.name} ({layer.kind})", rule, tuple(rows))]


# what a homework question asks of this layer: in the forward pass, going back, in the gradients
# (`model_statement`); "" where nothing more than "every layer" is asked
ASKED = (
    "a max-pool: each window's maximum",
    "a max-pool's only to the input each window kept",
    "",
)


class MaxPool1d(NamedTuple):
    spec: LayerSpec
    kind = "maxpool1d"
    LETTERS = POOLED  # its output a layer's own activation: a^l (tensor.Letters)

    @property
    def parameters(self) -> dict[str, Array]:
        return {}

    def window(self, t: int) -> range:
        return _window(self.spec, t)

    def forward(self, x: Array, carry: Carry) -> tuple[Array, tuple[Array, Array]]:
        channels, length = self.spec.shape_out
        kept = np.zeros((channels, length), dtype=np.int64)
        for c, t in np.ndindex(channels, length):
            window = self.window(t)
            kept[c, t] = window[int(np.argmax(x[c, window]))]  # the first on a tie
        y = np.take_along_axis(x, kept, axis=1)
        return y, (x, kept)

    def backward(
        self, cache: tuple[Array, Array], upstream: Array, carry: Carry, below: bool = True
    ) -> tuple[Array | None, dict[str, Array]]:
        x, kept = cache
        sent = np.zeros_like(x)
        for c, t in np.ndindex(*kept.shape):
            sent[c, kept[c, t]] += upstream[c, t]
        return (sent if below else None), {}

    def reads(self) -> Reads:
        """Each window [c,t]: the inputs [c,u] it reads."""
        return {
            (c, t): [(c, u) for u in self.window(t)] for c, t in np.ndindex(*self.spec.shape_out)
        }

    @staticmethod
    def forward_rows(view: ModelView, p: int) -> list[Section]:
        layer: MaxPool1d = view.layers[p]
        axis = grid.spec_axes(layer.spec)[0]
        start, end = axis.ends("t")
        apart = grid.apart(axis.dilation)
        rule = (
            f"each window keeps its largest input, y[c,t] = max(x[c, {start}], …, "
            f"x[c, {end}]){apart}{PADDED if axis.padding else ''}"
            if axis.kernel > 1
            else "each window keeps its one input, y[c,t] = x[c,t]"
        )
        return forward_section(view, p, layer.reads(), rule + overhang(layer.spec))

    @staticmethod
    def delta_rows(view: ModelView, p: int) -> list[Section]:
        if view.sent[p] is None:
            return []
        rule = "each input's δx[c,u] = δ[c,t] where window t kept it, 0 where none kept it"
        return delta_section(view, p, view.layers[p].reads(), rule)
