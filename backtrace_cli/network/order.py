"""The samples' order in an epoch — as given, or shuffled from the config's `seed` — one
definition for a network's epochs and a `model:`'s, so the same samples and seed are taken in
the same order by both."""

from __future__ import annotations

from collections.abc import Sized
from typing import Protocol

import numpy as np


class Ordered(Protocol):
    """What the order reads of a spec (a network's `Spec`, a model's `ModelSpec`)."""

    @property
    def samples(self) -> Sized: ...
    @property
    def shuffle(self) -> bool: ...
    @property
    def seed(self) -> int: ...
    @property
    def epochs_done(self) -> int: ...


def sample_order(spec: Ordered, epoch: int) -> tuple[int, ...]:
    """The samples' order in an epoch: as given, or shuffled from (seed, epoch).

    Seeding each epoch on its own keeps any epoch reproducible without running the ones before;
    `epochs_done` (written by `step --save`) makes a resumed run's epochs continue the sequence.
    """
    count = len(spec.samples)
    if not spec.shuffle:
        return tuple(range(count))
    rng = np.random.default_rng([spec.seed, spec.epochs_done + epoch])
    return tuple(int(i) for i in rng.permutation(count))
