"""batchnorm1d in eval mode (`run --eval`, torch's `model.eval()`; issue #28): each feature
normalised with the running statistics the config gives, a sample on its own, and nothing moves
them. Every expected number is derived here with numpy from torch's documented formulas
(y = γ·(x − running_mean)/√(running_var + ε) + β; its backward a per-feature affine map), or
is a central finite difference of that numpy forward pass."""

from __future__ import annotations

import numpy as np
import pytest
import yaml
from conftest import run_json

from backtrace_cli import api, models
from backtrace_cli.cli import cli
from backtrace_cli.core.errors import ConfigError
from backtrace_cli.network.config import example_text
from backtrace_cli.network.layers.batchnorm1d import BatchNorm1d
from backtrace_cli.network.layers.batchnorm1d_eval import Evaluated, evaluated
from backtrace_cli.network.model_spec import LayerSpec

EPS = 1e-5
RUNNING_MEAN, RUNNING_VAR = np.array([0.1, -0.2, 0.05]), np.array([0.8, 1.3, 0.6])


def _config(**changes) -> dict:
    """configs/batchnorm.yaml with running statistics of its own (not torch's 0 and 1)."""
    data = yaml.safe_load(example_text("batchnorm"))
    data["parameters"]["1.running_mean"] = RUNNING_MEAN.tolist()
    data["parameters"]["1.running_var"] = RUNNING_VAR.tolist()
    data["parameters"]["1.num_batches_tracked"] = 7
    return {**data, **changes}


def _written(tmp_path, data: dict) -> str:
    path = tmp_path / "model.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return str(path)


def _eval_by_hand(data: dict) -> list[dict]:
    """Each sample through linear → batchnorm1d (eval) → relu → linear, mse, and back:
    numpy on the config's numbers, torch's eval-mode formulas."""
    p = {name: np.array(value, dtype=float) for name, value in data["parameters"].items()}
    samples = data.get("samples") or [{"inputs": data["inputs"], "targets": data["targets"]}]
    out = []
    for sample in samples:
        x, t = np.array(sample["inputs"]), np.array(sample["targets"])
        y0 = p["0.weight"] @ x + p["0.bias"]
        scale = np.sqrt(p["1.running_var"] + EPS)
        xhat = (y0 - p["1.running_mean"]) / scale
        y1 = p["1.weight"] * xhat + p["1.bias"]
        y2 = np.maximum(y1, 0)
        y3 = p["3.weight"] @ y2 + p["3.bias"]
        loss = float(np.mean((y3 - t) ** 2))
        d3 = 2 * (t - y3) / y3.size  # δ = −∂E/∂y
        d1 = (p["3.weight"].T @ d3) * (y1 > 0)
        d0 = p["1.weight"] * d1 / scale  # batch norm in eval mode: a per-feature affine map
        grads = {  # ∂E/∂θ, torch's sign
            "0.weight": -np.outer(d0, x),
            "0.bias": -d0,
            "1.weight": -d1 * xhat,
            "1.bias": -d1,
            "3.weight": -np.outer(d3, y2),
            "3.bias": -d3,
        }
        out.append(
            {"xhat": xhat, "y1": y1, "y3": y3, "loss": loss, "d0": d0, "d1": d1, "grads": grads}
        )
    return out


def test_eval_mode_normalises_with_the_running_statistics(runner, tmp_path):
    data = _config()
    doc = run_json(runner, _written(tmp_path, data), "--eval")
    expected = _eval_by_hand(data)
    assert doc["inference"] is True
    for step, hand in zip(doc["steps"], expected, strict=True):
        rows = {e["symbol"]: e["value"] for e in step["equations"]}
        for c in range(3):
            assert rows[f"x̂1[{c}]"] == pytest.approx(hand["xhat"][c], rel=1e-12)
            assert rows[f"y1[{c}]"] == pytest.approx(hand["y1"][c], rel=1e-12)
        # no batch statistics in eval mode, and no update: `run --eval` stops at the gradients
        assert not any(s.startswith(("μ", "σ²", "Σδ", "new ")) for s in rows)
        assert step["outputs"] == pytest.approx(hand["y3"], rel=1e-12)
        assert step["loss"] == pytest.approx(hand["loss"], rel=1e-12)
        # the δ the engine sends back through it: γ·δ/√(running_var + ε)
        assert step["layers"][1]["delta"] == pytest.approx(hand["d1"], rel=1e-12, abs=1e-15)
        assert step["layers"][0]["delta"] == pytest.approx(hand["d0"], rel=1e-12, abs=1e-15)
        # each sample's own gradient (a step's; the batch's rows average them)
        for name, value in hand["grads"].items():
            assert step["gradients"][name] == pytest.approx(value, rel=1e-12, abs=1e-15)
    assert doc["loss_after"] == pytest.approx(np.mean([h["loss"] for h in expected]), rel=1e-12)
    # nothing is trained and the running statistics stay, num_batches_tracked too
    assert doc["buffers_after"] == doc["buffers_before"]
    assert doc["buffers_after"]["1.running_var"] == RUNNING_VAR.tolist()
    assert doc["buffers_after"]["1.num_batches_tracked"] == 7
    assert doc["parameters_after"] == doc["parameters_before"]


