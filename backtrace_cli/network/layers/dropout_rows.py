"""Dropout's rows: each unit's õ = m·o/(1 − rate) with what was dropped, the factor m/(1 − rate)
it puts into the δ below it, and the parameters its dropped units leave unchanged."""

from __future__ import annotations

from collections.abc import Sequence

from ..rows import Equation, Section, View, layer_kind, num, slot, unit_rows, unit_symbols

KIND = "dropout"
PASSES = "õ"  # what a rule calls the units it passes on: õ_i


def passed_on(p: int, names: Sequence[str]) -> list[str]:
    """The names of layer p's units as dropout passes them on: o3 → õ3, x1 → x̃1."""
    return [("x̃" if p == 0 else "õ") + name[1:] for name in names]


def dropout_factor(rate: float) -> str:
    """The inverted-dropout scale as written: ·2 for rate 0.5, /0.7 for rate 0.3."""
    scale = 1.0 / (1.0 - rate)
    if abs(scale - round(scale)) < 1e-9:
        return f"·{round(scale)}"
    return f"/{num(1.0 - rate)}"


def factor(view: View, p: int, j: int) -> tuple[str, tuple[str, float], str]:
    """What dropout on layer p multiplies into unit j's δ: the text "{m3}·2", its operand, and
    a note when the unit was dropped."""
    spec, done = view.spec, view.done
    assert spec.dropout is not None
    mask = done.masks[p][view.s]
    m = f"m{spec.numbering.unit(p, j)}"
    note = "dropped: δ = 0" if mask[j] == 0 else ""
    return f"{slot(m)}{dropout_factor(spec.dropout.rates[p])}", (m, float(mask[j])), note


def factor_rule(view: View, p: int) -> str:
    """The factor as a δ rule writes it: m_j·2."""
    assert view.spec.dropout is not None
    return "m_j" + dropout_factor(view.spec.dropout.rates[p])


def unchanged(view: View, p: int, j: int, why: str) -> str:
    """When layer p's unit j was dropped in every sample of the update, a parameter next to it
    does not move: "unchanged: unit 4 dropped (why)"."""
    mask = view.done.masks[p]
    if mask[:, j].any():
        return ""
    return f"unchanged: unit {view.spec.numbering.unit(p, j)} dropped ({why})"


def dropout_section(view: View, p: int) -> Section:
    """Layer p's outputs through its dropout mask: õ = m·o/(1 − rate); under the last dropout
    of the network, how many parameters the dropped units leave unchanged."""
    spec, done, s, values, full = view.spec, view.done, view.s, view.values, view.full
    assert spec.dropout is not None and values is not None
    outs = unit_symbols(spec)[0][p]
    kept_names = passed_on(p, outs)
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
    last = max(q for kind, q in view.stack if kind.kind == KIND)
    if p == last:  # what dropout left unchanged, under the last dropout table
        note += "\n" + unchanged_count(view)
    return Section("dropout", f"Dropout · {where} (rate {num(rate)})", rule, tuple(rows), note)


def unchanged_count(view: View) -> str:
    """How many parameters the update leaves as they were because of dropped units: each
    trained layer counts its own (a dense layer's into a unit dropped for every sample of the
    update, or out of one)."""
    spec, done = view.spec, view.done
    masks = list(done.masks) + [None] * (len(spec.layers) - len(done.masks))
    dropped = [0 if m is None else int((~m.any(axis=0)).sum()) for m in masks]
    weights = total = biases = total_biases = 0
    for kind, k in view.stack:
        if kind.new_units:
            counts = kind.unchanged_counts(view, k, dropped[k - 1], dropped[k])
            weights, total, biases, total_biases = (
                a + b for a, b in zip((weights, total, biases, total_biases), counts)
            )
    where = "this update" if spec.mode == "batch" else "this step"
    text = f"{weights:,} of {total:,} weights"
    if total_biases:
        text += f" and {biases:,} of {total_biases:,} biases"
    return f"{text} unchanged in {where} (dropped units)"
