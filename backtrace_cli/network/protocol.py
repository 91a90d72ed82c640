"""A layered network as a model of `tracing.Model`: one step traced (`run`), training with
its picked epochs traced (`step`), a rounding's carry, `--verify`'s limits, divergence said once.

Imported at start-up by `tracing`: the engine, the records and numpy load inside the functions
that need them, so `backtrace --help` pays for none of them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from ..core.errors import ConfigError
from .config import Spec

Steps = list[tuple[int, int, tuple[Any, ...], str]]  # (epoch, sample, sections, heading)

MAX_RUN_SAMPLES = 100  # samples a traced step shows in full: each is a page of equations
VERIFY_LIMIT = 5_000  # parameters: each costs two forward passes over the update's samples


def carry(rounding: str | None, spec: Any = None, gradients: bool | None = None) -> Any:
    """The identity, or `--round`'s rounding as the trace of `spec` writes the step: the
    chain rule's factors with `gradients` (as `records.build` decides), where they round
    differently from δ."""
    from . import engine

    if not rounding:
        return engine.exact
    from ..core.rounding import carrier, parse

    parsed = parse(rounding)
    if parsed is None:
        raise ConfigError(rounding, None, "rounding", "use e.g. 3sf or 4dp")
    chain = False
    if spec is not None:
        from ..definitions import notations
        from .records import shows_gradients

        # a book that writes ∂E/∂w = o_i·δ_j (Nielsen's BP4) carries no chain-rule product
        chain = (
            shows_gradients(spec, gradients)
            and not notations.get(spec.notation).gradient_from_delta
        )
    return carrier(f"{parsed[0]}{parsed[1]}", chain, gradients is True)


def step(
    spec: Spec,
    rounding: str | None = None,
    full: bool = False,
    gradients: bool | None = None,
    inference: bool = False,
    verify: bool = False,
) -> Any:
    """One training step of a network, every equation traced (a `records.Trace`)."""
    from . import engine, records

    carried = carry(rounding, spec, gradients)
    verifiable(verify, rounding, inference, spec)
    if len(spec.samples) > MAX_RUN_SAMPLES:
        raise ConfigError(
            spec.source,
            None,
            "samples",
            f"{len(spec.samples):,} samples; a traced step shows each one's equations, at most "
            f"{MAX_RUN_SAMPLES} — `backtrace step` trains on them all with a table per epoch",
        )
    if inference:
        return records.build_inference(spec, engine.inference(spec, carried), full)
    import numpy as np

    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        done = engine.epoch(spec, 1, carried)
        checks = engine.check_epoch(spec, done) if verify else None
    built = records.build(
        spec, done, rounding=rounding, full=full, gradients=gradients, checks=checks
    )
    refuse_overflow(built)
    return built


def train(
    spec: Spec,
    epochs: int,
    picked: set[int],
    last: bool,
    *,
    until_loss: float | None = None,
    rounding: str | None = None,
    full: bool = False,
    gradients: bool | None = None,
    every: int | None = None,
    all_epochs: bool = False,
    progress: Callable[[int], None] | None = None,
    verify: bool = False,
    inference: bool = False,
) -> Any:
    """`epochs` epochs of a network's training, the `picked` ones traced in full (a
    `history.TrainingTrace`). `inference` (`step --eval`): in torch's eval mode, where a
    network computes as in training but for its dropout — so one without dropout trains as
    it is, and one with dropout is refused (what to do instead is said)."""
    from . import history, training

    verifiable(verify, rounding, False, spec)
    if inference and spec.dropout is not None:
        raise ConfigError(
            "--eval",
            None,
            None,
            f"{spec.source} has dropout, and a layered network's eval mode differs from its "
            "training only there (dropout drops nothing); to train it without dropout, leave "
            "out `dropout:` and use `step` without --eval",
        )
    shown, rows_note = history.shown_epochs(epochs, every, all_epochs)
    done = training.train(
        spec,
        epochs,
        carry=carry(rounding, spec, gradients),
        traced=picked,
        keep=shown.__contains__,
        until_loss=until_loss,
        progress=progress,
        trace_last=last,
    )
    return history.build_training(
        done,
        rounding=rounding,
        full=full,
        gradients=gradients,
        rows_note=rows_note,
        verify=verify,
    )


def verifiable(verify: bool, rounding: str | None, inference: bool, spec: Spec | None) -> None:
    count = 0
    if spec is not None:
        count = sum(w.size for w in spec.weights)
        count += sum(b.size for b in spec.biases or () if b is not None)
    if verify and count > VERIFY_LIMIT:
        raise ConfigError(
            "--verify",
            None,
            None,
            f"checks each parameter with two forward passes; this network has {count:,} and "
            f"the limit is {VERIFY_LIMIT:,} — verify a smaller network of the same shape",
        )
    if verify and rounding:
        raise ConfigError(
            "--verify",
            None,
            None,
            "checks full-precision gradients against finite differences; "
            "hand-rounded ones differ by design: leave out --round",
        )
    if verify and inference:
        raise ConfigError("--verify", None, None, "checks gradients; --eval computes none")


def refuse_overflow(built: Any) -> None:
    """A step whose numbers leave float64 is divergence, said once — not tables of ∞ and nan."""
    import math

    import numpy as np

    from .records import Equation

    for step in built.steps:
        for section in step.sections:
            for row in section.rows:
                if isinstance(row, Equation) and not math.isfinite(row.value):
                    raise ConfigError(
                        built.spec.source,
                        None,
                        None,
                        f"the numbers overflow: {row.symbol} = {row.value} in "
                        f"{step.heading.lower()}, beyond what float64 holds (about 1.8e308); "
                        "the step diverges — use smaller weights, inputs or learning_rate",
                    )
    if built.spec_after is None:
        return
    from .parameters import update_overflow

    problem = update_overflow(built.spec, built.spec_after)
    if problem is None and not math.isfinite(built.loss_after):
        outputs = np.asarray(built.outputs_after, dtype=np.float64).reshape(
            len(built.spec.samples), -1
        )
        broken = np.flatnonzero(~np.isfinite(outputs).all(axis=1))
        sample = int(broken[0]) + 1 if broken.size else None
        where = f" on sample {sample} of {len(built.spec.samples)}" if sample else ""
        problem = (
            f"E = {built.loss_after} after the update in epoch 1{where}: the new network's "
            f"numbers leave float64 (largest parameter {largest(built.spec_after)})"
        )
    if problem is not None:
        raise ConfigError(
            built.spec.source,
            None,
            None,
            f"the numbers overflow: {problem}; the step diverges — use a smaller "
            "learning_rate, weights or inputs",
        )


def largest(spec: Spec) -> str:
    """The parameter of largest magnitude, as `w12 = -4e+300`."""
    import numpy as np

    from .records import parameter_names, parameters

    values = parameters(spec)
    index = int(np.argmax(np.abs(values)))
    return f"{parameter_names(spec, [index])[0]} = {values[index]:.6g}"


class Network:
    """A layered network as a model of `tracing.Model`."""

    saves = True

    def trace(self, spec: Spec, rounding: str | None = None, **options: Any) -> Any:
        return step(spec, rounding, **options)

    def json_in_full(self, spec: Spec) -> bool:
        from .parameters import JSON_IN_FULL  # start-up: the rows load for a trace only

        return sum(w.size for w in spec.weights) <= JSON_IN_FULL  # its weights, as ever

    def train(self, spec: Spec, epochs: int, picked: set[int], last: bool, **options: Any) -> Any:
        return train(spec, epochs, picked, last, **options)

    def steps(self, spec: Spec, epochs: int, rounding: str | None, gradients: bool | None) -> Steps:
        if epochs == 1:
            traces = [step(spec, rounding, full=True, gradients=gradients)]
        else:
            every = set(range(1, epochs + 1))  # all traced in full, as `trace=["all"]` asks
            done = train(
                spec, epochs, every, False, rounding=rounding, full=True, gradients=gradients
            )
            traces = list(done.traces)
        return [(s.epoch, s.sample, s.sections, s.heading) for trace in traces for s in trace.steps]

    def samples(self, spec: Spec) -> int:
        return len(spec.samples)

    def complete(self, solved: Any) -> Any:
        return replace(solved, notation=solved.spec.notation)

    # start-up: an exercise's modules load when a set is drawn, in each method below

    def variants(self, spec: Spec, count: int, seed: int, rules: Any, base: str) -> Any:
        from . import variants

        return variants.variants(spec, count, seed, rules, base)

    def questions(self, spec: Spec, ask: tuple[str, ...], records: Any = None) -> Any:
        from . import sheet

        return None if records is None else sheet.questions(records, ask)

    def notes(self, spec: Spec, drawn: Any, seed: int, rules: Any, ask: tuple[str, ...]) -> Any:
        from . import variants

        return variants.notes(spec, drawn, seed, rules, ask)

    def to_config(self, spec: Spec, header: str) -> str:
        from . import save

        return save.to_config(spec, header)

    answers = "network"
    own_slips = False  # each activation's, the loss's and the optimizer's, named by teach

    def refuse_notation(self, book: str | None) -> None:
        return None  # every book (the lecture's, nielsen, hagan, mazur) names a network's rows

    def renamer(self, spec: Spec) -> Any:
        from .translation import translation

        return translation(spec)

    def marked(self, spec: Spec) -> tuple[str, ...]:
        return ()  # its only training-mode layer, dropout, is marked as traced (masks said)

    def quizzed(self, spec: Spec, sample: int | None) -> str:
        count = len(spec.samples)
        if sample is not None and not 1 <= sample <= count:
            raise ConfigError(
                "--sample",
                None,
                None,
                f"{sample} is not a sample of {spec.source}; it has "
                + ("one sample (1)" if count == 1 else f"samples 1 to {count}"),
            )
        if sample is not None or count == 1:
            return f"epoch 1 · sample {sample or 1} of {count}"
        update = "one update after all" if spec.mode == "batch" else "an update after each"
        return f"epoch 1 · {count} samples, {update}"

    # ------------------------------------------------ its homework question (statement)
    # start-up: these load only when a page or a sheet is written

    def problem(self, spec: Spec, traced: Any = None, epochs: int | None = None) -> Any:
        from . import statement

        inference = traced is not None and traced.inference
        return statement.problem(spec, epochs, inference)

    def diagram(self, spec: Spec, traced: Any = None, solved: bool = True) -> Any:
        from . import statement

        return statement.diagram(spec, traced)  # a network's drawing gives, never solves
