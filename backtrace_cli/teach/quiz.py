"""`backtrace quiz`: the traced step asked one equation at a time, each answer marked at once.

The questions are the worked solution's lines (`solution.solve`), every model's alike, in the
order the trace shows them, each with its section and step heading, so every kind of equation a
stage records — forward pass, dropout, error, δ, updates, a graph's nodes and gradients, and
whatever later stages add — is asked without the quiz knowing its maths or its model.
Answers are marked by `check`'s rules against the same traces `check` builds, with the earlier
answers of the session as the student's own values, so a session written with `-o` is marked
the same by `backtrace check`. Input and output go through a `Dialogue`: rich prompts on a
terminal, one answer per line from a pipe.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import IO, TYPE_CHECKING, Any

from .. import tracing
from ..core import numerals
from ..core.errors import ConfigError, cut, visible
from ..network.records import Equation, Section
from . import check, hints
from .answers import refuse_gradients
from .session_file import session_text  # noqa: F401 (the CLI writes a session through here)

if TYPE_CHECKING:
    from rich.console import Console

    from ..render.numbers import NumberFormat

HINT, REVEAL = "?", "!"
_PER_SAMPLE = re.compile(r"(.+)⁽(\d+)⁾")  # a batch update's operand: δ5⁽2⁾ is sample 2's δ5
RIGHT, NOT_RIGHT, INTERRUPTED = 0, 1, 130


# ---------------------------------------------------------------- what is asked


@dataclass(frozen=True, slots=True)
class Question:
    """One equation to find: the right value is the trace's (at the rounding carried)."""

    number: int  # 1-based
    sample: int  # whose step it belongs to (1-based)
    heading: str  # the step's: "Epoch 1 · sample 2 of 4"
    section: Section
    row: Equation
    name: str  # as an answers file names it: "delta3" for δ3

    @property
    def key(self) -> check.Key:
        return (1, self.sample, self.row.symbol)


@dataclass(frozen=True, slots=True)
class Quiz:
    """Everything a session needs: the questions and the solution its answers are marked on."""

    spec: Any  # the model's (a network's or a graph's)
    rounding: str | None  # --round: the rounding the student carries
    tries: int
    questions: tuple[Question, ...]
    solution: check.Solution  # what check marks against: exact, and each rounding carried
    what: str  # what is asked: "epoch 1 · sample 1 of 1"
    steps: int = 1  # how many samples' steps are asked (their headings shown when several)
    gradients: bool | None = None  # --gradients: the chain-rule rows were asked too
    ask: tuple[str, ...] = ()  # --ask: only these sections, kinds or names ("o", "delta")
    of: int = 0  # how many questions the step has (with --ask, more than are asked)
    notes: tuple[str, ...] = ()  # how its config was read, as its problem statement says


def build(
    spec: Any,
    *,
    rounding: str | None = None,
    sample: int | None = None,
    tries: int = 2,
    gradients: bool | None = None,
    ask: tuple[str, ...] = (),
) -> Quiz:
    """The questions of the traced step — the epoch `run` traces, sample by sample — or of
    one sample's step (in batch mode with the epoch's update after it): the worked solution's
    question list of epoch 1 (`Solution.questions`, what `check` counts), in the order the
    trace shows them, each quantity once; with `ask`, only the sections, kinds and names it
    lists (`exercise --ask`'s, ValueError for one the step has not, listing those it has)."""
    what = tracing.model(spec).quizzed(spec, sample)  # ConfigError for a sample it has not
    how = check.reading(spec)  # its answers file's: names a symbol (delta3, df/dx), its keys
    refuse_gradients(spec, gradients)
    solution = check.solve(spec, 1, rounding, gradients=gradients)
    lines = _of_sample(solution, solution.questions(), sample)  # check's questions
    every = len(lines)
    if ask:  # any row check --names lists may be asked by name: a factor (∂E/∂o5) too
        rows = tuple(line.key for line in solution.lines if line.key[0] == 1)
        lines = chosen(spec, solution, lines, ask, gradients, _of_sample(solution, rows, sample))
    questions = tuple(
        Question(
            n,
            line.key[1],
            line.heading,
            line.section,
            line.rows[rounding],
            how.name_of(line.key[2]),
        )
        for n, line in enumerate(lines, start=1)
    )
    if "gradients" not in how.keys:  # a graph's answers file has no `gradients:` to say it
        gradients = None
    steps = solution.samples if sample is None else 1
    notes = tracing.read_as(spec)  # a square matrix's layout, the mode it is asked in
    return Quiz(
        spec, rounding, tries, questions, solution, what, steps, gradients, ask, every, notes
    )


