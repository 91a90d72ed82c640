"""A computational graph's homework set does what a network's does: fair variants, sheets that
say `variant: <id>`, an exercise.json, `--ask`, a value band, and a class marked in one command.

Every expectation for circuit (q = x + y, f = q·z) is derived here from the drawn inputs."""

from __future__ import annotations

import csv
import json

import pytest
import yaml

from backtrace_cli import api
from backtrace_cli.cli import cli
from backtrace_cli.graph import config as graph
from backtrace_cli.teach.exercise import Rules, Values, variants


def circuit_values(x: float, y: float, z: float) -> dict[str, float]:
    """Every quantity circuit asks, by the chain rule, in its sheet's order: the nodes q = x + y
    and f = q·z; then backward from f, whose multiply gate swaps (∂f/∂q = z, ∂f/∂z = q), and
    through q, whose add gate hands ∂f/∂q to x and y. Not asked: the chain rule's factors
    (∂f/∂f = 1 and the local gradients ∂q/∂x = ∂q/∂y = 1)."""
    q = x + y
    return {"q": q, "f": q * z, "df/dq": z, "df/dz": q, "df/dx": z, "df/dy": z}


ASKED = list(circuit_values(-2, 5, -4))  # the names alone (CS231n's inputs)


# ---------------------------------------------------------------- fair variants


@pytest.mark.parametrize("seed", range(20))
def test_circuit_variants_have_no_zero_value_or_gradient_and_no_input_of_0_or_1(seed):
    """With q = 0, f and ∂f/∂z are 0 whatever the student multiplied (seed 5's v03 and v20
    were such); an input of ±1 hides a multiply gate left unswapped."""
    spec = api.load("circuit")
    for v in variants(spec, 25, seed, Rules(Values(), 0.001), "circuit").variants:
        inputs = dict(v.spec.inputs)
        assert all(abs(value) not in (0, 1) for value in inputs.values()), v.ident
        values = circuit_values(inputs["x"], inputs["y"], inputs["z"])
        assert all(abs(value) > 1e-9 for value in values.values()), (v.ident, values)


def _three(value: float) -> str:
    return f"{value:.3g}"


@pytest.mark.parametrize("seed", range(6))
def test_no_variant_hides_a_multiply_gate_not_swapped(seed):
    """A slip must change some answer. In circuit the multiply gate f = q·z is its only one:
    not swapped, ∂f/∂q = q (right: z) and ∂f/∂z = z (right: q) — both right when q and z
    agree at 3 s.f. (seed 0's v14: 0.3 + 0.2 = 0.5 = z). In chain_rule_graph, wx = w·x:
    ∂loss/∂w = ∂loss/∂wx·w instead of ·x, right when w = x; in neuron_circuit both gates
    w0·x0 and w1·x1 must not have equal inputs at once."""
    for v in variants(api.load("circuit"), 25, seed, Rules(), "circuit").variants:
        x, y, z = (dict(v.spec.inputs)[k] for k in "xyz")
        assert _three(x + y) != _three(z), (v.ident, x, y, z)
    for v in variants(api.load("chain_rule_graph"), 25, seed, Rules(), "chain").variants:
        inputs = dict(v.spec.inputs)
        assert _three(inputs["w"]) != _three(inputs["x"]), (v.ident, inputs)
    for v in variants(api.load("neuron_circuit"), 25, seed, Rules(), "neuron").variants:
        inputs = dict(v.spec.inputs)
        assert inputs["w0"] != inputs["x0"] or inputs["w1"] != inputs["x1"], (v.ident, inputs)


def test_a_routing_gate_may_still_send_a_gradient_of_0():
    """relu off passes nothing back, by design (as a network's unit switched off): such draws
    are kept, and every other gradient is still not 0."""
    spec = graph.from_dict({"nodes": {"r": "relu(x)", "f": "r + y"}, "inputs": {"x": 1, "y": 2}})
    drawn = variants(spec, 25, 3, Rules(Values(), 0.001), "relu").variants
    off = [v for v in drawn if dict(v.spec.inputs)["x"] < 0]
    assert off, "no variant with relu off: the rule refuses what relu teaches"
    for v in drawn:
        x, y = dict(v.spec.inputs).values()
        assert x + y != 0 if x > 0 else y != 0  # f = relu(x) + y is never 0


# ---------------------------------------------------------------- a class marked in one command


def _inputs(folder, ident: str) -> dict[str, float]:
    """A variant's drawn inputs, read from the teacher's configs/ (not from the tool's trace)."""
    text = (folder / "configs" / f"{ident}.yaml").read_text()
    return yaml.safe_load(text)["inputs"]


