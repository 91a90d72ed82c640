"""`backtrace check`: a student's answers against the traced solution, marked as a fair marker does.

Each answer gets one verdict (`KINDS`):

- **right** — the right value at the precision the student used: the declared `round:` (whatever
  digits were typed: −0.6 is −0.600), else the digits written or a common rounding carried by hand
  (2–4 significant figures or decimal places), recognised and said; or the step's formula done
  right from the student's own right values as they wrote them.
- **coarse** — a right value written with one significant figure: too coarse to tell.
- **follows** — the step's formula evaluated with the student's own earlier values (a wrong one
  among them) gives it, however far down the step: error carried forward. A wrong value the
  student wrote, 0.561, stands for what they may have had in hand, [0.5605, 0.5615].
- **wrong** — otherwise; a named mistake (`MISTAKES`) is named when recomputing the step with that
  mistake, with the student's operands and the rounding they carried, gives their value.
- **unanswered** — a question of the exercise with no answer.

Everything is computed by evaluating the trace's own formulas with other operands — never by
matching numbers. `mark` marks answers against a `Solution` (`solve`); `mark_sheet` marks an
answers file into a `Report`; the CLI, the Python API, the quiz and the gradebook call these.
"""

from __future__ import annotations

import os
import re
import sys
import types
from dataclasses import replace
from typing import Any

from .. import models, tracing
from ..core import safefile
from ..core.errors import ConfigError
from ..core.rounding import parse as parse_rounding
from ..core.validate import nearest
from ..core.yamlsource import Document, parse
from ..definitions import notations
from ..solution import ROUNDINGS, UNRESOLVED, Key, Line, Solution, evaluate, slots, solve
from ..tracing import Source, load
from .answers import (
    ANSWERS_FILE,
    GRAPH,
    KEYS,
    MAX_EPOCHS,
    NETWORK,
    TEACHERS_ONLY,
    Answer,
    AnswerSheet,
    Reading,
    document,
    exercise_of,
    from_document,
    identity,
    read,
    read_as,
    read_rounding,
    reading,
    reading_of,
    yaml_place,
)
from .marker import Marker, mark, unanswered
from .mistakes import MISTAKES, Mistake, mistakes
from .spans import half_unit
from .verdicts import CREDITED, KINDS, Report, Verdict, as_dict, counted

__all__ = [
    "ANSWERS_FILE",
    "CREDITED",
    "GRAPH",
    "KEYS",
    "KINDS",
    "MAX_EPOCHS",
    "MISTAKES",
    "NETWORK",
    "ROUNDINGS",
    "TEACHERS_ONLY",
    "UNRESOLVED",
    "Answer",
    "AnswerSheet",
    "Key",
    "Line",
    "Marker",
    "Mistake",
    "Reading",
    "Report",
    "Solution",
    "Verdict",
    "as_dict",
    "check_report",
    "document",
    "evaluate",
    "from_document",
    "half_unit",
    "identity",
    "mark",
    "mark_sheet",
    "mistakes",
    "read",
    "read_as",
    "read_rounding",
    "reading",
    "reading_of",
    "resolve",
    "slots",
    "solve",
    "validate",
    "yaml_place",
]


def resolve(sheet: AnswerSheet, solution: Solution) -> AnswerSheet:
    """The sheet with each answer's name read in the notation the solution is in: z^2_1,
    z2_1 and z²₁ all name Nielsen's z^2_1 (ConfigError for one quantity given twice)."""
    book = solution.notation
    if book == notations.DEFAULT:
        return sheet
    answers = []
    seen: dict[Key, Answer] = {}
    doc = sheet.document or Document(sheet.source, None)
    spelt = reading(solution.spec).spelt

    def named(given: Answer) -> str | None:
        found = solution.named(given.name)
        return found or (solution.named(given.symbol) if spelt else None)

    for given in sheet.answers:
        symbol = named(given)
        answer = replace(given, symbol=symbol or UNRESOLVED + given.name)
        if symbol is not None:
            if answer.key in seen:
                first = yaml_place(seen[answer.key].where)
                raise doc.error(answer.where, f"the same quantity as {first}; give it once")
            seen[answer.key] = answer
        answers.append(answer)
    blanks = tuple(replace(b, symbol=named(b) or UNRESOLVED + b.name) for b in sheet.blanks)
    return replace(sheet, answers=tuple(answers), blanks=blanks)


