"""Forward-pass rows: each unit's net and o, dropout's õ = m·o/(1 − rate), and softmax's
numerators and shared denominator."""

from __future__ import annotations

from ..definitions import notation
from . import engine
from .config import Spec
from .rows import (
    Elided,
    Equation,
    Section,
    dropout_factor,
    elided_sum,
    layer_kind,
    num,
    received,
    slot,
    sum_text,
    unit_rows,
    unit_symbols,
    used_terms,
)


def dropout_section(
    spec: Spec, p: int, done: engine.Update, s: int, values: dict[str, float], full: bool
) -> Section:
    """Layer p's outputs through its dropout mask: õ = m·o/(1 − rate)."""
    assert spec.dropout is not None
    outs = unit_symbols(spec)[0][p]
    kept_names = received(spec, done, p + 1)
    rate = spec.dropout.rates[p]
    factor = dropout_factor(rate)
    mask = done.masks[p][s]
    kept = done.kept[p][s]
    numbering = spec.numbering
    units = [numbering.unit(p, j) for j in range(spec.layers[p])]
    letter = "x" if p == 0 else "o"

    def make(j: int) -> list[Equation]:
        m = f"m{units[j]}"
        values[kept_names[j]] = float(kept[j])
        dropped = mask[j] == 0
        return [
            Equation(
                kept_names[j],
                f"{slot(m)}·{slot(outs[j])}{factor}",
                ((m, float(mask[j])), (outs[j], values[outs[j]])),
                float(kept[j]),
                note="dropped" if dropped else "kept",
            )
        ]

    rows = unit_rows(spec.layers[p], full, make, units)
    n = spec.layers[p]
    dropped_units = [units[j] for j in range(n) if mask[j] == 0]
    count = len(dropped_units)
    note = (
        f"rate {num(rate)} on {n} unit{'s' if n != 1 else ''}: {num(rate * n)} expected to "
        f"be dropped, {count} dropped in this step"
    )
    if 0 < count <= 12:
        note += (
            " (" + ("unit " if count == 1 else "units ") + ", ".join(map(str, dropped_units)) + ")"
        )
    name = "inputs" if p == 0 else f"hidden{p}"
    if spec.dropout.masks[p] is not None:
        note += f"; the mask is fixed in the config (dropout.masks.{name})"
    scale = 1.0 / (1.0 - rate)
    rule = f"{'x̃' if p == 0 else 'õ'}_j = m_j·{letter}_j/(1 − {num(rate)})"
    if not factor.startswith("/"):
        rule += f" = m_j·{letter}_j·{num(scale)}"
    where = "inputs" if p == 0 else layer_kind(spec, p)
    return Section("dropout", f"Dropout · {where} (rate {num(rate)})", rule, tuple(rows), note)


def unchanged_count(spec: Spec, done: engine.Update) -> str:
    """How many weights (and biases) the update leaves as they were because of dropped units:
    those into a unit dropped for every sample of the update, or out of one."""
    masks = list(done.masks) + [None] * (len(spec.layers) - len(done.masks))
    dropped = [0 if m is None else int((~m.any(axis=0)).sum()) for m in masks]
    weights = biases = total_biases = 0
    for k in range(1, len(spec.layers)):
        n_in, n_out = spec.layers[k - 1], spec.layers[k]
        weights += dropped[k] * n_in + dropped[k - 1] * n_out - dropped[k] * dropped[k - 1]
        if done.layers[k - 1].biases_before is not None:
            biases += dropped[k]
            total_biases += n_out
    total = sum(a * b for a, b in zip(spec.layers, spec.layers[1:]))
    where = "this update" if spec.mode == "batch" else "this step"
    text = f"{weights:,} of {total:,} weights"
    if total_biases:
        text += f" and {biases:,} of {total_biases:,} biases"
    return f"{text} unchanged in {where} (dropped units)"


