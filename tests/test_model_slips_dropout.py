"""dropout's named slip on random models: its scale forgotten (the kept entries not multiplied
by 1/(1 − p)), forward and back. Every value here — right or slipped — is worked in this file
with numpy, from the config's numbers and its fixed mask, never read from the program's trace."""

from __future__ import annotations

import numpy as np
from slips import RandomModels, entries

from backtrace_cli.network.layers import tensor_dropout


def _config(seed: int) -> dict:
    """tanh → dropout (a random p and fixed mask) → (flatten) → linear(2), half_sse: on even
    seeds the input a vector, on odd ones channels × length."""
    rng = np.random.default_rng(seed)
    shape = (
        (int(rng.integers(3, 6)),)
        if seed % 2 == 0
        else tuple(int(v) for v in rng.integers(2, 4, 2))
    )
    p = float(rng.choice([0.2, 0.25, 0.5, 0.6]))
    mask = (rng.random(shape) >= p).astype(int)
    mask.flat[0] = 1  # the first entry kept: the slip changes it
    flat = int(np.prod(shape))
    model = [
        "tanh",
        {"dropout": {"p": p, "mask": mask.tolist()}},
        *(["flatten"] if len(shape) > 1 else []),
    ]
    top = str(len(model))
    return {
        "model": [*model, {"linear": {"in_features": flat, "out_features": 2}}],
        "parameters": {
            f"{top}.weight": rng.normal(size=(2, flat)).round(2).tolist(),
            f"{top}.bias": rng.normal(size=2).round(2).tolist(),
        },
        "loss": "half_sse",
        "learning_rate": 0.1,
        "inputs": rng.normal(size=shape).round(2).tolist(),
        "targets": rng.normal(size=2).round(2).tolist(),
    }


def _worked(config: dict, slip: str = "") -> dict[str, float]:
    """Every answer of the step, by hand. `slip` "unscaled": the dropout's outputs and the δ
    into it as a student who forgets the 1/(1 − p) writes them, m·x and m·δ."""
    dropout, top = config["model"][1]["dropout"], str(len(config["model"]) - 1)
    w, b = (
        np.array(config["parameters"][f"{top}.weight"]),
        np.array(config["parameters"][f"{top}.bias"]),
    )
    x, t, mask = np.array(config["inputs"]), np.array(config["targets"]), np.array(dropout["mask"])
    scale = 1 / (1 - dropout["p"])  # inverted dropout: the kept entries scaled up
    y0 = np.tanh(x)
    y1 = mask * y0 * scale
    y_top = w @ y1.reshape(-1) + b
    d_top = t - y_top  # −∂E/∂y for E = ½Σ(t − y)²
    d1 = (w.T @ d_top).reshape(x.shape)
    d0 = mask * d1 * scale
    if slip == "unscaled":
        y1, d0 = mask * y0, mask * d1
    arrays = {
        "y0": y0,
        "y1": y1,
        f"y{top}": y_top,
        f"delta{top}": d_top,
        "delta1": d1,
        "delta0": d0,
    }
    arrays |= {
        f"dE/dw{top}": -np.outer(d_top, (mask * y0 * scale).reshape(-1)),
        f"dE/db{top}": -d_top,
    }
    return entries(arrays)


class TestTheSlipOfDropout(RandomModels):
    config = staticmethod(_config)
    worked = staticmethod(_worked)
    cases = (
        ("unscaled", "y1[", tensor_dropout.UNSCALED),  # forward
        ("unscaled", "delta0[", tensor_dropout.UNSCALED),  # back
    )
    elsewhere = (("y1[", "delta0["), ("y0[", "delta1["))
