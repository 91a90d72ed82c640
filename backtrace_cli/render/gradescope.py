"""A marked answers file as Gradescope's autograder `results.json`. Formats only.

Gradescope's documented format (gradescope-autograders.readthedocs.io, "Autograder
Specifications"): a top-level `score` and `output` for the whole submission, and `tests`, one
per question here, each with `name`, `score`, `max_score`, `status`, `output` (the verdict, the
working with numbers, the named mistake) and `visibility`. A question left unanswered shows no
working: a blank submission must not fetch the key.
"""

from __future__ import annotations

import html
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..core.errors import visible
from ..solution import Key
from .numbers import points_text
from .report import as_json, label  # noqa: F401 (gradescope.as_json: the CLI writes results so)

if TYPE_CHECKING:  # teach's records, read here: render imports nothing of teach's
    from ..teach.verdicts import Report, Verdict


def results(
    report: Report,
    score: tuple[float, float],
    weight: Callable[[Key], float],
    visibility: str = "visible",
    variant: str = "",
) -> dict[str, Any]:
    """The results of one marked file: `score` (points earned, possible), as
    `teach.points.score` counts them with `weight`, each question's points."""
    earned, possible = score
    name = os.path.basename(report.source) or report.source
    against = f", variant {visible(variant)}" if variant else ""
    lines = [
        f"{visible(name)}{against}: {report.summary()}.",
        f"Points: {points_text(earned)} of {points_text(possible)}.",
        *(f"Note: {visible(note)}" for note in report.notes),
    ]
    return {
        "score": _number(earned),
        "output": _simple(lines),
        "output_format": "simple_format",
        "tests": [_test(v, weight(v.key) if v.asked else 0.0, visibility) for v in report.verdicts],
    }


def unmarked(error: str) -> dict[str, Any]:
    """The results of a submission that could not be marked: no points, and why (the file
    named, its line, what is valid), as `check` says it."""
    lines = ["Your submission could not be marked:", visible(error)]
    return {"score": 0, "output": _simple(lines), "output_format": "simple_format", "tests": []}


def _test(v: Verdict, worth: float, visibility: str) -> dict[str, Any]:
    return {
        "name": label(v) + ("" if v.symbol == v.name else f" ({v.symbol})"),
        "score": _number(worth if v.ok else 0.0),
        "max_score": _number(worth),
        "status": "passed" if v.ok else "failed",
        "output": "\n".join(_said(v)),
        "output_format": "text",
        "visibility": visibility,
    }


def _said(v: Verdict) -> list[str]:
    """A question's feedback: the verdict and what was written, then the working (a wrong
    answer: the working, the student's own numbers and the mistakes that give their value)."""
    if v.answer is None:
        return ["unanswered: not in your answers file"]
    wrote = f"you wrote {visible(v.answer.shown)}"
    beyond = [] if v.asked else ["(beyond the step's questions: marked, not counted)"]
    if v.kind == "wrong":
        return [f"wrong — {wrote}", *map(visible, v.diagnosis or (v.working,)), *beyond]
    if v.kind == "follows":
        head = f"{v.verdict} — {wrote}: error carried forward, full credit"
        return [head, f"the working with the right values: {v.working}", *beyond]
    return [f"{v.verdict} — {wrote}", v.working, *beyond]


def _simple(lines: list[str]) -> str:
    """Lines for Gradescope's `simple_format` (HTML, newlines kept as breaks): escaped, so
    that a student's text is shown as written, never run as markup."""
    return "\n".join(html.escape(line, quote=False) for line in lines)


def _number(value: float) -> float:
    return round(value, 4)
