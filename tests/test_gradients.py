"""The engine is general: on random networks, its gradients are finite differences of the loss.

The loss here is computed by a forward pass written independently in this file, with the
losses' textbook formulas; the engine's own forward pass is not used for the expectation.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pytest import approx

from backtrace_cli.network import config, engine

ACTIVATIONS = {
    "sigmoid": lambda z: 1 / (1 + np.exp(-z)),
    "tanh": np.tanh,
    "relu": lambda z: np.where(z > 0, z, 0.0),
    "linear": lambda z: z,
}


def loss_of(name: str, o: np.ndarray, t: np.ndarray) -> float:
    """The losses as PRODUCT.md defines them, for one sample."""
    if name == "half_sse":
        return float(0.5 * np.sum((t - o) ** 2))
    if name == "sse":
        return float(np.sum((o - t) ** 2))
    if name == "mse":
        return float(np.mean((o - t) ** 2))
    return float(-np.mean(t * np.log(o) + (1 - t) * np.log(1 - o)))  # bce


def forward(
    weights: list[np.ndarray], biases: list[np.ndarray] | None, acts: list[str], x: np.ndarray
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    nets, outs = [], [x]
    for k, w in enumerate(weights):
        net = w @ outs[-1] + _bias(biases, k)
        nets.append(net)
        outs.append(ACTIVATIONS[acts[k]](net))
    return nets, outs


def _bias(biases, k: int):
    """Layer k's biases, or 0 where the network or the layer has none."""
    return 0.0 if biases is None or biases[k] is None else biases[k]


def _arrays(biases):
    return None if biases is None else [None if v is None else np.array(v, float) for v in biases]


def total_loss(data: dict[str, Any], weights, biases, rows) -> float:
    """The quantity one update descends: summed over its samples, or averaged in batch mean."""
    acts = data["activations"]
    values = [
        loss_of(
            data["loss"],
            forward(weights, biases, acts, np.array(s["inputs"]))[1][-1],
            np.array(s["targets"]),
        )
        for s in rows
    ]
    mean = data["mode"] == "batch" and data["batch_gradient"] == "mean"
    return sum(values) / len(values) if mean else sum(values)


@st.composite
def networks(draw: st.DrawFn) -> dict[str, Any]:
    layers = draw(st.lists(st.integers(1, 4), min_size=2, max_size=4))
    count = len(layers) - 1
    acts = draw(st.lists(st.sampled_from(sorted(ACTIVATIONS)), min_size=count, max_size=count))
    loss = draw(st.sampled_from(["half_sse", "sse", "mse", "bce"]))
    if loss == "bce":
        acts[-1] = "sigmoid"
    value = st.floats(-1.5, 1.5, allow_nan=False).map(lambda v: round(v, 3))
    weights = [
        [[draw(value) for _ in range(layers[k])] for _ in range(layers[k + 1])]
        for k in range(count)
    ]
    with_biases = draw(st.booleans())
    # some layers with biases and others without ("hidden biases, no output bias") too
    biases = (
        [[draw(value) for _ in range(n)] if draw(st.booleans()) else None for n in layers[1:]]
        if with_biases
        else None
    )
    unit = st.floats(0.05, 0.95) if loss == "bce" else value
    n_samples = draw(st.integers(1, 3))
    samples = [
        {
            "inputs": [draw(value) for _ in range(layers[0])],
            "targets": [draw(unit) for _ in range(layers[-1])],
        }
        for _ in range(n_samples)
    ]
    data: dict[str, Any] = {
        "layers": layers,
        "activations": acts,
        "loss": loss,
        "learning_rate": draw(st.sampled_from([0.1, 0.5, 1.0])),
        "samples": samples,
        "mode": draw(st.sampled_from(["online", "batch"])),
        "batch_gradient": draw(st.sampled_from(["mean", "sum"])),
        "weights": weights,
        "train_biases": draw(st.booleans()),
    }
    if biases is not None:
        data["biases"] = biases
    return data


