"""How a number and a formula are written (`render.numbers`): the quick ways a --full trace
takes write what the rule and the slot patterns say, character for character."""

from __future__ import annotations

import math
import re

from hypothesis import example, given, settings
from hypothesis import strategies as st

from backtrace_cli.render.numbers import Memo, NumberFormat, substituted, symbolic, written

MINUS = "−"


def by_rule(value: float, decimals: int, rounding: str | None, explicit: bool) -> str:
    """The rule, step by step as NumberFormat's docstring and the notes put it: nan and ∞ by
    name; past 1e15 six significant figures; a whole number as an integer; a rounding's own
    style unless --decimals was given; else `decimals` places without trailing zeros, and
    three significant figures for what they would show as 0 or with fewer than three
    figures (unless the decimals were asked for); − for the minus sign."""
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "∞" if value > 0 else MINUS + "∞"
    if abs(value) >= 1e15:
        text = f"{value:.6g}"
    elif value == math.floor(value):
        text = f"{int(value):d}"
    elif rounding and not explicit:
        digits = int(rounding[:-2])
        style = "{:#.{}g}" if rounding.endswith("sf") else "{:.{}f}"
        text = style.format(value, digits)
        if "e" in text:
            text = "{:.{}e}".format(value, digits - 1)
    else:
        text = "{:.{}f}".format(value, decimals)
        if decimals:
            text = text.rstrip("0").rstrip(".")
        few = not explicit and abs(value) < 10.0 ** (2 - decimals)
        if text in ("0", "-0") or few:
            text = f"{value:.3g}"
    return text.replace("-", MINUS)


numbers = (
    st.floats(allow_nan=True, allow_infinity=True)
    | st.floats(-10, 10)
    | st.floats(-1e-3, 1e-3)
    | st.integers(-(10**6), 10**6).map(float)
    | st.sampled_from([0.0, -0.0, 1e15, -1e15, 0.5, -0.5, 1e-7, 0.0005, 2.5e-5])
)
formats = st.builds(
    NumberFormat,
    st.integers(0, 9),
    st.sampled_from([None, "3sf", "2sf", "4dp", "1dp"]),
    st.booleans(),
)


@settings(max_examples=400)
@given(numbers, formats)
@example(2.5e-5, NumberFormat())  # fewer than three figures at six places: 2.5e-05
@example(-0.000123456, NumberFormat())
@example(0.000123456, NumberFormat(6, None, True))  # the decimals asked for: 0.000123
@example(0.0004, NumberFormat(3))  # shows as 0
@example(0.5, NumberFormat(0, None, True))
@example(0.68026, NumberFormat(6, "3sf"))
@example(-1.5e16, NumberFormat())
@example(-5e14, NumberFormat())  # just short of 1e15: still every digit
def test_a_number_is_written_as_its_rule_says(value, fmt):
    expected = by_rule(value, fmt.decimals, fmt.rounding, fmt.explicit)
    assert fmt(value) == expected
    # an operand in parentheses when negative; a change always signed
    assert fmt.operand(value) == (f"({expected})" if expected.startswith(MINUS) else expected)
    assert fmt.signed(value) == (expected if expected.startswith(MINUS) else "+" + expected)


@given(st.lists(numbers, max_size=30), formats)
def test_a_remembered_number_is_written_as_the_first_time(values, fmt):
    """Memo formats each distinct value once (0.0 and −0.0 are one key: both write "0")."""
    memo = Memo(fmt)
    for value in values + values[::-1]:
        assert memo(value) == fmt(value)
        assert memo.operand(value) == fmt.operand(value)
        assert memo.signed(value) == fmt.signed(value)


_SLOT = re.compile(r"\{([^{}]+)\}")
_WRAPPED = re.compile(r"\(\{([^{}]+)\}\)")


class Values(dict):
    """A value for any name: a slot pattern may read "(x" as a name when a brace is stray."""

    def __missing__(self, name: str) -> float:
        return (len(name) - 3) * 0.375


def by_patterns(template: str, values: dict[str, float], fmt: NumberFormat) -> tuple[str, str]:
    """The formula with names and with numbers, as the slot patterns read it: "({x})" first,
    its number in those parentheses, then every other slot as an operand."""
    names = _SLOT.sub(lambda m: m.group(1), template)
    wrapped = _WRAPPED.sub(lambda m: "(" + fmt(values[m.group(1)]) + ")", template)
    return names, _SLOT.sub(lambda m: fmt.operand(values[m.group(1)]), wrapped)


PIECES = ["{w13}", "{x1}", "{δ5}", "(", ")", "{", "}", "({x1}", "({δ5})", "{(", ")}", "·", " + "]
templates = st.lists(st.sampled_from(PIECES), max_size=12).map("".join)


@settings(max_examples=400)
@given(templates, st.dictionaries(st.sampled_from(["w13", "x1", "δ5"]), numbers), formats)
@example("({x1}·{w13})", {"x1": -0.5, "w13": -0.25}, NumberFormat())  # ( not ), ) not (
@example("{w13})", {"w13": -0.5}, NumberFormat())  # ")" after, no "(" before
@example("(({x1}))·({δ5})({w13})", {"x1": -1.0, "δ5": -2.0, "w13": -3.0}, NumberFormat())
@example("{({x1})}", {"x1": -0.5}, NumberFormat())  # a brace around a slot: "(−0.5)" a name
@example("{x1}{", {"x1": -0.5}, NumberFormat())
@example("{}{x1}", {"x1": -0.5}, NumberFormat())
def test_a_formula_is_written_as_the_slot_patterns_read_it(template, given_values, fmt):
    values = Values(given_values)
    names, with_numbers = by_patterns(template, values, fmt)
    assert symbolic(template) == names
    assert substituted(template, values, fmt) == with_numbers
    assert substituted(template, values, Memo(fmt)) == with_numbers
    assert written(template, values, Memo(fmt)) == (names, with_numbers)  # read once


def test_a_negative_in_parentheses_already_gets_none_of_its_own():
    values = {"net3": -0.5, "w13": -0.25, "x1": 2.0}
    fmt = NumberFormat()
    assert substituted("1/(1 + e^({net3}))", values, fmt) == "1/(1 + e^(−0.5))"
    assert substituted("{w13}·{x1}", values, fmt) == "(−0.25)·2"
    assert symbolic("{w13}·{x1}") == "w13·x1"
