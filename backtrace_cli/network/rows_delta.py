"""Error, loss and δ rows: e = t − o and E (with L2's penalty), each unit's δ from the layer
above, and a softmax output's δ, the short way or through its whole Jacobian."""

from __future__ import annotations

from ..definitions import notation
from ..definitions.losses import fill
from ..definitions.losses import get as get_loss
from . import engine
from .config import Spec
from .rows import (
    Elided,
    Equation,
    Section,
    dropout_factor,
    elided_sum,
    sample_mask,
    slot,
    sum_text,
    unit_rows,
    unit_symbols,
    used_terms,
)


def error_section(
    spec: Spec, done: engine.Update, s: int, values: dict[str, float], full: bool
) -> Section:
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
        rows.append(_penalty(spec, done, full))
        rule += ",  penalty = (λ/2)·Σw² (weights only; E stays the data loss)"
    return Section("error", "Error and loss", rule, tuple(rows))


def _penalty(spec: Spec, done: engine.Update, full: bool) -> Equation:
    """(λ/2)·Σw² over the weights before the update: what L2 weight decay adds to E."""
    numbering = spec.numbering
    names = [
        (notation.weight_name(numbering.unit(k, i), numbering.unit(k + 1, j)), float(w[j, i]))
        for k, w in enumerate(spec.weights)
        for j in range(w.shape[0])
        for i in range(w.shape[1])
    ]
    used = used_terms(len(names), full)
    squares = [f"{slot(names[n][0])}²" for n in used]
    total = sum_text(squares, True) if len(used) == len(names) else elided_sum(squares, len(names))
    operands = (("λ", spec.weight_decay), *(names[n] for n in used))
    return Equation("penalty", f"({slot('λ')}/2)·({total})", operands, done.penalty)


def delta_section(
    spec: Spec,
    k: int,
    done: engine.Update,
    s: int,
    values: dict[str, float],
    full: bool,
    jacobian: bool = False,
    gradients: bool = False,
) -> Section:
    """The δ of layer k's units; `gradients`: a hidden unit's chain-rule factors too,
    ∂E/∂o_j = −Σ_k w_jk·δ_k and ∂o_j/∂net_j, as the output's ∂E/∂o and ∂o/∂net."""
    out_names, net_names, delta_names, target_names = unit_symbols(spec)
    numbering = spec.numbering
    layer = done.layers[k - 1]
    activation = spec.functions[k - 1]
    loss = get_loss(spec.loss)
    shortcut = loss.shortcut(activation.name)
    units = [numbering.unit(k, j) for j in range(spec.layers[k])]
    output = k == len(spec.layers) - 1
    n = spec.layers[k]
    if output and not activation.elementwise:
        return _softmax_delta(spec, done, s, values, full, jacobian or shortcut is None)

    def make(j: int) -> list[Equation]:
        o, net, d = out_names[k][j], net_names[k][j], delta_names[k][j]
        slope = f"∂{o}/∂{net}"
        slope_formula = activation.slope_formula(o, net)
        base = ((o, values[o]), (net, values[net]))
        values[slope] = float(layer.do_dnet[s, j])
        rows = []
        if output:
            t = target_names[j]
            grad = f"∂E/∂{o}"
            values[grad] = float(done.dE_do[s, j])
            grad_formula = fill(loss.derivative, n, t=t, o=o)
            rows.append(
                Equation(grad, grad_formula, ((t, values[t]), (o, values[o])), values[grad])
            )
            rows.append(Equation(slope, slope_formula, base, values[slope]))
            if shortcut is not None:
                formula = fill(shortcut.formula(n), n, t=t, o=o)
                note = shortcut.note
            else:
                factor = fill(loss.factor, n)
                lead = "" if activation.slope == "1" else slope_formula
                if factor:
                    lead = f"{lead}·{factor}" if lead else factor
                formula = f"{lead}({slot(t)} − {slot(o)})"
                note = ""
            operands = (*base, (t, values[t]))
        else:
            above = delta_names[k + 1]
            used = used_terms(spec.layers[k + 1], full)
            terms, ops = [], []
            for m in used:
                w = notation.weight_name(units[j], numbering.unit(k + 1, m))
                terms.append(f"{slot(w)}·{slot(above[m])}")
                ops += [
                    (w, float(done.layers[k].weights_before[m, j])),
                    (above[m], values[above[m]]),
                ]
            inner = (
                sum_text(terms, True)
                if len(used) == spec.layers[k + 1]
                else elided_sum(terms, spec.layers[k + 1])
            )
            if len(terms) > 1:
                inner = f"({inner})"
            lead = "" if activation.slope == "1" else slope_formula + "·"
            note = ""
            mask = sample_mask(done, k, s)
            if gradients and activation.elementwise and mask is None and layer.back is not None:
                grad = f"∂E/∂{o}"  # the engine's Σ_k w_jk·δ_k, with ∂E/∂o's sign
                values[grad] = -float(layer.back[s, j])
                rows.append(Equation(grad, "−" + inner, tuple(ops), values[grad]))
                rows.append(Equation(slope, slope_formula, base, values[slope]))
            if mask is not None:
                assert spec.dropout is not None
                m = f"m{units[j]}"
                lead += f"{slot(m)}{dropout_factor(spec.dropout.rates[k])}·"
                ops = [(m, float(mask[j])), *ops]
                if mask[j] == 0:
                    note = "dropped: δ = 0"
            formula = lead + inner
            operands = base + tuple(ops)
        value = float(layer.delta[s, j])
        values[d] = value
        rows.append(Equation(d, formula, operands, value, note=note))
        return rows

    rows = unit_rows(n, full, make, units)
    if output:
        rule = "δ = −∂E/∂o · ∂o/∂net"
        if shortcut is None and not loss.factor and activation.slope != "1":
            rule += f" = {activation.slope_words}(t − o)"
        title = "δ · output layer"
    else:
        rule = "δ_j = ∂o_j/∂net_j · Σ_k w_jk·δ_k, w before the update"
        if done.masks and done.masks[k] is not None:
            assert spec.dropout is not None
            factor = dropout_factor(spec.dropout.rates[k])
            rule = f"δ_j = ∂o_j/∂net_j·m_j{factor}·Σ_k w_jk·δ_k, w before the update"
        title = f"δ · hidden layer {k}"
        if any(isinstance(r, Equation) and r.symbol.startswith("∂E/∂") for r in rows):
            rule = f"∂E/∂o_j = −Σ_k w_jk·δ_k,  {rule}"
    return Section("delta", title, rule, tuple(rows))