def _of_sample(solution: check.Solution, keys: tuple[check.Key, ...], sample: int | None) -> list:
    """The lines of `keys` that `sample`'s step asks (None: every sample's)."""
    found = [solution.lines[solution.index[key]] for key in keys]
    lines = [line for line in found if sample in (None, line.key[1])]
    if sample is not None:  # a batch's one update stands in the epoch's last step: after it
        lines += [
            line
            for line in found
            if line.key[1] != sample
            and line.section.kind == "update"
            and solution.resolve((1, sample, line.key[2])) == line.key
        ]
    return lines


def chosen(
    spec: Any,
    solution: check.Solution,
    lines: list[Any],
    ask: tuple[str, ...],
    gradients: Any,
    rows: list[Any] | None = None,
) -> list[Any]:
    """The lines `ask` names: whole sections by their kind (forward, delta, …) of the
    questions `lines`, and kinds and single quantities as `exercise --ask` reads them (the
    model's `questions`, which says what the step has when a name is not in it) of all the
    step's `rows`, in their order."""
    sections = list(dict.fromkeys(line.section.kind for line in lines))
    whole = {a for a in ask if a in sections}
    named = tuple(a for a in ask if a not in whole)
    picked: set[check.Key] = set()
    if named:
        model = tracing.model(spec)
        try:  # a network's sheet reads its traced step; a graph's traces its one pass
            traced = model.trace(spec, full=True, gradients=gradients)
            found = model.questions(spec, named, traced)
        except ValueError as err:
            raise ValueError(f"{err}; or whole sections: {', '.join(sections)}") from None
        picked = {solution.resolve(question.key) for question in found}
    questions = {line.key for line in lines}
    kept = [
        line
        for line in (lines if rows is None else rows)
        if (line.section.kind in whole and line.key in questions) or line.key in picked
    ]
    if not kept:
        raise ValueError(f"{', '.join(ask)}: none of them is a question of this step")
    return kept


# ---------------------------------------------------------------- marking


@dataclass(frozen=True, slots=True)
class Attempt:
    """One value typed, and its verdict."""

    answer: check.Answer
    verdict: str  # check's words: "right", "follows from your o3", "wrong", …
    ok: bool
    reasons: tuple[str, ...] = ()  # the named mistakes that give the value, best first


def number(text: str) -> str | None:
    """What a student typed as a plain decimal ("−1.50e-3" → "-0.00150"), keeping every digit
    they wrote; None if it is not a number."""
    cleaned = numerals.plain(text)
    if cleaned is None or "_" in text or numerals.problem(text) is not None:
        return None  # formatting 0.755e-999999999999 in full would take gigabytes
    plainly = format(Decimal(cleaned), "f")
    # 1e300 in full is 301 digits: kept as typed, so the session file and echoes stay short
    return plainly if len(plainly) <= numerals.MAX_LENGTH else cleaned


def mark(marker: check.Marker, question: Question, written: str) -> Attempt:
    """Mark one value as `check` marks it in a sheet holding the earlier answers of the
    session (the student's own values, for error carried forward), which `marker` holds."""
    answer = check.Answer(
        name=question.name,
        symbol=question.row.symbol,
        value=float(written),
        written=written,
        epoch=1,
        sample=question.sample,
    )
    verdict = marker.judge(answer)
    return Attempt(answer, verdict.verdict, verdict.ok, verdict.mistakes)


# ---------------------------------------------------------------- a session


@dataclass(frozen=True, slots=True)
class Outcome:
    """How one question went."""

    question: Question
    attempts: tuple[Attempt, ...]
    hints: int = 0
    revealed: bool = False

    @property
    def right(self) -> bool:
        return bool(self.attempts) and self.attempts[-1].ok and not self.revealed

    @property
    def final(self) -> check.Answer | None:
        """What the session file records: the last value typed (none if revealed first)."""
        return self.attempts[-1].answer if self.attempts else None