def test_a_graph_set_of_25_is_marked_as_a_class_into_one_csv(runner, tmp_path):
    folder = tmp_path / "homework"
    made = runner.invoke(
        cli, ["exercise", "circuit", "--variants", "25", "--seed", "5", "-o", str(folder)]
    )
    assert made.exit_code == 0, made.output
    manifest = json.loads((folder / "exercise.json").read_text())
    assert manifest["format"] == "backtrace-exercise" and manifest["output"] == "f"
    idents = list(manifest["variants"])
    assert idents == [f"circuit-s5-v{n:02d}" for n in range(1, 26)]
    names = ASKED
    for ident, about in manifest["variants"].items():
        assert about["config"] == f"configs/{ident}.yaml" and about["questions"] == names
        assert about["value"] == pytest.approx(circuit_values(**_inputs(folder, ident))["f"])
    sheet = (folder / "questions" / "circuit-s5-v07.md").read_text()
    assert "variant: circuit-s5-v07\n" in sheet and "configs" not in sheet
    assert "backtrace check --exercises" in (folder / "index.md").read_text()

    answers = tmp_path / "answers"
    answers.mkdir()
    right, wrong, blank = idents[0], idents[1], idents[2]
    files = {}
    for who, ident in (("ann", right), ("bob", wrong), ("cy", blank)):
        values = circuit_values(**_inputs(folder, ident))
        if who == "bob":
            values["df/dz"] = values["df/dx"]  # the multiply gate not swapped: z for q
        if who == "cy":
            del values["f"]  # left out
        body = "".join(f"  {name}: {value:.4g}\n" for name, value in values.items())
        files[who] = answers / f"{who}.yaml"
        files[who].write_text(f"variant: {ident}\nstudent: {who}\nanswers:\n{body}")
    book = tmp_path / "grades.csv"
    result = runner.invoke(
        cli, ["check", "--exercises", str(folder), str(answers), "--gradebook", str(book)]
    )
    assert result.exit_code == 1, result.output  # bob's wrong, cy's missing
    rows = list(csv.DictReader(book.read_text().splitlines()))
    assert [row["student"] for row in rows] == ["ann", "bob", "cy"]
    columns = ["q", "f", "∂f/∂q", "∂f/∂z", "∂f/∂x", "∂f/∂y"]  # the sheet's names, as reported
    assert list(rows[0])[7:] == [*columns, "error", "note"]
    ann, bob, cy = rows
    n = str(len(names))
    assert (ann["variant"], ann["mark"], ann["total"], ann["first_wrong"]) == (right, n, n, "")
    assert [ann[c] for c in columns] == ["right"] * len(names) and ann["error"] == ""
    assert (bob["variant"], bob["mark"], bob["total"], bob["first_wrong"]) == (
        wrong,
        str(len(names) - 1),
        n,
        "∂f/∂z",
    )
    assert [bob[c] for c in columns] == ["wrong" if c == "∂f/∂z" else "right" for c in columns]
    assert (cy["variant"], cy["mark"], cy["total"]) == (blank, str(len(names) - 1), n)
    assert [cy[c] for c in columns] == ["unanswered" if c == "f" else "right" for c in columns]


# ---------------------------------------------------------------- --ask and --loss-band


def test_ask_picks_a_graphs_quantities_and_an_unknown_name_lists_the_valid_ones(runner, tmp_path):
    args = ["exercise", "circuit", "--variants", "2", "--ask", "q,∂f/∂z"]
    made = runner.invoke(cli, [*args, "-o", str(tmp_path / "set")])
    assert made.exit_code == 0, made.output
    manifest = json.loads((tmp_path / "set" / "exercise.json").read_text())
    assert manifest["ask"] == ["q", "∂f/∂z"]
    assert all(v["questions"] == ["q", "df/dz"] for v in manifest["variants"].values())
    sheet = (tmp_path / "set" / "questions" / "circuit-s0-v01.md").read_text()
    assert "`q`" in sheet and "`df/dz`" in sheet and "`df/dx`" not in sheet
    bad = runner.invoke(cli, ["exercise", "circuit", "--ask", "q,w", "-o", str(tmp_path / "x")])
    assert bad.exit_code == 2
    assert bad.output == (
        f"Error: --ask: 'w' is not a quantity of this graph; ask for any of {', '.join(ASKED)}\n"
    )
    assert not (tmp_path / "x").exists()


