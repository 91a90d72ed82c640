"""`rnn` and `last` in a `model:` (issue #28): torch's nn.RNN over one sequence, traced step by
step forward and back through time. Every expected number here comes from a derivation
written in the test (the example's h_1, h_2 and a weight's gradient summed over the steps) or
from central finite differences of the model's own forward pass."""

from __future__ import annotations

import io
import json
import math
import os
from pathlib import Path

import numpy as np
import pytest
import yaml
from rich.console import Console

from backtrace_cli import api, formula, models
from backtrace_cli.cli import cli
from backtrace_cli.core.errors import ConfigError
from backtrace_cli.network import model_engine
from backtrace_cli.network.model_spec import ModelSpec
from backtrace_cli.render import number_format, renderable

GOLDEN = Path(__file__).parent / "golden" / "rnn_80.txt"


def _rows(records) -> dict[str, float]:
    return {row.symbol: row.value for step in records.steps for _, row in step.equations()}


# ---------------------------------------------------------------- the example by hand


def test_the_rnn_example_worked_by_hand():
    """configs/rnn.yaml: x = (1, 0.5, −1), w_ih = (0.5, −0.3), w_hh = [[0.2, −0.4], [0.6, 0.1]],
    b_ih = (0.1, −0.2), b_hh = (0.05, 0.1), the output 0.7·h_T0 − 0.5·h_T1 + 0.2, target 0.5,
    MSE; the steps counted from 1 here (h_1 is the trace's h0[0,·], torch's index 0)."""
    rows = _rows(api.trace("rnn").records)
    # step 1 from the state 0: only the input's term and the two biases
    h1 = (math.tanh(0.5 * 1.0 + 0.1 + 0.05), math.tanh(-0.3 * 1.0 - 0.2 + 0.1))
    assert rows["h0[0,0]"] == pytest.approx(h1[0], rel=1e-12)  # tanh(0.65)
    assert rows["h0[0,1]"] == pytest.approx(h1[1], rel=1e-12)  # tanh(−0.4)
    # step 2: the input's term, the biases, and the previous state through w_hh (row j)
    net2 = (
        0.5 * 0.5 + 0.1 + 0.2 * h1[0] - 0.4 * h1[1] + 0.05,
        -0.3 * 0.5 - 0.2 + 0.6 * h1[0] + 0.1 * h1[1] + 0.1,
    )
    h2 = (math.tanh(net2[0]), math.tanh(net2[1]))
    assert rows["net0[1,0]"] == pytest.approx(net2[0], rel=1e-12)
    assert rows["h0[1,0]"] == pytest.approx(h2[0], rel=1e-12)
    assert rows["h0[1,1]"] == pytest.approx(h2[1], rel=1e-12)
    net3 = (
        0.5 * -1.0 + 0.1 + 0.2 * h2[0] - 0.4 * h2[1] + 0.05,
        -0.3 * -1.0 - 0.2 + 0.6 * h2[0] + 0.1 * h2[1] + 0.1,
    )
    h3 = (math.tanh(net3[0]), math.tanh(net3[1]))
    y = 0.7 * h3[0] - 0.5 * h3[1] + 0.2
    assert rows["y2[0]"] == pytest.approx(y, rel=1e-12)
    # back: MSE of one output, δ = −∂E/∂y = 2(t − y); `last` sends it to step 3 alone
    delta = 2 * (0.5 - y)
    dnet3 = ((1 - h3[0] ** 2) * 0.7 * delta, (1 - h3[1] ** 2) * -0.5 * delta)
    # step 2's h gets only what comes back from step 3 through w_hh (column j)
    dh2 = (0.2 * dnet3[0] + 0.6 * dnet3[1], -0.4 * dnet3[0] + 0.1 * dnet3[1])
    dnet2 = ((1 - h2[0] ** 2) * dh2[0], (1 - h2[1] ** 2) * dh2[1])
    assert rows["δh0[1,0]"] == pytest.approx(dh2[0], rel=1e-12)
    assert rows["δnet0[1,1]"] == pytest.approx(dnet2[1], rel=1e-12)
    # w_hh[0,0] is used at steps 2 and 3 (h_1 → net_2, h_2 → net_3): its gradient is the sum
    grad = -(dnet2[0] * h1[0] + dnet3[0] * h2[0])
    assert rows["∂E/∂w_hh0[0,0]"] == pytest.approx(grad, rel=1e-12)
    assert round(grad, 6) == -0.505193  # as the trace prints it


