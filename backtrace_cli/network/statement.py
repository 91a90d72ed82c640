"""A layered network's homework question as structure (`statement`): its problem statement —
the network, its activations, loss and learning rate, its data, dropout, what to do — and its
diagram, layers left to right with the weights on the edges. Renderers write them."""

from __future__ import annotations

from typing import Any

from ..definitions import notation
from ..definitions.losses import get as get_loss
from ..definitions.optimizers import describe
from ..statement import (
    Box,
    Diagram,
    Edge,
    Given,
    Group,
    Label,
    Number,
    Rule,
    Sentence,
    Statement,
    Symbol,
)
from . import layout
from .config import Spec, dropout_layer_names
from .optimize import plain_sgd
from .parameters import biases_text
from .rows import shown_units
from .translation import translation

LABELLED_EDGES = 16  # networks with at most this many weights get them written on the edges
SHOWN_VALUES = 8  # a single sample's inputs and targets given in the statement


# ---------------------------------------------------------------- the problem statement


def problem(spec: Spec, epochs: int | None = None, inference: bool = False) -> Statement:
    """What the homework question says: network, activations, loss, η, data, dropout, and
    what to do — one step, `epochs` epochs, or (`inference`) the forward pass alone."""
    numbering = spec.numbering
    book = translation(spec)
    name = book.symbol
    layers: list[Any] = []
    for k, width in enumerate(spec.layers):
        first, last = numbering.unit(k, 0), numbering.unit(k, width - 1)
        kind = "inputs" if k == 0 else "output" if k == len(spec.layers) - 1 else "hidden"
        if k == 0:
            units: list[Any] = _span(name(f"x{first}"), name(f"x{last}"), width)
        elif spec.notation != "lecture":  # a book numbers units within their layer
            units = _span(name(f"o{first}"), name(f"o{last}"), width)
        else:
            units = [f"unit {first}" if width == 1 else f"units {first}–{last}"]
        layers += ["; " if k else "", f"{kind} ", *units]
    acts = dict.fromkeys(spec.activations)
    activation = (
        f"{next(iter(acts))} activation"
        if len(acts) == 1
        else "activations " + ", ".join(spec.activations) + " (layer by layer)"
    )
    rate = Given(name("η"), spec.learning_rate)
    last: Sentence = (", and learning rate ", rate, ".")
    if not plain_sgd(spec):  # Adam, momentum, weight decay: named, with their settings
        how = describe(spec.optimizer, spec.weight_decay)
        last = (", learning rate ", rate, f", and the optimizer {how}.")
    network: Sentence = (
        f"A fully connected network with layers {'-'.join(map(str, spec.layers))} (",
        *layers,
        f"), {activation}, {biases_text(spec)}, the loss ",
        Rule(book.rule(get_loss(spec.loss).rule, True, flip=False)),
        *last,
    )
    weights = layout.given(spec)  # weights from matrices, by name, before any is used
    sentences = [network, *([weights] if weights else []), _data(spec)]
    if spec.dropout is not None:
        rates: list[Any] = []
        for n, r in zip(dropout_layer_names(spec.layers), spec.dropout.rates):
            if r > 0:
                where = "the inputs" if n == "inputs" else f"hidden layer {n[6:]}"
                rates += [", " if rates else "", "rate ", Number(r), f" on {where}"]
        sentences.append(("Dropout (Keras semantics): ", *rates, f", seed {spec.dropout.seed}."))
    if inference:
        task: Sentence = (
            "Compute the forward pass and the loss as at inference: no dropout, no update.",
        )
    elif epochs is None:
        bias = " and bias" if spec.biases is not None and spec.train_biases else ""
        task = (
            "Do one training step by backpropagation: the forward pass, the error and loss, the ",
            Symbol(book.rule("δ", False, flip=False)),
            f" of every unit, and every updated weight{bias}.",
        )
    else:
        task = (f"Train for {epochs} epoch{'s' if epochs != 1 else ''}.",)
    note = layout.note(spec)  # a square matrix read without a stated layout
    return Statement("trace", (*sentences, task), notes=(note,) if note else ())


def _span(first: str, last: str, width: int) -> list[Any]:
    """A layer's units by their symbols: x1, or x1–x2."""
    return [Symbol(first)] if width == 1 else [Symbol(first), "–", Symbol(last)]


