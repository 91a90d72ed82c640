"""Many epochs, fast: no trace records or strings except for the epochs asked for.

Untraced epochs call the same `engine.backprop` as traced ones, on the same arrays in the same
order, so epoch k of a long run is bit for bit what `run` prints for that network — except a
small network's quiet epochs, which the scalar engine (`scalar.py`) runs on plain floats: the
same numbers to 1e-12, some fifty times faster.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from ..core.errors import ConfigError
from ..definitions import optimizers
from ..definitions.losses import get as get_loss
from . import engine, scalar
from .config import Spec
from .dropout import dropped_units
from .parameters import update_overflow

if TYPE_CHECKING:  # numpy.typing costs start-up time; annotations only
    import numpy.typing as npt

    Array = npt.NDArray[np.float64]

DIVERGENCE_FACTOR = 1e6  # a loss this many times the first epoch's is reported as divergence
LARGE_ARRAY = 128 * 1024  # bytes: glibc's default mmap threshold


def _keep_freed_memory() -> None:
    """Ask glibc to keep freed memory for reuse instead of returning it to the system.

    By default every array over 128 KiB is a fresh mmap, so each epoch of a wide network
    page-faults its way through new memory: a third of its time (784-256-10 on 1,024 samples,
    benchmarks/train.py). Only called for such networks; a no-op where libc is not glibc.
    """
    global _kept
    if _kept:
        return
    _kept = True
    try:
        import ctypes  # only where long training runs, and glibc may be there

        libc = ctypes.CDLL("libc.so.6")
        m_trim_threshold, m_mmap_threshold = -1, -3
        libc.mallopt(m_mmap_threshold, 256 * 1024 * 1024)
        libc.mallopt(m_trim_threshold, 256 * 1024 * 1024)
    except (OSError, AttributeError):
        pass


_kept = False


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The network and its outputs after one epoch, kept for the per-epoch table."""

    epoch: int
    weights: tuple[Array, ...]
    biases: tuple[Array | None, ...] | None
    outputs: Array  # (samples, n_out), after the epoch
    moved: int  # the parameter (weights then biases, flattened) that changed most since the
    change: float  # previous kept epoch (or the start), and by how much: after − before


@dataclass(frozen=True, slots=True)
class Training:
    """What N epochs did: every epoch's loss, kept snapshots, full records of traced epochs."""

    start: Spec
    final: Spec  # the network after the last epoch that ran
    epochs_asked: int
    losses: Array  # (epochs run,) mean over samples of each one's loss before its own update
    losses_after: Array  # (epochs run,) mean loss of the network after the epoch
    snapshots: tuple[Snapshot, ...]  # kept epochs, in order; always includes the last
    traced: tuple[tuple[Spec, engine.Epoch], ...]  # (network before, what it computed)
    stop: str  # "completed", "until_loss" or "diverged"
    stop_reason: str  # one sentence for the user; "" when completed
    loss_start: float = math.nan  # mean loss of the network before training (no dropout)
    dropped: Array | None = None  # (epochs run,) dropout: units dropped over the epoch's steps
    maskable: int = 0  # dropout: units that could be dropped in one epoch (over its steps)
    # classification losses: (epochs run,) share of samples right, each before its own update
    accuracy: Array | None = None

    @property
    def epochs_run(self) -> int:
        return len(self.losses)

    @property
    def relative_drop(self) -> float:
        """(loss before training − loss after the last epoch) / loss before training."""
        first = self.loss_start
        return (first - float(self.losses_after[-1])) / first if first else 0.0


