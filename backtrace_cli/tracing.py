"""A model traced and trained: what the API's `trace` and `train` and marking's `solve` run.

Below the teaching tools and the API alike, so that marking traces a model through its own
functions, never through the facade above it: a rounding's carry, limits, divergence said once.

The API imports this module at start-up, so the engine, the models and numpy are imported inside
the functions that need them: `backtrace --help` pays for none of them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any, Protocol

from .core.errors import ConfigError
from .network.config import Spec
from .network.model_protocol import Sequential  # a `model:` of tensor layers

Source = str | dict[str, Any] | Spec | None
MAX_RUN_SAMPLES = 100  # samples a traced step shows in full: each is a page of equations
VERIFY_LIMIT = 5_000  # parameters: each costs two forward passes over the update's samples


def load(source: Source = None) -> Spec:
    """A validated model: a built-in name, a YAML path, a dict, or a spec (None: lecture)."""
    from . import models  # which model: models tells them apart

    if models.is_model(source):
        return source  # type: ignore[return-value]
    if isinstance(source, dict):
        return models.from_dict(source)
    return models.load(source)


def carry(rounding: str | None, spec: Any = None, gradients: bool | None = None) -> Any:
    """The identity, or `--round`'s rounding as the trace of `spec` writes the step: the
    chain rule's factors with `gradients` (as `records.build` decides), where they round
    differently from δ."""
    from .network import engine

    if not rounding:
        return engine.exact
    from .core.rounding import carrier, parse

    parsed = parse(rounding)
    if parsed is None:
        raise ConfigError(rounding, None, "rounding", "use e.g. 3sf or 4dp")
    chain = False
    if spec is not None:
        from .definitions import notations
        from .network.records import shows_gradients

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
    from .network import engine, records

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
) -> Any:
    """`epochs` epochs of a network's training, the `picked` ones traced in full (a
    `history.TrainingTrace`)."""
    from .network import history, training

    verifiable(verify, rounding, False, spec)
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


def graph_carry(rounding: str | None) -> Any:
    """The scalar carry of a graph: the identity, or `--round`'s rounding of one number."""
    from .graph import config as graph

    if not rounding:
        return graph.exact
    return carry(rounding)  # a `Carrier` rounds a single number too


def trace_graph(
    spec: Any, rounding: str | None = None, inference: bool = False, verify: bool = False
) -> Any:
    """`run` on a computational graph: forward, backward, ∂f/∂input, one update."""
    from .graph import config as graph
    from .graph import trace as graphtrace

    if verify and rounding:
        verifiable(verify, rounding, inference, None)
    if verify and inference:
        verifiable(verify, None, inference, None)
    carried = graph_carry(rounding)
    if inference:
        try:
            values = graph.forward(spec, carried)
        except graph.GraphError as err:
            raise err.config_error(spec) from None
        empty = graph.Pass(values, {}, {}, {n: 0.0 for n in values}, {n: () for n in values})
        return graphtrace.build(spec, empty, rounding=rounding, inference=True)
    done = graph.traced(spec, carried)
    checks = graph.check_gradients(spec, done) if verify else None
    after = value_after = moved = None
    if spec.parameters:
        after, _, moved = graph.step(spec, done, carried)
        value_after = graph.traced(after, carried, "after the update, ").values[spec.output]
    built = graphtrace.build(
        spec,
        done,
        rounding=rounding,
        checks=checks,
        after=after,
        value_after=value_after,
        moved=moved,
    )
    return built


