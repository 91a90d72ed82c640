"""`backtrace check`: verdicts as a marker gives them. Every wrong answer here is made by making
the mistake in a derivation written in this file, from the lecture's numbers."""

from __future__ import annotations

import json
import math

import pytest

from backtrace_cli import api
from backtrace_cli.cli import cli
from backtrace_cli.teach import check


def sigma(z: float) -> float:
    return 1 / (1 + math.exp(-z))


# the lecture, derived here: x = (0.35, 0.9), t5 = 0.5, η = 1
W = {"w13": 0.1, "w23": 0.8, "w14": 0.4, "w24": 0.6, "w35": 0.3, "w45": 0.9}
NET3, NET4 = 0.1 * 0.35 + 0.8 * 0.9, 0.4 * 0.35 + 0.6 * 0.9
O3, O4 = sigma(NET3), sigma(NET4)
NET5 = 0.3 * O3 + 0.9 * O4
O5 = sigma(NET5)
D5 = O5 * (1 - O5) * (0.5 - O5)
D3 = O3 * (1 - O3) * 0.3 * D5
NEW_W35 = 0.3 + D5 * O3


def grade(runner, tmp_path, answers: str, exercise: str = "lecture", extra: str = ""):
    path = tmp_path / "answers.yaml"
    path.write_text(f"exercise: {exercise}\n{extra}answers:\n{answers}")
    result = runner.invoke(cli, ["check", str(path), "--format", "json"])
    assert result.exit_code in (0, 1, 2), result.output
    return result, (json.loads(result.output) if result.exit_code != 2 else None)


def verdicts(doc) -> dict[str, dict]:
    return {a["name"]: a for a in doc["answers"]}


def test_correct_at_2_3_and_4_significant_figures_but_not_a_wrong_sign(runner, tmp_path):
    for written in ("-0.041", "-0.0407", "-0.04068"):  # δ5 = −0.040681
        result, doc = grade(runner, tmp_path, f"  delta5: {written}\n")
        assert verdicts(doc)["delta5"]["kind"] == "right", doc
    result, doc = grade(runner, tmp_path, "  delta5: 0.0407\n")
    assert result.exit_code == 1 and verdicts(doc)["delta5"]["kind"] == "wrong"
    result, doc = grade(runner, tmp_path, "  o3: 0.7\n")  # one figure: right, but too coarse
    assert verdicts(doc)["o3"]["kind"] == "coarse"


def test_the_notes_rounded_value_is_recognised_with_or_without_round(runner, tmp_path):
    """−0.0406 is δ5 with 3 significant figures carried (the notes rounded o5 to 0.690)."""
    assert round(0.69 * (1 - 0.69) * (0.5 - 0.69), 4) == -0.0406  # the notes' own arithmetic
    for extra in ("round: 3sf\n", ""):
        _, doc = grade(runner, tmp_path, "  delta5: -0.0406\n  δ3: -0.00265\n", extra=extra)
        assert verdicts(doc)["delta3"]["kind"] == "right"
        assert verdicts(doc)["delta5"]["kind"] == "right"
    assert verdicts(doc)["delta5"]["verdict"] == "right for 3sf carried"  # recognised, said


def test_error_carried_forward_from_a_wrong_o3(runner, tmp_path):
    wrong_o3 = 0.71  # a slip in σ(0.755) = 0.680
    delta3_from_it = wrong_o3 * (1 - wrong_o3) * 0.3 * D5  # then δ3 done right from it
    result, doc = grade(
        runner, tmp_path, f"  o3: {wrong_o3}\n  delta5: {D5:.6f}\n  delta3: {delta3_from_it:.6f}\n"
    )
    v = verdicts(doc)
    assert v["o3"]["kind"] == "wrong" and not v["o3"]["ok"]
    assert v["delta3"]["verdict"] == "follows from your o3"
    assert v["delta3"]["ok"] and result.exit_code == 1  # o3 is still wrong


MISTAKES = {
    # hidden δ3 with the updated w35
    "hidden δ with the updated weights": ("delta3", O3 * (1 - O3) * NEW_W35 * D5),
    # δ5 without o(1 − o)
    "the derivative o(1 − o) left out": ("delta5", 0.5 - O5),
    # δ5 with (o − t)
    "the sign of (t − o) flipped": ("delta5", O5 * (1 - O5) * (O5 - 0.5)),
    # Δw35 = η·δ5·net3 instead of o3
    "net for o (net used where o belongs)": ("dw35", D5 * NET3),
    # new w45 = w45 − Δw45
    "Δw subtracted": ("w45", 0.9 - D5 * O4),
}


