"""Named slips of a `model:`'s tensor layers (issue #28): a conv1d's kernel flipped, a
maxpool1d's gradient spread over its window. Every value here — right or slipped — is worked
in this file with numpy, from the config's numbers, as a student would work it: the forward
pass, the loss, every δ and gradient, never read from the program's trace."""

from __future__ import annotations

import numpy as np
import pytest
from slips import RandomModels, verdicts

from backtrace_cli.network.layers import conv1d, maxpool1d

FLIPPED = conv1d.FLIPPED
SIGN = "δ with the sign of ∂E/∂net: your notes use δ = −∂E/∂net"  # the lecture's words


def _config(seed: int) -> dict:
    """conv1d → tanh → maxpool1d → flatten → linear(2), half_sse, random shapes."""
    rng = np.random.default_rng(seed)
    c_in, c_out = (int(v) for v in rng.integers(1, 3, 2))
    k = int(rng.integers(2, 4))  # a kernel of 1 flips to itself
    stride, padding = int(rng.integers(1, 3)), int(rng.integers(0, 2))
    length = k + int(rng.integers(3, 6))
    out = (length + 2 * padding - k) // stride + 1
    pool = {"kernel_size": 2, "stride": int(rng.integers(1, 3))}
    pooled = (out - 2) // pool["stride"] + 1
    conv = {"in_channels": c_in, "out_channels": c_out, "kernel_size": k}
    return {
        "model": [
            {"conv1d": conv | {"stride": stride, "padding": padding}},
            "tanh",
            {"maxpool1d": pool},
            "flatten",
            {"linear": {"in_features": c_out * pooled, "out_features": 2}},
        ],
        "parameters": {
            "0.weight": rng.normal(size=(c_out, c_in, k)).round(2).tolist(),
            "0.bias": rng.normal(size=c_out).round(2).tolist(),
            "4.weight": rng.normal(size=(2, c_out * pooled)).round(2).tolist(),
            "4.bias": rng.normal(size=2).round(2).tolist(),
        },
        "loss": "half_sse",
        "learning_rate": 0.1,
        "inputs": rng.normal(size=(c_in, length)).round(2).tolist(),
        "targets": rng.normal(size=2).round(2).tolist(),
    }


def _worked(config: dict, slip: str = "") -> dict[str, float]:
    """Every answer of the model's step, by hand. `slip`: the entries a slip changes as a
    student who makes it there writes each, from the right values of the rest (the slip made
    at that one entry): "flipped", the conv's outputs and its weights' gradients reading
    w[c,i,K−1−k] for w[c,i,k] (a true convolution); "spread" / "averaged", the δ the pool's
    inputs receive, each window's δ (or δ/2) given to both its inputs; "sign", the output's δ
    as +∂E/∂y."""
    flip = slip == "flipped"
    conv = config["model"][0]["conv1d"]
    s, pad = conv["stride"], conv["padding"]
    w = np.array(config["parameters"]["0.weight"])
    b = np.array(config["parameters"]["0.bias"])
    v = np.array(config["parameters"]["4.weight"])
    c = np.array(config["parameters"]["4.bias"])
    x = np.array(config["inputs"])
    t = np.array(config["targets"])
    c_out, _, k = w.shape
    padded = np.pad(x, ((0, 0), (pad, pad)))
    n = (padded.shape[1] - k) // s + 1

    def correlated(kernel):
        return np.array(
            [
                [np.sum(kernel[o] * padded[:, j * s : j * s + k]) + b[o] for j in range(n)]
                for o in range(c_out)
            ]
        )

    y0 = correlated(w)
    y1 = np.tanh(y0)
    ps = config["model"][2]["maxpool1d"]["stride"]
    m = (n - 2) // ps + 1
    kept = np.array(
        [
            [j * ps + int(np.argmax(y1[o, j * ps : j * ps + 2])) for j in range(m)]
            for o in range(c_out)
        ]
    )
    y2 = np.take_along_axis(y1, kept, axis=1)
    y4 = v @ y2.reshape(-1) + c
    d4 = t - y4  # −∂E/∂y for E = ½Σ(t − y)²
    d2 = (v.T @ d4).reshape(y2.shape)
    d1 = np.zeros_like(y1)
    for o, j in np.ndindex(*kept.shape):
        d1[o, kept[o, j]] += d2[o, j]
    d0 = d1 * (1 - y1**2)
    grad = np.zeros_like(w)  # ∂E/∂w0 = −Σ_t δ0[o,t]·x[i, t·s + k − p]
    for o, i, kk in np.ndindex(*w.shape):
        read = k - 1 - kk if flip else kk
        grad[o, i, kk] = -sum(d0[o, j] * padded[i, j * s + read] for j in range(n))
    if flip:
        y0 = correlated(w[:, :, ::-1])
    if slip in ("spread", "averaged"):
        d1 = np.zeros_like(y1)
        for o, j in np.ndindex(*kept.shape):
            d1[o, j * ps : j * ps + 2] += d2[o, j] / (2 if slip == "averaged" else 1)
    out: dict[str, float] = {}
    for name, array in (("y0", y0), ("y1", y1), ("y2", y2), ("delta0", d0), ("delta1", d1)):
        out |= {f"{name}[{a},{j}]": float(array[a, j]) for a, j in np.ndindex(*array.shape)}
    out |= {f"y4[{j}]": float(y4[j]) for j in range(2)}
    d4 = -d4 if slip == "sign" else d4  # +∂E/∂y, the gradient's sign, for the notes' −∂E/∂y
    out |= {f"delta4[{j}]": float(d4[j]) for j in range(2)}
    out |= {f"dE/dw0[{o},{i},{kk}]": float(grad[o, i, kk]) for o, i, kk in np.ndindex(*w.shape)}
    out |= {f"dE/db0[{o}]": float(-d0[o].sum()) for o in range(c_out)}
    return out


