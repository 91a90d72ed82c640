"""The rnn's named slip on random models: backpropagation through time truncated to the last
step (a shared weight's gradient with step T's term alone), in one layer and in stacked layers
and directions from a given h0. Every value here — right or slipped — is worked by hand with
numpy (tests/rnn_by_hand.py), from the config's numbers, a step at a time forward and back
through time, never read from the program's trace."""

from __future__ import annotations

import numpy as np
import rnn_by_hand
from slips import RandomModels

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


class TestTheSlipOfTheRnn(RandomModels):
    config = staticmethod(_config)
    worked = staticmethod(rnn_by_hand.worked)
    cases = (
        ("truncated", "dE/dw_ih0[", rnn.TRUNCATED),
        ("truncated", "dE/dw_hh0[", rnn.TRUNCATED),
        ("truncated", "dE/db_hh0[", rnn.TRUNCATED),
    )
    elsewhere = (
        ("net0[0,0]", "deltah0[0,0]", "dE/dw_ih0[0,0]"),
        ("dE/dw_hh0[0,0]", "deltanet0[0,0]"),  # δnet at t = 0: not in w_hh's sum
    )


def _stacked(seed: int) -> dict:
    """Two stacked layers from a given h0 (bidirectional on seeds 1, 4 and 6) → last (even
    seeds) or flatten → linear(2), half_sse, T = 3 or 4 steps; relu on seed 5."""
    rng = np.random.default_rng(300 + seed)
    steps, given, hidden = int(rng.integers(3, 5)), int(rng.integers(1, 3)), int(rng.integers(1, 3))
    two = seed in (1, 4, 6)
    directions = 2 if two else 1
    top = "last" if seed % 2 == 0 else "flatten"
    features = directions * hidden * (1 if top == "last" else steps)
    layer = {"input_size": given, "hidden_size": hidden, "num_layers": 2, "bidirectional": two}
    layer |= {"nonlinearity": "relu" if seed == 5 else "tanh"}
    layer["h0"] = (rng.normal(size=(2 * directions, hidden)) * 0.5).round(2).tolist()
    parameters = {}
    for stacked in range(2):
        for tail in ("", "_reverse")[:directions]:
            width = given if stacked == 0 else directions * hidden
            shapes = {"weight_ih": (hidden, width), "weight_hh": (hidden, hidden)}
            shapes |= {"bias_ih": (hidden,), "bias_hh": (hidden,)}
            for kind, shape in shapes.items():
                scale = 0.3 if kind.startswith("bias") else 0.7
                drawn = (rng.normal(size=shape) * scale).round(2)
                parameters[f"0.{kind}_l{stacked}{tail}"] = drawn.tolist()
    parameters["2.weight"] = rng.normal(size=(2, features)).round(2).tolist()
    parameters["2.bias"] = rng.normal(size=2).round(2).tolist()
    return {
        "model": [{"rnn": layer}, top, {"linear": {"in_features": features, "out_features": 2}}],
        "parameters": parameters,
        "loss": "half_sse",
        "learning_rate": 0.1,
        "inputs": rng.normal(size=(steps, given)).round(2).tolist(),
        "targets": rng.normal(size=2).round(2).tolist(),
    }


class TestTheSlipOfAStackedRnnFromAGivenState(RandomModels):
    """The same slip in each stacked layer and direction, w_hh's first term from h0 (the
    working: tests/rnn_by_hand.py, torch's recurrence and BPTT written out with numpy)."""

    config = staticmethod(_stacked)
    worked = staticmethod(rnn_by_hand.worked)
    cases = (
        ("truncated", "dE/dw_ih0_l1[", rnn.TRUNCATED),
        ("truncated", "dE/dw_hh0_l0[", rnn.TRUNCATED),
        ("truncated", "dE/db_ih0_l0[", rnn.TRUNCATED),
        ("truncated", "dE/dw_hh0_l1[", rnn.TRUNCATED),
    )
    elsewhere = (
        ("net0_l0[0,0]", "deltah0_l1[0,0]", "dE/dw_ih0_l0[0,0]"),
        ("dE/dw_hh0_l1[0,0]", "h0_l1[0,0]"),
    )
