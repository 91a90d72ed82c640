"""What the 2-D layers of a `model:` share (conv2d, maxpool2d, avgpool2d): a size, stride or
padding given as one whole number or a pair [height, width], as torch takes them; the windows
they read (a kernel's receptive field, a pool's window); how their arguments are written. And
what a convolution or a pool writes alike in 1-D and 2-D: its parameters' shapes, its
arguments in words, a pool's title.

A 2-D layer takes one sample's channels × height × width (no batch dimension); its entries are
indexed as torch's, [c, i, j]: channel c, row i, column j."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from itertools import product
from typing import Any

from ...worked import Section
from .tensor import too_many

PAIRS = ("kernel_size", "stride", "padding")  # what the config reader takes as n or [h, w]
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


def size(n: int, kernel: int, stride: int, padding: int = 0) -> int:
    """The output's length along one axis, as torch's floor: (n + 2p − k) // s + 1."""
    return (n + 2 * padding - kernel) // stride + 1


def plane(shape_in: tuple[int, ...]) -> str:
    return "×".join(map(str, shape_in[1:]))


def window(
    i: int, j: int, kernel: Pair, stride: Pair, padding: Pair, height: int, width: int
) -> Iterator[tuple[int, int, int, int]]:
    """Output entry (i, j)'s window, row by row: (m, n) its kernel offset and (u, v) the input
    entry it reads, the entries inside the input only (the padding is 0: left out)."""
    for m in range(kernel[0]):
        u = i * stride[0] + m - padding[0]
        if not 0 <= u < height:
            continue
        first = j * stride[1] - padding[1]  # the input column of kernel column 0
        for n in range(max(0, -first), min(kernel[1], width - first)):
            yield m, n, u, first + n


def conv_parameter_shapes(
    arguments: dict[str, Any], kernel: tuple[int, ...]
) -> dict[str, tuple[int, ...]]:
    """A convolution's weight [out_channels][in_channels][*kernel] and bias [out_channels]."""
    out = {"weight": (arguments["out_channels"], arguments["in_channels"], *kernel)}
    if arguments["bias"]:
        out["bias"] = (arguments["out_channels"],)
    return out


def conv_written(arguments: dict[str, Any], size: Callable[[Any], str]) -> str:
    """ "1→2 channels, k=2", with the stride, padding and bias where not torch's defaults;
    `size` writes a size (1-D: the number; 2-D: `written`, 2 or 1×2)."""
    channels = f"{arguments['in_channels']}→{arguments['out_channels']} channels"
    text = f"{channels}, k={size(arguments['kernel_size'])}"
    for key, default in (("stride", "1"), ("padding", "0")):
        if size(arguments[key]) != default:
            text += f", {key} {size(arguments[key])}"
    return text + ("" if arguments["bias"] else ", no bias")


def conv_forward(layer: Any, formula: str, rows: list[Any]) -> list[Section]:
    """A convolution's forward section: its rule `formula` (with + b[c] where it has a bias),
    said to be torch's cross-correlation."""
    rule = formula + (" + b[c]" if layer.bias is not None else "")
    rule += "  (cross-correlation, as torch: the kernel is not flipped)"
    title = f"Forward · layer {layer.spec.name} ({layer.kind})"
    return [Section("forward", title, rule, tuple(rows))]


def pool_parameter_shapes(arguments: dict[str, Any]) -> dict[str, tuple[int, ...]]:
    return {}  # a pool trains nothing


def pool_kept(view: Any, p: int) -> Any:
    """Which input each window of max pool p kept, as its forward found it."""
    return view.layers[p].forward(view.inputs[p], lambda a: a)[1][1]


def pool_title(layer_spec: Any) -> str:
    """A pool's forward title: "Forward · layer 2 (maxpool2d, windows of 2, stride 2)"."""
    k, s, p = (written(layer_spec.argument(key)) for key in PAIRS)
    what = f"{layer_spec.kind}, windows of {k}, stride {s}" + (f", padding {p}" if p != "0" else "")
    return f"Forward · layer {layer_spec.name} ({what})"


def span(first: int, last: int) -> str:
    return f"{first}…{last}" if last > first else str(first)


def field_text(name: str, cells: list[tuple[int, int]]) -> str:
    """The input entries a window reads, as a slice: x[:, 0…1, 1…2]."""
    rows, columns = [u for u, _ in cells], [v for _, v in cells]
    return f"{name}[:, {span(min(rows), max(rows))}, {span(min(columns), max(columns))}]"


