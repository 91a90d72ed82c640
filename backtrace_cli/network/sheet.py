"""What a network's exercise sheet asks: every quantity of its traced step, or the kinds and
single quantities `--ask` names — the model protocol's `questions` for a network."""

from __future__ import annotations

import re

from ..definitions.notation import answer_name
from ..sheet import Question
from .records import Equation, Trace, is_question


def kind(name: str) -> str:
    """What sort of quantity a name is: delta5 → delta, w9_12 → w, E → E."""
    return re.sub(r"[\d_]+$", "", name)


def questions(trace: Trace, ask: tuple[str, ...] = ()) -> tuple[Question, ...]:
    """The quantities a sheet asks, in the order the solution finds them: every equation of
    the trace (traced `full`: a summarised table leaves units out) but the chain rule's factors
    — `is_question`, the step's one list (`solution.Solution.questions`) — or only those `ask`
    names: kinds (`net`, `o`, `delta`, `dw`, `w`, …) or single quantities (`delta3`). Raises
    ValueError for a name this network has not, listing the ones it has."""
    every = [
        Question(step.sample, answer_name(row.symbol), row.symbol)
        for step in trace.steps
        for section in step.sections
        for row in section.rows
        if isinstance(row, Equation) and is_question(row)
    ]
    if not ask:
        return tuple(every)
    kinds = list(dict.fromkeys(kind(q.name) for q in every))
    names = {q.name for q in every}
    unknown = [a for a in ask if a not in kinds and a not in names]
    if unknown:
        raise ValueError(
            f"{unknown[0]!r} is not a quantity of this exercise; ask for any of "
            f"{', '.join(kinds)} (every unit) or single ones such as {every[0].name}"
        )
    wanted = set(ask)
    return tuple(q for q in every if q.name in wanted or kind(q.name) in wanted)
