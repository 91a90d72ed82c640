"""Dropout and batch norm in one model (issue #28): dropout's masks are each sample's own, drawn
as a dropout model draws them (the documented rule: kept where a uniform draw from a Generator
seeded with (seed, epoch, the dropout stream, the layer's position) is ≥ p), and batch norm
normalises over the batch of what the masks let through. Every expected number is worked here
in numpy — the forward pass, torch's batch-norm backward, SGD and the running statistics —
from the config's numbers and those masks."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from backtrace_cli import api, models
from backtrace_cli.cli import cli
from backtrace_cli.network.dropout import DROPOUT_STREAM

EPS, MOMENTUM, P = 1e-5, 0.1, 0.4
INPUTS = [[1.0, 0.5], [0.2, -0.4], [-0.5, 1.0], [0.8, 0.2]]
TARGETS = [[0.6], [0.1], [0.9], [0.4]]
PARAMETERS = {
    "0.weight": [[0.5, -0.2], [0.3, 0.8], [-0.6, 0.4]],
    "0.bias": [0.1, -0.1, 0.2],
    "2.weight": [1.0, 1.5, 0.5],
    "2.bias": [0.0, 0.2, -0.1],
    "2.running_mean": [0.1, -0.2, 0.05],
    "2.running_var": [0.8, 1.3, 0.6],
    "4.weight": [[0.7, -0.4, 0.6]],
    "4.bias": [0.1],
}


def _config(dropout: dict | None = None, batch_gradient: str = "mean") -> dict:
    """linear(2→3) → dropout → batchnorm1d(3) → relu → linear(3→1), mse, a batch of 4."""
    return {
        "name": "dropout and batch norm",
        "model": [
            {"linear": {"in_features": 2, "out_features": 3}},
            {"dropout": dropout or {"p": P, "seed": 3}},
            {"batchnorm1d": {"num_features": 3}},
            "relu",
            {"linear": {"in_features": 3, "out_features": 1}},
        ],
        "parameters": PARAMETERS,
        "loss": "mse",
        "learning_rate": 0.1,
        "mode": "batch",
        "batch_gradient": batch_gradient,
        "samples": [{"inputs": x, "targets": t} for x, t in zip(INPUTS, TARGETS)],
    }


def _drawn(seed: int, epoch: int, position: int = 1) -> np.ndarray:
    """Each sample's keep-mask, by the documented rule (docs/layers.md, "Dropout")."""
    rng = np.random.default_rng([seed, epoch, DROPOUT_STREAM, position])
    return (rng.random((len(INPUTS), 3)) >= P).astype(float)


def _by_hand(p: dict, masks: np.ndarray, summed: bool = False) -> dict:
    """One training pass over the batch in numpy: every sample's values, the batch's
    gradients ∂L/∂θ (L the mean or sum of the samples' E), SGD's step, the running
    statistics after it. δ is −∂E/∂y, summed over the batch below batch norm."""
    p = {name: np.array(value, dtype=float) for name, value in p.items()}
    x, t, n = np.array(INPUTS), np.array(TARGETS), len(INPUTS)
    y0 = x @ p["0.weight"].T + p["0.bias"]
    y1 = y0 * masks / (1 - P)
    mu, var = y1.mean(axis=0), ((y1 - y1.mean(axis=0)) ** 2).mean(axis=0)
    scale = np.sqrt(var + EPS)
    xhat = (y1 - mu) / scale
    y2 = p["2.weight"] * xhat + p["2.bias"]
    y3 = np.maximum(y2, 0)
    y4 = y3 @ p["4.weight"].T + p["4.bias"]
    losses = ((y4 - t) ** 2).mean(axis=1)
    d4 = 2 * (t - y4)  # each sample's −∂E/∂y
    d3 = d4 @ p["4.weight"]
    d2 = d3 * (y2 > 0)
    g = d2 * p["2.weight"]  # −∂(ΣE)/∂x̂
    d1 = (n * g - g.sum(axis=0) - xhat * (g * xhat).sum(axis=0)) / (n * scale)
    d0 = d1 * masks / (1 - P)
    factor = 1.0 if summed else 1.0 / n
    grads = {
        "0.weight": -factor * d0.T @ x,
        "0.bias": -factor * d0.sum(axis=0),
        "2.weight": -factor * (d2 * xhat).sum(axis=0),
        "2.bias": -factor * d2.sum(axis=0),
        "4.weight": -factor * d4.T @ y3,
        "4.bias": -factor * d4.sum(axis=0),
    }
    after = {name: p[name] - 0.1 * grads[name] for name in grads}
    after["2.running_mean"] = (1 - MOMENTUM) * p["2.running_mean"] + MOMENTUM * mu
    unbiased = var * n / (n - 1)
    after["2.running_var"] = (1 - MOMENTUM) * p["2.running_var"] + MOMENTUM * unbiased
    return {
        "y1": y1,
        "mu": mu,
        "var": var,
        "xhat": xhat,
        "y4": y4,
        "losses": losses,
        "d0": d0,
        "d1": d1,
        "grads": grads,
        "after": after,
    }


