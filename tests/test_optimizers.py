"""Optimizers and weight decay: k updates against the contract's formulas, written out here.

The gradients come from backpropagation written independently below (column vectors, one loop
per layer); each optimizer's rule is the PRODUCT.md formula in plain Python floats, one
parameter at a time — not the engine's vectorised code path.
"""

from __future__ import annotations

import copy
import itertools
import json
import math
from typing import Any

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from backtrace_cli import api
from backtrace_cli.cli import cli
from backtrace_cli.definitions import optimizers
from backtrace_cli.network import config


def gradients(data: dict[str, Any], W: list, b: list | None, rows: list[dict]) -> tuple:
    """∂E/∂w and ∂E/∂b of ½Σ(t − o)² on a sigmoid network, summed (or averaged) over rows."""
    gW = [np.zeros_like(w) for w in W]
    gb = [np.zeros_like(v) for v in b] if b is not None else None
    for row in rows:
        a = [np.array(row["inputs"], dtype=float)]
        for k, w in enumerate(W):
            a.append(1 / (1 + np.exp(-(w @ a[-1] + (b[k] if b is not None else 0)))))
        grad_out = a[-1] - np.array(row["targets"])  # ∂E/∂o
        for k in reversed(range(len(W))):
            g_net = grad_out * a[k + 1] * (1 - a[k + 1])
            gW[k] += np.outer(g_net, a[k])
            if gb is not None:
                gb[k] += g_net
            grad_out = W[k].T @ g_net
    scale = len(rows) if data.get("mode") == "batch" else 1
    return [g / scale for g in gW], ([g / scale for g in gb] if gb is not None else None)


def contract_step(name: str, h: dict, eta: float, t: int, w: float, g: float, s: dict) -> float:
    """One parameter, one update: the formulas of PRODUCT.md's "Optimizers" section."""
    if name == "sgd":
        return w - eta * g
    if name in ("momentum", "nesterov"):
        s["v"] = h["momentum"] * s["v"] + g
        step = s["v"] if name == "momentum" else g + h["momentum"] * s["v"]
        return w - eta * step
    if name == "rmsprop":
        s["s"] = h["rho"] * s["s"] + (1 - h["rho"]) * g**2
        return w - eta * g / (math.sqrt(s["s"]) + h["epsilon"])
    if name == "adagrad":
        s["s"] = s["s"] + g**2
        return w - eta * g / (math.sqrt(s["s"]) + h["epsilon"])
    decay = h.get("decay", 0.0)  # adamw, weights only: w ← w − η·λ·w, then Adam's step
    w = w - eta * decay * w
    s["m"] = h["beta1"] * s["m"] + (1 - h["beta1"]) * g
    s["v"] = h["beta2"] * s["v"] + (1 - h["beta2"]) * g**2
    m_hat = s["m"] / (1 - h["beta1"] ** t)
    v_hat = s["v"] / (1 - h["beta2"] ** t)
    return w - eta * m_hat / (math.sqrt(v_hat) + h["epsilon"])