def train(
    spec: Spec,
    epochs: int,
    *,
    carry: engine.Carry = engine.exact,
    traced: Collection[int] = (),
    keep: Callable[[int], bool] = lambda epoch: False,
    until_loss: float | None = None,
    progress: Callable[[int], None] | None = None,
    trace_last: bool = False,
    fast: bool | None = None,
) -> Training:
    """Train for `epochs` epochs (fewer if a stopping rule fires).

    `traced`: epochs recorded in full; `trace_last`: also the last epoch that runs, wherever
    a stopping rule ends the run; `keep`: epochs whose network is kept for the table.
    `fast`: run a small network's quiet epochs — not traced, kept or stopping — on the scalar
    engine (`scalar.py`), the same numbers to 1e-12: None, where there are updates enough to
    repay building it (`scalar.WORTH`); True, wherever it can; False: every epoch on numpy.
    """
    x_all = np.array([s.inputs for s in spec.samples])
    t_all = np.array([s.targets for s in spec.samples])
    rows_at_once = len(spec.samples) if spec.mode == "batch" else 1
    if (
        max(spec.layers) * rows_at_once * 8 > LARGE_ARRAY
        or max(w.nbytes for w in spec.weights) > LARGE_ARRAY
    ):
        _keep_freed_memory()
    singles = [(x_all[i : i + 1], t_all[i : i + 1]) for i in range(len(spec.samples))]
    weights = list(spec.weights)
    biases = list(spec.biases) if spec.biases is not None else None
    state = spec.optimizer_state  # the optimizer's, carried from update to update
    count = len(spec.samples)
    batch = spec.mode == "batch"
    # with one update over fixed samples, epoch k+1's loss before its update is exactly the
    # loss after epoch k: the same forward pass on the same network and rows
    # (not with dropout: the loss before an update is measured through that update's mask)
    reuse = (batch or count == 1) and not spec.shuffle and spec.dropout is None
    dropped = np.zeros(epochs) if spec.dropout is not None else None
    maskable = 0
    if spec.dropout is not None:
        per_row = sum(n for n, r in zip(spec.layers, spec.dropout.rates) if r > 0)
        maskable = per_row * count
    losses = np.empty(epochs)
    after = np.empty(epochs)
    correct = get_loss(spec.loss).correct
    accuracy = np.empty(epochs) if correct is not None else None
    snapshots: list[Snapshot] = []
    records: list[tuple[Spec, engine.Epoch]] = []
    stop, reason = "completed", ""
    traced = frozenset(traced)
    ran = 0
    first = math.nan

    def current() -> Spec:
        return _with(spec, weights, biases, state)

    def kept_flat() -> Array:
        """The parameters at the last kept epoch (or the start): what 'changed most' is from."""
        if snapshots:
            return _flat(snapshots[-1].weights, snapshots[-1].biases)
        return _flat(spec.weights, spec.biases)

    # the loss before training: where `reuse` holds and numpy runs epoch 1, that epoch's loss
    # before its update is this number, computed once (a wide network's forward pass saved)
    start_loss = None if reuse else _loss_of(spec, carry)
    pending: int | None = None  # an epoch whose loss_after the next epoch will give
    worth = fast or (fast is None and epochs * len(spec.samples) >= scalar.WORTH)
    runner = scalar.runner(spec) if worth and carry is engine.exact else None
    events = sorted(traced | ({epochs} if trace_last else set()))  # epochs numpy must run
    skip = 0  # the last epoch the scalar engine ran
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        fixed = engine.sample_order(spec, 1) if not spec.shuffle else None
        for number in range(1, epochs + 1):
            if number <= skip:
                continue
            if runner is not None and number not in traced and not keep(number):
                last = _chunk_end(number, epochs, runner.longest, events, keep, progress)
                orders = [
                    fixed if fixed is not None else engine.sample_order(spec, n)
                    for n in range(number, last + 1)
                ]
                try:
                    keeps, lost = (
                        runner.keeps(number, orders) if dropped is not None else ((), None)
                    )
                    chunk = runner.run(runner.flat(weights, biases, state), orders, keeps)
                except (ArithmeticError, ValueError):  # a float overflowed: numpy from here
                    runner = None
                else:
                    leading = first if number > 1 else float(chunk.losses[0])
                    quiet = _quiet(chunk.losses, chunk.parameters, leading, until_loss)
                    if quiet:  # epochs where no rule fires; the one that fires runs on numpy
                        end = number + quiet - 1
                        done = chunk.losses[:quiet]
                        losses[number - 1 : end] = done
                        if accuracy is not None and chunk.accuracy is not None:
                            accuracy[number - 1 : end] = chunk.accuracy[:quiet]
                        if dropped is not None and lost is not None:
                            dropped[number - 1 : end] = lost[:quiet]
                        if pending is not None:
                            after[pending - 1] = done[0]
                            pending = None
                        if reuse:
                            after[number - 1 : end - 1] = done[1:]
                            pending = end
                        else:
                            after[number - 1 : end] = runner.losses_after(chunk.parameters[:quiet])
                        first = leading
                        weights, biases, state = runner.arrays(chunk.parameters[quiet - 1])
                        ran = skip = end
                        outputs = None
                        if progress is not None:
                            progress(end)
                        continue
            sequence = fixed if fixed is not None else engine.sample_order(spec, number)
            outputs = None
            start = (weights, biases, state)  # the network before this epoch, for trace_last
            if number in traced:
                before = current()
                done = engine.epoch(before, number, carry, sequence)
                records.append((before, done))
                weights = list(done.spec_after.weights)
                biases = list(done.spec_after.biases) if biases is not None else None
                state = done.spec_after.optimizer_state
                losses[number - 1] = done.loss
                if correct is not None and accuracy is not None:
                    accuracy[number - 1] = _share(
                        [correct(u.layers[-1].out, u.targets) for u in done.updates]
                    )
                outputs = done.outputs_after
                after[number - 1] = done.loss_after
                if dropped is not None:
                    dropped[number - 1] = sum(
                        float((1.0 - m).sum())
                        for u in done.updates
                        for m in u.masks
                        if m is not None
                    )
            else:
                if batch:
                    rows = list(sequence)
                    groups = [(x_all, t_all) if fixed is not None else (x_all[rows], t_all[rows])]
                else:
                    groups = [singles[i] for i in sequence]
                parts = []
                all_masks: list[list[Array | None]] | list[None] = [None] * len(groups)
                if dropped is not None:
                    all_masks = engine.dropout_masks(spec, number, [len(x) for x, _ in groups])
                    dropped[number - 1] = dropped_units(all_masks, [len(x) for x, _ in groups])
                right = []
                for (x, t), masks in zip(groups, all_masks):
                    step = engine.backprop(spec, weights, biases, x, t, carry, masks, state)
                    parts.append(step.loss)
                    if correct is not None:
                        right.append(correct(step.outs[-1], t))
                    weights = step.weights_after
                    biases = step.biases_after
                    if step.optimized is not None:
                        state = step.optimized.after
                losses[number - 1] = engine.mean_loss(parts)
                if accuracy is not None:
                    accuracy[number - 1] = _share(right)
            if pending is not None:
                after[pending - 1] = losses[number - 1]
                pending = None
            if number not in traced:
                if reuse and not keep(number):
                    pending = number
                else:
                    evaluated, outputs = engine.evaluate(current(), carry)
                    after[number - 1] = engine.mean_loss([evaluated])
            ran = number
            loss = float(losses[number - 1])
            if number == 1:
                first = loss
            if keep(number):
                snapshots.append(
                    _snapshot(number, weights, biases, outputs, current, carry, kept_flat())
                )
            if progress is not None:
                progress(number)
            # an epoch that cannot be computed at all is an error, as in `run`; a later one
            # ends training with the reason, the table kept up to it
            broken = None
            if not math.isfinite(loss):
                broken = f"the loss became non-finite ({loss}) in epoch {number}"
                if number == 2:
                    broken = f"E = {loss} after the update in epoch 1"
            elif not _finite(weights, biases, state):
                broken = update_overflow(spec, current(), number)
            if broken is not None and (number == 1 or (number == 2 and not math.isfinite(loss))):
                raise ConfigError(
                    spec.source,
                    None,
                    None,
                    f"the numbers overflow: {broken}; training diverges at once — use a "
                    "smaller learning_rate, weights or inputs",
                )
            if broken is not None:
                stop = "diverged"
                reason = f"{broken}: training diverged; try a smaller learning_rate"
                break
            if first > 0 and loss > DIVERGENCE_FACTOR * first:
                stop = "diverged"
                reason = (
                    f"the loss grew from {first:.6g} to {loss:.6g} by epoch {number}: "
                    "training diverged; try a smaller learning_rate"
                )
                break
            if until_loss is not None and loss < until_loss:
                stop = "until_loss"
                reason = f"the loss fell below {until_loss:g} in epoch {number} ({loss:.6g})"
                break
        last_outputs = outputs  # the last epoch's outputs, where it evaluated them
        if start_loss is None:  # numpy's epoch 1 gave it, unless the scalar engine ran
            start_loss = float(losses[0]) if ran and skip == 0 else _loss_of(spec, carry)
        if pending is not None:
            evaluated, last_outputs = engine.evaluate(current(), carry)
            after[pending - 1] = engine.mean_loss([evaluated])
        if trace_last and ran and ran not in traced:
            # the same computation again, recorded: deterministic, so identical
            before = _with(spec, *start)
            records.append(
                (before, engine.epoch(before, ran, carry, engine.sample_order(spec, ran)))
            )
    losses, after = losses[:ran], after[:ran]
    if ran and (not snapshots or snapshots[-1].epoch != ran):
        snapshots.append(_snapshot(ran, weights, biases, last_outputs, current, carry, kept_flat()))
    return Training(
        start=spec,
        final=replace(current(), epochs_done=spec.epochs_done + ran),
        epochs_asked=epochs,
        losses=_frozen(losses),
        losses_after=_frozen(after),
        snapshots=tuple(snapshots),
        traced=tuple(records),
        stop=stop,
        stop_reason=reason,
        loss_start=start_loss,
        dropped=_frozen(dropped[:ran]) if dropped is not None else None,
        maskable=maskable,
        accuracy=_frozen(accuracy[:ran]) if accuracy is not None else None,
    )


