"""A `model:`'s samples, epochs and batches (issue #28): `shuffle:` as a network shuffles,
`epochs_done` written by `step --save` (a resumed run draws the masks and orders its whole run
would have), an answers file's `samples:` for a batch's (or an online epoch's) later samples,
and a batch's averaged gradient under `--round` adding up from the numbers its row shows.
Expected numbers: numpy derivations in this file (forward, δ and SGD worked by hand), and
the orders and masks from their documented definitions (numpy's Generator seeded with
(seed, epoch), and (seed, epoch, "DROP", position))."""

from __future__ import annotations

import copy
import math
import re

import numpy as np
import pytest
import yaml
from test_model_dropout import HAND

from backtrace_cli import api, models, tracing
from backtrace_cli.cli import cli
from backtrace_cli.worked import Equation

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


# ---------------------------------------------------------------- answers: later samples

SMALL = {
    "model": [
        {"linear": {"in_features": 2, "out_features": 2}},
        "tanh",
        "flatten",
        {"linear": {"in_features": 2, "out_features": 1}},
    ],
    "parameters": {
        "0.weight": [[0.5, -0.4], [0.3, 0.8]],
        "0.bias": [0.1, -0.2],
        "3.weight": [[0.7, -0.6]],
        "3.bias": [0.05],
    },
    "loss": "half_sse",
    "learning_rate": 0.5,
    "mode": "batch",
    "samples": [
        {"inputs": [1.0, 0.5], "targets": [0.6]},
        {"inputs": [-0.3, 0.9], "targets": [-0.2]},
        {"inputs": [0.4, -0.7], "targets": [0.3]},
    ],
}


def _by_hand(data: dict) -> list[dict[str, np.ndarray]]:
    """Each sample's forward pass and δ through linear → tanh → linear (δ = −∂E/∂y)."""
    p = {name: np.array(value) for name, value in data["parameters"].items()}
    out = []
    for sample in data["samples"]:
        x, t = np.array(sample["inputs"]), np.array(sample["targets"])
        y0 = p["0.weight"] @ x + p["0.bias"]
        y1 = np.tanh(y0)
        y3 = p["3.weight"] @ y1 + p["3.bias"]
        d3 = t - y3  # ½(t − y)²
        d1 = p["3.weight"].T @ d3
        d0 = (1 - y1**2) * d1
        out.append({"x": x, "y0": y0, "y1": y1, "y3": y3, "d3": d3, "d1": d1, "d0": d0})
    return out


def _check(runner, tmp_path, answers: dict) -> tuple[int, str]:
    config = tmp_path / "small.yaml"
    config.write_text(yaml.safe_dump(SMALL), encoding="utf-8")
    path = tmp_path / "answers.yaml"
    path.write_text(yaml.safe_dump({"exercise": "small.yaml", **answers}), encoding="utf-8")
    result = runner.invoke(cli, ["check", str(path)])
    return result.exit_code, result.output


def _g(value: float) -> float:
    return float(f"{value:.6g}")


def test_a_batchs_later_samples_are_marked_forward_and_delta(runner, tmp_path):
    hand = _by_hand(SMALL)
    # the batch's mean gradient: −(1/3)·Σ δ3·y1 over the three samples
    dw = -sum(h["d3"][0] * h["y1"][0] for h in hand) / 3
    answers = {
        "answers": {"y0[1]": _g(hand[0]["y0"][1]), "dE/dw3[0,0]": _g(dw)},
        "samples": {
            2: {"y1[0]": _g(hand[1]["y1"][0]), "delta0[1]": _g(hand[1]["d0"][1])},
            3: {"delta3[0]": _g(hand[2]["d3"][0]), "y3[0]": _g(hand[2]["y3"][0])},
        },
    }
    code, output = _check(runner, tmp_path, answers)
    assert "6 of 54 questions — 6 right, 48 unanswered" in output, output
    for name in ("y1[0] (sample 2)", "delta0[1] (sample 2)", "delta3[0] (sample 3)"):
        assert re.search(rf"{re.escape(name)} .* right", output), name
    assert code == 1  # unanswered questions are left


def test_a_batch_gradient_follows_from_a_later_samples_wrong_delta(runner, tmp_path):
    hand = _by_hand(SMALL)
    wrong = _g(hand[1]["d3"][0] + 0.1)  # sample 2's δ3 slipped; the rest worked from it
    dw = -(hand[0]["d3"][0] * hand[0]["y1"][0] + wrong * hand[1]["y1"][0]) / 3
    dw -= hand[2]["d3"][0] * hand[2]["y1"][0] / 3
    answers = {
        "answers": {"dE/dw3[0,0]": _g(dw)},
        "samples": {2: {"delta3[0]": wrong}},
    }
    _, output = _check(runner, tmp_path, answers)
    assert re.search(r"delta3\[0\] \(sample 2\) .* wrong", output), output
    assert re.search(r"∂E/∂w3\[0,0\] \(sample 3\) .* follows from your delta3\[0\]", output)


