"""The README and docs/ stay true: the quick start's commands, the config reference, the sample
output. (Every `$ backtrace …` example of every page is run by tests/test_docs.py.)"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from backtrace_cli.cli import cli
from backtrace_cli.network import config

ROOT = Path(__file__).resolve().parent.parent


def section(title: str, page: str = "README.md") -> str:
    text = (ROOT / page).read_text(encoding="utf-8")
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    assert match, f"{page} has no section {title!r}"
    return match.group(1)


def quick_start() -> list[str]:
    return [b.strip() for b in re.findall(r"```bash\n(.*?)```", section("Quick start"), re.S)]


def test_quick_start_is_two_commands_one_installing_and_running_one_testing():
    install, test = quick_start()
    assert "\n" not in install and "\n" not in test
    assert install.endswith("pip install . && backtrace run")
    assert test.endswith("pip install '.[test]' && pytest")


def test_ci_runs_exactly_the_readme_commands():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    commands = [
        line
        for line in ci
        if line.strip() and not line.startswith(("#", "set ", "cd "))  # the commands CI runs
    ]
    assert commands == quick_start()


def test_the_install_command_works_where_the_system_pip_refuses(tmp_path):
    """The README's first command as CI runs it (bash), on a system whose pip refuses to
    install, as Debian's and Ubuntu's do (PEP 668): the pip and the backtrace it runs are the
    new virtual environment's, never the system's.

    The real build and install are what .ci/run does, word for word, in a fresh checkout
    (test_ci_runs_exactly_the_readme_commands holds it to the README); the installed console
    script and `python -m backtrace_cli` are run by test_cli and test_files_and_messages.
    Here the environment is real (`python3 -m venv`, its own activate script) but made
    without pip, and its pip and backtrace only record that they ran: 40 s of building and
    installing a wheel that CI builds and installs anyway become a fraction of a second."""
    install = quick_start()[0]
    system = tmp_path / "system-bin"
    system.mkdir()
    refusing = "#!/bin/sh\necho 'error: externally-managed-environment' >&2\nexit 1\n"
    for name in ("pip", "pip3", "backtrace"):
        (system / name).write_text(refusing, encoding="utf-8")
        (system / name).chmod(0o755)
    log = tmp_path / "ran.log"
    # python3 makes a real virtual environment, without pip (ensurepip and a wheel build are
    # what take the time); the environment's pip and backtrace say which program ran
    recording = (
        f'#!/bin/sh\necho "$(basename "$0") $*" >> {log}\n'
        f'[ "$(basename "$0")" = backtrace ] && echo "new w45 0.872998"\nexit 0\n'
    )
    python3 = (
        "#!/bin/sh\n"
        f'[ "$1 $2" = "-m venv" ] || exec {sys._base_executable} "$@"\n'
        f'shift 2\n{sys._base_executable} -m venv --without-pip "$@" || exit 1\n'
        "for tool in pip backtrace; do\n"
        f"  printf '%s' '{recording}' > \"$1/bin/$tool\" && chmod 755 \"$1/bin/$tool\"\n"
        "done\n"
    )
    (system / "python3").write_text(python3, encoding="utf-8")
    (system / "python3").chmod(0o755)
    env = {**os.environ, "PATH": f"{system}{os.pathsep}{os.environ['PATH']}"}
    env.pop("VIRTUAL_ENV", None)
    done = subprocess.run(
        ["bash", "-c", install],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "externally-managed-environment" not in done.stderr
    assert "new w45" in done.stdout and "0.872998" in done.stdout
    assert log.read_text().splitlines() == ["pip install .", "backtrace run"]
    assert (tmp_path / ".venv" / "bin" / "activate").exists()  # the real venv's own


def test_every_config_key_is_documented():
    reference = section("The keys", "docs/config.md")
    missing = [key for key in config.KEYS if f"`{key}`" not in reference]
    assert not missing


def test_built_in_examples_table_lists_exactly_the_shipped_examples():
    listed = re.findall(r"^\| `(\w+)` \|", section("Built-in examples", "docs/config.md"), re.M)
    assert sorted(listed) == config.example_names()


def test_sample_output_is_the_current_output(runner):
    """The student's guide shows the whole of `backtrace run`, line for line."""
    reading = section("Reading a trace", "docs/student-guide.md")
    sample = re.search(r"```console\n\$ backtrace run\n(.*?)\n```", reading, re.S).group(1)
    result = runner.invoke(cli, ["run"], env={"COLUMNS": "80"})
    assert result.exit_code == 0
    assert [line.rstrip() for line in result.output.rstrip("\n").splitlines()] == [
        line.rstrip() for line in sample.splitlines()
    ], "the guide's sample is stale: regenerate it with `COLUMNS=80 backtrace run`"


def test_the_notebook_example_runs_as_written(tmp_path, monkeypatch):
    """The student's guide's Python block, executed; each call returns something that shows
    itself as markdown."""
    handing_in = section("Handing in: markdown and notebooks", "docs/student-guide.md")
    code = re.findall(r"```python\n(.*?)```", handing_in, re.S)
    assert len(code) == 1
    monkeypatch.chdir(tmp_path)
    lines = code[0].replace("\nbt.", "\n_ = bt.")  # keep each result
    namespace: dict = {}
    exec(compile(lines, "student-guide.md", "exec"), namespace)
    assert namespace["_"]._repr_markdown_().startswith("# ")


def test_homework_commands_write_their_files(runner, tmp_path, monkeypatch):
    handing_in = section("Handing in: markdown and notebooks", "docs/student-guide.md")
    commands = re.findall(r"^\$ backtrace (.*?)(?:\s+#.*)?$", handing_in, re.M)
    assert len(commands) == 2
    monkeypatch.chdir(tmp_path)
    for command in commands:
        result = runner.invoke(cli, command.split())
        assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["homework.md", "training.md"]


def test_the_students_example_file_is_checked_as_described(runner):
    first = section("A first answers file", "docs/answers.md")
    assert "$ backtrace check docs/answers-lecture.yaml\n" in first
    result = runner.invoke(cli, ["check", str(ROOT / "docs" / "answers-lecture.yaml")])
    assert result.exit_code == 1  # the one slip
    assert "12 of 23 questions" in result.output and "Unanswered (10)" in result.output
    assert "Δw subtracted" in result.output


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