@dataclass(frozen=True, slots=True)
class Summary:
    quiz: Quiz
    outcomes: tuple[Outcome, ...]  # the questions reached, in order
    stopped: str = ""  # "": every question asked; "input ended"; "interrupted"

    @property
    def score(self) -> int:
        return sum(o.right for o in self.outcomes)

    @property
    def total(self) -> int:
        return len(self.quiz.questions)

    @property
    def status(self) -> int:
        if self.stopped == "interrupted":
            return INTERRUPTED
        return RIGHT if self.score == self.total else NOT_RIGHT

    def answers(self) -> list[check.Answer]:
        return [o.final for o in self.outcomes if o.final is not None]


MAX_LINE = 1_000  # bytes of one answer read from a pipe; a number needs far fewer


class Dialogue:
    """Where the quiz talks: a rich console, and a way to read one answer."""

    def __init__(self, console: Console, read: Callable[[str], str | None]) -> None:
        self.console = console
        self.read = read

    def say(self, *parts: str | tuple[str, str]) -> None:
        """One line from plain strings and (text, style) pairs; nothing is read as markup."""
        from rich.text import Text

        self.console.print(Text.assemble(*parts))


def terminal(console: Console) -> Dialogue:
    """Rich prompts with line editing; Ctrl-D ends the input."""
    from rich.text import Text

    def read(prompt: str) -> str | None:
        try:
            return console.input(Text.assemble((prompt, "bold cyan"), " = "))
        except EOFError:
            console.print()
            return None

    return Dialogue(console, read)


def pipe(console: Console, stream: IO[str]) -> Dialogue:
    """One answer per line; each is written after its prompt, so the output reads as a
    transcript. An empty stream (or its end) ends the input. A line longer than MAX_LINE
    bytes or not UTF-8 is a ConfigError: stdin may be /dev/zero or a binary file."""
    # the bytes underneath when there are any: decoded here, strictly, whatever the locale
    raw: IO[bytes] | None = getattr(stream, "buffer", None)
    count = 0

    def fail(problem: str) -> ConfigError:
        console.print()
        return ConfigError("<stdin>", count, None, problem)

    def read(prompt: str) -> str | None:
        nonlocal count
        console.print(f"{prompt} = ", end="", markup=False)
        console.file.flush()
        count += 1
        # never more than a line's worth: /dev/zero has no end and no newline
        got = raw.readline(MAX_LINE + 1) if raw is not None else stream.readline(MAX_LINE + 1)
        if len(got) > MAX_LINE and got[-1:] not in (b"\n", "\n"):
            raise fail(f"a line longer than {MAX_LINE:,} bytes; type one answer per line")
        try:
            line = got.decode("utf-8") if isinstance(got, bytes) else got
        except UnicodeDecodeError:
            raise fail("not text (expected UTF-8): type one answer per line") from None
        if not line:
            console.print()
            return None
        line = line.rstrip("\r\n")
        # typed text, echoed: never markup ([/x] is not a tag), never a terminal escape
        console.print(cut(line), markup=False)
        return line

    return Dialogue(console, read)


def dialogue(stdin: IO[str], stdout: IO[str]) -> Dialogue:
    """A terminal gets rich prompts; anything else is read one answer per line."""
    from rich.console import Console

    if stdin.isatty():
        return terminal(Console(file=stdout, highlight=False, emoji=False))
    plain = Console(file=stdout, highlight=False, emoji=False, color_system=None, soft_wrap=True)
    buffer = getattr(stdin, "buffer", None)
    if buffer is not None:  # bytes that are not UTF-8 are not a number, not a traceback
        import io

        stdin = io.TextIOWrapper(buffer, encoding="utf-8", errors="surrogateescape")
    return pipe(plain, stdin)


