"""What a written value stands for: the precision it was written at, the span it may have been
in the student's hands, and the worlds — carrying each rounding, their values in place of the
solution's — in which marking works a step as the student could have.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

from ..core.rounding import round_value, unit
from ..solution import Key, Line, Solution, evaluate, operand_names
from .answers import Answer


@dataclass(frozen=True, slots=True)
class Span:
    """A value as the student may have had it: centre ± radius, and the wrong answers of
    theirs it rests on."""

    value: float
    radius: float = 0.0
    roots: frozenset[Key] = frozenset()


NO_ROOTS: frozenset[Key] = frozenset()
_SAMPLE_OF = re.compile(r"(.+)⁽(\d+)⁾")
TINY = 1e-12


def half_unit(answer: Answer, mode: str | None, rounding: str | None) -> float | None:
    """± what a written value stands for to a student carrying `mode` (None: exact).

    With a rounding declared, half a unit of it, whatever digits were typed (−0.6 is −0.600).
    Else, kept exact: half a unit of the last digit written — 0 for one figure (too coarse to
    tell: only the value itself); carrying a rounding: half a unit of it, when the value has no
    more digits than it keeps (0.01 is 0.010 carried to 2 figures, its zero dropped) and it
    leaves two figures at least (−0.008 is not −0.00817 "carried to 3 decimal places");
    None when a student carrying `mode` could not have written it."""
    if answer.value == 0:  # no significant figure at all: the decimals written say how close
        return 0.5 * 10.0**-answer.places if answer.places else 0.0
    if rounding:
        return 0.5 * unit(answer.value, rounding)
    if mode is None:
        return 0.5 * 10.0**-answer.places if answer.figures >= 2 else 0.0
    digits, kind = int(mode[:-2]), mode[-2:]
    if kind == "sf":
        fits = answer.figures <= digits
    else:
        fits = answer.places <= digits and abs(answer.value) >= 10.0 ** (1 - digits)
    return 0.5 * unit(answer.value, mode) if fits else None


def within(answer: Answer, target: float, half: float, spread: float, carried: str | None) -> bool:
    """Is the written value `target` (± `spread`) at the precision `half` — and, for a count
    of significant figures, at the target's own (0.1 is not 0.0984 to 2 figures: 0.098)?"""
    if carried and carried.endswith("sf") and half:
        half = min(half, 0.5 * unit(target, carried))
    return close(answer.value, target, half + spread)


def _radius(answer: Answer, mode: str | None, rounding: str | None) -> float:
    """What a value the student wrote may have been in their hands, carrying `mode`: a
    whole number (q = 4) is just that, unless a declared rounding says otherwise."""
    half = half_unit(answer, mode, rounding)
    if half:
        return half
    return 0.0 if answer.whole else 0.5 * 10.0**-answer.places


class World:
    """The step as one student could have worked it: carrying `mode`, with their answers in
    place of the solution's values. `written`: right answers enter as written (0.66) — else
    as the solution has them (0.663739), for a student who kept more digits than they wrote."""

    def __init__(
        self, solution: Solution, mode: str | None, written: bool, rounding: str | None
    ) -> None:
        self.solution = solution
        self.mode = mode
        self.written = written
        self.rounding = rounding  # declared
        self.values: dict[Key, Span] = {}
        self.parameters: dict[str, Span] = {}  # the latest new w / new b, by name
        self.pending: Mapping[Key, Answer] = {}
        # the keys looked up before their line was walked, while `watching`: answering one of
        # them later changes what this world carried on (Marker walks again from the start)
        self.ahead: set[Key] = set()
        self.watching = True

    def half(self, answer: Answer) -> float | None:
        return half_unit(answer, self.mode, self.rounding)

    def radius(self, answer: Answer) -> float:
        return _radius(answer, self.mode, self.rounding)

    def operand(self, line: Line, name: str) -> Span:
        epoch, sample, _ = line.key
        match = _SAMPLE_OF.fullmatch(name) if "⁽" in name else None
        key = (epoch, int(match.group(2)), match.group(1)) if match else (epoch, sample, name)
        span = self.values.get(key)
        if span is not None:
            return span
        if self.watching:
            self.ahead.add(key)
        if key in self.pending:  # a later quantity (updated weights in δ): as answered
            answer = self.pending[key]
            return Span(answer.value, self.radius(answer), frozenset({key}))
        if not match:
            later = self.solution.line(key)
            if later is not None:
                return Span(later.rows[self.mode].value)
        if name in self.parameters:
            return self.parameters[name]
        given = line.rows[self.mode].values()
        return Span(given[name]) if name in given else Span(math.nan)

    def compute(self, line: Line, template: str) -> Span | None:
        """The template evaluated with this world's operands (not rounded), ± their spread."""
        spans = {name: self.operand(line, name) for name in operand_names(template)}
        centre = {name: span.value for name, span in spans.items()}
        value = evaluate(template, centre)
        if value is None:
            return None
        spread = 0.0
        for name, span in spans.items():
            if span.radius <= 0:
                continue
            for step in (span.radius, -span.radius):
                moved = evaluate(template, centre | {name: span.value + step})
                if moved is None:
                    return None
                spread += abs(moved - value) / 2
        if self.mode is not None:
            # rounding as you go, each bracket written down (0.787·0.499) or kept in the
            # calculator: either is the student's, so the span holds both
            by_hand = evaluate(template, centre, self.mode)
            if by_hand is not None and by_hand != value:
                spread += abs(by_hand - value) / 2
                value = (value + by_hand) / 2
        roots = NO_ROOTS
        for span in spans.values():
            if span.roots:
                roots = roots | span.roots
        return Span(value, spread, roots)

    def carried(self, line: Line, span: Span | None) -> Span:
        """What the student carries on: rounded as the world carries (a network's ∂ factors
        are not; a graph's gradients are, as its rounded trace has them)."""
        if span is None:
            return Span(line.rows[self.mode].value)
        if self.mode is None:
            return span
        if line.key[2].startswith("∂") and not self.solution.rounds_gradients:
            return span
        return Span(round_value(span.value, self.mode), span.radius, span.roots)

    def adopt(self, line: Line, span: Span) -> None:
        self.values[line.key] = span
        symbol = line.key[2]
        if line.exact.origin is not None:  # a textbook's w5⁺: later steps name it w5
            if line.exact.origin.symbol.startswith("new "):
                self.parameters[line.exact.operands[0][0]] = span
        elif symbol.startswith("new "):
            self.parameters[symbol[4:]] = span


def close(value: float, target: float, tolerance: float) -> bool:
    if not (math.isfinite(value) and math.isfinite(target)):
        return False
    return abs(value - target) <= tolerance * (1 + 1e-9) + TINY * max(1.0, abs(target))