def train_graph(
    spec: Any,
    epochs: int,
    picked: set[int],
    last: bool,
    *,
    rounding: str | None = None,
    every: int | None = None,
    all_epochs: bool = False,
    progress: Callable[[int], None] | None = None,
    verify: bool = False,
) -> Any:
    """`step` on a computational graph: gradient descent on its parameters, the `picked`
    epochs traced in full (a `GraphTraining`)."""
    # start-up: a graph's training loads these only when it runs
    from .graph import config as graph
    from .graph import trace as graphtrace
    from .network import history

    if not spec.parameters:
        raise ConfigError(
            spec.source,
            None,
            "parameters",
            "missing; `step` minimises the graph's output by gradient descent on its "
            "parameters: add e.g. `parameters: [w, b]` and `learning_rate: 0.1`",
        )
    if verify:
        verifiable(verify, rounding, False, None)
    carried = graph_carry(rounding)
    shown, rows_note = history.shown_epochs(epochs, every, all_epochs)
    done = graph.train(
        spec,
        epochs,
        carried,
        traced=picked.__contains__,
        keep=shown.__contains__,
        trace_last=last,
        progress=progress,
    )
    first_pass = graph.traced(spec, carried)
    checks = graph.check_gradients(spec, first_pass) if verify else None
    first = graphtrace.build(spec, first_pass, rounding=rounding, checks=checks)
    return graphtrace.build_training(
        done,
        rounding=rounding,
        epochs_asked=epochs,
        shown=shown,
        rows_note=rows_note,
        first=first,
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

    from .network.records import Equation

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
    from .network.training import update_overflow

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

    from .network.records import parameter_names, parameters

    values = parameters(spec)
    index = int(np.argmax(np.abs(values)))
    return f"{parameter_names(spec, [index])[0]} = {values[index]:.6g}"


# ---------------------------------------------------------------- the models, one protocol

Steps = list[tuple[int, int, tuple[Any, ...], str]]  # (epoch, sample, sections, heading)


class Model(Protocol):
    """What every kind of model does for the API, the worked solution and the CLI. `model`
    finds a spec's (through `models.kind`, the one test of kind): nothing above asks."""

    saves: bool  # `step --save` writes the trained model back as a config

    def trace(self, spec: Any, rounding: str | None = None, **options: Any) -> Any:
        """One step, every equation traced (`run`); options: full, gradients, inference,
        verify."""
        ...

    def train(self, spec: Any, epochs: int, picked: set[int], last: bool, **options: Any) -> Any:
        """`epochs` epochs, the `picked` ones (and the last, if `last`) traced (`step`)."""
        ...

    def steps(self, spec: Any, epochs: int, rounding: str | None, gradients: bool | None) -> Steps:
        """The worked solution's traced steps: each step's sections, in order, and its
        heading."""
        ...

    def samples(self, spec: Any) -> int:
        """How many samples a step of it has."""
        ...

    def complete(self, solved: Any) -> Any:
        """The worked solution (`solution.Solution`) with what this kind adds to it: its
        notation, or a graph's named slips and rounded gradients, its factors never asked."""
        ...

    # an exercise set (`backtrace exercise`): its variants, what its sheets ask, what its
    # teacher's index says, its configs — the sheet itself is laid out by the traced step's FORM
    # (`render.sheet`), its problem statement and diagram the model's own (`problem`, `diagram`)

    def variants(self, spec: Any, count: int, seed: int, rules: Any, base: str) -> Any:
        """`count` fair variants of the exercise `spec` drawn by `rules` from (seed, number),
        their ids starting with `base` (a `draws.ExerciseSet`); `draws.NoFairVariant` says
        which rule to relax."""
        ...

    def questions(self, spec: Any, ask: tuple[str, ...], records: Any = None) -> Any:
        """What a sheet of `spec` asks (`sheet.Question`s): every quantity, or those `ask`
        names; read from `records`, its traced step, where the kind needs it (a network's: None
        without). ValueError for a name it has not, listing the ones it has."""
        ...

    def notes(self, spec: Any, drawn: Any, seed: int, rules: Any, ask: tuple[str, ...]) -> Any:
        """What the teacher's index and exercise.json say of the set `drawn` (`draws.Notes`)."""
        ...

    def to_config(self, spec: Any, header: str) -> str:
        """The spec written back as a config `run` and `check` read, `header` as comments."""
        ...

    # marking (`check`, `quiz`, the gradebook): how its answers are read, where its slips come from

    answers: str  # how its answers files are read: the name of its `teach.answers` Reading
    own_slips: bool  # its named slips come on each row from `complete`, not `teach.mistakes`

    def refuse_notation(self, book: str | None) -> None:
        """ConfigError where `--notation BOOK` cannot rename this model's answers."""
        ...

    def quizzed(self, spec: Any, sample: int | None) -> str:
        """What a quiz of its first epoch asks (`sample`: that sample's step only), as the
        quiz's first line says it; ConfigError for a sample it has not."""
        ...

    # ------------------------------------------------ its homework question: statement, diagram
    # as structure (`statement`); render writes the math and draws the Mermaid

    def problem(self, spec: Any, traced: Any = None, epochs: int | None = None) -> Any:
        """Its problem statement (a `statement.Statement`): what it is, what it gives, what to
        do — one step, or `epochs` of training; from `traced`, its traced step, where the
        statement says what the step did (a graph's carried inputs, an inference pass)."""
        ...

    def diagram(self, spec: Any, traced: Any = None, solved: bool = True) -> Any:
        """`spec` drawn (a `statement.Diagram`), with what its traced step `traced` marks on
        it: a network's dropped units; a graph's values and gradients, unless not `solved`
        (a question sheet)."""
        ...


class _Network:
    saves = True

    def trace(self, spec: Spec, rounding: str | None = None, **options: Any) -> Any:
        return step(spec, rounding, **options)

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
        from .network import variants

        return variants.variants(spec, count, seed, rules, base)

    def questions(self, spec: Spec, ask: tuple[str, ...], records: Any = None) -> Any:
        from .network import sheet

        return None if records is None else sheet.questions(records, ask)

    def notes(self, spec: Spec, drawn: Any, seed: int, rules: Any, ask: tuple[str, ...]) -> Any:
        from .network import variants

        return variants.notes(spec, drawn, seed, rules, ask)

    def to_config(self, spec: Spec, header: str) -> str:
        from .network import save

        return save.to_config(spec, header)

    answers = "network"
    own_slips = False  # each activation's, the loss's and the optimizer's, named by teach

    def refuse_notation(self, book: str | None) -> None:
        return None  # every book (the lecture's, nielsen, hagan, mazur) names a network's rows

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
        from .network import statement

        inference = traced is not None and traced.inference
        return statement.problem(spec, epochs, inference)

    def diagram(self, spec: Spec, traced: Any = None, solved: bool = True) -> Any:
        from .network import statement

        return statement.diagram(spec, traced)  # a network's drawing gives, never solves


class _Graph:
    saves = False  # its trained parameters are in the table and the JSON's summary

    def trace(
        self,
        spec: Any,
        rounding: str | None = None,
        *,
        inference: bool = False,
        verify: bool = False,
        **_: Any,  # full, gradients: a graph's trace always shows every row
    ) -> Any:
        return trace_graph(spec, rounding, inference, verify)

    def train(
        self,
        spec: Any,
        epochs: int,
        picked: set[int],
        last: bool,
        *,
        until_loss: float | None = None,  # minimising f has no loss to stop at
        full: bool = False,
        gradients: bool | None = None,
        **options: Any,
    ) -> Any:
        return train_graph(spec, epochs, picked, last, **options)

    def steps(self, spec: Any, epochs: int, rounding: str | None, gradients: bool | None) -> Steps:
        return [(1, 1, trace_graph(spec, rounding).blocks, "")]  # one pass: no heading

    def samples(self, spec: Any) -> int:
        return 1

    def complete(self, solved: Any) -> Any:
        from .graph import slips  # start-up: only when a graph is marked

        spec = solved.spec
        rows = {line.key[2]: line.exact for line in solved.lines}
        lines = tuple(
            replace(line, slips=slips.slips(line.exact, rows, spec.output)) for line in solved.lines
        )
        # no `gradients:` in its answers file: `quiz --gradients` asks what check counts
        return replace(solved, lines=lines, rounds_gradients=True, gradients=False)

    # start-up: an exercise's modules load when a set is drawn, in each method below

    def variants(self, spec: Any, count: int, seed: int, rules: Any, base: str) -> Any:
        from .graph import variants

        return variants.variants(spec, count, seed, rules, base)

    def questions(self, spec: Any, ask: tuple[str, ...], records: Any = None) -> Any:
        from .graph import sheet

        return sheet.questions(trace_graph(spec), ask)  # its one pass tells: before any draw

    def notes(self, spec: Any, drawn: Any, seed: int, rules: Any, ask: tuple[str, ...]) -> Any:
        from .graph import variants

        return variants.notes(spec, drawn, seed, rules, ask)

    def to_config(self, spec: Any, header: str) -> str:
        from .graph import save

        return save.to_config(spec, header)

    answers = "graph"
    own_slips = True  # graph/slips.py's, attached to each row by `complete`

    def refuse_notation(self, book: str | None) -> None:
        if book is not None:  # no book (the lecture's, nielsen, hagan, mazur) names a graph's
            raise ConfigError(
                f"--notation {book}",
                None,
                None,
                "a computational graph's names are its own (no book renames them); --notation "
                "applies to layered networks: leave it out for a graph",
            )

    def quizzed(self, spec: Any, sample: int | None) -> str:
        if sample not in (None, 1):
            raise ConfigError(
                "--sample", None, None, f"{sample}: a computational graph has one pass (sample 1)"
            )
        return "forward, then backward"

    # ------------------------------------------------ its homework question (statement)
    # start-up: these load only when a page or a sheet is written

    def problem(self, spec: Any, traced: Any = None, epochs: int | None = None) -> Any:
        from .graph import statement

        return statement.problem(trace_graph(spec) if traced is None else traced, epochs)

    def diagram(self, spec: Any, traced: Any = None, solved: bool = True) -> Any:
        from .graph import statement

        return statement.diagram(trace_graph(spec) if traced is None else traced, solved)


MODELS: dict[str, Model] = {"network": _Network(), "graph": _Graph(), "model": Sequential()}


def model(spec: Any) -> Model:
    """The spec's model: what traces, trains and solves it."""
    from . import models  # a network's or a graph's: models tells them apart

    return MODELS[models.kind(spec)]