def play(quiz: Quiz, talk: Dialogue, fmt: NumberFormat) -> Summary:
    """Ask every question in order; stops cleanly when the input ends or on Ctrl-C."""
    outcomes: list[Outcome] = []
    _introduce(quiz, talk)
    # the session's answers so far, marked once each: a new one costs its own lines only
    state = _Asking(quiz, talk, fmt, {}, check.Marker(quiz.solution, quiz.rounding))
    stopped = ""
    several = quiz.steps > 1
    try:
        section = heading = None
        for question in quiz.questions:
            if several and question.heading != heading:
                heading = question.heading
                talk.say()
                talk.say((heading, "bold underline"))
            if question.section is not section:
                section = question.section
                talk.say()
                talk.say((section.title, "bold"), "   ", (section.rule, "dim"))
            outcome = state.ask(question)
            outcomes.append(outcome)
            if outcome.final is not None:  # the value later questions are marked with
                state.marker.add(outcome.final)
            state.current = None
            if state.stopped:
                stopped = state.stopped
                break
    except KeyboardInterrupt:
        stopped = "interrupted"
        if state.current is not None:
            outcomes.append(state.current)
        talk.console.print()
    summary = Summary(quiz, tuple(outcomes), stopped)
    _conclude(summary, talk, fmt)
    return summary


@dataclass
class _Asking:
    """The state of the question being asked (kept so Ctrl-C can count what was typed)."""

    quiz: Quiz
    talk: Dialogue
    fmt: NumberFormat
    # (sample, symbol) → the value later questions use: as the student wrote it, or None
    # when they did not find it (the quiz goes on with the right value)
    carried: dict[tuple[int, str], str | None]
    marker: check.Marker  # the final answers of the questions before this one
    current: Outcome | None = None
    stopped: str = ""

    def ask(self, question: Question) -> Outcome:
        self.current = outcome = Outcome(question, ())
        row, talk, total = question.row, self.talk, len(self.quiz.questions)
        # a constant's formula is its value (∂net/∂b = 1, add's local gradient): not shown
        formula = "" if _constant(row) else " = " + _symbolic(row.formula)
        talk.say((f"[{question.number}/{total}] ", "dim"), (row.symbol, "bold cyan"), formula)
        givens = self._givens(question)
        if givens:
            talk.say("      with ", givens)
        tries = self.quiz.tries
        while True:
            line = talk.read(row.symbol)
            if line is None:
                self.stopped = "input ended"
                return outcome
            typed = line.strip()
            if not typed:
                continue
            if typed == HINT:
                self.current = outcome = _replace(outcome, hints=outcome.hints + 1)
                talk.say(("  hint: ", "yellow"), self._hint(question))
                continue
            if typed == REVEAL:
                self.current = outcome = _replace(outcome, revealed=True)
                talk.say(("  answer: ", "yellow"), self._working(row))
                self.carried[question.sample, row.symbol] = None
                return outcome
            trouble = numerals.problem(typed)
            if trouble is not None:
                talk.say(("  ", ""), (trouble, "red"))
                continue
            written = number(typed)
            if written is None:
                comma = re.fullmatch(r"[-−]?\d*,\d+", typed)
                fix = (
                    f"write a decimal point: {typed.replace(',', '.')}"
                    if comma
                    else f"type {row.symbol} as a number (e.g. −0.0407)"
                )
                talk.say(
                    ("  ", ""),
                    (f"{typed[:20]!r} is not a number", "red"),
                    f": {fix}, {HINT} for a hint, {REVEAL} to see the answer",
                )
                continue
            attempt = mark(self.marker, question, written)
            self.current = outcome = _replace(outcome, attempts=(*outcome.attempts, attempt))
            if attempt.ok:
                talk.say(("  ✓ ", "bold green"), (attempt.verdict, "green"))
                self.carried[question.sample, row.symbol] = written
                return outcome
            tries -= 1
            talk.say(("  ✗ wrong", "bold red"), *(f" — {reason}" for reason in attempt.reasons))
            if tries > 0:
                talk.say(f"  try again ({tries} {'try' if tries == 1 else 'tries'} left)")
                continue
            talk.say(("  answer: ", "yellow"), self._working(row))
            self.carried[question.sample, row.symbol] = None
            return outcome

    def _yours(self, sample: int, name: str) -> str | None:
        """An operand as the student found it earlier, if they did: δ5⁽2⁾ is sample 2's δ5;
        w13 in a later sample's step is the new w13 of the last update before it."""
        per_sample = _PER_SAMPLE.fullmatch(name)
        if per_sample:
            return self.carried.get((int(per_sample.group(2)), per_sample.group(1)))
        if (sample, name) in self.carried:
            return self.carried[sample, name]
        for earlier in range(sample - 1, 0, -1):  # parameters and optimizer state, updated
            if (earlier, f"new {name}") in self.carried:
                return self.carried[earlier, f"new {name}"]
        return None

    def _values(self, question: Question) -> dict[str, float]:
        """The operands as this session carries them: the student's accepted values."""
        values = question.row.values()
        for name in values:
            text = self._yours(question.sample, name)
            if text is not None:
                values[name] = float(text)
        return values

    def _givens(self, question: Question) -> str:
        shown = []
        for name, value in question.row.used():
            text = self._yours(question.sample, name)
            shown.append(f"{name} = {_written(text) if text else self.fmt(value)}")
        return ", ".join(shown)

    def _hint(self, question: Question) -> str:
        """The rule and the values it needs (`hints`), never the answer."""
        return hints.hint(question.row, question.section, self._values(question), self.fmt)

    def _working(self, row: Equation) -> str:
        """The formula with the right numbers, and the value."""
        from ..render.numbers import substituted

        numbers = substituted(row.working or row.formula, row.values(), self.fmt)
        return f"{row.symbol} = {_symbolic(row.formula)} = {numbers} = {self.fmt(row.value)}"


