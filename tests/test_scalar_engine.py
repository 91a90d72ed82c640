"""The scalar engine (`network/scalar.py`) trains a small network as numpy's engine does, to
1e-12: every built-in example both ways, random networks of every activation, loss and mode
it takes, the stopping rules, traced and kept epochs among fast ones; and XOR's numbers equal a
plain loop written out here from the lecture's equations."""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import pytest

from backtrace_cli import models
from backtrace_cli.core import examples
from backtrace_cli.core.errors import ConfigError
from backtrace_cli.network import config, scalar, training
from backtrace_cli.network.spec import Spec

RTOL = 1e-12
# the built-in networks the scalar engine runs; the other (dropout256: 769 parameters) trains
# on numpy alone
FAST = {
    "softmax",
    "xor",
    "lecture",
    "mazur",
    "chain_rule",
    "adam",
    "momentum",
    "xor_momentum",
    "lecture_dropout",
}


def networks() -> dict[str, Spec]:
    loaded = {name: models.load(name) for name in examples.example_names()}
    return {name: spec for name, spec in loaded.items() if isinstance(spec, Spec)}


def assert_same(fast: training.Training, slow: training.Training) -> None:
    """Two trainings agree to RTOL: the losses relative to the largest (a loss that falls to
    near 0 is (t − o)², o exact to an ulp in either: its own relative error grows without
    bound as it falls), accuracy, kept snapshots and the final network."""
    assert (fast.stop, fast.epochs_run) == (slow.stop, slow.epochs_run)
    for a, b in [
        (fast.losses, slow.losses),
        (fast.losses_after, slow.losses_after),
        (fast.accuracy, slow.accuracy),
    ]:
        if b is None:
            assert a is None
        else:
            np.testing.assert_allclose(a, b, rtol=RTOL, atol=RTOL * float(np.abs(b).max()))
    assert [s.epoch for s in fast.snapshots] == [s.epoch for s in slow.snapshots]
    pairs = [(a.outputs, b.outputs) for a, b in zip(fast.snapshots, slow.snapshots)]
    pairs += list(zip(fast.final.weights, slow.final.weights))
    pairs += [
        (a, b) for a, b in zip(fast.final.biases or (), slow.final.biases or ()) if b is not None
    ]
    mine, theirs = fast.final.optimizer_state, slow.final.optimizer_state
    if theirs is None:
        assert mine is None
    else:
        assert mine is not None and mine.t == theirs.t
        assert [k for k, _ in mine.values] == [k for k, _ in theirs.values]
        pairs += [(a, b) for (_, a), (_, b) in zip(mine.values, theirs.values)]
    for a, b in pairs:
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=RTOL * (1 + float(np.abs(b).max())))


def both(spec: Spec, epochs: int, **options: Any) -> tuple[training.Training, ...]:
    return tuple(training.train(spec, epochs, fast=f, **options) for f in (True, False))


def test_the_scalar_engine_runs_every_small_built_in_network():
    assert {name for name, spec in networks().items() if scalar.runner(spec)} == FAST


