"""Dropout's keep-masks: drawn per epoch from the config's seed, and the inverted-dropout scale
that multiplies each kept output."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from .spec import Spec

if TYPE_CHECKING:  # numpy.typing costs start-up time; annotations only
    import numpy.typing as npt

    Array = npt.NDArray[np.float64]


DROPOUT_STREAM = 0x44524F50  # "DROP": keeps the masks' random stream apart from the shuffle's


def dropout_masks(spec: Spec, number: int, sizes: Sequence[int]) -> list[list[Array | None]]:
    """The keep-masks of epoch `number`'s updates (`sizes`: rows in each), per position.

    Drawn from one Generator seeded with (seed, epoch): the same config gives the same masks
    on every run and machine, and any epoch's masks without drawing the earlier ones'.
    A unit is kept when its uniform draw is ≥ rate: P(keep) = 1 − rate, as in Keras.
    """
    dropout = spec.dropout
    if dropout is None:
        return [[] for _ in sizes]
    rng = None
    out = []
    for rows in sizes:
        masks: list[Array | None] = []
        for p, rate in enumerate(dropout.rates):
            fixed = dropout.masks[p]
            if rate == 0:
                masks.append(None)
            elif fixed is not None:
                masks.append(fixed[np.newaxis, :])
            else:
                if rng is None:
                    # epochs_done: a saved run continues with the masks its next epoch draws
                    epoch = spec.epochs_done + number
                    rng = np.random.default_rng([dropout.seed, epoch, DROPOUT_STREAM])
                shape = (1 if dropout.shared_mask else rows, spec.layers[p])
                masks.append((rng.random(shape) >= rate).astype(np.float64))
        out.append(masks)
    return out


def scaled_masks(spec: Spec, masks: Sequence[Array | None] | None) -> list[Array | None] | None:
    """Masks times the inverted-dropout scale 1/(1 − rate): what multiplies each output."""
    if not masks or spec.dropout is None:
        return None
    return [None if m is None else m * spec.dropout.scale(p) for p, m in enumerate(masks)]


def dropped_units(all_masks: Sequence[Sequence[Array | None]], rows: Sequence[int]) -> float:
    """Units dropped over an epoch's updates (`dropout_masks`, each update's count of rows); a
    shared (1, n) mask counts once per row."""
    total = 0.0
    for masks, count in zip(all_masks, rows):
        for m in masks:
            if m is not None:
                total += float((1.0 - m).sum()) * (count if len(m) == 1 else 1)
    return total
