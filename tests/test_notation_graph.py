"""`--notation BOOK` with a computational graph: none of the books (the lecture's, nielsen,
hagan, mazur) names a graph's values, so every command that takes the option refuses it as a
usage error — exit 2, one line naming the option and what it applies to, no traceback — where
it used to be ignored without a word.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from backtrace_cli import api
from backtrace_cli.cli import cli
from backtrace_cli.core.errors import ConfigError

ANSWERS = "exercise: circuit\nanswers:\n  q: 3\n  df/dx: -4\n"


def refused(result, book: str) -> None:
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert result.output.startswith(
        f"Error: --notation {book}: a computational graph's names are its own"
    ), result.output
    assert "--notation applies to layered networks" in result.output
    assert result.output.count("\n") == 1


@pytest.mark.parametrize("book", ["lecture", "nielsen", "hagan", "mazur"])
def test_run_refuses_a_notation_for_a_graph(runner, book):
    refused(runner.invoke(cli, ["run", "circuit", "--notation", book]), book)


def test_step_refuses_a_notation_for_a_graph(runner):
    result = runner.invoke(
        cli, ["step", "chain_rule_graph", "--epochs", "2", "--notation", "hagan"]
    )
    refused(result, "hagan")


def test_quiz_refuses_a_notation_for_a_graph(runner):
    refused(
        runner.invoke(cli, ["quiz", "circuit", "--notation", "nielsen"], input="3\n"), "nielsen"
    )


def test_exercise_refuses_a_notation_for_a_graph_and_writes_nothing(runner, tmp_path):
    out = tmp_path / "sheets"
    result = runner.invoke(cli, ["exercise", "circuit", "--notation", "mazur", "-o", str(out)])
    refused(result, "mazur")
    assert not out.exists()


def test_check_refuses_a_notation_for_a_graph(runner, tmp_path):
    path = tmp_path / "answers.yaml"
    path.write_text(ANSWERS)
    refused(runner.invoke(cli, ["check", str(path), "--notation", "nielsen"]), "nielsen")
    inline = tmp_path / "inline.yaml"
    inline.write_text(
        "config:\n  nodes: {q: x + y, f: q * z}\n  inputs: {x: -2, y: 5, z: -4}\nanswers:\n  q: 3\n"
    )
    refused(runner.invoke(cli, ["check", str(inline), "--notation", "hagan"]), "hagan")


def test_check_of_a_class_refuses_a_notation_for_a_graph(runner, tmp_path):
    path = tmp_path / "answers.yaml"
    path.write_text(ANSWERS)
    args = ["check", "--exercise", "circuit", str(path), "--notation", "nielsen"]
    refused(runner.invoke(cli, args), "nielsen")
    sheets = tmp_path / "set"
    made = runner.invoke(cli, ["exercise", "circuit", "--variants", "2", "-o", str(sheets)])
    assert made.exit_code == 0, made.output
    args = ["check", "--exercises", str(sheets), str(path), "--notation", "mazur"]
    refused(runner.invoke(cli, args), "mazur")


def test_the_api_refuses_a_notation_for_a_graph():
    with pytest.raises(ConfigError, match="--notation nielsen: a computational graph's names"):
        api.trace("circuit", notation="nielsen")
    with pytest.raises(ConfigError, match="--notation hagan"):
        api.check_report({"q": 3}, "circuit", notation="hagan")


def test_a_network_still_takes_a_notation(runner):
    result = runner.invoke(cli, ["run", "lecture", "--notation", "nielsen"])
    assert result.exit_code == 0, result.output
    assert "z^2_1" in result.output


def test_a_gradebook_row_of_a_file_naming_a_graph_says_notation_is_refused(runner, tmp_path):
    # each file names its own exercise: a graph's file is its own row, the rest still marked
    graph = tmp_path / "graph.yaml"
    graph.write_text(ANSWERS)
    network = tmp_path / "network.yaml"
    network.write_text("exercise: lecture\nanswers:\n  z^2_1: 0.755\n")
    book = tmp_path / "g.csv"
    args = ["check", str(graph), str(network), "--gradebook", str(book), "--notation", "nielsen"]
    result = runner.invoke(cli, args)
    assert result.exit_code == 2, result.output
    rows = {
        Path(r["file"]).name: r
        for r in csv.DictReader(book.read_text(encoding="utf-8-sig").splitlines())
    }
    assert "--notation nielsen: a computational graph's names" in rows["graph.yaml"]["error"]
    assert rows["network.yaml"]["z^2_1"] == "right"
