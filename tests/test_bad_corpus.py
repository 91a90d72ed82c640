"""A corpus of malformed configs, as a teacher running a class's files in a loop would meet
them: exit 2, the expected message on one line, no traceback.

Every file is run in-process through click's CliRunner (the whole corpus takes well under a
second); a few are also run through the installed `backtrace` in its own process, to show
the real entry point's exit code and stderr are the same — the ones where a real process
could differ most: bytes that are not text, an alias bomb's memory, nesting deep enough to
reach Python's recursion limit."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_cli import backtrace_script

from backtrace_cli.cli import cli

CORPUS = Path(__file__).parent / "bad_configs"
IN_A_PROCESS = ("10_binary.yaml", "16_alias_bomb.yaml", "18_deep_nesting.yaml")


def cases() -> list[tuple[str, str]]:
    rows = (CORPUS / "EXPECTED.tsv").read_text(encoding="utf-8").splitlines()
    return [tuple(row.split("\t", 1)) for row in rows if row and not row.startswith("#")]


def test_every_file_in_the_corpus_has_an_expectation():
    listed = {name for name, _ in cases()}
    on_disk = {p.name for p in CORPUS.glob("*.yaml")}
    assert listed == on_disk
    assert len(listed) >= 60
    assert set(IN_A_PROCESS) <= listed


def assert_one_clear_line(path: Path, code: int, stdout: str, stderr: str, expected: str):
    assert code == 2, (stdout, stderr)
    assert stdout == ""
    assert "Traceback" not in stderr
    assert stderr.startswith(f"Error: {path}")
    assert expected in stderr, stderr
    assert len(stderr.strip().splitlines()) == 1  # one message, on one line


@pytest.mark.parametrize(("name", "expected"), cases(), ids=[name for name, _ in cases()])
def test_bad_config_exits_2_with_its_message(name, expected):
    result = CliRunner().invoke(cli, ["run", str(CORPUS / name)])
    # an exception click did not turn into a message would be a traceback from the script
    assert isinstance(result.exception, SystemExit), result.exc_info
    assert_one_clear_line(CORPUS / name, result.exit_code, result.stdout, result.stderr, expected)


@pytest.mark.parametrize("name", IN_A_PROCESS)
def test_the_installed_script_exits_2_with_the_same_message(name):
    expected = dict(cases())[name]
    done = subprocess.run(
        [backtrace_script(), "run", str(CORPUS / name)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,  # a hang fails here; speed is measured in benchmarks/, not by a test
    )
    assert_one_clear_line(CORPUS / name, done.returncode, done.stdout, done.stderr, expected)


def test_a_folder_given_as_config(tmp_path):
    result = CliRunner().invoke(cli, ["run", str(tmp_path)])
    assert result.exit_code == 2 and "is a folder, not a config" in result.stderr


def test_a_file_over_the_size_limit_is_refused_unopened(tmp_path, monkeypatch):
    import os

    big = tmp_path / "big.yaml"
    big.write_text("name: x\n" + "# padding\n" * 250_000)  # 2.5 MB
    real_open = os.open

    def refuse(path, *args, **kwargs):
        assert os.fspath(path) != str(big), "the file was opened: its size is known by stat"
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", refuse)
    result = CliRunner().invoke(cli, ["run", str(big)])
    assert result.exit_code == 2 and "at most 2,000,000" in result.stderr
