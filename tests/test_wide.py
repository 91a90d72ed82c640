"""Wide networks cost what they show: long tables laid out line by line, a compact JSON summary.

Speed itself is measured by benchmarks/wide.py, never here."""

from __future__ import annotations

import gc
import json

import numpy as np
import pytest
import yaml

from backtrace_cli import api
from backtrace_cli.cli import cli, options
from backtrace_cli.render import table
from backtrace_cli.worked import Elided, Equation


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


def _weight(i: int, j: int) -> str:
    """The weight from unit i to unit j, as the notes name it: w36; past unit 9 w9_12."""
    return f"w{i}{j}" if i <= 9 and j <= 9 else f"w{i}_{j}"


def _hand_sized(layers: list[int], **extra: object) -> dict:
    """A network of `layers`, tanh then softmax with cross-entropy, biases, one sample."""
    units = sum(layers)
    return {
        "name": "hand-sized",
        "layers": layers,
        "activations": ["tanh"] * (len(layers) - 2) + ["softmax"],
        "loss": "cross_entropy",
        "learning_rate": 0.1,
        "inputs": [round(0.1 * (i + 1), 1) for i in range(layers[0])],
        "targets": [1] + [0] * (layers[-1] - 1),
        "weights": {"init": "glorot_uniform", "seed": 3},
        "biases": {f"b{u}": 0.1 for u in range(layers[0] + 1, units + 1)},
        **extra,
    }


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_a_three_unit_output_layers_updates_are_written_in_full(runner, tmp_path, optimizer):
    """Issue 27: the 2-3-3 homework's output updates were cut to "… 4 more: weights into
    units 6–8" in the terminal and in -o homework.md; a layer of up to four units is whole."""
    layers = [2, 3, 3]
    path = tmp_path / "net.yaml"
    path.write_text(yaml.safe_dump(_hand_sized(layers, optimizer=optimizer)), encoding="utf-8")
    hidden, outputs = range(3, 6), range(6, 9)  # units numbered inputs first: 1–2, 3–5, 6–8
    expected = [f"new {_weight(i, j)}" for j in outputs for i in hidden]
    expected += [f"new {_weight(i, j)}" for j in hidden for i in range(1, 3)]
    terminal = runner.invoke(cli, ["run", str(path)], env={"COLUMNS": "80"})
    assert terminal.exit_code == 0, terminal.output
    homework = tmp_path / "homework.md"
    written = runner.invoke(cli, ["run", str(path), "-o", str(homework)])
    assert written.exit_code == 0, written.output
    markdown = homework.read_text(encoding="utf-8")
    for text in (terminal.output, markdown):
        assert "more:" not in text and "--full" not in text
    rows = [line.split()[0:2] for line in terminal.output.splitlines() if line.startswith("new w")]
    assert [" ".join(row) for row in rows] == expected  # each once, in the network's order
    # markdown writes each new weight as w^{new}_{ij}: every one of them is there
    for name in expected:
        i, j = name[5:].split("_") if "_" in name else (name[5], name[6:])
        assert f"w_{{{i}{j}}}^{{\\text{{new}}}}" in markdown, name


def test_every_section_of_a_network_of_four_unit_layers_is_written_whole():
    """A layer of up to four units is written in full in every section kind: forward,
    dropout, error, δ (the softmax's whole Jacobian too), weight and bias updates with
    an optimizer's state lines, batch mode's sums over the samples."""
    layers = [4, 4, 4]
    samples = [
        {
            "inputs": [0.1 * (s + 1), 0.2, -0.3, 0.4],
            "targets": [1 if k == s else 0 for k in range(4)],
        }
        for s in range(4)
    ]
    configs = [
        _hand_sized(layers, optimizer="adam", dropout={"rate": 0.5, "seed": 1}),
        {**_hand_sized(layers, optimizer="rmsprop"), "mode": "batch", "samples": samples},
    ]
    for data in configs:
        if "samples" in data:
            del data["inputs"], data["targets"]
        for gradients in (None, True):
            records = api.trace(data, gradients=gradients).records
            kinds = set()
            for step in records.steps:
                for section in step.sections:
                    kinds.add(section.kind)
                    assert not [r for r in section.rows if isinstance(r, Elided)], section.title
            assert {"forward", "error", "delta", "update"} <= kinds
    updates = [
        row.symbol
        for step in api.trace(configs[0]).records.steps
        for section in step.sections
        if section.kind == "update"
        for row in section.rows
        if row.symbol.startswith("new w")
    ]
    expected = {f"new {_weight(i, j)}" for i in range(1, 5) for j in range(5, 9)}
    expected |= {f"new {_weight(i, j)}" for i in range(5, 9) for j in range(9, 13)}
    assert sorted(updates) == sorted(expected)


