"""A `model:` of tensor layers' exercise variants: the same layers and question with new "nice"
parameters and inputs, fair to mark — what the model protocol's `variants` and `notes` do for
a model.

Each variant is drawn from numpy's Generator seeded with (seed, variant number), so the same
seed gives the same variants on every machine. Every trained parameter is drawn again, and the
inputs unless they are the problem's own data (every input 0 or ±1); the targets stay (a class
stays a class). A draw is kept only when it is fair to hand out:

- no value drawn is 0 or ±1 (`draws.Values`);
- no layer sits where its derivative jumps or its choice is a coin toss: each layer kind says
  so itself (a module's `unfair`: an activation's input within `draws.NEAR_ZERO` of 0, a
  max-pool window whose two largest inputs are that close);
- every gradient an update takes, and every δ that is not 0 by design (relu off, a window's
  loser; a gradient a dropout's masks, the same in every draw, make 0), is at least
  `min_magnitude` in size; no output equals its target;
- the loss E lies in a band, so that variants are equally hard: the teacher's, or by default
  the middle half of E over `draws.PILOT` fair draws of the same exercise (same seed);
- every named slip changes some answer (`rules.hides`, given by the exercise path).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import numpy as np

from .. import draws
from ..definitions.losses import get as get_loss
from ..draws import ExerciseSet, NoFairVariant, Notes, Rules, Variant, labelled
from . import model_engine, model_trace
from .engine import exact as _exact  # the carry that rounds nothing
from .layers.model_kinds import MODEL_KINDS
from .model_spec import ModelSpec
from .spec import Sample, frozen

TOO_LARGE = 1e6  # a value no student writes by hand


def _fixed_data(spec: ModelSpec) -> bool:
    """The config's inputs are a problem's own data, never drawn: every input 0 or ±1."""
    return all(np.isin(s.inputs, (-1.0, 0.0, 1.0)).all() for s in spec.samples)


def _trained(spec: ModelSpec) -> set[str]:
    """The parameters an update changes (a batch norm's running statistics are not drawn)."""
    done = model_trace.build(spec, _exact, None, sections=False)
    return set(done.steps[0].gradients)


def _normalised(spec: ModelSpec) -> set[str]:
    """The biases a batch layer (batch norm) takes away: those of the layer right below it."""
    return {
        f"{below.name}.bias"
        for below, layer in zip(spec.layers, spec.layers[1:])
        if getattr(MODEL_KINDS[layer.kind][1], "BATCH", False)
    }


def _draw(spec: ModelSpec, rng: np.random.Generator, rules: Rules, ticks, trained) -> ModelSpec:
    values = rules.values
    parameters = tuple(
        (name, frozen(values.draw(rng, value.shape, ticks)) if name in trained else value)
        for name, value in spec.parameters
    )
    samples, layers = spec.samples, spec.layers
    if not _fixed_data(spec):
        samples = tuple(
            Sample(frozen(values.draw(rng, s.inputs.shape, ticks)), s.targets) for s in samples
        )
        # what a layer is given as the inputs are (an rnn's h0): drawn with them
        layers = tuple(
            MODEL_KINDS[layer.kind][0].redrawn(layer, lambda shape: values.draw(rng, shape, ticks))
            if hasattr(MODEL_KINDS[layer.kind][0], "redrawn")
            else layer
            for layer in layers
        )
    return replace(spec, parameters=parameters, samples=samples, layers=layers)


def _judge(spec: ModelSpec, rules: Rules) -> tuple[float | None, str]:
    """E of a draw and "" when it is fair apart from the band, else None and what is wrong."""
    with np.errstate(all="ignore"):
        done = model_trace.build(spec, _exact, None, sections=False)
    distribution = get_loss(spec.loss).distribution
    half_unit = 0.5 * 10.0**-rules.values.places
    for step in done.steps:
        below = step.inputs
        for layer, computed in zip(spec.layers, step.layers):
            out = np.asarray(computed["out"])
            if not np.isfinite(out).all() or (np.abs(out) >= TOO_LARGE).any():
                return None, "a value too large to write by hand"
            unfair = getattr(MODEL_KINDS[layer.kind][0], "unfair", None)
            why = None if unfair is None else unfair(layer, np.asarray(below), out)
            if why is not None:
                return None, why
            delta = np.abs(np.asarray(computed["delta"]))
            if ((delta > 0) & (delta < rules.min_magnitude)).any():
                return None, f"a δ below {rules.min_magnitude:g} in size"
            below = out
        if not distribution and (np.abs(step.targets - step.outputs) < half_unit).any():
            return None, "an output equal to its target"
    updates = [s.gradients for s in done.steps]
    if spec.mode == "batch":
        updates = [{n: sum(g[n] for g in updates) for n in updates[0]}]  # its sum or mean:
        # the smallest entry is at least min_magnitude in both but for the factor 1/N
        scale = 1.0 / len(done.steps) if spec.batch_gradient == "mean" else 1.0
        updates = [{n: scale * g for n, g in updates[0].items()}]
    normalised = _normalised(spec)
    # a dropout's masks stay with every draw: a gradient they make 0 is 0 by design
    dropping = any(model_engine.masks(spec, 1))
    for gradients in updates:
        for name, gradient in gradients.items():
            size = np.abs(gradient)
            if name in normalised:  # 0 up to rounding by design: batch norm takes it away
                size = size[size > 1e-12]
            elif dropping:
                size = size[size > 0]
            if (size < rules.min_magnitude).any():
                return None, f"a gradient of {name} below {rules.min_magnitude:g} in size"
    loss = float(np.mean([s.loss for s in done.steps]))
    if not math.isfinite(loss):
        return None, "a loss that is not finite"
    return loss, ""


def _draws(spec: ModelSpec, rng: np.random.Generator, rules: Rules) -> Iterator[tuple[Any, Any]]:
    """Fair draws (apart from the band) with their E, forever; (None, why) for an unfair one."""
    ticks = rules.values.ticks()
    if not len(ticks):
        raise NoFairVariant(
            f"no value but 0 and ±1 with {rules.values.places} decimal places lies in "
            f"[{rules.values.low:g}, {rules.values.high:g}]: widen the range or add places"
        )
    trained = _trained(spec)
    while True:
        candidate = _draw(spec, rng, rules, ticks, trained)
        loss, why = _judge(candidate, rules)
        yield (candidate, loss) if loss is not None else (None, why)


def variants(spec: ModelSpec, count: int, seed: int, rules: Rules, base: str) -> ExerciseSet:
    """`count` fair variants, and the band of E they were kept in."""
    band = rules.loss_band or draws.pilot_band(
        _draws(spec, np.random.default_rng([seed, 0]), rules)
    )
    drawn = []
    for number in range(1, count + 1):
        stream = _draws(spec, np.random.default_rng([seed, number]), rules)
        candidate, loss = draws.first_in_band(stream, band, rules, number)
        ident, named = labelled(candidate, spec.name, base, seed, number)
        drawn.append(Variant(ident, number, named, loss))
    return ExerciseSet(tuple(drawn), band, rules.loss_band is None)


def notes(
    spec: ModelSpec, drawn: ExerciseSet, seed: int, rules: Rules, ask: tuple[str, ...]
) -> Notes:
    """What the teacher's index and exercise.json say of a model's set: its E and band."""
    count = len(drawn.variants)
    inputs = "the parameters" if _fixed_data(spec) else "the parameters and inputs"
    about = (
        f"- {count} variant{'s' if count != 1 else ''} of {spec.source}, drawn with seed {seed}: "
        f"the same seed gives the same files; {inputs} are drawn, the targets kept.",
        "- No value drawn is 0 or ±1, no activation's input is within "
        f"{draws.NEAR_ZERO:g} of 0, no pooling window is a near tie, and every named slip "
        f"changes some answer; every gradient, and every δ not 0 by design, is at least "
        f"{rules.min_magnitude:g} in size; "
        f"{draws.band_words(drawn)}.",
        "- Asked: " + (", ".join(ask) if ask else "every quantity of the step") + ".",
    )
    return Notes(about, "E", "loss", {"loss_band": list(drawn.band or ())}, f" of {spec.source}")