class TestTheSlipsOf1dLayers(RandomModels):
    config = staticmethod(_config)
    worked = staticmethod(_worked)
    cases = (
        ("flipped", "y0[", FLIPPED),  # an output's sum of products
        ("flipped", "dE/dw0[", FLIPPED),  # a weight's gradient
        ("spread", "delta1[", maxpool1d.SPREAD),  # the δ into the pool
        ("averaged", "delta1[", maxpool1d.AVERAGED),
        ("sign", "delta4[", SIGN),  # as a network's δ of the other sign is named
    )
    elsewhere = (("y0[0,0]", "delta1[0,0]", "dE/dw0[0,0,0]"),)


def test_the_kernel_flipped_in_the_delta_an_input_receives_worked_by_hand():
    # x = [1, 2, −1] through a conv of one weight 1 (y0 = x), then a conv of kernel [a, b] =
    # [0.5, −0.25]: y1[t] = a·y0[t] + b·y0[t+1] = [0, 1.25]; targets [0.3, −0.2], ½Σ(t − y)²:
    # δ1 = t − y1 = [0.3, −1.45]. The δ into y0: δ0[u] = Σ w1[k]·δ1[t] over t + k = u,
    # [a·δ1[0], b·δ1[0] + a·δ1[1], b·δ1[1]] = [0.15, −0.8, 0.3625]; flipped, b and a swap
    # places: δ0[1] = a·δ1[0] + b·δ1[1] = 0.15 + 0.3625 = 0.5125.
    config = {
        "model": [
            {"conv1d": {"in_channels": 1, "out_channels": 1, "kernel_size": 1, "bias": False}},
            {"conv1d": {"in_channels": 1, "out_channels": 1, "kernel_size": 2, "bias": False}},
            "flatten",
        ],
        "parameters": {"0.weight": [[[1.0]]], "1.weight": [[[0.5, -0.25]]]},
        "loss": "half_sse",
        "learning_rate": 0.1,
        "inputs": [[1.0, 2.0, -1.0]],
        "targets": [0.3, -0.2],
    }
    right = {"y1[0,0]": "0", "y1[0,1]": "1.25", "delta1[0,0]": "0.3", "delta1[0,1]": "-1.45"}
    right |= {"delta0[0,0]": "0.15", "delta0[0,2]": "0.3625"}
    got = verdicts(right | {"delta0[0,1]": "0.5125"}, config)
    assert all(got[n].kind == "right" for n in right)
    assert got["delta0[0,1]"].mistakes == (FLIPPED,), got["delta0[0,1]"].diagnosis
    assert verdicts(right | {"delta0[0,1]": "-0.8"}, config)["delta0[0,1]"].kind == "right"


@pytest.mark.parametrize("seed", range(3))
def test_the_kernel_flipped_in_a_batchs_gradient_is_named(seed):
    # two samples, one update: each weight's gradient the mean of the samples' (by hand, as
    # above); flipped in both samples' terms
    config = _config(seed)
    second = dict(config, inputs=(np.array(config["inputs"]) * -0.7).round(2).tolist())
    batch = {k: v for k, v in config.items() if k not in ("inputs", "targets")}
    batch |= {
        "mode": "batch",
        "samples": [{"inputs": c["inputs"], "targets": c["targets"]} for c in (config, second)],
    }
    right = [_worked(c) for c in (config, second)]
    flipped = [_worked(c, "flipped") for c in (config, second)]
    names = [n for n in right[0] if n.startswith("dE/dw0[")]
    mean = {n: (right[0][n] + right[1][n]) / 2 for n in names}
    slipped = {n: (flipped[0][n] + flipped[1][n]) / 2 for n in names}
    at = next(n for n in names if abs(slipped[n] - mean[n]) > 0.05 * (1 + abs(mean[n])))
    answers = {n: f"{v:.6g}" for n, v in mean.items()} | {at: f"{slipped[at]:.6g}"}
    got = verdicts(answers, batch)
    assert FLIPPED in got[at].mistakes, got[at].diagnosis
    assert all(v.kind == "right" and not v.mistakes for n, v in got.items() if n != at)