@pytest.mark.parametrize("name", sorted(networks()))
def test_every_built_in_network_trains_the_same_both_ways(name):
    spec = networks()[name]
    epochs = 150 if name in FAST else 20
    fast, slow = both(spec, epochs, keep=lambda e: e % 37 == 0, traced={epochs // 2})
    assert_same(fast, slow)


def test_xor_is_a_plain_loop_written_from_the_lecture():
    """The lecture's update, w ← w + η·δ·o with δ = o(1 − o)(t − o) at the output and
    o(1 − o)·w·δ below, sample by sample, on floats: the loss before each update and the
    weights after 2,000 epochs."""
    w13, w23, w14, w24, w35, w45, b3, b4, b5 = 0.2, -0.4, 0.7, 0.1, 0.6, -0.3, 0.1, -0.2, 0.3
    losses = []
    for _ in range(2000):
        total = 0.0
        for x1, x2, t in [(0, 0, 0), (0, 1, 1), (1, 0, 1), (1, 1, 0)]:
            o3 = 1 / (1 + math.exp(-(w13 * x1 + w23 * x2 + b3)))
            o4 = 1 / (1 + math.exp(-(w14 * x1 + w24 * x2 + b4)))
            o5 = 1 / (1 + math.exp(-(w35 * o3 + w45 * o4 + b5)))
            total += 0.5 * (t - o5) ** 2
            d5 = o5 * (1 - o5) * (t - o5)
            d3, d4 = o3 * (1 - o3) * w35 * d5, o4 * (1 - o4) * w45 * d5
            w35, w45, b5 = w35 + d5 * o3, w45 + d5 * o4, b5 + d5
            w13, w23, b3 = w13 + d3 * x1, w23 + d3 * x2, b3 + d3
            w14, w24, b4 = w14 + d4 * x1, w24 + d4 * x2, b4 + d4
        losses.append(total / 4)
    done = training.train(config.load("xor"), 2000)
    np.testing.assert_allclose(done.losses, losses, rtol=RTOL)
    weights = [[[w13, w23], [w14, w24]], [[w35, w45]]]
    for mine, theirs in zip(done.final.weights, weights):
        np.testing.assert_allclose(mine, theirs, rtol=RTOL)
    np.testing.assert_allclose(np.concatenate(done.final.biases), [b3, b4, b5], rtol=RTOL)


ACTIVATIONS = ["sigmoid", "tanh", "relu", "leaky_relu", "elu", "linear"]


def _targets(rng: np.random.Generator, n: int, distribution: bool) -> list[float]:
    """Targets in [0, 1]; for cross-entropy one-hot (a class), as a config gives them."""
    if distribution:
        right = int(rng.integers(n))
        return [1.0 if j == right else 0.0 for j in range(n)]
    return rng.random(n).round(3).tolist()


def random_network(seed: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    layers = [int(n) for n in rng.integers(1, 4, size=int(rng.integers(2, 5)))]
    loss = str(rng.choice(["half_sse", "sse", "mse", "bce", "cross_entropy"]))
    activations = [str(rng.choice(ACTIVATIONS)) for _ in layers[1:]]
    if loss == "bce":
        activations[-1] = "sigmoid"
    if loss == "cross_entropy":  # softmax over the outputs, the targets a distribution
        activations[-1], layers[-1] = "softmax", max(2, layers[-1])
    mode = str(rng.choice(["online", "batch"]))
    data: dict[str, Any] = {
        "layers": layers,
        "activations": activations,
        "loss": loss,
        "learning_rate": float(rng.choice([0.02, 0.05, 0.1])),
        "mode": mode,
        "batch_gradient": str(rng.choice(["mean", "sum"])),
        "samples": [
            {
                "inputs": rng.normal(size=layers[0]).round(3).tolist(),
                "targets": _targets(rng, layers[-1], loss == "cross_entropy"),
            }
            for _ in range(int(rng.integers(1, 6)))
        ],
        "weights": [
            rng.normal(scale=0.8, size=(n, m)).round(3).tolist()
            for m, n in itertools.pairwise(layers)
        ],
    }
    if mode == "online" and rng.random() < 0.4:
        data |= {"shuffle": True, "seed": int(rng.integers(100))}
    if rng.random() < 0.7:
        data["biases"] = [rng.normal(size=n).round(3).tolist() for n in layers[1:]]
        data["train_biases"] = bool(rng.random() < 0.8)
    if rng.random() < 0.3:  # dropout on the inputs and hidden layers, drawn or shared
        rates = {"inputs": 0.2} | {f"hidden{k}": 0.5 for k in range(1, len(layers) - 1)}
        data["dropout"] = {"rate": rates, "seed": int(rng.integers(100))}
        if mode == "batch":
            data["dropout"]["shared_mask"] = bool(rng.random() < 0.5)
    optimizer = str(
        rng.choice(["sgd", "sgd", "momentum", "nesterov", "rmsprop", "adagrad", "adam"])
    )
    if optimizer != "sgd":
        data["optimizer"] = {"name": optimizer}
        data["learning_rate"] /= 5  # the adaptive ones step η whatever the gradient's size
    return data


@pytest.mark.parametrize("seed", range(40))
def test_random_networks_train_the_same_both_ways(seed):
    spec = config.from_dict(random_network(seed))
    assert scalar.runner(spec) is not None
    fast, slow = both(spec, 60, keep=lambda e: e in (1, 30, 31))
    # at η ≤ 0.1 no draw diverges or oscillates (which would amplify rounding without bound)
    assert slow.stop == "completed" and max(float(np.abs(w).max()) for w in slow.final.weights) < 50
    assert_same(fast, slow)


def test_the_stopping_rules_fire_at_the_same_epoch_both_ways():
    spec = config.load("xor")
    fast, slow = both(spec, 5000, until_loss=0.05)
    assert fast.stop == slow.stop == "until_loss"
    assert fast.stop_reason == slow.stop_reason
    assert_same(fast, slow)
    wild = config.from_dict({**random_network(3), "learning_rate": 40.0, "loss": "sse"})
    fast, slow = both(wild, 400)
    assert fast.stop == slow.stop and fast.epochs_run == slow.epochs_run
    assert fast.stop_reason == slow.stop_reason


def test_an_overflow_on_floats_hands_the_epochs_to_numpy():
    """e^−net of a net below −709 overflows a float (numpy's σ gives 0): the scalar engine stops
    and numpy runs the rest, so the run is numpy's."""
    spec = config.from_dict(
        {
            "layers": [1, 1],
            "activation": "sigmoid",
            "loss": "half_sse",
            "learning_rate": 0.1,
            "inputs": [800.0],
            "targets": [0.5],
            "weights": [[[-1.0]]],
        }
    )
    fast, slow = both(spec, 50)
    assert_same(fast, slow)


def test_an_overflow_in_the_first_epoch_is_the_same_error_both_ways():
    data = {**random_network(5), "learning_rate": 1e200}
    messages = []
    for fast in (True, False):
        with pytest.raises(ConfigError) as caught:
            training.train(config.from_dict(data), 10, fast=fast)
        messages.append(str(caught.value))
    assert messages[0] == messages[1]


def test_a_formula_that_is_not_its_engines_numbers_leaves_the_network_to_numpy():
    """leaky_relu's slope is written with 6 significant digits: 0.123456789 is not what the
    trace's formula says, so the scalar engine does not run it from that formula."""
    data = {**random_network(1), "activation": "leaky_relu", "leaky_relu_slope": 0.123456789}
    data["loss"] = "half_sse"
    data.pop("activations")
    assert scalar.runner(config.from_dict(data)) is None
    data["leaky_relu_slope"] = 0.25
    assert scalar.runner(config.from_dict(data)) is not None


def test_wide_networks_weight_decay_and_adamw_stay_on_numpy():
    wide = {**random_network(2), "layers": [2, 64, 2], "loss": "half_sse"}
    wide["weights"] = [np.full((64, 2), 0.1).tolist(), np.full((2, 64), 0.1).tolist()]
    wide.pop("biases", None)
    wide["activations"] = ["tanh", "sigmoid"]
    wide["samples"] = [{"inputs": [0.1, 0.2], "targets": [0.3, 0.4]}]
    assert scalar.runner(config.from_dict(wide)) is None
    small = random_network(2)
    assert scalar.runner(config.from_dict(small)) is not None
    assert scalar.runner(config.from_dict({**small, "weight_decay": 0.01})) is None
    assert scalar.runner(config.from_dict({**small, "optimizer": {"name": "adamw"}})) is None


def test_a_short_run_stays_on_numpy_where_building_the_engine_would_not_pay():
    """Left to choose, train builds the engine from scalar.WORTH updates on: 10 epochs of XOR's
    four samples are numpy's, bit for bit."""
    spec = config.load("xor")
    assert 10 * len(spec.samples) < scalar.WORTH <= 2000 * len(spec.samples)
    chosen, numpy = training.train(spec, 10), training.train(spec, 10, fast=False)
    for a, b in zip(chosen.final.weights, numpy.final.weights):
        assert np.array_equal(a, b)
    assert np.array_equal(chosen.losses, numpy.losses)
