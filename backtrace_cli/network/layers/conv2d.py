"""torch's `nn.Conv2d` in a `model:`: cross-correlation, as torch computes it,

    y[c,i,j] = Σ_d Σ_m Σ_n w[c,d,m,n]·x[d, i·s_h + m·r_h − p_h, j·s_w + n·r_w − p_w] + b[c]

(s: stride, p: padding, r: dilation, each an int or a pair [h, w]); weight
[out_channels][in_channels/groups][kernel_h][kernel_w]; an input entry outside the image (the
padding) is 0, so its terms are left out of the sums the trace writes. With `groups`, output
channel c reads only its group's input channels, as conv1d's. Backward: each weight's gradient
is a sum over the output positions it was used at, and the δ of an input entry a sum over the
outputs whose receptive field holds it.

Its named slip (`FLIPPED`, conv1d's): the kernel flipped on both axes, as a student who
computes a true convolution reads w[c,d,K_h−1−m,K_w−1−n] for w[c,d,m,n] — in an output's sum,
in the δ an input receives, and in a weight's gradient."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from ...worked import Section
from ..hand import exact
from . import conv1d, grid
from .conv1d import flipped, kernels, mirrored
from .tensor import NET, ModelView, products, row, summed, weight_and_bias

if TYPE_CHECKING:
    import numpy.typing as npt

    from ..model_spec import LayerSpec

    Array = npt.NDArray[np.float64]
    Carry = Callable[[Array], Array]

TAKES = grid.TAKES
PAIRS = grid.PAIRS
ARGUMENTS = conv1d.ARGUMENTS  # torch's Conv1d and Conv2d take the same
QUIET = conv1d.QUIET
READERS = conv1d.READERS  # groups, read after the channels it must divide
FLIPPED = conv1d.FLIPPED  # a true 2-D convolution flips the kernel on both axes


def shape(arguments: dict[str, Any], shape_in: tuple[int, ...]) -> tuple[int, ...] | str:
    channels = arguments["in_channels"]
    if len(shape_in) != 3 or shape_in[0] != channels:
        got = "×".join(map(str, shape_in))
        return (
            f"takes {channels} channel{'s' if channels != 1 else ''} × height × width "
            f"(in_channels), and gets {'a vector of ' + got if len(shape_in) == 1 else got}"
        )
    return grid.conv_shape(arguments, shape_in, grid.written)


def parameter_shapes(arguments: dict[str, Any]) -> dict[str, tuple[int, ...]]:
    return grid.conv_parameter_shapes(arguments, grid.pair(arguments["kernel_size"]))


def written(arguments: dict[str, Any]) -> str:
    """ "1→2 channels, k=2", with the stride, padding, dilation, groups and bias where not
    torch's defaults."""
    return grid.conv_written(arguments, grid.written)


# what a homework question asks of this layer: in the forward pass, going back, in the gradients
# (`model_statement`); "" where nothing more than "every layer" is asked
ASKED = (
    "a convolution: each output position's sum of products",
    "",
    "a convolution's weights summed over the positions they are used at",
)