def test_the_forward_rows_name_the_running_statistics():
    records = api.trace(_config(), inference=True).records
    row = next(r for _, r in records.steps[0].equations() if r.symbol == "x̂1[1]")
    assert row.formula == "({y0[1]} − {running_mean1[1]})/√({running_var1[1]} + {ε})"
    assert row.values() == {
        "y0[1]": pytest.approx(0.3 * 1.0 + 0.8 * 0.5 - 0.1),
        "running_mean1[1]": -0.2,
        "running_var1[1]": 1.3,
        "ε": EPS,
    }


@pytest.mark.parametrize("mode", ["online", "batch"])
def test_eval_verify_checks_torchs_eval_mode_gradients(runner, tmp_path, mode):
    """`--eval --verify`: the gradients of eval mode's backward (the batch's mean, or the
    first sample's online, as the training step's), each the numpy derivation's and its
    central finite difference."""
    data = _config(mode=mode)
    doc = run_json(runner, _written(tmp_path, data), "--eval", "--verify")
    hand = _eval_by_hand(data)
    used = hand if mode == "batch" else hand[:1]
    checks = {c["parameter"]: c for c in doc["verify"]}
    assert len(checks) == 19 and all(c["agrees"] for c in checks.values())
    letters = {"weight": "w", "bias": "b"}
    for name in hand[0]["grads"]:
        layer, _, key = name.partition(".")
        expected = np.mean([h["grads"][name] for h in used], axis=0)
        for index in np.ndindex(*expected.shape):
            symbol = f"{letters[key]}{layer}[{','.join(map(str, index))}]"
            assert checks[symbol]["backprop"] == pytest.approx(expected[index], rel=1e-9)


def test_online_mode_and_a_single_sample_trace_in_eval_mode(runner, tmp_path):
    """No batch statistics: a sample passes on its own, as torch's eval mode takes a batch of
    one; the training pass of the same configs is refused (tests/test_batchnorm.py)."""
    one = _config(mode="online")
    del one["samples"]
    one.update(inputs=[0.3, -0.7], targets=[0.2])
    for data in (_config(mode="online"), one):
        doc = run_json(runner, _written(tmp_path, data), "--eval")
        for step, hand in zip(doc["steps"], _eval_by_hand(data), strict=True):
            assert step["loss"] == pytest.approx(hand["loss"], rel=1e-12)
            assert step["layers"][1]["out"] == pytest.approx(hand["y1"], rel=1e-12)
        refused = runner.invoke(cli, ["run", _written(tmp_path, data)])
        assert refused.exit_code == 2
        assert refused.output.endswith(
            "; or `run --eval` traces it in eval mode, with its running statistics (`step "
            "--eval` trains so)\n"
        )


def test_without_running_statistics_eval_mode_uses_the_batchs_as_torch_does(runner, tmp_path):
    """track_running_stats false: torch's eval mode normalises with the batch's μ and biased
    σ², as training does — and there is nothing to move."""
    data = _config()
    for key in ("running_mean", "running_var", "num_batches_tracked"):
        del data["parameters"][f"1.{key}"]
    data["model"][1] = {"batchnorm1d": {"num_features": 3, "track_running_stats": False}}
    doc = run_json(runner, _written(tmp_path, data), "--eval", "--verify")
    p = {name: np.array(value) for name, value in data["parameters"].items()}
    y0 = np.array([p["0.weight"] @ s["inputs"] + p["0.bias"] for s in data["samples"]])
    mu, var = y0.mean(axis=0), y0.var(axis=0)  # numpy's var: biased, as batch norm's
    xhat = (y0 - mu) / np.sqrt(var + EPS)
    rows = [{e["symbol"]: e["value"] for e in step["equations"]} for step in doc["steps"]]
    for c in range(3):
        assert rows[0][f"μ1[{c}]"] == pytest.approx(mu[c], rel=1e-12)
        assert rows[0][f"σ²1[{c}]"] == pytest.approx(var[c], rel=1e-12)
        for s in range(4):
            assert rows[s][f"x̂1[{c}]"] == pytest.approx(xhat[s, c], rel=1e-12)
    assert "buffers_before" not in doc
    assert all(c["agrees"] for c in doc["verify"])


def _evaluated(shape: tuple[int, ...], gamma, beta, mean, var) -> Evaluated:
    """The layer eval mode computes: `evaluated` of the training layer with these statistics."""
    arguments = (
        ("num_features", shape[0]),
        ("eps", 0.01),
        ("momentum", 0.1),
        ("affine", gamma is not None),
        ("track_running_stats", True),
    )
    spec = LayerSpec("batchnorm1d", "1", arguments, shape, shape)
    running = {"running_mean": mean, "running_var": var, "num_batches_tracked": np.array(0)}
    return evaluated(BatchNorm1d(spec, gamma, beta, running))


