"""Marking, third pass (issue 26): a number is what the student wrote — a whole number is
exact — and a blank, a typo or a huge paste costs one answer, never the file. Every
expectation is worked out here by hand from the circuit's own formulas."""

from __future__ import annotations

import csv
import io
import json
import random
import re

import pytest
import students as hand
from test_marking import NET232

import backtrace_cli
import backtrace_cli.teach.check  # the callable module `check` marks with
from backtrace_cli.cli import cli

# f = (x + y)·z with x = −2, y = 5, z = −4: q = 3, f = −12 (CS231n's first circuit)
Z = -4


def by_name(report: dict) -> dict[str, dict]:
    return {a["name"]: a for a in report["answers"]}


# ---------------------------------------------------------------- 1. whole numbers as written


def test_a_whole_number_is_exact_so_only_its_own_product_follows_from_it():
    q = 4  # wrong: x + y = 3
    follows = q * Z  # −16: f = q·z with the student's q, exactly
    for f in (-17, -17.9, -15):  # read as [3.5, 4.5], q·z spanned [−18, −14]
        marked = by_name(backtrace_cli.teach.check({"answers": {"q": q, "f": f}}, "circuit"))
        assert marked["q"]["kind"] == "wrong"
        assert marked["f"]["kind"] == "wrong", (f, marked["f"]["verdict"])
    marked = by_name(backtrace_cli.teach.check({"answers": {"q": q, "f": follows}}, "circuit"))
    assert marked["f"]["kind"] == "follows" and marked["f"]["verdict"] == "follows from your q"


SQUARE = {
    "name": "a square of a sum",
    "nodes": {"xpy": "x + y", "xpysqr": "xpy^2"},
    "inputs": {"x": 3, "y": -1},
}  # xpy = 2, xpysqr = 4


def test_after_a_wrong_whole_number_only_its_square_follows():
    xpy = 1  # wrong: 3 + (−1) = 2
    for xpysqr in (1.95, 2, 0.5):  # [0.5, 1.5]² would have spanned [0.25, 2.25]
        marked = by_name(
            backtrace_cli.teach.check({"answers": {"xpy": xpy, "xpysqr": xpysqr}}, SQUARE)
        )
        assert marked["xpysqr"]["kind"] == "wrong", (xpysqr, marked["xpysqr"]["verdict"])
    marked = by_name(backtrace_cli.teach.check({"answers": {"xpy": xpy, "xpysqr": 1}}, SQUARE))
    assert marked["xpysqr"]["kind"] == "follows"  # 1² = 1


def test_a_decimal_still_stands_for_the_values_it_rounds():
    # 4.1 written (one decimal): the student's q was in [4.05, 4.15], so q·z in [−16.6, −16.2]
    marked = by_name(backtrace_cli.teach.check({"answers": {"q": 4.1, "f": -16.5}}, "circuit"))
    assert marked["f"]["kind"] == "follows"


def test_a_whole_number_is_not_a_right_value_to_one_figure_unless_round_says_so():
    near = {"name": "a sum", "nodes": {"s": "x + y"}, "inputs": {"x": 1.5, "y": 2.2}}  # s = 3.7
    marked = by_name(backtrace_cli.teach.check({"answers": {"s": 4}}, near))
    assert marked["s"]["kind"] == "wrong"  # 4 is 4, not 3.7 to one figure
    marked = by_name(backtrace_cli.teach.check({"answers": {"s": 3.7}}, near))
    assert marked["s"]["kind"] == "right"
    # a declared rounding says otherwise: 4 is then the one figure 3.7 rounds to
    marked = by_name(backtrace_cli.teach.check({"round": "1sf", "answers": {"s": 4}}, near))
    assert marked["s"]["kind"] == "right"


# ---------------------------------------------------------------- 4. blanks and typos

# NET232: a 2-3-2 network worked by hand (tests/students.py, from the lecture's formulas):
# units 1–2 inputs, 3–5 hidden, 6–7 outputs — 42 quantities, every one a question


def worked() -> dict[str, float]:
    return hand.work(NET232, None, None, random.Random(0)).values


def test_a_blank_or_the_sheets_placeholder_is_an_unanswered_question():
    answers: dict[str, object] = dict(worked())
    total = len(answers)
    answers |= {"e6": None, "o3": "…", "delta4": "...", "w25": ""}  # `e6:`, `o3: …`, …
    report = backtrace_cli.teach.check({"answers": answers}, NET232.config())
    assert report["total"] == total
    assert report["correct"] == total - 4
    assert sorted(u["name"] for u in report["unanswered"]) == ["delta4", "e6", "o3", "w25"]
    assert report["counts"]["wrong"] == 0 and report["notes"] == []