def _softmax_delta(
    spec: Spec, done: engine.Update, s: int, values: dict[str, float], full: bool, long: bool
) -> Section:
    """δ at a softmax output: t_k − o_k with cross-entropy (the Jacobian collapses), or the
    long way through the whole Jacobian, δ_j = o_j·(g_j − ḡ) with g = −∂E/∂o, ḡ = Σ_k g_k·o_k."""
    out_names, _, delta_names, target_names = unit_symbols(spec)
    k = len(spec.layers) - 1
    layer = done.layers[k - 1]
    definition = spec.functions[k - 1]
    loss = get_loss(spec.loss)
    shortcut = loss.shortcut(definition.name)
    units = [spec.numbering.unit(k, j) for j in range(spec.layers[k])]
    n = spec.layers[k]
    outs, targets, deltas = out_names[k], target_names, delta_names[k]

    def gradient(j: int) -> list[Equation]:
        o, t, grad, g = outs[j], targets[j], f"∂E/∂{outs[j]}", f"g{units[j]}"
        values[grad] = float(done.dE_do[s, j])
        values[g] = -values[grad]
        return [
            Equation(
                grad,
                fill(loss.derivative, n, t=t, o=o),
                ((t, values[t]), (o, values[o])),
                values[grad],
            ),
            Equation(g, f"−{slot(grad)}", ((grad, values[grad]),), values[g]),
        ]

    def delta(j: int) -> list[Equation]:
        o, t, d = outs[j], targets[j], deltas[j]
        values[d] = float(layer.delta[s, j])
        if long:
            g = f"g{units[j]}"
            formula = f"{slot(o)}·({slot(g)} − {slot('ḡ')})"
            operands = ((o, values[o]), (g, values[g]), ("ḡ", values["ḡ"]))
            note = f"= {t} − {o}" if shortcut is not None else ""
        else:
            assert shortcut is not None
            formula = fill(shortcut.formula(n), n, t=t, o=o)
            operands = ((t, values[t]), (o, values[o]))
            note = shortcut.note
        return [Equation(d, formula, operands, values[d], note=note)]

    rows: list[Equation | Elided] = []
    if long:
        rows += unit_rows(n, full, gradient, units)
        used = used_terms(n, full)
        terms = [f"{slot(f'g{units[j]}')}·{slot(outs[j])}" for j in used]
        values["ḡ"] = float(layer.parts["weighted"][s, 0])
        rows.append(
            Equation(
                "ḡ",
                sum_text(terms, True) if len(used) == n else elided_sum(terms, n),
                tuple(
                    kv
                    for j in used
                    for kv in ((f"g{units[j]}", values[f"g{units[j]}"]), (outs[j], values[outs[j]]))
                ),
                values["ḡ"],
            )
        )
    rows += unit_rows(n, full, delta, units)
    if long:
        rule = "δ_j = o_j·(g_j − ḡ), g = −∂E/∂o, ḡ = Σ_k g_k·o_k"
        note = "softmax's Jacobian ∂o_k/∂net_j = o_k(1[k = j] − o_j), every term kept"
        if shortcut is not None:
            note += "; with cross-entropy ḡ = Σ_k t_k = 1 and δ_j = t_j − o_j"
    else:
        rule = "δ_k = t_k − o_k"
        note = definition.collapse
    return Section("delta", "δ · output layer (softmax)", rule, tuple(rows), note)
