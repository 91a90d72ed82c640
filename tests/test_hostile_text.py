"""Text from a student's or a teacher's file is hostile input: numbers are read at bounded
cost, and what reaches the terminal, the markdown page or the spreadsheet cannot act there."""

from __future__ import annotations

import csv
import json
import re

from conftest import text
from hypothesis import HealthCheck, given, settings

from backtrace_cli.cli import cli
from backtrace_cli.core.errors import visible
from backtrace_cli.core.numerals import problem

VALID = "write a number float64 can hold, like 0.0407 or 4.07e-2"
TOO_SMALL = (
    "is too close to 0 for float64: it would be read as 0 (the smallest is about 4.9e-324); "
    + VALID
)
TOO_LARGE = "is too large for float64 (the largest is about 1.8e308); " + VALID
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")  # \t, \n allowed


def _answers(tmp_path, value: str, name: str = "a.yaml", exercise: str = "lecture"):
    path = tmp_path / name
    path.write_text(f"exercise: {exercise}\nanswers:\n  o3: {value}\n", encoding="utf-8")
    return path


# ---------------------------------------------------------------- numbers, bounded


def test_an_exponent_past_float64_is_a_message_not_a_traceback(runner, tmp_path):
    for value in ("0.49e-999999999999", "0.49e-2000000000", "0.49e-1000000000"):
        path = _answers(tmp_path, value)
        result = runner.invoke(cli, ["check", str(path)])
        assert result.exit_code == 2
        assert (
            result.output == f"Error: {path}, line 3, column 3, answers.o3: '{value}' {TOO_SMALL}\n"
        )


def test_the_former_eight_second_answer_is_refused_before_any_decimal_work(
    runner, tmp_path, monkeypatch
):
    """Its cost was Decimal's (8 s, 2.9 GB): the text is refused before Decimal sees it."""
    import decimal

    from backtrace_cli.teach import (
        answers as check,  # the answers reader: its Decimal is the one watched
    )

    seen: list[str] = []

    def watched(text="0", *args):
        seen.append(str(text))
        return decimal.Decimal(text, *args)

    monkeypatch.setattr(check, "Decimal", watched)
    path = _answers(tmp_path, "0.49e-1000000000")
    result = runner.invoke(cli, ["check", str(path)])
    assert result.exit_code == 2
    assert not any("e-1000000000" in text for text in seen)


def test_a_400_digit_answer_is_too_large(runner, tmp_path):
    digits = "1" * 400
    path = _answers(tmp_path, digits)
    result = runner.invoke(cli, ["check", str(path)])
    assert result.exit_code == 2
    shown = "'" + digits[:59] + "…'"  # at most 60 characters of what was written
    assert result.output == f"Error: {path}, line 3, column 3, answers.o3: {shown} {TOO_LARGE}\n"


def test_a_400_digit_graph_answer_is_too_large(runner, tmp_path):
    (tmp_path / "g.yaml").write_text("expression: x * 2\ninputs: {x: 2}\n")
    path = tmp_path / "a.yaml"
    path.write_text(f"exercise: g.yaml\nanswers:\n  f: {'2' * 400}\n")
    result = runner.invoke(cli, ["check", str(path)])
    assert result.exit_code == 2
    shown = "'" + "2" * 59 + "…'"
    assert result.output == f"Error: {path}, line 3, column 3, answers.f: {shown} {TOO_LARGE}\n"


def test_a_100000_digit_answer_is_quoted_in_60_characters(runner, tmp_path):
    path = _answers(tmp_path, "0." + "7" * 100_000)
    result = runner.invoke(cli, ["check", str(path)])
    assert result.exit_code == 2
    assert result.output == (
        f"Error: {path}, line 3, column 3, answers.o3: '0.{'7' * 57}…' has 100,000 digits; "
        "float64 keeps about 17: write a number float64 can hold (at most 40 digits), "
        "like 0.0407 or 4.07e-2\n"
    )


