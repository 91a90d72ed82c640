"""docs/gradescope/: the `run_autograder` a teacher uploads, run by bash in a temporary folder
laid out as Gradescope lays out /autograder (source/ holding the exercise folder, submission/,
results/). Whatever a student hands in — right answers, or a link, a huge file, garbage, a
FIFO, no answers file, two — the script writes a results.json that Gradescope's documented
format accepts (tests/gradescope_results.schema.json), with the reason for a score of 0."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml
from click.testing import CliRunner
from test_gradebook import EXERCISE, solve

from backtrace_cli.cli import cli
from backtrace_cli.core.safefile import MAX_BYTES

REPO = Path(__file__).resolve().parent.parent
RECIPE = REPO / "docs" / "gradescope"
SCHEMA = json.loads((Path(__file__).parent / "gradescope_results.schema.json").read_text())
IDENT = "hw3-s5-v01"
QUESTIONS = 23  # a 2-2-1 step asked in full: 6 forward, e5 and E, 3 δ, 6 Δw and 6 new w


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    """The autograder zip's contents: the exercise folder, as `backtrace exercise` writes it."""
    root = tmp_path_factory.mktemp("zip")
    (root / "hw3.yaml").write_text(EXERCISE)
    made = CliRunner().invoke(
        cli,
        ["exercise", str(root / "hw3.yaml"), "--variants", "2", "--seed", "5",
         "-o", str(root / "exercise")],
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    return root


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(REPO), **extra)
    env.pop("COLUMNS", None)
    return env


def lay_out(source: Path, tmp_path: Path, hand_in) -> Path:
    """/autograder in tmp_path: the zip's contents in source/, the script, and the files
    `hand_in(submission)` puts in submission/."""
    root = tmp_path / "autograder"
    shutil.copytree(source, root / "source")
    shutil.copy(RECIPE / "run_autograder", root / "run_autograder")
    (root / "submission").mkdir()
    hand_in(root / "submission")
    return root


def run_autograder(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(root / "run_autograder")],
        cwd=root,  # Gradescope runs it in /autograder
        capture_output=True,
        text=True,
        timeout=120,
        env=_env(AUTOGRADER_ROOT=str(root), BACKTRACE=f"{sys.executable} -m backtrace_cli"),
        check=False,
    )


