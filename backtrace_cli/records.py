"""The engine's arrays, named in the lecture's notation. Computes nothing.

Every value in an `Equation` is read from an array the engine computed; a formula is a template
whose `{name}` slots are filled with names (the formula) or with the operands' values (the
working), so renderers only format.
"""

from __future__ import annotations

import bisect
import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from . import engine, notation, optimizers
from .config import Spec
from .losses import fill
from .losses import get as get_loss

if TYPE_CHECKING:  # numpy.typing costs start-up time; annotations only
    import numpy.typing as npt

    Array = npt.NDArray[np.float64]

LECTURE = "lecture"  # the default notation: the course notes', the trace's own symbols
SIGN_CONVENTION = "δ_j = −∂E/∂net_j, and w ← w + η·δ_j·o_i (the lecture's sign convention)"
DROPOUT_RULE = (
    "Dropout (Keras): each unit is dropped with probability rate; kept outputs are scaled by "
    "1/(1 − rate). A dropped unit passes 0 forward, gets δ = 0, and the weights into and out "
    "of it do not change in that step. The loss after the update is measured without "
    "dropout, as at inference."
)
_SLOT_RE = re.compile(r"\{([^{}]+)\}")
ROWS_SHOWN = 5  # units of a layer shown before the rest are summarised (unless full)
TERMS_SHOWN = 4  # terms of a sum written out before "…"


@dataclass(frozen=True, slots=True)
class Equation:
    """One traced equation, as a student writes it."""

    symbol: str  # "δ3"
    formula: str  # template: "{o3}(1 − {o3})·{w35}·{δ5}"
    operands: tuple[tuple[str, float], ...]  # (("o3", 0.680267), ("w35", 0.3), ...)
    value: float  # from the engine's array, never recomputed
    working: str | None = None  # template for the numbers, when it differs from `formula`
    note: str = ""
    latex: str = ""  # the formula as a LaTeX template with the same slots, where it has one
    origin: Equation | None = field(default=None, repr=False, compare=False)  # the lecture's
    # equation this one renames, in a textbook's notation (None: it is the lecture's)

    def values(self) -> dict[str, float]:
        return dict(self.operands)

    def used(self) -> tuple[tuple[str, float], ...]:
        """The operands the formula (or its working) writes: what a student needs to find
        the value. (A δ row also carries net, which only relu's derivative reads.)"""
        written = self.formula + (self.working or "")
        return tuple((name, v) for name, v in self.operands if "{" + name + "}" in written)


@dataclass(frozen=True, slots=True)
class Elided:
    """Rows left out of a wide layer's table (all are in the JSON)."""

    count: int
    what: str  # "units 11–258"


@dataclass(frozen=True, slots=True)
class Section:
    """A phase of one step: a titled group of equations under one general rule."""

    kind: str  # "forward", "dropout", "error", "delta", "update"
    title: str
    rule: str
    rows: tuple[Equation | Elided, ...]
    note: str = ""  # a line under the table (dropout: how many units were dropped)
    rule_latex: str = ""  # the rule in LaTeX, where the definition gives one


@dataclass(frozen=True, slots=True)
class LayerRecord:
    """The JSON contract's per-layer arrays for one sample."""

    net: Array
    out: Array
    delta: Array | None  # None at inference
    weights_before: Array
    weights_after: Array | None
    biases_before: Array | None
    biases_after: Array | None
    mask: Array | None = None
    out_after_dropout: Array | None = None  # õ = m·o/(1 − rate), what the next layer gets


@dataclass(frozen=True, slots=True)
class Step:
    """One sample's pass: what it computed, and its sections of equations."""

    epoch: int
    sample: int  # 1-based
    inputs: Array
    targets: Array
    loss: float
    layers: tuple[LayerRecord, ...]
    sections: tuple[Section, ...]
    heading: str
    input_mask: Array | None = None  # dropout on the inputs: 1 kept, 0 dropped
    optimizer: OptimizerRecord | None = None  # the step that makes an optimizer's update
    penalty: float | None = None  # L2 weight decay: (λ/2)·Σw² before the update

    def equations(self) -> tuple[tuple[Section, Equation], ...]:
        """The step's equations in the order the trace shows them, each with its section
        (the JSON's `equations`, and the questions `quiz` asks)."""
        return tuple(
            (section, row)
            for section in self.sections
            for row in section.rows
            if isinstance(row, Equation)
        )


@dataclass(frozen=True, slots=True)
class OptimizerRecord:
    """An optimizer's state around one update, per layer, in the network's shapes."""

    t: int  # this update's count
    weights_before: tuple[dict[str, Array], ...]  # per layer: state name → weight-shaped
    weights_after: tuple[dict[str, Array], ...]
    biases_before: tuple[dict[str, Array] | None, ...]  # None: no trained biases there
    biases_after: tuple[dict[str, Array] | None, ...]


