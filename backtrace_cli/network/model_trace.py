"""A `model:` of tensor layers traced as a worked solution: each sample's forward pass layer by
layer, its loss, the δ flowing back and every parameter's gradient, then the update — each a
`worked.Section` of rows (template formulas, as a graph's), so the renderers, `check` and
`quiz` read them as they read every model's. Computes nothing: the numbers are `model_engine`'s."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, ClassVar

import numpy as np

from ..definitions import losses as loss_functions
from ..definitions.optimizers import describe
from ..worked import Equation, Section
from . import model_engine as engine
from .layers.model_kinds import MODEL_KINDS
from .layers.tensor import (
    as_written,
    entry,
    head,
    joined,
    negated,
    row,
    tagged,
    template_pieces,
    template_row,
)
from .model_spec import LayerSpec, ModelSpec
from .order import sample_order


@dataclass(frozen=True, slots=True)
class ModelStep:
    """One sample's traced step."""

    epoch: int
    sample: int
    heading: str
    sections: tuple[Section, ...]
    inputs: Any
    targets: Any
    outputs: Any  # the model's output
    loss: float
    layers: tuple[dict[str, Any], ...]  # per layer: its output and δ (JSON)
    gradients: dict[str, Any]  # ∂E/∂θ by state-dict name

    def equations(self) -> list[tuple[Section, Equation]]:
        """Every row of the step with its section, in order."""
        return [(section, r) for section in self.sections for r in section.rows]


@dataclass(frozen=True, slots=True)
class ModelTrace:
    """`run` on a model: every step of one epoch, the model after it, --verify's checks."""

    FORM: ClassVar[str] = "model step"

    spec: ModelSpec
    rounding: str | None
    steps: tuple[ModelStep, ...]
    after: ModelSpec
    loss_after: float
    checks: tuple[engine.Check, ...] | None = None
    inference: bool = False  # in torch's eval mode (`--eval`)
    epoch: int = 1
    full: bool = False  # every row of a long section shown (the renderers elide, JSON never)
    # and every term of a long sum (`model_trace.build`: without it, as a page writes them)
    updated: bool = True  # the step updates (`run --eval`'s does not: its gradients alone)

    @property
    def blocks(self) -> tuple[Section, ...]:
        return tuple(s for step in self.steps for s in step.sections)


def symbol(spec: ModelSpec) -> Any:
    """A parameter entry's name in the trace: ("0.weight", (1, 0, 2)) → "w0[1,0,2]"."""

    layers = {layer.name: layer for layer in spec.layers}

    def name(parameter: str, index: tuple[int, ...]) -> str:
        layer, _, key = parameter.rpartition(".")
        return entry(parameter_head(layers[layer], key), index)

    return name


def parameter_head(layer: LayerSpec, key: str) -> str:
    """A parameter's name in the trace without its index: "weight" w0, "bias" b_conv, or its
    kind's own (an rnn's weight_hh_l0: w_hh0; of stacked layers weight_hh_l1: w_hh0_l1)."""
    own = getattr(MODEL_KINDS[layer.kind][0], "parameter_head", None)
    if own is not None:
        return own(dict(layer.arguments), key, layer.name)
    return head("w" if key == "weight" else "b", layer.name)


# ---------------------------------------------------------------- the loss


def loss_sections(done: engine.Pass) -> list[Section]:
    view, spec = done.view, done.view.spec
    definition = loss_functions.get(spec.loss)
    last = len(view.layers) - 1
    y, t, d = view.outputs[last], view.outputs[last] + done.error, view.deltas[last]
    ys, ds = view.name(last), view.delta(last)
    n = y.size  # every entry: one per step after an rnn without `last` ([T][out])
    at = list(np.ndindex(*y.shape))
    slots = [
        {"e": (entry("e", i), done.error[i]), "t": (entry("t", i), t[i]), "o": (ys(i), y[i])}
        for i in at
    ]
    rows: list[Equation] = [
        row(entry("e", i), [slots[j]["t"], " − ", slots[j]["o"]], done.error[i])
        for j, i in enumerate(at)
    ]
    term = definition.term.replace("{n}", str(n))
    pieces = joined(template_pieces(term, slots[j]) for j in range(n))
    whole = definition.total("\0", n).split("\0")
    rows.append(row("E", [whole[0], *pieces, whole[1]], done.loss))
    loss = Section(
        "error", "Error and loss", f"the error e = t − y, the loss {definition.rule}", tuple(rows)
    )
    template = engine.delta_template(definition, n)
    deltas = tuple(row(ds(i), template_pieces(template, slots[j]), d[i]) for j, i in enumerate(at))
    rule = f"the output's δ = −∂E/∂y = {template.replace('{t}', 't').replace('{o}', 'y')}"
    return [loss, Section("delta", "δ · the model's output", rule, deltas)]


