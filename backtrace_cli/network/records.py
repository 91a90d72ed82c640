"""The engine's arrays, named in the lecture's notation: a step (or an epoch) as a `Trace` of
samples' sections of rows. Computes nothing.

The rows_* modules write each phase's rows (forward, δ, updates); here they are put in order for
each sample, and the trace is named in its spec's textbook.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from ..core.rounding import describe
from ..definitions import optimizers
from ..definitions.losses import get as get_loss
from ..worked import TERMS_SHOWN
from . import engine
from .config import Spec
from .layers import Dense, stack
from .parameters import (
    JSON_IN_FULL,
    SUMMARY_ROWS,
    biases_text,
    changes,
    parameter_names,
    parameters,
)
from .rows import (
    LECTURE,
    ROWS_SHOWN,
    SIGN_CONVENTION,
    Change,
    Elided,
    EpochRecord,
    Equation,
    LayerRecord,
    OptimizerRecord,
    Section,
    Step,
    View,
    is_question,
    sample_mask,
    shown_units,
    sign_convention,
    unit_symbols,
)
from .rows_loss import error_section
from .translation import translation

if TYPE_CHECKING:  # numpy.typing costs start-up time; annotations only
    import numpy.typing as npt

    Array = npt.NDArray[np.float64]

__all__ = [  # what renderers, check and tests import from here
    "DROPOUT_RULE",
    "JSON_IN_FULL",
    "LECTURE",
    "ROWS_SHOWN",
    "SIGN_CONVENTION",
    "SUMMARY_ROWS",
    "TERMS_SHOWN",
    "Change",
    "Elided",
    "EpochRecord",
    "Equation",
    "LayerRecord",
    "OptimizerRecord",
    "Section",
    "Step",
    "Trace",
    "biases_text",
    "build",
    "build_inference",
    "changes",
    "is_question",
    "parameter_names",
    "parameters",
    "shown_units",
    "shows_gradients",
    "translation",
]


DROPOUT_RULE = (
    "Dropout (Keras): each unit is dropped with probability rate; kept outputs are scaled by "
    "1/(1 − rate). A dropped unit passes 0 forward, gets δ = 0, and the weights into and out "
    "of it do not change in that step. The loss after the update is measured without "
    "dropout, as at inference."
)


@dataclass(frozen=True, slots=True, eq=False)
class Trace:
    """Everything the renderers show: notes, steps, and the old → new summary."""

    FORM: ClassVar[str] = "network step"  # what draws it (`render.DRAWN_BY`)

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
    gradients = shows_gradients(spec, gradients)
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
    notes = [sign_convention(spec), *_function_rules(spec)]
    if spec.dropout is not None:
        notes.append(DROPOUT_RULE)
    if rounding:
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


def shows_gradients(spec: Spec, gradients: bool | None) -> bool:
    """Whether the trace writes ∂E/∂w rows: as asked, else for a one-layer network (and in a
    book such as Mazur's, which writes the chain rule for every weight)."""
    if gradients is not None:
        return gradients
    return len(spec.layers) == 2 or (spec.notation != LECTURE and translation(spec).book.gradients)


def _in_notation(trace: Trace) -> Trace:
    """The trace in its spec's textbook notation (the lecture's: as built): its notes, steps and
    summary renamed; the numbers are the engine's."""
    if trace.spec.notation == LECTURE:
        return trace
    book = translation(trace.spec)
    renamed = {  # a bias the book names once per layer is listed once
        book.symbol(change.symbol): Change(book.symbol(change.symbol), change.before, change.after)
        for change in trace.changes
    }
    merged = len(trace.changes) - len(renamed)
    return replace(
        trace,
        notes=book.conventions(trace.notes),
        steps=tuple(book.step(step) for step in trace.steps),
        changes=tuple(renamed.values()),
        parameter_count=trace.parameter_count - merged,
        notation=book.book.name,
    )


def build_inference(spec: Spec, done: engine.Update, full: bool = False) -> Trace:
    """`run --eval`: each sample's forward pass and loss, as at inference (no dropout)."""
    out_names, _, _, target_names = unit_symbols(spec)
    steps = []
    for s, sample in enumerate(done.samples):
        values = {name: float(v) for name, v in zip(out_names[0], done.inputs[s])}
        values.update({name: float(v) for name, v in zip(target_names, done.targets[s])})
        view = View(spec, done, s, values, full, stack=stack(len(done.layers), None))
        sections = [section for kind, k in view.stack for section in _forward(kind, view, k)]
        sections.append(error_section(view))
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


def _placed(sections: list[Section], k: int) -> list[Section]:
    """A layer's sections, each saying which layer's units it is about (what a book's
    translation reads: `Section.layer`)."""
    return [replace(section, layer=k) for section in sections]


def _forward(kind: type, view: View, k: int) -> list[Section]:
    return _placed(kind.forward_rows(view, k), k)


def _function_rules(spec: Spec) -> list[str]:
    """The conventions lines: each activation used (once) and the loss."""
    rules = [a.rule for a in dict.fromkeys(spec.functions)]
    return [*rules, get_loss(spec.loss).rule]


def _verification(spec: Spec, checks: list[engine.GradientCheck]) -> Section:
    """Each gradient beside its central finite difference, and whether all agree."""
    rows = []
    for check in checks:
        k = check.layer + 1
        parameter = "bias" if check.bias else "weight"
        shape = spec.weights[k - 1].shape[: len(check.index)]  # its array's: (j, i) or (j,)
        n = int(np.ravel_multi_index(check.index, shape))
        name = Dense.parameter_name(spec, k, parameter)(n)
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
    out_names, _, _, target_names = unit_symbols(spec)
    steps = []
    count = len(done.samples)
    layers = stack(len(done.layers), done.masks)
    for s, sample in enumerate(done.samples):
        values: dict[str, float] = {}
        x = done.inputs[s]
        for i, name in enumerate(out_names[0]):
            values[name] = float(x[i])
        for i, name in enumerate(target_names):
            values[name] = float(done.targets[s, i])
        view = View(spec, done, s, values, full, gradients, jacobian, layers)
        sections = [section for kind, k in layers for section in _forward(kind, view, k)]
        sections.append(error_section(view))
        for kind, k in reversed(layers):
            sections.extend(_placed(kind.delta_rows(view, k), k))
        last = s == count - 1
        if count == 1 or last:
            batch = replace(view, values=values if count == 1 else None)
            for kind, k in reversed(layers):
                sections.extend(_placed(kind.update_rows(batch, k), k))
        records = tuple(
            LayerRecord(
                net=layer.net[s],
                out=layer.out[s],
                delta=layer.delta[s],
                weights_before=layer.weights_before,
                weights_after=layer.weights_after,
                biases_before=layer.biases_before,
                biases_after=layer.biases_after,
                mask=sample_mask(done, k + 1, s),
                out_after_dropout=(
                    done.kept[k + 1][s] if sample_mask(done, k + 1, s) is not None else None
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
                input_mask=sample_mask(done, 0, s),
                optimizer=_optimizer_record(spec, done) if count == 1 or last else None,
                penalty=done.penalty if spec.weight_decay else None,
            )
        )
    return steps
