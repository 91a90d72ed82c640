"""Training in torch's eval mode (`step --eval`: `model.eval()`, then the optimizer's steps;
issue #28), and `run --eval`'s δ and gradient rows. Batch norm then normalises with its
running statistics, which no step moves, and a dropout drops nothing. Every expected number is
derived here: a 1-feature batch norm in eval mode is the affine map y = γ(x − μ_r)/√(σ²_r +
ε) + β, whose gradients are written out by hand; a wider model's are numpy's over the same
formulas, or central finite differences of its eval-mode loss; the optimizers' steps are
torch.optim's formulas (PRODUCT.md), written here."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import yaml
from conftest import run_json
from model_commands import written

from backtrace_cli import api, formula
from backtrace_cli.cli import cli
from backtrace_cli.core.rounding import written as rounded

EPS = 1e-5

# ---------------------------------------------------------------- a 1-feature batch norm

# x → z = a·x + c (linear 0) → y = γ·(z − μ_r)/√(σ²_r + ε) + β (batchnorm1d 1, eval mode)
A, C, GAMMA, BETA, MU_R, VAR_R, ETA = 0.8, -0.3, 1.5, 0.2, 0.1, 0.64, 0.1
SAMPLES = [(0.5, 0.4), (-1.0, -0.6)]  # (x, t)


def _one_feature(mode: str = "batch", **changes) -> dict:
    data = {
        "name": "one feature",
        "model": [
            {"linear": {"in_features": 1, "out_features": 1}},
            {"batchnorm1d": {"num_features": 1}},
        ],
        "parameters": {
            "0.weight": [[A]],
            "0.bias": [C],
            "1.weight": [GAMMA],
            "1.bias": [BETA],
            "1.running_mean": [MU_R],
            "1.running_var": [VAR_R],
            "1.num_batches_tracked": 7,
        },
        "loss": "mse",
        "learning_rate": ETA,
        "mode": mode,
        "samples": [{"inputs": [x], "targets": [t]} for x, t in SAMPLES],
    }
    return {**data, **changes}


def _one_feature_by_hand(a: float, c: float, gamma: float, beta: float, x: float, t: float):
    """One sample: E = (y − t)², δ = −∂E/∂y = 2(t − y); the map's slope γ/s, s = √(σ²_r + ε)."""
    s = math.sqrt(VAR_R + EPS)
    z = a * x + c
    xhat = (z - MU_R) / s
    y = gamma * xhat + beta
    delta_y = 2 * (t - y)
    delta_z = gamma * delta_y / s  # eval mode: μ_r and σ²_r are constants
    grads = {  # ∂E/∂θ, torch's sign
        "1.weight": -delta_y * xhat,
        "1.bias": -delta_y,
        "0.weight": -delta_z * x,
        "0.bias": -delta_z,
    }
    return {"z": z, "xhat": xhat, "y": y, "loss": (y - t) ** 2, "δy": delta_y, "δz": delta_z}, grads


def test_run_eval_writes_the_affine_maps_delta_and_every_gradient(runner, tmp_path):
    doc = run_json(runner, str(written(tmp_path, _one_feature())), "--eval")
    hand = [_one_feature_by_hand(A, C, GAMMA, BETA, x, t) for x, t in SAMPLES]
    for step, (values, _) in zip(doc["steps"], hand, strict=True):
        rows = {e["symbol"]: e["value"] for e in step["equations"]}
        assert rows["x̂1[0]"] == pytest.approx(values["xhat"], rel=1e-12)
        assert rows["δ1[0]"] == pytest.approx(values["δy"], rel=1e-12)
        assert rows["δ0[0]"] == pytest.approx(values["δz"], rel=1e-12)
        assert not any(s.startswith(("μ", "σ²", "Σδ", "new ")) for s in rows)
    # the batch's mean of each gradient, written once in the last sample's step
    rows = {e["symbol"]: e["value"] for e in doc["steps"][-1]["equations"]}
    for name, symbol in (
        ("1.weight", "w1[0]"),
        ("1.bias", "b1[0]"),
        ("0.weight", "w0[0,0]"),
        ("0.bias", "b0[0]"),
    ):
        mean = (hand[0][1][name] + hand[1][1][name]) / 2
        assert rows[f"∂E/∂{symbol}"] == pytest.approx(mean, rel=1e-12)
    assert doc["parameters_after"] == doc["parameters_before"]  # run --eval: no update


