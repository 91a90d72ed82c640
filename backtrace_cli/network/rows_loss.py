"""The network's error and loss rows: e = t − o and E, with L2's penalty over every weight (each
layer kind names its own). The δ rows are each layer kind's (`layers/`)."""

from __future__ import annotations

from ..definitions.losses import fill
from ..definitions.losses import get as get_loss
from ..worked import elided_sum, sum_text, used_terms
from .rows import (
    Elided,
    Equation,
    Section,
    View,
    slot,
    unit_rows,
    unit_symbols,
)


def error_section(view: View) -> Section:
    spec, done, s, values, full = view.spec, view.done, view.s, view.values, view.full
    assert values is not None
    out_names, _, _, target_names = unit_symbols(spec)
    outs = out_names[-1]
    numbering = spec.numbering
    last = len(spec.layers) - 1
    units = [numbering.unit(last, j) for j in range(spec.layers[-1])]
    n = spec.layers[-1]

    def make(j: int) -> list[Equation]:
        e = f"e{units[j]}"
        values[e] = float(done.error[s, j])
        return [
            Equation(
                e,
                f"{slot(target_names[j])} − {slot(outs[j])}",
                ((target_names[j], values[target_names[j]]), (outs[j], values[outs[j]])),
                values[e],
            )
        ]

    rows: list[Equation | Elided] = list(unit_rows(n, full, make, units))
    used = used_terms(n, full)
    loss = get_loss(spec.loss)
    terms, names = [], []
    for j in used:
        e, t, o = f"e{units[j]}", target_names[j], outs[j]
        terms.append(fill(loss.term, n, e=e, t=t, o=o))
        names += [name for mark, name in (("{e}", e), ("{t}", t), ("{o}", o)) if mark in loss.term]
    inner = sum_text(terms, True) if len(used) == n else elided_sum(terms, n)
    formula = loss.total(inner, n)
    operands = tuple((name, values[name]) for name in names)
    loss_value = float(done.loss[s])
    lost = [  # ln 0 in the working: the engine took ln o from the nets there
        outs[j]
        for j in range(n)
        if "ln" in loss.term and done.targets[s, j] > 0 and done.layers[-1].out[s, j] == 0
    ]
    note = f"{', '.join(lost)} is 0 in float64: its ln from the nets" if lost else ""
    rows.append(Equation("E", formula, operands, loss_value, note=note))
    values["E"] = loss_value
    rule = f"e = t − o,  {loss.rule}"
    if spec.weight_decay:
        rows.append(_penalty(view))
        rule += ",  penalty = (λ/2)·Σw² (weights only; E stays the data loss)"
    return Section("error", "Error and loss", rule, tuple(rows))


def _penalty(view: View) -> Equation:
    """(λ/2)·Σw² over the weights before the update: what L2 weight decay adds to E."""
    spec, full = view.spec, view.full
    names = [pair for kind, k in view.stack for pair in kind.decayed(spec, k)]
    used = used_terms(len(names), full)
    squares = [f"{slot(names[n][0])}²" for n in used]
    total = sum_text(squares, True) if len(used) == len(names) else elided_sum(squares, len(names))
    operands = (("λ", spec.weight_decay), *(names[n] for n in used))
    return Equation("penalty", f"({slot('λ')}/2)·({total})", operands, view.done.penalty)
