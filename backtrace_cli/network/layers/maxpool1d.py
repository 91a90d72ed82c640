"""torch's `nn.MaxPool1d` in a `model:`: each window of kernel_size positions (stride apart,
kernel_size by default) keeps its largest input, y[c,t] = max_k x[c, t·s + k]; on a tie the
first, as torch. Backward: each window's δ goes to the input it kept, and nowhere else.

Its named slips, on the δ each input receives: the window's δ spread over every input of the
window (`SPREAD`), or shared among them as average pooling's, δ/k each (`AVERAGED`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from ...draws import NEAR_ZERO
from ...worked import Section
from .tensor import TORCH_NAMES, ModelView, row, shared, summed, too_many

if TYPE_CHECKING:
    import numpy.typing as npt

    from ..model_spec import LayerSpec

    Array = npt.NDArray[np.float64]
    Carry = Callable[[Array], Array]

TAKES = (2, "channels × length: one list per channel, e.g. [[1, 2, 3]]")  # its input
ARGUMENTS: tuple[tuple[str, Any], ...] = (
    ("kernel_size", None),
    ("stride", None),
)  # stride: kernel_size


def shape(arguments: dict[str, Any], shape_in: tuple[int, ...]) -> tuple[int, ...] | str:
    if len(shape_in) != 2:
        return f"takes channels × length, and gets a vector of {shape_in[0]}"
    k = arguments["kernel_size"]
    if shape_in[1] < k:
        return f"its window ({k}) is longer than the signal ({shape_in[1]})"
    out = (shape_in[0], (shape_in[1] - k) // arguments["stride"] + 1)
    return too_many(out[0] * out[1], k) or out


def parameter_shapes(arguments: dict[str, Any]) -> dict[str, tuple[int, ...]]:
    return {}


def written(arguments: dict[str, Any]) -> str:
    k, stride = arguments["kernel_size"], arguments["stride"]
    return f"k={k}" + ("" if stride == k else f", stride {stride}")


SPREAD = (
    "the pooled gradient spread over the window (every input of a window given its δ, "
    "not only the one it kept)"
)
AVERAGED = (
    "the pooled gradient averaged over the window (every input of a window given δ/k, "
    "as average pooling's, not the kept one all of it)"
)


def unfair(layer: LayerSpec, x: Array, y: Array) -> str | None:
    """Why an exercise variant should not ask this layer at input `x`: a window whose two
    largest inputs are within `draws.NEAR_ZERO` of each other (which one it keeps, and where
    its δ goes, is then a coin toss at the precision a student writes)."""
    k, stride = int(layer.argument("kernel_size")), int(layer.argument("stride"))
    for c, t in np.ndindex(*y.shape):
        window = np.sort(x[c, t * stride : t * stride + k])
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


class MaxPool1d(NamedTuple):
    spec: LayerSpec
    kind = "maxpool1d"
    NAMES = TORCH_NAMES  # torch's names: no book renames a model's tensors

    @property
    def parameters(self) -> dict[str, Array]:
        return {}

    def window(self, t: int) -> range:
        size, stride = int(self.spec.argument("kernel_size")), int(self.spec.argument("stride"))
        return range(t * stride, t * stride + size)

    def forward(self, x: Array, carry: Carry) -> tuple[Array, tuple[Array, Array]]:
        channels, length = self.spec.shape_out
        kept = np.zeros((channels, length), dtype=np.int64)
        for c, t in np.ndindex(channels, length):
            window = self.window(t)
            kept[c, t] = window[int(np.argmax(x[c, window.start : window.stop]))]  # first on a tie
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

    def slips(self, view: ModelView, p: int, c: int, u: int) -> tuple[tuple[str, list[Any]], ...]:
        """The slips of the δ of input [c,u]: from the δ of every window holding u."""
        d, ds = view.deltas[p], view.delta(p)
        holding = [(ds((c, t)), d[c, t]) for t in range(d.shape[1]) if u in self.window(t)]
        return spread(holding, int(self.spec.argument("kernel_size")))

    @staticmethod
    def kept(view: ModelView, p: int) -> Array:
        layer: MaxPool1d = view.layers[p]
        return layer.forward(view.inputs[p], lambda a: a)[1][1]

    @staticmethod
    def forward_rows(view: ModelView, p: int) -> list[Section]:
        layer: MaxPool1d = view.layers[p]
        x, y = view.inputs[p], view.outputs[p]
        xs, ys = view.name(p - 1), view.name(p)
        kept = MaxPool1d.kept(view, p)
        rows = []
        for c, t in np.ndindex(*y.shape):
            pieces: list[Any] = ["max("]
            for n, u in enumerate(layer.window(t)):
                pieces += ([", "] if n else []) + [(xs((c, u)), x[c, u])]
            rows.append(
                row(ys((c, t)), [*pieces, ")"], y[c, t], note=f"keeps {xs((c, int(kept[c, t])))}")
            )
        k, s = layer.spec.argument("kernel_size"), layer.spec.argument("stride")
        start = "t" if s == 1 else f"{s}t"
        rule = (
            f"each window keeps its largest input, y[c,t] = max(x[c, {start}], …, "
            f"x[c, {start} + {k - 1}])"
            if k > 1
            else "each window keeps its one input, y[c,t] = x[c,t]"
        )
        title = f"Forward · layer {layer.spec.name} (maxpool1d, windows of {k}, stride {s})"
        return [Section("forward", title, rule, tuple(rows))]

    @staticmethod
    def delta_rows(view: ModelView, p: int) -> list[Section]:
        sent = view.sent[p]
        if sent is None:
            return []
        layer: MaxPool1d = view.layers[p]
        x, d = view.inputs[p], view.deltas[p]
        ds, below = view.delta(p), view.delta(p - 1)
        kept = MaxPool1d.kept(view, p)
        rows = []
        for c, u in np.ndindex(*x.shape):
            windows = [t for t in range(kept.shape[1]) if kept[c, t] == u]
            terms = [(ds((c, t)), d[c, t]) for t in windows]
            if windows:
                note = "kept by window " + ", ".join(str(t) for t in windows)
            else:
                note = "not the maximum of any window: gets no gradient"
            rows.append(
                row(
                    below((c, u)),
                    summed(terms),
                    sent[c, u],
                    note,
                    slips=layer.slips(view, p, c, u),
                )
            )
        rule = "each input's δx[c,u] = δ[c,t] where window t kept it, 0 where none kept it"
        return [
            Section("delta", f"δ · into layer {layer.spec.name} (maxpool1d)", rule, tuple(rows))
        ]
