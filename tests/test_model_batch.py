"""A `model:`'s samples, epochs and batches (issue #28): `shuffle:` as a network shuffles,
`epochs_done` written by `step --save` (a resumed run draws the masks and orders its whole run
would have). Expected numbers: numpy derivations in this file (SGD worked by hand), and
the orders and masks from their documented definitions (numpy's Generator seeded with
(seed, epoch), and (seed, epoch, "DROP", position))."""

from __future__ import annotations

import numpy as np
import pytest
import yaml
from test_model_dropout import HAND

from backtrace_cli import api, models, tracing
from backtrace_cli.cli import cli

XOR = [
    {"inputs": [0.0, 0.0], "targets": [0.1]},
    {"inputs": [0.0, 1.0], "targets": [0.9]},
    {"inputs": [1.0, 0.0], "targets": [0.9]},
    {"inputs": [1.0, 1.0], "targets": [0.1]},
]
W1, B1 = [[0.2, -0.4], [0.7, 0.1]], [0.1, -0.2]
W2, B2 = [[0.6, -0.3]], [0.3]
SEED = 5

# the 2-2-1 sigmoid network, as `layers:` and as a model of tensor layers (flatten, on a
# vector the identity, makes it one: it is traced layer by layer, not read as a network)
NETWORK = {
    "layers": [2, 2, 1],
    "activation": "sigmoid",
    "loss": "half_sse",
    "learning_rate": 0.5,
    "samples": XOR,
    "weights": {"layout": "units × inputs", "matrices": [W1, W2]},
    "biases": [B1, B2],
    "shuffle": True,
    "seed": SEED,
}
MODEL = {
    "model": [
        {"linear": {"in_features": 2, "out_features": 2}},
        "sigmoid",
        "flatten",
        {"linear": {"in_features": 2, "out_features": 1}},
        "sigmoid",
    ],
    "parameters": {"0.weight": W1, "0.bias": B1, "3.weight": W2, "3.bias": B2},
    "loss": "half_sse",
    "learning_rate": 0.5,
    "samples": XOR,
    "shuffle": True,
    "seed": SEED,
}


def _order(seed: int, epoch: int, count: int) -> list[int]:
    """The documented shuffle: numpy's Generator seeded with (seed, epoch), a permutation."""
    return [int(i) + 1 for i in np.random.default_rng([seed, epoch]).permutation(count)]


def _orders(spec, epochs: int) -> list[list[int]]:
    """The sample numbers each epoch's steps take, in order (every model's `steps`)."""
    steps = tracing.model(spec).steps(spec, epochs, None, None)
    return [[sample for epoch, sample, *_ in steps if epoch == e] for e in range(1, epochs + 1)]


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def test_a_model_takes_its_samples_in_the_networks_shuffled_order():
    model, network = models.from_dict(MODEL), models.from_dict(NETWORK)
    assert type(model).__name__ == "ModelSpec" and type(network).__name__ == "Spec"
    expected = [_order(SEED, epoch, 4) for epoch in range(1, 5)]
    assert any(order != [1, 2, 3, 4] for order in expected)  # the seed does shuffle
    assert len({tuple(o) for o in expected}) > 1  # a new order each epoch
    assert _orders(model, 4) == expected == _orders(network, 4)


