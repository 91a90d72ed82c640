"""`check --gradebook FILE --gradebook-format canvas|moodle`: the class's scores under the header
the platform's grade import reads. The CSV is read back with the csv module; each score is
derived here, from answers worked by hand (test_gradebook's `solve`): the questions a file
answers right, each worth what --points says of its section."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import yaml
from test_gradebook import answers_file, solve
from test_gradescope import exercise_set

from backtrace_cli.cli import cli

FORWARD = ["net3", "o3", "net4", "o4", "net5", "o5"]
DELTAS = ["delta5", "delta3", "delta4"]
QUESTIONS = [*FORWARD, "e5", "E", *DELTAS, "dw35", "w35"]


@pytest.fixture(scope="module")
def klass(tmp_path_factory):
    """Three students' files and one unreadable, for a set of two variants; each file's
    right answers listed, worked out here."""
    root = tmp_path_factory.mktemp("klass")
    folder = exercise_set(root, "week3")
    a, b = "hw3-s5-v01", "hw3-s5-v02"
    cfg = {i: yaml.safe_load((folder / "configs" / f"{i}.yaml").read_text()) for i in (a, b)}
    subs = root / "answers"
    subs.mkdir()
    right: dict[str, list[str]] = {}
    answers_file(subs / "ada.yaml", a, solve(cfg[a]), "w35", student="ada@uni.example")
    right["ada@uni.example"] = QUESTIONS  # every one
    answers_file(subs / "bob.yaml", b, solve(cfg[b]), "o5", student="bob@uni.example")
    right["bob@uni.example"] = FORWARD  # stops after the forward pass
    answers_file(subs / "cy.yaml", a, solve(cfg[a], "no_eta"), "dw35", student="cy@uni.example")
    right["cy@uni.example"] = QUESTIONS[: QUESTIONS.index("dw35")]  # η left out: dw35 wrong
    (subs / "dee.yaml").write_text(f"variant: {a}\nstudent: dee@uni.example\nanswers: [oops\n")
    return folder, subs, right


def gradebook(runner, klass, tmp_path, fmt: str, *options: str) -> tuple[list[list[str]], str]:
    folder, subs, _ = klass
    book = tmp_path / f"{fmt}.csv"
    result = runner.invoke(
        cli,
        ["check", "--exercises", str(folder), str(subs), "--gradebook", str(book),
         "--gradebook-format", fmt, *options],
    )  # fmt: skip
    assert result.exit_code == 2, result.output  # dee's file is unreadable
    assert "(" in result.output and "dee.yaml" in result.output  # named on the terminal
    with book.open(encoding="utf-8-sig", newline="") as stream:
        return list(csv.reader(stream)), result.output


def test_canvas_reads_its_own_header_and_the_points(runner, klass, tmp_path):
    """Canvas's gradebook columns, then the assignment (named after the set's folder), a
    Points Possible row, and a row a student: 2 points a δ, 1 anything else."""
    rows, _ = gradebook(runner, klass, tmp_path, "canvas", "--points", "delta=2")
    header, possible, *students = rows  # dee's unreadable file has no row: named on the terminal
    assert header == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "week3"]
    assert possible[0] == "Points Possible" and possible[-1] == str(len(QUESTIONS) + 3)

    def points(names: list[str]) -> float:
        return sum(2 if n in DELTAS else 1 for n in names)

    _, _, right = klass
    scores = {row[0]: row[5] for row in students}
    assert {row[0]: row[3] for row in students} == {s: s for s in scores}  # SIS Login ID
    assert scores == {
        "ada@uni.example": "16",  # 13 questions, 3 of them δ: 16 points
        "bob@uni.example": "6",
        "cy@uni.example": "14",  # all but dw35 and w35
    }
    for student, names in right.items():
        assert float(scores[student]) == points(names), student


def test_moodle_has_an_identifier_a_grade_and_the_named_mistake(runner, klass, tmp_path):
    rows, _ = gradebook(runner, klass, tmp_path, "moodle")
    header, *students = rows
    assert header == ["Student", "week3", "Feedback"]
    by = {row[0]: row for row in students}
    _, _, right = klass
    for student, names in right.items():
        assert by[student][1] == str(len(names)), student  # 1 a question by default
    assert "dee" not in by and "dee@uni.example" not in by  # unreadable: no row
    assert "; first wrong: dw35 (the learning rate η left out" in by["cy@uni.example"][2]
    assert by["ada@uni.example"][2].startswith(f"{len(QUESTIONS)} of {len(QUESTIONS)} questions")


def test_a_student_named_twice_is_left_out(runner, klass, tmp_path):
    """A file claiming another's identifier would overwrite that student's grade: neither file
    is in the import, and the teacher is told who and which files."""
    folder, subs, _ = klass
    twin = tmp_path / "twin"
    twin.mkdir()
    for name in ("ada.yaml", "bob.yaml"):
        (twin / name).write_text((subs / name).read_text())
    (twin / "mallory.yaml").write_text(
        (subs / "ada.yaml").read_text().replace("ada@uni.example", "bob@uni.example")
    )
    book = tmp_path / "canvas.csv"
    result = runner.invoke(
        cli,
        ["check", "--exercises", str(folder), str(twin), "--gradebook", str(book),
         "--gradebook-format", "canvas"],
    )  # fmt: skip
    assert result.exit_code == 1, result.output  # bob's file stops early
    with book.open(encoding="utf-8-sig", newline="") as stream:
        rows = list(csv.DictReader(stream))[1:]  # after Points Possible
    scores = sorted((row["Student"], row["week3"]) for row in rows)
    assert scores == [("ada@uni.example", "13")]
    assert "Warning: bob@uni.example: named by 2 files" in result.output
    assert "mallory.yaml" in result.output


def test_a_formula_in_a_name_stays_text(runner, klass, tmp_path):
    folder, subs, _ = klass
    evil = tmp_path / "evil"
    evil.mkdir()
    (evil / "x.yaml").write_text(
        (subs / "bob.yaml").read_text().replace("bob@uni.example", "'=HYPERLINK(1)'")
    )
    book = tmp_path / "moodle.csv"
    runner.invoke(
        cli,
        ["check", "--exercises", str(folder), str(evil), "--gradebook", str(book),
         "--gradebook-format", "moodle"],
    )  # fmt: skip
    rows = list(csv.reader(book.open(encoding="utf-8-sig", newline="")))
    assert rows[1][0] == "'=HYPERLINK(1)"


def test_the_csv_format_is_unchanged(runner, klass, tmp_path):
    """The default stays the tool's own gradebook, a column per question."""
    folder, subs, _ = klass
    book = tmp_path / "grades.csv"
    runner.invoke(cli, ["check", "--exercises", str(folder), str(subs), "--gradebook", str(book)])
    header = next(csv.reader(book.open(encoding="utf-8-sig", newline="")))
    assert header[:5] == ["file", "student", "variant", "mark", "total"]
    assert Path(book).read_bytes().startswith(b"\xef\xbb\xbf")
