"""A `model:` of tensor layers as a homework question (`statement`): what it says — the layers,
the input and target, the loss and rate, what to find — and its diagram, a box per layer with
the shape of the tensor it takes and gives. Renderers write them."""

from __future__ import annotations

import itertools

from ..definitions.optimizers import describe
from ..statement import Box, Diagram, Edge, Given, Sentence, Statement
from .layers.model_kinds import MODEL_KINDS
from .model_notation import word
from .model_spec import ModelSpec


def _shape(shape: tuple[int, ...]) -> str:
    return "×".join(map(str, shape))


def _aside(phrases: tuple[str, ...]) -> str:
    """The layers' own phrases for one part of the question, each once, in brackets."""
    said = list(dict.fromkeys(p for p in phrases if p))
    return f" ({'; '.join(said)})" if said else ""


def problem(
    spec: ModelSpec, epochs: int | None = None, inference: bool = False, update: bool = True
) -> Statement:
    """What the question gives and asks: the training step (with `epochs`: that many), or
    (`inference`) the same in torch's eval mode — without `update`, its gradients alone."""
    kinds = " → ".join(layer.kind for layer in spec.layers)
    count = len(spec.samples)
    shuffled = " (shuffled every epoch)" if spec.shuffle else ""
    sentences: list[Sentence] = [
        (
            f"The model {kinds} (torch's nn.Sequential) takes an input of shape "
            f"{_shape(spec.input_shape)} and gives {_shape(spec.output_shape)}; its "
            f"parameters are given in torch's state-dict names and shapes.",
        ),
        (
            f"It is trained on {count} sample{'s' if count != 1 else ''}{shuffled} with the loss "
            f"{spec.loss}, {describe(spec.optimizer, spec.weight_decay)}, learning rate ",
            Given("η", spec.learning_rate),
            ".",
        ),
    ]
    # a layer whose eval mode computes otherwise says what it asks then (batch norm's)
    asked = [
        module.asked_in_eval(dict(layer.arguments))
        if inference and hasattr(module, "asked_in_eval")
        else getattr(module, "ASKED", ("", "", ""))
        for layer in spec.layers
        for module in (MODEL_KINDS[layer.kind][0],)
    ]
    forward, back, gradient = (_aside(phrases) for phrases in zip(*asked))
    what = (
        f"Do the forward pass layer by layer{forward}, the loss, δ back through every "
        f"layer{back}, each parameter's gradient{gradient}"
        + (", and the update." if update else "; no update.")
    )
    if inference:
        what = "In torch's eval mode: " + what[0].lower() + what[1:]
    sentences.append((what,))
    if epochs is not None:
        sentences.append((f"Train for {epochs} epochs.",))
    return Statement("graph", tuple(sentences))


def diagram(spec: ModelSpec) -> Diagram:
    """A box per layer, left to right from the input, each with the shape it gives."""
    x = word(spec, "x")  # the input as its notation names it: x, Nielsen's a^1
    boxes = [Box("input", ((x,), (_shape(spec.input_shape),)), "stadium")]
    for n, layer in enumerate(spec.layers):
        module = MODEL_KINDS[layer.kind][0]
        # a box per stage where a layer has several (an rnn's stacked layers), else one
        stages = module.stages(layer) if hasattr(module, "stages") else []
        if not stages:
            own = f"{layer.name}: {layer.kind}"
            stages = [(own, module.written(dict(layer.arguments)), layer.shape_out)]
        for k, (title, arguments, shape) in enumerate(stages):
            lines = ((title,), (arguments,), (_shape(shape),))
            ident = f"layer{n}" + (f"_{k}" if k else "")
            boxes.append(Box(ident, tuple(line for line in lines if line[0]), "box"))
    edges = tuple(Edge(a.ident, b.ident) for a, b in itertools.pairwise(boxes))
    return Diagram((), tuple(boxes), edges, "each box: a layer, and the shape of what it gives")
