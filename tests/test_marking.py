"""Marking a student fairly (issue 13): `check` never marks a right answer wrong and finds the
slips a student rounding by hand makes. Each expectation is derived here — from the notes, or
from `students.py`, which works the step by hand from the lecture's formulas without backtrace."""

from __future__ import annotations

import json
import math
import random
from collections import Counter
from dataclasses import replace

import pytest
import students as hand

import backtrace_cli.teach.check  # the callable module `check` marks with
from backtrace_cli.cli import cli
from backtrace_cli.definitions import notation


def sigma(z: float) -> float:
    return 1 / (1 + math.exp(-z))


def by_name(report: dict) -> dict[str, dict]:
    return {a["name"]: a for a in report["answers"]}


# a 2-3-2 network: units 1–2 inputs, 3–5 hidden, 6–7 outputs
NET232 = hand.Network(
    (2, 3, 2),
    1.0,
    [0.5, -0.3],
    [0.9, 0.1],
    {
        (1, 3): -0.6, (2, 3): 0.3, (1, 4): 0.8, (2, 4): -0.5, (1, 5): 0.2, (2, 5): 0.7,
        (3, 6): 0.4, (4, 6): 0.9, (5, 6): -0.7, (3, 7): -0.3, (4, 7): 0.6, (5, 7): 0.5,
    },
)  # fmt: skip


# ---------------------------------------------------------------- 1. the declared rounding


def test_with_round_declared_a_value_is_judged_at_it_whatever_digits_were_typed():
    net = replace(NET232, eta=0.05)
    exact = hand.work(net, None, None, random.Random(0)).values
    carried = hand.work(net, 3, None, random.Random(0)).values
    assert f"{exact['w13']:.3f}" == "-0.600" and exact["w13"] != -0.6  # true −0.5996…
    assert carried["w13"] == -0.6  # what a student carrying 3 s.f. writes, typed -0.6
    for typed in ("-0.6", "-0.600", "−0.6"):
        report = backtrace_cli.teach.check(
            {"round": "3sf", "answers": {"w13": typed}}, net.config()
        )
        answer = by_name(report)["w13"]
        assert answer["kind"] == "right" and answer["mistakes"] == [], answer
    # −0.601 is not −0.600 at 3 s.f., whatever the reason
    report = backtrace_cli.teach.check({"round": "3sf", "answers": {"w13": -0.601}}, net.config())
    assert by_name(report)["w13"]["kind"] == "wrong"


# ---------------------------------------------------------------- 2. the notes' own answers

NOTES = {
    "net3": 0.755, "o3": 0.68, "net4": 0.68, "o4": 0.66, "net5": 0.798, "o5": 0.69,
    "e5": -0.19, "delta5": -0.0406, "delta3": -0.00265, "delta4": -0.008, "dw45": -0.0267,
    "w45": 0.873, "dw14": -0.0028, "w14": 0.3972,
}  # fmt: skip


def test_the_course_notes_own_answers_are_marked_as_a_fair_marker_would():
    o3, o4 = sigma(0.755), sigma(0.68)
    o5 = sigma(0.3 * o3 + 0.9 * o4)
    d5 = o5 * (1 - o5) * (0.5 - o5)
    d4 = o4 * (1 - o4) * 0.9 * d5
    assert f"{d4:.1g}" == "-0.008" and f"{d4:.2g}" == "-0.0082"  # right, to one figure
    notes_dw45 = 1 * -0.0406 * 0.66  # the notes' own numbers
    assert f"{notes_dw45:.3g}" == "-0.0268"  # so −0.0267 is the notes' slip
    report = backtrace_cli.teach.check(NOTES, "lecture")
    marked = by_name(report)
    assert marked["delta4"]["kind"] == "coarse"
    assert "write at least two significant figures: −0.0082" in marked["delta4"]["verdict"]
    assert marked["dw45"]["kind"] == "wrong" and marked["dw45"]["mistakes"] == []
    assert "1·(−0.0406)·0.66 = −0.0268" in " ".join(marked["dw45"]["diagnosis"])
    others = {name: a for name, a in marked.items() if name != "dw45"}
    assert all(a["ok"] for a in others.values()), others
    assert not any(a["mistakes"] for a in marked.values())
    # net5 = 0.3·0.68 + 0.9·0.66 = 0.798: the notes' own rounded o3, o4 carried forward
    assert marked["net5"]["kind"] == "follows" and "your o4" in marked["net5"]["verdict"]


# ---------------------------------------------------------------- 3. a mistake made carrying 3 s.f.