def _chunk_end(
    number: int,
    epochs: int,
    longest: int,
    events: list[int],
    keep: Callable[[int], bool],
    progress: Callable[[int], None] | None,
) -> int:
    """The last epoch of a chunk from `number`: before the next traced or kept epoch (and the
    last, where it is traced), at most `longest` epochs, and at a progress tick (every 64)."""
    last = min(epochs, number + longest - 1)
    if progress is not None:
        last = min(last, (number + 63) // 64 * 64)
    later = bisect.bisect_right(events, number)
    if later < len(events):
        last = min(last, events[later] - 1)
    kept = next(filter(keep, range(number + 1, last + 1)), None)
    return last if kept is None else kept - 1


def _quiet(losses: Array, parameters: Array, first: float, until_loss: float | None) -> int:
    """How many of a chunk's epochs, from its first, no stopping rule fires on: a loss or a
    parameter not finite, the loss grown past DIVERGENCE_FACTOR × the first, or under
    `until_loss`."""
    fires = ~np.isfinite(losses) | ~np.isfinite(parameters).all(axis=1)
    if first > 0:
        fires |= losses > DIVERGENCE_FACTOR * first
    if until_loss is not None:
        fires |= losses < until_loss
    return int(np.argmax(fires)) if fires.any() else len(losses)


def _loss_of(spec: Spec, carry: engine.Carry) -> float:
    """The mean loss of the spec's network over its samples, overflow allowed (said later)."""
    with np.errstate(over="ignore", invalid="ignore"):
        return engine.mean_loss([engine.evaluate(spec, carry)[0]])


def _share(right: Sequence[Array]) -> float:
    """The mean over the epoch's samples of each one's share of right answers."""
    return float(np.concatenate(right).mean())


def _snapshot(
    number: int,
    weights: list[Array],
    biases: list[Array | None] | None,
    outputs: Array | None,
    current: Callable[[], Spec],
    carry: engine.Carry,
    previous: Array,
) -> Snapshot:
    if outputs is None:
        _, outputs = engine.evaluate(current(), carry)
    differences = _flat(weights, biases) - previous
    moved = int(np.argmax(np.abs(differences)))
    return Snapshot(
        epoch=number,
        weights=tuple(_frozen(w) for w in weights),
        biases=_frozen_biases(biases),
        outputs=_frozen(outputs),
        moved=moved,
        change=float(differences[moved]),
    )


def _flat(weights: Sequence[Array], biases: Sequence[Array | None] | None) -> Array:
    """Every parameter in one vector: weights layer by layer (row-major), then biases."""
    return np.concatenate([np.ravel(a) for a in (*weights, *(biases or ())) if a is not None])


def _finite(
    weights: list[Array], biases: list[Array | None] | None, state: optimizers.State | None
) -> bool:
    arrays = [a for a in weights + (biases or []) if a is not None]
    arrays += [np.asarray(v) for _, v in state.values] if state is not None else []
    return all(bool(np.isfinite(a).all()) for a in arrays)


def _with(
    spec: Spec,
    weights: list[Array],
    biases: list[Array | None] | None,
    state: optimizers.State | None = None,
) -> Spec:
    if state is not None:
        state = optimizers.State(state.t, tuple((k, _frozen(v)) for k, v in state.values))
    return replace(
        spec,
        weights=tuple(_frozen(w) for w in weights),
        biases=_frozen_biases(biases),
        optimizer_state=state,
    )


def _frozen_biases(biases: Sequence[Array | None] | None) -> tuple[Array | None, ...] | None:
    if biases is None:
        return None
    return tuple(None if b is None else _frozen(b) for b in biases)


def _frozen(array: Array) -> Array:
    array = np.asarray(array, dtype=np.float64)
    if array.flags.writeable:
        array = array.copy()
        array.setflags(write=False)
    return array
