"""batchnorm1d in a `model:` (issue #28): torch's training-mode batch norm, over the batch.
Every expected number comes from central finite differences of the layer's own forward pass,
or from arithmetic written out here on configs/batchnorm.yaml's numbers."""

from __future__ import annotations

import math

import numpy as np
import pytest
import yaml
from conftest import run_json

from backtrace_cli import api, models
from backtrace_cli.cli import cli
from backtrace_cli.core.errors import ConfigError
from backtrace_cli.network.config import example_text
from backtrace_cli.network.layers.batchnorm1d import BatchNorm1d
from backtrace_cli.network.model_spec import LayerSpec

EXACT = lambda a: a  # noqa: E731 - no rounding


def _layer(shape: tuple[int, ...], gamma, beta, eps: float = 1e-5) -> BatchNorm1d:
    arguments = (
        ("num_features", shape[0]),
        ("eps", eps),
        ("momentum", 0.1),
        ("affine", gamma is not None),
        ("track_running_stats", False),
    )
    return BatchNorm1d(LayerSpec("batchnorm1d", "1", arguments, shape, shape), gamma, beta, {})


@pytest.mark.parametrize("shape", [(3,), (2, 3)])
@pytest.mark.parametrize("affine", [True, False])
def test_backward_is_the_central_finite_difference_of_the_batch_loss(shape, affine):
    """E = ½Σ(y − T)² over the whole batch, so δ = T − y; every sample's δx and the summed
    −∂E/∂γ, −∂E/∂β against [E(θ + h) − E(θ − h)]/2h."""
    rng = np.random.default_rng(7)
    n = 4
    x, target = rng.normal(size=(n, *shape)), rng.normal(size=(n, *shape))
    gamma = rng.normal(size=shape[0]) if affine else None
    beta = rng.normal(size=shape[0]) if affine else None

    def loss(x_, gamma_=gamma, beta_=beta) -> float:
        y, _ = _layer(shape, gamma_, beta_).forward(x_, EXACT)
        return 0.5 * float(((y - target) ** 2).sum())

    layer = _layer(shape, gamma, beta)
    y, cache = layer.forward(x, EXACT)
    sent, grads, _ = layer.backward(cache, target - y, EXACT)
    h = 1e-6
    for index in np.ndindex(*x.shape):
        up, down = x.copy(), x.copy()
        up[index] += h
        down[index] -= h
        numeric = -(loss(up) - loss(down)) / (2 * h)
        assert sent[index] == pytest.approx(numeric, rel=1e-6, abs=1e-8)
    if affine:
        for key, value in (("weight", gamma), ("bias", beta)):
            for c in range(shape[0]):
                up, down = value.copy(), value.copy()
                up[c] += h
                down[c] -= h
                args = {"gamma_": up, "beta_": beta} if key == "weight" else {"beta_": up}
                back = {"gamma_": down, "beta_": beta} if key == "weight" else {"beta_": down}
                numeric = -(loss(x, **args) - loss(x, **back)) / (2 * h)
                # each sample's term, (N, C): their sum is the batch's −∂E/∂θ
                assert grads[key][:, c].sum() == pytest.approx(numeric, rel=1e-6, abs=1e-8)
    else:
        assert grads == {}


# configs/batchnorm.yaml by hand: y0 = W0·x + b0 for the four samples
X = [(1.0, 0.5), (0.2, -0.4), (-0.5, 1.0), (0.8, 0.2)]
W0, B0 = [(0.5, -0.2), (0.3, 0.8), (-0.6, 0.4)], (0.1, -0.1, 0.2)
GAMMA, BETA = (1.0, 1.5, 0.5), (0.0, 0.2, -0.1)


def _by_hand() -> tuple[list[float], list[float], list[list[float]]]:
    """Each feature's μ and biased σ² over the batch, and every sample's x̂."""
    y0 = [[w[0] * a + w[1] * b + bias for w, bias in zip(W0, B0)] for a, b in X]
    mu = [sum(row[c] for row in y0) / 4 for c in range(3)]
    var = [sum((row[c] - mu[c]) ** 2 for row in y0) / 4 for c in range(3)]
    xhat = [[(row[c] - mu[c]) / math.sqrt(var[c] + 1e-5) for c in range(3)] for row in y0]
    return mu, var, xhat


