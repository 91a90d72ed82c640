"""torch's `nn.AvgPool2d` in a `model:`: each window of kernel_size (an int or a pair [h, w];
stride apart, kernel_size by default) gives the mean of its inputs, y[c,i,j] = (Σ x[c, i·s_h
+ m − p_h, j·s_w + n − p_w])/n. The padding (at most half the window, as torch's) is 0, left
out of the sums; n is the window's k_h·k_w with torch's count_include_pad (its default), or
the inputs it holds without it. With ceil_mode the last windows may run past the padded
input (torch's ceiling of the windows' count): n is then, with count_include_pad, the window
cut at the padded input's end, as torch divides. torch's `divisor_override` d divides every
window by d instead, whatever it holds (count_include_pad then changes nothing). Backward: each
window's δ is shared equally, δ[c,i,j]/n to each of its inputs, an input in several windows
summing their shares.

Its named slips: the division by the window's size left out (`UNDIVIDED`), in a window's mean
(its sum) and in the δ each input receives (the windows' whole δ); and, where a window holds
padding, the padding counted the other way (`RECOUNTED`): divided by k_h·k_w without
count_include_pad, by the inputs held with it; with a divisor_override, each window divided as
without it (`UNOVERRIDDEN`)."""

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
# torch's order: AvgPool2d(kernel_size, stride, padding, ceil_mode, count_include_pad,
# divisor_override); None: not given, each window divided by its count
ARGUMENTS = (
    *grid.POOL_ARGUMENTS,
    ("ceil_mode", False),
    ("count_include_pad", True),
    ("divisor_override", None),
)
limits = grid.pool_limits  # padding at most kernel_size/2
QUIET = (*grid.POOL_QUIET, ("divisor_override", None))


def _divisor(c: Any, path: tuple[Any, ...], raw: Any, arguments: dict[str, Any]) -> int | None:
    """torch's divisor_override: left out (None), or a whole number ≥ 1 every window's sum
    is divided by."""
    if raw is None:
        return None
    what = "a whole number ≥ 1, every window's sum divided by it (torch's), or leave it out"
    return int(c.integer(path, raw, 1, 10**6, what))


READERS = {"divisor_override": _divisor}  # optional, and not a size
shape = grid.pool_shape
written = grid.pool_written
parameter_shapes = grid.pool_parameter_shapes


def _bracket(totals: Array, carry: Carry) -> Array:
    """Each window's sum as its row writes it, (a + b + …)/n: under `--round`, the bracket
    written down rounded before the division (`rounding.Carrier.written`)."""
    return carry.written(totals) if getattr(carry, "hand", False) else totals  # type: ignore[attr-defined]