def test_the_delta_row_reads_gamma_and_the_running_variance():
    records = api.trace(_one_feature(), inference=True).records
    row = next(r for _, r in records.steps[0].equations() if r.symbol == "δ0[0]")
    assert row.formula == "{w1[0]}·{δ1[0]}/√({running_var1[0]} + {ε})"
    values, _ = _one_feature_by_hand(A, C, GAMMA, BETA, *SAMPLES[0])
    assert row.values() == {
        "w1[0]": GAMMA,
        "δ1[0]": pytest.approx(values["δy"], rel=1e-12),
        "running_var1[0]": VAR_R,
        "ε": EPS,
    }


def test_step_eval_updates_from_the_eval_gradients_and_keeps_the_buffers(runner, tmp_path):
    """One batch step (mean) by hand: θ ← θ − η·(mean gradient); the running statistics and
    num_batches_tracked written back as given."""
    path, saved = written(tmp_path, _one_feature()), tmp_path / "saved.yaml"
    result = runner.invoke(cli, ["step", str(path), "--eval", "-n", "1", "--save", str(saved)])
    assert result.exit_code == 0, result.output
    grads = [_one_feature_by_hand(A, C, GAMMA, BETA, x, t)[1] for x, t in SAMPLES]
    before = {"0.weight": A, "0.bias": C, "1.weight": GAMMA, "1.bias": BETA}
    parameters = yaml.safe_load(saved.read_text(encoding="utf-8"))["parameters"]
    for name, value in before.items():
        new = value - ETA * (grads[0][name] + grads[1][name]) / 2
        assert np.ravel(parameters[name])[0] == pytest.approx(new, rel=1e-12)
    assert parameters["1.running_mean"] == [MU_R]
    assert parameters["1.running_var"] == [VAR_R]
    assert parameters["1.num_batches_tracked"] == 7
    assert "`backtrace step --eval`" in saved.read_text(encoding="utf-8").splitlines()[0]
    assert f"`backtrace step {saved} --eval` continues from it" in result.output