def away_from_relu_kinks(data: dict[str, Any], weights, biases, rows) -> bool:
    """Finite differences are meaningless at a relu's corner: keep |net| of relu units clear,
    for the weights each update actually starts from."""
    for s in rows:
        nets, _ = forward(weights, biases, data["activations"], np.array(s["inputs"]))
        for net, act in zip(nets, data["activations"]):
            if act == "relu" and np.min(np.abs(net)) < 1e-3:
                return False
    return True


H = 1e-6


def fd_tolerance(loss: float) -> float:
    """How far a central difference can be off by rounding alone: each loss evaluation is
    exact to about ε·|E|, divided by the step 2H — about 1e-10·|E| — so allow 1e-8·|E|
    (large after an update at η = 1 on a linear network) on top of a fixed 1e-7."""
    return 1e-7 + 1e-8 * abs(loss)


def numeric(
    data: dict[str, Any],
    weights,
    biases,
    rows,
    which: str,
    k: int,
    index: tuple[int, ...],
    loss=total_loss,
) -> float:
    """Central finite difference of `loss` with respect to one parameter."""

    def shifted(step: float) -> float:
        w = [m.copy() for m in weights]
        b = _arrays(biases)
        (w if which == "w" else b)[k][index] += step
        return loss(data, w, b, rows)

    return (shifted(H) - shifted(-H)) / (2 * H)