# ---------------------------------------------------------------- the update


def update_section(spec: ModelSpec, moved: tuple[engine.Moved, ...]) -> Section:
    """Every parameter entry's update: SGD's one line, or the optimizer's lines."""
    name = symbol(spec)
    settings = spec.optimizer
    opt = settings.optimizer
    plain = settings.name == "sgd" and not spec.weight_decay
    hyper = settings.symbols()
    rows: list[Equation] = []
    for m in moved:
        for index in np.ndindex(*m.before.shape):
            w = name(m.name, index)
            values = {
                key: (v[index] if isinstance(v, np.ndarray) else v) for key, v in m.lines.items()
            }
            if plain:
                grad = (f"∂E/∂{w}", float(values["g"]))
                pieces = [(w, m.before[index]), " − ", ("η", spec.learning_rate), "·", grad]
                rows.append(row(f"new {w}", pieces, values["new"]))
                continue
            rows += _optimizer_rows(w, float(m.before[index]), values, opt, hyper, spec)
    title = "Update · " + ("gradient descent" if plain else describe(settings, spec.weight_decay))
    rule = (
        f"θ ← θ − η·∂E/∂θ, η = {spec.learning_rate:g}"
        if plain
        else f"{opt.rule()}, η = {spec.learning_rate:g}"
    )
    return Section("update", title, rule, tuple(rows), rule_latex="" if plain else opt.rule_latex())


def _optimizer_rows(
    w: str, before: float, n: dict[str, Any], opt: Any, hyper: dict[str, float], spec: ModelSpec
) -> list[Equation]:
    g = f"g_{w}"
    by_symbol = {line.symbol: line for line in opt.lines}

    def operand(slot: str, line_name: str) -> tuple[str, float]:
        if slot in hyper:
            return (slot, hyper[slot])
        if slot == "η":
            return ("η", spec.learning_rate)
        if slot == "λ":
            return ("λ", hyper.get("λ", spec.weight_decay))
        if slot == "t":
            return ("t", float(n["t"]))
        if slot == "w":
            return (w, before)
        if slot == "g":
            return (g, float(n["g"]))
        line = by_symbol[slot]
        own = line.name == line_name and line.name in opt.state
        return (f"{slot}_{w}", float(n[f"before {line.name}"] if own else n[line.name]))

    def line_row(symbol_: str, text: str, latex: str, line_name: str, value: float) -> Equation:
        slots = {slot: operand(slot, line_name) for slot in _slots(text)}
        return template_row(symbol_, text, latex, slots, value)

    rows = []
    if spec.weight_decay and w.startswith("w"):
        pieces = [
            (f"∂E/∂{w}", float(n["g"]) - spec.weight_decay * before),
            " + ",
            ("λ", spec.weight_decay),
            "·",
            (w, before),
        ]
        rows.append(row(g, pieces, n["g"]))
    else:
        rows.append(row(g, [(f"∂E/∂{w}", float(n["g"]))], n["g"]))
    for line in opt.lines[:-1]:
        rows.append(
            line_row(f"{line.symbol}_{w}", line.text, line.latex, line.name, float(n[line.name]))
        )
    rows.append(
        line_row(
            f"Δ_{w}",
            opt.step_text(w.startswith("w")),
            opt.step_latex(w.startswith("w")),
            opt.lines[-1].name,
            float(n["step"]),
        )
    )
    rows.append(row(f"new {w}", [(w, before), " + ", (f"Δ_{w}", float(n["step"]))], n["new"]))
    return rows


def _slots(text: str) -> list[str]:
    import re

    return list(dict.fromkeys(re.findall(r"\{([^{}]+)\}", text)))


# ---------------------------------------------------------------- one step


def placed(sections: list[Section], p: int) -> list[Section]:
    """A layer's sections, each saying which layer of the model it is about (what a book's
    notation reads to number it: `Section.layer`)."""
    return [replace(section, layer=p) for section in sections]


