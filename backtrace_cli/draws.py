"""What every model's exercise variants share: nice values, the rules of a fair draw, a variant
and its set, what a set says of itself, and the refusal when no draw is fair.

Below the models that draw (`network.variants`, `graph.variants`) and the exercise path that
writes their files (`teach.exercise`, `teach.homework`): it imports no model.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from .sheet import VARIANT_OF

ATTEMPTS = 2000  # draws per variant before giving up (read at each draw: tests lower it)
MIN_MAGNITUDE = 0.001
NEAR_ZERO = 0.02  # no net input closer to 0: a sigmoid's output then differs from 0.5 at 3 s.f.


@dataclass(frozen=True, slots=True)
class Values:
    """Where nice values come from: multiples of 10^−places in [low, high], never 0 or ±1
    (a 0 or a 1 hides what it multiplies: Δw13 = η·δ3·x1 is δ3 again when x1 = 1)."""

    low: float = -1.0
    high: float = 1.0
    places: int = 1

    def ticks(self, low: float | None = None, high: float | None = None) -> np.ndarray:
        """Every value that may be drawn, as whole multiples of 10^−places (never 0 or ±1)."""
        scale = 10**self.places
        low = self.low if low is None else low
        high = self.high if high is None else high
        ticks = np.arange(int(np.ceil(low * scale - 1e-9)), int(np.floor(high * scale + 1e-9)) + 1)
        return ticks[(ticks != 0) & (np.abs(ticks) != scale)]

    def draw(self, rng: np.random.Generator, shape: tuple[int, ...], ticks: np.ndarray):
        scale = 10**self.places
        # ticks[integers(…)] is the stream rng.choice(ticks, size) draws, at half its cost
        return np.round(ticks[rng.integers(0, len(ticks), size=shape)] / scale, self.places)


@dataclass(frozen=True, slots=True)
class Rules:
    """What makes a variant fair to hand out."""

    values: Values = Values()
    min_magnitude: float = MIN_MAGNITUDE  # every δ, Δw and Δb (a graph's ∂f/∂·) at least this
    # a network's E in [low, high] (None: from the pilot draws); a graph's output (None: any)
    loss_band: tuple[float, float] | None = None
    # why a draw hides a named slip (one that changes no answer), or None: given by the
    # exercise path (`teach.exercise`), which knows the slips; None, not judged
    hides: Callable[[Any], str | None] | None = None


@dataclass(frozen=True, slots=True)
class Variant:
    ident: str  # "lecture-s7-v03": in every file the variant produced
    number: int
    spec: Any  # the variant's model: a network's `Spec` or a graph's `GraphSpec`
    value: float  # what the teacher's index shows of it: a network's loss E, a graph's output


@dataclass(frozen=True, slots=True)
class ExerciseSet:
    """The variants of one exercise, and the band their value was kept in."""

    variants: tuple[Variant, ...]
    band: tuple[float, float] | None  # None: no band (a graph's, unless the teacher sets one)
    band_drawn: bool  # True: the default band (from the pilot draws), not the teacher's


@dataclass(frozen=True, slots=True)
class Notes:
    """What a set's teacher's index and exercise.json say of it, in its model's words."""

    about: tuple[str, ...]  # the index's list: what was drawn, what is fair, what is asked
    column: str  # the index's last column, each variant's value: "E", or a graph's output
    measure: str  # that value's key in exercise.json: "loss", or a graph's "value"
    bands: dict[str, Any]  # exercise.json's account of the band: {"loss_band": [low, high]}
    origin: str  # what a variant's config header adds after its id and seed: " of lecture"


class NoFairVariant(ValueError):
    """No draw passed the rules: the message says which rule to relax."""


