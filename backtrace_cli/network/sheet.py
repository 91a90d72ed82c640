"""What a network's exercise sheet asks: every quantity of its traced step, or the kinds and
single quantities `--ask` names — the model protocol's `questions` for a network."""

from __future__ import annotations

import re

from ..definitions import notations
from ..definitions.notation import answer_name, symbol_of
from ..sheet import Question
from .records import Equation, Trace, is_question


def kind(name: str) -> str:
    """What sort of quantity a name is: delta5 → delta, w9_12 → w, E → E."""
    return re.sub(r"[\d_]+$", "", name)


def questions(trace: Trace, ask: tuple[str, ...] = ()) -> tuple[Question, ...]:
    """The quantities a sheet asks, in the order the solution finds them: every equation of
    the trace (traced `full`: a summarised table leaves units out) but the chain rule's factors
    — `is_question`, the step's one list (`solution.Solution.questions`) — or only those `ask`
    names: kinds (`net`, `o`, `delta`, `dw`, `w`, …) or single quantities (`delta3`), any row
    the trace writes — a factor (`dE/do5`) too, as `check --names` lists it — in any spelling
    an answers file may use. Raises ValueError for a name this network has not, listing the
    ones it has."""
    rows = [
        (step.sample, row)
        for step in trace.steps
        for section in step.sections
        for row in section.rows
        if isinstance(row, Equation)
    ]
    every = [
        Question(sample, answer_name(row.symbol), row.symbol)
        for sample, row in rows
        if is_question(row)
    ]
    if not ask:
        return tuple(every)
    kinds = list(dict.fromkeys(kind(q.name) for q in every))
    single = {a: _symbol(a, [row.symbol for _, row in rows]) for a in ask if a not in kinds}
    unknown = [a for a, symbol in single.items() if symbol is None]
    if unknown:
        raise ValueError(
            f"{unknown[0]!r} is not a quantity of this exercise; ask for any of "
            f"{', '.join(kinds)} (every unit) or single ones such as {every[0].name}"
        )
    wanted, symbols = set(ask), set(single.values())
    return tuple(
        Question(sample, answer_name(row.symbol), row.symbol)
        for sample, row in rows
        if row.symbol in symbols or (is_question(row) and kind(answer_name(row.symbol)) in wanted)
    )


def _symbol(name: str, symbols: list[str]) -> str | None:
    """The trace symbol `name` stands for: its answer name or symbol (exp6, δ5), a lecture
    spelling (dEdw36, grad_w36), or any spelling of a book's symbol (z2_1, dE_total/dout_o1)."""
    by_name = {answer_name(symbol): symbol for symbol in symbols}
    found = by_name.get(name) or (name if name in symbols else None)
    lecture = symbol_of(name)
    if found is None and lecture in symbols:
        found = lecture
    return found or notations.lookup(list(dict.fromkeys(symbols))).get(notations.canonical(name))