def gradient_sections(views: list[Any], p: int, carry: Any, update: bool = True) -> list[Section]:
    """Layer p's parameters' gradients: −(its terms) for one sample; over a batch, the
    samples' terms summed, averaged where the batch gradient is the mean — each row's value
    carried as the update's (`model_engine.combined`)."""
    view = views[-1]
    layer = view.layers[p]
    if not hasattr(layer, "gradient_terms"):
        return []
    spec = view.spec
    per_sample = [layer.gradient_terms(v, p) for v in views]
    numbers = [v.number() for v in views]
    grads = engine.combined(spec, [v.terms[p] for v in views], carry)
    rows = []
    for n, (key, index, *_) in enumerate(per_sample[0]):
        name = entry(parameter_head(spec.layers[p], key), index)
        # a layer's named slips of the terms (an optional fourth member), written as its terms
        slips = [
            (slip, _gradient([dict(terms[n][3])[slip] for terms in per_sample], spec, numbers))
            for slip, _ in (per_sample[0][n][3] if len(per_sample[0][n]) > 3 else ())
        ]
        written = _gradient([terms[n][2] for terms in per_sample], spec, numbers)
        rows.append(row(f"∂E/∂{name}", written, -grads[key][index], slips=slips))
    title = f"Gradients · layer {spec.layers[p].name} ({spec.layers[p].kind})"
    # a layer's own for its arguments (an rnn's stacked layers), or its kind's
    rule = layer.gradient_rule() if hasattr(layer, "gradient_rule") else layer.GRADIENT_RULE
    if len(views) > 1:
        how = (
            f"averaged over the {len(views)} samples"
            if spec.batch_gradient == "mean"
            else (f"summed over the {len(views)} samples")
        )
        rule += f"; {how} (batch: one update)" if update else f"; {how} (the batch's gradient)"
    return [Section("gradient", title, rule, tuple(rows), layer=p)]


def _gradient(per_sample: list[list[Any]], spec: ModelSpec, numbers: list[int]) -> list[Any]:
    """−(the terms) for one sample; over a batch, each sample's terms under its own names
    (`numbers`: each one's in the config), summed, averaged where the batch gradient is the
    mean."""
    if len(per_sample) == 1:
        return negated(per_sample[0])
    mean = spec.batch_gradient == "mean"
    # each sample's values under its own names, as a network's batch rows: δ0[0,1]⁽2⁾
    samples = joined(
        (
            ["(", *(tagged(piece, numbers[s]) for piece in terms), ")"]
            for s, terms in enumerate(per_sample)
        ),
        "samples",  # a batch's sum over its samples, as a network's: "… (8 samples)"
    )
    return [f"−(1/{len(per_sample)})·(" if mean else "−(", *samples, ")"]


def running_sections(view: Any, after: ModelSpec) -> list[Section]:
    """The running statistics' update of each layer that keeps them, once a training pass."""
    out: list[Section] = []
    new = dict(after.buffers)
    for p, layer in enumerate(view.layers):
        if hasattr(layer, "running_rows"):
            name = view.spec.layers[p].name
            own = {key: new[f"{name}.{key}"] for key in layer.running}
            out += placed(layer.running_rows(view, p, own), p)
    return out


