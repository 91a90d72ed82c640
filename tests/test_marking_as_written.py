"""Marking, third pass (issue 26): a number is what the student wrote — a whole number is
exact — and a blank, a typo or a huge paste costs one answer, never the file. Every
expectation is worked out here by hand from the circuit's own formulas."""

from __future__ import annotations

import backtrace_cli.teach.check  # the callable module `check` marks with

# f = (x + y)·z with x = −2, y = 5, z = −4: q = 3, f = −12 (CS231n's first circuit)
Z = -4


def by_name(report: dict) -> dict[str, dict]:
    return {a["name"]: a for a in report["answers"]}


# ---------------------------------------------------------------- 1. whole numbers as written


def test_a_whole_number_is_exact_so_only_its_own_product_follows_from_it():
    q = 4  # wrong: x + y = 3
    follows = q * Z  # −16: f = q·z with the student's q, exactly
    for f in (-17, -17.9, -15):  # read as [3.5, 4.5], q·z spanned [−18, −14]
        marked = by_name(backtrace_cli.teach.check({"answers": {"q": q, "f": f}}, "circuit"))
        assert marked["q"]["kind"] == "wrong"
        assert marked["f"]["kind"] == "wrong", (f, marked["f"]["verdict"])
    marked = by_name(backtrace_cli.teach.check({"answers": {"q": q, "f": follows}}, "circuit"))
    assert marked["f"]["kind"] == "follows" and marked["f"]["verdict"] == "follows from your q"


SQUARE = {
    "name": "a square of a sum",
    "nodes": {"xpy": "x + y", "xpysqr": "xpy^2"},
    "inputs": {"x": 3, "y": -1},
}  # xpy = 2, xpysqr = 4


def test_after_a_wrong_whole_number_only_its_square_follows():
    xpy = 1  # wrong: 3 + (−1) = 2
    for xpysqr in (1.95, 2, 0.5):  # [0.5, 1.5]² would have spanned [0.25, 2.25]
        marked = by_name(
            backtrace_cli.teach.check({"answers": {"xpy": xpy, "xpysqr": xpysqr}}, SQUARE)
        )
        assert marked["xpysqr"]["kind"] == "wrong", (xpysqr, marked["xpysqr"]["verdict"])
    marked = by_name(backtrace_cli.teach.check({"answers": {"xpy": xpy, "xpysqr": 1}}, SQUARE))
    assert marked["xpysqr"]["kind"] == "follows"  # 1² = 1


def test_a_decimal_still_stands_for_the_values_it_rounds():
    # 4.1 written (one decimal): the student's q was in [4.05, 4.15], so q·z in [−16.6, −16.2]
    marked = by_name(backtrace_cli.teach.check({"answers": {"q": 4.1, "f": -16.5}}, "circuit"))
    assert marked["f"]["kind"] == "follows"


def test_a_whole_number_is_not_a_right_value_to_one_figure_unless_round_says_so():
    near = {"name": "a sum", "nodes": {"s": "x + y"}, "inputs": {"x": 1.5, "y": 2.2}}  # s = 3.7
    marked = by_name(backtrace_cli.teach.check({"answers": {"s": 4}}, near))
    assert marked["s"]["kind"] == "wrong"  # 4 is 4, not 3.7 to one figure
    marked = by_name(backtrace_cli.teach.check({"answers": {"s": 3.7}}, near))
    assert marked["s"]["kind"] == "right"
    # a declared rounding says otherwise: 4 is then the one figure 3.7 rounds to
    marked = by_name(backtrace_cli.teach.check({"round": "1sf", "answers": {"s": 4}}, near))
    assert marked["s"]["kind"] == "right"