def test_the_summed_gradient_is_written_as_its_sum_over_the_steps():
    trace = api.trace("rnn").records
    row = next(r for _, r in trace.steps[0].equations() if r.symbol == "∂E/∂w_hh0[0,0]")
    assert row.formula == "−({δnet0[1,0]}·{h0[0,0]} + {δnet0[2,0]}·{h0[1,0]})"
    first = next(r for _, r in trace.steps[0].equations() if r.symbol == "δh0[2,0]")
    assert first.formula == "{δ0[2,0]}"  # the last step: only what `last` sends down
    back = next(r for _, r in trace.steps[0].equations() if r.symbol == "δh0[0,1]")
    assert back.formula == "{w_hh0[0,1]}·{δnet0[1,0]} + {w_hh0[1,1]}·{δnet0[1,1]}"


# ---------------------------------------------------------------- random models


def _random_model(rng: np.random.Generator, last: bool, nonlinearity: str, bias: bool) -> dict:
    steps, given, hidden = int(rng.integers(2, 6)), int(rng.integers(1, 4)), int(rng.integers(1, 4))
    rnn = {"input_size": given, "hidden_size": hidden, "nonlinearity": nonlinearity, "bias": bias}
    n = 2 if last else 1
    layers: list = [{"rnn": rnn}, *(["last"] if last else [])]
    layers += [{"linear": {"in_features": hidden, "out_features": 2}}, "tanh"]
    parameters = {
        "0.weight_ih_l0": rng.normal(size=(hidden, given)).tolist(),
        "0.weight_hh_l0": (0.6 * rng.normal(size=(hidden, hidden))).tolist(),
        f"{n}.weight": rng.normal(size=(2, hidden)).tolist(),
        f"{n}.bias": rng.normal(size=2).tolist(),
    }
    if bias:
        parameters["0.bias_ih_l0"] = rng.normal(size=hidden).tolist()
        parameters["0.bias_hh_l0"] = rng.normal(size=hidden).tolist()
    return {
        "model": layers,
        "parameters": parameters,
        "loss": str(rng.choice(["mse", "half_sse", "sse"])),
        "learning_rate": 0.1,
        "inputs": rng.normal(size=(steps, given)).tolist(),
        "targets": rng.normal(size=(2,) if last else (steps, 2)).tolist(),
    }


FORMS = [
    (last, nonlinearity, bias)
    for last in (True, False)
    for nonlinearity in ("tanh", "relu")
    for bias in (True, False)
]


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize(("last", "nonlinearity", "bias"), FORMS)
def test_every_gradient_of_a_random_rnn_is_its_central_finite_difference(
    seed, last, nonlinearity, bias
):
    spec = models.from_dict(_random_model(np.random.default_rng(seed), last, nonlinearity, bias))
    assert isinstance(spec, ModelSpec)
    sample = spec.samples[0]
    done = model_engine.run(
        spec, model_engine.build(spec), sample.inputs, sample.targets, lambda a: a
    )
    h = 1e-6
    base = {name: np.array(value) for name, value in spec.parameters}
    for name, value in spec.parameters:
        for index in np.ndindex(*value.shape):

            def loss(shift: float, name: str = name, index: tuple = index) -> float:
                moved = {n: v.copy() for n, v in base.items()}
                moved[name][index] += shift
                return model_engine.loss_of(spec, moved, sample.inputs, sample.targets)

            numeric = (loss(h) - loss(-h)) / (2 * h)
            # a relu's kink: a net within h of 0 has no two-sided difference; normal draws
            # put none there (the check below would show it as a mismatch)
            assert done.gradients[name][index] == pytest.approx(numeric, rel=1e-5, abs=1e-7)


@pytest.mark.parametrize(("last", "nonlinearity", "bias"), FORMS)
def test_every_row_of_a_random_rnn_is_its_formula_and_its_markdown_parses(last, nonlinearity, bias):
    """What marking and the renderers rely on (tests/test_formula.py checks the example): each
    row's formula gives its value from its operands, with Adam's lines, per step or `last`."""
    from node_parsers import check, pieces

    data = _random_model(np.random.default_rng(7), last, nonlinearity, bias)
    worked = api.trace(data | {"optimizer": "adam"}, verify=True, full=True)  # every term
    for step in worked.records.steps:
        for _, row in step.equations():
            value = formula.evaluate(formula.parse(row.formula), row.values())
            assert value == pytest.approx(row.value, rel=1e-9, abs=1e-12), row.symbol
    assert all(c.agrees for c in worked.records.checks)
    for page in (worked, api.trace(data | {"optimizer": "adam"})):  # and a long sum elided
        report = check(*pieces(page.markdown()))
        assert report["math"] == [] and report["mermaid"] == [], report


