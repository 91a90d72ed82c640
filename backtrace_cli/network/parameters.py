"""A network's parameters as one vector, their names, which layers have biases, and the
old → new summary of an update."""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from .config import Spec
from .layers import Dense
from .rows import Change, layer_kind

if TYPE_CHECKING:  # numpy.typing costs start-up time; annotations only
    import numpy.typing as npt

    Array = npt.NDArray[np.float64]


def biases_text(spec: Spec) -> str:
    """Which layers have bias terms: "no biases", "biases", "biases on hidden layer 1 only
    (none on the output layer)"; "(fixed)" when they are not trained."""
    if spec.biases is None:
        return "no biases"
    text = "biases"
    without = [layer_kind(spec, k) for k, b in enumerate(spec.biases, start=1) if b is None]
    if without:
        with_ = [layer_kind(spec, k) for k, b in enumerate(spec.biases, start=1) if b is not None]
        text = f"biases on {' and '.join(with_)} only (none on the {' and '.join(without)})"
    return text + (" (fixed)" if not spec.train_biases else "")


def parameters(spec: Spec) -> Array:
    """Every weight and bias as one vector, in network order: each layer's matrix row by row
    (w13, w23, w14, …), then the biases layer by layer (b3, b4, …)."""
    parts = [w.ravel() for w in spec.weights]
    if spec.biases is not None:
        parts += [b.ravel() for b in spec.biases if b is not None]
    return np.concatenate(parts)


def parameter_names(spec: Spec, indices: Sequence[int] | None = None) -> list[str]:
    """The names of `parameters(spec)` — all of them, or those at `indices` (a wide network's
    200,000 names are only made when something shows them all)."""
    blocks: list[tuple[int, int, Callable[[int], str]]] = []  # start, size, name of n-th
    start = 0
    for k, w in enumerate(spec.weights, start=1):
        blocks.append((start, w.size, Dense.parameter_name(spec, k, "weight")))
        start += w.size
    for k, b in enumerate(spec.biases or (), start=1):
        if b is not None:
            blocks.append((start, b.size, Dense.parameter_name(spec, k, "bias")))
            start += b.size
    if indices is None:
        return [name(n) for _, size, name in blocks for n in range(size)]
    starts = [block[0] for block in blocks]
    names = []
    for index in indices:
        begin, _, name = blocks[bisect.bisect_right(starts, index) - 1]
        names.append(name(index - begin))
    return names


def update_overflow(spec: Spec, after: Spec, epoch: int = 1) -> str | None:
    """What an update left outside float64 — a new parameter or optimizer state — or None.
    Here, not in `training`, so that `run` checks its one update without loading training."""
    new = parameters(after)
    broken = np.flatnonzero(~np.isfinite(new))
    if broken.size:
        name = parameter_names(spec, [int(broken[0])])[0]
        return f"the update in epoch {epoch} makes the new {name} {new[broken[0]]}"
    for key, value in after.optimizer_state.values if after.optimizer_state else ():
        broken = np.flatnonzero(~np.isfinite(np.asarray(value, dtype=np.float64).ravel()))
        if broken.size:
            name = parameter_names(spec, [int(broken[0])])[0]
            return f"the update in epoch {epoch} makes the optimizer's {key} of {name} non-finite"
    return None


JSON_IN_FULL = 1_000  # parameters: up to this many, the JSON names every one and writes every
# equation; beyond, what the tables show (--full: all), as the arrays already hold every value


SUMMARY_ROWS = 24  # a summary lists every parameter up to this many, else those that moved most


def changes(before: Spec, after: Spec, full: bool) -> tuple[Change, ...]:
    """Old → new of every parameter (`full`), or of the SUMMARY_ROWS that moved most."""
    old, new = parameters(before), parameters(after)
    if full or old.size <= SUMMARY_ROWS:
        shown = None
        indices = slice(None)
    else:
        # the parameters that moved most, in network order (on a tie, the earlier one)
        largest = np.argsort(-np.abs(new - old), kind="stable")[:SUMMARY_ROWS]
        shown = indices = np.sort(largest).tolist()
    names = parameter_names(before, shown)
    olds, news = old[indices].tolist(), new[indices].tolist()
    return tuple(Change(*change) for change in zip(names, olds, news))
