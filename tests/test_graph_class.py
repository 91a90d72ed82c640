"""A computational graph's homework set does what a network's does: fair variants, sheets that
say `variant: <id>`, an exercise.json, `--ask`, a value band, and a class marked in one command.

Every expectation for circuit (q = x + y, f = q·z) is derived here from the drawn inputs."""

from __future__ import annotations

import json

import pytest
import yaml

from backtrace_cli import api, graph, graphexercise
from backtrace_cli.cli import cli
from backtrace_cli.exercise import Values


def circuit_values(x: float, y: float, z: float) -> dict[str, float]:
    """Every quantity of circuit, by the chain rule: q = x + y, f = q·z; the add gate hands
    ∂f/∂q = z to x and y, the multiply gate swaps: ∂f/∂z = q."""
    q = x + y
    return {"q": q, "f": q * z, "df/dx": z, "df/dy": z, "df/dz": q}


# ---------------------------------------------------------------- fair variants


@pytest.mark.parametrize("seed", range(20))
def test_circuit_variants_have_no_zero_value_or_gradient_and_no_input_of_0_or_1(seed):
    """With q = 0, f and ∂f/∂z are 0 whatever the student multiplied (seed 5's v03 and v20
    were such); an input of ±1 hides a multiply gate left unswapped."""
    spec = api.load("circuit")
    for v in graphexercise.variants(spec, 25, seed, Values(), 0.001, "circuit"):
        inputs = dict(v.spec.inputs)
        assert all(abs(value) not in (0, 1) for value in inputs.values()), v.ident
        values = circuit_values(inputs["x"], inputs["y"], inputs["z"])
        assert all(abs(value) > 1e-9 for value in values.values()), (v.ident, values)


def test_a_routing_gate_may_still_send_a_gradient_of_0():
    """relu off passes nothing back, by design (as a network's unit switched off): such draws
    are kept, and every other gradient is still not 0."""
    spec = graph.from_dict({"nodes": {"r": "relu(x)", "f": "r + y"}, "inputs": {"x": 1, "y": 2}})
    drawn = graphexercise.variants(spec, 25, 3, Values(), 0.001, "relu")
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
        "Error: --ask: 'w' is not a quantity of this graph; ask for any of q, f, df/dx, df/dy, "
        "df/dz\n"
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