def test_an_online_models_later_sample_is_marked_after_the_first_update(runner, tmp_path):
    online = {**copy.deepcopy(SMALL), "mode": "online"}
    first = _by_hand(online)[0]  # sample 1's step, then SGD: θ ← θ + η·δ·x
    moved = copy.deepcopy(online)
    p = {name: np.array(value) for name, value in online["parameters"].items()}
    moved["parameters"] = {
        "0.weight": (p["0.weight"] + 0.5 * np.outer(first["d0"], first["x"])).tolist(),
        "0.bias": (p["0.bias"] + 0.5 * first["d0"]).tolist(),
        "3.weight": (p["3.weight"] + 0.5 * np.outer(first["d3"], first["y1"])).tolist(),
        "3.bias": (p["3.bias"] + 0.5 * first["d3"]).tolist(),
    }
    second = _by_hand(moved)[1]
    config = tmp_path / "online.yaml"
    config.write_text(yaml.safe_dump(online), encoding="utf-8")
    path = tmp_path / "answers.yaml"
    later = {"y3[0]": _g(second["y3"][0]), "delta0[0]": _g(second["d0"][0])}
    path.write_text(yaml.safe_dump({"exercise": "online.yaml", "samples": {2: later}}))
    result = runner.invoke(cli, ["check", str(path)])
    assert "2 right" in result.output and "wrong" not in result.output, result.output


def test_a_sample_the_model_has_not_is_a_bad_file(runner, tmp_path):
    code, output = _check(runner, tmp_path, {"samples": {4: {"y0[0]": 0.1}}})
    assert code == 2
    assert "samples.4" in output and "this exercise has 3 samples; give samples 1 to 3" in output
    code, output = _check(runner, tmp_path, {"samples": {2: 0.5}})
    assert code == 2
    assert 'expected a mapping of quantities to your values: `"y0[0,1]": 0.35`' in output


def test_quiz_names_and_check_count_a_batchs_samples_alike(runner, tmp_path):
    config = tmp_path / "small.yaml"
    config.write_text(yaml.safe_dump(SMALL), encoding="utf-8")
    names = runner.invoke(cli, ["check", "--names", str(config)]).output
    count = int(re.search(r"(\d+) questions in its 3 samples", names).group(1))
    assert '`samples: {2: {"y0[0]": …}}`' in names  # a form YAML reads
    revealed = runner.invoke(cli, ["quiz", str(config)], input="!\n" * 200).output
    values = re.findall(r"revealed: (\S+)", revealed)
    assert len(values) == count
    session = tmp_path / "session.yaml"
    result = runner.invoke(
        cli, ["quiz", str(config), "-o", str(session)], input="\n".join(values) + "\n"
    )
    assert f"Score: {count} of {count}" in result.output
    written = yaml.safe_load(session.read_text(encoding="utf-8"))
    assert sorted(written["samples"]) == [2, 3]  # later samples under `samples:`, as a network's
    result = runner.invoke(cli, ["check", str(session)])
    assert result.exit_code == 0, result.output
    assert f"{count} of {count} questions right" in result.output


# ---------------------------------------------------------------- --round: a batch's mean


def _gradient_rows(data, rounding=None) -> dict[str, Equation]:
    records = api.trace(models.from_dict(data), rounding=rounding).records
    return {
        row.symbol: row
        for step in records.steps
        for section, row in step.equations()
        if section.kind == "gradient"
    }


def test_a_batchs_exact_gradient_is_the_mean_of_each_samples():
    hand = _by_hand(SMALL)
    rows = _gradient_rows(SMALL)
    for j in range(2):
        for i in range(2):
            expected = -sum(h["d0"][j] * h["x"][i] for h in hand) / 3
            assert rows[f"∂E/∂w0[{j},{i}]"].value == pytest.approx(expected, rel=1e-12)
    assert rows["∂E/∂b3[0]"].value == pytest.approx(-sum(h["d3"][0] for h in hand) / 3)


def test_under_3sf_a_mean_of_three_rounds_its_bracket_and_its_third():
    """−(1/3)·(a + b + c) as a student writes it at 3sf: the bracket written down (3sf), 1/3
    as 0.333, their product rounded — from the δ3 the rows show, themselves 3sf."""
    from decimal import ROUND_HALF_UP, Decimal

    def sf3(value: float) -> float:
        d = Decimal(repr(value))
        return float(d.quantize(Decimal(1).scaleb(d.adjusted() - 2), rounding=ROUND_HALF_UP))

    row = _gradient_rows(SMALL, "3sf")["∂E/∂b3[0]"]
    shown = [row.values()[f"δ3[0]⁽{n}⁾"] for n in (1, 2, 3)]
    assert shown == [sf3(v) for v in shown]  # each as the trace shows it
    assert row.value == sf3(-0.333 * sf3(math.fsum(shown)))
