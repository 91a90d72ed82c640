"""Exercise variants: the same network and question with new "nice" numbers, and answer keys.

Each variant is drawn from numpy's Generator seeded with (seed, variant number), so the same
seed gives the same variants on every machine. Degenerate draws are redrawn: a relu unit whose
net input is 0 (its slope is undefined), or a target equal to the output (nothing to learn).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from . import engine
from .config import Sample, Spec

ATTEMPTS = 1000


@dataclass(frozen=True, slots=True)
class Values:
    """Where nice values come from: multiples of 10^−places in [low, high]."""

    low: float = -1.0
    high: float = 1.0
    places: int = 1

    def draw(self, rng: np.random.Generator, shape: tuple[int, ...], low=None, high=None):
        low = self.low if low is None else low
        high = self.high if high is None else high
        scale = 10**self.places
        ticks = rng.integers(round(low * scale), round(high * scale) + 1, size=shape)
        return np.round(ticks / scale, self.places)


@dataclass(frozen=True, slots=True)
class Variant:
    ident: str  # "lecture-s7-v03": in every file the variant produced
    number: int
    spec: Spec


def _frozen(array) -> np.ndarray:
    out = np.array(array, dtype=np.float64)
    out.setflags(write=False)
    return out


def _target_range(spec: Spec, values: Values) -> tuple[float, float]:
    """Targets a sigmoid output (or bce) can reach: [0, 1]; otherwise the values' range."""
    if spec.activations[-1] == "sigmoid" or spec.loss == "bce":
        return max(values.low, 0.0), min(values.high, 1.0)
    return values.low, values.high


def _degenerate(spec: Spec, places: int) -> bool:
    done = engine.update(spec, tuple(range(len(spec.samples))))
    for layer, activation in zip(done.layers, spec.activations):
        if activation == "relu" and bool((np.abs(layer.net) < 1e-12).any()):
            return True
    # a target equal to the output, to the precision the values are written in
    return bool((np.abs(done.error) < 0.5 * 10.0**-places).any())


def variant(spec: Spec, seed: int, number: int, values: Values, base: str) -> Variant:
    """Variant `number` (from 1) of the exercise `spec`, drawn from (seed, number); `base`
    starts its id."""
    rng = np.random.default_rng([seed, number])
    low, high = _target_range(spec, values)
    for _ in range(ATTEMPTS):
        weights = tuple(_frozen(values.draw(rng, w.shape)) for w in spec.weights)
        biases = None
        if spec.biases is not None:
            biases = tuple(
                None if b is None else _frozen(values.draw(rng, b.shape)) for b in spec.biases
            )
        samples = tuple(
            Sample(
                _frozen(values.draw(rng, s.inputs.shape)),
                _frozen(values.draw(rng, s.targets.shape, low, high)),
            )
            for s in spec.samples
        )
        ident = f"{_slug(base)}-s{seed}-v{number:02d}"
        candidate = replace(
            spec,
            name=f"{spec.name} · variant {ident}",
            source=ident,
            weights=weights,
            biases=biases,
            samples=samples,
            description=f"Exercise variant {ident} (seed {seed}).",
        )
        if not _degenerate(candidate, values.places):
            return Variant(ident, number, candidate)
    raise ValueError(
        f"no non-degenerate variant in {ATTEMPTS} draws: widen the range or add decimal places"
    )


def _slug(name: str) -> str:
    word = "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-")
    while "--" in word:
        word = word.replace("--", "-")
    return word or "exercise"


def variants(spec: Spec, count: int, seed: int, values: Values, base: str) -> list[Variant]:
    return [variant(spec, seed, n, values, base) for n in range(1, count + 1)]