def test_a_class_keeps_a_row_for_the_hostile_numbers(runner, tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    _answers(folder, "0.49e-999999999999", "a.yaml")
    _answers(folder, "1" * 400, "b.yaml")
    _answers(folder, "0.680", "c.yaml")
    grades = tmp_path / "g.csv"
    result = runner.invoke(
        cli, ["check", "--exercise", "lecture", str(folder), "--gradebook", str(grades)]
    )
    assert result.exit_code == 2
    rows = list(csv.DictReader(grades.open(encoding="utf-8-sig")))
    assert [r["mark"] for r in rows] == ["", "", "1"]
    assert rows[0]["error"].endswith(f"answers.o3: '0.49e-999999999999' {TOO_SMALL}")


def test_a_config_number_past_float64_is_refused(runner, tmp_path):
    config = tmp_path / "c.yaml"
    text = runner.invoke(cli, ["examples", "lecture"]).output
    config.write_text(text.replace("learning_rate: 1", "learning_rate: 1e-400"))
    result = runner.invoke(cli, ["run", str(config)])
    assert result.exit_code == 2
    assert (
        result.output == f"Error: {config}, line 8, column 1, learning_rate: '1e-400' {TOO_SMALL}\n"
    )


def test_an_expression_number_past_float64_is_refused(runner, tmp_path):
    config = tmp_path / "g.yaml"
    config.write_text("expression: x * 1e999\ninputs: {x: 2}\n")
    result = runner.invoke(cli, ["run", str(config)])
    assert result.exit_code == 2
    assert result.output == f"Error: {config}, line 1, column 17, expression: '1e999' {TOO_LARGE}\n"


def test_what_float64_holds_is_decided_from_the_text():
    assert problem("0.0407") is None and problem("4.07e-2") is None and problem("−1_000.5") is None
    assert problem("5e-324") is None and problem("1.7e308") is None  # the ends of float64
    assert problem("2e-324") == f"'2e-324' {TOO_SMALL}"  # rounds to 0
    assert problem("1.8e308") == f"'1.8e308' {TOO_LARGE}"
    assert problem("0e-999999999999") == (
        f"'0e-999999999999' has an exponent float64 cannot hold (e−324 to e308); {VALID}"
    )
    assert (
        problem(10**400) == f"a whole number of about 401 digits is too large for float64; {VALID}"
    )
    assert problem("1e" + "9" * 100_000).endswith(TOO_LARGE)  # never int() of the exponent
    assert problem("abc") is None  # not a number: the caller says what it expects


# ---------------------------------------------------------------- the quiz


def test_the_quiz_echoes_typed_text_without_markup_or_escapes(runner):
    typed = "[/x]\n[bold red]0.755[/bold red]\n\x1b]52;c;QUFB\x07\n0.755e-999999999999\n"
    result = runner.invoke(cli, ["quiz"], input=typed)
    assert result.exit_code == 1
    lines = result.output.splitlines()
    start = lines.index("net3 = [/x]")
    hint = ": type net3 as a number (e.g. −0.0407), ? for a hint, ! to see the answer"
    assert lines[start : start + 8] == [
        "net3 = [/x]",
        f"  '[/x]' is not a number{hint}",
        "net3 = [bold red]0.755[/bold red]",
        f"  '[bold red]0.755[/bol' is not a number{hint}",
        "net3 = \\x1b]52;c;QUFB\\x07",
        f"  '\\x1b]52;c;QUFB\\x07' is not a number{hint}",
        "net3 = 0.755e-999999999999",
        f"  '0.755e-999999999999' {TOO_SMALL}",
    ]
    assert not RAW.search(result.output)


def test_the_quiz_reads_binary_input_without_a_traceback(runner):
    result = runner.invoke(cli, ["quiz"], input=bytes(range(256)) * 4)
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit)
    assert "not text (expected UTF-8): type one answer per line" in result.output
    assert not RAW.search(result.output)


def test_a_config_name_in_the_quiz_heading_is_escaped(runner, tmp_path):
    config = tmp_path / "c.yaml"
    text = runner.invoke(cli, ["examples", "lecture"]).output
    config.write_text(re.sub(r"name: .*", lambda _: 'name: "[red]Evil\\e]0;x\\a"', text, count=1))
    result = runner.invoke(cli, ["quiz", str(config)], input="")
    asked = 2 * 3 + 2 + 3 + 2 * 6  # the lecture's net and o of 3 units, e5 and E, 3 δ, Δw, new w
    first = f"Quiz: [red]Evil\\x1b]0;x\\x07 · {asked} equations"
    assert result.output.splitlines()[0].startswith(first)


# ---------------------------------------------------------------- the class summary


def test_a_students_name_reaches_the_terminal_escaped(runner, tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    for who in ("eve", "bob"):
        path = folder / f"{who}.yaml"
        student = '"Eve\\e]52;c;SGVsbG8=\\a\\r"' if who == "eve" else "Bob"
        path.write_text(f"exercise: lecture\nstudent: {student}\nanswers:\n  o3: 0.680\n")
    result = runner.invoke(cli, ["check", "--exercise", "lecture", str(folder)])
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"{folder / 'bob.yaml'} (Bob): 1 of 23",
        f"{folder / 'eve.yaml'} (Eve\\x1b]52;c;SGVsbG8=\\x07\\x0d): 1 of 23",
        "2 files: 0 all right, 2 with a wrong or missing answer, 0 unreadable",
    ]