@pytest.mark.parametrize("mistake", sorted(MISTAKES))
def test_each_named_mistake_is_recognised(runner, tmp_path, mistake):
    name, value = MISTAKES[mistake]
    result, doc = grade(runner, tmp_path, f"  {name}: {value:.6f}\n")
    assert result.exit_code == 1
    diagnosis = "\n".join(verdicts(doc)[name]["diagnosis"])
    assert mistake in diagnosis, diagnosis


def test_learning_rate_left_out(runner, tmp_path):
    """chain_rule has η = 0.05: x = 2, w = 0.5, b = 0.1, y = 1.5, loss (ŷ − y)²."""
    y_hat = 0.5 * 2 + 0.1
    dw = -0.05 * 2 * (y_hat - 1.5) * 2  # Δw = −η·∂loss/∂w
    assert dw == pytest.approx(0.08)
    _result, doc = grade(runner, tmp_path, f"  dw12: {dw / 0.05:.4f}\n", exercise="chain_rule")
    assert "the learning rate η left out" in "\n".join(verdicts(doc)["dw12"]["diagnosis"])


def test_dropout_scaling_forgotten(runner, tmp_path):
    """lecture_dropout keeps unit 3: õ3 = 2·o3; forgetting the scale gives o3."""
    _result, doc = grade(runner, tmp_path, f"  õ3: {O3:.6f}\n", exercise="lecture_dropout")
    assert "dropout's scale forgotten (kept outputs not multiplied by 1/(1 − rate))" in "\n".join(
        verdicts(doc)["õ3"]["diagnosis"]
    )


def test_the_diagnosis_shows_the_formula_with_the_expected_numbers(runner, tmp_path):
    path = tmp_path / "answers.yaml"
    path.write_text("exercise: lecture\nanswers:\n  o5: 0.71\n")
    result = runner.invoke(cli, ["check", str(path)])
    assert result.exit_code == 1
    assert "o5 = σ(net5) = σ(0.801445) = 0.690283" in result.output
    assert "none of the known mistakes gives your value" in result.output


def test_several_epochs(runner, tmp_path):
    worked = api.train("lecture", 2, trace=["2"])
    second = {e["symbol"]: e["value"] for e in worked.json()["steps"][0]["equations"]}
    path = tmp_path / "answers.yaml"
    path.write_text(f"exercise: lecture\nepochs:\n  2:\n    w45: {second['new w45']:.6f}\n")
    result = runner.invoke(cli, ["check", str(path), "--format", "json"])
    assert verdicts(json.loads(result.output))["w45"]["kind"] == "right"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("answers:\n  o5: 0.69\n", "give the exercise"),
        (
            "exercise: lecture\nanswers:\n  delat5: 0.1\n",
            "answers.delat5: this network (2-2-1) has no delat5; did you mean delta5?",
        ),
        ("exercise: lecture\nanswers:\n  o5: high\n", "'high' is not a number"),
        ("exercise: lecture\nround: 3 sig figs\nanswers:\n  o5: 0.69\n", "is not a rounding"),
        ("exercise: lecture\nanswer:\n  o5: 0.69\n", "answer: unknown key"),
        ("exercise: nosuch\nanswers:\n  o5: 0.69\n", "no built-in example"),
    ],
)
def test_a_bad_answers_file_exits_2(runner, tmp_path, text, message):
    path = tmp_path / "answers.yaml"
    path.write_text(text)
    result = runner.invoke(cli, ["check", str(path)])
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output


def test_every_trace_formula_evaluates_to_its_value():
    """The evaluator behind error-carried-forward and the mistakes reproduces each equation
    of every built-in example from its own formula and operands."""
    from conftest import NETWORKS

    from backtrace_cli.network.records import Equation

    for name in NETWORKS:
        for step in api.trace(name).records.steps:
            for section in step.sections:
                for row in section.rows:
                    if isinstance(row, Equation) and "…" not in row.formula:
                        value = check.evaluate(row.formula, row.values())
                        assert value == pytest.approx(row.value, rel=1e-9, abs=1e-12), row