def _optimizer_record(spec: Spec, done: engine.Update) -> OptimizerRecord | None:
    optimized = done.optimized
    if optimized is None:
        return None
    count = len(spec.weights)
    size = sum(math.prod(shape) for shape in optimized.shapes if shape is not None)

    def per_layer(state: optimizers.State) -> tuple[list[dict[str, Array]], list[dict | None]]:
        weights: list[dict[str, Array]] = [{} for _ in range(count)]
        biases: list[dict[str, Array] | None] = [None] * count
        for name in spec.optimizer.optimizer.state:
            parts = optimizers.split(state.get(name, size), optimized.shapes)
            for k in range(count):
                weights[k][name] = parts[k]
            for k, part in enumerate(parts[count:]):
                if part is not None:
                    biases[k] = {**(biases[k] or {}), name: part}
        return weights, biases

    wb, bb = per_layer(optimized.before)
    wa, ba = per_layer(optimized.after)
    return OptimizerRecord(optimized.t, tuple(wb), tuple(wa), tuple(bb), tuple(ba))


@dataclass(frozen=True, slots=True)
class Change:
    """One parameter before and after the epoch."""

    symbol: str
    before: float
    after: float


@dataclass(frozen=True, slots=True)
class EpochRecord:
    epoch: int
    loss: float
    loss_after: float


@dataclass(frozen=True, slots=True)
class Trace:
    """Everything the renderers show: notes, steps, and the old → new summary."""

    spec: Spec
    rounding: str | None  # "3sf", "4dp" or None
    notes: tuple[str, ...]
    steps: tuple[Step, ...]
    epochs: tuple[EpochRecord, ...]
    changes: tuple[Change, ...]  # the parameters a summary shows: all, or those that moved most
    parameter_count: int  # how many the network has (`spec_after` holds every new value)
    loss_before: float
    loss_after: float
    outputs_after: Array = field(repr=False)
    loss_before_inference: float | None = None  # dropout: the loss before, without dropout
    inference: bool = False  # `run --eval`: forward pass and loss only, no dropout, no update
    spec_after: Spec | None = None  # the network after the epoch (None at inference)
    notation: str = "lecture"  # the textbook whose symbols and δ sign the trace uses

    def name(self, lecture: str) -> str:
        """A lecture symbol (x1, t5, o5, w13) in this trace's notation."""
        if self.notation == LECTURE:
            return lecture
        return translation(self.spec, self.notation).symbol(lecture)


# ---------------------------------------------------------------- names


def _names(spec: Spec) -> tuple[list[list[str]], list[list[str]], list[list[str]], list[str]]:
    """Per layer (inputs first): output symbols (x1 / o3), net symbols, δ symbols; targets."""
    numbering = spec.numbering
    outs, nets, deltas = [], [], []
    for k, width in enumerate(spec.layers):
        units = [numbering.unit(k, i) for i in range(width)]
        outs.append([("x" if k == 0 else "o") + str(u) for u in units])
        nets.append([f"net{u}" for u in units])
        deltas.append([f"δ{u}" for u in units])
    targets = [f"t{numbering.unit(len(spec.layers) - 1, i)}" for i in range(spec.layers[-1])]
    return outs, nets, deltas, targets


def _received(spec: Spec, done: engine.Update, k: int) -> list[str]:
    """What layer k is fed: the names of layer k − 1's outputs, õ3 / x̃1 after dropout."""
    names = _names(spec)[0][k - 1]
    if not done.masks or done.masks[k - 1] is None:
        return names
    return [("x̃" if k == 1 else "õ") + name[1:] for name in names]


def _slot(name: str) -> str:
    return "{" + name + "}"


def _sum(terms: list[str], full: bool) -> str:
    """Join terms with +, eliding the middle of a long sum unless `full`."""
    if full or len(terms) <= TERMS_SHOWN + 1:
        return " + ".join(terms)
    return " + ".join(terms[: TERMS_SHOWN - 1]) + f" + … ({len(terms)} terms) + " + terms[-1]


def shown_units(count: int, full: bool = False) -> list[int]:
    """Which units of a layer are written out (tables, equations, the diagram): all, or the
    first few and the last."""
    if full or count <= ROWS_SHOWN + 1:
        return list(range(count))
    return [*list(range(ROWS_SHOWN - 1)), count - 1]


