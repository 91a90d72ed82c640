"""torch's `nn.Conv1d` in a `model:`: cross-correlation, as torch computes it,

    y[c,t] = Σ_i Σ_k w[c,i,k]·x[i, t·s + k·d − p] + b[c]    (s: stride, p: padding, d: dilation)

weight [out_channels][in_channels/groups][kernel_size]; an input position outside the signal
(the padding) is 0, so its terms are left out of the sums the trace writes. With `groups` g
(torch's), the channels split into g groups: output channel c reads only its group's
in_channels/g input channels, x[G·⌊c/O⌋ + i, …] for w[c,i,k] (G, O the input and output
channels a group has). Backward: each weight's gradient is a sum over the output positions it
was used at, and the δ of an input position a sum over the outputs whose receptive field holds
it.

Its named slip (`FLIPPED`): the kernel flipped, as a student who computes a true convolution
reads w[c,i,K−1−k] for w[c,i,k] — in an output's sum, in the δ an input receives, and in a
weight's gradient (the positions w[c,i,K−1−k] is used at)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from ...worked import Section
from ..hand import exact
from . import grid
from .tensor import NET, ModelView, products, row, summed, weight_and_bias

if TYPE_CHECKING:
    import numpy.typing as npt

    from ..model_spec import LayerSpec

    Array = npt.NDArray[np.float64]
    Carry = Callable[[Array], Array]

TAKES = (2, "channels × length: one list per channel, e.g. [[1, 2, 3]]")  # its input
ARGUMENTS: tuple[tuple[str, Any], ...] = (
    ("in_channels", None),
    ("out_channels", None),
    ("kernel_size", None),
    ("stride", 1),
    ("padding", 0),
    ("dilation", 1),
    ("groups", 1),
    ("bias", True),
)  # torch's order: Conv1d(in_channels, out_channels, kernel_size, stride, padding, dilation,
# groups, bias, …)
QUIET = (("dilation", 1), ("groups", 1))  # the JSON trace lists them where not torch's default
READERS = {"groups": grid.read_groups}  # read after the channels it must divide


def shape(arguments: dict[str, Any], shape_in: tuple[int, ...]) -> tuple[int, ...] | str:
    channels = arguments["in_channels"]
    if len(shape_in) != 2 or shape_in[0] != channels:
        got = "×".join(map(str, shape_in))
        return (
            f"takes {channels} channel{'s' if channels != 1 else ''} × length (in_channels), "
            f"and gets {'a vector of ' + got if len(shape_in) == 1 else got}"
        )
    return grid.conv_shape(arguments, shape_in, str)


def parameter_shapes(arguments: dict[str, Any]) -> dict[str, tuple[int, ...]]:
    return grid.conv_parameter_shapes(arguments, (arguments["kernel_size"],))


def written(arguments: dict[str, Any]) -> str:
    """ "1→2 channels, k=2", with the stride, padding, dilation, groups and bias where not
    torch's defaults."""
    return grid.conv_written(arguments, str)


FLIPPED = "the kernel flipped (true convolution instead of torch's cross-correlation)"


def kernels(weight: Array, names: Callable[[tuple[int, ...]], str]) -> tuple[dict, dict]:
    """Each weight's operand by its index ([c,i,k], or conv2d's [c,d,m,n]), named once (a
    layer's rows read each many times): as torch reads it, and with the kernel flipped on each
    of its axes, w[c,i,K−1−k] in w[c,i,k]'s place, as a student who convolves reads it."""
    read = {index: (names(index), weight[index]) for index in np.ndindex(*weight.shape)}
    return read, {index: read[mirrored(index, weight.shape)] for index in read}


def mirrored(index: tuple[int, ...], shape: tuple[int, ...]) -> tuple[int, ...]:
    """A weight's index with the kernel flipped on each of its axes: [c,i,k] → [c,i,K−1−k]."""
    return (*index[:2], *(size - 1 - at for at, size in zip(index[2:], shape[2:])))


def flipped(weight: Array, pieces: list[Any]) -> tuple[tuple[str, list[Any]], ...]:
    """The slip of the kernel flipped, written as `pieces` (none for a kernel of one entry,
    which flips to itself)."""
    return ((FLIPPED, pieces),) if weight[0, 0].size > 1 else ()


