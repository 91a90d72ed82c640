"""Many epochs, named: the per-epoch table's rows and the traced epochs. Computes nothing.

Only `backtrace step` needs this; `run` never imports it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from . import engine
from .config import Spec
from .records import Elided, Trace, build, parameter_names, parameters, translation

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from .training import Training

    Array = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class EpochRow:
    """One row of the per-epoch table: read from a training snapshot."""

    epoch: int
    loss: float
    loss_after: float
    outputs: tuple[float, ...]  # the shown outputs after the epoch
    parameters: tuple[float, ...]  # the shown parameters after the epoch
    moved: str = ""  # networks too big for a column each: the parameter that changed most
    moved_value: float = 0.0  # its value after the epoch
    moved_change: float = 0.0  # and its change since the previous row
    dropped: int | None = None  # dropout: units dropped over the epoch's steps
    accuracy: float | None = None  # classification: share right, each before its own update


@dataclass(frozen=True, slots=True)
class TrainingTrace:
    """N epochs: the per-epoch table, the loss curve, and full traces of the picked epochs."""

    FORM: ClassVar[str] = "network training"  # what draws it (`render.DRAWN_BY`)

    spec: Spec
    rounding: str | None
    epochs_asked: int
    losses: Array  # every epoch's loss (mean before each sample's own update)
    losses_after: Array  # every epoch's loss after it
    output_names: tuple[str, ...]  # "o5", or "o5 s2" for sample 2
    parameter_names: tuple[str, ...]  # parameters with a column (hand-sized networks)
    rows: tuple[EpochRow | Elided, ...]
    traces: tuple[Trace, ...]  # one per traced epoch, exactly what `run` shows
    rows_note: str  # which epochs have a row
    outputs_after: Array  # (samples, n_out) after the last epoch
    stop: str
    stop_reason: str
    relative_drop: float
    final: Spec
    loss_start: float = float("nan")  # the network before training, over all samples
    dropped: Array | None = None  # dropout: every epoch's count of dropped units
    maskable: int = 0  # … out of this many per epoch
    accuracy: Array | None = None  # classification: every epoch's share of samples right


MAX_PARAMETER_COLUMNS = 24  # hand-sized: every parameter gets a column (split over tables)
MAX_OUTPUT_COLUMNS = 4


def loss_meanings(spec: Spec) -> tuple[str, str]:
    """What the per-epoch table's loss and the loss curve each measure: one definition per
    display, said where it is shown."""
    if spec.mode == "batch" and len(spec.samples) > 1:
        table = "the mean of the samples' losses before the epoch's one update"
    else:
        table = "the mean of each sample's loss before its own update"
    if spec.dropout is not None:
        table += ", through that step's dropout masks"
    table += ", as Keras reports training loss"
    curve = "the network's loss after each epoch, the mean over all samples"
    if spec.dropout is not None:
        curve += ", without dropout (as at inference)"
    return table, curve


def output_heading(name: str) -> tuple[str, str]:
    """An output column's name split as shown: "o6 s1" → ("o6", "sample 1")."""
    symbol, _, sample = name.partition(" s")
    return symbol, f"sample {sample}" if sample else ""


def build_training(
    training: Training,
    rounding: str | None = None,
    full: bool = False,
    gradients: bool | None = None,
    rows_note: str = "",
    verify: bool = False,
) -> TrainingTrace:
    """Name what `training.train` computed."""
    spec = training.start
    numbering = spec.numbering
    name_of = translation(spec).symbol  # the columns in the spec's notation: a^3_1, w^2_11
    last = len(spec.layers) - 1
    n_out, n_samples = spec.layers[-1], len(spec.samples)
    outputs: list[tuple[str, int, int]] = []
    if n_out * n_samples <= MAX_OUTPUT_COLUMNS:
        for s in range(n_samples):
            for j in range(n_out):
                name = name_of(f"o{numbering.unit(last, j)}")
                name += f" s{s + 1}" if n_samples > 1 else ""
                outputs.append((name, s, j))
    count = len(parameters(spec))
    shown_parameters = (
        [name_of(name) for name in parameter_names(spec)] if count <= MAX_PARAMETER_COLUMNS else []
    )
    rows: list[EpochRow | Elided] = []
    previous = 0
    for snap in training.snapshots:
        if snap.epoch > previous + 1:
            rows.append(
                Elided(snap.epoch - previous - 1, f"epochs {previous + 1}–{snap.epoch - 1}")
            )
        values = parameters(snap)
        rows.append(
            EpochRow(
                epoch=snap.epoch,
                loss=float(training.losses[snap.epoch - 1]),
                loss_after=float(training.losses_after[snap.epoch - 1]),
                outputs=tuple(float(snap.outputs[s, j]) for _, s, j in outputs),
                parameters=tuple(values.tolist()) if shown_parameters else (),
                moved="" if shown_parameters else name_of(parameter_names(spec, [snap.moved])[0]),
                moved_value=float(values[snap.moved]),
                moved_change=snap.change,
                dropped=(
                    int(training.dropped[snap.epoch - 1]) if training.dropped is not None else None
                ),
                accuracy=(
                    float(training.accuracy[snap.epoch - 1])
                    if training.accuracy is not None
                    else None
                ),
            )
        )
        previous = snap.epoch
    traces = tuple(
        build(
            before,
            done,
            rounding,
            full,
            gradients,
            checks=engine.check_epoch(before, done) if verify else None,
        )
        for before, done in training.traced
    )
    return TrainingTrace(
        spec=spec,
        rounding=rounding,
        epochs_asked=training.epochs_asked,
        losses=training.losses,
        losses_after=training.losses_after,
        output_names=tuple(name for name, _, _ in outputs),
        parameter_names=tuple(shown_parameters),
        rows=tuple(rows),
        traces=traces,
        rows_note=rows_note,
        outputs_after=training.snapshots[-1].outputs,
        stop=training.stop,
        stop_reason=training.stop_reason,
        relative_drop=training.relative_drop,
        final=training.final,
        loss_start=training.loss_start,
        dropped=training.dropped,
        maskable=training.maskable,
        accuracy=training.accuracy,
    )


def shown_epochs(
    epochs: int, every: int | None = None, everything: bool = False
) -> tuple[set[int], str]:
    """Epochs with a row in the table, and a note saying which: all of a short run; else the
    first ten, every k-th (about 30 rows), and the last."""
    if everything or epochs <= 60:
        return set(range(1, epochs + 1)), "every epoch"
    if every is None:
        every = _nice(epochs / 30)
    rows = set(range(1, 11)) | set(range(every, epochs + 1, every)) | {epochs}
    return rows, f"epochs 1–10, every {every} after that, and the last (--all-epochs: all)"


def _nice(value: float) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50, … that is ≥ value."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= value:
                return step * factor
        step *= 10