class Conv2d(NamedTuple):
    spec: LayerSpec
    weight: Array
    bias: Array | None
    kind = "conv2d"
    LETTERS = NET  # its output a weighted input: Nielsen's z^l (tensor.Letters)

    parameters = property(weight_and_bias)

    def field(self, i: int, j: int, shape_in: tuple[int, ...]) -> Iterator[tuple[int, ...]]:
        """Output entry (i, j)'s receptive field: (m, n, u, v), kernel offset and input entry,
        inside the image."""
        return grid.window(i, j, grid.spec_axes(self.spec), shape_in[1], shape_in[2])

    def group(self, c: int) -> range:
        """Output channel c's input channels (every one without groups): w[c,d,m,n] reads
        x[group[d], …]."""
        return grid.group(dict(self.spec.arguments), c)

    def forward(self, x: Array, carry: Carry) -> tuple[Array, Array]:
        y = np.zeros(self.spec.shape_out)
        hand = getattr(carry, "hand", False)  # added up from the row's numbers, as it writes them
        for c, i, j in np.ndindex(*y.shape):
            pairs = [
                (self.weight[c, d, m, n], x[channel, u, v])
                for d, channel in enumerate(self.group(c))
                for m, n, u, v in self.field(i, j, x.shape)
            ]
            bias = () if self.bias is None else (self.bias[c],)
            if hand:
                y[c, i, j] = exact(pairs, bias)
            else:
                y[c, i, j] = sum((w * v for w, v in pairs), 0.0) + (bias[0] if bias else 0.0)
        return carry(y), x

    def backward(
        self, cache: Array, upstream: Array, carry: Carry, below: bool = True
    ) -> tuple[Array | None, dict[str, Array]]:
        """−∂E/∂w[c,d,m,n] = Σ_i Σ_j δ[c,i,j]·x[d, u, v] over the positions it was used at;
        −∂E/∂b[c] = Σ_i Σ_j δ[c,i,j]; the δ of input [d,u,v]: Σ over (c, i, j, m, n) reading
        it of w[c,d,m,n]·δ[c,i,j] (d of c's group: the input channel group[d])."""
        x = cache
        grad = np.zeros_like(self.weight)
        sent = np.zeros_like(x)
        for c, i, j in np.ndindex(*upstream.shape):
            channels = slice(self.group(c).start, self.group(c).stop)
            for m, n, u, v in self.field(i, j, x.shape):
                grad[c, :, m, n] += upstream[c, i, j] * x[channels, u, v]
                sent[channels, u, v] += self.weight[c, :, m, n] * upstream[c, i, j]
        grads = {"weight": grad}  # not carried: the engine carries a sample's or a batch's
        if self.bias is not None:
            grads["bias"] = upstream.sum(axis=(1, 2))
        return (carry(sent) if below else None), grads

    # ------------------------------------------------------------ its rows

    @staticmethod
    def forward_rows(view: ModelView, p: int) -> list[Section]:
        layer: Conv2d = view.layers[p]
        x, y = view.inputs[p], view.outputs[p]
        xs, ys = view.name(p - 1), view.name(p)
        w, b = view.parameter(p, "w"), view.parameter(p, "b")
        own, mirror = kernels(layer.weight, w)
        bias = []
        rows = []
        for c, i, j in np.ndindex(*y.shape):
            field = list(layer.field(i, j, x.shape))
            reads = [
                ((c, d, m, n), (xs((channel, u, v)), x[channel, u, v]))
                for d, channel in enumerate(layer.group(c))
                for m, n, u, v in field
            ]
            if layer.bias is not None:
                bias = [" + ", (b((c,)), layer.bias[c])]
            # as torch reads the kernel, and flipped (the slip)
            right, slip = (
                [*products([(at[k], v) for k, v in reads]), *bias] for at in (own, mirror)
            )
            note = _field_note(layer, c, field)
            rows.append(
                row(ys((c, i, j)), right, y[c, i, j], note, slips=flipped(layer.weight, slip))
            )
        rule = f"each output y[c,i,j] = Σ_d Σ_m Σ_n w[c,d,m,n]·x[d, {_reads(layer)}]"
        return grid.conv_forward(layer, rule, "d", rows)

    GRADIENT_RULE = (
        "each weight w[c,d,m,n]'s gradient −Σ_i Σ_j δ[c,i,j]·x[d, i·s + m − p, j·s + n − p], a "
        "sum over the positions it is used at; each bias b[c]'s −Σ_i Σ_j δ[c,i,j]"
    )

    def gradient_rule(self) -> str:
        """GRADIENT_RULE; with a dilation, the input it reads written with its numbers; with
        groups, the input channel it reads (`grid.grouped`)."""
        rule = self.GRADIENT_RULE
        if any(axis.dilation != 1 for axis in grid.spec_axes(self.spec)):
            rule = rule.replace("i·s + m − p, j·s + n − p", _reads(self))
        return grid.grouped(rule, dict(self.spec.arguments), "d")

    @staticmethod
    def gradient_terms(view: ModelView, p: int) -> list[tuple[Any, ...]]:
        """Each parameter entry's −∂E/∂θ as its row writes it: w[c,d,m,n]: Σ δ[c,i,j]·x[d,u,v]
        over the positions (i, j) it was used at; b[c]: Σ δ[c,i,j]; then the row's named
        slips (the kernel flipped: the positions w[c,d,K_h−1−m,K_w−1−n] is used at)."""
        layer: Conv2d = view.layers[p]
        x, d = view.inputs[p], view.deltas[p]
        xs, ds = view.name(p - 1), view.delta(p)
        used: dict[tuple[int, ...], list[Any]] = {
            index: [] for index in np.ndindex(*layer.weight.shape)
        }
        for c, i, j in np.ndindex(*d.shape):
            for m, n, u, v in layer.field(i, j, x.shape):
                for at, channel in enumerate(layer.group(c)):
                    used[c, at, m, n].append(
                        ((ds((c, i, j)), d[c, i, j]), (xs((channel, u, v)), x[channel, u, v]))
                    )
        out: list[tuple[Any, ...]] = []
        for index, pairs in used.items():
            # flipped: w[c,d,m,n] read where w[c,d,K_h−1−m,K_w−1−n] is used
            slips = flipped(layer.weight, products(used[mirrored(index, layer.weight.shape)]))
            out.append(("weight", index, products(pairs), slips))
        if layer.bias is not None:
            for c in range(d.shape[0]):
                terms = [(ds(index), d[index]) for index in np.ndindex(*d.shape) if index[0] == c]
                out.append(("bias", (c,), summed(terms)))
        return out

    @staticmethod
    def delta_rows(view: ModelView, p: int) -> list[Section]:
        sent = view.sent[p]
        if sent is None:
            return []
        layer: Conv2d = view.layers[p]
        x, d = view.inputs[p], view.deltas[p]
        ds, below = view.delta(p), view.delta(p - 1)
        w = view.parameter(p, "w")
        own, mirror = kernels(layer.weight, w)
        reads: dict[tuple[int, ...], list[Any]] = {index: [] for index in np.ndindex(*x.shape)}
        for c, i, j in np.ndindex(*d.shape):
            for m, n, u, v in layer.field(i, j, x.shape):
                for at, channel in enumerate(layer.group(c)):
                    reads[channel, u, v].append(((c, at, m, n), (ds((c, i, j)), d[c, i, j])))
        rows = [
            row(
                below(index),
                products([(own[k], v) for k, v in terms]),
                sent[index],
                # as a student who flips the kernel reads it (the slip)
                slips=flipped(layer.weight, products([(mirror[k], v) for k, v in terms])),
            )
            for index, terms in reads.items()
        ]
        rule = grid.grouped(
            "each input's δx[d,u,v] = Σ w[c,d,m,n]·δ[c,i,j] over every (c, i, j, m, n) whose "
            "receptive field reads x[d,u,v]",
            dict(layer.spec.arguments),
            "d",
            back=True,
        )
        return [Section("delta", f"δ · into layer {layer.spec.name} (conv2d)", rule, tuple(rows))]


def _reads(layer: Conv2d) -> str:
    """The input entry output (i, j)'s kernel entry (m, n) reads, as its rules write it: "2i
    − 1 + m, j + n", with a dilation "i + 2m, j + 2n"."""
    rows, columns = grid.spec_axes(layer.spec)
    return ", ".join(
        grid.offset(name, axis.stride, axis.padding, offset, axis.dilation)
        for name, offset, axis in (("i", "m", rows), ("j", "n", columns))
    )


def _field_note(layer: Conv2d, c: int, field: list[tuple[int, ...]]) -> str:
    """Which input entries output [c,i,j] reads: its receptive field (its group's channels)."""
    if not field:
        return "receptive field all padding (0): only the bias"
    rows, columns = grid.spec_axes(layer.spec)
    padded = " (the rest is padding, 0)" if len(field) < rows.kernel * columns.kernel else ""
    cells = [(u, v) for *_, u, v in field]
    channels = grid.channel_span(dict(layer.spec.arguments), c)
    text = grid.field_text("x", cells, (rows.dilation, columns.dilation), channels)
    return f"receptive field {text}{padded}"