# what a homework question asks of this layer: in the forward pass, going back, in the gradients
# (`model_statement`); "" where nothing more than "every layer" is asked
ASKED = (
    "a convolution: each output position's sum of products",
    "",
    "a convolution's weights summed over the positions they are used at",
)


class Conv1d(NamedTuple):
    spec: LayerSpec
    weight: Array
    bias: Array | None
    kind = "conv1d"
    LETTERS = NET  # its output a weighted input: Nielsen's z^l (tensor.Letters)

    parameters = property(weight_and_bias)

    def field(self, t: int, length: int) -> Iterator[tuple[int, int]]:
        """Output position t's receptive field: (k, input position) inside the signal."""
        return grid.spec_axes(self.spec)[0].taps(t, length)

    def group(self, c: int) -> range:
        """Output channel c's input channels (every one without groups): w[c,i,k] reads
        x[group[i], …]."""
        return grid.group(dict(self.spec.arguments), c)

    def forward(self, x: Array, carry: Carry) -> tuple[Array, Array]:
        out_channels, length = self.spec.shape_out
        y = np.zeros((out_channels, length))
        hand = getattr(carry, "hand", False)  # added up from the row's numbers, as it writes them
        for c in range(out_channels):
            channels = self.group(c)
            for t in range(length):
                pairs = [
                    (self.weight[c, i, k], x[channel, u])
                    for i, channel in enumerate(channels)
                    for k, u in self.field(t, x.shape[1])
                ]
                bias = () if self.bias is None else (self.bias[c],)
                if hand:
                    y[c, t] = exact(pairs, bias)
                else:
                    y[c, t] = sum((w * v for w, v in pairs), 0.0) + (bias[0] if bias else 0.0)
        return carry(y), x

    def backward(
        self, cache: Array, upstream: Array, carry: Carry, below: bool = True
    ) -> tuple[Array | None, dict[str, Array]]:
        """−∂E/∂w[c,i,k] = Σ_t δ[c,t]·x[i, t·s + k − p]; −∂E/∂b[c] = Σ_t δ[c,t]; the δ of
        input [i,u]: Σ over (c, t, k) reading it of w[c,i,k]·δ[c,t] (i of c's group: the
        input channel group[i])."""
        x = cache
        grad = np.zeros_like(self.weight)
        sent = np.zeros_like(x)
        for c, t in np.ndindex(*upstream.shape):
            channels = slice(self.group(c).start, self.group(c).stop)
            for k, u in self.field(t, x.shape[1]):
                grad[c, :, k] += upstream[c, t] * x[channels, u]
                sent[channels, u] += self.weight[c, :, k] * upstream[c, t]
        grads = {"weight": grad}  # not carried: the engine carries a sample's or a batch's
        if self.bias is not None:
            grads["bias"] = upstream.sum(axis=1)
        return (carry(sent) if below else None), grads

    # ------------------------------------------------------------ its rows

    @staticmethod
    def forward_rows(view: ModelView, p: int) -> list[Section]:
        layer: Conv1d = view.layers[p]
        x, y = view.inputs[p], view.outputs[p]
        xs, ys = view.name(p - 1), view.name(p)
        w, b = view.parameter(p, "w"), view.parameter(p, "b")
        own, mirror = kernels(layer.weight, w)
        bias = []
        rows = []
        for c, t in np.ndindex(*y.shape):
            reads = [
                ((c, i, k), (xs((channel, u)), x[channel, u]))
                for i, channel in enumerate(layer.group(c))
                for k, u in layer.field(t, x.shape[1])
            ]
            if layer.bias is not None:
                bias = [" + ", (b((c,)), layer.bias[c])]
            right, slip = (
                [*products([(at[k], v) for k, v in reads]), *bias] for at in (own, mirror)
            )
            note = _field_note(layer, c, t, x.shape[1])
            rows.append(row(ys((c, t)), right, y[c, t], note, slips=flipped(layer.weight, slip)))
        return grid.conv_forward(
            layer, f"each output y[c,t] = Σ_i Σ_k w[c,i,k]·x[i, {_reads(layer)}]", "i", rows
        )

    GRADIENT_RULE = (
        "each weight w[c,i,k]'s gradient −Σ_t δ[c,t]·x[i, t·s + k − p], a sum over the "
        "positions it is used at; each bias b[c]'s −Σ_t δ[c,t]"
    )

    def gradient_rule(self) -> str:
        """GRADIENT_RULE; with a dilation, the input it reads written with its numbers; with
        groups, the input channel it reads (`grid.grouped`)."""
        rule = self.GRADIENT_RULE
        if grid.spec_axes(self.spec)[0].dilation != 1:
            rule = rule.replace("t·s + k − p", _reads(self))
        return grid.grouped(rule, dict(self.spec.arguments), "i")

    @staticmethod
    def gradient_terms(view: ModelView, p: int) -> list[tuple[Any, ...]]:
        """Each parameter entry's −∂E/∂θ as its row writes it: w[c,i,k]: Σ_t δ[c,t]·x[i, u]
        over the positions it was used at; b[c]: Σ_t δ[c,t]; then the row's named slips (the
        kernel flipped: the positions w[c,i,K−1−k] is used at)."""
        layer: Conv1d = view.layers[p]
        x, d = view.inputs[p], view.deltas[p]
        xs, ds = view.name(p - 1), view.delta(p)
        out = []
        size = layer.weight.shape[2]
        for c, i, k in np.ndindex(*layer.weight.shape):
            channel = layer.group(c)[i]  # the input channel w[c,i,k] reads
            written = [
                products(
                    [
                        ((ds((c, t)), d[c, t]), (xs((channel, u)), x[channel, u]))
                        for t in range(d.shape[1])
                        for kk, u in layer.field(t, x.shape[1])
                        if kk == own
                    ]
                )
                for own in (k, size - 1 - k)  # flipped: w[c,i,k] read as w[c,i,K−1−k] is
            ]
            out.append(("weight", (c, i, k), written[0], flipped(layer.weight, written[1])))
        if layer.bias is not None:
            for c in range(d.shape[0]):
                out.append(
                    ("bias", (c,), summed([(ds((c, t)), d[c, t]) for t in range(d.shape[1])]))
                )
        return out

    @staticmethod
    def delta_rows(view: ModelView, p: int) -> list[Section]:
        layer: Conv1d = view.layers[p]
        x, d = view.inputs[p], view.deltas[p]
        ds, below = view.delta(p), view.delta(p - 1)
        w = view.parameter(p, "w")
        name = layer.spec.name
        sections = []
        sent = view.sent[p]
        if sent is not None:
            own, mirror = kernels(layer.weight, w)
            reads: dict[tuple[int, int], list[Any]] = {index: [] for index in np.ndindex(*x.shape)}
            for c, t in np.ndindex(*d.shape):
                for k, u in layer.field(t, x.shape[1]):
                    for i, channel in enumerate(layer.group(c)):
                        reads[channel, u].append(((c, i, k), (ds((c, t)), d[c, t])))
            rows = [
                row(
                    below(index),
                    products([(own[k], v) for k, v in terms]),
                    sent[index],
                    slips=flipped(layer.weight, products([(mirror[k], v) for k, v in terms])),
                )
                for index, terms in reads.items()
            ]
            sections.append(
                Section(
                    "delta",
                    f"δ · into layer {name} (conv1d)",
                    grid.grouped(
                        "each input's δx[i,u] = Σ w[c,i,k]·δ[c,t] over every (c, t, k) whose "
                        "receptive field reads x[i,u]",
                        dict(layer.spec.arguments),
                        "i",
                        back=True,
                    ),
                    tuple(rows),
                )
            )
        return sections


def _reads(layer: Conv1d) -> str:
    """The input position output t's kernel entry k reads, as its rules write it: "2t − 1 +
    k", with a dilation "t + 2k"."""
    axis = grid.spec_axes(layer.spec)[0]
    return grid.offset("t", axis.stride, axis.padding, "k", axis.dilation)


def _field_note(layer: Conv1d, c: int, t: int, length: int) -> str:
    """Which input positions output [c,t] reads: its receptive field (its group's channels)."""
    positions = [u for _, u in layer.field(t, length)]
    if not positions:
        return "receptive field all padding (0): only the bias"
    step = grid.spec_axes(layer.spec)[0].dilation
    channels = grid.channel_span(dict(layer.spec.arguments), c)
    field = f"x[{channels}, {grid.span(positions[0], positions[-1], step)}]"
    padded = " (the rest is padding, 0)" if len(positions) < int(layer.weight.shape[2]) else ""
    return f"receptive field {field}{padded}"
