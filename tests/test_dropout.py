"""Dropout as Keras does it: every expectation here is derived in this file, by hand or by a
forward pass written independently, never read back from the program's output."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest
from conftest import equations, run_json
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from pytest import approx
from test_gradients import ACTIVATIONS, fd_tolerance, loss_of, numeric

from backtrace_cli.cli import cli
from backtrace_cli.network import config, engine, training


def sigma(z: float) -> float:
    return 1 / (1 + math.exp(-z))


# ---------------------------------------------------------------- the lecture, unit 4 dropped


def test_explicit_mask_every_number_by_hand(runner):
    """lecture_dropout: w13 0.1, w23 0.8, w14 0.4, w24 0.6, w35 0.3, w45 0.9; x = (0.35, 0.9),
    t5 = 0.5, η = 1, rate 0.5, mask (1, 0) on units 3 and 4."""
    o3, o4 = sigma(0.1 * 0.35 + 0.8 * 0.9), sigma(0.4 * 0.35 + 0.6 * 0.9)
    kept3, kept4 = o3 * 2, 0.0  # kept doubled at rate 0.5; dropped passes 0
    net5 = 0.3 * kept3 + 0.9 * kept4
    o5 = sigma(net5)
    delta5 = o5 * (1 - o5) * (0.5 - o5)
    delta3 = o3 * (1 - o3) * 2 * 0.3 * delta5  # ∂õ3/∂o3 = 1/(1 − 0.5) = 2
    new = {
        "w35": 0.3 + delta5 * kept3,
        "w45": 0.9,  # out of the dropped unit: δ5·õ4 = 0
        "w13": 0.1 + delta3 * 0.35,
        "w23": 0.8 + delta3 * 0.9,
        "w14": 0.4,  # into the dropped unit: δ4 = 0
        "w24": 0.6,
    }
    # inference after the update: no dropout, new weights
    after_o5 = sigma(
        new["w35"] * sigma(new["w13"] * 0.35 + new["w23"] * 0.9)
        + new["w45"] * sigma(new["w14"] * 0.35 + new["w24"] * 0.9)
    )

    doc = run_json(runner, "lecture_dropout")
    got = equations(doc)
    assert got["o4"] == approx(o4, rel=1e-12)  # computed, then dropped
    assert got["õ3"] == approx(kept3, rel=1e-12)
    assert got["õ4"] == 0
    assert got["net5"] == approx(net5, rel=1e-12)
    assert got["o5"] == approx(o5, rel=1e-12)
    assert got["δ5"] == approx(delta5, rel=1e-12)
    assert got["δ3"] == approx(delta3, rel=1e-12)
    assert got["δ4"] == 0
    for name, value in new.items():
        assert got[f"new {name}"] == approx(value, rel=1e-12), name
    assert got["Δw45"] == 0 and got["Δw14"] == 0 and got["Δw24"] == 0
    layer = doc["steps"][0]["layers"][0]
    assert layer["mask"] == [1, 0]
    assert layer["out_after_dropout"] == approx([kept3, 0.0])
    assert doc["steps"][0]["loss"] == approx(0.5 * (0.5 - o5) ** 2, rel=1e-12)
    # the loss after the update, and the like-for-like loss before, are without dropout
    assert doc["summary"]["loss_after"] == approx(0.5 * (0.5 - after_o5) ** 2, rel=1e-12)
    assert doc["summary"]["loss_before_without_dropout"] == approx(0.018104, abs=5e-7)
    assert doc["network"]["dropout"]["rates"] == {"inputs": 0, "hidden1": 0.5}


def test_trace_shows_the_mask_the_zero_term_and_why_weights_stay(runner):
    result = runner.invoke(cli, ["run", "lecture_dropout"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Dropout · hidden layer 1 (rate 0.5)" in out
    assert "m_j·o_j/(1 − 0.5) = m_j·o_j·2" in out  # the scaling, written out once
    assert "0·0.663739·2" in out and "dropped" in out
    assert "w35·õ3 + w45·õ4" in out and "0.9·0" in out  # the dropped term is visible as 0
    assert "rate 0.5 on 2 units: 1 expected to be dropped, 1 dropped in this step (unit 4)" in out
    assert "unchanged: unit 4 dropped (δ = 0)" in out
    assert "unchanged: unit 4 dropped (passes 0)" in out
    assert all(len(line) <= 80 for line in out.splitlines())


def test_input_dropout_and_the_scale_for_other_rates(runner, tmp_path):
    """Dropout after the inputs, rate 0.2: x̃ = m·x/0.8."""
    path = tmp_path / "net.yaml"
    path.write_text(
        "layers: [2, 1]\nactivation: linear\nloss: half_sse\nlearning_rate: 1\n"
        "inputs: [0.5, 2]\ntargets: [1]\nweights: {w13: 0.5, w23: 0.25}\n"
        "dropout: {rate: {inputs: 0.2}, masks: {inputs: [0, 1]}}\n"
    )
    doc = run_json(runner, str(path))
    got = equations(doc)
    assert got["x̃1"] == 0
    assert got["x̃2"] == approx(2 / 0.8, rel=1e-12)
    o3 = 0.25 * 2 / 0.8
    assert got["o3"] == approx(o3, rel=1e-12)
    assert got["new w23"] == approx(0.25 + (1 - o3) * 2 / 0.8, rel=1e-12)
    assert got["new w13"] == 0.5
    assert doc["steps"][0]["input_mask"] == [0, 1]
    text = runner.invoke(cli, ["run", str(path)]).output
    assert "x̃_j = m_j·x_j/(1 − 0.2)" in text and "m1·x1/0.8" in text


# ---------------------------------------------------------------- gradients through a fixed mask


@st.composite
def masked_networks(draw: st.DrawFn) -> dict[str, Any]:
    layers = draw(st.lists(st.integers(1, 4), min_size=3, max_size=4))
    count = len(layers) - 1
    acts = draw(st.lists(st.sampled_from(sorted(ACTIVATIONS)), min_size=count, max_size=count))
    loss = draw(st.sampled_from(["half_sse", "sse", "mse", "bce"]))
    if loss == "bce":
        acts[-1] = "sigmoid"
    value = st.floats(-1.5, 1.5, allow_nan=False).map(lambda v: round(v, 3))
    rate = st.sampled_from([0.1, 0.25, 0.5, 0.8])
    names = ["inputs"] + [f"hidden{k}" for k in range(1, count)]
    rates = {n: draw(rate) for n in names if draw(st.booleans())} or {"hidden1": 0.5}
    masks = {
        n: [draw(st.sampled_from([0, 1])) for _ in range(layers[names.index(n)])] for n in rates
    }
    unit = st.floats(0.05, 0.95) if loss == "bce" else value
    data: dict[str, Any] = {
        "layers": layers,
        "activations": acts,
        "loss": loss,
        "learning_rate": 0.5,
        "samples": [
            {
                "inputs": [draw(value) for _ in range(layers[0])],
                "targets": [draw(unit) for _ in range(layers[-1])],
            }
            for _ in range(draw(st.integers(1, 2)))
        ],
        "mode": draw(st.sampled_from(["online", "batch"])),
        "weights": [
            [[draw(value) for _ in range(layers[k])] for _ in range(layers[k + 1])]
            for k in range(count)
        ],
        "dropout": {"rate": rates, "masks": masks},
    }
    if draw(st.booleans()):
        data["biases"] = [[draw(value) for _ in range(n)] for n in layers[1:]]
    return data


def masked_loss(data, weights, biases, rows) -> tuple[float, bool]:
    """The loss with the config's masks, written out: each layer's input is m·o/(1 − rate).
    Also whether finite differences are meaningful there: relu net inputs clear of the kink,
    bce outputs not saturated."""
    with np.errstate(all="ignore"):  # saturated cases are reported through `clear`
        total, clear = _masked_loss(data, weights, biases, rows)
    return (total / len(rows) if data["mode"] == "batch" else total), clear


def total_masked_loss(data, weights, biases, rows) -> float:
    return masked_loss(data, weights, biases, rows)[0]


def _masked_loss(data, weights, biases, rows) -> tuple[float, bool]:
    names = ["inputs"] + [f"hidden{k}" for k in range(1, len(data["layers"]) - 1)]
    rates, masks = data["dropout"]["rate"], data["dropout"]["masks"]
    total, clear = 0.0, True
    for s in rows:
        out = np.array(s["inputs"], dtype=float)
        for k, w in enumerate(weights):
            if names[k] in masks:
                out = out * np.array(masks[names[k]]) / (1 - rates[names[k]])
            net = w @ out + (biases[k] if biases is not None else 0.0)
            if data["activations"][k] == "relu":
                clear = clear and bool(np.min(np.abs(net)) > 1e-3)
            if data["loss"] == "bce" and k == len(weights) - 1:
                # the textbook bce below loses digits in ln(1 − o) for a saturated sigmoid
                # (the engine's form does not): keep finite differences meaningful
                clear = clear and bool(np.max(np.abs(net)) < 10)
            out = ACTIVATIONS[data["activations"][k]](net)
        total += loss_of(data["loss"], out, np.array(s["targets"]))
    return total, clear


def _rates(data: dict[str, Any]) -> list[float]:
    """The dropout rate of every layer a mask is given for."""
    rate = data["dropout"]["rate"]
    masked = data["dropout"].get("masks", {})
    if isinstance(rate, dict):
        return [float(rate[name]) for name in masked if name in rate]
    return [float(rate)] * len(masked)


@settings(
    max_examples=70,  # a sample a run: each run draws new networks
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(masked_networks())
@example(
    data={  # hypothesis found it: tanh at −7.5 behind two 1/(1 − 0.8) scales, bce after
        "layers": [3, 1, 1, 1],
        "activations": ["tanh", "linear", "sigmoid"],
        "loss": "bce",
        "learning_rate": 0.5,
        "samples": [
            {"inputs": [0.0, 0.0, 1.5], "targets": [0.5]},
            {"inputs": [0.0, 0.0, 0.0], "targets": [0.5]},
        ],
        "mode": "online",
        "weights": [[[0.0, 0.0, -1.0]], [[-1.25]], [[0.75]]],
        "dropout": {
            "rate": {"inputs": 0.8, "hidden1": 0.5, "hidden2": 0.8},
            "masks": {"inputs": [0, 0, 1], "hidden1": [1], "hidden2": [1]},
        },
    }
)
def test_gradients_with_a_fixed_mask_equal_finite_differences(data):
    spec = config.from_dict(data)
    done = engine.epoch(spec)
    weights = [np.array(m, dtype=float) for m in data["weights"]]
    biases = [np.array(v, dtype=float) for v in data["biases"]] if "biases" in data else None
    groups = [data["samples"]] if data["mode"] == "batch" else [[s] for s in data["samples"]]
    for update, rows in zip(done.updates, groups):
        assume(masked_loss(data, weights, biases, rows)[1])

        network = (data, weights, biases, rows)
        # kept values are scaled by 1/(1 − rate) at every masked layer, and so is the
        # rounding in each loss evaluation that a central difference divides by its step
        scale = math.prod(1 / (1 - r) for r in _rates(data))
        tolerance = fd_tolerance(total_masked_loss(*network)) * scale
        for k, layer in enumerate(update.layers):
            for index in np.ndindex(layer.gradient.shape):
                expected = numeric(*network, "w", k, index, loss=total_masked_loss)
                assert layer.gradient[index] == approx(expected, rel=1e-5, abs=tolerance)
            if biases is not None:
                for j in range(len(biases[k])):
                    expected = numeric(*network, "b", k, (j,), loss=total_masked_loss)
                    assert layer.bias_gradient[j] == approx(expected, rel=1e-5, abs=tolerance)
        weights = [np.array(layer.weights_after) for layer in update.layers]
        if biases is not None:
            biases = [np.array(layer.biases_after) for layer in update.layers]


# ---------------------------------------------------------------- random masks


def wide(rate: float, units: int = 1000, **dropout: Any) -> config.Spec:
    return config.from_dict(
        {
            "layers": [2, units, 1],
            "activation": "sigmoid",
            "learning_rate": 0.1,
            "inputs": [0.35, 0.9],
            "targets": [0.5],
            "weights": {"init": "glorot_uniform", "seed": 1},
            "dropout": {"rate": rate, "seed": 3, **dropout},
        }
    )


@pytest.mark.parametrize("rate", [0.1, 0.25, 0.5, 0.8])
def test_dropped_fraction_converges_to_the_rate(rate):
    """100 epochs × 1,000 units = 100,000 Bernoulli draws: the standard deviation of the dropped
    fraction is at most √(0.25/100000) ≈ 0.0016. The seeds are fixed, so this cannot flake;
    0.01 is over six standard deviations."""
    spec = wide(rate)
    draws = [engine.dropout_masks(spec, epoch, [1])[0][1] for epoch in range(1, 101)]
    dropped = 1 - np.concatenate(draws).mean()
    assert dropped == approx(rate, abs=0.01)
    # and each epoch's own mask is a genuine draw: not all the same
    assert len({m.tobytes() for m in draws}) == 100


def test_same_seed_same_masks_other_seed_other_masks():
    first = engine.dropout_masks(wide(0.5), 7, [1])[0][1]
    again = engine.dropout_masks(wide(0.5), 7, [1])[0][1]
    other = engine.dropout_masks(wide(0.5, seed=4), 7, [1])[0][1]
    assert np.array_equal(first, again)
    assert not np.array_equal(first, other)
    assert set(np.unique(first)) == {0.0, 1.0}


def test_batch_masks_are_per_sample_unless_shared():
    samples = [{"inputs": [i / 10, 1 - i / 10], "targets": [0.5]} for i in range(8)]
    base = {
        "layers": [2, 64, 1],
        "activation": "sigmoid",
        "learning_rate": 0.1,
        "samples": samples,
        "mode": "batch",
        "weights": {"init": "glorot_uniform", "seed": 1},
    }
    own = config.from_dict({**base, "dropout": {"rate": 0.5, "seed": 2}})
    shared = config.from_dict({**base, "dropout": {"rate": 0.5, "seed": 2, "shared_mask": True}})
    own_masks = engine.epoch(own).updates[0].masks[1]
    shared_masks = engine.epoch(shared).updates[0].masks[1]
    assert own_masks.shape == shared_masks.shape == (8, 64)
    assert len({row.tobytes() for row in own_masks}) == 8
    assert len({row.tobytes() for row in shared_masks}) == 1


def test_dropout256_counts_expected_and_drawn(runner):
    doc = run_json(runner, "dropout256")
    mask = doc["steps"][0]["layers"][0]["mask"]
    drawn = len(mask) - int(sum(mask))
    assert len(mask) == 256
    result = runner.invoke(cli, ["run", "dropout256"], env={"COLUMNS": "80"})
    assert (
        f"rate 0.5 on 256 units: 128 expected to be dropped, {drawn} dropped in this step"
        in result.output
    )
    assert "--full shows them" in result.output  # the wide layer is summarised
    assert len(result.output.splitlines()) < 200


def test_untraced_training_draws_the_same_masks_as_traced_epochs():
    """Epoch k of a long run is what `run` would trace for it: trace every epoch or none, the
    weights agree bit for bit on numpy (to 1e-12 where the scalar engine runs the untraced
    epochs), and the dropped counts match the masks."""
    spec = wide(0.5, units=16)
    loud = training.train(spec, 20, traced=range(1, 21))
    for fast, rtol in ((False, 0.0), (True, 1e-12)):
        quiet = training.train(spec, 20, fast=fast)
        for a, b in zip(quiet.final.weights, loud.final.weights):
            np.testing.assert_allclose(a, b, rtol=rtol, atol=0)
        assert np.array_equal(quiet.dropped, loud.dropped)
    masks = [engine.dropout_masks(spec, e, [1])[0][1] for e in range(1, 21)]
    assert list(quiet.dropped) == [16 - m.sum() for m in masks]
    assert quiet.maskable == 16


def test_step_has_a_dropped_column_and_json_counts(runner):
    result = runner.invoke(cli, ["step", "lecture_dropout", "-n", "3", "--format", "json"])
    doc = json.loads(result.output)
    assert [e["dropped"] for e in doc["epochs"]] == [1, 1, 1]
    table = runner.invoke(cli, ["step", "lecture_dropout", "-n", "3"], env={"COLUMNS": "80"})
    assert "dropped" in table.output and "1/2" in table.output


def test_save_keeps_the_dropout_and_run_reads_it_back(runner, tmp_path):
    path = tmp_path / "trained.yaml"
    result = runner.invoke(cli, ["step", "lecture_dropout", "-n", "2", "--save", str(path)])
    assert result.exit_code == 0, result.output
    spec = config.load(str(path))
    assert spec.dropout is not None
    assert spec.dropout.rates == (0.0, 0.5)
    assert spec.dropout.masks[1].tolist() == [1, 0]


# ---------------------------------------------------------------- bad dropout configs

LECTURE = (
    "layers: [2, 2, 1]\nactivation: sigmoid\nlearning_rate: 1\ninputs: [0.35, 0.9]\n"
    "targets: [0.5]\nweights: {w13: 0.1, w23: 0.8, w14: 0.4, w24: 0.6, w35: 0.3, w45: 0.9}\n"
)


@pytest.mark.parametrize(
    ("dropout", "message"),
    [
        ("dropout: 1", "dropout: 1 is not < 1; a rate of 1 would drop every unit"),
        ("dropout: {rate: -0.1}", "dropout.rate: -0.1 is negative; expected a rate in [0, 1)"),
        ("dropout: {rate: '0,5'}", "'0,5' is not a number; expected a rate in [0, 1)"),
        (
            "dropout: {rate: 0.5, masks: {hidden1: [1, 0, 1]}}",
            "dropout.masks.hidden1: found 3 values; expected 2: hidden1 has 2 units (units 3–4)",
        ),
        (
            "dropout: {rate: 0.5, masks: {hidden1: [1, 2]}}",
            "dropout.masks.hidden1[1]: 2 is not 0 or 1",
        ),
        (
            "dropout: {rate: 0.5, masks: {hidden2: [1, 0]}}",
            "dropout.masks.hidden2: not a layer dropout can follow; did you mean 'hidden1'? "
            "this network's are: inputs, hidden1 (never the output layer)",
        ),
        (
            "dropout: {rate: 0.5, masks: {inputs: [1, 0]}}",
            "dropout.masks.inputs: a mask needs a dropout rate for inputs",
        ),
        ("dropout: {rat: 0.5}", "dropout.rat: unknown key; did you mean 'rate'?"),
        ("dropout: {seed: 1}", "dropout: missing `rate`"),
        ("dropout: {rate: 0.5, shared_mask: 1}", "dropout.shared_mask: 1 is not true or false"),
    ],
)
def test_bad_dropout_gets_a_clear_message(runner, tmp_path, dropout, message):
    path = tmp_path / "net.yaml"
    path.write_text(LECTURE + dropout + "\n")
    result = runner.invoke(cli, ["run", str(path)])
    assert result.exit_code == 2
    assert result.output.startswith(f"Error: {path}, line 7, column ")
    assert message in result.output
    assert "Traceback" not in result.output


def test_a_single_rate_on_a_network_without_hidden_layers_says_how_to_drop_inputs(runner, tmp_path):
    path = tmp_path / "net.yaml"
    path.write_text(
        "layers: [1, 1]\nactivation: linear\nlearning_rate: 1\ninputs: [1]\ntargets: [1]\n"
        "weights: {w12: 0.5}\ndropout: 0.5\n"
    )
    result = runner.invoke(cli, ["run", str(path)])
    assert result.exit_code == 2
    assert "no hidden layer" in result.output and "rate: {inputs: 0.2}" in result.output


def test_eval_is_inference_without_dropout(runner):
    """`run --eval` on the dropout example is the notes' forward pass: no mask, no update."""
    doc = run_json(runner, "lecture_dropout", "--eval")
    got = equations(doc)
    assert doc["inference"] is True
    assert got["o5"] == approx(0.690283, abs=5e-7)  # the course notes' numbers
    assert got["E"] == approx(0.018104, abs=5e-7)
    assert "õ3" not in got and not any(symbol.startswith("Δ") for symbol in got)
    layer = doc["steps"][0]["layers"][0]
    assert layer["mask"] is None and layer["delta"] is None and layer["weights_after"] is None
    text = runner.invoke(cli, ["run", "lecture_dropout", "--eval"]).output
    assert "E = 0.018104 (inference: no dropout, no update)" in text
    assert "Dropout ·" not in text
