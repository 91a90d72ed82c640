"""What a question is worth: `--points` read, resolved against a step, and a report's score.

`--points 2` makes every question worth 2; `--points delta=2,update=0.5` weighs whole sections
(forward, error, delta, update; a graph's forward, backward), kinds (net, o, e, E, delta, dw,
w, db, b) or single quantities (delta3) — the names `--ask` reads; a bare number is what every
other question is worth (default 1). A question takes the weight of the last entry naming it.

A credited answer (`check.CREDITED`: right, right but coarse, or following from the student's
own earlier values — error carried forward) earns its question's points; a wrong or
unanswered one earns none. An answer beyond the step's questions (a ∂ factor) is worth 0.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..render.numbers import points_text
from ..solution import Key, Solution
from .quiz import chosen
from .verdicts import Report

MAX_POINTS = 1000.0  # a question's weight: a typo like 1e9 is refused, not summed


class PointsError(ValueError):
    """`--points` that cannot be read, or names nothing of the step: the teacher's mistake,
    said once for the whole run."""


@dataclass(frozen=True)
class Points:
    """`--points` as written: the weight of every question, and the named exceptions."""

    default: float = 1.0
    named: tuple[tuple[str, float], ...] = ()  # (selector, weight), in the order given

    def weights(self, spec: Any, solution: Solution) -> Callable[[Key], float]:
        """Each question's weight in this step (PointsError for a selector it has not)."""
        table: dict[Key, float] = {}
        if not self.named:  # the same for every question: nothing to trace
            return _lookup(table, self.default)
        lines = list(solution.lines)
        for selector, weight in self.named:
            try:
                picked = chosen(spec, solution, lines, (selector,), None)
            except ValueError as err:
                raise PointsError(f"--points {selector}={points_text(weight)}: {err}") from None
            table.update((line.key, weight) for line in picked)
        return _lookup(table, self.default)


def _lookup(table: Mapping[Key, float], default: float) -> Callable[[Key], float]:
    return lambda key: table.get(key, default)


EVERY = Points()  # the default: 1 a question


def one(key: Key) -> float:
    """Every question's weight without --points."""
    return EVERY.default


def parse(text: str) -> Points:
    """`2`, `delta=2,update=1` or `0.5,delta=2` as Points (PointsError saying what is valid)."""
    default = 1.0
    named: list[tuple[str, float]] = []
    for entry in (part.strip() for part in text.split(",")):
        if not entry:
            continue
        selector, equals, value = (s.strip() for s in entry.rpartition("="))
        if equals and not selector:
            raise PointsError(f"{entry!r}: name what it weighs, e.g. delta=2")
        weight = _weight(value, entry)
        if equals:
            named.append((selector, weight))
        else:
            default = weight
    if not named and not text.strip(","):
        raise PointsError("give a number (2) or NAME=POINTS entries (delta=2,update=1)")
    return Points(default, tuple(named))


def _weight(value: str, entry: str) -> float:
    try:
        weight = float(value)
    except ValueError:
        weight = math.nan
    if not (0 <= weight <= MAX_POINTS):  # also nan and inf
        raise PointsError(
            f"{entry!r}: a weight is a number from 0 to {MAX_POINTS:g} "
            "(2, 0.5); write NAME=POINTS for a section, kind or quantity (delta=2)"
        )
    return weight


def score(report: Report, weight: Callable[[Key], float]) -> tuple[float, float]:
    """(points earned, points possible) over the step's questions."""
    asked = [v for v in report.verdicts if v.asked]
    earned = math.fsum(weight(v.key) for v in asked if v.ok)
    return earned, math.fsum(weight(v.key) for v in asked)
