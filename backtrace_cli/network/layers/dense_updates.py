"""A dense layer's update rows: each weight's Δw and new w, the biases', batch mode's gradients
summed over the samples, and an optimizer's state lines under its own rule (`rows_optimizer`)."""

from __future__ import annotations

from collections.abc import Iterable

from ...definitions import notation, notations
from ...worked import sum_text
from ..rows import (
    ROWS_SHOWN,
    Elided,
    Equation,
    Section,
    View,
    every_weight,
    layer_kind,
    received,
    slot,
    unit_rows,
    unit_symbols,
)
from ..rows_optimizer import batch_change, optimizer_rows, optimizer_section


def update_sections(view: View, k: int) -> list[Section]:
    """Weight (and bias) updates of layer k. `view.values` is None in batch mode."""
    spec, done, values = view.spec, view.done, view.values
    full, gradients = view.full, view.gradients
    _, _, delta_names, _ = unit_symbols(spec)
    numbering = spec.numbering
    layer = done.layers[k - 1]
    below = received(view, k)
    units = [numbering.unit(k, j) for j in range(spec.layers[k])]
    eta = spec.learning_rate
    batch = values is None
    S = len(done.samples)
    pairs = [(j, i) for j in range(spec.layers[k]) for i in range(spec.layers[k - 1])]
    plain = done.optimized is None
    whole = every_weight(spec.layers[k], spec.layers[k - 1], full)
    limit = len(pairs) if whole else ROWS_SHOWN - 1
    # a book that writes ∂E/∂w = o_i·δ_j (Nielsen's BP4) rather than the chain's three factors
    from_delta = notations.get(spec.notation).gradient_from_delta
    # read once as lists: --full writes a row for each of a wide layer's 200,000 weights, and
    # indexing a numpy array costs more than the row's own text
    numbers_below = [numbering.unit(k - 1, i) for i in range(spec.layers[k - 1])]
    grads, dws = layer.gradient.tolist(), layer.dw.tolist()
    befores, afters = layer.weights_before.tolist(), layer.weights_after.tolist()
    # no layer between (no dropout): no weight is left unchanged by one
    moved = not view.between(k) and not view.between(k - 1)

    def per_sample(name: str, arrays: Iterable[float]) -> list[tuple[str, float]]:
        return [(f"{name}⁽{s + 1}⁾", float(v)) for s, v in enumerate(arrays)]

    def weight_rows(j: int, i: int) -> list[Equation]:
        src = below[i]
        u = units[j]
        w = notation.weight_name(numbers_below[i], u)
        d = delta_names[k][j]
        grad, dw, before = grads[j][i], dws[j][i], befores[j][i]
        rows = []
        if batch:
            ops = per_sample(d, layer.delta[:, j]) + per_sample(src, done.kept[k - 1][:, i])
            products = [f"{slot(f'{d}⁽{s + 1}⁾')}·{slot(f'{src}⁽{s + 1}⁾')}" for s in range(S)]
            scale = f"(1/{S})·" if done.reduce > 1 else ""
            working = f"−{scale}[" + sum_text(products, full, "samples") + "]"
            rows.append(
                Equation(f"∂E/∂{w}", f"−{scale}Σₛ {d}·{src}", tuple(ops), grad, working=working)
            )
            if plain:
                rows.append(batch_change(w, grad, dw, eta))
        else:
            if not gradients and not plain:
                rows.append(
                    Equation(
                        f"∂E/∂{w}",
                        f"−{slot(d)}·{slot(src)}",
                        ((d, values[d]), (src, values[src])),
                        grad,
                    )
                )
            if gradients:
                o, net = f"o{u}", f"net{u}"
                if from_delta:  # ∂C/∂w^l_jk = a^(l−1)_k·δ^l_j, o_i first as the book has it
                    chain = f"−{slot(src)}·{slot(d)}"
                    ops = ((src, values[src]), (d, values[d]))
                elif f"∂E/∂{o}" in values and spec.functions[k - 1].elementwise:
                    # ∂net/∂w = o_i (here x1): the chain rule's last factor, on its own row
                    factor = f"∂{net}/∂{w}"
                    rows.append(
                        Equation(factor, slot(src), ((src, values[src]),), values[src], factor=True)
                    )
                    chain = f"{slot(f'∂E/∂{o}')}·{slot(f'∂{o}/∂{net}')}·{slot(factor)}"
                    ops = (
                        (f"∂E/∂{o}", values[f"∂E/∂{o}"]),
                        (f"∂{o}/∂{net}", values[f"∂{o}/∂{net}"]),
                        (factor, values[src]),
                    )
                else:
                    chain = f"−{slot(d)}·{slot(src)}"
                    ops = ((d, values[d]), (src, values[src]))
                rows.append(Equation(f"∂E/∂{w}", chain, ops, grad, factor=plain))  # g, if read
            if plain:
                rows.append(
                    Equation(
                        f"Δ{w}",
                        f"{slot('η')}·{slot(d)}·{slot(src)}",
                        (("η", eta), (d, values[d]), (src, values[src])),
                        dw,
                    )
                )
        if not plain:
            rows.extend(optimizer_rows(spec, done, w, (k - 1, (j, i)), before, grad, True))
        rows.append(
            Equation(
                f"new {w}",
                f"{slot(w)} + {slot(f'Δ{w}')}",
                ((w, before), (f"Δ{w}", dw)),
                afters[j][i],
                note="" if moved else _unchanged(view, k, j, i),
            )
        )
        return rows

    rows: list[Equation | Elided] = []
    for j, i in pairs[:limit]:
        rows.extend(weight_rows(j, i))
    if limit < len(pairs):
        into = f"units {units[0]}–{units[-1]}" if len(units) > 1 else f"unit {units[0]}"
        rows.append(Elided(len(pairs) - limit - 1, f"weights into {into}"))
        rows.extend(weight_rows(*pairs[-1]))
    if batch:
        rule = (
            "∂E/∂w_ij = −"
            + ("(1/S)·" if done.reduce > 1 else "")
            + "Σₛ δ_j·o_i,  Δw_ij = −η·∂E/∂w_ij"
        )
    elif gradients and from_delta:
        rule = "∂E/∂w_ij = −o_i·δ_j"
    elif gradients and spec.functions[k - 1].elementwise:
        rule = "∂E/∂w_ij = ∂E/∂o_j·∂o_j/∂net_j·∂net_j/∂w_ij"
    elif gradients:  # softmax: ∂E/∂net_j = −δ_j already holds the whole Jacobian
        rule = "∂E/∂w_ij = ∂E/∂net_j·∂net_j/∂w_ij = −δ_j·o_i"
    else:
        rule = "Δw_ij = η·δ_j·o_i,  new w_ij = w_ij + Δw_ij"
    for kind, _ in view.between(k - 1):  # dropout: the update uses what the unit passed on
        rule = rule.replace("o_i", kind.passes + "_i")
    title = f"Updates · {layer_kind(spec, k)}"
    if plain:
        sections = [Section("update", title, rule, tuple(rows), parameter="weight")]
    else:
        sections = [optimizer_section(spec, done, title, rule, rows, True)]
    if layer.biases_before is not None:
        sections.append(_bias_updates(view, k))
    return sections


