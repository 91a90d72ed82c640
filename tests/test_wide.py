"""Wide networks cost what they show: long tables laid out line by line, a compact JSON summary.

Speed itself is measured by benchmarks/wide.py, never here."""

from __future__ import annotations

import json

import numpy as np
import pytest

from backtrace_cli.cli import cli
from backtrace_cli.render import table


@pytest.mark.parametrize("example", ["mazur", "lecture_dropout", "lecture"])
def test_long_tables_are_laid_out_as_rich_lays_out_short_ones(runner, monkeypatch, example):
    """Every section through the line-by-line layout (as --full's 200,000-row sections go)
    reads as rich's Table lays it out at 80 columns, line for line; at 60 it still fits
    (rich narrows columns by its own rule there, which this layout only approximates)."""
    by_rich = runner.invoke(cli, ["run", example], env={"COLUMNS": "80"})
    monkeypatch.setattr(table, "LONG_TABLE", 0)
    by_lines = runner.invoke(cli, ["run", example], env={"COLUMNS": "80"})
    assert by_rich.exit_code == by_lines.exit_code == 0
    assert [line.rstrip() for line in by_lines.output.splitlines()] == [
        line.rstrip() for line in by_rich.output.splitlines()
    ]
    narrow = runner.invoke(cli, ["run", example], env={"COLUMNS": "60"}).output
    assert max(len(line.rstrip()) for line in narrow.splitlines()) <= 60


WIDE = (
    "layers: [40, 30, 3]\nactivation: sigmoid\nlearning_rate: 0.5\n"
    f"inputs: {[round(0.025 * i, 3) for i in range(40)]}\ntargets: [0, 1, 0]\n"
    "weights: {init: glorot_uniform, seed: 5}\nbiases: {init: uniform, seed: 2}\n"
)


def test_json_of_a_wide_network_has_every_matrix_and_names_what_moved_most(runner, tmp_path):
    path = tmp_path / "wide.yaml"
    path.write_text(WIDE.replace("biases: {init: uniform, seed: 2}\n", ""), encoding="utf-8")
    result = runner.invoke(cli, ["run", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    layers = document["steps"][0]["layers"]
    shapes = [
        np.array(layer[key]).shape
        for layer in layers
        for key in ("weights_before", "weights_after")
    ]
    assert shapes == [(30, 40), (30, 40), (3, 30), (3, 30)]  # the contract's matrices, whole
    summary = document["summary"]
    assert summary["parameter_count"] == 40 * 30 + 30 * 3
    updates = [e for e in document["steps"][0]["equations"] if e["symbol"].startswith("Δw")]
    assert 0 < len(updates) < 100  # as the tables show them: the arrays hold every value
    # the 24 that moved most, found here from the matrices: w{i}_{j}, units numbered 1…73
    moves = {}
    for k, layer in enumerate(layers):
        first_below, first = (1, 41) if k == 0 else (41, 71)
        change = np.array(layer["weights_after"]) - np.array(layer["weights_before"])
        for j, i in np.ndindex(change.shape):
            moves[f"w{first_below + i}_{first + j}"] = abs(change[j, i])
    largest = sorted(moves, key=moves.get, reverse=True)[:24]
    assert sorted(summary["parameters"]) == sorted(largest)
    for name, pair in summary["parameters"].items():
        assert abs(pair["after"] - pair["before"]) == pytest.approx(moves[name], abs=1e-15)


def test_a_small_networks_summary_names_every_parameter(runner):
    document = json.loads(runner.invoke(cli, ["run", "--format", "json"]).output)
    assert sorted(document["summary"]["parameters"]) == ["w13", "w14", "w23", "w24", "w35", "w45"]
    assert document["summary"]["parameter_count"] == 6
    updates = [e["symbol"] for e in document["steps"][0]["equations"] if e["symbol"][:2] == "Δw"]
    assert sorted(updates) == ["Δw13", "Δw14", "Δw23", "Δw24", "Δw35", "Δw45"]


def test_the_json_writes_a_matrix_row_on_one_line(runner):
    text = runner.invoke(cli, ["run", "--format", "json"]).output
    assert '"weights_before": [\n' in text and "\n            [0.1, 0.8],\n" in text