@pytest.mark.parametrize("rounding", ["3sf", "2sf", "3dp"])
def test_under_round_every_rnn_row_adds_up_from_the_numbers_it_shows(rounding):
    from backtrace_cli.core.rounding import written

    records = api.trace("rnn", rounding=rounding).records
    for step in records.steps:
        for section, row in step.equations():
            if section.kind == "update" and rounding == "3dp":
                # not the rnn's: SGD's 0.6 − 0.1·0.565 = 0.5435, a tie that the update's floats
                # (0.54349999…) round down and the written sum rounds up — the update's own
                # question, as tests/test_model_layers.py leaves Adam's at 3dp
                continue
            value = formula.evaluate(
                formula.parse(row.formula), row.values(), lambda v: written(v, rounding)
            )
            assert written(value, rounding) == written(row.value, rounding), row.symbol


def test_without_last_a_linear_acts_on_every_step_and_the_targets_are_one_per_step():
    """torch's nn.Linear on [T][hidden] gives [T][out]; MSE then averages over every entry."""
    data = _random_model(np.random.default_rng(3), False, "tanh", True)
    steps = len(data["inputs"])
    records = api.trace(data).records
    rows = _rows(records)
    assert np.shape(records.steps[0].outputs) == (steps, 2)
    assert {f"e[{t},{j}]" for t in range(steps) for j in range(2)} <= set(rows)
    # each step's output from that step's state alone: y1[t,0] = Σ_k w1[0,k]·h0[t,k] + b1[0]
    w, b = np.array(data["parameters"]["1.weight"]), data["parameters"]["1.bias"]
    h = np.array([[rows[f"h0[{t},{k}]"] for k in range(w.shape[1])] for t in range(steps)])
    for t in range(steps):
        assert rows[f"y1[{t},0]"] == pytest.approx(w[0] @ h[t] + b[0], rel=1e-12)
    # every step now gets a δ from above: δh = δ0[t,j] + what comes back from step t+1
    equations = {r.symbol: r for _, r in records.steps[0].equations()}
    assert equations["δh0[0,0]"].formula.startswith("{δ0[0,0]} + ")


# ---------------------------------------------------------------- marking, quiz, JSON


def test_every_row_of_the_rnn_example_is_marked_right_when_answered_as_traced():
    from backtrace_cli.network.model_names import typed

    rows = _rows(api.trace("rnn").records)
    report = api.check({typed(name): value for name, value in rows.items()}, "rnn")
    assert report["counts"]["right"] == report["total"] == len(rows)


def test_a_wrong_state_is_marked_wrong_and_the_next_step_follows_from_it():
    """h_1 off by 0.2: net_2 = … + w_hh[0,0]·h_1 + … computed from it is 0.2·0.2 = 0.04 off,
    and follows from the student's own h_1."""
    rows = _rows(api.trace("rnn").records)
    answers = {
        "h0[0,0]": rows["h0[0,0]"] + 0.2,
        "net0[1,0]": rows["net0[1,0]"] + 0.2 * 0.2,
        "deltah0[1,0]": rows["δh0[1,0]"],
    }
    report = api.check(answers, "rnn")
    verdicts = {a["symbol"]: a["verdict"] for a in report["answers"]}
    assert verdicts == {
        "h0[0,0]": "wrong",
        "net0[1,0]": "follows from your h0[0,0]",
        "δh0[1,0]": "right",
    }


def test_quiz_asks_the_hidden_states_or_the_deltas_through_time(runner):
    rows = _rows(api.trace("rnn").records)
    asked = [f"h0[{t},{j}]" for t in range(3) for j in range(2)]
    typed_in = "".join(f"{rows[name]:.9g}\n" for name in asked)
    result = runner.invoke(cli, ["quiz", "rnn", "--ask", "h0"], input=typed_in)
    assert result.exit_code == 0, result.output
    assert "Score: 6 of 6" in result.output
    wrong = runner.invoke(cli, ["quiz", "rnn", "--ask", "deltah9"], input="")
    assert "a tensor: net0, h0, y2, e, E, " in wrong.output
    assert "deltah0, deltanet0" in wrong.output