def test_online_eval_steps_each_sample_with_the_parameters_the_last_left(runner, tmp_path):
    """Online mode (torch's eval mode takes a sample alone): an update after each sample,
    two epochs; training mode refuses the config (one value per feature)."""
    path = written(tmp_path, _one_feature("online"))
    result = runner.invoke(cli, ["step", str(path), "--eval", "-n", "2", "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    theta = {"0.weight": A, "0.bias": C, "1.weight": GAMMA, "1.bias": BETA}
    losses = []
    for _ in range(2):
        epoch = []
        for x, t in SAMPLES:
            values, grads = _one_feature_by_hand(
                theta["0.weight"], theta["0.bias"], theta["1.weight"], theta["1.bias"], x, t
            )
            epoch.append(values["loss"])
            theta = {name: value - ETA * grads[name] for name, value in theta.items()}
        losses.append(sum(epoch) / 2)
    assert [e["loss"] for e in doc["epochs"]] == pytest.approx(losses, rel=1e-12)
    for name, value in theta.items():
        assert np.ravel(doc["final"][name])[0] == pytest.approx(value, rel=1e-12)
    assert doc["inference"] is True
    assert runner.invoke(cli, ["step", str(path), "-n", "1"]).exit_code == 2


# ---------------------------------------------------------------- wider: numpy, differences


def _wide(mode: str = "batch", how: str = "mean", dropout: bool = False, **changes) -> dict:
    """linear 2→3 → [dropout] → batchnorm1d(3) → relu → linear 3→1, with running statistics."""
    layers: list = [
        {"linear": {"in_features": 2, "out_features": 3}},
        {"batchnorm1d": {"num_features": 3}},
        "relu",
        {"linear": {"in_features": 3, "out_features": 1}},
    ]
    shift = 1 if dropout else 0
    if dropout:
        layers.insert(1, {"dropout": {"p": 0.5, "mask": [1, 0, 1]}})
    bn, out = f"{1 + shift}", f"{3 + shift}"
    data = {
        "name": "wide",
        "model": layers,
        "parameters": {
            "0.weight": [[0.5, -0.2], [0.3, 0.8], [-0.6, 0.4]],
            "0.bias": [0.1, -0.1, 0.2],
            f"{bn}.weight": [1.0, 1.5, 0.5],
            f"{bn}.bias": [0.0, 0.2, -0.1],
            f"{bn}.running_mean": [0.1, -0.2, 0.05],
            f"{bn}.running_var": [0.8, 1.3, 0.6],
            f"{out}.weight": [[0.7, -0.4, 0.6]],
            f"{out}.bias": [0.1],
        },
        "loss": "mse",
        "learning_rate": 0.1,
        "mode": mode,
        "batch_gradient": how,
        "samples": [
            {"inputs": [1.0, 0.5], "targets": [0.6]},
            {"inputs": [0.2, -0.4], "targets": [0.1]},
            {"inputs": [-0.5, 1.0], "targets": [0.9]},
        ],
    }
    return {**data, **changes}


def _wide_loss(data: dict, theta: dict, samples: list) -> float:
    """The loss an update descends in eval mode (nothing dropped, the running statistics):
    numpy over the config's formulas; the batch's mean or sum."""
    names = sorted(theta)
    bn = next(n.partition(".")[0] for n in names if n.endswith("running_mean"))
    out = str(int(bn) + 2)
    each = []
    for sample in samples:
        x, t = np.array(sample["inputs"]), np.array(sample["targets"])
        z = theta["0.weight"] @ x + theta["0.bias"]
        xhat = (z - theta[f"{bn}.running_mean"]) / np.sqrt(theta[f"{bn}.running_var"] + EPS)
        h = np.maximum(theta[f"{bn}.weight"] * xhat + theta[f"{bn}.bias"], 0)
        y = theta[f"{out}.weight"] @ h + theta[f"{out}.bias"]
        each.append(float(np.mean((y - t) ** 2)))
    return sum(each) / (len(each) if data["batch_gradient"] == "mean" else 1)


def _central(loss, theta: dict) -> dict:
    """∂loss/∂θ of every trained entry (no buffer) by central differences."""
    out, h = {}, 1e-6
    for name, value in theta.items():
        if name.endswith(("running_mean", "running_var", "num_batches_tracked")):
            continue
        grad = np.zeros_like(value)
        for index in np.ndindex(*value.shape):
            up, down = dict(theta), dict(theta)
            up[name], down[name] = value.copy(), value.copy()
            up[name][index] += h
            down[name][index] -= h
            grad[index] = (loss(up) - loss(down)) / (2 * h)
        out[name] = grad
    return out


def _differences(data: dict, theta: dict, samples: list) -> dict:
    """∂E/∂θ of the eval-mode loss of `samples`, by central differences."""
    return _central(lambda values: _wide_loss(data, values, samples), theta)


def _theta(data: dict) -> dict:
    return {name: np.array(value, dtype=float) for name, value in data["parameters"].items()}


@pytest.mark.parametrize("how", ["mean", "sum"])
@pytest.mark.parametrize("dropout", [False, True])
def test_the_gradient_rows_are_the_eval_losss_central_differences(runner, tmp_path, how, dropout):
    """The batch's gradient rows (a dropout below batch norm drops nothing in eval mode) and
    `--eval --verify`'s check of them."""
    data = _wide(how=how, dropout=dropout)
    doc = run_json(runner, str(written(tmp_path, data)), "--eval", "--verify")
    expected = _differences(data, _theta(data), data["samples"])
    rows = {e["symbol"]: e["value"] for e in doc["steps"][-1]["equations"]}
    letters = {"weight": "w", "bias": "b"}
    for name, grad in expected.items():
        layer, _, key = name.partition(".")
        for index in np.ndindex(*grad.shape):
            symbol = f"∂E/∂{letters[key]}{layer}[{','.join(map(str, index))}]"
            assert rows[symbol] == pytest.approx(grad[index], rel=1e-6, abs=1e-9)
    assert all(c["agrees"] for c in doc["verify"])


def _adam(theta: dict, grads: dict, state: dict, t: int, eta: float) -> dict:
    """torch.optim.Adam's step (β1 0.9, β2 0.999, ε 1e-8), as PRODUCT.md writes it."""
    out = {}
    for name, g in grads.items():
        m = 0.9 * state.get(("m", name), 0) + 0.1 * g
        v = 0.999 * state.get(("v", name), 0) + 0.001 * g**2
        state[("m", name)], state[("v", name)] = m, v
        mhat, vhat = m / (1 - 0.9**t), v / (1 - 0.999**t)
        out[name] = theta[name] - eta * mhat / (np.sqrt(vhat) + 1e-8)
    return {**theta, **out}


@pytest.mark.parametrize("mode", ["online", "batch"])
def test_adam_in_eval_mode_over_two_epochs(runner, tmp_path, mode):
    """Adam's steps from the eval-mode gradients (central differences here), a step a
    sample online or one an epoch; the running statistics never move."""
    data = _wide(mode=mode, optimizer="adam")
    path = written(tmp_path, data)
    result = runner.invoke(cli, ["step", str(path), "--eval", "-n", "2", "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    theta, state, t = _theta(data), {}, 0
    groups = [[s] for s in data["samples"]] if mode == "online" else [data["samples"]]
    for _ in range(2):
        for group in groups:
            t += 1
            theta = _adam(theta, _differences(data, theta, group), state, t, 0.1)
    for name, value in doc["final"].items():
        assert np.array(value) == pytest.approx(theta[name], rel=1e-6, abs=1e-8)
    loss_after = _wide_loss({**data, "batch_gradient": "mean"}, theta, data["samples"])
    assert doc["epochs"][-1]["loss_after"] == pytest.approx(loss_after, rel=1e-6)


def test_without_running_statistics_eval_mode_trains_over_the_batch(runner, tmp_path):
    """track_running_stats false: torch's eval mode normalises with the batch's μ and biased
    σ², as training does; one SGD step from that loss's central differences, and nothing to
    save but the parameters."""
    data = _wide()
    for key in ("running_mean", "running_var"):
        del data["parameters"][f"1.{key}"]
    data["model"][1] = {"batchnorm1d": {"num_features": 3, "track_running_stats": False}}
    theta = _theta(data)

    def loss(values: dict) -> float:
        xs = np.array([s["inputs"] for s in data["samples"]])
        ts = np.array([s["targets"] for s in data["samples"]])
        z = xs @ values["0.weight"].T + values["0.bias"]
        xhat = (z - z.mean(axis=0)) / np.sqrt(z.var(axis=0) + EPS)  # numpy's var: biased
        h = np.maximum(values["1.weight"] * xhat + values["1.bias"], 0)
        y = h @ values["3.weight"].T + values["3.bias"]
        return float(np.mean((y - ts) ** 2))

    saved = tmp_path / "saved.yaml"
    path = written(tmp_path, data)
    result = runner.invoke(cli, ["step", str(path), "--eval", "-n", "1", "--save", str(saved)])
    assert result.exit_code == 0, result.output
    parameters = yaml.safe_load(saved.read_text(encoding="utf-8"))["parameters"]
    assert not any(name.startswith("1.running") for name in parameters)
    for name, grad in _central(loss, theta).items():
        new = theta[name] - 0.1 * grad
        assert np.array(parameters[name]) == pytest.approx(new, rel=1e-6, abs=1e-9)


def test_step_eval_verify_checks_the_first_epochs_gradients(runner, tmp_path):
    path = written(tmp_path, _wide(dropout=True))
    options = ["--eval", "-n", "2", "--trace", "1", "--verify"]
    result = runner.invoke(cli, ["step", str(path), *options])
    assert result.exit_code == 0, result.output
    assert "All 19 gradients agree with central finite differences of E" in result.output


@pytest.mark.parametrize("rounding", ["3sf", "4dp"])
def test_under_round_every_eval_row_adds_up_from_the_numbers_it_shows(rounding):
    """δ, gradient and update rows too, in `run --eval` and in `step --eval`'s epochs."""
    for data in (_wide(), _wide(mode="online", dropout=True), _one_feature()):
        run = api.trace(data, rounding=rounding, inference=True).records
        trained = api.train(data, 2, trace=["all"], rounding=rounding, inference=True).records
        for steps in (run.steps, *(t.steps for t in trained.traces)):
            for step in steps:
                for _, row in step.equations():
                    value = formula.evaluate(
                        formula.parse(row.formula),
                        row.values(),
                        lambda v, r=rounding: rounded(v, r),
                    )
                    assert rounded(value, rounding) == rounded(row.value, rounding), row.symbol


# ---------------------------------------------------------------- networks, graphs, marking


def test_a_network_without_dropout_trains_as_it_does_in_training(runner):
    """A layered network's eval mode changes only its dropout: without one, `step --eval` is
    its training, the lecture's numbers (PRODUCT.md: new w35 = 0.272326, w13 = 0.099071)."""
    result = runner.invoke(cli, ["step", "lecture", "--eval", "-n", "1", "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    after = {name: value["after"] for name, value in doc["summary"]["parameters"].items()}
    assert after["w35"] == pytest.approx(0.272326, abs=5e-7)
    assert after["w13"] == pytest.approx(0.099071, abs=5e-7)
    assert doc["epochs"][0]["loss_after"] == pytest.approx(0.016565, abs=5e-7)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (
            "lecture_dropout",
            "built-in example 'lecture_dropout' has dropout, and a layered network's eval mode "
            "differs from its training only there (dropout drops nothing); to train it without "
            "dropout, leave out `dropout:` and use `step` without --eval",
        ),
        (
            "circuit",
            "trains a model in torch's eval mode (dropout off, batch norm's running "
            "statistics); a computational graph has neither: `step` without --eval trains it, "
            "and `run --eval` traces its forward pass",
        ),
    ],
)
def test_a_network_with_dropout_and_a_graph_are_refused(runner, name, message):
    result = runner.invoke(cli, ["step", name, "--eval"])
    assert result.exit_code == 2
    assert result.output == f"Error: --eval: {message}\n"


MARKED = (
    "Note: marked in training mode, as `run` traces it (batch norm over the batch); eval mode "
    "(`--eval`) is traced, not marked"
)


def test_check_and_quiz_say_they_mark_the_training_pass(runner, tmp_path):
    """An answer worked in eval mode is marked against the training pass (x̂ from the batch's
    μ and σ²), and check, quiz and `check --names` say so; a model whose eval mode computes
    as its training does says nothing."""
    values, _ = _one_feature_by_hand(A, C, GAMMA, BETA, *SAMPLES[0])
    answers = tmp_path / "answers.yaml"
    config = written(tmp_path, _one_feature())
    text = yaml.safe_dump({"exercise": str(config), "answers": {"xhat1[0]": values["xhat"]}})
    answers.write_text(text, encoding="utf-8")
    report = runner.invoke(cli, ["check", str(answers)], env={"COLUMNS": "200"})
    z = [A * x + C for x, _ in SAMPLES]
    batch = (z[0] - np.mean(z)) / np.sqrt(np.var(z) + EPS)  # the training pass's x̂
    assert report.exit_code == 1
    assert f"{batch:.6g}" in report.output and MARKED in report.output
    quiz = runner.invoke(cli, ["quiz", str(config)], input="", env={"COLUMNS": "200"})
    assert MARKED in quiz.output
    names = runner.invoke(cli, ["check", "--names", str(config)], env={"COLUMNS": "200"})
    assert names.exit_code == 0 and MARKED in names.output
    plain = runner.invoke(cli, ["check", "--names", "conv1d"], env={"COLUMNS": "200"})
    assert "marked in training mode" not in plain.output


def test_eval_markdown_parses_and_asks_the_update_only_when_it_steps(runner):
    from node_parsers import check, pieces

    run = runner.invoke(cli, ["run", "batchnorm", "--eval", "--format", "markdown"]).output
    step = runner.invoke(
        cli, ["step", "batchnorm", "--eval", "-n", "2", "--trace", "1", "--format", "markdown"]
    ).output
    for text, ending in (
        (run, "each parameter's gradient; no update."),
        (step, "each parameter's gradient, and the update."),
    ):
        statement = next(line for line in text.splitlines() if "In torch's eval mode" in line)
        assert statement.endswith(ending)
        assert "*eval mode (torch's model.eval()): dropout drops nothing" in text
    assert "\\mathit{running\\_var}^{(1)}_{0}" in step  # the δ row's running variance
    report = check(*pieces(step))
    assert report["math"] == [] and report["mermaid"] == [], report