def _rows(count: int, full: bool, make, units: list[int]) -> list[Equation | Elided]:
    """make(i) → equations of unit i; an Elided row stands for the units left out."""
    rows: list[Equation | Elided] = []
    shown = shown_units(count, full)
    for position, i in enumerate(shown):
        if position and i != shown[position - 1] + 1:
            first, last = units[shown[position - 1] + 1], units[i - 1]
            rows.append(Elided(last - first + 1, f"units {first}–{last}"))
        rows.extend(make(i))
    return rows


def _used_terms(count: int, full: bool) -> list[int]:
    if full or count <= TERMS_SHOWN + 1:
        return list(range(count))
    return [*list(range(TERMS_SHOWN - 1)), count - 1]


# ---------------------------------------------------------------- builders


def build(
    spec: Spec,
    epoch: engine.Epoch,
    rounding: str | None = None,
    full: bool = False,
    gradients: bool | None = None,
    checks: list[list[engine.GradientCheck]] | None = None,
) -> Trace:
    """Name what one epoch computed. `gradients`: show ∂E/∂w rows (default: one-layer nets);
    `checks`: finite-difference checks per update (`engine.check_epoch`), shown beside them."""
    jacobian = gradients is True  # softmax with cross-entropy: the long way only when asked
    if gradients is None:  # (a book such as Mazur's writes the chain rule for every weight)
        gradients = len(spec.layers) == 2 or (
            spec.notation != LECTURE and translation(spec).book.gradients
        )
    steps: list[Step] = []
    current = spec
    for n, done in enumerate(epoch.updates):
        made = _update_steps(current, done, epoch.number, full, gradients, jacobian)
        if checks is not None:
            last = made[-1]
            section = _verification(current, checks[n])
            made[-1] = replace(last, sections=(*last.sections, section))
        steps.extend(made)
        current = engine.apply(current, done)
    notes = [SIGN_CONVENTION, *_function_rules(spec)]
    if spec.dropout is not None:
        notes.append(DROPOUT_RULE)
    if rounding:
        from .rounding import describe

        notes.append(
            f"Hand-calculation mode: every carried value is rounded to "
            f"{describe(rounding)}, and later steps use the rounded values."
        )
    shown = changes(spec, epoch.spec_after, full)
    return _in_notation(
        Trace(
            spec=spec,
            rounding=rounding,
            notes=tuple(notes),
            steps=tuple(steps),
            epochs=(EpochRecord(epoch.number, epoch.loss, epoch.loss_after),),
            changes=shown,
            parameter_count=len(parameters(spec)),
            loss_before=epoch.loss,
            loss_after=epoch.loss_after,
            outputs_after=epoch.outputs_after,
            loss_before_inference=epoch.loss_inference,
            spec_after=epoch.spec_after,
        )
    )


def translation(spec: Spec, book: str | None = None) -> Any:
    """The spec's notation (or `book`): a notations.Translation of its network."""
    from . import notations

    return notations.Translation(notations.get(book or spec.notation), spec)


def _in_notation(trace: Trace) -> Trace:
    """The trace in its spec's textbook notation (the lecture's: as built)."""
    if trace.spec.notation == LECTURE:
        return trace
    return translation(trace.spec).trace(trace)


def build_inference(spec: Spec, done: engine.Update, full: bool = False) -> Trace:
    """`run --eval`: each sample's forward pass and loss, as at inference (no dropout)."""
    out_names, _, _, target_names = _names(spec)
    steps = []
    for s, sample in enumerate(done.samples):
        values = {name: float(v) for name, v in zip(out_names[0], done.inputs[s])}
        values.update({name: float(v) for name, v in zip(target_names, done.targets[s])})
        sections = [
            _forward(spec, k, layer, s, done, values, full)
            for k, layer in enumerate(done.layers, start=1)
        ]
        sections.append(_error(spec, done, s, values, full))
        steps.append(
            Step(
                epoch=0,
                sample=sample + 1,
                inputs=done.inputs[s],
                targets=done.targets[s],
                loss=float(done.loss[s]),
                layers=tuple(
                    LayerRecord(
                        net=layer.net[s],
                        out=layer.out[s],
                        delta=None,
                        weights_before=layer.weights_before,
                        weights_after=None,
                        biases_before=layer.biases_before,
                        biases_after=None,
                    )
                    for layer in done.layers
                ),
                sections=tuple(sections),
                heading=f"Inference · sample {sample + 1} of {len(spec.samples)}",
            )
        )
    notes = _function_rules(spec)
    notes.append("Inference: the network as it is, without dropout; nothing is updated.")
    loss = engine.mean_loss([done.loss])
    return _in_notation(
        Trace(
            spec=spec,
            rounding=None,
            notes=tuple(notes),
            steps=tuple(steps),
            epochs=(),
            changes=(),
            parameter_count=0,
            loss_before=loss,
            loss_after=loss,
            outputs_after=done.layers[-1].out,
            inference=True,
        )
    )