def test_a_file_of_blanks_only_is_marked_as_nothing_answered():
    report = backtrace_cli.teach.check({"answers": {"o6": None, "e6": "…"}}, NET232.config())
    assert (report["correct"], report["total"]) == (0, len(worked()))


def test_one_misspelt_name_costs_one_answer_and_is_flagged_with_the_nearest_names():
    answers = dict(worked())
    total = len(answers)
    answers["dw64"] = answers.pop("dw46")  # Δw from unit 4 to unit 6, its digits swapped
    report = backtrace_cli.teach.check({"answers": answers}, NET232.config())
    assert report["correct"] == total - 1
    assert [u["name"] for u in report["unanswered"]] == ["dw46"]
    (note,) = report["notes"]
    # one edit away: dw46 (the swap), dw14 and dw24 (one digit); dw46 comes first, as the
    # solution lists the output layer's updates first
    assert note.endswith("answers.dw64: not marked; no such name here — did you mean dw46 or "
                         "dw14 or dw24?"), note  # fmt: skip


def _exercise(runner, tmp_path) -> tuple[str, str, list[str], str]:
    """A one-variant set of the lecture: its folder, the variant's id, the sheet's names
    and text."""
    folder = tmp_path / "hw"
    result = runner.invoke(cli, ["exercise", "lecture", "--variants", "1", "--seed", "7",
                                 "-o", str(folder)])  # fmt: skip
    assert result.exit_code == 0, result.output
    (sheet,) = (folder / "questions").glob("lecture-*.md")
    text = sheet.read_text(encoding="utf-8")
    names = re.findall(r"^\| .* \| `(\w+)` \| \|$", text, flags=re.M)
    return str(folder), sheet.stem, names, text


def test_the_sheets_own_hand_in_block_is_a_file_of_unanswered_questions(runner, tmp_path):
    folder, ident, names, text = _exercise(runner, tmp_path)
    block = text.split("```yaml\n")[1].split("```")[0]  # as the sheet shows it, … and all
    assert "…" in block and f"variant: {ident}" in block
    answers = tmp_path / "ada.yaml"
    answers.write_text(block.replace("your name", "Ada"), encoding="utf-8")
    grades = tmp_path / "grades.csv"
    args = ["check", "--exercises", folder, str(answers), "--gradebook", str(grades)]
    result = runner.invoke(cli, args)
    assert result.exit_code == 1, result.output  # unanswered, not unreadable (2)
    (row,) = csv.DictReader(io.StringIO(grades.read_text(encoding="utf-8-sig")))
    assert (row["student"], row["variant"], row["error"]) == ("Ada", ident, "")
    assert (row["mark"], row["total"]) == ("0", str(len(names)))
    assert {row[name] for name in names} == {"unanswered"}


def test_a_typo_in_a_class_costs_one_cell_and_the_row_says_why(runner, tmp_path):
    folder, ident, names, _ = _exercise(runner, tmp_path)
    answers = tmp_path / "bob.yaml"
    answers.write_text(
        f"variant: {ident}\nstudent: Bob\nanswers:\n  e5:\n  dw64: 0.1\n", encoding="utf-8"
    )
    grades = tmp_path / "grades.csv"
    args = ["check", "--exercises", folder, str(answers), "--gradebook", str(grades)]
    assert runner.invoke(cli, args).exit_code == 1
    (row,) = csv.DictReader(io.StringIO(grades.read_text(encoding="utf-8-sig")))
    assert (row["student"], row["variant"], row["error"]) == ("Bob", ident, "")
    assert row["e5"] == "unanswered" and row["total"] == str(len(names))
    assert row["note"] == (
        "line 5, answers.dw64: not marked; no such name here — did you mean dw14 or dw24?"
    )  # the lecture's 2-2-1 has dw14 and dw24 one digit away, no dw46


def test_a_file_that_cannot_be_read_keeps_its_students_name_and_variant(runner, tmp_path):
    folder, ident, _, _ = _exercise(runner, tmp_path)
    answers = tmp_path / "cy.yaml"
    answers.write_text(f"variant: {ident}\nstudent: Cy\nanswers:\n  o3: high\n", encoding="utf-8")
    grades = tmp_path / "grades.csv"
    args = ["check", "--exercises", folder, str(answers), "--gradebook", str(grades)]
    assert runner.invoke(cli, args).exit_code == 2
    (row,) = csv.DictReader(io.StringIO(grades.read_text(encoding="utf-8-sig")))
    assert (row["student"], row["variant"]) == ("Cy", ident)
    assert row["error"].endswith("answers.o3: 'high' is not a number")


