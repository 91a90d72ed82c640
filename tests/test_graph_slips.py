"""Named slips: a computational graph's four (a local gradient left out, the upstream gradient
left out, a multiply gate not swapped, a branch's gradients not summed) and a network's Δw with
its sign flipped. Every wrong answer is derived here by hand from the exercise's numbers, as a
student who makes the slip would work it, carrying 2, 3 or 4 significant figures.
"""

from __future__ import annotations

import math

import pytest

from backtrace_cli import api

LOCAL = "the local gradient left out"
UPSTREAM = "the upstream gradient left out"
SWAP = "a multiply gate not swapped"
BRANCH = "a branch's gradients not summed"
SLIPS = (LOCAL, UPSTREAM, SWAP, BRANCH)
FIGURES = (2, 3, 4)


def carry(value: float, figures: int) -> float:
    """The value as a student carries it: rounded to `figures` significant figures."""
    return float(f"{value:.{figures}g}")


def written(value: float, figures: int) -> str:
    """The value as a student writes it, trailing zeros kept: 0.50, −3.70."""
    return f"{value:#.{figures}g}".rstrip(".")


def verdicts(answers: dict, exercise: str) -> dict:
    report = api.check_report(answers, exercise)
    return {v.symbol: v for v in report.answered}


def named(verdict, slip: str) -> bool:
    return any(name.startswith(slip) for name in verdict.mistakes)


def slip_names(verdict) -> list[str]:
    return [name for name in verdict.mistakes if name.startswith(SLIPS)]


# ---------------------------------------------------------------- a network: Δw's sign


def _sigmoid(net: float) -> float:
    return 1 / (1 + math.exp(-net))


@pytest.mark.parametrize("figures", FIGURES)
def test_delta_w_with_its_sign_flipped_is_named_on_the_lecture_example(figures):
    # the course notes: x1 = 0.35, x2 = 0.9, w13 = 0.1, w23 = 0.8, w14 = 0.4, w24 = 0.6,
    # w35 = 0.3, w45 = 0.9, t5 = 0.5, η = 1; net3 = 0.1·0.35 + 0.8·0.9 = 0.755
    r = lambda value: carry(value, figures)  # noqa: E731
    o3 = r(_sigmoid(r(0.1 * 0.35 + 0.8 * 0.9)))
    o4 = r(_sigmoid(r(0.4 * 0.35 + 0.6 * 0.9)))
    o5 = r(_sigmoid(r(0.3 * o3 + 0.9 * o4)))
    delta5 = r(o5 * (1 - o5) * (0.5 - o5))
    delta3 = r(o3 * (1 - o3) * 0.3 * delta5)
    dw35 = r(1 * delta5 * o3)  # Δw35 = η·δ5·o3 ≈ −0.0277
    dw13 = r(1 * delta3 * 0.35)  # Δw13 = η·δ3·x1 ≈ −0.000929
    answers = {"dw35": written(-dw35, figures), "dw13": written(-dw13, figures)}
    got = verdicts(answers, "lecture")
    for symbol in ("Δw35", "Δw13"):
        assert got[symbol].kind == "wrong"
        assert got[symbol].mistakes[:1] == ("Δw with its sign flipped (Δw = −η·δ·o)",), got[
            symbol
        ].diagnosis


def test_delta_w_flipped_takes_no_other_mistakes_diagnosis():
    # δ5 with (t − o) flipped keeps its own name; Δw35 from that δ5 follows from it
    o3, o4 = _sigmoid(0.755), _sigmoid(0.68)
    o5 = _sigmoid(0.3 * o3 + 0.9 * o4)
    flipped = o5 * (1 - o5) * (o5 - 0.5)  # +0.0407
    got = verdicts({"delta5": f"{flipped:.4f}", "dw35": f"{flipped * o3:.4f}"}, "lecture")
    assert got["δ5"].mistakes[:1] == ("the sign of (t − o) flipped",)
    assert got["Δw35"].kind == "follows"