def _function_rules(spec: Spec) -> list[str]:
    """The conventions lines: each activation used (once) and the loss."""
    rules = [a.rule for a in dict.fromkeys(spec.functions)]
    return [*rules, get_loss(spec.loss).rule]


def _verification(spec: Spec, checks: list[engine.GradientCheck]) -> Section:
    """Each gradient beside its central finite difference, and whether all agree."""
    numbering = spec.numbering
    rows = []
    for check in checks:
        k = check.layer + 1
        j = check.index[0]
        if check.bias:
            name = f"b{numbering.unit(k, j)}"
        else:
            name = notation.weight_name(numbering.unit(k - 1, check.index[1]), numbering.unit(k, j))
        rows.append(
            Equation(
                f"∂E/∂{name}",
                f"[E({name} + h) − E({name} − h)]/2h",
                (("backprop", check.backprop), ("relative difference", check.difference)),
                check.numeric,
                working="backprop {backprop}, relative difference {relative difference}",
                note="" if check.agrees else "DISAGREES",
            )
        )
    bad = [row.symbol for row, check in zip(rows, checks) if not check.agrees]
    tolerance = f"tolerance {engine.FD_TOLERANCE:g} relative + 1e-8·(1 + |E|)"
    if bad:
        note = (
            f"{len(bad)} of {len(checks)} gradients DISAGREE with finite differences "
            f"({', '.join(bad[:6])}{' …' if len(bad) > 6 else ''}; {tolerance})"
        )
    else:
        note = (
            f"All {len(checks)} gradients agree with central finite differences of the loss "
            f"computed by the forward pass ({tolerance})."
        )
    return Section(
        "verify",
        "Gradient check · central finite differences",
        f"∂E/∂θ ≈ [E(θ + h) − E(θ − h)]/2h, h = {engine.FD_STEP:g}",
        tuple(rows),
        note,
    )


def _update_steps(
    spec: Spec, done: engine.Update, number: int, full: bool, gradients: bool, jacobian: bool
) -> list[Step]:
    out_names, _, _, target_names = _names(spec)
    steps = []
    count = len(done.samples)
    for s, sample in enumerate(done.samples):
        values: dict[str, float] = {}
        x = done.inputs[s]
        for i, name in enumerate(out_names[0]):
            values[name] = float(x[i])
        for i, name in enumerate(target_names):
            values[name] = float(done.targets[s, i])
        sections = []
        for k, layer in enumerate(done.layers, start=1):
            if done.masks and done.masks[k - 1] is not None:
                sections.append(_dropout(spec, k - 1, done, s, values, full))
            sections.append(_forward(spec, k, layer, s, done, values, full))
        dropouts = [n for n, section in enumerate(sections) if section.kind == "dropout"]
        if dropouts:  # what dropout left unchanged, under the last dropout table
            last_dropout = sections[dropouts[-1]]
            sections[dropouts[-1]] = replace(
                last_dropout, note=f"{last_dropout.note}\n{_unchanged_count(spec, done)}"
            )
        sections.append(_error(spec, done, s, values, full))
        for k in reversed(range(1, len(spec.layers))):
            sections.append(_delta(spec, k, done, s, values, full, jacobian, gradients))
        last = s == count - 1
        if count == 1 or last:
            for k in reversed(range(1, len(spec.layers))):
                sections.extend(
                    _updates(spec, k, done, values if count == 1 else None, full, gradients)
                )
        records = tuple(
            LayerRecord(
                net=layer.net[s],
                out=layer.out[s],
                delta=layer.delta[s],
                weights_before=layer.weights_before,
                weights_after=layer.weights_after,
                biases_before=layer.biases_before,
                biases_after=layer.biases_after,
                mask=_mask(done, k + 1, s),
                out_after_dropout=(
                    done.kept[k + 1][s] if _mask(done, k + 1, s) is not None else None
                ),
            )
            for k, layer in enumerate(done.layers)
        )
        heading = f"Epoch {number} · sample {sample + 1} of {len(spec.samples)}"
        if spec.mode == "batch":
            heading += " (batch: one update after all samples)"
        steps.append(
            Step(
                epoch=number,
                sample=sample + 1,
                inputs=x,
                targets=done.targets[s],
                loss=float(done.loss[s]),
                layers=records,
                sections=tuple(sections),
                heading=heading,
                input_mask=_mask(done, 0, s),
                optimizer=_optimizer_record(spec, done) if count == 1 or last else None,
                penalty=done.penalty if spec.weight_decay else None,
            )
        )
    return steps


