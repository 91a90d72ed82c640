"""The worked solution as marking reads it: every traced equation (a `Line`) under its key,
exact and in each rounding a student may carry — the type every model's rows become.

`solve` traces either model through its own functions (`tracing`); a computational graph's lines
carry its named slips (`graph.slips`). `Solution.questions` is a step's one question list. A
formula is evaluated through each operation's own definition (`formula`), never by executing
text.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any

from . import formula, tracing
from .core.rounding import written
from .definitions import notations
from .network.config import Spec
from .network.records import is_question
from .sheet import UNRESOLVED  # noqa: F401 (marking's modules import it from the solution)
from .worked import Equation, Section

ROUNDINGS = ("3sf", "4sf", "2sf", "4dp", "3dp", "2dp")  # recognised when none is declared

Key = tuple[int, int, str]  # (epoch, sample, trace symbol)


# ---------------------------------------------------------------- evaluating a formula


def evaluate(
    template: str, values: Mapping[str, float], rounding: str | None = None
) -> float | None:
    """The formula's value for these operands, through each operation's own definition
    (formula.py): only our own templates are read, and nothing is ever executed. `rounding`:
    worked as a student carrying it works it, each bracket written down rounded (the value
    itself is not: that is the caller's)."""
    parsed = formula.parse(template)
    if parsed is None:
        return None
    if rounding is None:
        return formula.evaluate(parsed, values)
    return formula.evaluate(parsed, values, lambda value: written(value, rounding))


def slots(template: str) -> list[str]:
    return re.findall(r"\{([^{}]+)\}", template)


@lru_cache(maxsize=4096)
def operand_names(template: str) -> tuple[str, ...]:
    """The distinct operand names of a template, in order (cached: marking a class evaluates
    the same templates many thousand times)."""
    return tuple(dict.fromkeys(re.findall(r"\{([^{}]+)\}", template)))


# ---------------------------------------------------------------- the solution


@dataclass(frozen=True, slots=True)
class Line:
    """One equation of the solution, in every rounding it is solved with."""

    key: Key
    template: str  # the formula (or its working) that evaluates to the value
    rows: Mapping[str | None, Equation]  # rounding (None: exact) → the equation
    section: Section  # where the trace shows it: its kind, title and rule (a quiz says them)
    heading: str  # its step's: "Epoch 1 · sample 2 of 4" ("" for a graph's one pass)
    slips: tuple[tuple[str, str], ...] = ()  # the model's own named slips on this line:
    # (name, the template a student who makes it evaluates) — a graph's (`graph.slips`), a
    # tensor layer's (`layers.tensor.row(slips=…)`, made templates by its model's `complete`)

    @property
    def exact(self) -> Equation:
        return self.rows[None]


@dataclass(frozen=True)
class Solution:
    """The traced solution of an exercise, exact and with each rounding a student may carry."""

    spec: Spec
    epochs: int
    modes: tuple[str | None, ...]  # None (exact) first, then roundings
    lines: tuple[Line, ...]  # in the order the solution finds them
    index: Mapping[Key, int]
    samples: int
    rounds_gradients: bool = False  # its rounded traces round every ∂ row too (a graph's): a
    # student carrying a rounding carries the gradients rounded (a network's ∂ factors are not)
    notation: str = notations.DEFAULT  # the textbook whose names its symbols are
    gradients: bool = False  # solved as asked with `gradients: true` (`--gradients`): the chain
    # rule's factors are questions too

    @property
    def translation(self) -> Any:
        """The solution's notation applied to its model: a network's `translation.Translation`,
        a model's `model_notation.ModelNotation` (what renames a symbol into the book's)."""
        return tracing.model(self.spec).renamer(self.spec)

    @cached_property
    def _spellings(self) -> dict[str, str]:
        return notations.lookup(list(dict.fromkeys(line.key[2] for line in self.lines)))

    def named(self, name: str) -> str | None:
        """The solution's symbol an answer's name stands for, in any spelling of the
        solution's notation (z^2_1, z2_1 and z²₁ are one name), or None."""
        return self._spellings.get(notations.canonical(name))

    def resolve(self, key: Key) -> Key:
        """The key as the solution has it: a batch update's rows (Δw, new w) stand in the
        epoch's last step, whichever sample an answer puts them under."""
        if key in self.index or not 1 <= key[1] <= self.samples:
            return key
        for sample in range(self.samples, 0, -1):
            if (key[0], sample, key[2]) in self.index:
                return (key[0], sample, key[2])
        return key

    def line(self, key: Key) -> Line | None:
        n = self.index.get(self.resolve(key))
        return None if n is None else self.lines[n]

    def questions(self, epochs: Iterable[int] | None = None) -> tuple[Key, ...]:
        """The step's one question list — what check counts, quiz asks and a sheet lists — in
        order: every quantity of the epochs' steps, the chain rule's factors only when asked
        with gradients (`is_question`), every model's alike (a graph's sheet lists them)."""
        wanted = set(epochs) if epochs is not None else {1}
        return tuple(
            line.key
            for line in self.lines
            if line.key[0] in wanted and is_question(line.exact, self.gradients)
        )


def solve(
    spec: Any, epochs: int = 1, rounding: str | None = None, gradients: bool | None = None
) -> Solution:
    """Trace `epochs` epochs of a model in full: exactly, and with the declared `rounding`
    carried (None: with each of `ROUNDINGS`, to recognise the one a student carried).
    `gradients`: a network's ∂E/∂w rows too (as `run --gradients`; default as `run`).
    Every model's steps are sections of `Equation`s: the solution is their rows, in order,
    each under its key with its section and step heading (a computational graph has one step:
    epoch 1, sample 1)."""
    modes: tuple[str | None, ...] = (None, rounding) if rounding else (None, *ROUNDINGS)
    model = tracing.model(spec)
    by_mode = {mode: model.steps(spec, epochs, mode, gradients) for mode in modes}
    lines: list[Line] = []
    index: dict[Key, int] = {}
    for number, (epoch, sample, sections, heading) in enumerate(by_mode[None]):
        for c, section in enumerate(sections):
            if section.kind == "verify":
                continue
            for r, row in enumerate(section.rows):
                if not isinstance(row, Equation):
                    continue
                key = (epoch, sample, row.symbol)
                if key in index:
                    continue
                rows = {mode: by_mode[mode][number][2][c].rows[r] for mode in modes}
                index[key] = len(lines)
                line = Line(key, _template(row), rows, section, heading)  # type: ignore[arg-type]
                lines.append(line)
    samples, asked = model.samples(spec), gradients is True
    return model.complete(
        Solution(spec, epochs, modes, tuple(lines), index, samples, gradients=asked)
    )


def _template(row: Equation) -> str:
    """The row's formula if it evaluates to its value, else its working (batch sums)."""
    for template in (row.formula, row.working):
        if template is None:
            continue
        value = evaluate(template, row.values())
        if value is not None and math.isclose(value, row.value, rel_tol=1e-9, abs_tol=1e-12):
            return template
    return row.formula
