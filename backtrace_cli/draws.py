"""What every model's exercise variants share: nice values, the rules of a fair draw, a variant
and its set, what a set says of itself, and the refusal when no draw is fair.

Below the models that draw (`network.variants`, `graph.variants`) and the exercise path that
writes their files (`teach.exercise`, `teach.homework`): it imports no model.
"""

from __future__ import annotations

from collections.abc import Callable
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