def offset(axis: str, stride: int, padding: int, kernel: str) -> str:
    """Where an output row or column starts, as the rules write it: "i + m", "2i − 1 + m"."""
    text = axis if stride == 1 else f"{stride}{axis}"
    return text + (f" − {padding}" if padding else "") + f" + {kernel}"


# ---------------------------------------------------------------- pooling (max and average)

POOL_ARGUMENTS: tuple[tuple[str, Any], ...] = (
    ("kernel_size", None),
    ("stride", None),
    ("padding", 0),
)  # stride: kernel_size, as torch's stride=None


# a pool's arguments the JSON trace lists only where not torch's default (`render/model_json`)
POOL_QUIET = (("padding", 0), ("count_include_pad", True))


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
    if len(shape_in) != 3:
        got = "×".join(map(str, shape_in))
        return f"takes channels × height × width, and gets {got}"
    k, s, p = (pair(arguments[key]) for key in PAIRS)
    if shape_in[1] + 2 * p[0] < k[0] or shape_in[2] + 2 * p[1] < k[1]:
        padded = f" with padding {written(p)}" if p != (0, 0) else ""
        return f"its window ({written(k)}) is larger than the input ({plane(shape_in)}{padded})"
    out = (shape_in[0], size(shape_in[1], k[0], s[0], p[0]), size(shape_in[2], k[1], s[1], p[1]))
    return too_many(out[0] * out[1] * out[2], k[0] * k[1]) or out


def pool_written(arguments: dict[str, Any]) -> str:
    k, s, p = (pair(arguments[key]) for key in PAIRS)
    text = f"k={written(k)}" + ("" if s == k else f", stride {written(s)}")
    counted = arguments.get("count_include_pad", True)  # an average pool's
    return text + (f", padding {written(p)}{'' if counted else ' not counted'}" if any(p) else "")


def axis_range(at: int, kernel: int, stride: int, padding: int, length: int) -> range:
    """Window `at`'s positions along one axis that lie in the input (0…length − 1): the
    padding left out."""
    first = at * stride - padding
    return range(max(first, 0), min(first + kernel, length))


def axis_ends(axis: str, kernel: int, stride: int, padding: int) -> tuple[str, str]:
    """Window `axis`'s first and last positions as a rule writes them: ("2i − 1", "2i + 1")."""
    start = axis if stride == 1 else f"{stride}{axis}"
    end = start + (f" + {kernel - 1 - padding}" if kernel - 1 > padding else "")
    return start + (f" − {padding}" if padding else ""), end


def pool_window(layer_spec: Any, i: int, j: int) -> tuple[range, range]:
    """A pool's window (i, j): its rows and columns of the input, the padding left out."""
    k, s, p = (pair(layer_spec.argument(key)) for key in PAIRS)
    height, width = layer_spec.shape_in[1:]
    return axis_range(i, k[0], s[0], p[0], height), axis_range(j, k[1], s[1], p[1], width)


def pool_field(layer_spec: Any, index: tuple[int, ...], pad: str) -> str:
    """Where pool window `index` ([c, t] or [c, i, j]) runs into the padding: "window
    x[:, −1…1, 0…2], row −1 padding (−∞)"; "" where it lies inside the input."""
    if len(index) == 3:
        k, s, p = (pair(layer_spec.argument(key)) for key in PAIRS)
    else:  # a 1-D pool's one number each
        k, s, p = ((int(layer_spec.argument(key)),) for key in PAIRS)
    axes = ("row", "column") if len(index) == 3 else ("position",)
    spans, outside = [], []
    for axis, at, kernel, stride, padding, length in zip(
        axes, index[1:], k, s, p, layer_spec.shape_in[1:]
    ):
        first = at * stride - padding
        spans.append(span(first, first + kernel - 1).replace("-", "−"))
        out = [
            str(u).replace("-", "−") for u in range(first, first + kernel) if not 0 <= u < length
        ]
        if out:
            outside.append(f"{axis}{'s' if len(out) > 1 else ''} {', '.join(out)}")
    if not outside:
        return ""
    return f"window x[:, {', '.join(spans)}], {' and '.join(outside)} padding ({pad})"


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
    "x[c, 2i − 1…2i + 1, …]"."""
    k, s, p = (pair(layer_spec.argument(key)) for key in PAIRS)
    axes = []
    for axis, kernel, stride, padding in zip(("i", "j"), k, s, p):
        start, end = axis_ends(axis, kernel, stride, padding)
        axes.append(f"{start}…{end}" if kernel > 1 else start)
    return f"x[c, {axes[0]}, {axes[1]}]"