def test_a_shuffled_model_trains_as_sgd_in_those_orders_and_as_the_network():
    w1, b1, w2, b2 = (np.array(a, dtype=float) for a in (W1, B1, W2, B2))
    for epoch in range(1, 7):  # online SGD by hand, δ = (t − o)·o(1 − o), w ← w + η·δ·o
        for n in _order(SEED, epoch, 4):
            x, t = (np.array(XOR[n - 1][k]) for k in ("inputs", "targets"))
            h = _sigmoid(w1 @ x + b1)
            y = _sigmoid(w2 @ h + b2)
            d2 = (t - y) * y * (1 - y)
            d1 = (w2.T @ d2) * h * (1 - h)
            w2, b2 = w2 + 0.5 * np.outer(d2, h), b2 + 0.5 * d2
            w1, b1 = w1 + 0.5 * np.outer(d1, x), b1 + 0.5 * d1
    final = dict(api.train(models.from_dict(MODEL), 6).records.final.parameters)
    for name, value in {"0.weight": w1, "0.bias": b1, "3.weight": w2, "3.bias": b2}.items():
        np.testing.assert_allclose(final[name], value, rtol=1e-12, atol=1e-15)
    trained = api.train(models.from_dict(NETWORK), 6).records.final
    np.testing.assert_allclose(trained.weights[0], w1, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(trained.weights[1], w2, rtol=1e-12, atol=1e-15)


def test_a_shuffled_models_problem_says_so():
    text = api.trace(models.from_dict(MODEL)).text("markdown")
    assert "It is trained on 4 samples (shuffled every epoch) with the loss" in text
    unshuffled = {**MODEL, "shuffle": False}
    assert "(shuffled every epoch)" not in api.trace(models.from_dict(unshuffled)).text()


# ---------------------------------------------------------------- epochs_done: resumed runs

# test_model_dropout's worked step, its mask drawn (seed 3), on three samples
DROPOUT = {
    **{key: value for key, value in HAND.items() if key not in ("name", "inputs", "targets")},
    "model": [*HAND["model"][:2], {"dropout": {"p": 0.5, "seed": 3}}, HAND["model"][3]],
    "samples": [
        {"inputs": [1.0, 0.5, -0.5], "targets": [0.7]},
        {"inputs": [0.2, -0.4, 0.9], "targets": [0.1]},
        {"inputs": [-0.6, 0.3, 0.8], "targets": [0.5]},
    ],
}
RESUMED = {
    "dropout online": DROPOUT,
    "dropout batch": {**DROPOUT, "mode": "batch"},
    "shuffled": MODEL,
    "shuffled dropout, adam": {**DROPOUT, "shuffle": True, "seed": 2, "optimizer": "adam"},
}


def _step(runner, tmp_path, source, epochs: int, name: str) -> dict:
    saved = tmp_path / name
    result = runner.invoke(cli, ["step", str(source), "-n", str(epochs), "--save", str(saved)])
    assert result.exit_code == 0, result.output
    return yaml.safe_load(saved.read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", RESUMED)
def test_step_4_equals_step_2_saved_then_step_2_bit_for_bit(runner, tmp_path, case):
    source = tmp_path / "model.yaml"
    source.write_text(yaml.safe_dump(RESUMED[case]), encoding="utf-8")
    whole = _step(runner, tmp_path, source, 4, "whole.yaml")
    half = _step(runner, tmp_path, source, 2, "half.yaml")
    assert half["epochs_done"] == 2
    rest = _step(runner, tmp_path, tmp_path / "half.yaml", 2, "rest.yaml")
    assert rest["epochs_done"] == whole["epochs_done"] == 4
    assert rest["parameters"] == whole["parameters"]  # YAML floats round-trip: bit for bit
    assert rest.get("optimizer_state") == whole.get("optimizer_state")
    # without the count its epochs 3 and 4 would draw epoch 1's and 2's masks and orders again
    forgot = {key: value for key, value in half.items() if key != "epochs_done"}
    (tmp_path / "forgot.yaml").write_text(yaml.safe_dump(forgot), encoding="utf-8")
    again = _step(runner, tmp_path, tmp_path / "forgot.yaml", 2, "again.yaml")
    assert again["parameters"] != whole["parameters"]


def test_a_saved_dropout_models_next_run_draws_epoch_3s_masks(runner, tmp_path):
    source = tmp_path / "model.yaml"
    source.write_text(yaml.safe_dump(DROPOUT), encoding="utf-8")
    _step(runner, tmp_path, source, 2, "half.yaml")
    spec = models.load(str(tmp_path / "half.yaml"))
    # drawn as documented: kept where a uniform draw from (seed, epoch, "DROP", position) ≥ p
    rng = np.random.default_rng([3, 3, 0x44524F50, 2])
    expected = (rng.random((3, 4)) >= 0.5).astype(float)
    for step, keep in zip(api.trace(spec).records.steps, expected):
        masks = {
            name: value
            for _, row in step.equations()
            for name, value in row.values().items()
            if name.startswith("m2[")
        }
        assert [masks[f"m2[{j}]"] for j in range(4)] == keep.tolist()


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("shuffle", "maybe", "shuffle: 'maybe' is not true or false"),
        ("epochs_done", -1, "epochs_done: -1 is out of range; expected a whole number of epochs"),
        ("seed", 1.5, "seed: 1.5 is not a whole number; expected a whole number ≥ 0"),
    ],
)
def test_a_bad_shuffle_seed_or_epochs_done_names_the_field(runner, tmp_path, key, value, message):
    path = tmp_path / "model.yaml"
    path.write_text(yaml.safe_dump({**DROPOUT, "shuffle": True, key: value}), encoding="utf-8")
    result = runner.invoke(cli, ["run", str(path)])
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output
