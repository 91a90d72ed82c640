"""Named slips of a `model:`'s 2-D layers: conv2d's kernel flipped on both axes, avgpool2d's
division by the window's size left out, maxpool2d's gradient spread over the window (or δ/k).
Every value here — right or slipped — is worked in this file with numpy, from the config's
numbers, as a student would work it (a window at a time over the zero-padded image), never
read from the program's trace."""

from __future__ import annotations

import numpy as np
from slips import RandomModels, entries

from backtrace_cli.network.layers import avgpool2d, conv2d, maxpool2d


def _pair(rng: np.random.Generator, low: int, high: int) -> list[int]:
    """[h, w], each in [low, high], of more than one entry (one entry has no slip to make)."""
    while True:
        out = [int(v) for v in rng.integers(low, high + 1, 2)]
        if out[0] * out[1] > 1:
            return out


def _out(size: int, kernel: int, stride: int, padding: int = 0) -> int:
    """An output's length along one axis, torch's floor; 0 where the kernel does not fit."""
    return (size + 2 * padding - kernel) // stride + 1 if size + 2 * padding >= kernel else 0


def _config(seed: int) -> dict:
    """conv2d → tanh → avgpool2d → conv2d → maxpool2d → flatten → linear(2), half_sse: random
    channels, kernels and strides (pairs) and paddings, drawn again until every layer fits."""
    rng = np.random.default_rng(seed)
    while True:
        c_in, c0, c3 = (int(v) for v in rng.integers(1, 3, 3))
        size = [int(v) for v in rng.integers(4, 6, 2)]
        k0, ka, k3, km = _pair(rng, 1, 3), *(_pair(rng, 1, 2) for _ in range(3))
        s0, sa, sm = ([int(v) for v in rng.integers(1, 3, 2)] for _ in range(3))
        p0, p3 = (int(v) for v in rng.integers(0, 2, 2))
        h = size
        for kernel, stride, padding in ((k0, s0, p0), (ka, sa, 0), (k3, (1, 1), p3), (km, sm, 0)):
            h = [_out(h[a], kernel[a], stride[a], padding) for a in (0, 1)]
        if min(h) > 0:
            break
    features = c3 * h[0] * h[1]
    first = {"in_channels": c_in, "out_channels": c0, "kernel_size": k0}
    second = {"in_channels": c0, "out_channels": c3, "kernel_size": k3, "padding": p3}
    return {
        "model": [
            {"conv2d": first | {"stride": s0, "padding": p0}},
            "tanh",
            {"avgpool2d": {"kernel_size": ka, "stride": sa}},
            {"conv2d": second},
            {"maxpool2d": {"kernel_size": km, "stride": sm}},
            "flatten",
            {"linear": {"in_features": features, "out_features": 2}},
        ],
        "parameters": {
            "0.weight": rng.normal(size=(c0, c_in, *k0)).round(2).tolist(),
            "0.bias": rng.normal(size=c0).round(2).tolist(),
            "3.weight": rng.normal(size=(c3, c0, *k3)).round(2).tolist(),
            "3.bias": rng.normal(size=c3).round(2).tolist(),
            "6.weight": rng.normal(size=(2, features)).round(2).tolist(),
            "6.bias": rng.normal(size=2).round(2).tolist(),
        },
        "loss": "half_sse",
        "learning_rate": 0.1,
        "inputs": rng.normal(size=(c_in, *size)).round(2).tolist(),
        "targets": rng.normal(size=2).round(2).tolist(),
    }


def _windows(shape_out, kernel, stride):
    """Each output entry (i, j) with its window's rows and columns of the input, as slices."""
    for i, j in np.ndindex(*shape_out):
        rows = slice(i * stride[0], i * stride[0] + kernel[0])
        yield i, j, rows, slice(j * stride[1], j * stride[1] + kernel[1])


def _conv(x, w, b, stride, padding):
    """Cross-correlation over the zero-padded input, a window at a time; and that input."""
    padded = np.pad(x, ((0, 0), (padding, padding), (padding, padding)))
    shape = tuple(_out(padded.shape[a + 1], w.shape[a + 2], stride[a]) for a in (0, 1))
    y = np.zeros((len(w), *shape))
    for i, j, rows, columns in _windows(shape, w.shape[2:], stride):
        for c in range(len(w)):
            y[c, i, j] = np.sum(w[c] * padded[:, rows, columns]) + b[c]
    return y, padded


def _conv_back(padded, w, d, stride, padding):
    """−∂E/∂w (each window times its output's δ, summed) and the δ of the input (each
    output's δ times the kernel, added back over its window; the padding cut away)."""
    grad, sent = np.zeros_like(w), np.zeros_like(padded)
    for i, j, rows, columns in _windows(d.shape[1:], w.shape[2:], stride):
        for c in range(len(w)):
            grad[c] += d[c, i, j] * padded[:, rows, columns]
            sent[:, rows, columns] += w[c] * d[c, i, j]
    height, width = padded.shape[1:]
    return grad, sent[:, padding : height - padding, padding : width - padding]


def _pool(x, kernel, stride, keep):
    """Each window's `keep` (np.mean, np.max; np.sum by slip)."""
    shape = tuple(_out(x.shape[a + 1], kernel[a], stride[a]) for a in (0, 1))
    y = np.zeros((len(x), *shape))
    for i, j, rows, columns in _windows(shape, kernel, stride):
        y[:, i, j] = [keep(x[c, rows, columns]) for c in range(len(x))]
    return y


