"""What marking gives: a `Verdict` per answer (one of `KINDS`), a `Report` per answers file,
and the report as the JSON document `check --format json` prints.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..core.validate import counted
from ..definitions import notation
from ..solution import Key
from .answers import Answer

KINDS = ("right", "coarse", "follows", "wrong", "unanswered")
CREDITED = ("right", "coarse", "follows")  # count toward the mark


@dataclass(frozen=True, slots=True)
class Verdict:
    """How one question was answered."""

    key: Key
    kind: str  # one of KINDS
    verdict: str  # in words: "right for 3sf carried", "follows from your o3", …
    expected: float  # the right value, full precision
    answer: Answer | None = None  # None: unanswered
    working: str = ""  # "δ5 = o5(1 − o5)(t5 − o5) = 0.690283·… = −0.040681"
    mistakes: tuple[str, ...] = ()  # named mistakes that give the value, best first
    diagnosis: tuple[str, ...] = ()  # a wrong answer's lines: the working, yours, the mistakes
    carried: str | None = None  # the rounding the value was recognised in
    asked: bool = True  # one of the questions counted; False: an answer to a row the step does
    # not ask (a chain-rule factor without `gradients: true`), marked but not in "x of N"

    @property
    def ok(self) -> bool:
        return self.kind in CREDITED

    @property
    def symbol(self) -> str:
        return self.key[2]

    @property
    def name(self) -> str:
        """The name in answers files and reports: delta5, dw45, w45."""
        return notation.answer_name(self.key[2])

    @property
    def epoch(self) -> int:
        return self.key[0]

    @property
    def sample(self) -> int:
        return self.key[1]


# ---------------------------------------------------------------- a marked answers file


@dataclass(frozen=True)
class Report:
    """A marked answers file: a verdict per answer and per unanswered question."""

    title: str
    verdicts: tuple[Verdict, ...]  # in the solution's order; unanswered questions included
    questions: int | None  # N when marked against an exercise: the step's question list
    # (`Solution.questions`; answers beyond it are marked, not counted); None: only the answers
    rounding: str | None = None
    source: str = ""
    notes: tuple[str, ...] = ()  # what the marker says of the file: an answer it could not
    # mark (a name the exercise has not), a variant other than the one marked against
    read: tuple[str, ...] = ()  # how the exercise's config was read, where it needs saying (a
    # square matrix's layout): said of the exercise, never a fault of the file

    def count(self, *kinds: str) -> int:
        return sum(v.kind in kinds for v in self.verdicts if v.asked)

    @property
    def credited(self) -> int:
        return self.count(*CREDITED)

    @property
    def total(self) -> int:
        return sum(v.asked for v in self.verdicts)

    @property
    def answered(self) -> tuple[Verdict, ...]:
        return tuple(v for v in self.verdicts if v.kind != "unanswered")

    @property
    def unanswered(self) -> tuple[Verdict, ...]:
        return tuple(v for v in self.verdicts if v.kind == "unanswered")

    @property
    def all_right(self) -> bool:
        """Every question right (and every answer beyond them), and nothing said of the file
        (an unmarked answer)."""
        return all(v.ok for v in self.verdicts) and not self.notes

    def summary(self) -> str:
        """ "12 of 23 questions: 10 right, 1 follows …; 1 wrong; 10 unanswered"."""
        noun = "question" if self.questions is not None else "answer"
        head = f"{self.credited} of {counted(self.total, noun)}"
        parts = []
        for kind, words in (
            ("right", "right"),
            ("coarse", "right but too coarse"),
            ("follows", "following from your own values"),
            ("wrong", "wrong"),
            ("unanswered", "unanswered"),
        ):
            n = self.count(kind)
            if n and not (kind == "right" and n == self.total):
                parts.append(f"{n} {words}")
        beyond = sum(not (v.asked or v.ok) for v in self.verdicts)  # a ∂ factor, not counted
        wrong = f"; {counted(beyond, 'answer')} beyond them wrong" if beyond else ""
        return head + (" — " + ", ".join(parts) if parts else " right") + wrong


# ---------------------------------------------------------------- the report as data


def as_dict(report: Report) -> dict[str, Any]:
    """The report as the JSON document `check --format json` prints (backtrace-check v1)."""

    def entry(v: Verdict) -> dict[str, Any]:
        return {
            "name": v.name,
            "symbol": v.symbol,
            "epoch": v.epoch,
            "sample": v.sample,
            "yours": v.answer.value if v.answer else None,
            "written": v.answer.shown if v.answer else None,
            "expected": v.expected,
            "kind": v.kind,
            "verdict": v.verdict,
            "ok": v.ok,
            "working": v.working,
            "mistakes": list(v.mistakes),
            "diagnosis": list(v.diagnosis) or None,
        }

    return {
        "format": "backtrace-check",
        "version": 1,
        "title": report.title,
        "rounding": report.rounding,
        "correct": report.credited,
        "total": report.total,
        "questions": report.questions,
        "summary": report.summary(),
        "counts": {kind: report.count(kind) for kind in KINDS},
        "answers": [entry(v) for v in report.answered],
        "unanswered": [
            {"name": v.name, "symbol": v.symbol, "epoch": v.epoch, "sample": v.sample}
            for v in report.unanswered
        ],
        "notes": list(report.notes),
        **({"exercise_notes": list(report.read)} if report.read else {}),
    }