def test_an_unknown_key_is_echoed_escaped(runner, tmp_path):
    path = tmp_path / "a.yaml"
    path.write_text('exercise: lecture\nanswers:\n  "o3\\e[2J": 0.68\n')
    result = runner.invoke(cli, ["check", str(path)])
    assert result.exit_code == 2
    assert "\x1b" not in result.output and "answers.o3\\x1b[2J" in result.output


def test_a_long_student_name_is_cut_in_the_summary(runner, tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    for who in ("a", "b"):
        (folder / f"{who}.yaml").write_text(
            f"exercise: lecture\nstudent: {'Z' * 5000}\nanswers:\n  o3: 0.680\n"
        )
    result = runner.invoke(cli, ["check", "--exercise", "lecture", str(folder)])
    assert result.output.splitlines()[0] == f"{folder / 'a.yaml'} ({'Z' * 59}…): 1 of 23"


# ---------------------------------------------------------------- the spreadsheet


def test_formula_starts_after_spaces_and_fullwidth_stay_text(runner, tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    names = [" =HYPERLINK(1)", "＝1+1", "\t=1", "@SUM(1)", "Zoë"]
    for n, name in enumerate(names):
        (folder / f"{n}.yaml").write_text(
            f"exercise: lecture\nstudent: {json.dumps(name)}\nanswers:\n  o3: 0.680\n",
            encoding="utf-8",
        )
    grades = tmp_path / "g.csv"
    runner.invoke(cli, ["check", "--exercise", "lecture", str(folder), "--gradebook", str(grades)])
    raw = grades.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbffile,student,")  # Excel reads Zoë as UTF-8
    rows = list(csv.DictReader(grades.open(encoding="utf-8-sig")))
    # a tab, like every control character, is written as an escape: no longer a blank
    assert [r["student"] for r in rows] == [
        "' =HYPERLINK(1)",
        "'＝1+1",
        "\\x09=1",
        "'@SUM(1)",
        "Zoë",
    ]


# ---------------------------------------------------------------- markdown


def test_a_config_name_reaches_markdown_as_text(runner, tmp_path):
    config = tmp_path / "c.yaml"
    text = runner.invoke(cli, ["examples", "lecture"]).output
    text = re.sub(r"name: .*", 'name: "<script>alert(1)</script> & co"', text, count=1)
    config.write_text(text + 'description: "<img src=x onerror=alert(1)>"\n')
    result = runner.invoke(cli, ["run", str(config), "--format", "markdown"])
    assert result.exit_code == 0
    assert result.output.startswith(
        "# &lt;script&gt;alert(1)&lt;/script&gt; &amp; co\n\n&lt;img src=x onerror=alert(1)&gt;\n"
    )
    assert "<script>" not in result.output and "<img" not in result.output


def test_a_graph_name_reaches_markdown_as_text(runner, tmp_path):
    config = tmp_path / "g.yaml"
    config.write_text('name: "<b>f</b>"\nexpression: x * 2\ninputs: {x: 2}\n')
    result = runner.invoke(cli, ["run", str(config), "--format", "markdown"])
    assert result.exit_code == 0 and result.output.startswith("# &lt;b&gt;f&lt;/b&gt;\n")


# ---------------------------------------------------------------- any text at all


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(value=text(max_size=80), student=text(max_size=80))
def test_any_text_as_an_answer_or_a_name_is_a_clean_exit(runner, tmp_path, value, student):
    folder = tmp_path / "any"
    folder.mkdir(exist_ok=True)
    for old in folder.iterdir():
        old.unlink()
    for n in (1, 2):
        (folder / f"{n}.yaml").write_text(
            "exercise: lecture\n"
            f"student: {json.dumps(student)}\n"
            f"answers:\n  o3: {json.dumps(value)}\n  o4: {value if n == 1 else 0.66}\n",
            encoding="utf-8",
        )
    result = runner.invoke(cli, ["check", "--exercise", "lecture", str(folder)])
    assert result.exit_code in (0, 1, 2), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert not RAW.search(result.output), result.output


def test_visible_escapes_every_control_character():
    assert visible("Eve\x1b]52;c;x\x07\r\u202e\x9b") == "Eve\\x1b]52;c;x\\x07\\x0d\\u202e\\x9b"
    assert visible("Zoë ∂E/∂w") == "Zoë ∂E/∂w"