def test_a_named_mistake_is_found_with_the_rounding_the_student_carried():
    """δ4 from the updated w46, w47, carried to 3 s.f.: recognised although the same mistake
    at full precision gives a different last digit."""
    student = hand.work(NET232, 3, hand.UPDATED, random.Random(0), at="delta4")
    precise = hand.work(NET232, None, hand.UPDATED, random.Random(0), at="delta4")
    assert f"{precise.values['delta4']:.3g}" != f"{student.values['delta4']:.3g}"
    answers = {name: f"{v:.3g}" for name, v in student.values.items()}
    marked = by_name(backtrace_cli.teach.check({"answers": answers}, NET232.config()))
    assert marked["delta4"]["kind"] == "wrong"
    assert hand.UPDATED in marked["delta4"]["mistakes"][0]


# ---------------------------------------------------------------- 4. error carried forward


@pytest.mark.parametrize("figures", [2, 3, 4])
def test_one_early_slip_is_carried_to_the_end_as_following(figures):
    rng = random.Random(figures)
    found = Counter()
    for _ in range(12):
        net = hand.network(rng)
        student = hand.work(net, figures, hand.SLIP, rng)
        answers = {name: hand.written(v, figures, rng) for name, v in student.values.items()}
        marked = by_name(backtrace_cli.teach.check({"answers": answers}, net.config()))
        slip = student.slip
        assert marked[slip]["kind"] == "wrong" and marked[slip]["mistakes"] == []
        later = list(marked)[list(marked).index(slip) + 1 :]
        for name in later:
            assert marked[name]["ok"] and not marked[name]["mistakes"], (name, marked[name])
            found[marked[name]["kind"]] += 1
    assert found["follows"] > 0


# ---------------------------------------------------------------- synthetic students


@pytest.mark.parametrize("declare", [False, True], ids=["recognised", "declared"])
def test_synthetic_students_every_mistake_found_none_invented(declare):
    # recognising each student's rounding costs 6 s for 90 of them: 45 are a sample of it
    students = 90 if declare else 45
    seen = hand.mark_students(students, 13, declare)
    # most mistakes change the value at the precision written
    assert seen["slips"] > 0.75 * students
    assert seen["found"] == seen["slips"], seen
    assert seen["invented"] == 0 and seen["misnamed"] == 0, seen
    assert seen["not credited"] == 0, seen  # every other value right, or following


def test_right_answers_at_one_to_four_figures_are_never_marked_wrong():
    kinds = hand.mark_right_answers(25, 7)
    assert kinds["wrong"] == 0 and kinds["follows"] == 0 and kinds["diagnosed"] == 0, kinds
    assert kinds["coarse"] > 0 and kinds["coarse at 2 figures or more"] == 0, kinds
    assert kinds["right"] > 2 * kinds["coarse"]  # a quarter are typed with one figure


# ---------------------------------------------------------------- 5. what the run does not have


@pytest.mark.parametrize(
    ("exercise", "body", "message"),
    [
        (
            "lecture",
            "samples:\n  2:\n    o5: 0.6\n",
            "line 3, column 3, samples.2: this exercise has 1 sample; answer sample 1 only",
        ),
        (
            "xor",
            "samples:\n  9:\n    o5: 0.6\n",
            "line 3, column 3, samples.9: this exercise has 4 samples; give samples 1 to 4",
        ),
        (
            "lecture",
            "answers:\n  o9: 0.6\n",
            "line 3, column 3, answers.o9: this network (2-2-1) has no o9; it has o3, o4, o5",
        ),
        (
            "lecture",
            "answers:\n  w15: 0.6\n",
            "answers.w15: this network (2-2-1) has no w15; it has w35, w45, w13, w23, w14, w24",
        ),
        (
            "lecture",
            "epochs:\n  5000:\n    w45: 0.8\n",
            "epochs.5000: check traces epochs 1 to 100; 5000 is past that",
        ),
    ],
)
def test_samples_epochs_and_units_the_run_does_not_have_exit_2(
    runner, tmp_path, exercise, body, message
):
    path = tmp_path / "answers.yaml"
    path.write_text(f"exercise: {exercise}\n{body}", encoding="utf-8")
    result = runner.invoke(cli, ["check", str(path)])
    assert result.exit_code == 2
    assert message in result.output.replace("\n", " ").replace("  ", " "), result.output
    assert "Traceback" not in result.output


# ---------------------------------------------------------------- 6. minus signs, decimal commas


