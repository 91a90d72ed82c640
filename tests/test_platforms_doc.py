"""docs/platforms.md runs as written: its commands, in order, in a fresh folder, as bash runs
them (`backtrace` being this checkout), from the variants to the autograder zip; the zip laid
out as Gradescope lays out /autograder, its setup.sh and run_autograder run; the gradebook
commands writing the headers the page shows. The marks are derived here from the variant's
config. `pip wheel` (hatchling from PyPI: a network) only writes the wheel's name here."""

from __future__ import annotations

import csv
import json
import math
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import jsonschema
import yaml
from test_gradescope_recipe import setup, stubs

from backtrace_cli import __version__

REPO = Path(__file__).resolve().parent.parent
PAGE = (REPO / "docs" / "platforms.md").read_text(encoding="utf-8")
SCHEMA = json.loads((Path(__file__).parent / "gradescope_results.schema.json").read_text())
STEP = 23  # the lecture's 2-2-1 step: 6 forward, e5 and E, 3 δ, 6 Δw, 6 new w


def section(title: str) -> str:
    match = re.search(rf"^{re.escape(title)}\n(.*?)(?=^#{{1,{title.count('#')}}} |\Z)", PAGE,
                      re.S | re.M)  # fmt: skip
    assert match, f"docs/platforms.md has no section {title!r}"
    return match.group(1)


def blocks(text: str, language: str) -> list[str]:
    """The fenced blocks of `text` in this language ("": the plain ones)."""
    fenced = re.findall(r"^```(\w*)\n(.*?)^```$", text, re.S | re.M)
    return [body for lang, body in fenced if lang == language]


def bash(script: str, cwd: Path, **env: str) -> subprocess.CompletedProcess:
    """A block of the page, run by bash with `backtrace` this checkout's."""
    wheel = f"backtrace_cli-{__version__}-py3-none-any.whl"
    prelude = (
        f'set -e\nbacktrace() {{ "{sys.executable}" -m backtrace_cli "$@"; }}\n'
        # `pip wheel --no-deps CHECKOUT -w DIR`: the wheel's file, named as pip names it
        f'pip() {{ [ "$1 $2 $3 $4" = "wheel --no-deps {REPO} -w" ] && : > "$5/{wheel}"; }}\n'
    )
    run = subprocess.run(
        ["bash", "-c", prelude + script.replace("path/to/backtrace", str(REPO))],
        cwd=cwd, capture_output=True, text=True, timeout=300, check=False,
        env=dict(os.environ, PYTHONPATH=str(REPO), **env),
    )  # fmt: skip
    return run


def by_hand(config: dict) -> dict[str, float]:
    """net3 and o3 of a variant, from its config: w13·x1 + w23·x2 and its sigmoid."""
    (x1, x2), w = config["inputs"], config["weights"]
    net3 = w["w13"] * x1 + w["w23"] * x2
    return {"net3": net3, "o3": 1 / (1 + math.exp(-net3))}


def test_the_gradescope_recipe_runs_as_written(tmp_path):
    page = section("## Gradescope")
    write, pack, try_it = blocks(page, "bash")
    (answers,) = blocks(page, "yaml")
    for block in (write, pack):
        run = bash(block, tmp_path)
        assert run.returncode == 0, run.stderr
    # the documented answers file is right for the variant it names, to the digits it gives
    sheet = yaml.safe_load(answers)
    config = yaml.safe_load(
        (tmp_path / "exercise/configs" / f"{sheet['variant']}.yaml").read_text()
    )
    for name, value in by_hand(config).items():
        assert math.isclose(sheet["answers"][name], value, abs_tol=5e-5), name
    (tmp_path / "answers.yaml").write_text(answers)
    run = bash(try_it, tmp_path)  # --points delta=2: the 3 δ count 2
    assert run.returncode == 1, run.stderr  # 2 of 23 answered
    tried = json.loads(run.stdout)
    jsonschema.validate(tried, SCHEMA)
    assert tried["score"] == 2 and sum(t["max_score"] for t in tried["tests"]) == STEP + 3
    # the zip: the two scripts, the wheel and the exercise folder at its root
    with zipfile.ZipFile(tmp_path / "autograder.zip") as archive:
        names = set(archive.namelist())
        wheel = f"backtrace_cli-{__version__}-py3-none-any.whl"
        assert {"setup.sh", "run_autograder", wheel, "exercise/exercise.json"} <= names
        root = tmp_path / "autograder"
        archive.extractall(root / "source")
    bin_dir, log = stubs(tmp_path)
    built = setup(root, bin_dir)
    assert built.returncode == 0, built.stderr
    assert f"pip install {root / 'source' / wheel}" in log.read_text()
    (root / "submission").mkdir()
    (root / "submission" / "answers.yaml").write_text(answers)
    run = subprocess.run(
        ["bash", str(root / "source" / "run_autograder")],  # Gradescope copies it up a level
        cwd=root, capture_output=True, text=True, timeout=120, check=False,
        env=dict(os.environ, PYTHONPATH=str(REPO), AUTOGRADER_ROOT=str(root),
                 BACKTRACE=f"{sys.executable} -m backtrace_cli"),
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    jsonschema.validate(results, SCHEMA)
    assert results["score"] == 2 and len(results["tests"]) == STEP  # POINTS="1": 1 each


def test_the_gradebook_imports_run_as_written(tmp_path):
    page = section("## Gradebook import")
    canvas, moodle = section("### Canvas"), section("### Moodle")
    run = bash(blocks(section("## Gradescope"), "bash")[0], tmp_path)  # the variants
    assert run.returncode == 0, run.stderr
    (tmp_path / "exercise").rename(tmp_path / "homework3")
    (tmp_path / "answers").mkdir()
    sheet = yaml.safe_load(blocks(section("## Gradescope"), "yaml")[0])
    sheet["student"] = "ada@uni.example"  # as the page tells the class
    (tmp_path / "answers" / "ada.yaml").write_text(yaml.safe_dump(sheet))
    assert "student: ada@uni.example" in page
    for text, name in ((canvas, "canvas.csv"), (moodle, "moodle.csv")):
        (command,) = blocks(text, "bash")
        run = bash(command, tmp_path)
        assert run.returncode == 1, run.stderr  # 2 of 23 answered
        (shown,) = blocks(text, "")
        with (tmp_path / name).open(encoding="utf-8-sig", newline="") as stream:
            written = list(csv.reader(stream))
        documented = list(csv.reader(shown.splitlines()))
        assert written[0] == documented[0]  # the header the platform reads
        assert written[-1][0] == documented[-1][0] == "ada@uni.example"
        assert written[-1][-1 if name == "canvas.csv" else 1] == "2"  # net3 and o3
    points_possible = list(csv.reader(blocks(canvas, "")[0].splitlines()))[1]
    assert points_possible == ["Points Possible", "", "", "", "", str(STEP)]