def _mask(done: engine.Update, position: int, s: int) -> Array | None:
    if position >= len(done.masks) or done.masks[position] is None:
        return None
    return done.masks[position][s]


def _factor(rate: float) -> str:
    """The inverted-dropout scale as written: ·2 for rate 0.5, /0.7 for rate 0.3."""
    scale = 1.0 / (1.0 - rate)
    if abs(scale - round(scale)) < 1e-9:
        return f"·{round(scale)}"
    return f"/{_num(1.0 - rate)}"


def _dropout(
    spec: Spec, p: int, done: engine.Update, s: int, values: dict[str, float], full: bool
) -> Section:
    """Layer p's outputs through its dropout mask: õ = m·o/(1 − rate)."""
    assert spec.dropout is not None
    outs = _names(spec)[0][p]
    kept_names = _received(spec, done, p + 1)
    rate = spec.dropout.rates[p]
    factor = _factor(rate)
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
                f"{_slot(m)}·{_slot(outs[j])}{factor}",
                ((m, float(mask[j])), (outs[j], values[outs[j]])),
                float(kept[j]),
                note="dropped" if dropped else "kept",
            )
        ]

    rows = _rows(spec.layers[p], full, make, units)
    n = spec.layers[p]
    dropped_units = [units[j] for j in range(n) if mask[j] == 0]
    count = len(dropped_units)
    note = (
        f"rate {_num(rate)} on {n} unit{'s' if n != 1 else ''}: {_num(rate * n)} expected to "
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
    rule = f"{'x̃' if p == 0 else 'õ'}_j = m_j·{letter}_j/(1 − {_num(rate)})"
    if not factor.startswith("/"):
        rule += f" = m_j·{letter}_j·{_num(scale)}"
    where = "inputs" if p == 0 else _layer_kind(spec, p)
    return Section("dropout", f"Dropout · {where} (rate {_num(rate)})", rule, tuple(rows), note)


def _layer_kind(spec: Spec, k: int) -> str:
    return "output layer" if k == len(spec.layers) - 1 else f"hidden layer {k}"


def biases_text(spec: Spec) -> str:
    """Which layers have bias terms: "no biases", "biases", "biases on hidden layer 1 only
    (none on the output layer)"; "(fixed)" when they are not trained."""
    if spec.biases is None:
        return "no biases"
    text = "biases"
    without = [_layer_kind(spec, k) for k, b in enumerate(spec.biases, start=1) if b is None]
    if without:
        with_ = [_layer_kind(spec, k) for k, b in enumerate(spec.biases, start=1) if b is not None]
        text = f"biases on {' and '.join(with_)} only (none on the {' and '.join(without)})"
    return text + (" (fixed)" if not spec.train_biases else "")


def _forward(
    spec: Spec,
    k: int,
    layer: engine.Layer,
    s: int,
    done: engine.Update,
    values: dict[str, float],
    full: bool,
) -> Section:
    out_names, net_names, _, _ = _names(spec)
    numbering = spec.numbering
    below = _received(spec, done, k)
    activation = spec.functions[k - 1]
    used = _used_terms(len(below), full)
    units = [numbering.unit(k, j) for j in range(spec.layers[k])]

    def make(j: int) -> list[Equation]:
        u = units[j]
        terms, operands = [], []
        for i in used:
            w = notation.weight_name(numbering.unit(k - 1, i), u)
            terms.append(f"{_slot(w)}·{_slot(below[i])}")
            operands += [(w, float(layer.weights_before[j, i])), (below[i], values[below[i]])]
        formula = _sum(terms, True) if len(used) == len(below) else _elided_sum(terms, len(below))
        if layer.biases_before is not None:
            formula += f" + {_slot(f'b{u}')}"
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
        rows = _rows(spec.layers[k], full, make, units)
        rule += f",  o_j = {activation.rule_name}(net_j)"
    else:
        rows = _softmax_rows(spec, k, layer, s, values, full, make, units)
        rule += ",  o_k = e^net_k / Σ_j e^net_j"
    return Section(
        "forward", f"Forward pass · {_layer_kind(spec, k)} ({activation.name})", rule, tuple(rows)
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
    out_names, net_names, _, _ = _names(spec)
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
        formula = template.replace("{net}", _slot(net)).replace("{m}", _slot(m))
        return [Equation(names[j], formula, operands, float(numerators[j]))]

    def quotient(j: int) -> list[Equation]:
        formula = definition.quotient.replace("{numerator}", _slot(names[j]))
        formula = formula.replace("{denominator}", _slot(denominator))
        operands = ((names[j], values[names[j]]), (denominator, values[denominator]))
        return [Equation(out_names[k][j], formula, operands, values[out_names[k][j]])]

    n = spec.layers[k]
    rows = _rows(n, full, net, units) + _rows(n, full, numerator, units)
    used = _used_terms(n, full)
    terms = [_slot(names[j]) for j in used]
    total = float(layer.parts["denominator"][s, 0])
    values[denominator] = total
    note = f"every net shifted by the largest, {m} = {shift:g}: o is unchanged" if shift else ""
    rows.append(
        Equation(
            denominator,
            _sum(terms, True) if len(used) == n else _elided_sum(terms, n),
            tuple((names[j], values[names[j]]) for j in used),
            total,
            note=note,
        )
    )
    rows.extend(_rows(n, full, quotient, units))
    return rows


def _elided_sum(terms: list[str], total: int) -> str:
    return " + ".join(terms[:-1]) + f" + … ({total} terms) + " + terms[-1]


def _error(
    spec: Spec, done: engine.Update, s: int, values: dict[str, float], full: bool
) -> Section:
    out_names, _, _, target_names = _names(spec)
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
                f"{_slot(target_names[j])} − {_slot(outs[j])}",
                ((target_names[j], values[target_names[j]]), (outs[j], values[outs[j]])),
                values[e],
            )
        ]

    rows: list[Equation | Elided] = list(_rows(n, full, make, units))
    used = _used_terms(n, full)
    loss = get_loss(spec.loss)
    terms, names = [], []
    for j in used:
        e, t, o = f"e{units[j]}", target_names[j], outs[j]
        terms.append(fill(loss.term, n, e=e, t=t, o=o))
        names += [name for slot, name in (("{e}", e), ("{t}", t), ("{o}", o)) if slot in loss.term]
    inner = _sum(terms, True) if len(used) == n else _elided_sum(terms, n)
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
    used = _used_terms(len(names), full)
    squares = [f"{_slot(names[n][0])}²" for n in used]
    total = _sum(squares, True) if len(used) == len(names) else _elided_sum(squares, len(names))
    operands = (("λ", spec.weight_decay), *(names[n] for n in used))
    return Equation("penalty", f"({_slot('λ')}/2)·({total})", operands, done.penalty)