def test_the_examples_mu_variance_xhat_and_y_are_the_hand_derivations(runner):
    mu, var, xhat = _by_hand()
    # feature 0 written out: y0[0] is 0.5, 0.28, −0.35, 0.46
    assert mu[0] == pytest.approx((0.5 + 0.28 - 0.35 + 0.46) / 4)
    assert var[0] == pytest.approx((0.2775**2 + 0.0575**2 + 0.5725**2 + 0.2375**2) / 4)
    data = run_json(runner, "batchnorm")
    steps = [{e["symbol"]: e["value"] for e in step["equations"]} for step in data["steps"]]
    for c in range(3):
        assert steps[0][f"μ1[{c}]"] == pytest.approx(mu[c], rel=1e-12)
        assert steps[0][f"σ²1[{c}]"] == pytest.approx(var[c], rel=1e-12)
        for s in range(4):
            assert steps[s][f"x̂1[{c}]"] == pytest.approx(xhat[s][c], rel=1e-12)
            y = GAMMA[c] * xhat[s][c] + BETA[c]
            assert steps[s][f"y1[{c}]"] == pytest.approx(y, rel=1e-12)
            assert data["steps"][s]["layers"][1]["out"][c] == pytest.approx(y, rel=1e-12)
    # batch norm takes each feature's mean away: the batch's δ into it sum to 0 per feature,
    # and the bias of the linear layer below has no gradient
    for c in range(3):
        assert sum(step[f"δ0[{c}]"] for step in steps) == pytest.approx(0, abs=1e-12)
        assert steps[-1][f"∂E/∂b0[{c}]"] == pytest.approx(0, abs=1e-12)


def test_the_running_statistics_after_one_step_are_torchs_formula(runner, tmp_path):
    """running_mean ← 0.9·0 + 0.1·μ, running_var ← 0.9·1 + 0.1·σ²·4/3 (unbiased), and
    num_batches_tracked 1, written back by `step --save` under torch's names."""
    mu, var, _ = _by_hand()
    path = tmp_path / "after.yaml"
    result = runner.invoke(cli, ["step", "batchnorm", "-n", "1", "--save", str(path)])
    assert result.exit_code == 0, result.output
    saved = yaml.safe_load(path.read_text(encoding="utf-8"))["parameters"]
    for c in range(3):
        assert saved["1.running_mean"][c] == pytest.approx(0.9 * 0 + 0.1 * mu[c], rel=1e-12)
        unbiased = var[c] * 4 / 3
        assert saved["1.running_var"][c] == pytest.approx(0.9 * 1 + 0.1 * unbiased, rel=1e-12)
    assert saved["1.num_batches_tracked"] == 1
    # torch's state-dict order: a layer's parameters, then its buffers
    assert list(saved)[2:7] == [
        "1.weight",
        "1.bias",
        "1.running_mean",
        "1.running_var",
        "1.num_batches_tracked",
    ]
    # and the saved model continues from them: its step's rows read the saved statistics
    again = run_json(runner, str(path))
    rows = {e["symbol"]: e for e in again["steps"][-1]["equations"]}
    assert rows["new num_batches_tracked1"]["value"] == 2


def test_every_gradient_of_the_example_agrees_with_finite_differences(runner):
    data = run_json(runner, "batchnorm", "--verify")
    assert data["verify"] and all(check["agrees"] for check in data["verify"])


# ---------------------------------------------------------------- bad configs


def _example() -> dict:
    return yaml.safe_load(example_text("batchnorm"))


def _error(data: dict) -> str:
    with pytest.raises(ConfigError) as caught:
        models.from_dict(data)
    return str(caught.value)


EVAL = (
    "; or `run --eval` traces it in eval mode, with its running statistics (`step --eval` "
    "trains so)"
)


def _refused(data: dict) -> str:
    """A config read, whose training pass is refused: its message."""
    spec = models.from_dict(data)
    with pytest.raises(ConfigError) as caught:
        api.trace(spec)
    return str(caught.value)