def test_an_inline_config_is_checked_with_its_own_lines(runner, tmp_path):
    path = tmp_path / "answers.yaml"
    config = "  layers: [1, 1]\n  activation: linear\n  learning_rate: 0.1\n  inputs: [2]\n"
    config += "  targets: [1]\n  weights: {w12: 0.5}\n"
    path.write_text("config:\n" + config + "answers:\n  o2: 1\n  w12: 0.5\n")
    result = runner.invoke(cli, ["check", str(path)])
    assert result.exit_code == 0, result.output  # o2 = 0.5·2 = 1 = t2; Δw12 = 0
    assert "2 of 2 answers right" in result.output  # an inline config: only the answers
    path.write_text("config:\n" + config.replace("0.1", "-0.1") + "answers:\n  o2: 1\n")
    result = runner.invoke(cli, ["check", str(path)])
    assert result.exit_code == 2
    assert f"{path}, line 4, column 3, learning_rate: -0.1 is not > 0" in result.output


def test_the_json_report_validates_against_its_shipped_schema(runner):
    from importlib.resources import files
    from pathlib import Path

    import jsonschema

    schema = json.loads(files("backtrace_cli").joinpath("check.schema.json").read_text())
    answers = Path(__file__).parent.parent / "docs" / "answers-lecture.yaml"
    result = runner.invoke(cli, ["check", str(answers), "--format", "json"])
    report = json.loads(result.output)
    jsonschema.Draft202012Validator(schema).validate(report)
    assert report["correct"] == 12 and report["total"] == 23  # 13 answered, 10 unanswered
    assert len(report["unanswered"]) == 10 and report["counts"]["wrong"] == 1
    report["answers"][0].pop("verdict")
    assert list(jsonschema.Draft202012Validator(schema).iter_errors(report))


def test_answers_for_a_later_sample_of_an_online_epoch(runner, tmp_path):
    """xor is online: sample 2's forward pass uses the weights sample 1 updated."""
    doc = api.trace("xor").json()
    by_sample = [{e["symbol"]: e["value"] for e in step["equations"]} for step in doc["steps"]]
    assert by_sample[0]["o5"] != by_sample[1]["o5"]
    path = tmp_path / "answers.yaml"
    path.write_text(
        f"exercise: xor\nanswers:\n  o5: {by_sample[0]['o5']:.6f}\n"
        f"samples:\n  2:\n    o5: {by_sample[1]['o5']:.6f}\n"
        f"    w35: {by_sample[1]['new w35']:.6f}\n"
    )
    result = runner.invoke(cli, ["check", str(path), "--format", "json"])
    answered = json.loads(result.output)["answers"]
    assert [(a["sample"], a["kind"]) for a in answered] == [
        (1, "right"),
        (2, "right"),
        (2, "right"),
    ]
    # sample 1's output given as sample 2's is wrong
    path.write_text(f"exercise: xor\nsamples:\n  2:\n    o5: {by_sample[0]['o5']:.6f}\n")
    result = runner.invoke(cli, ["check", str(path)])
    assert result.exit_code == 1 and "o5 (sample 2)" in result.output


def test_the_minus_sign_the_trace_prints_is_read_as_a_minus(runner, tmp_path):
    """U+2212, copied from the trace into an answers file and into a config."""
    _result, doc = grade(runner, tmp_path, f"  delta5: \u2212{-D5:.6f}\n")
    assert verdicts(doc)["delta5"]["kind"] == "right" and verdicts(doc)["delta5"]["yours"] < 0
    config = tmp_path / "net.yaml"
    config.write_text(
        "layers: [1, 1]\nactivation: linear\nlearning_rate: 1\ninputs: [\u22122]\n"
        "targets: [1]\nweights: {w12: \u22120.5}\n"
    )
    worked = api.trace(str(config)).json()
    assert worked["steps"][0]["layers"][0]["net"] == [(-0.5) * (-2)]


def test_the_python_api_returns_the_report_the_cli_prints(runner, tmp_path):
    import backtrace_cli.teach.check

    path = tmp_path / "answers.yaml"
    path.write_text(f"exercise: lecture\nanswers:\n  o3: {O3:.4f}\n  delta5: 0.0407\n")
    printed = json.loads(runner.invoke(cli, ["check", str(path), "--format", "json"]).output)
    assert backtrace_cli.teach.check(str(path)) == printed
    given = backtrace_cli.teach.check({"o3": O3, "delta5": 0.0407}, "lecture")
    assert given["answers"][1]["kind"] == "wrong"
    assert given["answers"][1]["working"] == printed["answers"][1]["working"]
    assert backtrace_cli.teach.check.mark  # the module behind it stays importable
