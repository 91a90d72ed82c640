"""Named mistakes: a step's formula rewritten as a student who makes the mistake computes it.

`mistakes(spec)` lists the ones `check` knows for a network — each activation's own, the loss's
and the optimizer's slips, the sign convention of the notation, then the general ones
(`MISTAKES`) — best first; marking names those that give a wrong value.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from .. import formula, tracing
from ..definitions import activations, notations, optimizers
from ..definitions.losses import get as get_loss
from ..network.config import Spec
from ..network.records import Equation

if TYPE_CHECKING:
    from ..solution import Line, Solution


@dataclass(frozen=True, slots=True)
class Mistake:
    """A way to get a step wrong: the step's formula rewritten as the student who makes the
    mistake computes it (a template over the trace's names), or None where it does not apply.
    Later definitions (softmax, optimizers, notations) add theirs to `MISTAKES`."""

    name: str  # "the derivative o(1 − o) left out"
    rewrite: Callable[[Equation, Spec], str | None]


def _updated_weights(row: Equation, spec: Spec) -> str | None:
    if not row.symbol.startswith("δ"):
        return None
    out = re.sub(r"\{(w\d+(?:_\d+)?)\}", r"{new \1}", row.formula)
    return out if out != row.formula else None


def _slots_pattern(template: str) -> str:
    """A regex for a template filled with one unit's names: "{o}(1 − {o})" → {o3}(1 − {o3})."""
    pattern, seen = "", set()
    for piece in re.split(r"(\{\w+\})", template):
        slot = re.fullmatch(r"\{(\w+)\}", piece)
        if not slot:
            pattern += re.escape(piece)
        elif slot.group(1) in seen:
            pattern += f"\\{{(?P={slot.group(1)})\\}}"
        else:
            seen.add(slot.group(1))
            pattern += f"\\{{(?P<{slot.group(1)}>{slot.group(1)}\\d+(?:_\\d+)?)\\}}"
    return pattern


def _no_derivative(activation: activations.Activation) -> Mistake:
    """δ without the activation's ∂o/∂net: o(1 − o) for σ, (1 − o²) for tanh, …"""
    pattern = re.compile(_slots_pattern(activation.slope) + "·?")

    def rewrite(row: Equation, spec: Spec) -> str | None:
        if not row.symbol.startswith("δ"):
            return None
        out = pattern.sub("", row.formula)
        return out if out != row.formula and out.strip() else None

    return Mistake(f"the derivative {activation.slope_words} left out", rewrite)


def _flipped_sign(row: Equation, spec: Spec) -> str | None:
    out = re.sub(r"\{(t\d+)\} − \{(o\d+)\}", r"{\2} − {\1}", row.formula)
    return out if out != row.formula else None


def _net_for_o(row: Equation, spec: Spec) -> str | None:
    out = re.sub(r"\{[oõ](\d+(?:_\d+)?)\}", r"{net\1}", row.formula)
    return out if out != row.formula else None


def _no_learning_rate(row: Equation, spec: Spec) -> str | None:
    """Δw = δ·o without η; new w = w + that Δw."""
    if spec.learning_rate == 1:
        return None
    if row.symbol.startswith("Δ") and "{η}" in row.formula:
        return row.formula.replace("{η}", "1")
    if row.symbol.startswith("new "):
        change = "{Δ" + row.symbol[4:] + "}"
        if change in row.formula:
            return row.formula.replace(change, f"{change}/{{η}}")
    return None


def _subtracted(row: Equation, spec: Spec) -> str | None:
    if not row.symbol.startswith("new ") or " + {Δ" not in row.formula:
        return None
    return row.formula.replace(" + {Δ", " − {Δ")


def _flipped_change(row: Equation, spec: Spec) -> str | None:
    """Δw = −η·δ·o: the update's change with its sign flipped, as a student who takes δ for
    ∂E/∂net (or g for −∂E/∂w) still descends. Every optimizer's step is a Δ row that reads η
    (the lecture's η·δ·o, momentum's −η·v, Adam's −η·m̂/(√v̂ + ε)): the slip is its negation,
    read from the formula's structure."""
    if not row.symbol.startswith("Δ"):
        return None
    parsed = formula.parse(row.formula)
    if parsed is None or "η" not in formula.names(parsed):
        return None
    return formula.template(formula.Apply("neg", (parsed,)))


def _flipped_words(spec: Spec) -> str:
    """The flipped rule as the optimizer states it: plain SGD's is the lecture's Δw = −η·δ·o;
    another's, its step with the sign turned: Δw = +η·v (momentum), +η·m̂/(√v̂ + ε) (Adam)."""
    optimizer = spec.optimizer.optimizer
    if optimizer.name == "sgd":
        return "Δw = −η·δ·o"
    step = re.sub(r"\{([^{}]+)\}", r"\1", optimizer.lines[-1].text)
    return "Δw = +" + step.removeprefix("−")


def _no_dropout_scaling(row: Equation, spec: Spec) -> str | None:
    if spec.dropout is None:
        return None
    if row.symbol.startswith(("õ", "x̃")):
        # õ = m·o·2 (or m·o/0.7) computed without its scaling factor
        out = re.sub(r"(·\d+|/[\d.]+)$", "", row.formula)
        return out if out != row.formula else None

    def unscaled(match: re.Match[str]) -> str:
        name = match.group(0)[1:-1]
        unit = int(name[1:].split("_")[0]) if name[0] == "õ" else int(name[2:])
        layer = spec.numbering.locate(unit)
        if layer is None or spec.dropout is None:
            return match.group(0)
        return f"({match.group(0)}·{1 - spec.dropout.rates[layer[0]]!r})"

    out = re.sub(r"\{(?:õ|x̃)\d+(?:_\d+)?\}", unscaled, row.formula)
    return out if out != row.formula else None


MISTAKES: list[Mistake] = [
    Mistake(
        "hidden δ with the updated weights (use the weights before the update)",
        _updated_weights,
    ),
    Mistake("the sign of (t − o) flipped", _flipped_sign),
    Mistake("net for o (net used where o belongs)", _net_for_o),
    Mistake("the learning rate η left out", _no_learning_rate),
    Mistake("Δw subtracted (w − Δw instead of w + Δw)", _subtracted),
    Mistake("Δw with its sign flipped", _flipped_change),  # named by the optimizer's rule
    Mistake(
        "dropout's scale forgotten (kept outputs not multiplied by 1/(1 − rate))",
        _no_dropout_scaling,
    ),
]


def mistakes(spec: Spec) -> list[Mistake]:
    """The mistakes `check` knows for this network: each activation's own (its derivative
    left out, its classic slips), the loss's, the optimizer's, then the general ones."""
    if tracing.model(spec).own_slips:
        return []  # a graph's slips come on its rows (its model's `complete`), none of these
    functions = dict.fromkeys(spec.functions)
    own = [_no_derivative(a) for a in functions if a.slope != "1"]
    own += [_optimizer_mistake(m) for m in spec.optimizer.optimizer.mistakes]
    slips = [slip for a in functions for slip in a.slips]
    slips += get_loss(spec.loss).slips
    # Δw's sign flipped is named in the words of the optimizer's own rule
    flipped = f"Δw with its sign flipped ({_flipped_words(spec)})"
    general = [replace(m, name=flipped) if m.rewrite is _flipped_change else m for m in MISTAKES]
    named = [*own, *(_slip(slip) for slip in slips), *general]
    # a textbook's reader who writes the lecture's δ made the sign-convention mistake first
    # of all; in the lecture's notation (t − o) flipped is named first, the convention after
    sign = _sign_convention(spec)
    return [sign, *named] if spec.notation != "lecture" else [*named, sign]


def candidates(
    line: Line, solution: Solution, known: list[Mistake] | None = None
) -> Iterator[tuple[str, str]]:
    """Each named mistake that applies to the line, with the template it gives: the model's
    mistakes (`known`, else `mistakes`), then the slips the solution names on the line itself
    (a graph's)."""
    for mistake in mistakes(solution.spec) if known is None else known:
        row = line.exact.origin or line.exact  # the mistakes read the lecture's formulas
        template = mistake.rewrite(row, solution.spec)
        if template is None:
            continue
        if line.exact.origin is not None:  # …evaluated with the book's (signed) numbers
            template = solution.translation.signed_template(template, row.symbol)
        yield mistake.name, template
    yield from line.slips


def _sign_convention(spec: Spec) -> Mistake:
    """δ with the other sign convention's sign: −∂E/∂net where the book's δ is ∂E/∂net, or
    the other way round (named in the notation the answers are marked in)."""

    def rewrite(row: Equation, spec: Spec) -> str | None:
        return f"−({row.formula})" if re.fullmatch(r"δ\d+(?:_\d+)?", row.symbol) else None

    return Mistake(notations.get(spec.notation).sign_mistake, rewrite)


def _slip(slip: activations.Slip) -> Mistake:
    """An activation's or a loss's own classic mistake, on the steps it applies to."""

    def rewrite(row: Equation, spec: Spec) -> str | None:
        return slip.rewrite(row.formula) if row.symbol.startswith(slip.symbol) else None

    return Mistake(slip.name, rewrite)


def _optimizer_mistake(mistake: optimizers.Mistake) -> Mistake:
    """One of the optimizer's own slips (optimizers.py), as a rewrite of the traced formula."""
    pattern = re.compile(mistake.pattern)

    def rewrite(row: Equation, spec: Spec) -> str | None:
        out = pattern.sub(mistake.replacement, row.formula)
        return out if out != row.formula else None

    return Mistake(mistake.name, rewrite)