def test_online_mode_or_a_batch_of_one_is_refused_as_torch_refuses_it():
    """Refused in training mode; read, as eval mode takes each sample alone with its running
    statistics (tests/test_batchnorm_eval.py)."""
    online = {key: value for key, value in _example().items() if key != "mode"}
    assert _refused(online) == (
        "<dict>, model[1]: layer 1 (batchnorm1d) normalises over the batch: it needs "
        "`mode: batch` (every sample through the model, then one update); add `mode: batch`" + EVAL
    )
    assert _refused(dict(_example(), mode="online")).startswith(
        "<dict>, mode: 'online': layer 1 (batchnorm1d) normalises over the batch"
    )
    one = dict(_example(), samples=_example()["samples"][:1])
    assert _refused(one) == (
        "<dict>, samples: batchnorm1d needs more than one value per feature to normalise over "
        '(torch: "Expected more than 1 value per channel when training"); give two or more '
        "samples" + EVAL
    )


def test_without_running_statistics_online_mode_is_refused_in_every_mode():
    """track_running_stats false: torch's eval mode normalises over the batch too, so the
    config itself is refused (no --eval to offer)."""
    data = {key: value for key, value in _example().items() if key != "mode"}
    data["model"][1] = {"batchnorm1d": {"num_features": 3, "track_running_stats": False}}
    assert _error(data) == (
        "<dict>, model[1]: layer 1 (batchnorm1d) normalises over the batch: it needs "
        "`mode: batch` (every sample through the model, then one update); add `mode: batch`"
    )


def test_wrong_features_shapes_and_numbers_say_what_is_valid():
    data = _example()
    data["model"][1] = {"batchnorm1d": {"num_features": 2}}
    assert _error(data) == (
        "<dict>, model[1]: layer 1 (batchnorm1d) takes 2 features (num_features), or 2 "
        "channels × length, and gets 3 features; layer 0 (linear) gives 3 features"
    )
    data = _example()
    data["parameters"]["1.weight"] = [1.0, 1.5]
    assert _error(data) == (
        "<dict>, parameters.1.weight: found 2 entries where 3 are expected: its shape is [3]"
    )
    data = _example()
    data["parameters"]["1.running_var"] = [1.0]
    assert _error(data) == (
        "<dict>, parameters.1.running_var: found 1 entry where 3 are expected: its shape is [3]"
    )
    data = _example()
    data["parameters"]["1.running_means"] = [0, 0, 0]
    assert "did you mean '1.running_mean'?" in _error(data)
    assert "and optionally 1.running_mean [3], 1.running_var [3]" in _error(data)
    data = _example()
    data["model"][1] = {"batchnorm1d": {"num_features": 3, "eps": 0}}
    assert _error(data) == (
        "<dict>, model[1].batchnorm1d.eps: 0.0 is not > 0; ε keeps √(σ² + ε) from 0 "
        "(torch's default 1e-5)"
    )


def test_a_bad_batchnorm_config_is_exit_2_with_its_file_line_and_field(runner, tmp_path):
    path = tmp_path / "online.yaml"
    text = example_text("batchnorm").replace("mode: batch", "mode: online")
    path.write_text(text, encoding="utf-8")
    result = runner.invoke(cli, ["run", str(path)])
    line = next(n for n, t in enumerate(text.splitlines(), start=1) if t == "mode: online")
    assert result.exit_code == 2
    assert result.output.startswith(f"Error: {path}, line {line}")
    assert "mode: 'online': layer 1 (batchnorm1d) normalises over the batch" in result.output
    assert "Traceback" not in result.output
    assert result.output.rstrip().endswith(EVAL)
    for command in (["step", str(path)], ["quiz", str(path)], ["check", "--names", str(path)]):
        refused = runner.invoke(cli, command, input="")
        assert refused.exit_code == 2, command
        assert refused.output == result.output, command
    assert runner.invoke(cli, ["run", str(path), "--eval"]).exit_code == 0


