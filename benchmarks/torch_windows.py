"""The dilation and ceil_mode form of `torch_layers.py` (a file of its own: that one is long):
random conv1d or conv2d layers with a dilation (1–3, a pair [h, w] at times), under a max pool
with a dilation and/or ceil_mode, or an average pool with ceil_mode (padded or not, with and
without count_include_pad). Every draw is kept only where torch takes it: its shapes are
torch's own (the modules run on the input), never this tool's arithmetic; a max pool whose
dilated window reads only padding (torch's max of it is −∞, which the tool refuses) is drawn
again, and so is a ceil_mode that changes nothing (every ceil_mode drawn has a last window
that runs past the end).

Its second form, torch's `groups` and `divisor_override` (`group_layers`): two grouped convs,
one on the other, under an average pool dividing by a divisor_override in 2-D. Both held to
`RTOL`, but the second form's gradients (`torch_layers.main` says why)."""

from __future__ import annotations

import numpy as np
import torch

# this form's tolerance: its sums are of a few products, so torch's order of adding them
# moves only the last bits
RTOL = 1e-12
ACTIVATIONS = ("relu", "sigmoid", "tanh", "leaky_relu", "elu")
MODULES = {
    "conv1d": torch.nn.Conv1d,
    "conv2d": torch.nn.Conv2d,
    "maxpool1d": torch.nn.MaxPool1d,
    "maxpool2d": torch.nn.MaxPool2d,
    "avgpool2d": torch.nn.AvgPool2d,
}


def _size(rng: np.random.Generator, low: int, high: int, two: bool) -> int | list[int]:
    """A size, stride, padding or dilation: one int, or for a 2-D layer at times [h, w]."""
    if not two or rng.random() < 0.6:
        return int(rng.integers(low, high + 1))
    return [int(v) for v in rng.integers(low, high + 1, size=2)]


def _axes(value: int | list[int], two: bool) -> list[int]:
    return ([value, value] if isinstance(value, int) else value) if two else [value]


def _torch_shape(layers: list, shape_in: tuple[int, ...]) -> tuple[int, ...] | None:
    """What torch's conv and pool give for one random input of `shape_in` (None where torch
    refuses the arguments, or gives −∞: a max-pool window of padding alone)."""
    modules = [MODULES[kind](**args) for kind, args in (next(iter(x.items())) for x in layers)]
    try:
        y = torch.nn.Sequential(*modules).double()(torch.rand(shape_in, dtype=torch.float64))
    except RuntimeError:
        return None
    return tuple(y.shape) if bool(torch.isfinite(y).all()) else None