def test_a_graphs_empty_lines_are_unanswered_questions():
    # the circuit's questions (its nodes, then ∂f/∂ of q, z, x, y), two of them left as
    # empty lines (`q:`, `df/dx:`)
    answers = {"q": None, "f": -12, "df/dq": -4, "df/dz": 3, "df/dx": None, "df/dy": -4}
    report = backtrace_cli.teach.check({"answers": answers}, "circuit")
    # f = 3·(−4), ∂f/∂q = z, ∂f/∂z = q, ∂f/∂y = z
    assert (report["correct"], report["total"]) == (len(answers) - 2, len(answers))
    assert [u["symbol"] for u in report["unanswered"]] == ["q", "∂f/∂x"]


# ---------------------------------------------------------------- 7. the variant a file names


def test_exercise_config_says_when_a_file_names_another_variant(runner, tmp_path):
    folder = tmp_path / "hw"
    made = runner.invoke(cli, ["exercise", "lecture", "--variants", "2", "--seed", "7",
                               "-o", str(folder)])  # fmt: skip
    assert made.exit_code == 0, made.output
    first, second = sorted(p.stem for p in (folder / "configs").glob("*.yaml"))
    config = str(folder / "configs" / f"{first}.yaml")
    answers = tmp_path / "dee.yaml"
    answers.write_text(f"variant: {second}\nstudent: Dee\nanswers:\n  net3: 0.5\n")
    result = runner.invoke(cli, ["check", "--exercise", config, str(answers), "--format", "json"])
    notes = json.loads(result.output)["notes"]
    assert notes == [
        f"line 1, variant: this file answers {second}, but was marked against {first} "
        f"(--exercise {config})"
    ]
    grades = tmp_path / "grades.csv"
    args = ["check", "--exercise", config, str(answers), "--gradebook", str(grades)]
    runner.invoke(cli, args)
    (row,) = csv.DictReader(io.StringIO(grades.read_text(encoding="utf-8-sig")))
    assert row["note"] == notes[0] and row["variant"] == second
    # the variant it names, or a built-in example's name: both named all the same
    answers.write_text(f"variant: {first}\nanswers:\n  net3: 0.5\n")
    result = runner.invoke(cli, ["check", "--exercise", config, str(answers), "--format", "json"])
    assert json.loads(result.output)["notes"] == []
    result = runner.invoke(
        cli, ["check", "--exercise", "lecture", str(answers), "--format", "json"]
    )
    assert json.loads(result.output)["notes"] == [
        f"line 1, variant: this file answers {first}, but was marked against --exercise lecture"
    ]


# ---------------------------------------------------------------- 8. a long answer, quoted


def test_a_long_answer_is_quoted_in_at_most_60_characters_wherever_it_is_echoed(runner, tmp_path):
    # YAML reads 0x + 250 f's as 16^250 − 1, a whole number of 302 digits that float64 holds
    # (under 2^1024); e5 = t5 − o5 is then worked "with your values" at e5's 321 places
    huge = "0x" + "f" * 250
    assert len(str(16**250 - 1)) == 302
    path = tmp_path / "long.yaml"
    path.write_text(f"exercise: lecture\nanswers:\n  o5: {huge}\n  e5: 1.5e-320\n")
    for fmt in ("table", "markdown", "json"):
        result = runner.invoke(cli, ["check", str(path), "--format", fmt], env={"COLUMNS": "80"})
        assert result.exit_code == 1, result.output
        assert "with your values" in result.output or fmt == "table"
        runs = re.findall(r"[\d−.e+-]{61,}", result.output)
        assert runs == [], (fmt, [run[:80] for run in runs])


# ---------------------------------------------------------------- 6. one question list

HOMEWORK = {  # the trial's homework: 2-3-3, tanh hidden, softmax output, cross-entropy, Adam
    "name": "tanh → softmax → Adam (2-3-3)",
    "layers": [2, 3, 3],
    "activations": ["tanh", "softmax"],
    "loss": "cross_entropy",
    "learning_rate": 0.1,
    "optimizer": "adam",
    "inputs": [0.5, -0.3],
    "targets": [0, 1, 0],
    "weights": {
        "w13": 0.2, "w23": -0.4, "w14": 0.7, "w24": 0.1, "w15": -0.3, "w25": 0.5,
        "w36": 0.6, "w46": -0.3, "w56": 0.4, "w37": -0.1, "w47": 0.2, "w57": -0.4,
        "w38": 0.3, "w48": 0.5, "w58": 0.7,
    },
    "biases": {"b3": 0.1, "b4": -0.2, "b5": 0.3, "b6": 0.1, "b7": -0.1, "b8": 0.2},
}  # fmt: skip