DEFAULTS = {  # PyTorch's, and 0.9 for the momentum names (PRODUCT.md)
    "sgd": {},
    "momentum": {"momentum": 0.9},
    "nesterov": {"momentum": 0.9},
    "rmsprop": {"rho": 0.99, "epsilon": 1e-8},
    "adagrad": {"epsilon": 1e-10},
    "adam": {"beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8},
    "adamw": {"beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8, "decay": 0.01},
}

XOR: dict[str, Any] = {
    "layers": [2, 2, 1],
    "activation": "sigmoid",
    "loss": "half_sse",
    "learning_rate": 0.1,
    "samples": [
        {"inputs": [0, 0], "targets": [0]},
        {"inputs": [0, 1], "targets": [1]},
        {"inputs": [1, 0], "targets": [1]},
        {"inputs": [1, 1], "targets": [0]},
    ],
    "weights": [[[0.2, -0.4], [0.7, 0.1]], [[0.6, -0.3]]],
    "biases": [[0.1, -0.2], [0.3]],
}


def by_hand(data: dict, name: str, epochs: int, l2: float = 0.0) -> list[np.ndarray]:
    """`epochs` epochs, every parameter stepped by `contract_step` with its own state."""
    W = [np.array(w, dtype=float) for w in data["weights"]]
    b = [np.array(v, dtype=float) for v in data["biases"]]
    h = DEFAULTS[name]
    states: dict[tuple, dict] = {}
    t = 0
    samples = data["samples"]
    groups = [samples] if data.get("mode") == "batch" else [[s] for s in samples]
    for _ in range(epochs):
        for rows in groups:
            gW, gb = gradients(data, W, b, rows)
            t += 1
            new_W = [w.copy() for w in W]
            new_b = [v.copy() for v in b]
            for kind, params, grads, new in (("w", W, gW, new_W), ("b", b, gb, new_b)):
                for k, p in enumerate(params):
                    for index in np.ndindex(p.shape):
                        state = states.setdefault((kind, k, index), {"m": 0, "v": 0, "s": 0})
                        w, g = float(p[index]), float(grads[k][index])
                        if kind == "w":
                            g += l2 * w  # L2 weight decay: weights only
                        hyper = dict(h) if kind == "w" else {**h, "decay": 0.0}
                        new[k][index] = contract_step(name, hyper, 0.1, t, w, g, state)
            W, b = new_W, new_b
    return [*W, *b]


@pytest.mark.parametrize("mode", ["online", "batch"])
@pytest.mark.parametrize("name", optimizers.NAMES)
def test_each_optimizer_follows_the_contract_formulas(name, mode):
    data = {**copy.deepcopy(XOR), "mode": mode, "optimizer": name}
    final = api.train(data, 5).records.final
    ours = [*final.weights, *final.biases]
    for a, b in zip(ours, by_hand(data, name, 5)):
        assert a == pytest.approx(b, rel=1e-12, abs=1e-14)


@pytest.mark.parametrize("name", ["sgd", "momentum", "adam"])
def test_l2_weight_decay_follows_the_contract(name):
    data = {**copy.deepcopy(XOR), "optimizer": name, "weight_decay": 0.05}
    final = api.train(data, 4).records.final
    for a, b in zip([*final.weights, *final.biases], by_hand(data, name, 4, l2=0.05)):
        assert a == pytest.approx(b, rel=1e-12, abs=1e-14)


def test_hyperparameters_given_are_used():
    data = {**copy.deepcopy(XOR), "optimizer": {"name": "momentum", "momentum": 0.5}}
    final = api.train(data, 3).records.final
    DEFAULTS_HALF = {**DEFAULTS, "momentum": {"momentum": 0.5}}
    original = dict(DEFAULTS)
    DEFAULTS.update(DEFAULTS_HALF)
    try:
        expected = by_hand(data, "momentum", 3)
    finally:
        DEFAULTS.update(original)
    for a, b in zip([*final.weights, *final.biases], expected):
        assert a == pytest.approx(b, rel=1e-12, abs=1e-14)


@pytest.mark.parametrize("name", ["sgd", "adam", "adamw", "rmsprop"])
def test_weight_decay_never_touches_biases(name):
    """With and without decay the first update has the same gradients, so every bias moves
    the same, bit for bit, while the weights differ."""
    plain = {**copy.deepcopy(XOR), "optimizer": name, "mode": "batch"}
    decayed = {**plain, "weight_decay": 0.3}
    if name == "adamw":
        plain["optimizer"] = {"name": "adamw", "weight_decay": 0.0}
    a = api.train(plain, 1).records.final
    b = api.train(decayed, 1).records.final
    for x, y in zip(a.biases, b.biases):
        assert np.array_equal(x, y)
    assert not all(np.array_equal(x, y) for x, y in zip(a.weights, b.weights))


def test_sgd_written_out_is_the_lecture_bit_for_bit(runner):
    from conftest import run_json

    lecture = config.example_text("lecture")
    plain = run_json(runner, "lecture")
    import json
    import tempfile

    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        f.write(lecture + "optimizer: sgd\nweight_decay: 0\n")
    explicit = run_json(runner, f.name)
    assert [s["layers"] for s in explicit["steps"]] == [s["layers"] for s in plain["steps"]]
    assert json.dumps(explicit["steps"][0]["equations"]) == json.dumps(
        plain["steps"][0]["equations"]
    )


def resumed_and_whole(runner, tmp_path, data: dict) -> tuple[dict, dict]:
    """`step --save` after 10 epochs, 15 more from that file; and 25 in one go: both saved."""
    source = tmp_path / "net.yaml"
    source.write_text(yaml.safe_dump(data))
    ten, rest, whole = (tmp_path / f for f in ("ten.yaml", "rest.yaml", "whole.yaml"))
    for args in (
        [str(source), "-n", "10", "--save", str(ten)],
        [str(ten), "-n", "15", "--save", str(rest)],
        [str(source), "-n", "25", "--save", str(whole)],
    ):
        result = runner.invoke(cli, ["step", *args, "--format", "json"])
        assert result.exit_code == 0, result.output
    return yaml.safe_load(rest.read_text()), yaml.safe_load(whole.read_text())


@pytest.mark.parametrize("mode", ["online", "batch"])
@pytest.mark.parametrize("name", optimizers.NAMES)
def test_ten_saved_then_fifteen_equal_twenty_five_bit_for_bit(runner, tmp_path, name, mode):
    data = {**copy.deepcopy(XOR), "optimizer": name, "mode": mode, "weight_decay": 0.01}
    a, b = resumed_and_whole(runner, tmp_path, data)
    assert a["weights"] == b["weights"] and a["biases"] == b["biases"]
    if name != "sgd":
        assert a["optimizer_state"] == b["optimizer_state"]
        assert b["optimizer_state"]["t"] == 25 * (4 if mode == "online" else 1)


def test_the_trace_shows_adam_state_with_numbers(runner):
    from conftest import equations, run_json

    document = run_json(runner, "adam")
    first = equations(document, 0)
    g = first["∂E/∂w35"]
    assert first["new m_w35"] == pytest.approx(0.1 * g)  # m = 0.9·0 + 0.1·g
    assert first["new v_w35"] == pytest.approx(0.001 * g * g)
    assert first["m̂_w35"] == pytest.approx(g)  # t = 1: m̂ = m/(1 − 0.9)
    assert first["Δw35"] == pytest.approx(-0.1 * g / (abs(g) + 1e-8))
    second = equations(document, 1)
    assert document["steps"][1]["optimizer"]["t"] == 2
    before = document["steps"][1]["optimizer"]["layers"][1]["weights_before"]["m"][0][0]
    assert before == first["new m_w35"]
    g2 = second["∂E/∂w35"]
    assert second["new m_w35"] == pytest.approx(0.9 * before + 0.1 * g2)
    assert second["m̂_w35"] == pytest.approx(second["new m_w35"] / (1 - 0.9**2))


def test_the_loss_section_shows_the_l2_penalty_and_json_loss_stays_the_data_loss(runner, tmp_path):
    from conftest import equations, run_json

    path = tmp_path / "decay.yaml"
    path.write_text(config.example_text("lecture") + "weight_decay: 0.01\n")
    document = run_json(runner, str(path))
    values = equations(document)
    squares = 0.1**2 + 0.8**2 + 0.4**2 + 0.6**2 + 0.3**2 + 0.9**2  # the lecture's weights
    assert values["penalty"] == pytest.approx(0.01 / 2 * squares)
    assert document["epochs"][0]["loss"] == pytest.approx(0.018104, abs=1e-6)  # E of the notes


@st.composite
def random_runs(draw: st.DrawFn) -> dict[str, Any]:
    layers = draw(st.lists(st.integers(1, 4), min_size=2, max_size=4))
    value = st.floats(-3, 3, allow_nan=False)
    data: dict[str, Any] = {
        "layers": layers,
        "activation": draw(st.sampled_from(["sigmoid", "tanh", "relu", "linear"])),
        "learning_rate": draw(st.floats(0.001, 0.1)),
        "optimizer": draw(st.sampled_from(optimizers.NAMES)),
        "weight_decay": draw(st.sampled_from([0.0, 0.01, 0.1])),
        "mode": draw(st.sampled_from(["online", "batch"])),
        "samples": [
            {
                "inputs": draw(st.lists(value, min_size=layers[0], max_size=layers[0])),
                "targets": draw(st.lists(value, min_size=layers[-1], max_size=layers[-1])),
            }
            for _ in range(draw(st.integers(1, 3)))
        ],
        "weights": [
            [draw(st.lists(value, min_size=a, max_size=a)) for _ in range(b)]
            for a, b in itertools.pairwise(layers)
        ],
    }
    if draw(st.booleans()):
        data["biases"] = [draw(st.lists(value, min_size=n, max_size=n)) for n in layers[1:]]
    return data


@settings(max_examples=60, deadline=None)
@given(random_runs())
def test_any_optimizer_on_random_networks_never_produces_nan(data):
    try:
        done = api.train(data, 6).records
    except api.ConfigError as err:
        # a step that blows up in epoch 1 has nothing to keep: it is refused, and says so
        assert "training diverges at once" in str(err)
        return
    final = done.final
    if done.stop == "diverged":
        # a deep linear net with weights of 3 and η near 0.1 really does blow up (w grows
        # with w³ per step): that is said, and what is kept stops there
        assert "diverged" in done.stop_reason
        return
    for array in [*final.weights, *(final.biases or ())]:
        assert np.isfinite(array).all()
    assert np.isfinite(done.losses).all()
    for _name, state in final.optimizer_state.values if final.optimizer_state else ():
        assert np.isfinite(state).all()


def test_update_works_on_plain_floats():
    """The optimizers module on scalars, as a one-parameter graph (f = θ²) would use it."""
    theta, state = 1.0, {"m": 0.0, "v": 0.0}
    hand, hand_state = 1.0, {"m": 0.0, "v": 0.0}
    for t in range(1, 4):
        out = optimizers.update(optimizers.settings("adam"), 0.1, t, theta, 2 * theta, state)
        state = {"m": out["m"], "v": out["v"]}
        theta = out["new"]
        hand = contract_step("adam", DEFAULTS["adam"], 0.1, t, hand, 2 * hand, hand_state)
        assert isinstance(theta, float) and theta == pytest.approx(hand, rel=1e-14)


BAD = [
    (
        "optimizer: adamm",
        "line 18, column 1, optimizer: 'adamm' is not one of: sgd, momentum, nesterov, "
        "rmsprop, adagrad, adam, adamw; did you mean 'adam'?",
    ),
    (
        "optimizer: {name: adam, beta_1: 0.9}",
        "line 18, column 25, optimizer.beta_1: unknown key; did you mean 'beta1'? adam takes "
        "beta1, beta2, epsilon",
    ),
    (
        "optimizer: {name: adam, beta2: 1}",
        "line 18, column 25, optimizer.beta2: 1 is not < 1; β2 (the second moment's decay) "
        "must be in [0, 1)",
    ),
    (
        "optimizer: {name: rmsprop, rho: -0.5}",
        "line 18, column 28, optimizer.rho: -0.5 is negative; ρ (the squared gradients' decay) "
        "must be ≥ 0",
    ),
    (
        "optimizer: {name: adagrad, epsilon: 0}",
        "line 18, column 28, optimizer.epsilon: 0 is not > 0; ε (added to the denominator so "
        "it is never 0) must be positive",
    ),
    (
        "optimizer: {name: nesterov, momentum: -0.1}",
        "line 18, column 29, optimizer.momentum: -0.1 is negative; μ (the momentum) must be ≥ 0",
    ),
    (
        "weight_decay: -1",
        "line 18, column 1, weight_decay: -1 is negative; the weight decay λ must be ≥ 0",
    ),
    (
        "optimizer: {name: sgd, momentum: 0.9}",
        "line 18, column 24, optimizer.momentum: unknown key for sgd; `momentum` belongs to "
        "momentum, nesterov; sgd takes no hyperparameters",
    ),
    (
        "optimizer: {name: adamw, weight_decay: 0.1}\nweight_decay: 0.1",
        "line 19, column 1, weight_decay: adamw decays weights itself "
        "(`optimizer.weight_decay`); give the decay in one place, not both",
    ),
    (
        "optimizer: adam\noptimizer_state: {t: 2, m: {weights: [[[1, 2]], [[1, 2]]]}, "
        "v: {weights: [[[1, 2], [3, 4]], [[5, 6]]]}}",
        "line 19, column 39, optimizer_state.m.weights[0]: found 1 row; expected a matrix 2×2: "
        "2 rows (units of layer 1), 2 columns (units of layer 0)",
    ),
    (
        "optimizer: momentum\noptimizer_state: {t: 1, m: {weights: {w13: 1}}}",
        "line 19, column 25, optimizer_state.m: unknown key; the state of momentum is t, v",
    ),
]


BAD.append(
    (
        "optimizer: {name: adam, weight_decay: 0.01}\nweight_decay: 0.01",
        "line 18, column 25, optimizer.weight_decay: the L2 weight decay is given twice (here "
        "and at the top level); keep one",
    )
)


def test_weight_decay_in_the_mapping_is_torchs_l2_decay():
    """torch.optim.Adam(weight_decay=λ) is L2 on g: in the mapping it means the top-level key."""
    inside = {**copy.deepcopy(XOR), "optimizer": {"name": "adam", "weight_decay": 0.05}}
    final = api.train(inside, 4).records.final
    for a, b in zip([*final.weights, *final.biases], by_hand(inside, "adam", 4, l2=0.05)):
        assert a == pytest.approx(b, rel=1e-12, abs=1e-14)


@pytest.mark.parametrize(("extra", "message"), BAD, ids=[b[0][:30] for b in BAD])
def test_bad_optimizer_input_gets_one_clear_message(runner, tmp_path, extra, message):
    path = tmp_path / "bad.yaml"
    path.write_text(config.example_text("lecture") + extra + "\n")
    result = runner.invoke(cli, ["run", str(path)])
    assert result.exit_code == 2
    assert result.output == f"Error: {path}, {message}\n"
    assert "Traceback" not in result.output


def test_the_guides_comparison_table_is_what_the_three_commands_print(runner):
    """The teacher's guide's SGD / momentum / Adam table: each number from `step NAME --epochs
    300`."""
    import json
    import re
    from pathlib import Path

    guide = Path(__file__).parent.parent / "docs" / "teacher-guide.md"
    guide = guide.read_text(encoding="utf-8")
    demos = guide.split("## Training demos: SGD, momentum and Adam on XOR")[1].split("\n## ")[0]
    rows = re.findall(r"^\| `(xor|xor_momentum|adam)`[^|]*\|(.*)\|$", demos, re.M)
    assert [name for name, _ in rows] == ["xor", "xor_momentum", "adam"]
    for name, cells in rows:
        result = runner.invoke(cli, ["step", name, "--epochs", "300", "--format", "json"])
        document = json.loads(result.output)
        *losses, outputs = (cell.strip() for cell in cells.split("|"))
        for epoch, shown in zip((50, 100, 150, 250, 300), losses):
            assert f"{document['epochs'][epoch - 1]['loss_after']:.6f}" == shown
        after = [f"{row[0]:.3f}".rstrip("0") for row in document["summary"]["outputs_after"]]
        assert ", ".join(after) == outputs


def test_check_names_adams_bias_correction_left_out(runner, tmp_path):
    """m̂ written as m: the mistake the optimizer's definition lists, recomputed, not guessed."""
    document = json.loads(runner.invoke(cli, ["run", "adam", "--format", "json"]).output)
    m = next(e["value"] for e in document["steps"][0]["equations"] if e["symbol"] == "new m_w35")
    path = tmp_path / "answers.yaml"
    path.write_text(f"config: adam\nanswers:\n  m_w35: {m:.3g}\n  mhat_w35: {m:.3g}\n")
    result = runner.invoke(cli, ["check", str(path)])
    assert result.exit_code == 1
    assert "the bias correction 1/(1 − β1^t) left out (m̂ = m)" in result.output


def test_resuming_continues_shuffled_orders_and_dropout_masks(runner, tmp_path):
    """10 + 15 = 25 also when each epoch draws its order and its masks from (seed, epoch)."""
    data = {
        **copy.deepcopy(XOR),
        "layers": [2, 4, 1],
        "weights": {"init": "glorot_uniform", "seed": 3},
        "biases": None,
        "optimizer": "adam",
        "shuffle": True,
        "seed": 5,
        "dropout": {"rate": 0.5, "seed": 2},
    }
    a, b = resumed_and_whole(runner, tmp_path, data)
    assert a["weights"] == b["weights"] and a["optimizer_state"] == b["optimizer_state"]
    assert a["epochs_done"] == b["epochs_done"] == 25


def test_a_diverged_network_is_not_saved_as_a_config_of_inf_and_nan(runner, tmp_path):
    # a 2-3-1-2 linear net: o8 = 3·w56·w13·x1 = 9 on the first sample, and every update
    # multiplies the weights on that path, so online SGD at η = 1/16 leaves float64 by epoch 2
    path = tmp_path / "deep.yaml"
    path.write_text(
        "layers: [2, 3, 1, 2]\nactivation: linear\nlearning_rate: 0.0625\n"
        "samples:\n  - {inputs: [3, 0], targets: [0, 0]}\n  - {inputs: [1, 0], targets: [0, 0]}\n"
        "  - {inputs: [1, 0], targets: [0, 0]}\n"
        "weights: [[[0, 0], [0, 0], [1, 0]], [[0, 0, 1]], [[0], [3]]]\n"
    )
    saved = tmp_path / "saved.yaml"
    result = runner.invoke(cli, ["step", str(path), "-n", "6", "--save", str(saved)])
    assert result.exit_code == 2
    # E after epoch 1's update is already beyond float64: refused as `run` refuses it (issue 24)
    assert f"{path}: the numbers overflow: E = inf after the update in epoch 1" in result.output
    assert not saved.exists()