def test_verify_and_the_json_name_the_parameters_as_torch_does(runner):
    result = runner.invoke(cli, ["run", "rnn", "--verify", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert len(data["verify"]) == 13 and all(c["agrees"] for c in data["verify"])
    step = data["steps"][0]
    assert set(step["gradients"]) == {
        "0.weight_ih_l0",
        "0.weight_hh_l0",
        "0.bias_ih_l0",
        "0.bias_hh_l0",
        "2.weight",
        "2.bias",
    }
    assert np.shape(step["layers"][0]["out"]) == (3, 2)


def test_step_save_writes_the_state_dict_names_back(runner, tmp_path):
    out = tmp_path / "after.yaml"
    result = runner.invoke(cli, ["step", "rnn", "--save", str(out)])
    assert result.exit_code == 0, result.output
    saved = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert list(saved["parameters"]) == [
        "0.weight_ih_l0",
        "0.weight_hh_l0",
        "0.bias_ih_l0",
        "0.bias_hh_l0",
        "2.weight",
        "2.bias",
    ]
    again = runner.invoke(cli, ["run", str(out)])
    assert again.exit_code == 0, again.output


# ---------------------------------------------------------------- bad configs


def _error(data: dict) -> str:
    with pytest.raises(ConfigError) as caught:
        models.from_dict(data)
    return str(caught.value)


EXAMPLE = yaml.safe_load(models.example_text("rnn"))


def test_inputs_that_are_not_steps_of_input_size_say_what_an_rnn_takes():
    flat = dict(EXAMPLE, inputs=[1.0, 0.5, -1.0])
    assert _error(flat) == (
        "<dict>, inputs: an rnn takes a sequence, steps × input_size: one list of 1 number per "
        "step (input_size 1), e.g. [[0.5], [1.0], [-0.5]]"
    )
    wide = dict(EXAMPLE, inputs=[[1.0, 2.0], [0.5, 1.0]])
    assert "<dict>, inputs: an rnn takes a sequence" in _error(wide)
    ragged = dict(EXAMPLE, inputs=[[1.0], [0.5, 2.0], [-1.0]])
    assert _error(ragged) == (
        "<dict>, inputs[1]: found 2 entries where 1 is expected: its shape is [3][1]"
    )


def test_a_misshaped_parameter_or_an_unknown_nonlinearity_say_what_is_valid():
    parameters = dict(EXAMPLE["parameters"], **{"0.weight_hh_l0": [[0.2], [0.6]]})
    assert _error(dict(EXAMPLE, parameters=parameters)) == (
        "<dict>, parameters.0.weight_hh_l0[0]: found 1 entry where 2 are expected: its shape "
        "is [2][2]"
    )
    rnn = {"input_size": 1, "hidden_size": 2, "nonlinearity": "sigmoid"}
    wrong = dict(EXAMPLE, model=[{"rnn": rnn}, *EXAMPLE["model"][1:]])
    assert _error(wrong) == (
        "<dict>, model[0].rnn.nonlinearity: 'sigmoid' is not one of: tanh, relu"
    )
    no_last = dict(EXAMPLE, model=[EXAMPLE["model"][0], "last", "last"])
    assert "layer 2 (last) keeps the last step of a sequence" in _error(no_last)


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ("inputs: [[1.0], [0.5], [-1.0]]", "inputs: [1.0, 0.5, -1.0]", "inputs"),
        ("[[0.2, -0.4], [0.6, 0.1]]", "[[0.2, -0.4]]", "parameters.0.weight_hh_l0"),
        ("hidden_size: 2}", "hidden_size: 2, nonlinearity: sigmoid}", "model[0].rnn.nonlinearity"),
        ("hidden_size: 2}", "hidden_size: 2, h0: [[0.1]]}", "model[0].rnn.h0[0]"),
        ("hidden_size: 2}", "hidden_size: 2, h0: [0.1, x]}", "model[0].rnn.h0[1]"),
        ("hidden_size: 2}", "hidden_size: 2, num_layers: 9}", "model[0].rnn.num_layers"),
    ],
)
def test_a_bad_rnn_config_is_exit_2_with_its_file_line_and_field(runner, tmp_path, old, new, field):
    text = models.example_text("rnn")
    assert old in text
    bad = text.replace(old, new)
    path = tmp_path / "bad.yaml"
    path.write_text(bad, encoding="utf-8")
    result = runner.invoke(cli, ["run", str(path)])
    line = next(n for n, t in enumerate(bad.splitlines(), start=1) if new in t)
    assert result.exit_code == 2
    assert result.output.startswith(f"Error: {path}, line {line}"), result.output
    assert f", {field}: " in result.output or f", {field}[" in result.output, result.output
    assert "Traceback" not in result.output


# ---------------------------------------------------------------- the terminal at 80 columns