def test_a_decimal_comma_in_a_list_is_called_a_decimal_comma(runner, tmp_path):
    config = backtrace_cli.load("lecture")
    assert list(config.samples[0].inputs) == [0.35, 0.9]
    path = tmp_path / "net.yaml"
    text = (
        "layers: [2, 2, 1]\nactivation: sigmoid\nlearning_rate: 1\ninputs: [0,35, \u22120,9]\n"
        "targets: [0.5]\nweights: {w13: 0.1, w23: 0.8, w14: 0.4, w24: 0.6, w35: 0.3, w45: 0.9}\n"
    )
    path.write_text(text, encoding="utf-8")
    result = runner.invoke(cli, ["run", str(path)])
    assert result.exit_code == 2
    assert "line 4" in result.output and "`0,35` is a decimal comma" in result.output
    assert "write 0.35" in result.output
    path.write_text(text.replace("[0,35, \u22120,9]", "[0.35, \u22120.9]"), encoding="utf-8")
    assert runner.invoke(cli, ["run", str(path)]).exit_code == 0  # U+2212 read as minus


# ---------------------------------------------------------------- 7. the mark


def test_against_an_exercise_the_mark_counts_and_lists_unanswered_questions(runner, tmp_path):
    o3 = sigma(0.755)
    path = tmp_path / "answers.yaml"
    path.write_text(f"exercise: lecture\nanswers:\n  o3: {o3:.4f}\n", encoding="utf-8")
    result = runner.invoke(cli, ["check", str(path)])
    assert result.exit_code == 1  # 22 questions are not answered: not a full mark
    assert "1 of 23 questions" in result.output and "22 unanswered" in result.output
    assert "Unanswered (22): net3, net4, o4," in result.output
    report = json.loads(runner.invoke(cli, ["check", str(path), "--format", "json"]).output)
    assert (report["correct"], report["total"], report["questions"]) == (1, 23, 23)
    assert len(report["unanswered"]) == 22


def test_an_inline_config_marks_only_the_answers_given_and_says_1_of_1_answer(runner, tmp_path):
    path = tmp_path / "answers.yaml"
    path.write_text(
        "config:\n  layers: [1, 1]\n  activation: linear\n  learning_rate: 0.1\n"
        "  inputs: [2]\n  targets: [3]\n  weights: {w12: 0.5}\nanswers:\n  o2: 1\n",
        encoding="utf-8",
    )  # o2 = 0.5·2 = 1
    result = runner.invoke(cli, ["check", str(path)])
    assert result.exit_code == 0
    assert "1 of 1 answer right" in result.output
    assert "1 of 1 answers" not in result.output and "question" not in result.output


def test_every_wrong_answer_is_diagnosed_in_json_and_markdown(runner, tmp_path):
    o3, o4 = sigma(0.755), sigma(0.68)
    o5 = sigma(0.3 * o3 + 0.9 * o4)
    d5 = o5 * (1 - o5) * (0.5 - o5)
    no_slope = 0.3 * d5  # δ3 without o3(1 − o3)
    subtracted = 0.9 - d5 * o4  # new w45 = w45 − Δw45
    path = tmp_path / "answers.yaml"
    path.write_text(
        f"exercise: lecture\nanswers:\n  delta5: {d5:.4f}\n  w45: {subtracted:.4f}\n"
        f"  e5: 0.11\n  delta3: {no_slope:.4f}\n",
        encoding="utf-8",
    )
    report = json.loads(runner.invoke(cli, ["check", str(path), "--format", "json"]).output)
    marked = by_name(report)
    assert [(a["name"], a["kind"]) for a in report["answers"]] == [
        ("e5", "wrong"),  # in the order the solution finds them
        ("delta5", "right"),
        ("delta3", "wrong"),
        ("w45", "wrong"),
    ]
    assert all(a["diagnosis"] for a in report["answers"] if a["kind"] == "wrong")
    assert marked["e5"]["mistakes"] == []
    assert marked["delta3"]["mistakes"] == ["the derivative o(1 − o) left out"]
    assert any("Δw subtracted" in m for m in marked["w45"]["mistakes"])
    text = runner.invoke(cli, ["check", str(path), "--format", "markdown"]).output
    assert text.count("## Wrong:") == 3
    assert "o(1 − o) left out" in text and "w − Δw instead of w + Δw" in text


# ---------------------------------------------------------------- 8. one mapping of names


def test_one_mapping_between_trace_symbols_answer_names_and_json_names():
    worked = backtrace_cli.trace("lecture_dropout").json()
    symbols = [e["symbol"] for step in worked["steps"] for e in step["equations"]]
    for symbol in symbols:
        assert notation.symbol_of(notation.answer_name(symbol)) == symbol
    assert notation.answer_name("δ3") == "delta3" and notation.symbol_of("delta3") == "δ3"
    assert notation.answer_name("new w36") == "w36" and notation.symbol_of("w36") == "new w36"
    report = backtrace_cli.teach.check({"δ5": -0.0407, "new w45": 0.873}, "lecture")
    assert [(a["name"], a["symbol"]) for a in report["answers"]] == [
        ("delta5", "δ5"),
        ("w45", "new w45"),
    ]
