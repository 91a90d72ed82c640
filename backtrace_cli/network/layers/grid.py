"""What the 2-D layers of a `model:` share (conv2d, maxpool2d, avgpool2d): a size, stride,
padding or dilation given as one whole number or a pair [height, width], as torch takes them;
the windows they read (a kernel's receptive field, a pool's window); how their arguments are
written. And what a convolution or a pool does alike in 1-D and 2-D: the window arithmetic of
one axis (`Axis`: its positions, dilated, padded, and how many windows fit, torch's floor or
ceil_mode), a convolution's groups (which input channels each output channel reads), its
parameters' shapes, its arguments in words, a pool's title.

A 2-D layer takes one sample's channels × height × width (no batch dimension); its entries are
indexed as torch's, [c, i, j]: channel c, row i, column j."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from itertools import product
from math import prod
from typing import Any, NamedTuple

from ...worked import Section
from .tensor import too_many

# what the config reader takes as n or [h, w] (an average pool has no dilation, as torch's)
PAIRS = ("kernel_size", "stride", "padding", "dilation")
TAKES = (3, "channels × height × width: one list of rows per channel, e.g. [[[1, 2], [3, 4]]]")

Pair = tuple[int, int]


def pair(value: Any) -> Pair:
    """2 → (2, 2); [1, 2] or (1, 2) → (1, 2)."""
    if isinstance(value, (tuple, list)):
        return (int(value[0]), int(value[1]))
    return (int(value), int(value))


def written(value: Any) -> str:
    """(2, 2) → "2"; (1, 2) → "1×2"."""
    h, w = pair(value)
    return str(h) if h == w else f"{h}×{w}"


class Axis(NamedTuple):
    """A window along one axis, as torch's arguments set it: window `at` reads the input at
    at·stride − padding + m·dilation for each kernel offset m = 0…kernel − 1."""

    kernel: int
    stride: int
    padding: int
    dilation: int = 1

    def first(self, at: int) -> int:
        """Window `at`'s first position (in the left padding where negative)."""
        return at * self.stride - self.padding

    def last(self, at: int) -> int:
        """Window `at`'s last position (in the right padding, or under ceil_mode past it)."""
        return self.first(at) + self.dilation * (self.kernel - 1)

    def positions(self, at: int, length: int) -> range:
        """Window `at`'s positions that lie in the input (0…length − 1), `dilation` apart:
        the padding, and what a ceil_mode window runs past the end, left out."""
        first, step = self.first(at), self.dilation
        start = first + max(0, -(first // step)) * step  # its first position ≥ 0
        return range(start, min(self.last(at), length - 1) + 1, step)

    def taps(self, at: int, length: int) -> Iterator[tuple[int, int]]:
        """Window `at`'s (kernel offset, input position) pairs inside the input."""
        first = self.first(at)
        return (((u - first) // self.dilation, u) for u in self.positions(at, length))

    def size(self, length: int, ceil_mode: bool = False) -> int:
        """The windows along an input of `length`, as torch counts them: ⌊(L + 2p − d(k − 1)
        − 1)/s⌋ + 1, or with ceil_mode ⌈…⌉ + 1 less one where that last window would start in
        the right padding (torch's: it starts inside the input or the left padding)."""
        room = length + 2 * self.padding - self.dilation * (self.kernel - 1) - 1
        out = (room + (self.stride - 1 if ceil_mode else 0)) // self.stride + 1
        if ceil_mode and (out - 1) * self.stride >= length + self.padding:
            out -= 1
        return out

    def padded(self, at: int, length: int) -> int:
        """Window `at`'s entries inside the padded input (torch's count_include_pad divisor on
        this axis): its kernel, less what a ceil_mode window runs past the padding."""
        return min(self.kernel, length + self.padding - self.first(at))

    def ends(self, name: str) -> tuple[str, str]:
        """Window `name`'s first and last positions as a rule writes them: ("2i − 1",
        "2i + 1")."""
        start = name if self.stride == 1 else f"{self.stride}{name}"
        reach = self.dilation * (self.kernel - 1) - self.padding
        return start + (f" − {self.padding}" if self.padding else ""), start + (
            f" + {reach}" if reach > 0 else ""
        )


WINDOW = (("kernel_size", None), ("stride", None), ("padding", 0), ("dilation", 1))


def axes(arguments: Mapping[str, Any]) -> tuple[Axis, ...]:
    """A convolution's or a pool's window on each of its axes (1-D: one; 2-D: height, width)
    from its arguments (an average pool's dilation is 1: torch's has none)."""
    values = [arguments.get(key, default) for key, default in WINDOW]
    if isinstance(values[0], (tuple, list)):
        return tuple(Axis(*column) for column in zip(*map(pair, values)))
    return (Axis(*(int(value) for value in values)),)


def spec_axes(layer_spec: Any) -> tuple[Axis, ...]:
    return axes(dict(layer_spec.arguments))


def sizes(arguments: Mapping[str, Any], lengths: tuple[int, ...]) -> tuple[int, ...]:
    """The windows along each axis of an input of `lengths` (its shape without channels)."""
    ceil_mode = bool(arguments.get("ceil_mode", False))
    return tuple(axis.size(n, ceil_mode) for axis, n in zip(axes(arguments), lengths))


def reach(arguments: Mapping[str, Any], size: Callable[[Any], str]) -> str:
    """A kernel or window as a message names it: "3", with a dilation "3 at dilation 2,
    spanning 5"; `size` writes a size (1-D: the number; 2-D: `written`)."""
    kernel, dilation = arguments["kernel_size"], arguments.get("dilation", 1)
    if size(dilation) == "1":
        return size(kernel)
    spans = tuple(axis.dilation * (axis.kernel - 1) + 1 for axis in axes(arguments))
    spanning = size(spans if len(spans) == 2 else spans[0])
    return f"{size(kernel)} at dilation {size(dilation)}, spanning {spanning}"


def empty_window(arguments: Mapping[str, Any], lengths: tuple[int, ...]) -> str | None:
    """Where a dilated max pool's window reads only padding (its positions step over every
    input), which torch's max makes −∞; None where every window holds an input."""
    names = ("row", "column") if len(lengths) == 2 else ("position",)
    for name, axis, n, out in zip(names, axes(arguments), lengths, sizes(arguments, lengths)):
        for at in range(out):
            if not axis.positions(at, n):
                where = ", ".join(
                    map(minus, range(axis.first(at), axis.last(at) + 1, axis.dilation))
                )
                return (
                    f"has a window that reads {name}s {where} only, all padding (dilation "
                    f"{axis.dilation} steps over the input): torch's max of it is −∞; give less "
                    "padding or dilation"
                )
    return None


def plane(shape_in: tuple[int, ...]) -> str:
    return "×".join(map(str, shape_in[1:]))


def minus(n: int) -> str:
    """A position as a note writes it: −1, with the minus sign."""
    return str(n).replace("-", "−")


def window(
    i: int, j: int, axes: tuple[Axis, ...], height: int, width: int
) -> Iterator[tuple[int, int, int, int]]:
    """Output entry (i, j)'s window, row by row: (m, n) its kernel offset and (u, v) the input
    entry it reads, the entries inside the input only (the padding is 0: left out)."""
    columns = list(axes[1].taps(j, width))
    for m, u in axes[0].taps(i, height):
        for n, v in columns:
            yield m, n, u, v


def conv_parameter_shapes(
    arguments: dict[str, Any], kernel: tuple[int, ...]
) -> dict[str, tuple[int, ...]]:
    """A convolution's weight [out_channels][in_channels/groups][*kernel] and bias
    [out_channels], as torch's."""
    width = arguments["in_channels"] // arguments.get("groups", 1)
    out = {"weight": (arguments["out_channels"], width, *kernel)}
    if arguments["bias"]:
        out["bias"] = (arguments["out_channels"],)
    return out


def conv_written(arguments: dict[str, Any], size: Callable[[Any], str]) -> str:
    """ "1→2 channels, k=2", with the stride, padding, dilation and bias where not torch's
    defaults; `size` writes a size (1-D: the number; 2-D: `written`, 2 or 1×2)."""
    channels = f"{arguments['in_channels']}→{arguments['out_channels']} channels"
    text = f"{channels}, k={size(arguments['kernel_size'])}"
    for key, default in (("stride", 1), ("padding", 0), ("dilation", 1)):
        if size(arguments.get(key, default)) != str(default):
            text += f", {key} {size(arguments[key])}"
    groups = arguments.get("groups", 1)
    text += f", groups {groups}" if groups != 1 else ""
    return text + ("" if arguments["bias"] else ", no bias")


# ---------------------------------------------------------------- a convolution's groups


def group(arguments: Mapping[str, Any], c: int) -> range:
    """Output channel c's input channels, its group's, as torch's `groups` splits them:
    in_channels/groups a group, the output channels' groups out_channels/groups each (every
    input channel without groups)."""
    groups = arguments.get("groups", 1)
    width = arguments["in_channels"] // groups
    first = c // (arguments["out_channels"] // groups) * width
    return range(first, first + width)


def read_groups(c: Any, path: tuple[Any, ...], raw: Any, arguments: dict[str, Any]) -> int:
    """A convolution's `groups`, read after its channels: a whole number ≥ 1 dividing both
    in_channels and out_channels, as torch requires."""
    given, made = arguments["in_channels"], arguments["out_channels"]
    valid = [g for g in range(1, min(given, made) + 1) if given % g == 0 == made % g]
    listed = ", ".join(map(str, valid[:12])) + (", …" if len(valid) > 12 else "")
    what = (
        f"a whole number ≥ 1 dividing in_channels ({given}) and out_channels ({made}), as "
        f"torch's: {listed}"
    )
    groups = c.integer(path, raw, 1, 10**6, what)
    if groups not in valid:
        channels = "in_channels" if given % groups else "out_channels"
        number = arguments[channels]
        raise c.fail(path, f"{groups} does not divide {channels} ({number}); expected {what}")
    return groups


def _channels(first: str, width: int) -> str:
    """A group's channels from `first`, as a rule writes them: "2c…2c + 1"; "c" alone."""
    return first if width == 1 else f"{first}…{first} + {width - 1}"


def _multiple(width: int, of: str) -> str:
    """width·of as a rule writes it: "2c", "2⌊c/3⌋"; "c" for a width of 1."""
    return of if width == 1 else f"{width}{of}"


def grouped(rule: str, arguments: Mapping[str, Any], index: str, back: bool = False) -> str:
    """A convolution's rule (its weight w[c,`index`,…] reading x[`index`, …]) with its groups:
    output channel c reads x[2c + i, …], only its group's input channels, which the rule's last
    words say; a group of one input channel (depthwise) w[c,0,k]·x[c, …] without its Σ_i.
    `back`: the δ rule, whose input channel `index` feeds only its group's output channels
    (w[c, i mod 2, k]). Without groups, the rule as given."""
    groups = arguments.get("groups", 1)
    if groups == 1:
        return rule
    width, per = arguments["in_channels"] // groups, arguments["out_channels"] // groups
    kind = f"groups {groups}"
    if back:
        mine = _multiple(per, index if width == 1 else f"⌊{index}/{width}⌋")
        entry = "0" if width == 1 else f"{index} mod {width}"
        plural = "s" if per > 1 else ""
        rule = re.sub(  # w[c,i,k] → w[c, i mod 2, k]
            rf"w\[c,{index},([^\]]*)\]",
            lambda m: f"w[c, {entry}, {m.group(1).replace(',', ', ')}]",
            rule,
        )
        return f"{rule}; {kind}: input channel {index} feeds only output channel{plural} " + (
            _channels(mine, per)
        )
    first = _multiple(width, "c" if per == 1 else f"⌊c/{per}⌋")
    if width == 1:  # one input channel a group: its only weight index is 0
        rule = rule.replace(f"Σ_{index} ", "").replace(f"w[c,{index},", "w[c,0,")
        rule = rule.replace(f"x[{index}, ", f"x[{first}, ")
    else:
        rule = rule.replace(f"x[{index}, ", f"x[{first} + {index}, ")
    plural = "s" if width > 1 else ""
    return f"{rule}; {kind}: output channel c reads only input channel{plural} " + (
        _channels(first, width)
    )


def channel_span(arguments: Mapping[str, Any], c: int) -> str:
    """Output channel c's input channels as a note's slice writes them: ":" (every one, without
    groups), "2…3", "1"."""
    if arguments.get("groups", 1) == 1:
        return ":"
    channels = group(arguments, c)
    return span(channels[0], channels[-1])


def misfit(
    what: str,
    arguments: Mapping[str, Any],
    shape_in: tuple[int, ...],
    size: Callable[[Any], str],
    padded: bool,
) -> str:
    """Why a kernel or window (`what`) leaves no output: "its kernel (3) is longer than the
    signal (2 with padding 0)"; `padded`: the padding said where it is 0 too (a
    convolution's message)."""
    longer = "longer than the signal" if len(shape_in) == 2 else "larger than the input"
    p = size(arguments["padding"])
    given = f" with padding {p}" if padded or p != "0" else ""
    return f"its {what} ({reach(arguments, size)}) is {longer} ({plane(shape_in)}{given})"


def conv_shape(
    arguments: dict[str, Any], shape_in: tuple[int, ...], size: Callable[[Any], str]
) -> tuple[int, ...] | str:
    """A convolution's output (out_channels, then its positions on each axis), or why its
    kernel does not fit the input; `shape_in` its input, of the rank it takes."""
    out = sizes(arguments, shape_in[1:])
    if min(out) < 1:
        return misfit("kernel", arguments, shape_in, size, True)
    whole = (arguments["out_channels"], *out)
    kernel = prod(axis.kernel for axis in axes(arguments))
    width = shape_in[0] // arguments.get("groups", 1)  # the input channels a group reads
    return too_many(prod(whole), width * kernel) or whole


def conv_forward(layer: Any, formula: str, index: str, rows: list[Any]) -> list[Section]:
    """A convolution's forward section: its rule `formula` (with + b[c] where it has a bias;
    with its groups, `grouped`, its weights' input channel written `index`), said to be
    torch's cross-correlation."""
    rule = formula + (" + b[c]" if layer.bias is not None else "")
    rule = grouped(rule, dict(layer.spec.arguments), index)
    rule += "  (cross-correlation, as torch: the kernel is not flipped)"
    title = f"Forward · layer {layer.spec.name} ({layer.kind})"
    return [Section("forward", title, rule, tuple(rows))]


def pool_parameter_shapes(arguments: dict[str, Any]) -> dict[str, tuple[int, ...]]:
    return {}  # a pool trains nothing


def pool_kept(view: Any, p: int) -> Any:
    """Which input each window of max pool p kept, as its forward found it."""
    return view.layers[p].forward(view.inputs[p], lambda a: a)[1][1]


def _extras(arguments: Mapping[str, Any]) -> str:
    """A pool's dilation, ceil_mode and an average's divisor_override where not torch's
    defaults: ", dilation 2, ceil_mode", ", divisor_override 3"."""
    dilation = written(arguments.get("dilation", 1))
    text = f", dilation {dilation}" if dilation != "1" else ""
    text += ", ceil_mode" if arguments.get("ceil_mode") else ""
    divisor = arguments.get("divisor_override")
    return text + (f", divisor_override {divisor}" if divisor is not None else "")


def pool_title(layer_spec: Any) -> str:
    """A pool's forward title: "Forward · layer 2 (maxpool2d, windows of 2, stride 2)"."""
    k, s, p = (written(layer_spec.argument(key)) for key in PAIRS[:3])
    what = f"{layer_spec.kind}, windows of {k}, stride {s}" + (f", padding {p}" if p != "0" else "")
    return f"Forward · layer {layer_spec.name} ({what}{_extras(dict(layer_spec.arguments))})"


def span(first: int, last: int, step: int = 1) -> str:
    """Positions first…last (step apart, a dilation's): "0…2", "0…4 step 2", "3"."""
    if last <= first:
        return str(first)
    return f"{first}…{last}" + (f" step {step}" if step > 1 else "")


def field_text(
    name: str, cells: list[tuple[int, int]], steps: tuple[int, int] = (1, 1), channels: str = ":"
) -> str:
    """The input entries a window reads, as a slice: x[:, 0…1, 1…2] (x[:, 0…2 step 2, 1]
    with a dilation of 2; x[2…3, 0…1, 1…2] where a convolution's group reads channels 2…3)."""
    rows, columns = [u for u, _ in cells], [v for _, v in cells]
    return (
        f"{name}[{channels}, {span(min(rows), max(rows), steps[0])}, "
        f"{span(min(columns), max(columns), steps[1])}]"
    )


def offset(axis: str, stride: int, padding: int, kernel: str, dilation: int = 1) -> str:
    """Where an output row or column reads, as the rules write it: "i + m", "2i − 1 + m", with
    a dilation of 2 "i + 2m"."""
    text = axis if stride == 1 else f"{stride}{axis}"
    step = "" if dilation == 1 else str(dilation)
    return text + (f" − {padding}" if padding else "") + f" + {step}{kernel}"


# ---------------------------------------------------------------- pooling (max and average)

POOL_ARGUMENTS: tuple[tuple[str, Any], ...] = (
    ("kernel_size", None),
    ("stride", None),
    ("padding", 0),
)  # stride: kernel_size, as torch's stride=None
# a max pool's, in torch's order: MaxPool1d(kernel_size, stride, padding, dilation, …, ceil_mode)
MAX_POOL_ARGUMENTS = (*POOL_ARGUMENTS, ("dilation", 1), ("ceil_mode", False))


# a pool's arguments the JSON trace lists only where not torch's default (`render/model_json`)
POOL_QUIET = (("padding", 0), ("count_include_pad", True), ("dilation", 1), ("ceil_mode", False))


def pool_limits(arguments: dict[str, Any]) -> tuple[str, int | None, str] | None:
    """torch's bound on a pool's padding, at most half its window on each axis (so every
    window holds an input): the argument, its axis (0 height, 1 width; None for one number
    for both, or a 1-D pool's) and what is wrong; None if within it."""
    given, kernel = arguments["padding"], arguments["kernel_size"]
    pads, kernels = (given, pair(kernel)) if isinstance(given, tuple) else ((given,), (kernel,))
    both = len(set(pads)) == 1 and len(set(kernels)) == 1  # one number for both axes
    for axis, (p, k) in enumerate(zip(pads, kernels)):
        if 2 * p > k:
            of = "kernel_size" if both else ("kernel's height", "kernel's width")[axis]
            problem = (
                f"{p} is out of range; expected a whole number 0…{k // 2}: a pool's padding is "
                f"at most half its {of} ({k}), as torch's"
            )
            return "padding", (None if both else axis), problem
    return None


def pool_shape(arguments: dict[str, Any], shape_in: tuple[int, ...]) -> tuple[int, ...] | str:
    """A 2-D pool's output, or what is wrong (`pooled`)."""
    if len(shape_in) != 3:
        got = "×".join(map(str, shape_in))
        return f"takes channels × height × width, and gets {got}"
    return pooled(arguments, shape_in)


def pooled(arguments: dict[str, Any], shape_in: tuple[int, ...]) -> tuple[int, ...] | str:
    """A pool's output (its channels, then its windows on each axis), or why its windows do
    not fit; `shape_in` its input, of the rank it takes (1-D: channels × length)."""
    size = written if len(shape_in) == 3 else str
    out = sizes(arguments, shape_in[1:])
    if min(out) < 1:
        return misfit("window", arguments, shape_in, size, False)
    empty = empty_window(arguments, shape_in[1:])
    if empty is not None:
        return empty
    window = prod(axis.kernel for axis in axes(arguments))
    return too_many(shape_in[0] * prod(out), window) or (shape_in[0], *out)


def pool_written(arguments: dict[str, Any]) -> str:
    """ "k=2", with the stride, padding, dilation and ceil_mode where not torch's defaults (an
    average pool's padding "not counted" without count_include_pad); 1-D or 2-D."""
    k, s, p = (pair(arguments[key]) for key in PAIRS[:3])
    text = f"k={written(k)}" + ("" if s == k else f", stride {written(s)}")
    counted = arguments.get("count_include_pad", True)  # an average pool's
    text += f", padding {written(p)}{'' if counted else ' not counted'}" if any(p) else ""
    return text + _extras(arguments)


# a rule's last words where a ceil_mode window runs past the padded input
OVERHANG = "; ceil_mode (as torch): a last window runs past the end, left out there"


def overhangs(layer_spec: Any) -> bool:
    """Whether a pool's last window (ceil_mode's) runs past the padded input on some axis."""
    return any(
        axis.last(out - 1) >= n + axis.padding
        for axis, n, out in zip(
            spec_axes(layer_spec), layer_spec.shape_in[1:], layer_spec.shape_out[1:]
        )
    )


def apart(dilation: int) -> str:
    """A dilated max pool's rule's words on its window: ", its positions 2 apart (dilation
    2)"; "" without a dilation."""
    return f", its positions {dilation} apart (dilation {dilation})" if dilation > 1 else ""


def pool_window(layer_spec: Any, i: int, j: int) -> tuple[range, range]:
    """A 2-D pool's window (i, j): its rows and columns of the input, the padding left out."""
    rows, columns = spec_axes(layer_spec)
    height, width = layer_spec.shape_in[1:]
    return rows.positions(i, height), columns.positions(j, width)


def cells(rows: range, columns: range) -> tuple[slice, slice]:
    """A window's rows and columns as an array's index: x[c][cells(rows, columns)]."""
    return slice(rows.start, rows.stop, rows.step), slice(columns.start, columns.stop, columns.step)


def _outside(layer_spec: Any, index: tuple[int, ...]) -> tuple[list[str], list[str], list[str]]:
    """Pool window `index` ([c, t] or [c, i, j]) along each axis: its positions (padding
    included: "−1…1"), those in the padding ("row −1"), those a ceil_mode window runs past
    the padded input ("column 4")."""
    names = ("row", "column") if len(index) == 3 else ("position",)
    spans, padded, past = [], [], []
    for name, at, axis, length in zip(
        names, index[1:], spec_axes(layer_spec), layer_spec.shape_in[1:]
    ):
        first, last = axis.first(at), axis.last(at)
        spans.append(minus(span(first, last, axis.dilation)))
        every = range(first, last + 1, axis.dilation)
        for where, found in (
            (padded, [u for u in every if u < 0 or length <= u < length + axis.padding]),
            (past, [u for u in every if u >= length + axis.padding]),
        ):
            if found:
                where.append(
                    f"{name}{'s' if len(found) > 1 else ''} {', '.join(map(minus, found))}"
                )
    return spans, padded, past


def pool_padded(layer_spec: Any, index: tuple[int, ...]) -> bool:
    """Whether pool window `index` runs into the padding."""
    return bool(_outside(layer_spec, index)[1])


def pool_field(layer_spec: Any, index: tuple[int, ...], pad: str) -> str:
    """Where pool window `index` ([c, t] or [c, i, j]) runs into the padding, or with
    ceil_mode past it: "window x[:, −1…1, 0…2], row −1 padding (−∞)"; "" where it lies inside
    the input."""
    spans, padded, past = _outside(layer_spec, index)
    said = [f"{' and '.join(padded)} padding ({pad})"] if padded else []
    said += [f"{' and '.join(past)} past the end (ceil mode): left out"] if past else []
    return f"window x[:, {', '.join(spans)}], {', '.join(said)}" if said else ""


def pool_holding(
    layer_spec: Any, delta: Any, names: Callable[[tuple[int, ...]], str], shape_in: tuple[int, ...]
) -> dict[tuple[int, ...], list[tuple[tuple[int, ...], tuple[str, float]]]]:
    """Each input entry [c,u,v]'s windows [c,i,j], each with its δ (name, value), `delta` the
    δ of the pool's output: what its δ is shared from (average). An entry no window reads
    (torch's floor leaves the last rows or columns out when the windows do not tile the
    input) has none."""
    holding: dict[tuple[int, ...], list[Any]] = {
        index: [] for index in product(*map(range, shape_in))
    }
    for c, i, j in product(*map(range, delta.shape)):
        rows, columns = pool_window(layer_spec, i, j)
        for u in rows:
            for v in columns:
                holding[c, u, v].append(((c, i, j), (names((c, i, j)), float(delta[c, i, j]))))
    return holding


def pool_slice(layer_spec: Any) -> str:
    """Window (i, j) as the rules write it: "x[c, 2i…2i + 1, 2j…2j + 1]", with the padding
    "x[c, 2i − 1…2i + 1, …]", with a dilation of 2 "x[c, 2i…2i + 2 step 2, …]"."""
    out = []
    for name, axis in zip(("i", "j"), spec_axes(layer_spec)):
        start, end = axis.ends(name)
        step = f" step {axis.dilation}" if axis.dilation > 1 else ""
        out.append(f"{start}…{end}{step}" if axis.kernel > 1 else start)
    return f"x[c, {out[0]}, {out[1]}]"