def _trace(data: dict, **options):
    return api.trace(models.from_dict(data), **options).records


@pytest.mark.parametrize("summed", [False, True])
def test_a_step_through_drawn_masks_and_batch_norm_is_the_numpy_derivation(summed):
    records = _trace(_config(batch_gradient="sum" if summed else "mean"))
    hand = _by_hand(PARAMETERS, _drawn(3, 1), summed)
    assert 0 < _drawn(3, 1).sum() < _drawn(3, 1).size  # some dropped, some kept
    for s, step in enumerate(records.steps):
        rows = {row.symbol: row.value for _, row in step.equations()}
        operands = {row.symbol: row.values() for _, row in step.equations()}
        for c in range(3):
            assert operands[f"y1[{c}]"][f"m1[{c}]"] == _drawn(3, 1)[s, c]  # its own mask
            assert rows[f"y1[{c}]"] == pytest.approx(hand["y1"][s, c], rel=1e-12, abs=1e-15)
            assert rows[f"x̂2[{c}]"] == pytest.approx(hand["xhat"][s, c], rel=1e-12)
            assert rows[f"δ0[{c}]"] == pytest.approx(hand["d0"][s, c], rel=1e-9, abs=1e-15)
            assert rows[f"δ1[{c}]"] == pytest.approx(hand["d1"][s, c], rel=1e-9, abs=1e-15)
        assert step.loss == pytest.approx(hand["losses"][s], rel=1e-12)
        assert step.outputs == pytest.approx(hand["y4"][s], rel=1e-12)
    first = {row.symbol: row.value for _, row in records.steps[0].equations()}
    for c in range(3):  # the batch's statistics of what the masks let through
        assert first[f"μ2[{c}]"] == pytest.approx(hand["mu"][c], rel=1e-12, abs=1e-15)
        assert first[f"σ²2[{c}]"] == pytest.approx(hand["var"][c], rel=1e-12)
    after = dict((*records.after.parameters, *records.after.buffers))
    for name, value in hand["after"].items():
        assert after[name] == pytest.approx(value, rel=1e-9, abs=1e-15), name
    assert int(after["2.num_batches_tracked"]) == 1


def test_batch_norm_then_dropout_with_a_fixed_mask():
    """batchnorm1d → relu → dropout (one fixed mask, every sample) → linear: the mask after
    the normalisation, worked in numpy."""
    data = _config()
    mask = [1, 0, 1]
    data["model"] = [
        data["model"][0],
        data["model"][2],
        "relu",
        {"dropout": {"p": P, "mask": mask}},
        data["model"][4],
    ]
    data["parameters"] = {
        key.replace("2.", "1.") if key.startswith("2.") else key: value
        for key, value in PARAMETERS.items()
    }
    p = {name: np.array(value) for name, value in data["parameters"].items()}
    x, t = np.array(INPUTS), np.array(TARGETS)
    y0 = x @ p["0.weight"].T + p["0.bias"]
    xhat = (y0 - y0.mean(axis=0)) / np.sqrt(y0.var(axis=0) + EPS)
    y3 = np.maximum(p["1.weight"] * xhat + p["1.bias"], 0) * np.array(mask) / (1 - P)
    y4 = y3 @ p["4.weight"].T + p["4.bias"]
    worked = api.trace(models.from_dict(data), verify=True).records
    assert np.array([s.outputs for s in worked.steps]) == pytest.approx(y4, rel=1e-12)
    assert [s.loss for s in worked.steps] == pytest.approx(((y4 - t) ** 2)[:, 0], rel=1e-12)
    # the dropped unit's weight above is not changed; every gradient agrees with --verify's
    assert worked.steps[-1].gradients["4.weight"][0, 1] == 0
    assert all(c.agrees for c in worked.checks)


def test_verify_differentiates_through_the_same_masks(runner, tmp_path):
    path = tmp_path / "model.yaml"
    path.write_text(yaml.safe_dump(_config(), sort_keys=False), encoding="utf-8")
    result = runner.invoke(cli, ["run", str(path), "--verify"])
    assert result.exit_code == 0, result.output
    assert "All 19 gradients agree with central finite differences" in result.output
    hand = _by_hand(PARAMETERS, _drawn(3, 1))
    checks = {c.name: c for c in _trace(_config(), verify=True).checks}
    assert checks["w2[1]"].backprop == pytest.approx(hand["grads"]["2.weight"][1], rel=1e-9)
    assert checks["w0[2,0]"].backprop == pytest.approx(hand["grads"]["0.weight"][2, 0], rel=1e-9)


