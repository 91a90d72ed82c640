"""Whether a drawn variant hides a named slip: one that, made on this variant, changes no answer
at the rounding a sheet is marked in — a student who makes it would get full marks.

Each slip is evaluated by its own definition, as marking evaluates it (`mistakes.candidates`,
through a `World` with no answers: every operand the solution's own value). A slip that gives
the right value exactly on the exercise's own numbers, or on a few draws of finer numbers, is
no slip on that line — relu's o = net while the unit is on, an add gate's local gradient 1 —
and is not asked to show there; a coincidence of the drawn numbers (q = 0.3 + 0.2 = z) is.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

from .. import tracing
from ..core.rounding import round_value
from ..draws import NoFairVariant, Rules, Values
from ..solution import Key, Solution, solve
from .mistakes import candidates, mistakes
from .spans import World

MARKED = "3sf"  # the rounding a sheet's answers are written in (drawn so that 3 s.f. tell)
REFERENCES = 4  # draws of finer numbers that tell a slip that is none from a coincidence


def _slips(solution: Solution) -> Iterator[tuple[tuple[Key, str], float, float]]:
    """Each (line, slip) that applies, with the slip's value and the right one, exact."""
    world = World(solution, None, False, None)
    known = mistakes(solution.spec)
    for line in solution.lines:
        for name, template in candidates(line, solution, known):
            span = world.compute(line, template)
            if span is not None and math.isfinite(span.value):
                yield (line.key, name), span.value, line.exact.value


def _same(slip: float, right: float) -> bool:
    return math.isclose(slip, right, rel_tol=1e-12, abs_tol=1e-15)


def _no_slips(exercise: Any, rules: Rules) -> set[tuple[Key, str]]:
    """The (line, slip) pairs that give the right value exactly on the exercise's own numbers
    or on any of a few draws with three decimal places (where coincidences are rare)."""
    fine = Rules(Values(rules.values.low, rules.values.high, 3), 0.0, (-math.inf, math.inf))
    try:
        drawn = tracing.model(exercise).variants(exercise, REFERENCES, 0, fine, "reference")
        specs = [exercise, *(v.spec for v in drawn.variants)]
    except NoFairVariant:
        specs = [exercise]
    out: set[tuple[Key, str]] = set()
    for spec in specs:
        out |= {
            at for at, slip, right in _slips(solve(spec, rounding=MARKED)) if _same(slip, right)
        }
    return out


def hides(exercise: Any, rules: Rules) -> Callable[[Any], str | None]:
    """A test for the variants of `exercise` drawn by `rules`: why a draw hides a named slip
    (one that changes no answer at 3 s.f.), or None."""
    excused = _no_slips(exercise, replace(rules, hides=None))

    def hidden(candidate: Any) -> str | None:
        made: set[str] = set()
        shown: set[str] = set()
        for at, slip, right in _slips(solve(candidate, rounding=MARKED)):
            if round_value(slip, MARKED) != round_value(right, MARKED):
                shown.add(at[1])
            elif at not in excused:
                made.add(at[1])
        unseen = sorted(made - shown)
        return f"a slip that changes no answer ({unseen[0]})" if unseen else None

    return hidden
