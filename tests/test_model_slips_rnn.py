"""The rnn's named slip on random models: backpropagation through time truncated to the last
step (a shared weight's gradient with step T's term alone). Every value here — right or
slipped — is worked in this file with numpy, from the config's numbers, a step at a time
forward and back through time, never read from the program's trace."""

from __future__ import annotations

import numpy as np
from slips import RandomModels, entries

from backtrace_cli.network.layers import rnn


def _config(seed: int) -> dict:
    """rnn → last (even seeds) or flatten (odd: every step's h goes on) → linear(2), half_sse,
    T = 3 or 4 steps; tanh, or relu on seeds 1 and 4; seed 6 without biases."""
    rng = np.random.default_rng(seed)
    steps, given, hidden = int(rng.integers(3, 5)), int(rng.integers(1, 3)), int(rng.integers(1, 4))
    nonlinearity, bias = ("relu" if seed in (1, 4) else "tanh"), seed != 6
    top = "last" if seed % 2 == 0 else "flatten"
    features = hidden if top == "last" else steps * hidden
    layer = {"input_size": given, "hidden_size": hidden, "nonlinearity": nonlinearity, "bias": bias}
    parameters = {
        "0.weight_ih_l0": (rng.normal(size=(hidden, given)) * 0.7).round(2).tolist(),
        "0.weight_hh_l0": (rng.normal(size=(hidden, hidden)) * 0.7).round(2).tolist(),
        "2.weight": rng.normal(size=(2, features)).round(2).tolist(),
        "2.bias": rng.normal(size=2).round(2).tolist(),
    }
    if bias:
        parameters |= {"0.bias_ih_l0": (rng.normal(size=hidden) * 0.3).round(2).tolist()}
        parameters |= {"0.bias_hh_l0": (rng.normal(size=hidden) * 0.3).round(2).tolist()}
    return {
        "model": [{"rnn": layer}, top, {"linear": {"in_features": features, "out_features": 2}}],
        "parameters": parameters,
        "loss": "half_sse",
        "learning_rate": 0.1,
        "inputs": rng.normal(size=(steps, given)).round(2).tolist(),
        "targets": rng.normal(size=2).round(2).tolist(),
    }


def _worked(config: dict, slip: str = "") -> dict[str, float]:
    """Every answer of the step, by hand. `slip` "truncated": each shared weight's and bias's
    gradient with the last step's term alone, from the right δnet, x and h."""
    layer, p = config["model"][0]["rnn"], {k: np.array(v) for k, v in config["parameters"].items()}
    x, t = np.array(config["inputs"]), np.array(config["targets"])
    w_ih, w_hh = p["0.weight_ih_l0"], p["0.weight_hh_l0"]
    hidden = len(w_hh)
    b = p.get("0.bias_ih_l0", np.zeros(hidden)) + p.get("0.bias_hh_l0", np.zeros(hidden))
    relu = layer["nonlinearity"] == "relu"
    steps = len(x)
    net, h = np.zeros((steps, hidden)), np.zeros((steps + 1, hidden))  # h[−1]: the state 0
    for step in range(steps):
        net[step] = w_ih @ x[step] + w_hh @ h[step - 1] + b
        h[step] = np.maximum(net[step], 0) if relu else np.tanh(net[step])
    h = h[:steps]
    last = config["model"][1] == "last"
    top = h[-1] if last else h.reshape(-1)
    y2 = p["2.weight"] @ top + p["2.bias"]
    d2 = t - y2  # −∂E/∂y for E = ½Σ(t − y)²
    d0 = np.zeros_like(h)  # the δ from above: the last step's only, through `last`
    if last:
        d0[-1] = p["2.weight"].T @ d2
    else:
        d0 = (p["2.weight"].T @ d2).reshape(h.shape)
    slope = (net > 0).astype(float) if relu else 1 - h**2
    dh, dnet = np.zeros_like(h), np.zeros_like(h)
    for step in reversed(range(steps)):  # back through time
        dh[step] = d0[step] + (w_hh.T @ dnet[step + 1] if step + 1 < steps else 0)
        dnet[step] = slope[step] * dh[step]
    previous = np.vstack([np.zeros(hidden), h[:-1]])  # h[t − 1], the state 0 before t = 0
    terms = range(steps - 1, steps) if slip == "truncated" else range(steps)
    g_ih = -sum(np.outer(dnet[s], x[s]) for s in terms)
    g_hh = -sum(np.outer(dnet[s], previous[s]) for s in terms)
    g_b = -sum(dnet[s] for s in terms)
    arrays = {"net0": net, "h0": h, "y2": y2, "delta2": d2, "deltah0": dh, "deltanet0": dnet}
    arrays |= {"delta0": d0, "dE/dw_ih0": g_ih, "dE/dw_hh0": g_hh}
    if layer["bias"]:
        arrays |= {"dE/db_ih0": g_b, "dE/db_hh0": g_b}
    values = entries(arrays)
    if last:  # through `last`, step T's δ alone is sent down: the others have no row
        kept = f"delta0[{steps - 1},"
        values = {k: v for k, v in values.items() if k.startswith(kept) or "delta0[" not in k}
    return values


class TestTheSlipOfTheRnn(RandomModels):
    config = staticmethod(_config)
    worked = staticmethod(_worked)
    cases = (
        ("truncated", "dE/dw_ih0[", rnn.TRUNCATED),
        ("truncated", "dE/dw_hh0[", rnn.TRUNCATED),
        ("truncated", "dE/db_hh0[", rnn.TRUNCATED),
    )
    elsewhere = (
        ("net0[0,0]", "deltah0[0,0]", "dE/dw_ih0[0,0]"),
        ("dE/dw_hh0[0,0]", "deltanet0[0,0]"),  # δnet at t = 0: not in w_hh's sum
    )
