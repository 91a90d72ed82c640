"""Rounding as a student carries it, at the edges: values past what Decimal's context keeps,
and zeros, whose sign must not depend on what was rounded before."""

from __future__ import annotations

import math

import pytest

from backtrace_cli.core.rounding import round_value


@pytest.mark.parametrize(
    ("value", "spec", "expected"),
    [
        (1e30, "4dp", 1e30),  # 35 digits to 4 dp: the float already holds every digit it has
        (-1.5e300, "3dp", -1.5e300),
        (123456789.123456789, "20sf", 123456789.123456789),
        (0.0285, "2sf", 0.029),  # half away from zero on the decimal written, not the binary
        (-0.040681, "3sf", -0.0407),
        (123.45678, "2dp", 123.46),
    ],
)
def test_a_value_is_rounded_on_its_decimal(value, spec, expected):
    assert round_value(value, spec) == expected


def test_the_sign_of_a_zero_is_its_own_whatever_was_rounded_before():
    assert math.copysign(1, round_value(0.0, "3sf")) == 1
    assert math.copysign(1, round_value(-0.0, "3sf")) == -1
    assert math.copysign(1, round_value(0.0, "3sf")) == 1


def test_a_graph_with_a_huge_value_is_quizzed_without_a_traceback(tmp_path):
    """(0.5·z + y)/(z²)³ trained by RMSprop: its large state values were a decimal
    InvalidOperation traceback when the quiz carried common roundings."""
    from click.testing import CliRunner

    from backtrace_cli.cli import cli

    config = tmp_path / "g.yaml"
    config.write_text(
        "expression: (((0.5 * z) - -(y)) / ((z)^2)**3)\ninputs: {y: -1.56, z: 1.69}\n"
        "parameters: [z, y]\nlearning_rate: 0.01\noptimizer: rmsprop\n"
    )
    result = CliRunner().invoke(cli, ["quiz", str(config)], input="")
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    # its questions: 6 nodes' values (n1–n5, f), ∂f/∂ of n1–n5, y and z, and RMSprop's g, s,
    # Δ and new value of each parameter
    assert f"Score: 0 of {6 + (5 + 2) + 4 * 2}" in result.output