def validate(sheet: AnswerSheet, solution: Solution) -> tuple[AnswerSheet, tuple[str, ...]]:
    """The sheet with only what this exercise has, and a note for each answer left unmarked:
    a name it has not (a typo: the nearest names said). A sample or epoch it has not, or a
    file none of whose names it has, is a ConfigError with the answers file's line, the
    valid range and this network's names. Blanks it has not are dropped."""
    doc = sheet.document or Document(sheet.source, None)
    for answer in sheet.answers:
        if answer.sample > solution.samples:
            where = answer.where[:2] if answer.where[:1] == ("samples",) else answer.where
            raise doc.error(
                where,
                f"this exercise has {counted(solution.samples, 'sample')}; "
                + (
                    "answer sample 1 only (or leave `samples:` out)"
                    if solution.samples == 1
                    else f"give samples 1 to {solution.samples}"
                ),
            )
    known = tuple(a for a in sheet.answers if _has(solution, a))
    blanks = tuple(b for b in sheet.blanks if b.sample <= solution.samples and _has(solution, b))
    if sheet.answers and not known and not blanks:  # no name of this exercise: another file's
        answer = sheet.answers[0]
        raise doc.error(answer.where, _not_here(answer, solution) + _listed(sheet.exercise))
    notes = tuple(_typo(doc, a, solution) for a in sheet.answers if not _has(solution, a))
    return replace(sheet, answers=known, blanks=blanks), notes


def _has(solution: Solution, answer: Answer) -> bool:
    return not answer.symbol.startswith(UNRESOLVED) and solution.line(answer.key) is not None


def _typo(doc: Document, answer: Answer, solution: Solution) -> str:
    """An answer whose name this exercise has not, and the names nearest it, as a report says
    it: "line 5, answers.dw64: not marked; no such name here — did you mean dw46 or dw14?"."""
    how = reading(solution.spec)
    symbols = [line.key[2] for line in solution.lines if line.key[:2] == answer.key[:2]]
    names = [spelt(symbol) for symbol in symbols for spelt in (how.name_of, how.typed)]
    near = nearest(answer.name, names)
    line = doc.line(answer.where)
    place = f"line {line}, " if line is not None else ""
    said = f"did you mean {' or '.join(near)}?" if near else "it is none of this exercise's"
    return f"{place}{yaml_place(answer.where)}: not marked; no such name here — {said}"


def _not_here(answer: Answer, solution: Solution) -> str:
    """What this network has instead of the answer's name: its names of the same kind (a
    graph's: its names)."""
    own = reading(solution.spec).no_such  # a graph's names are its own, not a book's
    if own is not None:
        return own(answer.name, [line.key[2] for line in solution.lines])

    def head(name: str) -> str:
        return re.sub(r"[\d_]+$", "", name)

    typed = reading(solution.spec).typed  # as the student can type them: dE/dw36
    names = list(dict.fromkeys(typed(line.key[2]) for line in solution.lines))
    same = [n for n in names if head(n) == head(typed(answer.symbol))]
    near = [] if same else nearest(answer.name, names)
    shown = same or [n for n in names if "/" not in n]  # the gradients are each w's again
    listing = ", ".join(shown[:12]) + (", …" if len(shown) > 12 else "")
    shape = "-".join(map(str, solution.spec.layers))
    book = solution.spec.notation
    where = "" if book == "lecture" else f" in {book}'s notation"
    said = f"did you mean {' or '.join(near)}?" if near else f"it has {listing}"
    return f"this network ({shape}) has no {answer.name}{where}; {said}"


def _listed(exercise: Any) -> str:
    """Where a student finds an exercise's names: `check --names` on it."""
    if not isinstance(exercise, str):  # inline, or given by the API: no command to name
        return ""
    import shlex  # only when a file is refused, for start-up time

    return f" (`backtrace check --names {shlex.quote(exercise)}` lists them all)"


WORK = 2_500  # rows of working one answers file may have traced (each rounding again)


def affordable(sheet: AnswerSheet, spec: Any) -> None:
    """Refuse, at its `epochs:`, a file whose last epoch answered would have `check` trace
    more than `WORK` rows: every epoch up to it, in full, with each rounding — the softmax
    example's epoch 100 is 40,800 rows, half a minute. Epoch 1 is always traced."""
    epochs = sheet.epochs
    if epochs == 1:
        return
    steps = tracing.model(spec).steps(spec, 1, None, sheet.gradients)
    rows = sum(len(section.rows) for _, _, sections, _ in steps for section in sections)
    if rows * epochs <= WORK:
        return
    last = max((*sheet.answers, *sheet.blanks), key=lambda answer: answer.epoch)
    doc = sheet.document or Document(sheet.source, None)
    raise doc.error(
        last.where[:2],
        f"check traces every epoch up to the last one answered, in full: {epochs} epochs of "
        f"this {tracing.model(spec).answers} are {rows * epochs:,} rows of working, past the "
        f"{WORK:,} one file may ask; answer epochs up to {max(WORK // rows, 1)}",
    )