def _pool(rng: np.random.Generator, two: bool) -> tuple[str, dict]:
    """A pool: a max pool dilated and/or in ceil_mode, or an average pool in ceil_mode."""
    kind = str(rng.choice(["maxpool2d", "avgpool2d"])) if two else "maxpool1d"
    kernel = _size(rng, 2, 3, two)
    arguments: dict = {"kernel_size": kernel, "stride": _size(rng, 1, 3, two)}
    half = [k // 2 for k in _axes(kernel, two)]
    if rng.random() < 0.5:
        padding = [int(rng.integers(0, h + 1)) for h in half]
        arguments["padding"] = padding if two and padding[0] != padding[1] else padding[0]
    if kind == "avgpool2d":
        arguments["ceil_mode"] = True
        if rng.random() < 0.5:
            arguments["count_include_pad"] = False
        return kind, arguments
    if rng.random() < 0.7:
        arguments["dilation"] = _size(rng, 2, 3, two)
    if "dilation" not in arguments or rng.random() < 0.5:
        arguments["ceil_mode"] = True
    return kind, arguments


def window_layers(
    rng: np.random.Generator,
) -> tuple[list, dict, int, tuple[int, ...], int]:
    """A conv (dilated, mostly) → activation → pool (`_pool`): its `model:` list, its state
    dict as nested lists, the features it gives, the input's shape and at most how many
    samples (for `torch_layers._classifier`)."""
    two = bool(rng.random() < 0.6)
    while True:
        c_in, c_out = int(rng.integers(1, 3)), int(rng.integers(1, 3))
        kernel = _size(rng, 1, 3, two)
        conv = {"in_channels": c_in, "out_channels": c_out, "kernel_size": kernel}
        conv.update(stride=_size(rng, 1, 2, two), padding=_size(rng, 0, 2, two))
        if rng.random() < 0.8:
            conv["dilation"] = _size(rng, 1, 3, two)
        conv["bias"] = bool(rng.random() < 0.7)
        spans = [
            d * (k - 1) + 1 for k, d in zip(_axes(kernel, two), _axes(conv.get("dilation", 1), two))
        ]
        shape_in = (c_in, *(int(rng.integers(s + 1, s + 9)) for s in spans))
        kind, pool = _pool(rng, two)
        conv_kind = "conv2d" if two else "conv1d"
        layers = [{conv_kind: conv}, {kind: pool}]
        out = _torch_shape(layers, shape_in)
        if out is None or min(out[1:]) < 1:
            continue
        floor = _torch_shape([layers[0], {kind: {**pool, "ceil_mode": False}}], shape_in)
        if pool.get("ceil_mode") and floor == out:
            continue  # a ceil_mode that changes nothing
        break
    params = {"0.weight": rng.normal(size=(c_out, c_in, *_axes(kernel, two))).tolist()}
    if conv["bias"]:
        params["0.bias"] = rng.normal(size=c_out).tolist()
    activation = str(rng.choice(ACTIVATIONS))
    return [layers[0], activation, layers[1]], params, int(np.prod(out)), shape_in, 2


def window_drawn(kind: str, arguments: dict) -> dict[str, bool]:
    """What a layer's draw covers: a dilation, a ceil_mode window past the end, an average
    pool's divisor cut at the padded input's end (count_include_pad) or its inputs."""
    dilated = arguments.get("dilation", 1) not in (1, [1, 1])
    out = {f"…{kind} dilated": dilated} if kind in MODULES and kind != "avgpool2d" else {}
    if kind in ("maxpool1d", "maxpool2d", "avgpool2d"):
        out[f"…{kind}, ceil_mode past the end"] = bool(arguments.get("ceil_mode"))
    if kind == "avgpool2d":
        counted = arguments.get("count_include_pad", True)
        out["…avgpool2d ceil_mode, count_include_pad"] = counted
    return out


# ---------------------------------------------------------------- groups and divisor_override


def _grouped_conv(rng: np.random.Generator, c_in: int, c_out: int, groups: int, two: bool) -> dict:
    """A conv's arguments with `groups`: kernel 1–3, at times strided, padded or dilated."""
    conv = {"in_channels": c_in, "out_channels": c_out, "kernel_size": _size(rng, 1, 3, two)}
    if rng.random() < 0.4:
        conv["stride"] = _size(rng, 1, 2, two)
    if rng.random() < 0.5:
        conv["padding"] = _size(rng, 0, 1, two)
    if rng.random() < 0.3:
        conv["dilation"] = _size(rng, 1, 2, two)
    if groups > 1:
        conv["groups"] = groups
    conv["bias"] = bool(rng.random() < 0.7)
    return conv


def _weights(rng: np.random.Generator, conv: dict, two: bool) -> np.ndarray:
    """A conv's weight as torch shapes it: [out_channels][in_channels/groups][*kernel]."""
    width = conv["in_channels"] // conv.get("groups", 1)
    return rng.normal(size=(conv["out_channels"], width, *_axes(conv["kernel_size"], two)))


def group_layers(
    rng: np.random.Generator,
) -> tuple[list, dict, int, tuple[int, ...], int]:
    """A grouped conv → activation → a grouped conv (so the δ into a grouped conv is checked
    too: the first's gradients read it) → in 2-D mostly an average pool with a
    divisor_override (1–6; padded, in ceil_mode, without count_include_pad at times), in 1-D at
    times a max pool. Groups 1–3 each, at least one above 1; the channels multiples of them
    (depthwise among them). Returns as `window_layers`."""
    two = bool(rng.random() < 0.6)
    while True:
        first, second = (int(g) for g in rng.integers(1, 4, size=2))
        if first == second == 1:
            continue
        c_in = first * int(rng.integers(1, 3))
        c_mid = int(np.lcm(first, second)) * int(rng.integers(1, 3))
        c_out = second * int(rng.integers(1, 3))
        convs = [
            _grouped_conv(rng, c_in, c_mid, first, two),
            _grouped_conv(rng, c_mid, c_out, second, two),
        ]
        conv_kind = "conv2d" if two else "conv1d"
        layers = [{conv_kind: convs[0]}, {conv_kind: convs[1]}]
        if two and rng.random() < 0.85:
            pool: dict = {"kernel_size": _size(rng, 2, 3, two), "stride": _size(rng, 1, 3, two)}
            if rng.random() < 0.4:
                pool["padding"] = 1
            if rng.random() < 0.3:
                pool["ceil_mode"] = True
            if rng.random() < 0.3:
                pool["count_include_pad"] = False
            if rng.random() < 0.85:
                pool["divisor_override"] = int(rng.integers(1, 7))
            layers.append({"avgpool2d": pool})
        elif not two and rng.random() < 0.5:
            layers.append({"maxpool1d": {"kernel_size": 2}})
        shape_in = (c_in, *(int(n) for n in rng.integers(4, 9, size=2 if two else 1)))
        out = _torch_shape(layers, shape_in)
        if out is not None and min(out[1:]) >= 1:
            break
    params: dict = {}
    for at, conv in zip((0, 2), convs):
        params[f"{at}.weight"] = _weights(rng, conv, two).tolist()
        if conv["bias"]:
            params[f"{at}.bias"] = rng.normal(size=conv["out_channels"]).tolist()
    activation = str(rng.choice(ACTIVATIONS))
    model = [layers[0], activation, *layers[1:]]
    return model, params, int(np.prod(out)), shape_in, 2


def group_drawn(kind: str, arguments: dict) -> dict[str, bool]:
    """What a layer's draw covers: groups (and depthwise, one input channel a group), an
    average pool's divisor_override (with padding, ceil_mode, count_include_pad false)."""
    if kind in ("conv1d", "conv2d"):
        groups = arguments.get("groups", 1)
        return {
            f"…{kind} grouped": groups > 1,
            f"…{kind} depthwise": groups > 1 and groups == arguments["in_channels"],
        }
    if kind != "avgpool2d":
        return {}
    divisor = "divisor_override" in arguments
    return {
        "…avgpool2d divisor_override": divisor,
        "…avgpool2d divisor_override, padded": divisor and "padding" in arguments,
        "…avgpool2d divisor_override, ceil_mode": divisor and "ceil_mode" in arguments,
        "…avgpool2d divisor_override, padding not counted": divisor
        and "count_include_pad" in arguments,
    }