def homework_step(gradients: bool) -> int:
    """The step's equations, counted from the lecture's formulas for this network."""
    units, outputs, weights, biases = 3 + 3, 3, 2 * 3 + 3 * 3, 3 + 3
    forward = 2 * units + outputs + 1  # net and o each; e^net of each output and their Σ
    error = outputs + 1  # e_k each, then E
    deltas = units
    adam = 7 * (weights + biases)  # g = ∂E/∂w, new m, new v, m̂, v̂, Δw, new w
    count = forward + error + deltas + adam
    if gradients:  # the chain rule's own rows: softmax's ∂E/∂o_k, g_k and ḡ; each hidden
        # unit's ∂E/∂o_j and ∂o_j/∂net_j; each hidden weight's and bias's ∂net_j/∂w_ij
        count += 2 * outputs + 1 + 2 * 3 + (2 * 3 + 3)
    return count


@pytest.mark.parametrize("gradients", [False, True])
def test_check_and_quiz_ask_the_same_questions_of_one_step(gradients, runner, tmp_path):
    from backtrace_cli.teach import quiz

    spec = backtrace_cli.load(HOMEWORK)
    asked = [q.key for q in quiz.build(spec, gradients=gradients).questions]
    assert len(asked) == homework_step(gradients)
    for answers in ({"o3": 0.1}, {"o3": 0.1, "dE/dw36": 0.1}):  # a ∂E/∂w answered, or not
        report = backtrace_cli.teach.check({"gradients": gradients, "answers": answers}, HOMEWORK)
        assert report["total"] == len(asked), answers
    if not gradients:  # an exercise's sheet asks the step as `run` traces it, and so marks it
        config = tmp_path / "homework.yaml"
        config.write_text(json.dumps(HOMEWORK, ensure_ascii=False), encoding="utf-8")  # YAML
        folder = tmp_path / "set"
        made = runner.invoke(cli, ["exercise", str(config), "--variants", "1", "-o", str(folder)])
        assert made.exit_code == 0, made.output
        manifest = json.loads((folder / "exercise.json").read_text(encoding="utf-8"))
        ((ident, sheet),) = manifest["variants"].items()
        variant = backtrace_cli.load(str(folder / sheet["config"]))  # other numbers, same step
        assert sheet["questions"] == [q.name for q in quiz.build(variant).questions]
        assert len(sheet["questions"]) == len(asked)
        answers = tmp_path / "ann.yaml"
        answers.write_text(f"variant: {ident}\nanswers:\n  o3: 0.1\n  dE/dw36: 0.1\n")
        marked = runner.invoke(
            cli, ["check", "--exercises", str(folder), str(answers), "--format", "json"]
        )
        assert json.loads(marked.output)["total"] == len(asked), marked.output
    # and so for the built-ins, networks and graphs alike
    for name in ("lecture", "chain_rule", "circuit", "adam_parabola"):
        questions = quiz.build(backtrace_cli.load(name)).questions
        first = {questions[0].name: 0.1}
        assert backtrace_cli.teach.check(first, name)["total"] == len(questions), name


def test_an_answer_beyond_the_questions_is_marked_and_said_but_not_counted():
    """∂E/∂o5 is a factor the lecture's trace writes beside δ5, not a question of the step
    (`quiz` does not ask it): answered wrong, it is marked wrong and the summary says so, but
    the mark is the questions' — and the file is not all right."""
    from test_quiz import ASKED  # the notes' step, every question worked by hand

    answers = {name: float(f"{v:.12g}") for name, v in ASKED.items()} | {"∂E/∂o5": 0.5}
    report = backtrace_cli.teach.check.check_report({"exercise": "lecture", "answers": answers})
    assert (report.credited, report.total) == (len(ASKED), len(ASKED))
    assert [v.kind for v in report.verdicts if v.symbol == "∂E/∂o5"] == ["wrong"]
    assert (
        report.summary()
        == f"{len(ASKED)} of {len(ASKED)} questions right; 1 answer beyond them wrong"
    )
    assert not report.all_right
