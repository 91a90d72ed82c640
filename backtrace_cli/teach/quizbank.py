"""Exercise variants as a learning platform's quiz: `exercise --format moodle` (a Moodle XML
question bank, one Cloze question a variant) and `--format qti` (a Canvas QTI 1.2 package).

Every model alike: what a variant asks is its sheet's questions (`model.questions`), each
blank's key is the worked solution's line for it (`solution.solve`), the question is the
model's own sheet drawn as HTML with a blank in each empty cell, and the feedback its answer
key. A blank takes the key rounded as asked (3sf: ±half a unit in the third figure) and, where
it differs, the value a student gets rounding as they go — as `check` marks it right.
"""

from __future__ import annotations

from typing import Any

from .. import tracing
from ..core.rounding import describe, round_value, unit
from ..render.bank import Accepted, Blank, Item, token


def accepted(line: Any, rounding: str) -> tuple[Accepted, ...]:
    """What a blank takes for a solution line (`solution.Line`): its exact value rounded as
    asked, ± half a unit in the last place kept; then its value carried rounded, if other."""
    out: list[Accepted] = []
    for value in (line.exact.value, line.rows[rounding].value):
        shown = round_value(value, rounding)
        if all(a.value != shown for a in out):
            out.append(Accepted(shown, unit(shown, rounding) / 2))
    return tuple(out)


def instructions(rounding: str) -> str:
    """What the quiz says of rounding, as HTML."""
    return (
        f"<p>Give each answer to {describe(rounding)}. Rounding as you go is fine: the value "
        "you get carrying that rounding through the step counts as right too.</p>"
    )


def items(spec: Any, drawn: Any, ask: tuple[str, ...], rounding: str) -> list[Item]:
    """An `Item` per variant of the set `drawn` (a `draws.ExerciseSet` of any model)."""
    # start-up: the renderers and the solver load when a quiz is written
    from .. import render
    from ..render import html
    from ..render.problem import NAMES
    from ..solution import solve

    model = tracing.model(spec)
    number = render.number_format(None, None)
    out = []
    for v in drawn.variants:
        traced = model.trace(v.spec)
        # every unit's quantities, where the key's tables summarise a layer: as `homework`
        asked = tuple(model.questions(v.spec, ask, model.trace(v.spec, full=True)))
        written = NAMES[model.problem(v.spec, traced).names][0]  # a symbol in TeX, as its
        # statement writes its names
        solved = solve(v.spec, rounding=rounding)
        blanks = []
        for q in asked:
            line = solved.line(q.key)
            if line is None:  # the sheet and the solution are one list: never, unless broken
                raise ValueError(f"{q.name} of {v.ident} has no line in the worked solution")
            blanks.append(Blank(q.label, written(q.symbol), accepted(line, rounding)))
        numbered = {q: token(n) for n, q in enumerate(asked)}
        sheet = render.sheet(
            traced, number, v.ident, asked, blank=numbered.__getitem__, draw=html.diagram
        )
        key = render.text(traced, "markdown", number)
        out.append(
            Item(
                v.ident,
                f"{spec.name} · {v.ident}",
                html.page(sheet) + "\n" + instructions(rounding),
                tuple(blanks),
                html.page(key),
            )
        )
    return out


def bank(
    spec: Any, drawn: Any, ask: tuple[str, ...], rounding: str, fmt: str, name: str
) -> str | bytes:
    """The file a platform imports: `moodle`, Moodle XML text; `qti`, a Canvas QTI zip's
    bytes. `name`: the question bank's category (a Moodle category, the package's id)."""
    from ..render import moodle, qti  # start-up: each writer loads when it writes

    listed = items(spec, drawn, ask, rounding)
    if fmt == "moodle":
        return moodle.document(listed, name)
    return qti.package(listed, name)