def _delta(
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
    out_names, net_names, delta_names, target_names = _names(spec)
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
                formula = f"{lead}({_slot(t)} − {_slot(o)})"
                note = ""
            operands = (*base, (t, values[t]))
        else:
            above = delta_names[k + 1]
            used = _used_terms(spec.layers[k + 1], full)
            terms, ops = [], []
            for m in used:
                w = notation.weight_name(units[j], numbering.unit(k + 1, m))
                terms.append(f"{_slot(w)}·{_slot(above[m])}")
                ops += [
                    (w, float(done.layers[k].weights_before[m, j])),
                    (above[m], values[above[m]]),
                ]
            inner = (
                _sum(terms, True)
                if len(used) == spec.layers[k + 1]
                else _elided_sum(terms, spec.layers[k + 1])
            )
            if len(terms) > 1:
                inner = f"({inner})"
            lead = "" if activation.slope == "1" else slope_formula + "·"
            note = ""
            mask = _mask(done, k, s)
            if gradients and activation.elementwise and mask is None and layer.back is not None:
                grad = f"∂E/∂{o}"  # the engine's Σ_k w_jk·δ_k, with ∂E/∂o's sign
                values[grad] = -float(layer.back[s, j])
                rows.append(Equation(grad, "−" + inner, tuple(ops), values[grad]))
                rows.append(Equation(slope, slope_formula, base, values[slope]))
            if mask is not None:
                assert spec.dropout is not None
                m = f"m{units[j]}"
                lead += f"{_slot(m)}{_factor(spec.dropout.rates[k])}·"
                ops = [(m, float(mask[j])), *ops]
                if mask[j] == 0:
                    note = "dropped: δ = 0"
            formula = lead + inner
            operands = base + tuple(ops)
        value = float(layer.delta[s, j])
        values[d] = value
        rows.append(Equation(d, formula, operands, value, note=note))
        return rows

    rows = _rows(n, full, make, units)
    if output:
        rule = "δ = −∂E/∂o · ∂o/∂net"
        if shortcut is None and not loss.factor and activation.slope != "1":
            rule += f" = {activation.slope_words}(t − o)"
        title = "δ · output layer"
    else:
        rule = "δ_j = ∂o_j/∂net_j · Σ_k w_jk·δ_k, w before the update"
        if done.masks and done.masks[k] is not None:
            assert spec.dropout is not None
            factor = _factor(spec.dropout.rates[k])
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
    out_names, _, delta_names, target_names = _names(spec)
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
            Equation(g, f"−{_slot(grad)}", ((grad, values[grad]),), values[g]),
        ]

    def delta(j: int) -> list[Equation]:
        o, t, d = outs[j], targets[j], deltas[j]
        values[d] = float(layer.delta[s, j])
        if long:
            g = f"g{units[j]}"
            formula = f"{_slot(o)}·({_slot(g)} − {_slot('ḡ')})"
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
        rows += _rows(n, full, gradient, units)
        used = _used_terms(n, full)
        terms = [f"{_slot(f'g{units[j]}')}·{_slot(outs[j])}" for j in used]
        values["ḡ"] = float(layer.parts["weighted"][s, 0])
        rows.append(
            Equation(
                "ḡ",
                _sum(terms, True) if len(used) == n else _elided_sum(terms, n),
                tuple(
                    kv
                    for j in used
                    for kv in ((f"g{units[j]}", values[f"g{units[j]}"]), (outs[j], values[outs[j]]))
                ),
                values["ḡ"],
            )
        )
    rows += _rows(n, full, delta, units)
    if long:
        rule = "δ_j = o_j·(g_j − ḡ), g = −∂E/∂o, ḡ = Σ_k g_k·o_k"
        note = "softmax's Jacobian ∂o_k/∂net_j = o_k(1[k = j] − o_j), every term kept"
        if shortcut is not None:
            note += "; with cross-entropy ḡ = Σ_k t_k = 1 and δ_j = t_j − o_j"
    else:
        rule = "δ_k = t_k − o_k"
        note = definition.collapse
    return Section("delta", "δ · output layer (softmax)", rule, tuple(rows), note)