def labelled(candidate: Any, title: str, base: str, seed: int, number: int) -> tuple[str, Any]:
    """A variant's id (lecture-s7-v03) and its spec (a network's or a graph's), named by it."""
    ident = f"{slug(base)}-s{seed}-v{number:02d}"
    named = replace(
        candidate,
        name=f"{title}{VARIANT_OF}{ident}",
        source=ident,
        description=f"Exercise variant {ident} (seed {seed}).",
    )
    return ident, named


def slug(name: str) -> str:
    word = "".join(c if c.isascii() and c.isalnum() else "-" for c in name.lower()).strip("-")
    while "--" in word:
        word = word.replace("--", "-")
    return word or "exercise"


# ---------------------------------------------------------------- the band, and a variant in it

PILOT = 128  # fair draws whose E set the default difficulty band
BAND = (0.25, 0.75)  # the default band: these quantiles of E over the pilot draws


def pilot_band(stream: Iterator[tuple[Any, Any]]) -> tuple[float, float]:
    """The middle half of E over PILOT fair draws of `stream` — a model's draws from the
    seed's own stream (variant 0): (draw, E) for a fair one, (None, why) for an unfair one."""
    losses = []
    reasons: dict[str, int] = {}
    for _ in range(ATTEMPTS * 2):
        candidate, outcome = next(stream)
        if candidate is None:
            reasons[outcome] = reasons.get(outcome, 0) + 1
            continue
        losses.append(outcome)
        if len(losses) == PILOT:
            break
    if len(losses) < PILOT // 8:
        raise NoFairVariant(_hopeless(reasons))
    low, high = np.quantile(losses, BAND)
    return _figures(float(low), np.floor), _figures(float(high), np.ceil)


def first_in_band(
    stream: Iterator[tuple[Any, Any]], band: tuple[float, float], rules: Rules, number: int
) -> tuple[Any, float]:
    """Variant `number`: the first fair draw of `stream` whose E lies in `band` and that
    hides no named slip, with its E."""
    reasons: dict[str, int] = {}
    for _ in range(ATTEMPTS):
        candidate, outcome = next(stream)
        if candidate is None:
            reasons[outcome] = reasons.get(outcome, 0) + 1
            continue
        if not band[0] <= outcome <= band[1]:
            reasons["a loss E outside the band"] = reasons.get("a loss E outside the band", 0) + 1
            continue
        hidden = rules.hides(candidate) if rules.hides is not None else None
        if hidden is not None:  # judged last: it solves the step
            reasons[hidden] = reasons.get(hidden, 0) + 1
            continue
        return candidate, outcome
    if max(reasons, key=reasons.__getitem__) == "a loss E outside the band":
        raise NoFairVariant(
            f"variant {number}: no fair draw in {ATTEMPTS} has E in "
            f"[{band[0]:g}, {band[1]:g}]; widen --loss-band"
        )
    raise NoFairVariant(f"variant {number}: " + _hopeless(reasons))


def band_words(drawn: ExerciseSet) -> str:
    """The notes' account of a set's band of E: "the loss E of every variant lies in [a, b]
    (how it was set)"."""
    low, high = (f"{x:g}" for x in drawn.band or ())
    how = (
        f"the middle half of E over {PILOT} fair draws"
        if drawn.band_drawn
        else "set by --loss-band"
    )
    return f"the loss E of every variant lies in [{low}, {high}] ({how})"


def _figures(value: float, direction) -> float:
    """`value` to 2 significant figures, rounded in `direction` (np.floor or np.ceil), so
    that the band is one a teacher could have written: [0.027, 0.083]."""
    if value <= 0:
        return 0.0
    scale = 10.0 ** (int(np.floor(np.log10(value))) - 1)
    return float(np.round(direction(value / scale) * scale, 12))


def _hopeless(reasons: dict[str, int]) -> str:
    common = max(reasons, key=reasons.__getitem__) if reasons else "none"
    advice = {
        True: "lower --min-magnitude or widen --range",
        False: "widen --range or add --places",
    }[common.endswith("in size")]  # a δ, a Δw, a gradient too small
    return f"too few fair draws: most had {common}; {advice}"