@pytest.mark.parametrize(
    ("layers", "layer", "whole"),
    [([2, 6, 1], 1, True), ([6, 1, 1], 1, True), ([2, 7, 1], 1, False), ([8, 2, 1], 1, False)],
)
def test_a_wide_layers_updates_are_still_summarised(layers, layer, whole):
    """A layer whose forward pass writes every unit and every term writes every weight's
    update; seven units into a layer, or eight into each of its units, are summarised."""
    data = _hand_sized(layers)
    data["activations"] = ["sigmoid"] * (len(layers) - 1)
    data["loss"] = "half_sse"
    data["targets"] = [0.5] * layers[-1]
    sections = api.trace(data).records.steps[0].sections
    update = next(s for s in sections if s.kind == "update" and s.layer == layer)
    shown = [r for r in update.rows if isinstance(r, Equation) and r.symbol.startswith("new w")]
    elided = [r for r in update.rows if isinstance(r, Elided)]
    assert (len(shown) == layers[layer - 1] * layers[layer]) == whole
    assert bool(elided) != whole
    assert len(shown) + sum(r.count for r in elided) == layers[layer - 1] * layers[layer]


@pytest.mark.parametrize("command", [["run"], ["step", "-n", "3", "--trace", "2"]])
def test_a_run_leaves_the_cycle_collector_as_it_found_it(runner, command):
    """`run` and `step` pause Python's cycle collector while they build the trace (two million
    objects for --full on 784-256-10, none in a cycle): on or off, it is as it was afterwards."""
    assert gc.isenabled()
    assert runner.invoke(cli, command).exit_code == 0
    assert gc.isenabled()
    gc.disable()
    try:
        assert runner.invoke(cli, command).exit_code == 0
        assert not gc.isenabled()
    finally:
        gc.enable()
    # a bad config stops the build: the collector is back on all the same
    assert runner.invoke(cli, [command[0], "no-such-example"]).exit_code == 2
    assert gc.isenabled()


def test_only_a_large_trace_is_set_aside_from_the_collector(runner, monkeypatch):
    """A trace past SET_ASIDE objects is frozen once built (the collector never walks it
    again); the lecture's is far below, and is collected as usual."""
    before = gc.get_freeze_count()
    assert runner.invoke(cli, ["run"]).exit_code == 0
    assert gc.get_freeze_count() == before
    monkeypatch.setattr(options, "SET_ASIDE", 0)
    try:
        assert runner.invoke(cli, ["run"]).exit_code == 0
        assert gc.get_freeze_count() > before
    finally:
        gc.unfreeze()


def test_a_long_tables_rows_with_a_combining_mark_line_up_on_screen(runner, tmp_path):
    """m̂_w13 is five columns on screen and six characters: a long table (a 2-60-1 network's
    hidden Adam update, 1,260 rows) pads it, and a formula with m̂ and v̂, by the width it
    shows, so every row ends at the rule's width, as rich pads a short table's."""
    import unicodedata

    config = tmp_path / "wide_adam.yaml"
    config.write_text(
        "layers: [2, 60, 1]\nactivation: sigmoid\nloss: half_sse\nlearning_rate: 0.1\n"
        "optimizer: {name: adam}\ninputs: [0.35, 0.9]\ntargets: [0.5]\n"
        "weights: {init: glorot_uniform, seed: 1}\n"
    )
    out = runner.invoke(cli, ["run", str(config), "--full"], env={"COLUMNS": "100"}).output
    lines = out.splitlines()
    start = lines.index("Updates · hidden layer 1")
    rule = next(n for n in range(start, len(lines)) if set(lines[n]) == {"─"})
    rows = [line for line in lines[rule + 1 : rule + 421] if line.startswith(("m̂", "v̂", "Δ"))]
    assert len(rows) == 180  # m̂, v̂ and Δ of the first 60 parameters, seven rows each

    def shown(line: str) -> int:
        return sum(not unicodedata.combining(ch) for ch in line.rstrip())

    assert {shown(line) for line in rows} == {len(lines[rule])}