def _data(spec: Spec) -> Sentence:
    """The sample's inputs and targets, or how many samples and how they are taken."""
    if len(spec.samples) == 1:
        numbering, name = spec.numbering, translation(spec).symbol
        sample, last = spec.samples[0], len(spec.layers) - 1

        def given(head: str, layer: int, values: Any) -> list[Any]:
            out: list[Any] = []
            for i, v in enumerate(values[:SHOWN_VALUES]):
                out += [", " if i else "", Given(name(f"{head}{numbering.unit(layer, i)}"), v)]
            return out

        more = " …" if len(sample.inputs) > SHOWN_VALUES else ""
        return (
            "Inputs ",
            *given("x", 0, sample.inputs),
            f"{more}; targets ",
            *given("t", last, sample.targets),
            ".",
        )
    how = (
        "online (an update after each sample, in order"
        + (", shuffled every epoch" if spec.shuffle else "")
        + ")"
        if spec.mode == "online"
        else f"in batch mode (one update from the {spec.batch_gradient} of the gradients)"
    )
    return (f"{len(spec.samples)} training samples, taken {how}.",)


# ---------------------------------------------------------------- the diagram


def _shown(width: int) -> list[int | None]:
    """Indices drawn for a layer, the units the equations write out; None stands for the
    collapsed middle."""
    shown = shown_units(width)
    if len(shown) == width:
        return list(shown)
    return [*shown[:-1], None, shown[-1]]


def diagram(spec: Spec, traced: Any = None) -> Diagram:
    """The network as drawn: layers left to right, each unit with its bias, the inputs with
    their values (one sample), the weights on the edges (hand-sized networks); the units the
    step `traced` (one sample's) drops, faded."""
    numbering = spec.numbering
    named = translation(spec).symbol
    inputs = spec.samples[0].inputs if len(spec.samples) == 1 else None
    dropped = set()
    if traced is not None and len(traced.steps) == 1:
        dropped = dropped_units(traced.steps[0], spec)
    labelled = sum(w.size for w in spec.weights) <= LABELLED_EDGES
    node: dict[tuple[int, int | None], str] = {}
    groups = []
    last = len(spec.layers) - 1
    for k, width in enumerate(spec.layers):
        title = (
            "inputs"
            if k == 0
            else f"output layer ({spec.activations[k - 1]})"
            if k == last
            else f"hidden layer {k} ({spec.activations[k - 1]})"
        )
        boxes = []
        for i in _shown(width):
            if i is None:
                ident = f"more{k}"
                shown = shown_units(width)
                first, end = numbering.unit(k, shown[-2] + 1), numbering.unit(k, width - 2)
                what = f"units {first}–{end}" if k else f"x{first}–x{end}"
                boxes.append(Box(ident, ((f"… {width - len(shown)} more: {what}",),), "box"))
            else:
                u = numbering.unit(k, i)
                ident = f"u{u}"
                boxes.append(
                    Box(ident, _unit_label(spec, k, i, named, inputs), *_unit_look(k, u, dropped))
                )
            node[(k, i)] = ident
        groups.append(Group(f"L{k}", title, tuple(boxes)))
    edges = []
    for k, w in enumerate(spec.weights, start=1):
        for j in _shown(spec.layers[k]):
            for i in _shown(spec.layers[k - 1]):
                a, b = node[(k - 1, i)], node[(k, j)]
                label: Label = ()
                if labelled and i is not None and j is not None:
                    weight = notation.weight_name(numbering.unit(k - 1, i), numbering.unit(k, j))
                    label = (f"{named(weight)} = ", float(w[j, i]))
                edges.append(Edge(a, b, label))
    legend = "Grey, dashed: the units dropout drops in this step." if dropped else ""
    return Diagram(tuple(groups), (), tuple(edges), legend)


def _unit_label(spec: Spec, k: int, i: int, named: Any, inputs: Any) -> tuple[Label, ...]:
    u = spec.numbering.unit(k, i)
    first: Label = (named(f"x{u}") if k == 0 else f"unit {u}",)
    if k and spec.notation != "lecture":
        first = (named(f"o{u}"),)  # the book's name of the unit's output: a^2_1, out_h1
    if k == 0 and inputs is not None:
        first += (" = ", float(inputs[i]))
    lines = [first]
    if k > 0 and spec.biases is not None and spec.biases[k - 1] is not None:
        lines.append((f"{named(f'b{u}')} = ", float(spec.biases[k - 1][i])))
    return tuple(lines)


def _unit_look(k: int, u: int, dropped: set[int]) -> tuple[Any, bool]:
    """An input a stadium, a unit a circle; faded where this step drops it."""
    return ("stadium" if k == 0 else "circle"), u in dropped


def dropped_units(step: Any, spec: Spec) -> set[int]:
    """The units (numbered across the network) a step's dropout masks drop."""
    numbering = spec.numbering
    out = set()
    masks = [(0, step.input_mask)] + [(k + 1, layer.mask) for k, layer in enumerate(step.layers)]
    for k, mask in masks:
        if mask is not None:
            out |= {numbering.unit(k, i) for i, m in enumerate(mask) if m == 0}
    return out
