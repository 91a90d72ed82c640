"""A dense layer's rows: each unit's net_j = Σ_i w_ij·o_i (+ b_j) and o_j = f(net_j) (softmax's
numerators and shared denominator), and its δ from the layer above or the loss (a softmax output's
the short way or through its whole Jacobian). Its updates are in `dense_updates`."""

from __future__ import annotations

from ...definitions import notation
from ...definitions.losses import fill
from ...definitions.losses import get as get_loss
from ...worked import elided_sum, sum_text, used_terms
from ..computed import Layer, Update
from ..config import Spec
from ..rows import (
    Elided,
    Equation,
    Section,
    View,
    layer_kind,
    num,
    received,
    slot,
    unit_rows,
    unit_symbols,
)


def forward_section(view: View, k: int) -> Section:
    """Layer k's units: net_j = Σ_i w_ij·o_i (+ b_j) over what it is fed, and o_j = f(net_j)."""
    spec, s, values, full = view.spec, view.s, view.values, view.full
    assert values is not None
    layer = view.done.layers[k - 1]
    out_names, net_names, _, _ = unit_symbols(spec)
    numbering = spec.numbering
    below = received(view, k)
    activation = spec.functions[k - 1]
    used = used_terms(len(below), full)
    units = [numbering.unit(k, j) for j in range(spec.layers[k])]
    numbers_below = [numbering.unit(k - 1, i) for i in range(spec.layers[k - 1])]
    weights = layer.weights_before.tolist()  # a list's item costs less than an array's

    def make(j: int) -> list[Equation]:
        u = units[j]
        terms, operands = [], []
        for i in used:
            w = notation.weight_name(numbers_below[i], u)
            terms.append(f"{slot(w)}·{slot(below[i])}")
            operands += [(w, weights[j][i]), (below[i], values[below[i]])]
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

    fed = "o_i"
    for kind, _ in view.between(k - 1):  # dropout: the units' õ
        fed = kind.passes + "_i"
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
    layer: Layer,
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


# what a dense layer sends down to the layer below it, as the δ rule writes it, and its caveat
SENT_DOWN = ("Σ_k w_jk·δ_k", ", w before the update")


def sent_down(view: View, k: int, i: int) -> tuple[str, list[tuple[str, float]]]:
    """What layer k sends unit i of the layer below: Σ_k w_ik·δ_k over its units (weights before
    the update), as text over slots and its operands; a sum of several in parentheses."""
    spec, values = view.spec, view.values
    assert values is not None
    numbering = spec.numbering
    deltas = unit_symbols(spec)[2][k]
    weights = view.done.layers[k - 1].weights_before
    n = spec.layers[k]
    used = used_terms(n, view.full)
    terms, operands = [], []
    for m in used:
        w = notation.weight_name(numbering.unit(k - 1, i), numbering.unit(k, m))
        terms.append(f"{slot(w)}·{slot(deltas[m])}")
        operands += [(w, float(weights[m, i])), (deltas[m], values[deltas[m]])]
    inner = sum_text(terms, True) if len(used) == n else elided_sum(terms, n)
    return (f"({inner})" if len(terms) > 1 else inner), operands


def delta_section(view: View, k: int) -> Section:
    """The δ of layer k's units; `view.gradients`: a hidden unit's chain-rule factors too,
    ∂E/∂o_j = −Σ_k w_jk·δ_k and ∂o_j/∂net_j, as the output's ∂E/∂o and ∂o/∂net. What a hidden
    unit gets from above is the upper layer's to write (`sent_down`), times the factor of each
    layer between (dropout's)."""
    spec, done, s, values, full = view.spec, view.done, view.s, view.values, view.full
    assert values is not None
    jacobian, gradients = view.jacobian, view.gradients
    out_names, net_names, delta_names, target_names = unit_symbols(spec)
    numbering = spec.numbering
    layer = done.layers[k - 1]
    activation = spec.functions[k - 1]
    loss = get_loss(spec.loss)
    shortcut = loss.shortcut(activation.name)
    units = [numbering.unit(k, j) for j in range(spec.layers[k])]
    output = k == len(spec.layers) - 1
    n = spec.layers[k]
    upper = None if output else view.above(k)[0]
    between = view.between(k)
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
            ops = ((t, values[t]), (o, values[o]))  # δ's factors: asked with gradients
            rows.append(Equation(grad, grad_formula, ops, values[grad], factor=True))
            rows.append(Equation(slope, slope_formula, base, values[slope], factor=True))
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
            inner, ops = upper.sent_down(view, k + 1, j)
            lead = "" if activation.slope == "1" else slope_formula + "·"
            note = ""
            factors = [kind.factor(view, p, j) for kind, p in between]
            if gradients and activation.elementwise and not factors and layer.back is not None:
                grad = f"∂E/∂{o}"  # the engine's Σ_k w_jk·δ_k, with ∂E/∂o's sign
                values[grad] = -float(layer.back[s, j])
                rows.append(Equation(grad, "−" + inner, tuple(ops), values[grad], factor=True))
                rows.append(Equation(slope, slope_formula, base, values[slope], factor=True))
            for text, operand, why in factors:  # dropout's m_j/(1 − rate), as it multiplies in
                lead += text + "·"
                ops = [operand, *ops]
                note = why or note
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
        sent, caveat = upper.SENT_DOWN
        rule = f"δ_j = ∂o_j/∂net_j · {sent}{caveat}"
        if between:
            times = "·".join(kind.factor_rule(view, p) for kind, p in between)
            rule = f"δ_j = ∂o_j/∂net_j·{times}·{sent}{caveat}"
        title = f"δ · hidden layer {k}"
        if any(isinstance(r, Equation) and r.symbol.startswith("∂E/∂") for r in rows):
            rule = f"∂E/∂o_j = −{sent},  {rule}"
    return Section("delta", title, rule, tuple(rows))


def _softmax_delta(
    spec: Spec, done: Update, s: int, values: dict[str, float], full: bool, long: bool
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
    optional = shortcut is not None  # the long way's rows explain a δ found the short way

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
                factor=optional,
            ),
            Equation(g, f"−{slot(grad)}", ((grad, values[grad]),), values[g], factor=optional),
        ]

    def delta(j: int) -> list[Equation]:
        o, t, d = outs[j], targets[j], deltas[j]
        values[d] = float(layer.delta[s, j])
        if long:
            g = f"g{units[j]}"
            formula = f"{slot(o)}·({slot(g)} − {slot('ḡ')})"
            operands = ((o, values[o]), (g, values[g]), ("ḡ", values["ḡ"]))
            note = f"= {t} − {o}" if shortcut is not None else ""
            short = float(done.error[s, j])
            if shortcut is not None and values[d] != short:  # carried, each bracket rounded
                note = f"{t} − {o} = {num(short)}: the long way, rounded as you go, differs"
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
                factor=optional,
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
