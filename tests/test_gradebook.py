"""`backtrace check --exercises DIR PATH... --gradebook grades.csv`: a class marked in one
command. Submissions are generated here from the lecture's equations written out (not from the
tool): right ones, one for each named mistake, broken files, a path in `variant:`, another
variant named. Every row must be what a single `check` of that file says."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import numpy as np
import pytest
import yaml

from backtrace_cli.cli import cli

EXERCISE = """\
name: Homework 3
layers: [2, 2, 1]
activation: sigmoid
learning_rate: 0.5
inputs: [0.35, 0.9]
targets: [0.5]
weights: {w13: 0.1, w23: 0.8, w14: 0.4, w24: 0.6, w35: 0.3, w45: 0.9}
"""
MISTAKES = {
    "updated": "hidden δ with the updated weights",
    "no_derivative": "the derivative o(1 − o) left out",
    "flipped": "the sign of (t − o) flipped",
    "net_for_o": "net for o (net used where o belongs)",
    "no_eta": "the learning rate η left out",
    "subtracted": "Δw subtracted",
}


def sigmoid(x: float) -> float:
    return float(1 / (1 + np.exp(-x)))


def solve(cfg: dict, slip: str | None = None) -> dict[str, float]:
    """The lecture's 2-2-1 step by hand, in order, with one named mistake made (or none)."""
    w = dict(cfg["weights"])
    (x1, x2), (t,), eta = cfg["inputs"], cfg["targets"], cfg["learning_rate"]
    v: dict[str, float] = {}
    v["net3"] = w["w13"] * x1 + w["w23"] * x2
    v["o3"] = sigmoid(v["net3"])
    v["net4"] = w["w14"] * x1 + w["w24"] * x2
    v["o4"] = sigmoid(v["net4"])
    v["net5"] = w["w35"] * v["o3"] + w["w45"] * v["o4"]
    v["o5"] = o5 = sigmoid(v["net5"])
    v["e5"] = t - o5
    v["E"] = 0.5 * (t - o5) ** 2
    right_d5 = o5 * (1 - o5) * (t - o5)
    v["delta5"] = {
        "no_derivative": t - o5,
        "flipped": o5 * (1 - o5) * (o5 - t),
    }.get(slip, right_d5)
    d5 = v["delta5"]
    new35 = w["w35"] + eta * d5 * v["o3"]
    w35 = new35 if slip == "updated" else w["w35"]
    v["delta3"] = v["o3"] * (1 - v["o3"]) * w35 * d5
    v["delta4"] = v["o4"] * (1 - v["o4"]) * w["w45"] * d5
    v["dw35"] = (
        (1 if slip == "no_eta" else eta) * d5 * (v["net3"] if slip == "net_for_o" else v["o3"])
    )
    v["w35"] = w["w35"] + (-v["dw35"] if slip == "subtracted" else v["dw35"])
    return v


# the quantity each mistake first shows in
FIRST = {"updated": "delta3", "no_derivative": "delta5", "flipped": "delta5",
         "net_for_o": "dw35", "no_eta": "dw35", "subtracted": "w35"}  # fmt: skip


def answers_file(path: Path, ident: str, values: dict[str, float], upto: str, **extra) -> None:
    names = list(values)
    chosen = {n: float(values[n]) for n in names[: names.index(upto) + 1]}
    data = {"variant": ident, **extra, "answers": chosen}
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))