def test_loss_band_keeps_a_graphs_output_value_in_the_band(runner, tmp_path):
    """A graph has no loss: --loss-band bands its output's value, f = (x + y)·z."""
    args = ["exercise", "circuit", "--variants", "10", "--loss-band", "0.2,0.9"]
    made = runner.invoke(cli, [*args, "-o", str(tmp_path / "set")])
    assert made.exit_code == 0, made.output
    manifest = json.loads((tmp_path / "set" / "exercise.json").read_text())
    assert manifest["value_band"] == [0.2, 0.9]
    for ident in manifest["variants"]:
        f = circuit_values(**_inputs(tmp_path / "set", ident))["f"]
        assert 0.2 <= f <= 0.9, (ident, f)
    far = runner.invoke(cli, [*args, "--loss-band", "50,60", "-o", str(tmp_path / "far")])
    assert far.exit_code == 2
    assert far.output == (
        "Error: circuit: variant 1: no fair draw in 2000 has f in [50, 60]; widen --loss-band\n"
    )


# ---------------------------------------------------------------- check, one file


def test_check_marks_config_circuit_as_a_graph(runner, tmp_path):
    """`config: circuit` was a traceback ('GraphTrace' object has no attribute 'steps')."""
    answers = tmp_path / "a.yaml"
    answers.write_text("config: circuit\nanswers:\n  q: 3\n  f: -12\n  df/dz: 3\n  df/dx: 4\n")
    result = runner.invoke(cli, ["check", str(answers)])
    assert result.exit_code == 1, result.output  # ∂f/∂x = z = −4
    assert "Traceback" not in result.output and "3 of 4 answers — 3 right, 1 wrong" in result.output
    report = api.check_report(str(answers))
    assert [(v.symbol, v.kind) for v in report.verdicts] == [
        ("q", "right"),
        ("f", "right"),
        ("∂f/∂z", "right"),
        ("∂f/∂x", "wrong"),
    ]


def test_a_network_only_key_in_a_file_answering_a_graph_is_refused_where_it_stands(
    runner, tmp_path
):
    """`notation:` in a file read as a network's until its exercise turned out a graph was a
    traceback ('GraphSpec' object has no attribute 'notation'): a graph's names are its own."""
    answers = tmp_path / "a.yaml"
    answers.write_text("config: circuit\nnotation: nielsen\nanswers:\n  q: 3\n")
    result = runner.invoke(cli, ["check", str(answers)])
    assert result.exit_code == 2, result.output
    assert result.output == (
        f"Error: {answers}, line 2, column 1, notation: unknown key; a graph's answers file has "
        "exercise, config, variant, student, round, answers\n"
    )
    folder, book = tmp_path / "set", tmp_path / "g.csv"  # a class: read as a network's first
    runner.invoke(cli, ["exercise", "circuit", "--variants", "1", "-o", str(folder)])
    answers.write_text("variant: circuit-s0-v01\nnotation: nielsen\nanswers:\n  q: 3\n")
    result = runner.invoke(
        cli, ["check", "--exercises", str(folder), str(answers), "--gradebook", str(book)]
    )
    assert result.exit_code == 2, result.output
    (row,) = csv.DictReader(book.read_text(encoding="utf-8-sig").splitlines())
    assert row["error"] == (
        f"{answers}, line 2, column 1, notation: unknown key; a graph's answers file has "
        "exercise, config, variant, student, round, answers"
    )


def test_a_gradebook_of_files_naming_a_built_in_graph(runner, tmp_path):
    """`exercise: circuit` into a gradebook was a traceback ('GraphSpec' object has no
    attribute 'notation'): each file is marked as check marks a graph's."""
    ann = tmp_path / "ann.yaml"
    ann.write_text("exercise: circuit\nanswers:\n  q: 3\n  f: -12\n")
    path = tmp_path / "path.yaml"  # a path from a student's file is never followed
    path.write_text("exercise: ./circuit.yaml\nanswers:\n  q: 3\n")
    book = tmp_path / "g.csv"
    result = runner.invoke(cli, ["check", str(ann), str(path), "--gradebook", str(book)])
    assert result.exit_code == 2, result.output
    rows = list(csv.DictReader(book.read_text().splitlines()))
    assert (rows[0]["mark"], rows[0]["total"], rows[0]["q"], rows[0]["∂f/∂x"]) == (
        "2",
        str(len(ASKED)),
        "right",
        "unanswered",
    )
    assert (
        rows[1]["mark"] == "" and "only a built-in example's name is followed" in (rows[1]["error"])
    )


def test_exercise_a_graph_configs_path_is_marked_as_a_graph(runner, tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("nodes: {q: x + y, f: q * z}\ninputs: {x: 0.2, y: 0.5, z: -0.3}\n")
    answers = tmp_path / "a.yaml"
    answers.write_text("exercise: c.yaml\nanswers:\n  q: 0.7\n  df/dz: 0.7\n  df/dy: -0.3\n")
    result = runner.invoke(cli, ["check", str(answers)])
    assert result.exit_code == 1, result.output  # f, ∂f/∂q and ∂f/∂x unanswered
    assert f"3 of {len(ASKED)} questions" in result.output