def test_every_row_typed_as_a_keyboard_types_it_reads_back_and_is_marked_right():
    from backtrace_cli import api
    from backtrace_cli.network.model_names import symbol_of, typed

    rows: dict[str, float] = {}
    for step in api.trace("batchnorm").records.steps:
        for section in step.sections:
            for equation in section.rows:
                assert symbol_of(typed(equation.symbol)) == equation.symbol
                rows.setdefault(equation.symbol, equation.value)
    assert typed("σ²1[1]") == "var1[1]" and typed("Σδx̂1[1]") == "sum_delta_xhat1[1]"
    answers = {
        "mu1[0]": rows["μ1[0]"],
        "var1[1]": rows["σ²1[1]"],
        "xhat1[2]": rows["x̂1[2]"],
        "sum_delta1[0]": rows["Σδ1[0]"],
        "sum_delta_xhat1[1]": rows["Σδx̂1[1]"],
        "new running_var1[0]": rows["new running_var1[0]"],
        "mu1[1]": rows["μ1[1]"] + 0.01,
    }
    report = api.check(answers, "batchnorm")
    verdicts = {answer["name"]: answer["verdict"] for answer in report["answers"]}
    assert verdicts.pop("μ1[1]") == "wrong"
    assert len(verdicts) == 6 and set(verdicts.values()) == {"right"}


@pytest.mark.parametrize("rounding", ["3sf", "4dp"])
def test_under_round_every_row_adds_up_from_the_numbers_it_shows(rounding):
    """Each row printed under --round gives its value at that rounding from its numbers as
    shown: μ, σ², x̂, the batch's sums and the three-term δ each carried as written."""
    from backtrace_cli import api, formula
    from backtrace_cli.core.rounding import written

    for step in api.trace("batchnorm", rounding=rounding).records.steps:
        for section, row in step.equations():
            if "batchnorm1d" not in section.title or section.kind == "gradient":
                continue  # the batch's averaged gradients: model_trace's, not this layer's
            value = formula.evaluate(
                formula.parse(row.formula), row.values(), lambda v: written(v, rounding)
            )
            assert written(value, rounding) == written(row.value, rounding), row.symbol


def test_the_markdown_of_the_example_parses_with_katex():
    from node_parsers import check, pieces

    from backtrace_cli import api

    report = check(*pieces(api.trace("batchnorm").markdown()))
    assert report["math"] == [] and report["mermaid"] == [], report


def test_the_backward_without_mu_and_sigma_is_named_and_nothing_else(runner, tmp_path):
    """A student who treats the batch's μ and σ² as constants writes δx = γ·δ/√(σ² + ε): at
    δ0[0] of sample 1 that slip, worked here from σ² (numpy, over the batch's four y0[0]) and
    their own δ1[0], is named; all right, no mistake is named anywhere."""
    from backtrace_cli import solution, tracing

    cfg = yaml.safe_load(example_text("batchnorm"))
    w, b = np.array(cfg["parameters"]["0.weight"]), np.array(cfg["parameters"]["0.bias"])
    x = np.array([s["inputs"] for s in cfg["samples"]])
    z = x @ w.T + b  # y0 of every sample: batch norm's inputs
    var = z.var(axis=0)  # biased, as training mode takes it
    spec = tracing.load("batchnorm")
    solved = solution.solve(spec)
    right = {}
    for q in tracing.model(spec).questions(spec, ()):
        if q.sample == 1:
            right[q.name] = round(solved.lines[solved.index[q.key]].exact.value, 6)
    assert right["var1[0]"] == pytest.approx(var[0], abs=1e-6)

    def marked(answers: dict) -> str:
        path = tmp_path / "answers.yaml"
        path.write_text(yaml.safe_dump({"exercise": "batchnorm", "answers": answers}))
        return runner.invoke(cli, ["check", str(path)]).output

    assert "gives:" not in marked(right)
    gamma = cfg["parameters"]["1.weight"][0]
    # worked from the student's own (written) σ² and δ, as marking works a slip
    slipped = gamma * right["delta1[0]"] / math.sqrt(right["var1[0]"] + 1e-5)
    assert abs(slipped - right["delta0[0]"]) > 0.1  # the slip changes the answer
    output = marked({**right, "delta0[0]": round(slipped, 6)})
    assert "without the μ and σ² terms" in output
    assert "gives:" in output


def test_a_model_of_vectors_names_its_entries_as_vectors(runner):
    """batchnorm's tensors are vectors: its header says y0[j], not a signal's y0[c,t]."""
    output = runner.invoke(cli, ["run", "batchnorm"]).output
    assert "y0[j] is layer 0's entry j" in " ".join(output.split())
    assert "y0[c,t]" not in output
