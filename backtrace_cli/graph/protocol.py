"""A computational graph as a model of `tracing.Model`: its one pass traced (`run`), gradient
descent on its parameters (`step`), its named slips attached to the worked solution.

Imported at start-up by `tracing`: the graph's engine and rows load inside the functions that
need them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from ..core.errors import ConfigError
from ..network.protocol import Steps, carry, verifiable


def graph_carry(rounding: str | None) -> Any:
    """The scalar carry of a graph: the identity, or `--round`'s rounding of one number."""
    from . import config as graph

    if not rounding:
        return graph.exact
    return carry(rounding)  # a `Carrier` rounds a single number too


def trace_graph(
    spec: Any, rounding: str | None = None, inference: bool = False, verify: bool = False
) -> Any:
    """`run` on a computational graph: forward, backward, ∂f/∂input, one update."""
    from . import config as graph
    from . import trace as graphtrace

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
    from ..network import history
    from . import config as graph
    from . import trace as graphtrace

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


class _OwnNames:
    """A graph's names in every notation: its own."""

    @staticmethod
    def symbol(name: str) -> str:
        return name


class Graph:
    """A computational graph as a model of `tracing.Model`."""

    saves = False  # its trained parameters are in the table and the JSON's summary

    def json_in_full(self, spec: Any) -> bool:
        return True  # a graph's few nodes: every row always

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
        inference: bool = False,
        **options: Any,
    ) -> Any:
        if inference:
            raise ConfigError(
                "--eval",
                None,
                None,
                "trains a model in torch's eval mode (dropout off, batch norm's running "
                "statistics); a computational graph has neither: `step` without --eval "
                "trains it, and `run --eval` traces its forward pass",
            )
        return train_graph(spec, epochs, picked, last, **options)

    def steps(self, spec: Any, epochs: int, rounding: str | None, gradients: bool | None) -> Steps:
        return [(1, 1, trace_graph(spec, rounding).blocks, "")]  # one pass: no heading

    def samples(self, spec: Any) -> int:
        return 1

    def complete(self, solved: Any) -> Any:
        from . import slips  # start-up: only when a graph is marked

        spec = solved.spec
        rows = {line.key[2]: line.exact for line in solved.lines}
        lines = tuple(
            replace(line, slips=slips.slips(line.exact, rows, spec.output)) for line in solved.lines
        )
        # no `gradients:` in its answers file: `quiz --gradients` asks what check counts
        return replace(solved, lines=lines, rounds_gradients=True, gradients=False)

    # start-up: an exercise's modules load when a set is drawn, in each method below

    def variants(self, spec: Any, count: int, seed: int, rules: Any, base: str) -> Any:
        from . import variants

        return variants.variants(spec, count, seed, rules, base)

    def questions(self, spec: Any, ask: tuple[str, ...], records: Any = None) -> Any:
        from . import sheet

        return sheet.questions(trace_graph(spec), ask)  # its one pass tells: before any draw

    def notes(self, spec: Any, drawn: Any, seed: int, rules: Any, ask: tuple[str, ...]) -> Any:
        from . import variants

        return variants.notes(spec, drawn, seed, rules, ask)

    def to_config(self, spec: Any, header: str) -> str:
        from . import save

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

    def renamer(self, spec: Any) -> Any:
        return _OwnNames()  # no book renames a graph's

    def marked(self, spec: Any) -> tuple[str, ...]:
        return ()  # no eval mode

    def quizzed(self, spec: Any, sample: int | None) -> str:
        if sample not in (None, 1):
            raise ConfigError(
                "--sample", None, None, f"{sample}: a computational graph has one pass (sample 1)"
            )
        return "forward, then backward"

    # ------------------------------------------------ its homework question (statement)
    # start-up: these load only when a page or a sheet is written

    def problem(self, spec: Any, traced: Any = None, epochs: int | None = None) -> Any:
        from . import statement

        return statement.problem(trace_graph(spec) if traced is None else traced, epochs)

    def diagram(self, spec: Any, traced: Any = None, solved: bool = True) -> Any:
        from . import statement

        return statement.diagram(trace_graph(spec) if traced is None else traced, solved)