def test_one_target_per_step_is_drawn_with_its_shape():
    """Without `last` the targets are [T][out]: the step's heading writes them all, shaped as
    the inputs are (it once took them for a vector)."""
    data = _random_model(np.random.default_rng(3), False, "tanh", True)
    buffer = io.StringIO()
    console = Console(file=buffer, width=200, color_system=None, highlight=False, emoji=False)
    console.print(renderable(api.trace(data).records, number_format(None, None)))
    steps = len(data["targets"])
    first = number_format(None, None)(data["targets"][0][0])
    assert f"targets t = [{first}, " in buffer.getvalue()
    assert f"] ({steps}×2)" in buffer.getvalue()


def test_the_markdown_writes_a_states_delta_as_delta_h_never_as_the_state():
    """δh0[2,0] and δnet0[2,0] keep their δ in LaTeX: δh written as h would read as the state."""
    markdown = api.trace("rnn").markdown()
    assert "\\delta h^{(0)}_{2,0} &= \\delta^{(0)}_{2,0}" in markdown
    assert "\\delta \\mathit{net}^{(0)}_{2,0}" in markdown
    assert "\\text{h}" not in markdown and "\\text{net}" not in markdown
    # a rule that begins with δh keeps its δ (Δh would be another quantity, an increment)
    assert "\nδh[1,j] = Σ_k w_hh[k,j]·δnet[2,k], back from step 2;" in markdown
    assert "\nΔh" not in markdown
    # nor does one that begins with net[t,j] (Net is no name of the trace's); prose does
    assert "\nnet[1,j] = Σ_i w_ih[j,i]·x[1,i] + b_ih[j] + Σ_k w_hh[j,k]·h[0,k]" in markdown
    assert "\nNet[" not in markdown
    assert "\nEach output y_j = Σ_i w[j,i]·x_i + b_j." in markdown


def test_a_half_sse_loss_is_written_in_latex_katex_reads():
    """½Σ(t − y)²: KaTeX has no ½ character, so the E row writes \\tfrac{1}{2}."""
    from node_parsers import check, pieces

    markdown = api.trace(dict(EXAMPLE, loss="half_sse")).markdown()
    assert "\\tfrac{1}{2}" in markdown
    report = check(*pieces(markdown))
    assert report["math"] == [], report["math"]


def test_80_column_layout_matches_the_golden_read_by_eye():
    """tests/golden/rnn_80.txt was read by eye in tmux at 80 columns before it was committed;
    BACKTRACE_UPDATE_GOLDENS=1 rewrites it."""
    buffer = io.StringIO()
    console = Console(file=buffer, width=80, color_system=None, highlight=False, emoji=False)
    console.print(renderable(api.trace("rnn").records, number_format(None, None)))
    text = "\n".join(line.rstrip() for line in buffer.getvalue().splitlines()) + "\n"
    assert max(len(line) for line in text.splitlines()) <= 80
    if os.environ.get("BACKTRACE_UPDATE_GOLDENS"):
        GOLDEN.write_text(text, encoding="utf-8")
    assert text == GOLDEN.read_text(encoding="utf-8")


def test_bptt_truncated_to_the_last_step_is_named_and_nothing_else(runner, tmp_path):
    """A student who keeps only step T's term of a shared weight's gradient writes
    ∂E/∂w_hh0[0,0] = −δnet0[2,0]·h0[1,0] (the rnn example has T = 3): worked here from their
    own δnet and h, that value is named as the truncation; all right, nothing is named."""
    from backtrace_cli import solution, tracing

    spec = tracing.load("rnn")
    solved = solution.solve(spec)
    right = {}
    for q in tracing.model(spec).questions(spec, ()):
        right[q.name] = round(solved.lines[solved.index[q.key]].exact.value, 6)

    def marked(answers: dict) -> str:
        path = tmp_path / "answers.yaml"
        path.write_text(yaml.safe_dump({"exercise": "rnn", "answers": answers}))
        return runner.invoke(cli, ["check", str(path)]).output

    assert "gives:" not in marked(right)
    whole = -(
        right["deltanet0[1,0]"] * right["h0[0,0]"] + right["deltanet0[2,0]"] * right["h0[1,0]"]
    )
    assert right["dE/dw_hh0[0,0]"] == pytest.approx(whole, abs=2e-6)  # the sum over the steps
    truncated = -right["deltanet0[2,0]"] * right["h0[1,0]"]
    assert abs(truncated - whole) > 0.01
    output = marked({**right, "dE/dw_hh0[0,0]": round(truncated, 6)})
    assert "truncated to the last step" in output and "gives:" in output
