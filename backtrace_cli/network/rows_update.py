"""Update rows: each weight's Δw and new w, the biases', batch mode's summed gradients, and an
optimizer's state lines under its own rule."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

import numpy as np

from ..definitions import notation
from . import engine
from .config import Spec
from .rows import (
    ROWS_SHOWN,
    TERMS_SHOWN,
    Elided,
    Equation,
    Section,
    layer_kind,
    num,
    received,
    slot,
    unit_rows,
    unit_symbols,
)

_SLOT_RE = re.compile(r"\{([^{}]+)\}")


def update_sections(
    spec: Spec,
    k: int,
    done: engine.Update,
    values: dict[str, float] | None,
    full: bool,
    gradients: bool,
) -> list[Section]:
    """Weight (and bias) updates of layer k. `values` is None in batch mode."""
    _, _, delta_names, _ = unit_symbols(spec)
    numbering = spec.numbering
    layer = done.layers[k - 1]
    below = received(spec, done, k)
    units = [numbering.unit(k, j) for j in range(spec.layers[k])]
    eta = spec.learning_rate
    batch = values is None
    S = len(done.samples)
    pairs = [(j, i) for j in range(spec.layers[k]) for i in range(spec.layers[k - 1])]
    plain = done.optimized is None
    limit = len(pairs) if full or len(pairs) <= ROWS_SHOWN + 1 else ROWS_SHOWN - 1

    def per_sample(name: str, arrays: Iterable[float]) -> list[tuple[str, float]]:
        return [(f"{name}⁽{s + 1}⁾", float(v)) for s, v in enumerate(arrays)]

    def weight_rows(j: int, i: int) -> list[Equation]:
        src = below[i]
        u = units[j]
        w = notation.weight_name(numbering.unit(k - 1, i), u)
        d = delta_names[k][j]
        grad = float(layer.gradient[j, i])
        dw = float(layer.dw[j, i])
        rows = []
        src_values = done.kept[k - 1][:, i]
        if batch:
            ops = per_sample(d, layer.delta[:, j]) + per_sample(src, src_values)
            products = [f"{slot(f'{d}⁽{s + 1}⁾')}·{slot(f'{src}⁽{s + 1}⁾')}" for s in range(S)]
            shown = (
                products
                if len(products) <= TERMS_SHOWN + 1
                else [*products[: TERMS_SHOWN - 1], f"… ({S} samples)", *products[-1:]]
            )
            scale = f"(1/{S})·" if done.reduce > 1 else ""
            working = f"−{scale}[" + " + ".join(shown) + "]"
            rows.append(
                Equation(f"∂E/∂{w}", f"−{scale}Σₛ {d}·{src}", tuple(ops), grad, working=working)
            )
            if plain:
                rows.append(_batch_change(w, grad, dw, eta))
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
                if f"∂E/∂{o}" in values and spec.functions[k - 1].elementwise:
                    # ∂net/∂w = o_i (here x1): the chain rule's last factor, on its own row
                    factor = f"∂{net}/∂{w}"
                    rows.append(Equation(factor, slot(src), ((src, values[src]),), values[src]))
                    chain = f"{slot(f'∂E/∂{o}')}·{slot(f'∂{o}/∂{net}')}·{slot(factor)}"
                    ops = (
                        (f"∂E/∂{o}", values[f"∂E/∂{o}"]),
                        (f"∂{o}/∂{net}", values[f"∂{o}/∂{net}"]),
                        (factor, values[src]),
                    )
                else:
                    chain = f"−{slot(d)}·{slot(src)}"
                    ops = ((d, values[d]), (src, values[src]))
                rows.append(Equation(f"∂E/∂{w}", chain, ops, grad))
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
            before = float(layer.weights_before[j, i])
            rows.extend(_optimizer_rows(spec, done, w, (k - 1, (j, i)), before, grad, True))
        rows.append(
            Equation(
                f"new {w}",
                f"{slot(w)} + {slot(f'Δ{w}')}",
                ((w, float(layer.weights_before[j, i])), (f"Δ{w}", dw)),
                float(layer.weights_after[j, i]),
                note=_unchanged(spec, done, k, j, i),
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
    elif gradients and spec.functions[k - 1].elementwise:
        rule = "∂E/∂w_ij = ∂E/∂o_j·∂o_j/∂net_j·∂net_j/∂w_ij"
    elif gradients:  # softmax: ∂E/∂net_j = −δ_j already holds the whole Jacobian
        rule = "∂E/∂w_ij = ∂E/∂net_j·∂net_j/∂w_ij = −δ_j·o_i"
    else:
        rule = "Δw_ij = η·δ_j·o_i,  new w_ij = w_ij + Δw_ij"
    if below != unit_symbols(spec)[0][k - 1]:  # dropout: the update uses what the unit passed on
        rule = rule.replace("o_i", "õ_i")
    title = f"Updates · {layer_kind(spec, k)}"
    if plain:
        sections = [Section("update", title, rule, tuple(rows))]
    else:
        sections = [_optimizer_section(spec, done, title, rule, rows, True)]
    if layer.biases_before is not None:
        sections.append(_bias_updates(spec, k, done, values, full, gradients))
    return sections


def _bias_updates(
    spec: Spec,
    k: int,
    done: engine.Update,
    values: dict[str, float] | None,
    full: bool,
    gradients: bool,
) -> Section:
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
            shown = [slot(name) for name, _ in ops]
            if len(shown) > TERMS_SHOWN + 1:
                shown = [*shown[: TERMS_SHOWN - 1], f"… ({S} samples)", *shown[-1:]]
            scale = f"(1/{S})·" if done.reduce > 1 else ""
            rows.append(
                Equation(
                    f"∂E/∂{b}",
                    f"−{scale}Σₛ {d}",
                    ops,
                    grad,
                    working=f"−{scale}[" + " + ".join(shown) + "]",
                )
            )
        elif gradients:
            o, net = f"o{u}", f"net{u}"
            if f"∂E/∂{o}" in values and spec.functions[k - 1].elementwise:
                factor = f"∂{net}/∂{b}"
                rows.append(Equation(factor, "1", (), 1.0))  # net = … + b: ∂net/∂b = 1
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
                    )
                )
            else:
                rows.append(Equation(f"∂E/∂{b}", f"−{slot(d)}", ((d, values[d]),), grad))
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
            rows.extend(_optimizer_rows(spec, done, b, (count + k - 1, (j,)), before, grad, False))
        elif values is None:
            rows.append(_batch_change(b, grad, db, eta))
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
                note=_unchanged(spec, done, k, j, None),
            )
        )
        return rows

    rows = unit_rows(spec.layers[k], full, make, units)
    rule = "Δb_j = η·δ_j" if values is not None else "Δb_j = −η·∂E/∂b_j"
    title = f"Bias updates · {layer_kind(spec, k)}"
    if layer.db is None:
        rule = "biases are fixed: not trained"
    elif done.optimized is not None:
        return _optimizer_section(spec, done, title, rule, rows, False)
    return Section("update", title, rule, tuple(rows))


def _flat_index(shapes: tuple[tuple[int, ...] | None, ...], p: int, index: tuple[int, ...]) -> int:
    """Where parameter `index` of array p (weights per layer, then biases) sits in the state."""
    start = sum(math.prod(shape) for shape in shapes[:p] if shape is not None)
    shape = shapes[p]
    assert shape is not None
    return start + int(np.ravel_multi_index(index, shape))


def _rename(template: str, names: dict[str, str]) -> str:
    """A definition's template with per-parameter names: "{β1}·{m}" → "{β1}·{m_w45}"."""
    return _SLOT_RE.sub(lambda m: "{" + names.get(m.group(1), m.group(1)) + "}", template)