def _constant(row: Equation) -> bool:
    return "{" not in row.formula + (row.working or "")


def _replace(outcome: Outcome, **changes: Any) -> Outcome:
    from dataclasses import replace

    return replace(outcome, **changes)


def _symbolic(template: str) -> str:
    from ..render.numbers import symbolic

    return symbolic(template)


def _written(text: str) -> str:
    return text.replace("-", "−")


def _introduce(quiz: Quiz, talk: Dialogue) -> None:
    """The title; with --ask, the step and what is asked each on a line of their own (a name
    alone may take 60 columns of an 80-column terminal, the step 45); any note on how the
    config was read."""
    if quiz.ask:
        talk.say(("Quiz: ", "bold"), (visible(quiz.spec.name), "bold"))
        talk.say(quiz.what[:1].upper() + quiz.what[1:])
        asked = ", ".join(quiz.ask)  # a long list wraps between names, never inside one
        talk.say(f"Asking {len(quiz.questions)} of its {quiz.of} equations: --ask {asked}")
    else:
        talk.say(
            ("Quiz: ", "bold"),
            (visible(quiz.spec.name), "bold"),
            f" · {len(quiz.questions)} equations · {quiz.what}",
        )
    for note in quiz.notes:
        talk.say((f"Note: {note}", "yellow"))
    carried = f"; carry {quiz.rounding} as you go (--round)" if quiz.rounding else ""
    talk.say(
        f"Type each value{carried}. {HINT} shows a hint, {REVEAL} the answer; "
        f"{quiz.tries} {'try' if quiz.tries == 1 else 'tries'} a question."
    )


def _conclude(summary: Summary, talk: Dialogue, fmt: NumberFormat) -> None:
    talk.say()
    reached = len(summary.outcomes)
    answered = sum(bool(o.attempts) or o.revealed for o in summary.outcomes)
    if summary.stopped:
        talk.say(
            (summary.stopped.capitalize(), "yellow"),
            f" at question {reached} of {summary.total}: {summary.total - answered} not answered.",
        )
    style = "bold green" if summary.score == summary.total else "bold"
    talk.say((f"Score: {summary.score} of {summary.total}", style))
    mistakes = [o for o in summary.outcomes if any(not a.ok for a in o.attempts) or o.revealed]
    if mistakes:
        talk.say("Mistakes made:")
    for outcome in mistakes:
        row = outcome.question.row
        tried = [
            _written(a.answer.shown) + "".join(f" — {r}" for r in a.reasons)
            for a in outcome.attempts
            if not a.ok
        ]
        if outcome.right:
            end = f"right at try {len(outcome.attempts)}"
        elif outcome.revealed:
            end = f"revealed: {fmt(row.value)}"
        else:
            end = f"the answer is {fmt(row.value)}"
        parts = [", then ".join(tried)] if tried else []
        talk.say("  ", (row.symbol, "bold"), ": " + "; ".join([*parts, end]))
    hinted = [o.question.row.symbol for o in summary.outcomes if o.hints]
    if hinted:
        talk.say(f"Hints used: {', '.join(hinted)}")
