"""A corpus of malformed configs, each run through the installed `backtrace` in its own
process, as a teacher running a class's files in a loop would: exit 2, the expected message,
no traceback, within a few seconds."""

from __future__ import annotations

import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from test_cli import backtrace_script

CORPUS = Path(__file__).parent / "bad_configs"


def cases() -> list[tuple[str, str]]:
    rows = (CORPUS / "EXPECTED.tsv").read_text(encoding="utf-8").splitlines()
    return [tuple(row.split("\t", 1)) for row in rows if row and not row.startswith("#")]


def test_every_file_in_the_corpus_has_an_expectation():
    listed = {name for name, _ in cases()}
    on_disk = {p.name for p in CORPUS.glob("*.yaml")}
    assert listed == on_disk
    assert len(listed) >= 60


def run(name: str) -> tuple[subprocess.CompletedProcess[str], float]:
    start = time.perf_counter()
    done = subprocess.run(
        [backtrace_script(), "run", str(CORPUS / name)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    return done, time.perf_counter() - start


@pytest.fixture(scope="module")
def results() -> dict[str, tuple[subprocess.CompletedProcess[str], float]]:
    with ThreadPoolExecutor(4) as pool:
        names = [name for name, _ in cases()]
        return dict(zip(names, pool.map(run, names)))


@pytest.mark.parametrize(("name", "expected"), cases(), ids=[name for name, _ in cases()])
def test_bad_config_exits_2_with_its_message(results, name, expected):
    done, seconds = results[name]
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert done.stdout == ""
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith(f"Error: {CORPUS / name}")
    assert expected in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1  # one message, on one line
    assert seconds < 5, f"{name} took {seconds:.1f} s"


def test_a_folder_given_as_config(tmp_path):
    done = subprocess.run(
        [backtrace_script(), "run", str(tmp_path)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 2 and "is a folder, not a config" in done.stderr


def test_a_file_over_the_size_limit_is_refused_quickly(tmp_path):
    big = tmp_path / "big.yaml"
    big.write_text("name: x\n" + "# padding\n" * 250_000)  # 2.5 MB
    start = time.perf_counter()
    done = subprocess.run(
        [backtrace_script(), "run", str(big)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 2 and "at most 2,000,000" in done.stderr
    assert time.perf_counter() - start < 5