def mark_sheet(
    sheet: AnswerSheet,
    spec: models.Model,
    title: str | None = None,
    *,
    solution: Solution | None = None,
    questions: tuple[Key, ...] | None = None,
    notation_book: str | None = None,
) -> Report:
    """Mark an answers file against `spec`, a network or a graph: its answers, and (against an
    exercise) every question of the epochs it answers, unanswered ones included. `solution`:
    `spec` already solved for this sheet's epochs and rounding (the gradebook solves each
    variant once); `questions`: only these are asked (a sheet written with `exercise --ask`),
    and answers to anything else are not marked."""
    epochs = sheet.epochs
    book = notation_book or sheet.notation
    if book is not None and book != spec.notation:
        spec = replace(spec, notation=book)
        if solution is not None and solution.spec.notation != book:
            solution = None
    if solution is None:
        affordable(sheet, spec)
        solution = solve(spec, epochs, sheet.rounding, gradients=sheet.gradients)
    sheet, notes = validate(resolve(sheet, solution), solution)
    marked = {v.key: v for v in mark(solution, sheet.answers, sheet.rounding)}
    asked = questions is not None or sheet.against_exercise
    blanks = tuple(solution.resolve(blank.key) for blank in sheet.blanks)
    if questions is not None:
        questions = tuple(key for key in questions if key in solution.index)
        marked = {key: marked[key] for key in questions if key in marked}
    elif sheet.against_exercise:
        epochs_answered = {answer.epoch for answer in (*sheet.answers, *sheet.blanks)}
        questions = solution.questions(epochs_answered)
    else:
        questions = blanks  # no exercise: the blanks are the questions left out
    keys = set(marked) | set(questions)
    ordered = sorted(keys, key=solution.index.__getitem__)
    verdicts = tuple(marked.get(key) or unanswered(solution, key) for key in ordered)
    if asked:  # an answer beyond the step's questions (a ∂ factor) is marked, not counted
        listed = set(questions)
        verdicts = tuple(v if v.key in listed else replace(v, asked=False) for v in verdicts)
    return Report(
        title or f"Check of {sheet.source} against {spec.name}",
        verdicts,
        len(questions) if asked else None,
        sheet.rounding,
        sheet.source,
        notes,
        tracing.read_as(spec),  # as its problem statement says, and the mode marked
    )


# ---------------------------------------------------------------- answers of any model


def _rounding_spec(rounding: str) -> str:
    parsed = parse_rounding(rounding)
    if parsed is None:
        raise ConfigError("<answers>", None, "round", f"{rounding!r}: use e.g. 3sf or 4dp")
    return f"{parsed[0]}{parsed[1]}"


def check_report(
    answers: Any,
    config: Source = None,
    *,
    rounding: str | None = None,
    notation: str | None = None,
) -> Report:
    """Mark answers into a `check.Report`. `answers`: an answers file's path, or a mapping —
    an answers file's keys (`answers`, `samples`, `round`, …) or just names to values
    (`{"o5": 0.69, "delta5": "−0.0406"}`). `config`: what to mark against (wins over the
    file's `exercise:`); `rounding`: the rounding carried (wins over the file's `round:`)."""
    if isinstance(answers, (str, os.PathLike)):
        path = os.fspath(answers)
        text = safefile.read_text(path, None, ANSWERS_FILE)
        doc, base = parse(text, path, ANSWERS_FILE), os.path.dirname(os.path.abspath(path))
    elif isinstance(answers, dict):
        data = answers if any(key in KEYS for key in answers) else {"answers": answers}
        doc, base = Document("<answers>", dict(data)), "."
    else:
        raise ConfigError(
            "<answers>", None, None, "give an answers file's path or a mapping of names to values"
        )
    # read by the model it answers: the config given, else the exercise the file names
    against = load(config) if config is not None else None
    how = reading(against) if against is not None else reading_of(doc, base)
    named = config is None and not isinstance(answers, dict)
    sheet = from_document(doc, base, named, reading=how)
    if rounding is not None:
        sheet = replace(sheet, rounding=_rounding_spec(rounding))
    spec = against if against is not None else exercise_of(sheet)
    tracing.model(spec).refuse_notation(notation)
    if reading(spec) is not how:  # `config: circuit`: a graph's name where a network's goes
        sheet = read_as(sheet, reading(spec))
    return mark_sheet(sheet, spec, notation_book=notation)


class _CallableModule(types.ModuleType):
    """`backtrace_cli.check(answers, config)` is the Python API's call (`api.check`), run here
    where the marking is: the module of the same name holds it."""

    def __call__(
        self,
        answers: Any,
        config: Any = None,
        *,
        rounding: str | None = None,
        notation: str | None = None,
    ) -> dict[str, Any]:
        return as_dict(check_report(answers, config, rounding=rounding, notation=notation))


sys.modules[__name__].__class__ = _CallableModule