def _pool_back(x, d, kernel, stride, share):
    """Each window's δ given back to its inputs as `share(window, δ)` says, summed."""
    sent = np.zeros_like(x)
    for i, j, rows, columns in _windows(d.shape[1:], kernel, stride):
        for c in range(len(x)):
            sent[c, rows, columns] += share(x[c, rows, columns], d[c, i, j])
    return sent


def _to_max(window, delta):
    """All of δ to the window's largest input (the first, row by row, on a tie)."""
    out = np.zeros_like(window)
    out[np.unravel_index(np.argmax(window), window.shape)] = delta
    return out


def _worked(config: dict, slip: str = "") -> dict[str, float]:
    """Every answer of the model's step, by hand. `slip`: the entries a slip changes as a
    student who makes it there writes each, from the right values of the rest: "flipped", both
    convs' outputs, their weights' gradients and the δ into the second, read with the kernel
    flipped on both axes (w[:, :, ::-1, ::-1]); "undivided", the average pool's outputs and the
    δ into it without the division by the window's size; "spread" / "averaged", the δ into the
    max pool, each window's δ (or δ/k) given to all its inputs."""
    layers = config["model"]
    p = {key: np.array(value) for key, value in config["parameters"].items()}
    first, second = layers[0]["conv2d"], layers[3]["conv2d"]
    ka, sa = layers[2]["avgpool2d"]["kernel_size"], layers[2]["avgpool2d"]["stride"]
    km, sm = layers[4]["maxpool2d"]["kernel_size"], layers[4]["maxpool2d"]["stride"]
    s0, p0, p3 = first["stride"], first["padding"], second["padding"]
    x, t = np.array(config["inputs"]), np.array(config["targets"])
    w0, w3 = p["0.weight"], p["3.weight"]
    y0, padded0 = _conv(x, w0, p["0.bias"], s0, p0)
    y1 = np.tanh(y0)
    y2 = _pool(y1, ka, sa, np.mean)
    y3, padded3 = _conv(y2, w3, p["3.bias"], (1, 1), p3)
    y4 = _pool(y3, km, sm, np.max)
    y6 = p["6.weight"] @ y4.reshape(-1) + p["6.bias"]
    d6 = t - y6  # −∂E/∂y for E = ½Σ(t − y)²
    d4 = (p["6.weight"].T @ d6).reshape(y4.shape)
    d3 = _pool_back(y3, d4, km, sm, _to_max)
    g3, d2 = _conv_back(padded3, w3, d3, (1, 1), p3)
    d1 = _pool_back(y1, d2, ka, sa, lambda window, delta: np.full_like(window, delta / window.size))
    d0 = d1 * (1 - y1**2)
    g0, _ = _conv_back(padded0, w0, d0, s0, p0)
    if slip == "flipped":  # a true convolution: the kernel turned half round where it is read
        y0 = _conv(x, w0[:, :, ::-1, ::-1], p["0.bias"], s0, p0)[0]
        y3 = _conv(y2, w3[:, :, ::-1, ::-1], p["3.bias"], (1, 1), p3)[0]
        d2 = _conv_back(padded3, w3[:, :, ::-1, ::-1], d3, (1, 1), p3)[1]
        # w[m,n]'s gradient over the positions w[K−1−m,N−1−n] is used at
        g0, g3 = g0[:, :, ::-1, ::-1], g3[:, :, ::-1, ::-1]
    if slip == "undivided":
        y2 = _pool(y1, ka, sa, np.sum)
        d1 = _pool_back(y1, d2, ka, sa, np.full_like)  # each input the window's whole δ
    if slip in ("spread", "averaged"):
        size = 1 if slip == "spread" else km[0] * km[1]
        d3 = _pool_back(y3, d4, km, sm, lambda window, delta: np.full_like(window, delta / size))
    arrays = {"y0": y0, "y1": y1, "y2": y2, "y3": y3, "y4": y4, "y6": y6, "delta6": d6}
    arrays |= {"delta4": d4, "delta3": d3, "delta2": d2, "delta1": d1, "delta0": d0}
    arrays |= {"dE/dw0": -g0, "dE/dw3": -g3}
    arrays |= {"dE/db0": -d0.sum(axis=(1, 2)), "dE/db3": -d3.sum(axis=(1, 2))}
    return entries(arrays)


class TestTheSlipsOf2dLayers(RandomModels):
    seeds = range(5)  # each marks a long answers file: five seeds, each slip made on 4+
    config = staticmethod(_config)
    worked = staticmethod(_worked)
    cases = (
        ("flipped", "y0[", conv2d.FLIPPED),  # an output's sum of products (strided, padded)
        ("flipped", "dE/dw0[", conv2d.FLIPPED),  # a weight's gradient
        ("flipped", "delta2[", conv2d.FLIPPED),  # the δ into the second conv
        ("undivided", "y2[", avgpool2d.UNDIVIDED),  # a window's mean
        ("undivided", "delta1[", avgpool2d.UNDIVIDED),  # the δ into the average pool
        ("spread", "delta3[", maxpool2d.SPREAD),  # the δ into the max pool
        ("averaged", "delta3[", maxpool2d.AVERAGED),
    )
    elsewhere = (
        ("y0[0,0,0]", "y2[0,0,0]", "delta1[0,0,0]", "delta3[0,0,0]", "dE/dw0[0,0,0,0]"),
        ("delta2[0,0,0]", "dE/dw3[0,0,0,0]"),  # each reads δ3
    )
