"""A network's exercise variants: the same network and question with new "nice" numbers, fair
to mark — what the model protocol's `variants` and `notes` do for a network.

Each variant is drawn from numpy's Generator seeded with (seed, variant number), so the same
seed gives the same variants on every machine. A draw is kept only when it is fair to hand out:

- no weight, bias, input or target is 0 or ±1 (nothing to compute, a factor that hides
  what it multiplies, or a saturated target), and no net input is within 0.02 of 0 (a
  sigmoid's output 0.5, a relu at its kink);
- every δ, Δw and Δb is at least `min_magnitude` in size (0.001 by default: written to 3
  significant figures by hand, it is not 0.000) — except where dropout or a unit switched off
  (relu below 0) makes it exactly 0 by design, and no hidden unit is off in every sample;
- no output equals its target;
- the loss E lies in a band, so that variants are equally hard: the teacher's, or by default
  the middle half of E over `draws.PILOT` draws of the same exercise (from the same seed);
- every named slip changes some answer (`rules.hides`, given by the exercise path).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from .. import draws
from ..definitions.losses import get as get_loss
from ..draws import ExerciseSet, NoFairVariant, Notes, Rules, Values, Variant, labelled
from . import engine
from .config import Sample, Spec


def _frozen(array) -> np.ndarray:
    out = np.array(array, dtype=np.float64)
    out.setflags(write=False)
    return out


def _target_ticks(spec: Spec, values: Values) -> np.ndarray:
    """Targets the output (a sigmoid's [0, 1]) and the loss (bce's) accept, within the values'
    range; never 0 or 1."""
    low, high = values.low, values.high
    for bounds in (spec.functions[-1].targets, get_loss(spec.loss).targets):
        if bounds is not None:
            low, high = max(low, bounds[0]), min(high, bounds[1])
    ticks = values.ticks(low, high)
    return ticks[ticks != 10**values.places]


def _fixed_data(spec: Spec) -> bool:
    """The config's samples are a problem's own data, never drawn: every input 0 or ±1."""
    return all(np.isin(s.inputs, (-1.0, 0.0, 1.0)).all() for s in spec.samples)


def _draw(spec: Spec, rng: np.random.Generator, values: Values, ticks, targets) -> Spec:
    weights = tuple(_frozen(values.draw(rng, w.shape, ticks)) for w in spec.weights)
    biases = None
    if spec.biases is not None:
        biases = tuple(
            None if b is None else _frozen(values.draw(rng, b.shape, ticks)) for b in spec.biases
        )
    # data the config fixes stays as it has it: inputs of 0 and ±1 only (XOR's truth table)
    # with their targets, and a distribution over classes (cross-entropy) each sample's class
    fixed = _fixed_data(spec)
    keep = fixed or get_loss(spec.loss).distribution
    samples = tuple(
        Sample(
            s.inputs if fixed else _frozen(values.draw(rng, s.inputs.shape, ticks)),
            s.targets if keep else _frozen(values.draw(rng, s.targets.shape, targets)),
        )
        for s in spec.samples
    )
    return replace(spec, weights=weights, biases=biases, samples=samples)


def _alive(done: engine.Update, position: int) -> np.ndarray | None:
    """Position `position`'s keep-mask (samples × units) in this update, or None: all kept."""
    masks = done.masks
    if position < len(masks) and masks[position] is not None:
        return masks[position] > 0
    return None


def _on(done: engine.Update, k: int) -> np.ndarray:
    """Which units of non-input layer `k` pass a δ back in this update (samples × units):
    not dropped, and — below the output layer — not switched off (relu at net < 0, slope 0).
    Their zeros are the lesson, not an unfair number."""
    layer = done.layers[k]
    on = np.ones(layer.delta.shape, bool)
    if k < len(done.layers) - 1:
        on &= layer.do_dnet != 0
    kept = _alive(done, k + 1)  # the output layer has no mask: always kept
    return on if kept is None else on & kept


def _smallest_change(done: engine.Update) -> float:
    """The smallest |δ|, |Δw|, |Δb| of an update, leaving out those dropout or a unit that is
    switched off makes 0 (Δw from a source that passed on 0 included)."""
    smallest = np.inf
    for k, layer in enumerate(done.layers):
        units = _on(done, k)
        smallest = min(smallest, np.abs(layer.delta)[units].min(initial=np.inf))
        rows = units.any(axis=0)
        cols = np.ones(layer.dw.shape[1], bool)
        if k < len(done.kept):
            cols = (done.kept[k] != 0).any(axis=0)  # what the layer received: 0 if dropped
        smallest = min(smallest, np.abs(layer.dw)[np.ix_(rows, cols)].min(initial=np.inf))
        if layer.db is not None:
            smallest = min(smallest, np.abs(layer.db)[rows].min(initial=np.inf))
    return float(smallest)