def test_each_epoch_draws_its_own_masks_and_trains_on():
    """`step`: epoch 2 draws with epoch 2 in the seed, from the model after epoch 1."""
    training = api.train(models.from_dict(_config()), 2, trace=[1, 2]).records
    first = _by_hand(PARAMETERS, _drawn(3, 1))
    second_start = {**PARAMETERS, **{k: v.tolist() for k, v in first["after"].items()}}
    second = _by_hand(second_start, _drawn(3, 2))
    assert not np.array_equal(_drawn(3, 1), _drawn(3, 2))
    assert training.rows[0].loss == pytest.approx(first["losses"].mean(), rel=1e-12)
    assert training.rows[1].loss == pytest.approx(second["losses"].mean(), rel=1e-9)
    final = dict((*training.final.parameters, *training.final.buffers))
    for name, value in second["after"].items():
        assert final[name] == pytest.approx(value, rel=1e-9, abs=1e-15), name


def test_at_inference_nothing_is_dropped_and_batch_norm_uses_its_running_statistics():
    records = _trace(_config(), inference=True, verify=True)
    p = {name: np.array(value) for name, value in PARAMETERS.items()}
    for s, step in enumerate(records.steps):
        y0 = p["0.weight"] @ INPUTS[s] + p["0.bias"]
        xhat = (y0 - p["2.running_mean"]) / np.sqrt(p["2.running_var"] + EPS)
        y4 = p["4.weight"] @ np.maximum(p["2.weight"] * xhat + p["2.bias"], 0) + p["4.bias"]
        assert np.asarray(step.outputs) == pytest.approx(y4, rel=1e-12)
        rows = {row.symbol: row for _, row in step.equations()}
        assert [rows[f"y1[{c}]"].value for c in range(3)] == pytest.approx(y0, rel=1e-12)
        assert not any("m1[" in row.formula for row in rows.values())
    assert all(c.agrees for c in records.checks)
    given = models.from_dict(_config()).buffers
    assert [(n, v.tolist()) for n, v in records.after.buffers] == [
        (n, v.tolist()) for n, v in given
    ]


def test_check_marks_and_quiz_asks_the_combined_model(runner, tmp_path):
    path = tmp_path / "model.yaml"
    path.write_text(yaml.safe_dump(_config(), sort_keys=False), encoding="utf-8")
    hand = _by_hand(PARAMETERS, _drawn(3, 1))
    answers = {
        "y1[0]": hand["y1"][0, 0],  # sample 1's step: its own mask
        "mu2[1]": hand["mu"][1],
        "xhat2[2]": hand["xhat"][0, 2],
        "delta0[1]": hand["d0"][0, 1],
        "xhat2[0]": hand["xhat"][0, 0] + 0.05,
    }
    report = api.check(answers, str(path))
    verdicts = {answer["name"]: answer["verdict"] for answer in report["answers"]}
    assert verdicts.pop("x̂2[0]") == "wrong"
    assert set(verdicts.values()) == {"right"}, verdicts
    quiz = runner.invoke(cli, ["quiz", str(path)], input="!\n" * 400)
    assert quiz.exit_code == 1, quiz.output  # every answer revealed: none right
    for symbol, value in (("μ2[0]", hand["mu"][0]), ("y1[1]", hand["y1"][0, 1])):
        line = next(line for line in quiz.output.splitlines() if f"answer: {symbol} =" in line)
        assert float(line.rsplit("= ", 1)[1].replace("−", "-")) == pytest.approx(value, abs=5e-7)


def test_markdown_and_json_of_the_combined_model(runner, tmp_path):
    from node_parsers import check, pieces

    worked = api.trace(models.from_dict(_config()))
    report = check(*pieces(worked.markdown()))
    assert report["math"] == [] and report["mermaid"] == [], report
    path = tmp_path / "model.yaml"
    path.write_text(yaml.safe_dump(_config(), sort_keys=False), encoding="utf-8")
    result = runner.invoke(cli, ["run", str(path), "--format", "json"])
    assert result.exit_code == 0
    doc = yaml.safe_load(result.output)  # JSON is YAML
    hand = _by_hand(PARAMETERS, _drawn(3, 1))
    for s, step in enumerate(doc["steps"]):
        assert step["layers"][1]["out"] == pytest.approx(hand["y1"][s], rel=1e-12, abs=1e-15)