@pytest.mark.parametrize("shape", [(3,), (2, 4)])
@pytest.mark.parametrize("affine", [True, False])
def test_the_eval_layers_backward_is_the_finite_difference_of_its_formula(shape, affine):
    """One sample, (C,) or (C, L): y against the formula in numpy, and δx, −∂E/∂γ, −∂E/∂β
    against central differences of E = ½Σ(y − T)² through that numpy formula."""
    rng = np.random.default_rng(3)
    x, target = rng.normal(size=shape), rng.normal(size=shape)
    mean, var = rng.normal(size=shape[0]), rng.uniform(0.5, 2, size=shape[0])
    gamma = rng.normal(size=shape[0]) if affine else None
    beta = rng.normal(size=shape[0]) if affine else None
    column = (-1,) + (1,) * (len(shape) - 1)

    def formula(x_, gamma_=gamma, beta_=beta):
        xhat = (x_ - mean.reshape(column)) / np.sqrt(var.reshape(column) + 0.01)
        if gamma_ is None:
            return xhat
        return gamma_.reshape(column) * xhat + beta_.reshape(column)

    def loss(*args) -> float:
        return 0.5 * float(((formula(*args) - target) ** 2).sum())

    layer = _evaluated(shape, gamma, beta, mean, var)
    y, cache = layer.forward(x, lambda a: a)
    assert y == pytest.approx(formula(x), rel=1e-13)
    sent, grads = layer.backward(cache, target - y, lambda a: a)
    h = 1e-6
    for index in np.ndindex(*shape):
        up, down = x.copy(), x.copy()
        up[index] += h
        down[index] -= h
        assert sent[index] == pytest.approx(-(loss(up) - loss(down)) / (2 * h), rel=1e-6)
    if not affine:
        assert grads == {}
        return
    for key in ("weight", "bias"):
        for c in range(shape[0]):
            moved = {"weight": gamma, "bias": beta}
            numeric = []
            for step in (h, -h):
                shifted = dict(moved)
                shifted[key] = moved[key].copy()
                shifted[key][c] += step
                numeric.append(loss(x, shifted["weight"], shifted["bias"]))
            expected = -(numeric[0] - numeric[1]) / (2 * h)
            assert grads[key][c] == pytest.approx(expected, rel=1e-6, abs=1e-9)


def test_under_round_every_forward_row_adds_up_from_the_numbers_it_shows():
    """Eval mode's x̂ and y, and every layer's forward row, at 3sf and 4dp. (The loss rows are
    every model's own: the output's δ = (2/1)(t − y) is 2·(t − y) rounded once, where a
    student rounds the bracket first — with t[0] = 0.9 and y3[0] = −0.106 here, 2.01 against
    2.02; a model's training pass writes it alike.)"""
    from backtrace_cli import formula
    from backtrace_cli.core.rounding import written

    for rounding in ("3sf", "4dp"):
        records = api.trace(_config(), rounding=rounding, inference=True).records
        for step in records.steps:
            for section, row in step.equations():
                if section.kind != "forward":
                    continue
                value = formula.evaluate(
                    formula.parse(row.formula), row.values(), lambda v, r=rounding: written(v, r)
                )
                assert written(value, rounding) == written(row.value, rounding), row.symbol


def test_eval_markdown_asks_the_forward_pass_with_the_running_statistics_and_parses(runner):
    from node_parsers import check, pieces

    text = runner.invoke(cli, ["run", "batchnorm", "--eval", "--format", "markdown"]).output
    statement = next(line for line in text.splitlines() if "do the forward pass" in line)
    assert statement.endswith(
        "In torch's eval mode: do the forward pass layer by layer (batch norm in eval mode: x̂ "
        "and y from its running statistics), the loss, δ back through every layer (batch "
        "norm's a fixed affine map's, γ·δ/√(running_var + ε)), each parameter's gradient; no "
        "update."
    )
    assert "\\mathit{running\\_mean}^{(1)}_{0}" in text and "\\mu^{(1)}" not in text
    report = check(*pieces(api.trace(_config(), inference=True).markdown()))
    assert report["math"] == [] and report["mermaid"] == [], report


def test_check_and_quiz_mark_the_training_pass_and_refuse_one_they_cannot(runner, tmp_path):
    """check and quiz mark a step's training pass (they have no --eval): a config only eval
    mode can trace is refused with its file, line and field, never a traceback."""
    path = _written(tmp_path, _config(mode="online"))
    for command in (["quiz", path], ["check", "--names", path]):
        result = runner.invoke(cli, command, input="")
        assert result.exit_code == 2
        assert result.output.startswith(f"Error: {path}, line ")
        assert "mode: online: layer 1 (batchnorm1d)" in result.output.replace("'", "")
    with pytest.raises(ConfigError):
        api.check({"mu1[0]": 0.1}, models.from_dict(_config(mode="online")))