@pytest.fixture(scope="module")
def homework(tmp_path_factory):
    """A set of 3 variants and a class of submissions for it."""
    from click.testing import CliRunner

    root = tmp_path_factory.mktemp("class")
    (root / "hw3.yaml").write_text(EXERCISE)
    folder = root / "set"
    runner = CliRunner()
    made = runner.invoke(
        cli,
        ["exercise", str(root / "hw3.yaml"), "--variants", "3", "--seed", "5", "-o", str(folder),
         "--ask", "net,o,e,E,delta,dw35,w35"],
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    idents = [f"hw3-s5-v{n:02d}" for n in (1, 2, 3)]
    cfgs = {i: yaml.safe_load((folder / "configs" / f"{i}.yaml").read_text()) for i in idents}
    subs = root / "answers"
    subs.mkdir()
    expected: dict[str, dict] = {}
    a, b, c = idents
    answers_file(subs / "ada.yaml", a, solve(cfgs[a]), "w35", student="Ada")
    expected["ada.yaml"] = {"student": "Ada", "variant": a, "wrong": ""}
    answers_file(subs / "bob.yaml", b, solve(cfgs[b]), "o5")  # stops early: unanswered
    expected["bob.yaml"] = {"student": "bob", "variant": b, "wrong": ""}
    for n, slip in enumerate(MISTAKES):
        ident = idents[n % 3]
        name = f"slip_{slip}.yaml"
        answers_file(subs / name, ident, solve(cfgs[ident], slip), FIRST[slip])
        expected[name] = {"variant": ident, "wrong": FIRST[slip], "mistake": MISTAKES[slip]}
    # another variant named: c's values under a's id — marked against a
    answers_file(subs / "swapped.yaml", a, solve(cfgs[c]), "w35")
    expected["swapped.yaml"] = {"variant": a, "wrong": "net3"}
    # a path where the id belongs, pointing at a config these answers are right for
    evil = root / "evil.yaml"
    evil.write_text(EXERCISE)
    answers_file(subs / "path.yaml", str(evil), solve(yaml.safe_load(EXERCISE)), "w35")
    expected["path.yaml"] = {"error": "is not a variant of this set"}
    answers_file(subs / "dots.yaml", f"../configs/{a}", solve(cfgs[a]), "w35")
    expected["dots.yaml"] = {"error": "is not a variant of this set"}
    # `exercise:` in the file is never followed: the variant decides
    answers_file(subs / "sneaky.yaml", b, solve(yaml.safe_load(EXERCISE)), "w35",
                 exercise=str(evil))  # fmt: skip
    expected["sneaky.yaml"] = {"variant": b, "wrong": "net3"}
    (subs / "broken.yaml").write_text(f"variant: {a}\nanswers: [net3: 0.7\n")
    expected["broken.yaml"] = {"error": "broken.yaml, line"}
    (subs / "typo.yaml").write_text(f"variant: {a}\nanswer:\n  net3: 0.7\n")
    expected["typo.yaml"] = {"error": "answer: unknown key"}
    (subs / "notes.txt").write_text("not an answers file")  # folders give their .yaml only
    return folder, subs, expected, runner, cfgs


def test_a_class_in_one_command(homework, tmp_path):
    folder, subs, expected, runner, _ = homework
    grades = tmp_path / "grades.csv"
    result = runner.invoke(
        cli, ["check", "--exercises", str(folder), str(subs), "--gradebook", str(grades)]
    )
    assert result.exit_code == 2, result.output  # unreadable files are there
    rows = {Path(r["file"]).name: r for r in csv.DictReader(grades.open(encoding="utf-8-sig"))}
    assert sorted(rows) == sorted(expected)
    header = next(csv.reader(grades.open(encoding="utf-8-sig")))
    questions = ["net3", "o3", "net4", "o4", "net5", "o5", "e5", "E", "delta5", "delta3",
                 "delta4", "dw35", "w35"]  # fmt: skip
    assert header == ["file", "student", "variant", "mark", "total", "first_wrong", "mistake",
                      *questions, "error", "note"]  # fmt: skip
    for name, want in expected.items():
        row = rows[name]
        if "error" in want:
            assert want["error"] in row["error"], (name, row)
            assert row["mark"] == row["total"] == "" and all(row[q] == "" for q in questions)
            continue
        assert row["error"] == "" and row["variant"] == want["variant"], (name, row)
        assert row["first_wrong"] == want["wrong"], (name, row)
        assert row["total"] == str(len(questions))
        if "mistake" in want:
            assert row["mistake"].startswith(want["mistake"]), (name, row)
            first = questions.index(want["wrong"])
            # everything before the slip right, the slip wrong, nothing after answered
            assert [row[q] for q in questions[:first]] == ["right"] * first, (name, row)
            assert row[want["wrong"]] == "wrong"
            assert row["mark"] == str(first)
    assert [rows["ada.yaml"][q] for q in questions] == ["right"] * len(questions)
    assert rows["ada.yaml"]["mark"] == str(len(questions))
    assert [rows["bob.yaml"][q] for q in questions] == ["right"] * 6 + ["unanswered"] * 7
    assert rows["bob.yaml"]["student"] == "bob"  # no student: key, the file's name


def test_every_row_is_a_single_check_of_that_file(homework, tmp_path):
    """The gradebook row of each file equals `check` of that file alone, with the variant's
    config named in the file (the CLI's one-file path, no folder, no cache)."""
    folder, subs, _, runner, _ = homework
    grades = tmp_path / "grades.csv"
    runner.invoke(cli, ["check", "--exercises", str(folder), str(subs), "--gradebook", str(grades)])
    rows = {Path(r["file"]).name: r for r in csv.DictReader(grades.open(encoding="utf-8-sig"))}
    manifest = json.loads((folder / "exercise.json").read_text())
    for name, row in rows.items():
        single = runner.invoke(
            cli, ["check", "--exercises", str(folder), str(subs / name), "--format", "json"]
        )
        if row["error"]:
            assert single.exit_code == 2
            assert single.output.strip() == f"Error: {row['error']}"
            continue
        report = json.loads(single.output)
        assert single.exit_code == (0 if report["correct"] == report["total"] else 1)
        assert str(report["correct"]) == row["mark"] and str(report["total"]) == row["total"]
        kinds = {a["name"]: a["kind"] for a in report["answers"]}
        kinds |= {a["name"]: "unanswered" for a in report["unanswered"]}
        words = {"coarse": "right"}
        for q in manifest["variants"][row["variant"]]["questions"]:
            assert row[q] == words.get(kinds[q], kinds[q]), (name, q)
        wrong = [a for a in report["answers"] if a["kind"] == "wrong"]
        assert row["first_wrong"] == (wrong[0]["name"] if wrong else "")
        assert row["mistake"] == (wrong[0]["mistakes"][0] if wrong and wrong[0]["mistakes"] else "")
        # and the same without the folder: the variant's config named in the file itself
        cfg = folder / "configs" / f"{row['variant']}.yaml"
        data = yaml.safe_load((subs / name).read_text())
        data.pop("variant"), data.pop("student", None), data.pop("exercise", None)
        alone = tmp_path / name
        alone.write_text(yaml.safe_dump({"exercise": str(cfg), **data}, allow_unicode=True))
        plain = json.loads(runner.invoke(cli, ["check", str(alone), "--format", "json"]).output)
        answered = {a["name"]: a["kind"] for a in plain["answers"] if a["kind"] != "unanswered"}
        assert answered == {k: v for k, v in kinds.items() if v != "unanswered"}


def test_exit_status_and_one_config_for_all(homework, tmp_path):
    folder, subs, _, runner, _ = homework
    right = [str(subs / "ada.yaml")]
    ok = runner.invoke(cli, ["check", "--exercises", str(folder), *right])
    assert ok.exit_code == 0, ok.output
    wrong = runner.invoke(
        cli, ["check", "--exercises", str(folder), *right, str(subs / "slip_flipped.yaml")]
    )
    assert wrong.exit_code == 1
    # without --gradebook: a line per file and the counts
    assert wrong.output == (
        f"{subs / 'ada.yaml'} (Ada, hw3-s5-v01): 13 of 13\n"
        f"{subs / 'slip_flipped.yaml'} (slip_flipped, hw3-s5-v03): 8 of 13; first wrong: "
        f"delta5 ({MISTAKES['flipped']})\n"
        "2 files: 1 all right, 1 with a wrong or missing answer, 0 unreadable\n"
    )
    # --exercise CONFIG: every file against that config; ada's answers are for variant 1
    cfg = folder / "configs" / "hw3-s5-v01.yaml"
    grades = tmp_path / "one.csv"
    both = runner.invoke(
        cli,
        ["check", "--exercise", str(cfg), *right, str(subs / "swapped.yaml"), "--gradebook",
         str(grades)],
    )  # fmt: skip
    assert both.exit_code == 1, both.output
    rows = list(csv.DictReader(grades.open(encoding="utf-8-sig")))
    assert [r["first_wrong"] for r in rows] == ["", "net3"]
    # every quantity of the step is a question: net, o of 3 units, e5, E, 3 δ, 6 Δw and 6 new w
    assert (rows[0]["mark"], rows[0]["total"]) == ("13", str(3 * 2 + 2 + 3 + 6 * 2))
    assert rows[0]["w13"] == "unanswered" and rows[0]["variant"] == "hw3-s5-v01"


def test_the_gradebook_is_written_whole_and_not_over_a_file(homework, tmp_path):
    folder, subs, _, runner, _ = homework
    grades = tmp_path / "grades.csv"
    grades.write_text("keep me")
    grades.chmod(0o640)
    again = runner.invoke(
        cli, ["check", "--exercises", str(folder), str(subs), "--gradebook", str(grades)]
    )
    assert again.exit_code == 2 and "exists already; use --force" in again.output
    assert grades.read_text() == "keep me"
    assert [p.name for p in tmp_path.iterdir()] == ["grades.csv"]  # no temporary left
    forced = runner.invoke(
        cli, ["check", "--exercises", str(folder), str(subs), "--gradebook", str(grades), "--force"]
    )
    assert forced.exit_code == 2 and grades.read_text(encoding="utf-8-sig").startswith(
        "file,student,variant"
    )
    assert oct(os.stat(grades).st_mode & 0o777) == oct(0o640)  # --force keeps the file's mode
    fresh = tmp_path / "fresh.csv"
    runner.invoke(cli, ["check", "--exercises", str(folder), str(subs), "--gradebook", str(fresh)])
    assert oct(os.stat(fresh).st_mode & 0o777) == oct(0o666 & ~_umask())  # the user's umask


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_a_formula_in_a_students_name_stays_text(homework, tmp_path):
    folder, _, _, runner, cfgs = homework
    ident = "hw3-s5-v01"
    sub = tmp_path / "x.yaml"
    answers_file(sub, ident, solve(cfgs[ident]), "o3", student='=HYPERLINK("http://x")')
    grades = tmp_path / "g.csv"
    runner.invoke(cli, ["check", "--exercises", str(folder), str(sub), "--gradebook", str(grades)])
    row = next(csv.DictReader(grades.open(encoding="utf-8-sig")))
    assert row["student"] == '\'=HYPERLINK("http://x")'


def test_a_folder_that_is_not_a_set_is_bad_usage(homework, tmp_path):
    folder, subs, _, runner, _ = homework
    for bad, message in (
        (folder / "questions", "has no exercise.json"),
        (tmp_path / "nope", "is not a folder"),
    ):
        result = runner.invoke(cli, ["check", "--exercises", str(bad), str(subs)])
        assert result.exit_code == 2 and message in result.output, result.output
    both = runner.invoke(
        cli, ["check", "--exercises", str(folder), "--exercise", "lecture", str(subs)]
    )
    assert both.exit_code == 2 and "not both" in both.output


def test_files_that_name_their_own_exercise_are_marked_each_against_it(runner, tmp_path):
    """Without --exercises or --exercise, several files (or a folder) are each marked as
    `check FILE` marks it — against its own `exercise:`. Values from the course notes."""
    (tmp_path / "a.yaml").write_text("exercise: lecture\nanswers:\n  net3: 0.755\n  o3: 0.680267\n")
    (tmp_path / "b.yaml").write_text("exercise: lecture\nanswers:\n  net3: 0.755\n  o3: 0.755\n")
    grades = tmp_path / "out" / "g.csv"
    grades.parent.mkdir()
    result = runner.invoke(cli, ["check", str(tmp_path), "--gradebook", str(grades)])
    assert result.exit_code == 1, result.output
    rows = list(csv.DictReader(grades.open(encoding="utf-8-sig")))
    assert [(r["student"], r["mark"], r["total"], r["first_wrong"]) for r in rows] == [
        ("a", "2", "23", ""),
        ("b", "1", "23", "o3"),
    ]
    assert (rows[1]["net3"], rows[1]["o3"], rows[1]["w13"]) == ("right", "wrong", "unanswered")
    both = runner.invoke(cli, ["check", str(tmp_path / "a.yaml"), str(tmp_path / "b.yaml")])
    assert both.exit_code == 1
    assert both.output.splitlines()[-1] == (
        "2 files: 0 all right, 2 with a wrong or missing answer, 0 unreadable"
    )