def _updates(
    spec: Spec,
    k: int,
    done: engine.Update,
    values: dict[str, float] | None,
    full: bool,
    gradients: bool,
) -> list[Section]:
    """Weight (and bias) updates of layer k. `values` is None in batch mode."""
    _, _, delta_names, _ = _names(spec)
    numbering = spec.numbering
    layer = done.layers[k - 1]
    below = _received(spec, done, k)
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
            products = [f"{_slot(f'{d}⁽{s + 1}⁾')}·{_slot(f'{src}⁽{s + 1}⁾')}" for s in range(S)]
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
                        f"−{_slot(d)}·{_slot(src)}",
                        ((d, values[d]), (src, values[src])),
                        grad,
                    )
                )
            if gradients:
                o, net = f"o{u}", f"net{u}"
                if f"∂E/∂{o}" in values and spec.functions[k - 1].elementwise:
                    # ∂net/∂w = o_i (here x1): the chain rule's last factor, on its own row
                    factor = f"∂{net}/∂{w}"
                    rows.append(Equation(factor, _slot(src), ((src, values[src]),), values[src]))
                    chain = f"{_slot(f'∂E/∂{o}')}·{_slot(f'∂{o}/∂{net}')}·{_slot(factor)}"
                    ops = (
                        (f"∂E/∂{o}", values[f"∂E/∂{o}"]),
                        (f"∂{o}/∂{net}", values[f"∂{o}/∂{net}"]),
                        (factor, values[src]),
                    )
                else:
                    chain = f"−{_slot(d)}·{_slot(src)}"
                    ops = ((d, values[d]), (src, values[src]))
                rows.append(Equation(f"∂E/∂{w}", chain, ops, grad))
            if plain:
                rows.append(
                    Equation(
                        f"Δ{w}",
                        f"{_slot('η')}·{_slot(d)}·{_slot(src)}",
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
                f"{_slot(w)} + {_slot(f'Δ{w}')}",
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
    if below != _names(spec)[0][k - 1]:  # dropout: the update uses what the unit passed on
        rule = rule.replace("o_i", "õ_i")
    title = f"Updates · {_layer_kind(spec, k)}"
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
    _, _, delta_names, _ = _names(spec)
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
            shown = [_slot(name) for name, _ in ops]
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
                        f"{_slot(f'∂E/∂{o}')}·{_slot(f'∂{o}/∂{net}')}·{_slot(factor)}",
                        (
                            (f"∂E/∂{o}", values[f"∂E/∂{o}"]),
                            (f"∂{o}/∂{net}", values[f"∂{o}/∂{net}"]),
                            (factor, 1.0),
                        ),
                        grad,
                    )
                )
            else:
                rows.append(Equation(f"∂E/∂{b}", f"−{_slot(d)}", ((d, values[d]),), grad))
        if layer.db is None:
            rows.append(
                Equation(f"new {b}", _slot(b), ((b, before),), before, note="fixed (not trained)")
            )
            return rows
        db = float(layer.db[j])
        if done.optimized is not None:
            if values is not None and not gradients:
                rows.append(Equation(f"∂E/∂{b}", f"−{_slot(d)}", ((d, values[d]),), grad))
            count = len(spec.weights)
            rows.extend(_optimizer_rows(spec, done, b, (count + k - 1, (j,)), before, grad, False))
        elif values is None:
            rows.append(_batch_change(b, grad, db, eta))
        else:
            rows.append(
                Equation(f"Δ{b}", f"{_slot('η')}·{_slot(d)}", (("η", eta), (d, values[d])), db)
            )
        rows.append(
            Equation(
                f"new {b}",
                f"{_slot(b)} + {_slot(f'Δ{b}')}",
                ((b, before), (f"Δ{b}", db)),
                float(layer.biases_after[j]),
                note=_unchanged(spec, done, k, j, None),
            )
        )
        return rows

    rows = _rows(spec.layers[k], full, make, units)
    rule = "Δb_j = η·δ_j" if values is not None else "Δb_j = −η·∂E/∂b_j"
    title = f"Bias updates · {_layer_kind(spec, k)}"
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


