"""A computational graph's homework set does what a network's does: fair variants, sheets that
say `variant: <id>`, an exercise.json, `--ask`, a value band, and a class marked in one command.

Every expectation for circuit (q = x + y, f = q·z) is derived here from the drawn inputs."""

from __future__ import annotations

import pytest

from backtrace_cli import api, graph, graphexercise
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
