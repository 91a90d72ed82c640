"""The names an answers file may use for a step, read from its worked solution: what
`backtrace check --names` lists, in the order the trace finds them.

Each row of the solution's first epoch is one name, spelt as any keyboard types it and read
back by the same reader `check` uses (`answers.Reading`), so that every name listed is one
`check` marks; its meaning comes from the model's own words for its symbols, or from the
row's formula where no words name it (an optimizer's state, a graph's node).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .. import tracing
from ..definitions import notations
from ..solution import ROUNDINGS, Line, Solution, solve
from .answers import Reading, reading, refuse_gradients


@dataclass(frozen=True, slots=True)
class Name:
    """One quantity of the step, as an answers file names it."""

    name: str  # as a file types it: "mhat_w36"
    symbol: str  # as the trace prints it: "m̂_w36"
    meaning: str  # in words ("output of unit 3"), or "" where `formula` says it
    formula: str  # the row's formula as a template: "{m_w36}/(1 − {β1}^{t})"
    section: str  # the title of the trace's section it stands in
    asked: bool  # a question of the step, counted in check's "x of N"; else marked if given


@dataclass(frozen=True, slots=True)
class Names:
    """A model's step, named."""

    title: str  # the model's name: "Lecture example (2-2-1, sigmoid)"
    names: tuple[Name, ...]
    samples: int  # samples a step has: sample 2's names go under `samples: {2: …}`
    questions: int  # what check asks of the epoch, every sample's step: its "x of N"
    gradients: bool | None = None  # as an answers file's `gradients:` asks (None: not said)
    notes: tuple[str, ...] = ()  # how its config was read, as its problem statement says


def names(spec: Any, gradients: bool | None = None) -> Names:
    """The names of a model's first step (a network's or a graph's), in the trace's order:
    every row `check` marks (a batch's updates after its forward pass) — with `gradients`,
    as an answers file's `gradients: true` (`false`) has it marked: the chain rule's rows
    (∂E/∂w, …) traced and asked too (left out)."""
    refuse_gradients(spec, gradients)
    # only the exact rows are read: one declared rounding is the cheapest solve
    solution = solve(spec, 1, ROUNDINGS[0], gradients=gradients)
    how = reading(spec)
    questions = solution.questions()
    asked = {key[2] for key in questions}
    seen: dict[str, Name] = {}
    for line in solution.lines:
        symbol = line.key[2]
        if symbol not in seen:
            seen[symbol] = _name(line, solution, how, symbol in asked)
    count, notes = len(questions), tracing.read_as(spec)
    return Names(spec.name, tuple(seen.values()), solution.samples, count, gradients, notes)


def _name(line: Line, solution: Solution, how: Reading, asked: bool) -> Name:
    symbol = line.key[2]
    spellings = (how.typed(symbol), how.name_of(symbol), symbol)
    typed = next((s for s in spellings if _reads(s, solution, how) == symbol), symbol)
    words = how.meaning(symbol) or ""
    return Name(typed, symbol, words, line.exact.formula, line.section.title, asked)


def _reads(name: str, solution: Solution, how: Reading) -> str | None:
    """The symbol `check` reads `name` as: in a textbook's notation by the solution's
    spellings, else by the model's reader (`check.resolve` reads them so)."""
    if solution.notation != notations.DEFAULT:
        found = solution.named(name)
        return found or (solution.named(how.symbol_of(name) or "") if how.spelt else None)
    return how.symbol_of(name)
