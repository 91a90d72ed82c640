"""A `model:` of tensor layers' names on a sheet: its rows' symbols (y0[0,1], δ1[0,3],
∂E/∂w0[0,0,1], new b4[0]) as an answers file types them — delta, d, mhat for δ, ∂, m̂ — and
what a quiz or a sheet asks of its traced step."""

from __future__ import annotations

import re
from typing import Any

from ..sheet import Question
from ..worked import Equation

_TYPED = (
    ("∂", "d"),
    # an rnn's state through the dropout between its layers, htilde0_l0[1,0], and its δ,
    # deltahtilde0_l0[1,0] (before δ here: read back after it)
    ("h̃", "htilde"),
    ("δ", "delta"),
    ("Δ", "Delta"),
    ("m̂", "mhat"),
    ("v̂", "vhat"),
    ("μ", "mu"),  # batch norm's mean, variance and normalised value: mu1[0], var1[0], xhat1[0]
    ("σ²", "var"),
    ("x̂", "xhat"),
)
# batch norm's sums over the batch, typed whole: sum_delta_xhat1[0] is Σδx̂1[0] (in Hagan's
# notation its sensitivities' sums, sum_s^1[0] for Σs^1[0])
_PREFIXED = (
    ("Σδx̂", "sum_delta_xhat"),
    ("Σδ", "sum_delta"),
    ("Σsx̂", "sum_s_xhat"),
    ("Σs", "sum_s"),
)


def symbol_of(name: str) -> str:
    """An answers file's name for a model's row: dE/dw0[0,0,1] → ∂E/∂w0[0,0,1]."""
    name = " ".join(str(name).split())
    for symbol, typed in _PREFIXED:
        if name.startswith(typed):
            return symbol + name[len(typed) :]
    for symbol, typed in reversed(_TYPED):
        if symbol == "∂":
            name = re.sub(r"^d(\w+)/d", r"∂\1/∂", name)
        else:
            # var begins a name (var1[0]), never inside one (running_var1[0] is torch's);
            # htilde may follow δ (deltahtilde0_l0[1,0]: δh̃0_l0[1,0], its δ read first)
            start = {"var": "(^| )", "htilde": "(^|[ _δ])"}.get(typed, "(^|[ _])")
            # followed by its layer (var1[0]), a book's (var^3[0]) or its index
            name = re.sub(rf"{start}{typed}(?=[\w\[^])", rf"\g<1>{symbol}", name)
    return name


def typed(symbol: str) -> str:
    """A row's symbol as a keyboard types it: δ1[0,3] → delta1[0,3]."""
    for mark, text in _PREFIXED:
        if symbol.startswith(mark):
            return text + symbol[len(mark) :]
    for mark, text in _TYPED:
        symbol = symbol.replace(mark, text)
    return symbol


def questions(traced: Any, ask: tuple[str, ...] = ()) -> tuple[Question, ...]:
    """What a traced step asks, every row of every sample (named as a file types them); or
    those `ask` names: a row (y0[0,1]) or a whole tensor (y0, delta1, dE/dw0), either
    spelling. ValueError for a name the step has not, with the tensors it has."""
    every = [
        Question(step.sample, typed(row.symbol), row.symbol)
        for step in traced.steps
        for section in step.sections
        for row in section.rows
        if isinstance(row, Equation)
    ]
    if not ask:
        return tuple(every)
    wanted = [symbol_of(a) for a in ask]

    def picked(symbol: str, want: str) -> bool:
        return symbol == want or (symbol.startswith(want + "[") and "[" not in want)

    for name, want in zip(ask, wanted):
        if not any(picked(q.symbol, want) for q in every):
            tensors = dict.fromkeys(typed(q.symbol.split("[")[0]) for q in every)
            raise ValueError(
                f"{name!r} is not a quantity of this model; ask for a row (y0[0,1]) or a "
                f"tensor: {', '.join(tensors)}"
            )
    return tuple(q for q in every if any(picked(q.symbol, w) for w in wanted))
