"""Marking: each answer's verdict (`KINDS`), as a fair marker gives it — right at the precision
written or the rounding carried, following from the student's own earlier values, or wrong with
the named mistakes that give it. `mark` marks answers against a `Solution`; `Marker` marks them as
they come (the quiz).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from functools import lru_cache

from ..core.errors import QUOTE_LIMIT
from ..core.rounding import round_value
from ..definitions import notation
from ..network.records import Equation
from ..render.numbers import NumberFormat, substituted, symbolic
from ..solution import Key, Line, Solution, evaluate, slots
from .answers import Answer
from .mistakes import candidates
from .spans import NO_ROOTS, TINY, Span, World, close, half_unit, within
from .verdicts import Verdict


def mark(
    solution: Solution, answers: Sequence[Answer], rounding: str | None = None
) -> tuple[Verdict, ...]:
    """Each answer's verdict, in the order given. Answers must name quantities of the
    solution (`validate` says which do not). A later answer may use earlier ones; the quiz
    marks a value typed now as this marks it with the values typed before it (`Marker`)."""
    marker = Marker(solution, rounding)
    return marker.extend(answers)


class Marker:
    """Answers marked as they come, each as `mark` marks it with the answers before it.

    The marking worlds walk the solution's lines once, in order, and keep their state between
    answers: an answer further down the solution is marked by walking on from where the last
    one stopped, so each costs the lines between them, not the whole step again. Should an
    answer come out of the solution's order, answer a question twice, or answer a quantity
    the lines walked already looked ahead to (a named mistake's updated weight, …), the walk
    starts again from the first line with every answer so far — what `mark` does."""

    def __init__(self, solution: Solution, rounding: str | None = None) -> None:
        if rounding and rounding not in solution.modes:
            raise ValueError(f"the solution was not traced with {rounding} carried")
        self.solution = solution
        self.rounding = rounding
        self.fmt = NumberFormat(6)
        self.modes = solution.modes if rounding is None else (None, rounding)
        self.answers: dict[Key, Answer] = {}  # every answer so far, by key: the worlds' pending
        self.end = 0  # the lines up to the last answered one: what is walked
        self._restart()

    def _restart(self) -> None:
        self.worlds = [
            World(self.solution, mode, written, self.rounding)
            for mode in self.modes
            for written in (True, False)
        ]
        for world in self.worlds:
            world.pending = self.answers
        self.walked = 0  # the lines walked, solution.lines[:walked]
        self.found: dict[Key, Verdict] = {}

    def add(self, answer: Answer) -> Verdict:
        """The verdict of one more answer, given the ones added before it; kept for the
        answers after it."""
        return self.extend((answer,))[-1]

    def judge(self, answer: Answer) -> Verdict:
        """The verdict `add` would give this answer, without keeping it (the quiz's tries: a
        wrong one may be typed again)."""
        answer = self._resolved((answer,))[0]
        key, at = answer.key, self.solution.index[answer.key]
        if key in self.answers or at < self.walked or self._looked_at(key):
            return mark(self.solution, [*self.answers.values(), answer], self.rounding)[-1]
        self._walk(at)
        line = self.solution.lines[at]
        self.answers[key] = answer
        try:
            return self._verdict(line, answer, _Spans(self.worlds, line), keep=False)
        finally:
            del self.answers[key]

    def extend(self, answers: Sequence[Answer]) -> tuple[Verdict, ...]:
        """The verdicts of more answers, in the order given (as `mark` gives them)."""
        answers = self._resolved(answers)
        restart = False
        for answer in answers:
            key = answer.key
            restart = restart or (
                key in self.answers
                or self.solution.index[key] < self.walked
                or self._looked_at(key)
            )
            self.answers[key] = answer
            self.end = max(self.end, self.solution.index[key] + 1)
        if restart:
            self._restart()
        self._walk(self.end)
        return tuple(self.found[answer.key] for answer in answers)

    def _resolved(self, answers: Sequence[Answer]) -> list[Answer]:
        solution = self.solution
        missing = [a for a in answers if solution.line(a.key) is None]
        if missing:
            raise ValueError(f"not in this solution: {missing[0].name}")
        return [replace(a, sample=solution.resolve(a.key)[1]) for a in answers]

    def _watch(self, on: bool) -> None:
        for world in self.worlds:
            world.watching = on

    def _looked_at(self, key: Key) -> bool:
        """Did a line walked already use this quantity before its answer came?"""
        return any(key in world.ahead for world in self.worlds)

    def _walk(self, end: int) -> None:
        """Mark the lines up to `end`: the answered ones judged, every one carried on."""
        for line in self.solution.lines[self.walked : end]:
            answer = self.answers.get(line.key)
            spans = _Spans(self.worlds, line)
            if answer is None:
                for world in self.worlds:
                    world.adopt(line, world.carried(line, spans[id(world)]))
                continue
            verdict = self.found[line.key] = self._verdict(line, answer, spans, keep=True)
            mine = frozenset({line.key})
            for world in self.worlds:
                if verdict.kind == "right" and world.written:
                    # used as written: where it differs from the right value, what follows is
                    # theirs
                    same = abs(answer.value - line.exact.value) <= TINY * max(
                        1.0, abs(answer.value)
                    )
                    world.adopt(line, Span(answer.value, 0.0, NO_ROOTS if same else mine))
                elif verdict.kind in ("right", "coarse") and not world.written:
                    world.adopt(line, Span(line.rows[world.mode].value))
                else:  # follows, wrong, or coarse as written: what follows from it follows
                    # from this value of theirs (the report names the nearest of their values)
                    world.adopt(line, Span(answer.value, world.radius(answer), mine))
        self.walked = max(self.walked, end)

    def _verdict(self, line: Line, answer: Answer, spans: _Spans, keep: bool) -> Verdict:
        """One answer's verdict, the lines before it walked. `keep`: what it is carried on
        (else a try: what it looks ahead to is not noted)."""
        rounding, worlds = self.rounding, self.worlds
        self._watch(keep)
        verdict = _judge(line, answer, rounding, worlds, spans, self.fmt)
        if verdict.kind == "wrong":
            # a diagnosis changes what is carried on only when it can make the value coarse
            # (below): else what it looks ahead to cannot change a later verdict
            self._watch(keep and bool(rounding))
            verdict = _diagnose(verdict, line, answer, rounding, worlds, self.solution)
        self._watch(True)
        if verdict.kind == "wrong" and rounding and not verdict.mistakes:
            # declared: −0.008 is −0.00800 — unless no mistake explains it, a right value
            # written too coarsely
            verdict = _coarse(line, answer, _recast(verdict), rounding) or verdict
        return verdict


class _Spans(dict):  # type: ignore[type-arg]
    """Each world's span of one line (by the world's id), computed when first asked for:
    an answer right as the solution has it needs none, and most answers are right."""

    def __init__(self, worlds: Sequence[World], line: Line) -> None:
        super().__init__()
        self.worlds = {id(world): world for world in worlds}
        self.line = line

    def __missing__(self, key: int) -> Span | None:
        span = self[key] = self.worlds[key].compute(self.line, self.line.template)
        return span


def _judge(
    line: Line,
    answer: Answer,
    rounding: str | None,
    worlds: list[World],
    spans: Mapping[int, Span | None],
    fmt: Callable[[float], str],
) -> Verdict:
    exact = line.exact.value
    v = answer.value
    # with a rounding declared, what the student is shown is the solution worked at it
    shown = line.rows.get(rounding, line.exact) if rounding else line.exact
    working = _working(shown, NumberFormat(6, rounding) if rounding else fmt)

    def verdict(kind: str, words: str, carried: str | None = None) -> Verdict:
        return Verdict(line.key, kind, words, shown.value, answer, working, carried=carried)

    if abs(v - exact) <= 1e-9 * max(1.0, abs(exact)):
        return verdict("right", "right")
    for mode in line.rows:
        if mode is not None and rounding and mode != rounding:
            continue
        half = half_unit(answer, mode, rounding)
        carried = rounding or mode
        if half is not None and within(answer, line.rows[mode].value, half, 0.0, carried):
            if mode is None or (rounding and within(answer, exact, half, 0.0, carried)):
                return verdict("right", "right")
            return verdict("right", f"right for {mode} carried", mode)
    coarse = None if rounding else _coarse(line, answer, verdict, rounding)
    if coarse is not None:  # one figure, right at it: too coarse to tell what it follows from
        return coarse
    follows: Span | None = None
    for world in worlds:
        span = spans[id(world)]
        half = world.half(answer)
        if span is None or half is None:
            continue
        if within(answer, span.value, half, span.radius, rounding or world.mode):
            if not span.roots:
                return verdict("right", "right", world.mode)
            if follows is None or len(span.roots) < len(follows.roots):
                follows = span
    if follows is not None:
        yours = ", ".join(f"your {notation.answer_name(k[2])}" for k in sorted(follows.roots))
        return verdict("follows", f"follows from {yours}")
    return verdict("wrong", "wrong")


def _recast(wrong: Verdict) -> Callable[..., Verdict]:
    """Makes another verdict of the same answer: (kind, words, carried) → Verdict."""

    def again(kind: str, words: str, carried: str | None = None) -> Verdict:
        return replace(wrong, kind=kind, verdict=words, carried=carried, diagnosis=())

    return again


def _coarse(
    line: Line, answer: Answer, verdict: Callable[..., Verdict], rounding: str | None
) -> Verdict | None:
    """A right value typed with one significant figure: too coarse to tell, its own verdict.
    A whole number is exact unless a rounding is declared: 4 is not 3.7 to one figure."""
    if answer.figures != 1 or (answer.whole and not rounding):
        return None
    for mode in line.rows:
        if close(answer.value, line.rows[mode].value, 0.5 * 10.0**-answer.places):
            better = _two_figures(line.rows[mode].value if mode else line.exact.value)
            words = f"right, but write at least two significant figures: {better}"
            return verdict("coarse", words, mode)
    return None


def _two_figures(value: float) -> str:
    """The value to two significant figures, written out: −0.0082, 0.0000059, −0.00090."""
    if value == 0 or not math.isfinite(value):
        return "0"
    decimals = max(0, 1 - math.floor(math.log10(abs(float(f"{value:.2g}")))))
    return f"{value:.{decimals}f}".replace("-", "−")


def _diagnose(
    verdict: Verdict,
    line: Line,
    answer: Answer,
    rounding: str | None,
    worlds: list[World],
    solution: Solution,
) -> Verdict:
    """The formula with the right numbers; with the student's where they differ; and each
    named mistake that, made with their operands and rounding, gives their value."""
    lines = [verdict.working]
    yours = _yours(line, worlds[0], answer, rounding)
    if yours:
        lines.append(yours)
    scores: dict[str, float] = {}
    values: dict[str, float] = {}
    for name, template in candidates(line, solution):
        for world in worlds:
            half = world.half(answer)
            if half is None:
                continue
            span = world.compute(line, template)
            if span is None:
                continue
            tolerance = half + span.radius
            if within(answer, span.value, half, span.radius, rounding or world.mode):
                score = abs(answer.value - span.value) / max(tolerance, TINY)
                if score < scores.get(name, math.inf):
                    scores[name] = score
                    values[name] = span.value
    named = tuple(sorted(scores, key=scores.__getitem__))
    if line.exact.origin is not None:  # the lecture's mistakes in the book's letters
        book = solution.translation
        own = book.book.sign_mistake
        renamed = {n: n if n == own else book.rule(n, True, flip=False) for n in named}
        values = {renamed[n]: v for n, v in values.items() if n in renamed}
        named = tuple(renamed[n] for n in named)
    for name in named:
        head, _, reason = name.partition(": ")  # "δ with the sign of …: your notes use …"
        line = f"your value is what {head} gives: {_as_written(values[name], answer, rounding)}"
        lines.append(f"{line} ({reason})" if reason else line)
    if not named:
        lines.append("none of the known mistakes gives your value")
    return Verdict(
        verdict.key,
        "wrong",
        "wrong",
        verdict.expected,
        answer,
        verdict.working,
        named,
        tuple(lines),
    )


@lru_cache(maxsize=16384)  # a class marked at once shows the same rows' working many times
def _working(row: Equation, fmt: Callable[[float], str]) -> str:
    """ "δ5 = o5(1 − o5)(t5 − o5) = 0.690283·(1 − 0.690283)·… = −0.040681"."""
    number = fmt if isinstance(fmt, NumberFormat) else NumberFormat(6)
    numbers = substituted(row.working or row.formula, row.values(), number)
    return f"{row.symbol} = {symbolic(row.formula)} = {numbers} = {number(row.value)}"


def _yours(line: Line, world: World, answer: Answer, rounding: str | None) -> str:
    """The formula with the student's own values, where they answered its operands."""
    row = line.exact
    names = list(dict.fromkeys(slots(line.template)))
    values = {name: world.operand(line, name).value for name in names}
    own = {
        name
        for name in names
        if (line.key[0], line.key[1], name) in world.pending
        and values[name] != row.values().get(name)
    }
    if not own:
        return ""
    result = evaluate(line.template, values)
    if result is None:
        return ""
    written = {
        name: world.pending[(line.key[0], line.key[1], name)].shown.replace("-", "−")
        for name in own
    }
    number = NumberFormat(6)
    text = line.template
    for name in own:
        shown = written[name]
        text = text.replace("{" + name + "}", f"({shown})" if shown.startswith("−") else shown)
    numbers = substituted(text, values, number)
    shown = _as_written(result, answer, rounding)
    if shown == _as_written(row.value, answer, rounding):
        return ""  # the same at the precision written: nothing to show
    return f"with your values: {symbolic(row.formula)} = {numbers} = {shown}"


def _as_written(value: float, answer: Answer, rounding: str | None) -> str:
    """A value at the precision the student wrote (or declared)."""
    if rounding:
        return NumberFormat(6, rounding)(round_value(value, rounding))
    short = abs(value) < 1e40 and answer.places <= QUOTE_LIMIT  # else no need to write it out
    text = f"{value:.{answer.places}f}" if short else ""
    if not text or len(text) > QUOTE_LIMIT:  # 1e300 or 1.5e-320 written out: a page of digits
        text = f"{value:.{min(answer.figures, 17)}g}"
    return text.replace("-", "−")


def unanswered(solution: Solution, key: Key) -> Verdict:
    row = solution.line(key).exact  # type: ignore[union-attr]
    return Verdict(key, "unanswered", "unanswered", row.value, None, _working(row, NumberFormat(6)))