# 90 random networks a run (each run draws new ones): a sample, as the suite is held to 60 s
@settings(max_examples=90, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(networks())
def test_gradients_equal_finite_differences(data):
    spec = config.from_dict(data)
    done = engine.epoch(spec)
    weights = [np.array(m, dtype=float) for m in data["weights"]]
    biases = _arrays(data.get("biases"))
    groups = [data["samples"]] if data["mode"] == "batch" else [[s] for s in data["samples"]]
    for update, rows in zip(done.updates, groups):
        assume(away_from_relu_kinks(data, weights, biases, rows))
        tolerance = fd_tolerance(total_loss(data, weights, biases, rows))
        for k, layer in enumerate(update.layers):
            for index in np.ndindex(layer.gradient.shape):
                expected = numeric(data, weights, biases, rows, "w", k, index)
                assert layer.gradient[index] == approx(expected, rel=1e-5, abs=tolerance)
            if biases is not None and biases[k] is not None:
                for j in range(len(biases[k])):
                    expected = numeric(data, weights, biases, rows, "b", k, (j,))
                    assert layer.bias_gradient[j] == approx(expected, rel=1e-5, abs=tolerance)
        # the next update starts from this one's weights: w ← w − η·∂E/∂w
        eta = data["learning_rate"]
        weights = [w - eta * layer.gradient for w, layer in zip(weights, update.layers)]
        for w, layer in zip(weights, update.layers):
            assert layer.weights_after == approx(w, rel=1e-12, abs=1e-12)
        if biases is not None and data["train_biases"]:
            biases = [
                None if b is None else b - eta * layer.bias_gradient
                for b, layer in zip(biases, update.layers)
            ]
        if biases is not None:
            for b, layer in zip(biases, update.layers):
                if b is None:
                    assert layer.biases_after is None and layer.bias_gradient is None
                else:
                    assert layer.biases_after == approx(b, rel=1e-12, abs=1e-12)


@settings(max_examples=100, deadline=None)
@given(networks())
def test_delta_is_minus_dE_dnet(data):
    """δ_j = −∂E/∂net_j: perturb each unit's net input in a forward pass written here."""
    data = {**data, "mode": "online"}
    spec = config.from_dict(data)
    update = engine.epoch(spec).updates[0]
    weights = [np.array(m, dtype=float) for m in data["weights"]]
    biases = _arrays(data.get("biases"))
    sample = data["samples"][0]
    acts = data["activations"]
    assume(away_from_relu_kinks(data, weights, biases, [sample]))

    def loss_with_net_shift(layer: int, unit: int, step: float) -> float:
        out = np.array(sample["inputs"], dtype=float)
        for k, w in enumerate(weights):
            net = w @ out + _bias(biases, k)
            if k == layer:
                net = net.copy()
                net[unit] += step
            out = ACTIVATIONS[acts[k]](net)
        return loss_of(data["loss"], out, np.array(sample["targets"]))

    for k, layer in enumerate(update.layers):
        for j in range(layer.delta.shape[1]):
            d_net = (loss_with_net_shift(k, j, H) - loss_with_net_shift(k, j, -H)) / (2 * H)
            assert layer.delta[0, j] == approx(-d_net, rel=1e-5, abs=1e-7)


def test_sigmoid_and_bce_are_stable_for_large_net_inputs():
    import warnings

    data = {
        "layers": [1, 1],
        "activation": "sigmoid",
        "loss": "bce",
        "learning_rate": 1,
        "inputs": [1000.0],
        "targets": [0.0],
        "weights": {"w12": 1.0},
    }
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow warning fails the test
        done = engine.epoch(config.from_dict(data))
    update = done.updates[0]
    # o = σ(1000) = 1 to double precision; bce = −ln(1 − o) = softplus(1000) = 1000 (+e^−1000)
    assert update.loss[0] == approx(1000.0)
    assert update.layers[0].delta[0, 0] == approx(-1.0)  # δ = t − o
    assert math.isfinite(done.loss_after)


def test_wide_sigmoid_is_exact_and_quiet_at_the_extremes():
    """Layers wider than 512 units take the in-place path: same values as σ written out."""
    import warnings

    net = np.linspace(-800, 800, 1001).reshape(1, -1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        wide = engine.sigmoid(net)
    assert not np.isnan(wide).any()
    # σ(x) = e^x/(1 + e^x) below 0 and 1/(1 + e^−x) above: neither form overflows on its side
    with np.errstate(under="ignore"):
        expected = np.where(
            net < 0,
            np.exp(np.minimum(net, 0)) / (1 + np.exp(np.minimum(net, 0))),
            1 / (1 + np.exp(-np.maximum(net, 0))),
        )
    assert wide == approx(expected, rel=1e-15, abs=1e-300)


def test_the_hidden_chain_rule_rows_are_finite_differences_of_the_lecture():
    """`run --gradients` on the lecture: ∂E/∂o3, ∂o3/∂net3 and ∂E/∂w13 as rows, each equal
    to a central finite difference of E computed here from the notes' network."""
    import backtrace_cli as bt

    def sigma(z: float) -> float:
        return 1 / (1 + math.exp(-z))

    w = {"w13": 0.1, "w23": 0.8, "w14": 0.4, "w24": 0.6, "w35": 0.3, "w45": 0.9}
    x1, x2, t5 = 0.35, 0.9, 0.5

    def loss(weights: dict[str, float], o3_shift: float = 0.0) -> float:
        o3 = sigma(weights["w13"] * x1 + weights["w23"] * x2) + o3_shift
        o4 = sigma(weights["w14"] * x1 + weights["w24"] * x2)
        o5 = sigma(weights["w35"] * o3 + weights["w45"] * o4)
        return 0.5 * (t5 - o5) ** 2

    h = 1e-6
    dE_do3 = (loss(w, h) - loss(w, -h)) / (2 * h)
    dE_dw13 = (loss({**w, "w13": 0.1 + h}) - loss({**w, "w13": 0.1 - h})) / (2 * h)
    o3 = sigma(0.1 * x1 + 0.8 * x2)
    rows = {
        e["symbol"]: e["value"]
        for e in bt.trace("lecture", gradients=True).json()["steps"][0]["equations"]
    }
    assert rows["∂E/∂o3"] == approx(dE_do3, rel=1e-6)
    assert rows["∂o3/∂net3"] == approx(o3 * (1 - o3), rel=1e-12)
    assert rows["∂net3/∂w13"] == approx(x1)
    assert rows["∂E/∂w13"] == approx(dE_dw13, rel=1e-6)
    assert rows["∂E/∂w13"] == approx(rows["∂E/∂o3"] * rows["∂o3/∂net3"] * x1, rel=1e-12)