def _optimizer_rows(
    spec: Spec,
    done: engine.Update,
    param: str,
    where: tuple[int, tuple[int, ...]],
    before: float,
    gradient: float,
    weight: bool,
) -> list[Equation]:
    """One parameter's optimizer update: g (with L2 decay), each state line, the step Δ.

    Slots are named per parameter (m_w45 before the update, new m_w45 after it), so the
    numbers read alone in the middle of training: every state's value before is an operand."""
    optimized = done.optimized
    assert optimized is not None
    settings = spec.optimizer
    opt = settings.optimizer
    n = _flat_index(optimized.shapes, *where)
    values = optimized.values
    known: dict[str, float] = {"η": spec.learning_rate, "t": float(optimized.t), param: before}
    known.update(settings.symbols())
    names: dict[str, str] = {"w": param, "g": f"∂E/∂{param}"}
    known[f"∂E/∂{param}"] = gradient
    if opt.decoupled is not None:
        known["λ"] = settings.value(opt.decoupled)
    rows = []

    def row(symbol: str, text: str, latex: str, value: float) -> None:
        if names["g"].startswith("∂"):  # (∂E/∂w45)², not ∂E/∂w45²
            text, latex = text.replace("{g}²", "({g})²"), latex.replace("{g}^2", "({g})^2")
        text, latex = _rename(text, names), _rename(latex, names)
        slots = dict.fromkeys(_SLOT_RE.findall(text))
        operands = tuple((name, known[name]) for name in slots)
        rows.append(Equation(symbol, text, operands, value, latex=latex))
        known[symbol] = value

    if weight and spec.weight_decay:
        known["λ"] = spec.weight_decay
        row(f"g_{param}", "{g} + {λ}·{w}", "{g} + {λ} \\cdot {w}", float(values["g"][n]))
        names["g"] = f"g_{param}"
    for name in opt.state:
        names[name] = f"{opt.symbol(name)}_{param}"
        known[names[name]] = float(optimized.before.get(name, len(values["new"]))[n])
    for line in opt.lines[:-1]:
        symbol = f"{line.symbol}_{param}"
        new = f"new {symbol}" if line.name in opt.state else symbol
        row(new, line.text, line.latex, float(values[line.name][n]))
        names[line.symbol] = new
    row(f"Δ{param}", opt.step_text(weight), opt.step_latex(weight), float(values["step"][n]))
    return rows