Slips = tuple[tuple[str, list[Any]], ...]  # a row's named slips: (name, its pieces)
UNDIVIDED = (
    "average pooling without the division by the window's size (a window's sum for its mean, "
    "each input given the window's whole δ for δ/k)"
)
RECOUNTED = (
    "the padding counted in the mean the other way (divided by the window's k_h·k_w where "
    "count_include_pad is false, or by its inputs alone where it is true)"
)
UNOVERRIDDEN = (
    "divisor_override left out (each window divided by its own count, as without it, not by "
    "the divisor given)"
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
        """The entries of a window: each one's share of its mean and of its δ, with torch's
        count_include_pad (its default)."""
        k = grid.pair(self.spec.argument("kernel_size"))
        return k[0] * k[1]

    @property
    def override(self) -> int | None:
        """torch's divisor_override: every window's divisor, where given."""
        return dict(self.spec.arguments).get("divisor_override")

    def counts(self, recounted: bool = False, overridden: bool = True) -> Array:
        """Each window (i, j)'s divisor: the divisor_override where given, else its entries in
        the padded input (`count`, but for a ceil_mode window that runs past it), or without
        count_include_pad the inputs it holds (the padding left out); `recounted`: the padding
        counted the other way, `overridden` False: divided as without the override (slips)."""
        out = np.zeros(self.spec.shape_out[1:], dtype=np.int64)
        if self.override is not None and overridden:
            return out + self.override  # torch: every window, count_include_pad or not
        included = bool(self.spec.argument("count_include_pad")) != recounted
        axes, (height, width) = grid.spec_axes(self.spec), self.spec.shape_in[1:]
        for i, j in np.ndindex(*out.shape):
            if included:
                out[i, j] = axes[0].padded(i, height) * axes[1].padded(j, width)
            else:
                rows, columns = grid.pool_window(self.spec, i, j)
                out[i, j] = len(rows) * len(columns)
        return out

    def mean(self, groups: dict[int, list[Any]]) -> list[Any]:
        """Terms shared by their windows' divisors, as row pieces: (a + b)/4 + c/6; "0" for
        none."""
        pieces: list[Any] = []
        for n, terms in groups.items():
            pieces += ([" + "] if pieces else []) + shared(terms, n)
        return pieces or ["0"]

    def slips(
        self, groups: dict[int, list[Any]], other: dict[int, list[Any]], plain: dict[int, list[Any]]
    ) -> Slips:
        """A row's named slips: the division left out (none for a divisor of 1, or an input no
        window holds), the padding counted the other way, and a divisor_override left out
        (`plain`: as without it), each where that differs."""
        terms = [term for group in groups.values() for term in group]
        divisor = self.count if self.override is None else self.override
        out = ((UNDIVIDED, summed(terms)),) if terms and divisor > 1 else ()
        out += ((RECOUNTED, self.mean(other)),) if other != groups else ()
        return out + (((UNOVERRIDDEN, self.mean(plain)),) if plain != groups else ())

    def forward(self, x: Array, carry: Carry) -> tuple[Array, tuple[int, ...]]:
        y = np.zeros(self.spec.shape_out)
        for c, i, j in np.ndindex(*y.shape):
            y[c, i, j] = x[c][grid.cells(*grid.pool_window(self.spec, i, j))].sum()
        return carry(_bracket(y, carry) / self.counts()), x.shape

    def backward(
        self, cache: tuple[int, ...], upstream: Array, carry: Carry, below: bool = True
    ) -> tuple[Array | None, dict[str, Array]]:
        if not below:
            return None, {}
        counts = self.counts()
        totals: dict[int, Array] = {}  # each input's windows' δ summed by divisor, then shared
        for c, i, j in np.ndindex(*upstream.shape):
            total = totals.setdefault(int(counts[i, j]), np.zeros(cache))
            total[c][grid.cells(*grid.pool_window(self.spec, i, j))] += upstream[c, i, j]
        shares = [_bracket(total, carry) / n for n, total in totals.items()]
        sent = shares[0]
        for share in shares[1:]:  # as its row adds them: (a + b)/4 + c/6
            sent = sent + share
        return carry(sent), {}

    @staticmethod
    def forward_rows(view: ModelView, p: int) -> list[Section]:
        layer: AvgPool2d = view.layers[p]
        x, y = view.inputs[p], view.outputs[p]
        xs, ys = view.name(p - 1), view.name(p)
        counts, other = layer.counts(), layer.counts(recounted=True)
        plain = layer.counts(overridden=False)
        counted = layer.spec.argument("count_include_pad") or layer.override is not None
        padding = "0" if counted else "0, not counted"
        rows = []
        for c, i, j in np.ndindex(*y.shape):
            window = grid.pool_window(layer.spec, i, j)
            terms = [(xs((c, u, v)), x[c, u, v]) for u in window[0] for v in window[1]]
            groups = {int(counts[i, j]): terms}
            slips = layer.slips(groups, {int(other[i, j]): terms}, {int(plain[i, j]): terms})
            note = grid.pool_field(layer.spec, (c, i, j), padding)
            rows.append(row(ys((c, i, j)), layer.mean(groups), y[c, i, j], note, slips=slips))
        return [Section("forward", grid.pool_title(layer.spec), _rule(layer), tuple(rows))]

    @staticmethod
    def delta_rows(view: ModelView, p: int) -> list[Section]:
        sent = view.sent[p]
        if sent is None:
            return []
        layer: AvgPool2d = view.layers[p]
        x, d = view.inputs[p], view.deltas[p]
        ds, below = view.delta(p), view.delta(p - 1)
        counts, other = layer.counts(), layer.counts(recounted=True)
        plain = layer.counts(overridden=False)
        out = []
        for index, held in grid.pool_holding(layer.spec, d, ds, x.shape).items():
            note = "" if held else "in no window: gets no gradient"
            groups, recounted = _grouped(held, counts), _grouped(held, other)
            slips = layer.slips(groups, recounted, _grouped(held, plain))
            out.append(row(below(index), layer.mean(groups), sent[index], note, slips=slips))
        if layer.override is not None:
            rule = (
                f"each window's δ divided by divisor_override, as its sum was: δx[c,u,v] = "
                f"Σ δ[c,i,j]/{layer.override} over the windows (i,j) holding x[c,u,v]"
            )
        elif (counts == layer.count).all():
            rule = (
                f"each window's δ shared equally among its {layer.count} inputs: δx[c,u,v] = "
                f"Σ δ[c,i,j]/{layer.count} over the windows (i,j) holding x[c,u,v]"
            )
        elif layer.spec.argument("count_include_pad"):  # a ceil_mode window cut at the end
            rule = (
                "each window's δ divided as its mean was: δx[c,u,v] = Σ δ[c,i,j]/n over the "
                "windows (i,j) holding x[c,u,v], n the window's entries in the padded input"
            )
        else:
            rule = (
                "each window's δ shared equally among the n inputs it holds: δx[c,u,v] = "
                "Σ δ[c,i,j]/n over the windows (i,j) holding x[c,u,v]"
            )
        return [Section("delta", f"δ · into layer {layer.spec.name} (avgpool2d)", rule, tuple(out))]


def _grouped(held: list[Any], counts: Array) -> dict[int, list[Any]]:
    """An input's windows' δ terms by their windows' divisors, in the order they come."""
    out: dict[int, list[Any]] = {}
    for (_, i, j), term in held:
        out.setdefault(int(counts[i, j]), []).append(term)
    return out


def _rule(layer: AvgPool2d) -> str:
    """Its forward rule: the mean of each window, what the padding is, and what a last window
    that runs past the end (ceil_mode) is divided by."""
    window, k = grid.pool_slice(layer.spec), layer.count
    over = grid.overhangs(layer.spec)
    padded = grid.pair(layer.spec.argument("padding")) != (0, 0)
    if layer.override is not None:  # torch: every window by it, whatever the window holds
        return (
            f"each window's sum divided by divisor_override, y[c,i,j] = (Σ {window})/"
            f"{layer.override}: every window by {layer.override}, not by the {k} entries it "
            "spans nor the inputs it holds (as torch)"
            + ("; the padding is 0, left out of the sum" if padded else "")
            + (grid.OVERHANG if over else "")
        )
    if not padded:
        if not over:
            return f"each window's mean, y[c,i,j] = (Σ {window})/{k}"
        return (
            f"each window's mean, y[c,i,j] = (Σ {window})/n, n its {k} inputs or, for a last "
            "window that runs past the end (ceil_mode, as torch), those it holds"
        )
    if layer.spec.argument("count_include_pad"):
        rule = (
            f"each window's mean, y[c,i,j] = (Σ {window})/{k}; the padding is 0, "
            f"left out of the sum and counted in the {k} (count_include_pad, as torch)"
        )
        return rule + (
            "; ceil_mode (as torch): a last window that runs past the padded input is cut "
            "there, and divided by the entries it keeps"
            if over
            else ""
        )
    return (
        f"each window's mean over the inputs it holds, y[c,i,j] = (Σ {window})/n, n its "
        "inputs: the padding left out of the sum and not counted (count_include_pad false)"
    ) + (grid.OVERHANG if over else "")
