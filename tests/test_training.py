"""`backtrace step`: k epochs are k applications of the one-step update, and the CLI's rules.

The one-step update below is written independently of the engine: textbook backpropagation on
column vectors, one loop per layer.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from backtrace_cli.cli import cli
from backtrace_cli.network import config, engine, training

SIGMA = {
    "sigmoid": (lambda z: 1 / (1 + np.exp(-z)), lambda o, z: o * (1 - o)),
    "tanh": (np.tanh, lambda o, z: 1 - o**2),
    "linear": (lambda z: z, lambda o, z: np.ones_like(z)),
}


def one_update(data: dict[str, Any], W: list, b: list | None, rows: list[dict]) -> tuple:
    """Sum (or average) the per-sample gradients of ½Σ(t − o)² and step w ← w − η·∂E/∂w."""
    acts = data["activations"]
    gW = [np.zeros_like(w) for w in W]
    gb = [np.zeros_like(v) for v in b] if b is not None else None
    for row in rows:
        a = [np.array(row["inputs"], dtype=float)]
        zs = []
        for k, w in enumerate(W):
            z = w @ a[-1] + (b[k] if b is not None else 0)
            zs.append(z)
            a.append(SIGMA[acts[k]][0](z))
        grad_out = a[-1] - np.array(row["targets"])  # ∂(½Σ(t − o)²)/∂o
        for k in reversed(range(len(W))):
            g_net = grad_out * SIGMA[acts[k]][1](a[k + 1], zs[k])
            gW[k] += np.outer(g_net, a[k])
            if gb is not None:
                gb[k] += g_net
            grad_out = W[k].T @ g_net
    scale = len(rows) if data["mode"] == "batch" and data["batch_gradient"] == "mean" else 1
    eta = data["learning_rate"]
    W = [w - eta * g / scale for w, g in zip(W, gW)]
    if b is not None:
        b = [v - eta * g / scale for v, g in zip(b, gb)]
    return W, b


def mean_half_sse(data: dict[str, Any], W: list, b: list | None) -> float:
    """The mean over the samples of ½Σ(t − o)², from a forward pass written here."""
    total = 0.0
    for row in data["samples"]:
        a = np.array(row["inputs"], dtype=float)
        for k, w in enumerate(W):
            a = SIGMA[data["activations"][k]][0](w @ a + (b[k] if b is not None else 0))
        total += 0.5 * float(((np.array(row["targets"]) - a) ** 2).sum())
    return total / len(data["samples"])


@st.composite
def small_networks(draw: st.DrawFn) -> dict[str, Any]:
    layers = draw(st.lists(st.integers(1, 3), min_size=2, max_size=4))
    value = st.floats(-1, 1).map(lambda v: round(v, 2))
    data: dict[str, Any] = {
        "layers": layers,
        "activations": draw(
            st.lists(
                st.sampled_from(sorted(SIGMA)), min_size=len(layers) - 1, max_size=len(layers) - 1
            )
        ),
        "loss": "half_sse",
        "learning_rate": draw(st.sampled_from([0.05, 0.1])),
        "mode": draw(st.sampled_from(["online", "batch"])),
        "batch_gradient": draw(st.sampled_from(["mean", "sum"])),
        "samples": [
            {
                "inputs": [draw(value) for _ in range(layers[0])],
                "targets": [draw(value) for _ in range(layers[-1])],
            }
            for _ in range(draw(st.integers(1, 3)))
        ],
        "weights": [
            [[draw(value) for _ in range(layers[k])] for _ in range(layers[k + 1])]
            for k in range(len(layers) - 1)
        ],
    }
    if draw(st.booleans()):
        data["biases"] = [[draw(value) for _ in range(n)] for n in layers[1:]]
    return data


@settings(max_examples=40, deadline=None)
@given(small_networks(), st.integers(1, 12))
def test_k_epochs_are_k_applications_of_the_one_step_update(data, k):
    W = [np.array(m, dtype=float) for m in data["weights"]]
    b = [np.array(v, dtype=float) for v in data["biases"]] if "biases" in data else None
    before = mean_half_sse(data, W, b)
    with np.errstate(all="ignore"):  # diverging draws are dropped just below
        for _ in range(k):
            groups = (
                [data["samples"]] if data["mode"] == "batch" else [[s] for s in data["samples"]]
            )
            for rows in groups:
                W, b = one_update(data, W, b, rows)
    # a diverging run amplifies rounding without bound: comparing two of them means nothing
    # (divergence has its own test below)
    assume(all(np.abs(w).max() < 100 for w in W))
    done = training.train(config.from_dict(data), k)
    assert done.loss_start == pytest.approx(before, rel=1e-12, abs=1e-15)
    for mine, theirs in zip(done.final.weights, W):
        np.testing.assert_allclose(mine, theirs, rtol=1e-9, atol=1e-12)
    if b is not None:
        for mine, theirs in zip(done.final.biases, b):
            np.testing.assert_allclose(mine, theirs, rtol=1e-9, atol=1e-12)


def test_traced_epochs_are_exactly_the_untraced_ones():
    """On numpy alone, traced and untraced epochs are the same computation, bit for bit; with
    the scalar engine running the untraced ones of a small network, the same to 1e-12."""
    spec = config.load("xor")
    for fast, rtol in ((False, 0.0), (True, 1e-12)):
        plain = training.train(spec, 30, fast=fast)
        traced = training.train(spec, 30, traced={1, 17, 30}, fast=fast)
        for a, b in zip(plain.final.weights, traced.final.weights):
            np.testing.assert_allclose(a, b, rtol=rtol, atol=0)
        np.testing.assert_allclose(plain.losses, traced.losses, rtol=rtol, atol=0)
        np.testing.assert_allclose(plain.losses_after, traced.losses_after, rtol=rtol, atol=0)


@pytest.mark.parametrize("mode", ["batch", "online"])
def test_the_loss_before_training_is_the_same_however_epoch_1_runs(mode):
    """Where epoch 1's loss before its update is the loss before training (a batch, or one
    sample), that number is used, not a second forward pass: the same to the last bit as the
    pass itself, whether epoch 1 is traced, untraced, or on the scalar engine."""
    data = {
        "layers": [2, 2, 1],
        "activations": ["sigmoid", "sigmoid"],
        "loss": "half_sse",
        "learning_rate": 0.5,
        "mode": mode,
        "samples": [{"inputs": [0.05, 0.1], "targets": [0.3]}],
        "weights": [[[0.15, 0.2], [0.25, 0.3]], [[0.4, 0.45]]],
        "biases": [[0.35, 0.35], [0.6]],
    }
    spec = config.from_dict(data)
    by_hand = mean_half_sse(data, [np.array(w) for w in data["weights"]], data["biases"])
    forward = engine.mean_loss([engine.evaluate(spec)[0]])
    assert forward == pytest.approx(by_hand, rel=1e-15)
    for epochs, fast, traced in itertools.product((1, 3, 2000), (False, True), ((), (1,))):
        done = training.train(spec, epochs, fast=fast, traced=traced)
        assert done.loss_start == forward, (epochs, fast, traced)


def test_lecture_loss_falls_every_epoch_for_50_epochs(runner):
    result = runner.invoke(cli, ["step", "--epochs", "50", "--format", "json"])
    assert result.exit_code == 0
    epochs = json.loads(result.output)["epochs"]
    losses = [e["loss"] for e in epochs]
    assert len(losses) == 50
    assert losses[0] == pytest.approx(0.018104, abs=1e-6)  # the notes' network, epoch 1
    assert epochs[0]["loss_after"] == pytest.approx(0.016565, abs=1e-6)
    assert all(b < a for a, b in itertools.pairwise(losses))
    # with one sample, each epoch's loss before training is the last one's loss after it
    assert [e["loss_after"] for e in epochs[:-1]] == losses[1:]


def test_save_then_run_continues_exactly_where_training_stopped(runner, tmp_path):
    saved = tmp_path / "iteration2.yaml"
    result = runner.invoke(cli, ["step", "--epochs", "2", "--save", str(saved)])
    assert result.exit_code == 0, result.output
    assert "w13:" in saved.read_text(encoding="utf-8")  # named weights stay named
    continued = runner.invoke(cli, ["run", str(saved), "--format", "json"])
    three = runner.invoke(cli, ["step", "--epochs", "3", "--trace", "3", "--format", "json"])
    step3 = json.loads(three.output)["steps"][0]
    resumed = json.loads(continued.output)["steps"][0]
    assert resumed["layers"] == step3["layers"]
    assert resumed["loss"] == step3["loss"]


def test_save_never_overwrites_without_force(runner, tmp_path):
    saved = tmp_path / "net.yaml"
    saved.write_text("keep me\n", encoding="utf-8")
    result = runner.invoke(cli, ["step", "--epochs", "2", "--save", str(saved)])
    assert result.exit_code == 2
    assert result.output == f"Error: {saved}, --save: exists already; use --force to overwrite it\n"
    assert saved.read_text(encoding="utf-8") == "keep me\n"
    forced = runner.invoke(cli, ["step", "--epochs", "2", "--save", str(saved), "--force"])
    assert forced.exit_code == 0
    assert config.load(str(saved)).name == "Lecture example (2-2-1, sigmoid)"


def test_save_into_a_missing_folder_is_a_clear_error(runner, tmp_path):
    target = tmp_path / "nowhere" / "net.yaml"
    result = runner.invoke(cli, ["step", "--epochs", "1", "--save", str(target)])
    assert result.exit_code == 2
    assert result.output == (
        f"Error: {target}, --save: the folder '{target.parent}' does not exist; create it first\n"
    )
    assert list(tmp_path.iterdir()) == []


def test_trace_picks_epochs_and_last_follows_until_loss(runner):
    doc = json.loads(
        runner.invoke(
            cli,
            [
                "step",
                "xor",
                "--epochs",
                "5000",
                "--until-loss",
                "0.01",
                "--trace",
                "1,last",
                "--format",
                "json",
            ],
        ).output
    )
    run = doc["summary"]["epochs_run"]
    assert doc["summary"]["stop"] == "until_loss"
    assert doc["epochs"][-1]["loss"] < 0.01 <= doc["epochs"][-2]["loss"]
    assert sorted({s["epoch"] for s in doc["steps"]}) == [1, run]
    assert len(doc["steps"]) == 2 * 4  # four samples in each traced epoch


def test_until_loss_says_where_it_stopped(runner):
    result = runner.invoke(
        cli, ["step", "xor", "--epochs", "5000", "--until-loss", "0.01"], env={"COLUMNS": "80"}
    )
    assert result.exit_code == 0
    last = result.output.strip().splitlines()[-1]
    assert last.startswith("Stopped: the loss fell below 0.01 in epoch ")


def test_divergence_is_reported_not_printed_as_nan(runner, tmp_path):
    path = tmp_path / "diverge.yaml"
    path.write_text(
        "layers: [1, 1]\nactivation: linear\nloss: sse\nlearning_rate: 5\n"
        "inputs: [3]\ntargets: [1]\nweights: {w12: 0.5}\n",
        encoding="utf-8",
    )
    # each step multiplies the error by (1 − 2·η·x²) = −89: it must blow up
    result = runner.invoke(cli, ["step", str(path), "--epochs", "1000"], env={"COLUMNS": "80"})
    assert result.exit_code == 0
    assert "nan" not in result.output
    assert "training diverged; try a smaller learning_rate" in " ".join(result.output.split())
    doc = json.loads(
        runner.invoke(cli, ["step", str(path), "--epochs", "1000", "--format", "json"]).output
    )
    assert doc["summary"]["stop"] == "diverged"
    assert doc["summary"]["epochs_run"] < 1000


def test_xor_learns_within_the_epochs_its_comment_says(runner):
    doc = json.loads(
        runner.invoke(cli, ["step", "xor", "--epochs", "2000", "--format", "json"]).output
    )
    outputs = [row[0] for row in doc["summary"]["outputs_after"]]
    assert [abs(o - t) < 0.1 for o, t in zip(outputs, [0, 1, 1, 0])] == [True] * 4
    at_500 = json.loads(
        runner.invoke(cli, ["step", "xor", "--epochs", "500", "--format", "json"]).output
    )["summary"]["outputs_after"]
    assert max(abs(row[0] - 0.5) for row in at_500) < 0.2  # "still stuck near 0.5"


def test_shuffle_same_seed_same_numbers_other_seed_other_order():
    base = {
        "layers": [2, 2, 1],
        "activation": "sigmoid",
        "learning_rate": 1,
        "shuffle": True,
        "weights": [[[0.1, 0.8], [0.4, 0.6]], [[0.3, 0.9]]],
        "samples": [
            {"inputs": [0, 0], "targets": [0]},
            {"inputs": [0, 1], "targets": [1]},
            {"inputs": [1, 0], "targets": [1]},
            {"inputs": [1, 1], "targets": [0]},
        ],
    }
    a = training.train(config.from_dict({**base, "seed": 7}), 20)
    b = training.train(config.from_dict({**base, "seed": 7}), 20)
    c = training.train(config.from_dict({**base, "seed": 8}), 20)
    assert np.array_equal(a.losses, b.losses)
    assert not np.array_equal(a.losses, c.losses)
    orders = {engine.sample_order(config.from_dict({**base, "seed": 7}), e) for e in range(1, 20)}
    assert len(orders) > 1  # a new order each epoch


def test_changed_most_names_the_parameter_that_moved_most(runner, tmp_path):
    # a network past hand size (28 weights): one "changed most" column instead of 28
    path = tmp_path / "wide.yaml"
    path.write_text(
        "layers: [5, 4, 2]\nactivation: sigmoid\nlearning_rate: 1\n"
        "inputs: [0.1, 0.2, 0.3, 0.4, 0.5]\ntargets: [0, 1]\n"
        "weights: {init: uniform, seed: 3}\n"
    )
    # from the JSON's before/after of every parameter: the largest |after − before|
    doc = json.loads(
        runner.invoke(cli, ["step", str(path), "--epochs", "1", "--format", "json"]).output
    )
    moves = {k: v["after"] - v["before"] for k, v in doc["summary"]["parameters"].items()}
    name = max(moves, key=lambda k: abs(moves[k]))
    table = runner.invoke(cli, ["step", str(path), "--epochs", "1"], env={"COLUMNS": "80"}).output
    row = next(line for line in table.splitlines() if line.split()[:1] == ["1"] and "=" in line)
    assert row.split()[-4:-2] == [name, "="]
    after = doc["summary"]["parameters"][name]["after"]
    assert f"{name} = {after:.6f}".rstrip("0").replace("-", "−") in row