def _optimizer_section(
    spec: Spec,
    done: engine.Update,
    title: str,
    rule: str,
    rows: list[Equation | Elided],
    weights: bool,
) -> Section:
    """An update section under the optimizer's rule, saying which update this is."""
    optimized = done.optimized
    assert optimized is not None
    opt = spec.optimizer.optimizer
    gradient = rule.split(",  Δ")[0] if rule.startswith("∂E") else "∂E/∂w_ij = −δ_j·o_i"
    letter = "w" if weights else "b"
    if not weights:
        scale = "(1/S)·" if done.reduce > 1 else ""
        gradient = "∂E/∂b_j = −δ_j" if len(done.samples) == 1 else f"∂E/∂b_j = −{scale}Σₛ δ_j"
    parts = [gradient]
    if weights and spec.weight_decay:
        parts.append("g = ∂E/∂w + λ·w (L2, weights only)")
    else:
        parts.append(f"g = ∂E/∂{letter}")
    parts.append(opt.rule(weights).replace("w ← w", f"{letter} ← {letter}"))
    text = ",  ".join(parts)
    latex = opt.rule_latex(weights).replace("w \\leftarrow w", f"{letter} \\leftarrow {letter}")
    gradient_latex = f"g = \\frac{{\\partial E}}{{\\partial {letter}}}"
    if weights and spec.weight_decay:
        gradient_latex += " + \\lambda \\cdot w"
    latex = f"{gradient_latex},\\quad {latex}"
    note = f"{opt.title}, update t = {optimized.t}"
    if opt.state:
        state = ", ".join(opt.state)
        if optimized.t == 1:
            note += f": the state ({state}) starts at 0"
        else:
            note += f": the state ({state}) before it is the one after update {optimized.t - 1}"
    return Section("update", title, text, tuple(rows), note, rule_latex=latex)


def _unchanged(spec: Spec, done: engine.Update, k: int, j: int, i: int | None) -> str:
    """Why dropout left weight w_ij (or bias b_j, i None) of layer k unchanged, if it did."""
    if not done.masks:
        return ""
    numbering = spec.numbering
    into = done.masks[k] if k < len(done.masks) else None
    if into is not None and not into[:, j].any():
        return f"unchanged: unit {numbering.unit(k, j)} dropped (δ = 0)"
    source = done.masks[k - 1]
    if i is not None and source is not None and not source[:, i].any():
        return f"unchanged: unit {numbering.unit(k - 1, i)} dropped (passes 0)"
    return ""


def _batch_change(name: str, grad: float, change: float, eta: float) -> Equation:
    """Δθ = −η·∂E/∂θ in batch mode, where ∂E/∂θ sums (or averages) over the samples."""
    return Equation(
        f"Δ{name}",
        f"−η·{slot(f'∂E/∂{name}')}",
        ((f"∂E/∂{name}", grad),),
        change,
        working=f"−{num(eta)}·{{∂E/∂{name}}}",
    )