def _judge(spec: Spec, rules: Rules) -> tuple[float | None, str]:
    """E of a draw and "" when it is fair apart from the band, else None and what is wrong
    (the first rule the first update breaks: most draws are refused at their first)."""
    made = []
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        for update, _ in engine.updates(spec, 1):
            for layer in update.layers:
                # a relu at its kink, a sigmoid's output 0.5 (to 3 s.f.), a tanh's 0
                if bool((np.abs(layer.net) <= draws.NEAR_ZERO + 1e-9).any()):
                    return None, f"a net input within {draws.NEAR_ZERO:g} of 0"
            # a target equal to the output, to the precision the values are written in
            if bool((np.abs(update.error) < 0.5 * 10.0**-rules.values.places).any()):
                return None, "an output equal to its target"
            if not _smallest_change(update) >= rules.min_magnitude:
                return None, f"a δ, Δw or Δb below {rules.min_magnitude:g} in size"
            made.append(update)
    for k in range(len(spec.layers) - 2):
        # every hidden unit passes a δ back in some sample: none is off for the whole epoch
        slope = np.concatenate([u.layers[k].do_dnet for u in made])
        if not bool((slope != 0).any(axis=0).all()):
            return None, "a hidden unit switched off (slope 0) in every sample"
    loss = engine.mean_loss([u.loss for u in made])  # the epoch's E, as `engine.epoch` has it
    if not np.isfinite(loss):
        return None, "a loss that is not finite"
    return loss, ""


def _draws(spec: Spec, rng: np.random.Generator, rules: Rules):
    """Fair draws (apart from the band) with their E, forever; None for an unfair one."""
    values = rules.values
    ticks, targets = values.ticks(), _target_ticks(spec, values)
    if not len(ticks) or not len(targets):
        raise NoFairVariant(
            f"no value but 0 and ±1 with {values.places} decimal places lies in "
            f"[{values.low:g}, {values.high:g}]"
            + ("" if len(targets) else " for the targets, which must lie strictly in (0, 1)")
            + ": widen the range or add decimal places"
        )
    while True:
        candidate = _draw(spec, rng, values, ticks, targets)
        loss, why = _judge(candidate, rules)
        yield (candidate, loss) if loss is not None else (None, why)


def variant(
    spec: Spec, seed: int, number: int, rules: Rules, base: str, band: tuple[float, float]
) -> Variant:
    """Variant `number` (from 1) of the exercise `spec`, drawn from (seed, number): the first
    fair draw whose E lies in `band`. `base` starts its id."""
    stream = _draws(spec, np.random.default_rng([seed, number]), rules)
    candidate, loss = draws.first_in_band(stream, band, rules, number)
    ident, named = labelled(candidate, spec.name, base, seed, number)
    return Variant(ident, number, named, loss)


def variants(spec: Spec, count: int, seed: int, rules: Rules, base: str) -> ExerciseSet:
    """`count` fair variants, and the band of E they were kept in."""
    band = rules.loss_band or draws.pilot_band(
        _draws(spec, np.random.default_rng([seed, 0]), rules)
    )
    drawn = tuple(variant(spec, seed, n, rules, base, band) for n in range(1, count + 1))
    return ExerciseSet(drawn, band, rules.loss_band is None)


def notes(spec: Spec, drawn: ExerciseSet, seed: int, rules: Rules, ask: tuple[str, ...]) -> Notes:
    """What the teacher's index and exercise.json say of a network's set: its E and band."""
    count = len(drawn.variants)
    about = (
        f"- {count} variant{'s' if count != 1 else ''} of {spec.source}, drawn with seed {seed}: "
        "the same seed gives the same files.",
        f"- No value drawn is 0 or ±1, no net input is within {draws.NEAR_ZERO:g} of 0, and every "
        "named slip changes some answer; every δ, Δw and Δb is at least "
        f"{rules.min_magnitude:g} in size; "
        f"{draws.band_words(drawn)}.",
        "- Asked: " + (", ".join(ask) if ask else "every quantity of the step") + ".",
    )
    return Notes(about, "E", "loss", {"loss_band": list(drawn.band or ())}, f" of {spec.source}")
