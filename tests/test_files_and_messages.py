"""Files a web folder can publish, errors that repeat nothing long, the package's own name."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from backtrace_cli import __version__
from backtrace_cli.cli import cli


@pytest.fixture
def umask():
    """Set the process umask for one test, and put the old one back."""
    old = os.umask(0o022)
    yield os.umask
    os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# what `open(path, "w")` creates under a umask: 0666 with the umask's bits cleared
@pytest.mark.parametrize(("mask", "expected"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_written_files_follow_the_umask(runner, tmp_path, umask, mask, expected):
    umask(mask)
    assert runner.invoke(cli, ["run", "-o", str(tmp_path / "hw.md")]).exit_code == 0
    saved = tmp_path / "net.yaml"
    assert runner.invoke(cli, ["step", "-n", "2", "--save", str(saved)]).exit_code == 0
    folder = tmp_path / "sheets"
    result = runner.invoke(cli, ["exercise", "lecture", "--variants", "1", "-o", str(folder)])
    assert result.exit_code == 0
    sheets = [p for p in folder.rglob("*") if p.is_file()]
    written = [tmp_path / "hw.md", saved, *sheets]
    assert len(sheets) >= 4  # question sheet, key, config, index
    assert {str(p): mode(p) for p in written} == {str(p): expected for p in written}
    folders = [folder, *(p for p in folder.rglob("*") if p.is_dir())]
    assert {str(p): mode(p) for p in folders} == {str(p): 0o777 & ~mask for p in folders}


@pytest.mark.parametrize("kept", [0o640, 0o604, 0o600])
def test_force_keeps_the_overwritten_files_mode(runner, tmp_path, umask, kept):
    umask(0o022)
    target = tmp_path / "hw.md"
    target.write_text("old\n", encoding="utf-8")
    target.chmod(kept)
    assert runner.invoke(cli, ["run", "-o", str(target), "--force"]).exit_code == 0
    assert target.read_text(encoding="utf-8").startswith("# ")  # new content, atomically
    assert mode(target) == kept
    assert [p.name for p in tmp_path.iterdir()] == ["hw.md"]  # no temporary file left


SECRET = "grading-server token = s3cr3t-7f2a hunter2"
NOTES = f"Notes for Tuesday\nRemember the exam is in room 4\n{SECRET}\nbring a calculator\n"


@pytest.mark.parametrize(
    "text",
    [
        NOTES,  # prose
        f"{SECRET}\n",  # one line
        f"note: {SECRET}\n",  # reads as a mapping
        f"{SECRET}: 1\n",  # the secret as a key
        f"- {SECRET}\n- more\n",  # reads as a list
        f"notes: [{SECRET}\n",  # not valid YAML
    ],
    ids=["prose", "one-line", "mapping", "key", "list", "broken"],
)
def test_a_text_file_given_by_mistake_is_never_echoed(runner, tmp_path, text):
    notes = tmp_path / "notes.txt"
    notes.write_text(text, encoding="utf-8")
    sub = tmp_path / "student"
    sub.mkdir()
    answers = sub / "answers.yaml"
    answers.write_text("exercise: ../notes.txt\nanswers:\n  o3: 0.68\n", encoding="utf-8")
    runs = [
        ["run", str(notes)],
        ["run", str(notes), "--format", "json"],
        ["step", str(notes)],
        ["exercise", str(notes), "-o", str(tmp_path / "out")],
        ["check", str(notes)],
        ["check", str(answers)],
    ]
    secret_part = "s3cr3t"
    for args in runs:
        result = runner.invoke(cli, args)
        assert result.exit_code == 2, (args, result.output)
        assert result.output.startswith("Error: "), (args, result.output)
        assert secret_part not in result.output, (args, result.output)
        assert "Traceback" not in result.output


LONG = "sigmoid" + "x" * 200  # a value as long as a paragraph
NET = (
    "layers: [2, 1]\nactivation: sigmoid\nlearning_rate: 1\ninputs: [1, 2]\ntargets: [1]\n"
    "weights: {w13: 0.1, w23: 0.2}\n"
)


@pytest.mark.parametrize(
    ("text", "field"),
    [
        (NET.replace("activation: sigmoid", f"activation: {LONG}"), "activation"),
        (NET.replace("[2, 1]", f"[2, '{LONG}']"), "layers[1]"),
        (NET + f"{LONG}: 1\n", None),
        (NET.replace("learning_rate: 1", f"learning_rate: !{LONG} 1"), "learning_rate"),
    ],
    ids=["value", "item", "key", "tag"],
)
def test_a_long_value_is_quoted_cut_to_60_characters(runner, tmp_path, text, field):
    path = tmp_path / "net.yaml"
    path.write_text(text, encoding="utf-8")
    result = runner.invoke(cli, ["run", str(path)])
    assert result.exit_code == 2
    quoted = re.findall(r"!?sigmoidx*…", result.output)
    assert [len(q) for q in quoted] == [60]  # one piece, cut with … to 60 characters
    if field:
        assert f", {field}: " in result.output


def test_an_answer_that_is_a_paragraph_is_cut(runner, tmp_path):
    answers = tmp_path / "answers.yaml"
    answers.write_text(f"exercise: lecture\nanswers:\n  o3: {LONG}\n", encoding="utf-8")
    result = runner.invoke(cli, ["check", str(answers)])
    assert result.exit_code == 2
    assert f"answers.o3: '{LONG[:59]}…' is not a number" in result.output


def test_an_integer_too_long_for_python_is_a_message_not_a_traceback(runner, tmp_path):
    path = tmp_path / "net.yaml"
    path.write_text("layers: [2, " + "9" * 5000 + "]\n", encoding="utf-8")
    result = runner.invoke(cli, ["run", str(path)])
    assert result.exit_code == 2
    assert result.output == (
        f"Error: {path}, line 1, column 13, layers[1]: a whole number of 5,000 digits; "
        "no field takes one\n"
    )


def test_python_dash_m_backtrace_cli_is_the_command():
    done = subprocess.run(
        [sys.executable, "-m", "backtrace_cli", "--version"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert (done.returncode, done.stdout) == (0, f"backtrace, version {__version__}\n")
    done = subprocess.run(
        [sys.executable, "-m", "backtrace_cli", "run", "--format", "json"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0 and '"backtrace-trace"' in done.stdout


def test_the_distribution_is_named_backtrace_cli():
    from importlib.metadata import distribution

    dist = distribution("backtrace-cli")  # what `pip show backtrace-cli` reads
    assert dist.entry_points.select(group="console_scripts", name="backtrace")