def autograde(source: Path, tmp_path: Path, hand_in) -> tuple[dict, subprocess.CompletedProcess]:
    """The recipe's run_autograder run by bash on a submission; its results.json, read."""
    root = lay_out(source, tmp_path, hand_in)
    run = run_autograder(root)
    results = root / "results" / "results.json"
    assert results.exists(), (run.stdout, run.stderr)
    data = json.loads(results.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(SCHEMA).validate(data)
    return data, run


def test_a_submission_is_marked_by_the_recipe(source, tmp_path):
    """All 13 values of the hand-worked step up to w35 answered right, the 10 other weights'
    updates not: 13 points of 23 (the recipe's POINTS, 1 a question)."""
    cfg = yaml.safe_load((source / "exercise" / "configs" / f"{IDENT}.yaml").read_text())
    values = solve(cfg)

    def hand_in(folder: Path) -> None:
        (folder / "my answers.yaml").write_text(
            yaml.safe_dump({"variant": IDENT, "student": "Ada", "answers": values})
        )

    data, run = autograde(source, tmp_path, hand_in)
    assert run.returncode == 0, run.stderr
    assert "backtrace check exited with status 1" in run.stdout  # the instructor's log
    assert len(values) == 13
    assert data["score"] == 13
    assert len(data["tests"]) == QUESTIONS
    assert sum(t["max_score"] for t in data["tests"]) == QUESTIONS
    passed = [t["name"].split(" ")[0] for t in data["tests"] if t["status"] == "passed"]
    assert sorted(passed) == sorted(values)
    assert "13 of 23 questions" in data["output"]


def _link(folder: Path) -> None:
    (folder / "answers.yaml").symlink_to("/etc/passwd")


def _huge(folder: Path) -> None:
    with open(folder / "answers.yaml", "wb") as stream:
        stream.truncate(MAX_BYTES + 1)  # sparse: the size `stat` sees, nothing to read


def _garbage(folder: Path) -> None:
    (folder / "answers.yaml").write_bytes(bytes(range(256)) * 4)


def _fifo(folder: Path) -> None:
    os.mkfifo(folder / "answers.yaml")  # reading it would hang the autograder


def _folder(folder: Path) -> None:
    (folder / "answers.yaml").mkdir()


def _other_file(folder: Path) -> None:
    (folder / "answers.txt").write_text(f"variant: {IDENT}\n")


def _two(folder: Path) -> None:
    for name in ("a.yaml", "b.yaml"):
        (folder / name).write_text(f"variant: {IDENT}\nanswers: {{net3: 0.5}}\n")


def _not_a_variant(folder: Path) -> None:
    (folder / "answers.yaml").write_text("variant: ../configs/hw3-s5-v01\nanswers: {net3: 1}\n")


def _inline_config(folder: Path) -> None:
    (folder / "answers.yaml").write_text(f"config: {{layers: [1, 1]}}\nvariant: {IDENT}\n")


HOSTILE = [
    (_link, "is a link that leads out of the folder"),
    (_huge, f"the file is {MAX_BYTES + 1:,} bytes"),
    (_garbage, "not a text file (expected UTF-8 YAML)"),
    (_fifo, "is a named pipe (FIFO), not an answers file"),
    (_folder, "is a folder, not an answers file"),
    (_other_file, "no answers files in"),
    (_two, "2 answers files (a.yaml, b.yaml); hand in one .yaml file"),
    (_not_a_variant, "is not a variant of this set"),
    (_inline_config, "a network written in the file is not marked"),
]
THROUGH_BASH = (_link, _fifo)  # the rest run the script's one command in-process: it passes
# the submission folder to `check` as it is, so what check says is what the script writes


def _zero_with_a_reason(data: dict, said: str) -> None:
    jsonschema.Draft202012Validator(SCHEMA).validate(data)
    assert data["score"] == 0 and data["tests"] == []
    assert data["output"].startswith("Your submission could not be marked:")
    assert said in data["output"].replace("&#x27;", "'"), data["output"]


@pytest.mark.parametrize(("hand_in", "said"), [c for c in HOSTILE if c[0] in THROUGH_BASH])
def test_a_hostile_submission_gets_results_that_say_why(source, tmp_path, hand_in, said):
    data, run = autograde(source, tmp_path, hand_in)
    assert run.returncode == 0, run.stderr
    assert "backtrace check exited with status 2" in run.stdout
    assert "Traceback" not in run.stdout + run.stderr
    _zero_with_a_reason(data, said)


@pytest.mark.parametrize(("hand_in", "said"), [c for c in HOSTILE if c[0] not in THROUGH_BASH])
def test_the_scripts_command_gives_every_hostile_submission_a_reason(
    source, tmp_path, hand_in, said
):
    """run_autograder's `backtrace check` line, word for word from the script (its POINTS
    and VISIBILITY filled in), run in-process on the laid-out folder."""
    root = lay_out(source, tmp_path, hand_in)
    script = (RECIPE / "run_autograder").read_text(encoding="utf-8")
    command = re.search(r"^\$backtrace (check .*?)\n(?!\s)", script, re.M | re.S).group(1)
    command = command.replace('"$POINTS"', "1").replace('"$VISIBILITY"', "visible")
    command = command.replace("$root", str(root)).replace("\\\n", " ")
    (root / "results").mkdir()
    result = CliRunner().invoke(cli, shlex.split(command))
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    _zero_with_a_reason(json.loads((root / "results" / "results.json").read_text()), said)


def test_a_broken_autograder_fails_instead_of_giving_0(source, tmp_path):
    """The teacher's mistake (no exercise folder in the zip) is no student's 0: no results,
    exit 1 (Gradescope: the autograder failed), and the reason in the instructor's log."""
    bare = tmp_path / "zip"
    bare.mkdir()

    def hand_in(folder: Path) -> None:
        (folder / "answers.yaml").write_text(f"variant: {IDENT}\nanswers: {{net3: 0.5}}\n")

    root = lay_out(bare, tmp_path, hand_in)
    run = run_autograder(root)
    assert not (root / "results" / "results.json").exists()
    assert run.returncode == 1
    assert "exited with status 2" in run.stdout and "exercise" in run.stderr


def stubs(tmp_path: Path) -> tuple[Path, Path]:
    """A PATH folder where apt-get and python3 only record that they ran (setup.sh runs on
    Gradescope's image, as root, with its network): python3 -m venv DIR makes a DIR whose
    pip and backtrace record too. The folder and the log."""
    bin_dir, log = tmp_path / "stub-bin", tmp_path / "ran.log"
    bin_dir.mkdir()
    record = f'echo "$(basename "$0") $*" >> "{log}"\n'
    tools = {
        "apt-get": record,
        "python3": record
        + 'if [ "$1 $2" = "-m venv" ]; then mkdir -p "$3/bin"\n'
        + f"  for tool in pip backtrace; do printf '#!/bin/sh\\n{record}' > \"$3/bin/$tool\"\n"
        + '  chmod +x "$3/bin/$tool"; done\nfi\n',
    }
    for name, body in tools.items():
        (bin_dir / name).write_text("#!/bin/sh\n" + body)
        (bin_dir / name).chmod(0o755)
    return bin_dir, log


def setup(root: Path, bin_dir: Path) -> subprocess.CompletedProcess:
    """The recipe's setup.sh, as Gradescope runs it: once, from the zip's contents."""
    return subprocess.run(
        ["bash", str(root / "source" / "setup.sh")],
        cwd=root, capture_output=True, text=True, timeout=60, check=False,
        env=_env(AUTOGRADER_ROOT=str(root), PATH=f"{bin_dir}:{os.environ['PATH']}"),
    )  # fmt: skip


def test_setup_installs_the_wheel_in_the_zip_where_run_autograder_looks(tmp_path):
    """setup.sh installs the zip's one wheel into the virtual environment whose backtrace
    run_autograder calls by default; a zip without a wheel stops, saying what to do."""
    for script in ("setup.sh", "run_autograder"):
        assert os.access(RECIPE / script, os.X_OK), f"{script} must be executable"
    bin_dir, log = stubs(tmp_path)
    root = tmp_path / "autograder"
    (root / "source").mkdir(parents=True)
    shutil.copy(RECIPE / "setup.sh", root / "source")
    refused = setup(root, bin_dir)
    assert refused.returncode == 1 and not log.exists()
    assert "must hold one backtrace_cli-*.whl (it holds 0)" in refused.stderr
    assert "pip wheel --no-deps path/to/backtrace -w ." in refused.stderr
    wheel = root / "source" / "backtrace_cli-0.1.0-py3-none-any.whl"
    wheel.write_bytes(b"")
    done = setup(root, bin_dir)
    assert done.returncode == 0, done.stderr
    venv = root / "venv"
    assert log.read_text().splitlines() == [
        "apt-get update",
        "apt-get install -y python3 python3-venv python3-pip",
        f"python3 -m venv {venv}",
        f"pip install {wheel}",
        "backtrace --version",
    ]
    default = "${BACKTRACE:-$root/venv/bin/backtrace}"  # where run_autograder looks
    assert default in (RECIPE / "run_autograder").read_text()