def _bias_updates(view: View, k: int) -> Section:
    spec, done, values = view.spec, view.done, view.values
    full, gradients = view.full, view.gradients
    _, _, delta_names, _ = unit_symbols(spec)
    numbering = spec.numbering
    layer = done.layers[k - 1]
    units = [numbering.unit(k, j) for j in range(spec.layers[k])]
    eta = spec.learning_rate
    S = len(done.samples)

    def make(j: int) -> list[Equation]:
        u, d, b = units[j], delta_names[k][j], f"b{units[j]}"
        before = float(layer.biases_before[j])
        grad = float(layer.bias_gradient[j])
        rows = []
        if values is None:
            ops = tuple((f"{d}⁽{s + 1}⁾", float(v)) for s, v in enumerate(layer.delta[:, j]))
            shown = sum_text([slot(name) for name, _ in ops], full, "samples")
            scale = f"(1/{S})·" if done.reduce > 1 else ""
            rows.append(
                Equation(
                    f"∂E/∂{b}",
                    f"−{scale}Σₛ {d}",
                    ops,
                    grad,
                    working=f"−{scale}[{shown}]",
                )
            )
        elif gradients:
            o, net = f"o{u}", f"net{u}"
            if (
                f"∂E/∂{o}" in values
                and spec.functions[k - 1].elementwise
                and not notations.get(spec.notation).gradient_from_delta  # ∂C/∂b^l_j = δ^l_j
            ):
                factor = f"∂{net}/∂{b}"
                rows.append(Equation(factor, "1", (), 1.0, factor=True))  # net = … + b
                rows.append(
                    Equation(
                        f"∂E/∂{b}",
                        f"{slot(f'∂E/∂{o}')}·{slot(f'∂{o}/∂{net}')}·{slot(factor)}",
                        (
                            (f"∂E/∂{o}", values[f"∂E/∂{o}"]),
                            (f"∂{o}/∂{net}", values[f"∂{o}/∂{net}"]),
                            (factor, 1.0),
                        ),
                        grad,
                        factor=done.optimized is None,
                    )
                )
            else:
                plain = done.optimized is None
                rows.append(
                    Equation(f"∂E/∂{b}", f"−{slot(d)}", ((d, values[d]),), grad, factor=plain)
                )
        if layer.db is None:
            rows.append(
                Equation(f"new {b}", slot(b), ((b, before),), before, note="fixed (not trained)")
            )
            return rows
        db = float(layer.db[j])
        if done.optimized is not None:
            if values is not None and not gradients:
                rows.append(Equation(f"∂E/∂{b}", f"−{slot(d)}", ((d, values[d]),), grad))
            count = len(spec.weights)
            rows.extend(optimizer_rows(spec, done, b, (count + k - 1, (j,)), before, grad, False))
        elif values is None:
            rows.append(batch_change(b, grad, db, eta))
        else:
            rows.append(
                Equation(f"Δ{b}", f"{slot('η')}·{slot(d)}", (("η", eta), (d, values[d])), db)
            )
        rows.append(
            Equation(
                f"new {b}",
                f"{slot(b)} + {slot(f'Δ{b}')}",
                ((b, before), (f"Δ{b}", db)),
                float(layer.biases_after[j]),
                note=_unchanged(view, k, j, None),
            )
        )
        return rows

    rows = unit_rows(spec.layers[k], full, make, units)
    rule = "Δb_j = η·δ_j" if values is not None else "Δb_j = −η·∂E/∂b_j"
    title = f"Bias updates · {layer_kind(spec, k)}"
    if layer.db is None:
        rule = "biases are fixed: not trained"
    elif done.optimized is not None:
        return optimizer_section(spec, done, title, rule, rows, False)
    return Section("update", title, rule, tuple(rows), parameter="bias")


def _unchanged(view: View, k: int, j: int, i: int | None) -> str:
    """Why weight w_ij (or bias b_j, i None) of layer k was left unchanged, if a layer between
    says (dropout: unit j dropped in every sample, or unit i of the layer below)."""
    for kind, p in view.between(k):
        why = kind.unchanged(view, p, j, "δ = 0")
        if why:
            return why
    if i is not None:
        for kind, p in view.between(k - 1):
            why = kind.unchanged(view, p, i, "passes 0")
            if why:
                return why
    return ""
