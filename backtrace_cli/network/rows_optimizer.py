"""Update rows every kind with parameters shares: an optimizer's state lines for one parameter
under its own rule, and batch mode's Δθ = −η·∂E/∂θ. Assumes no layer kind: a parameter is
addressed by its array (weights per layer, then biases) and its index in it."""

from __future__ import annotations

import math
import re

import numpy as np

from ..definitions.optimizers import RULE_JOIN, RULE_LATEX_JOIN
from .computed import Update
from .config import Spec
from .rows import Elided, Equation, Section, num, slot

_SLOT_RE = re.compile(r"\{([^{}]+)\}")


def _flat_index(shapes: tuple[tuple[int, ...] | None, ...], p: int, index: tuple[int, ...]) -> int:
    """Where parameter `index` of array p (weights per layer, then biases) sits in the state."""
    start = sum(math.prod(shape) for shape in shapes[:p] if shape is not None)
    shape = shapes[p]
    assert shape is not None
    return start + int(np.ravel_multi_index(index, shape))


def _rename(template: str, names: dict[str, str]) -> str:
    """A definition's template with per-parameter names: "{β1}·{m}" → "{β1}·{m_w45}"."""
    return _SLOT_RE.sub(lambda m: "{" + names.get(m.group(1), m.group(1)) + "}", template)


def optimizer_rows(
    spec: Spec,
    done: Update,
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


def optimizer_section(
    spec: Spec,
    done: Update,
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
    text = RULE_JOIN.join(parts)
    latex = opt.rule_latex(weights).replace("w \\leftarrow w", f"{letter} \\leftarrow {letter}")
    gradient_latex = f"g = \\frac{{\\partial E}}{{\\partial {letter}}}"
    if weights and spec.weight_decay:
        gradient_latex += " + \\lambda \\cdot w"
    latex = gradient_latex + RULE_LATEX_JOIN + latex
    note = f"{opt.title}, update t = {optimized.t}"
    if opt.state:
        state = ", ".join(opt.state)
        if optimized.t == 1:
            note += f": the state ({state}) starts at 0"
        else:
            note += f": the state ({state}) before it is the one after update {optimized.t - 1}"
    parameter = "weight" if weights else "bias"
    return Section("update", title, text, tuple(rows), note, latex, parameter=parameter)


def batch_change(name: str, grad: float, change: float, eta: float) -> Equation:
    """Δθ = −η·∂E/∂θ in batch mode, where ∂E/∂θ sums (or averages) over the samples."""
    return Equation(
        f"Δ{name}",
        f"−η·{slot(f'∂E/∂{name}')}",
        ((f"∂E/∂{name}", grad),),
        change,
        working=f"−{num(eta)}·{{∂E/∂{name}}}",
    )
