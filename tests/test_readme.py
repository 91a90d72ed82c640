"""The README stays true: its commands, its config reference and its sample output."""

from __future__ import annotations

import re
from pathlib import Path

from backtrace_cli import config
from backtrace_cli.cli import cli

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def section(title: str) -> str:
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## )", README, re.S | re.M)
    assert match, f"README has no section {title!r}"
    return match.group(1)


def test_quick_start_is_exactly_two_commands():
    blocks = re.findall(r"```bash\n(.*?)```", section("Quick start"), re.S)
    assert [b.strip() for b in blocks] == [
        "pip install . && backtrace run",
        "pip install '.[test]' && pytest",
    ]


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "\npip install '.[test]' && pytest\n" in ci


def test_every_config_key_is_documented():
    reference = section("Config reference")
    missing = [key for key in config.KEYS if f"`{key}`" not in reference]
    assert not missing


def test_built_in_examples_table_lists_exactly_the_shipped_examples():
    listed = re.findall(r"^\| `(\w+)` \|", section("Built-in examples"), re.M)
    assert sorted(listed) == config.example_names()


def test_sample_output_is_the_current_output(runner):
    sample = re.search(r"```text\n(.*?)\n```", section("What you see"), re.S).group(1)
    result = runner.invoke(cli, ["run"], env={"COLUMNS": "80"})
    assert result.exit_code == 0
    assert [line.rstrip() for line in result.output.rstrip("\n").splitlines()] == [
        line.rstrip() for line in sample.splitlines()
    ], "README sample is stale: regenerate it with `COLUMNS=80 backtrace run`"


def test_the_notebook_example_runs_as_written(tmp_path, monkeypatch):
    """The Homework export section's Python block, executed; each call returns something
    that shows itself as markdown."""
    code = re.findall(r"```python\n(.*?)```", section("Homework export"), re.S)
    assert len(code) == 1
    monkeypatch.chdir(tmp_path)
    lines = code[0].replace("\nbt.", "\n_ = bt.")  # keep each result
    namespace: dict = {}
    exec(compile(lines, "README.md", "exec"), namespace)
    assert namespace["_"]._repr_markdown_().startswith("# ")


def test_homework_commands_write_their_files(runner, tmp_path, monkeypatch):
    commands = re.findall(r"^backtrace (.*?)(?:\s+#.*)?$", section("Homework export"), re.M)
    assert len(commands) == 2
    monkeypatch.chdir(tmp_path)
    for command in commands:
        result = runner.invoke(cli, command.split())
        assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["homework.md", "training.md"]


def test_the_students_example_file_is_checked_as_described(runner):
    command = re.findall(r"```bash\n(.*?)```", section("For students: check your answers"), re.S)
    assert [c.strip() for c in command] == ["backtrace check docs/answers-lecture.yaml"]
    result = runner.invoke(cli, ["check", str(ROOT / "docs" / "answers-lecture.yaml")])
    assert result.exit_code == 1  # the one slip
    assert "12 of 23 questions" in result.output and "Unanswered (10)" in result.output
    assert "Δw added with the wrong sign" in result.output


def test_the_teachers_example_folder_is_what_the_command_writes(runner, tmp_path):
    result = runner.invoke(
        cli, ["exercise", "lecture", "--variants", "2", "--seed", "7", "-o", str(tmp_path)]
    )
    assert result.exit_code == 0
    committed = ROOT / "docs" / "exercise-lecture"
    names = sorted(str(p.relative_to(committed)) for p in committed.rglob("*") if p.is_file())
    assert names == sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    for name in names:
        assert (committed / name).read_text() == (tmp_path / name).read_text(), (
            f"docs/exercise-lecture/{name} is stale: backtrace exercise lecture --variants 2 "
            "--seed 7 -o docs/exercise-lecture --force"
        )