def build(
    spec: ModelSpec,
    carry: Any,
    rounding: str | None,
    verify: bool = False,
    inference: bool = False,
    epoch: int = 1,
    sections: bool = True,
    full: bool = False,
    update: bool = True,
) -> ModelTrace:
    """One epoch over the samples, in the epoch's order (as given, or shuffled: `order.py`)
    — an update after each (online), or one after all of them (batch, in the last sample's
    step) — traced (its rows only if `sections`: training's other epochs need the numbers
    alone; `full`: every term of a long sum, as marking reads them, else as a page writes
    them); `after` holds the model with its optimizer's state. `inference`: in torch's eval
    mode (nothing dropped, batch norm with its running statistics, which do not move);
    without `update`, the δ and gradients of every sample and no update (`run --eval`)."""
    if not inference and spec.training_refused is not None:
        raise spec.training_refused  # batch norm in online mode, or one value per feature
    batch = spec.mode == "batch"
    steps: list[ModelStep] = []
    current = spec
    checks = None
    count = len(spec.samples)
    passes: list[engine.Pass] = []
    order = sample_order(spec, epoch)
    samples = [spec.samples[i] for i in order]
    # each sample's dropout masks, the k-th taken the k-th drawn (none at inference)
    keeps = [None] * count if inference else engine.masks(spec, epoch)
    each = [engine.build(current, masks=m, inference=inference) for m in keeps] if batch else []
    together = (  # a batch through batch norm: every sample runs at once, before the update
        engine.run_batch(
            current,
            each,
            [(s.inputs, s.targets) for s in samples],
            carry,
            [i + 1 for i in order],
        )
        if batch and engine.batched(each[0])
        else []
    )
    for k, sample in enumerate(samples):
        s = order[k] + 1  # its number in the config
        if together:
            layers, done = each[k], together[k]
        else:
            layers = engine.build(current, masks=keeps[k], inference=inference)
            done = engine.run(current, layers, sample.inputs, sample.targets, carry, s)
        view = done.view
        passes.append(done)
        rows: list[Section] = []
        if sections:
            for p, layer in enumerate(layers):
                rows += placed(layer.forward_rows(view, p), p)
            rows += loss_sections(done)
        due = not batch or k == count - 1  # an update's gradient is whole (a batch's: at its end)
        if sections:
            for p in range(len(layers) - 1, -1, -1):
                rows += placed(layers[p].delta_rows(view, p), p)
                if not batch:
                    rows += gradient_sections([view], p, carry, update)
        if due and (update or (verify and checks is None)):
            gradients = engine.combined(
                current, [d.terms for d in passes[-count if batch else -1 :]], carry
            )
            if verify and checks is None:  # in eval mode: torch's gradients in eval mode
                checked = samples if batch else [sample]
                own = keeps if batch else [keeps[k]]
                name = symbol(current)
                checks = engine.check(current, gradients, checked, name, own, inference)
        if due and batch and sections:
            for p in range(len(layers) - 1, -1, -1):
                rows += gradient_sections([d.view for d in passes], p, carry, update)
        if due and update:
            before = current
            current, moved = engine.update(current, gradients, carry)
            if not inference:  # eval mode never moves the running statistics
                current = engine.tracked(current, done, carry)
            if sections:
                rows.append(update_section(before, moved))
                if not inference:
                    rows += running_sections(view, current)
        per_layer = tuple(
            {
                "name": spec.layers[p].name,
                "kind": spec.layers[p].kind,
                "out": view.outputs[p],
                "delta": view.deltas[p],
            }
            for p in range(len(layers))
        )
        heading = f"Epoch {epoch} · sample {s} of {count}"
        if batch and update:
            heading += " (batch: one update after all samples)"
        steps.append(
            ModelStep(
                epoch,
                s,
                heading,
                tuple(as_written(section, full) for section in rows),
                sample.inputs,
                sample.targets,
                view.outputs[-1],
                done.loss,
                per_layer,
                done.gradients,
            )
        )
    after = mean_loss(current, inference)
    return ModelTrace(
        spec, rounding, tuple(steps), current, after, checks, inference, epoch, full, update
    )


def mean_loss(spec: ModelSpec, inference: bool = False) -> float:
    """The mean loss over the samples of the model as it is (exact), dropping nothing; batch
    norm over the batch, or (`inference`) with its running statistics, as torch's eval mode."""
    values = dict(spec.parameters)
    samples = [(s.inputs, s.targets) for s in spec.samples]
    return float(np.mean(engine.losses_of(spec, values, samples, inference=inference)))


@dataclass(frozen=True, slots=True)
class EpochRow:
    epoch: int
    loss: float  # mean over the samples, each before its own update
    loss_after: float  # mean over the samples after the epoch


@dataclass(frozen=True, slots=True)
class ModelTraining:
    """`step` on a model: a row per epoch, the picked epochs traced, the trained model."""

    FORM: ClassVar[str] = "model training"

    spec: Any
    rounding: str | None
    rows: tuple[EpochRow, ...]
    traces: tuple[Any, ...]  # model_trace.ModelTrace of the picked epochs
    final: Any
    epochs_asked: int
    stop_reason: str = ""
    inference: bool = False  # trained in torch's eval mode (`step --eval`)
    updated = True  # its epochs update (as `ModelTrace.updated`)

    @property
    def losses(self) -> list[float]:
        return [row.loss for row in self.rows]

    @property
    def losses_after(self) -> list[float]:
        return [row.loss_after for row in self.rows]
