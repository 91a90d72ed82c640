"""A `model:` of tensor layers as a model of `tracing.Model`: traced, trained and solved as
every model is (its rows are a worked solution), saved back under torch's state-dict names.

Imported at start-up by `tracing`: numpy and the engine load inside the methods."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from ..core.errors import ConfigError

MAX_TRACE_SAMPLES = 100  # samples a traced step shows in full: each is pages of equations


def _carry(rounding: str | None) -> Any:
    from ..network import engine

    if not rounding:
        return engine.exact
    from ..core.rounding import carrier, parse

    parsed = parse(rounding)
    if parsed is None:
        raise ConfigError(rounding, None, "rounding", "use e.g. 3sf or 4dp")
    return carrier(f"{parsed[0]}{parsed[1]}", False, False)


def _diverged(spec: Any, loss: float) -> None:
    import math

    if not math.isfinite(loss):
        raise ConfigError(
            spec.source,
            None,
            None,
            "the numbers overflow; the step diverges — use a smaller learning_rate, "
            "parameters or inputs",
        )


def trace(
    spec: Any,
    rounding: str | None = None,
    *,
    inference: bool = False,
    verify: bool = False,
    full: bool = False,
    **_: Any,
) -> Any:
    import numpy as np

    from . import model_trace

    if len(spec.samples) > MAX_TRACE_SAMPLES:
        raise ConfigError(
            spec.source,
            None,
            "samples",
            f"{len(spec.samples):,} samples; a traced step shows at most {MAX_TRACE_SAMPLES}",
        )
    if verify and rounding:
        raise ConfigError("--verify", None, None, "checks exact gradients: leave out --round")
    with np.errstate(all="ignore"):
        # eval mode's δ and gradients, without an update (`step --eval` updates)
        carried = _carry(rounding)
        built = model_trace.build(
            spec, carried, rounding, verify, inference, full=full, update=not inference
        )
    _diverged(spec, built.steps[-1].loss if inference else built.loss_after)
    return _in_notation(built)


def _in_notation(built: Any) -> Any:
    """A traced epoch in its spec's textbook notation (the lecture's: as it is)."""
    from .model_notation import renamed

    return renamed(built)


def train(
    spec: Any,
    epochs: int,
    picked: set[int],
    last: bool,
    *,
    until_loss: float | None = None,
    rounding: str | None = None,
    full: bool = False,
    progress: Callable[[int], None] | None = None,
    verify: bool = False,
    inference: bool = False,
    **_: Any,
) -> Any:
    """`epochs` epochs of training, the `picked` ones traced; `inference`: in torch's eval
    mode (`step --eval`: nothing dropped, batch norm with its running statistics, which do
    not move), the parameters updated from its gradients."""
    import numpy as np

    from . import model_trace

    carry = _carry(rounding)
    rows, traces = [], []
    current = spec
    reason = ""
    with np.errstate(all="ignore"):
        for epoch in range(1, epochs + 1):
            shown = epoch in picked or (last and epoch == epochs)
            built = model_trace.build(
                current,
                carry,
                rounding,
                verify and epoch == 1,
                inference,
                epoch=epoch,
                sections=shown,
                full=full,
            )
            if shown:
                traces.append(_in_notation(built))
            loss = float(np.mean([s.loss for s in built.steps]))
            rows.append(model_trace.EpochRow(epoch, loss, built.loss_after))
            _diverged(spec, built.loss_after)
            current = built.after
            if progress is not None:
                progress(1)
            if until_loss is not None and loss < until_loss:
                reason = f"loss {loss:.6g} < {until_loss:g} after epoch {epoch}"
                if last and not shown:
                    traces.append(_in_notation(built))
                break
    # the epochs run count on: a saved model's next `step` draws the next epoch's masks and
    # order (each epoch's spec kept the start's count, as a network's training does)
    final = replace(current, epochs_done=spec.epochs_done + len(rows))
    return model_trace.ModelTraining(
        spec, rounding, tuple(rows), tuple(traces), final, epochs, reason, inference
    )


class Sequential:
    """What `tracing.Model` asks of a model, for a `model:` of tensor layers."""

    saves = True

    trace = staticmethod(trace)

    def json_in_full(self, spec: Any) -> bool:
        from .parameters import JSON_IN_FULL  # start-up: the rows load for a trace only

        return bool(spec.parameter_count <= JSON_IN_FULL)  # its tensors by state-dict name

    def train(self, spec: Any, epochs: int, picked: set[int], last: bool, **options: Any) -> Any:
        return train(spec, epochs, picked, last, **options)

    def steps(
        self, spec: Any, epochs: int, rounding: str | None, gradients: bool | None
    ) -> list[Any]:
        # every term of every sum: marking reads the rows (a page leaves a long sum's out)
        if epochs == 1:
            traces = [trace(spec, rounding, full=True)]
        else:
            every = set(range(1, epochs + 1))
            traces = list(train(spec, epochs, every, False, rounding=rounding, full=True).traces)
        return [(s.epoch, s.sample, s.sections, s.heading) for built in traces for s in built.steps]

    def samples(self, spec: Any) -> int:
        return len(spec.samples)

    def complete(self, solved: Any) -> Any:
        """Each row's named slips (its layer's, `layers.tensor.row(slips=…)`) as `Line.slips`:
        templates over the trace's names, marked as a traced row is."""
        from ..definitions import notations
        from .layers.tensor import slip_template

        # δ of the other sign (−∂E/∂y for +∂E/∂y, or back), on every δ row, as a network's
        sign = notations.get(getattr(solved.spec, "notation", None)).sign_mistake

        def slips(line: Any) -> Any:
            epoch, sample, _ = line.key
            row = line.exact
            given = row.values()

            def known(name: str) -> bool:
                # a batch's operands carry their sample: δ0[0,1]⁽2⁾ is sample 2's δ0[0,1]
                base, tag, number = name.rstrip("⁾").partition("⁽")
                key = (epoch, int(number), base) if tag else (epoch, sample, name)
                return name in given or key in solved.index

            own = tuple((s.name, slip_template(s, known)) for s in row.slips)
            # a book's trace names it already, on every row its sign negates (∂C/∂a^2 too)
            written = any(s.name == sign for s in row.slips)
            delta = row.symbol.startswith("δ") and not written
            return own + (((sign, f"−({row.formula})"),) if delta else ())

        lines = tuple(
            replace(line, slips=slips(line))
            if line.exact.slips or line.exact.symbol.startswith("δ")
            else line
            for line in solved.lines
        )
        return replace(
            solved,
            lines=lines,
            rounds_gradients=True,
            gradients=False,
            notation=solved.spec.notation,  # its rows' names: a book's, or torch's
        )

    # start-up: an exercise's modules load when a set is drawn, in each method below

    def variants(self, spec: Any, count: int, seed: int, rules: Any, base: str) -> Any:
        from . import model_variants

        return model_variants.variants(spec, count, seed, rules, base)

    def questions(self, spec: Any, ask: tuple[str, ...], records: Any = None) -> Any:
        from . import model_names

        return model_names.questions(trace(spec, full=True) if records is None else records, ask)

    def notes(self, spec: Any, drawn: Any, seed: int, rules: Any, ask: tuple[str, ...]) -> Any:
        from . import model_variants

        return model_variants.notes(spec, drawn, seed, rules, ask)

    def to_config(self, spec: Any, header: str) -> str:
        from . import save

        return save.to_config(spec, header)

    answers = "model"  # its answers are named as its rows are: y0[0,1], dE/dw0[0,0,1]
    own_slips = True  # each tensor layer's, on its rows, attached by `complete`

    def refuse_notation(self, book: str | None) -> None:
        """Every book names a model's rows (`model_notation`)."""

    def renamer(self, spec: Any) -> Any:
        from .model_notation import notation

        return notation(spec)

    def marked(self, spec: Any) -> tuple[str, ...]:
        """Marking's mode, said where eval mode computes otherwise: the training pass."""
        from .layers.model_kinds import IN_TRAINING

        said = (IN_TRAINING[x.kind](x) for x in spec.layers if x.kind in IN_TRAINING)
        kinds = list(dict.fromkeys(text for text in said if text))
        if not kinds:
            return ()
        return (
            f"marked in training mode, as `run` traces it ({', '.join(kinds)}); eval mode "
            "(`--eval`) is traced, not marked",
        )

    def quizzed(self, spec: Any, sample: int | None) -> str:
        count = len(spec.samples)
        if sample is not None and not 1 <= sample <= count:
            raise ConfigError(
                "--sample", None, None, f"{sample} is not a sample of {spec.source}; it has {count}"
            )
        return (
            f"epoch 1 · sample {sample or 1} of {count}"
            if sample or count == 1
            else f"epoch 1 · {count} samples"
        )

    def problem(self, spec: Any, traced: Any = None, epochs: int | None = None) -> Any:
        from . import model_statement

        inference = traced is not None and traced.inference
        update = traced is None or traced.updated  # `run --eval`'s: its gradients alone
        return model_statement.problem(spec, epochs, inference, update)

    def diagram(self, spec: Any, traced: Any = None, solved: bool = True) -> Any:
        from . import model_statement

        return model_statement.diagram(spec)
