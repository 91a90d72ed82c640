"""Exercise variants of any model: the same exercise with new "nice" numbers, fair to mark.

One path for every kind: the model (`tracing.model`) draws its variants and judges them fair
(a network's rules are in `network.variants`, a graph's in `graph.variants`), says what a sheet
asks and what the set's index says of it; `homework.files` writes the sheets, keys, configs,
indexes and exercise.json of any of them. Each variant is drawn from numpy's Generator seeded
with (seed, variant number), so the same seed gives the same variants on every machine.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from .. import tracing
from ..draws import (  # noqa: F401 (what an exercise is drawn by: tests and the CLI import it here)
    ExerciseSet,
    NoFairVariant,
    Rules,
    Values,
    Variant,
)
from ..sheet import Question, is_ident  # noqa: F401 (moved there; tests import them here)
from . import fair, homework, quizbank


def variants(spec: Any, count: int, seed: int, rules: Rules, base: str) -> ExerciseSet:
    """`count` fair variants of the exercise `spec` (a network's or a graph's), and the band
    their value was kept in; `base` starts their ids (lecture-s7-v03). A draw that hides a
    named slip (one that changes no answer) is drawn again, unless `rules` judge it already."""
    if rules.hides is None:
        rules = replace(rules, hides=fair.hides(spec, rules))
    return tracing.model(spec).variants(spec, count, seed, rules, base)


def files(
    spec: Any, count: int, seed: int, rules: Rules, base: str, ask: tuple[str, ...] = ()
) -> list[tuple[str, str]]:
    """Every file of a set of `count` variants, as (path inside DIR, text), nothing written
    yet. Raises NoFairVariant when no draw is fair, ValueError when `ask` names a quantity the
    exercise has not — before any draw when the model alone tells (a graph's names)."""
    tracing.model(spec).questions(spec, ask)
    drawn = variants(spec, count, seed, rules, base)
    return homework.files(spec, drawn, seed, ask, rules)


def quiz(
    spec: Any,
    count: int,
    seed: int,
    rules: Rules,
    base: str,
    ask: tuple[str, ...],
    fmt: str,
    rounding: str,
) -> str | bytes:
    """A set of `count` variants as one file a learning platform imports (`quizbank.bank`):
    `fmt` moodle (XML text) or qti (a zip's bytes), each blank's tolerance from `rounding`.
    Raises as `files` does."""
    tracing.model(spec).questions(spec, ask)
    drawn = variants(spec, count, seed, rules, base)
    # one set, one category: a second seed's set of the same config imports beside it
    return quizbank.bank(spec, drawn, ask, rounding, fmt, f"{base}-s{seed}")