def _unchanged_count(spec: Spec, done: engine.Update) -> str:
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


def _batch_change(name: str, grad: float, change: float, eta: float) -> Equation:
    """Δθ = −η·∂E/∂θ in batch mode, where ∂E/∂θ sums (or averages) over the samples."""
    return Equation(
        f"Δ{name}",
        f"−η·{_slot(f'∂E/∂{name}')}",
        ((f"∂E/∂{name}", grad),),
        change,
        working=f"−{_num(eta)}·{{∂E/∂{name}}}",
    )


def _num(value: float) -> str:
    return f"{value:g}"


def parameters(spec: Spec) -> Array:
    """Every weight and bias as one vector, in network order: each layer's matrix row by row
    (w13, w23, w14, …), then the biases layer by layer (b3, b4, …)."""
    parts = [w.ravel() for w in spec.weights]
    if spec.biases is not None:
        parts += [b.ravel() for b in spec.biases if b is not None]
    return np.concatenate(parts)


def parameter_names(spec: Spec, indices: Sequence[int] | None = None) -> list[str]:
    """The names of `parameters(spec)` — all of them, or those at `indices` (a wide network's
    200,000 names are only made when something shows them all)."""
    first = [spec.numbering.first(k) for k in range(len(spec.layers))]
    blocks: list[tuple[int, int, Callable[[int], str]]] = []  # start, size, name of n-th
    start = 0
    for k, w in enumerate(spec.weights, start=1):
        cols = w.shape[1]

        def weight(n: int, k: int = k, cols: int = cols) -> str:
            return notation.weight_name(first[k - 1] + n % cols, first[k] + n // cols)

        blocks.append((start, w.size, weight))
        start += w.size
    for k, b in enumerate(spec.biases or (), start=1):
        if b is not None:
            blocks.append((start, b.size, lambda n, k=k: f"b{first[k] + n}"))
            start += b.size
    if indices is None:
        return [name(n) for _, size, name in blocks for n in range(size)]
    starts = [block[0] for block in blocks]
    names = []
    for index in indices:
        begin, _, name = blocks[bisect.bisect_right(starts, index) - 1]
        names.append(name(index - begin))
    return names


JSON_IN_FULL = 1_000  # parameters: up to this many, the JSON names every one and writes every
# equation; beyond, what the tables show (--full: all), as the arrays already hold every value
SUMMARY_ROWS = 24  # a summary lists every parameter up to this many, else those that moved most


def changes(before: Spec, after: Spec, full: bool) -> tuple[Change, ...]:
    """Old → new of every parameter (`full`), or of the SUMMARY_ROWS that moved most."""
    old, new = parameters(before), parameters(after)
    if full or old.size <= SUMMARY_ROWS:
        shown = None
        indices = slice(None)
    else:
        # the parameters that moved most, in network order (on a tie, the earlier one)
        largest = np.argsort(-np.abs(new - old), kind="stable")[:SUMMARY_ROWS]
        shown = indices = np.sort(largest).tolist()
    names = parameter_names(before, shown)
    olds, news = old[indices].tolist(), new[indices].tolist()
    return tuple(Change(*change) for change in zip(names, olds, news))


def is_question(row: Equation) -> bool:
    """A quantity a student finds by hand (and an exercise asks for): every equation but the
    chain rule's ∂ factors."""
    return not row.symbol.startswith("∂")