def forward_section(
    spec: Spec,
    k: int,
    layer: engine.Layer,
    s: int,
    done: engine.Update,
    values: dict[str, float],
    full: bool,
) -> Section:
    out_names, net_names, _, _ = unit_symbols(spec)
    numbering = spec.numbering
    below = received(spec, done, k)
    activation = spec.functions[k - 1]
    used = used_terms(len(below), full)
    units = [numbering.unit(k, j) for j in range(spec.layers[k])]

    def make(j: int) -> list[Equation]:
        u = units[j]
        terms, operands = [], []
        for i in used:
            w = notation.weight_name(numbering.unit(k - 1, i), u)
            terms.append(f"{slot(w)}·{slot(below[i])}")
            operands += [(w, float(layer.weights_before[j, i])), (below[i], values[below[i]])]
        formula = (
            sum_text(terms, True) if len(used) == len(below) else elided_sum(terms, len(below))
        )
        if layer.biases_before is not None:
            formula += f" + {slot(f'b{u}')}"
            operands.append((f"b{u}", float(layer.biases_before[j])))
        net = float(layer.net[s, j])
        out = float(layer.out[s, j])
        values[net_names[k][j]] = net
        values[out_names[k][j]] = out
        return [
            Equation(net_names[k][j], formula, tuple(operands), net),
            Equation(
                out_names[k][j], activation.call(net_names[k][j]), ((net_names[k][j], net),), out
            ),
        ]

    fed = "o_i" if below == out_names[k - 1] else "õ_i"
    rule = f"net_j = Σ_i w_ij·{fed}" + (" + b_j" if layer.biases_before is not None else "")
    if activation.elementwise:
        rows = unit_rows(spec.layers[k], full, make, units)
        rule += f",  o_j = {activation.rule_name}(net_j)"
    else:
        rows = _softmax_rows(spec, k, layer, s, values, full, make, units)
        rule += ",  o_k = e^net_k / Σ_j e^net_j"
    return Section(
        "forward", f"Forward pass · {layer_kind(spec, k)} ({activation.name})", rule, tuple(rows)
    )


def _softmax_rows(
    spec: Spec,
    k: int,
    layer: engine.Layer,
    s: int,
    values: dict[str, float],
    full: bool,
    make,
    units: list[int],
) -> list[Equation | Elided]:
    """net_k and its numerator e^net_k for each unit, the shared denominator, then each
    o_k = e^net_k/Σ: every one a carried value of the engine's (`Softmax.apply`)."""
    out_names, net_names, _, _ = unit_symbols(spec)
    definition = spec.functions[k - 1]
    numerators = layer.parts["numerator"][s]
    shift = float(layer.parts["shift"][s, 0])
    m = definition.shift_name
    denominator = definition.denominator_name
    names = [definition.numerator_name.replace("{net}", net) for net in net_names[k]]

    def net(j: int) -> list[Equation]:
        return make(j)[:1]  # o_k comes after the denominator

    def numerator(j: int) -> list[Equation]:
        net = net_names[k][j]
        values[names[j]] = float(numerators[j])
        template = definition.shifted if shift else definition.numerator
        operands = ((net, values[net]), (m, shift)) if shift else ((net, values[net]),)
        formula = template.replace("{net}", slot(net)).replace("{m}", slot(m))
        return [Equation(names[j], formula, operands, float(numerators[j]))]

    def quotient(j: int) -> list[Equation]:
        formula = definition.quotient.replace("{numerator}", slot(names[j]))
        formula = formula.replace("{denominator}", slot(denominator))
        operands = ((names[j], values[names[j]]), (denominator, values[denominator]))
        return [Equation(out_names[k][j], formula, operands, values[out_names[k][j]])]

    n = spec.layers[k]
    rows = unit_rows(n, full, net, units) + unit_rows(n, full, numerator, units)
    used = used_terms(n, full)
    terms = [slot(names[j]) for j in used]
    total = float(layer.parts["denominator"][s, 0])
    values[denominator] = total
    note = f"every net shifted by the largest, {m} = {shift:g}: o is unchanged" if shift else ""
    rows.append(
        Equation(
            denominator,
            sum_text(terms, True) if len(used) == n else elided_sum(terms, n),
            tuple((names[j], values[names[j]]) for j in used),
            total,
            note=note,
        )
    )
    rows.extend(unit_rows(n, full, quotient, units))
    return rows
