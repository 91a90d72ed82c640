"""The Python API, for notebooks and programs — and what the command line itself calls.

    >>> import backtrace_cli as bt
    >>> worked = bt.trace("lecture")             # one step, fully traced
    >>> worked                                    # in Jupyter: the homework markdown
    >>> worked.records.steps[0].layers[1].delta   # the numbers, as arrays
    >>> bt.train("xor", epochs=2000, trace=["last"]).markdown()
    >>> bt.check({"o5": 0.69, "delta5": -0.0406}, "lecture")["summary"]

A source is a built-in example's name, a path to a YAML file, a dict with the config's keys,
or an already loaded `Spec`. Bad input raises `ConfigError` with the same message the CLI
prints.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from . import tracing
from .core.errors import ConfigError, cut, quote
from .tracing import Source, load

__all__ = ["ConfigError", "Worked", "check", "check_report", "load", "trace", "train"]


def _in_notation(spec: Any, notation: str | None) -> Any:
    """The spec in a textbook's notation (ConfigError for a name that is not one, and for
    any with a computational graph, whose names are its own)."""
    if notation is None:
        return spec
    tracing.model(spec).refuse_notation(notation)
    from dataclasses import replace  # start-up: only when --notation is given

    from .definitions.notations import NAMES

    if notation not in NAMES:
        raise ConfigError(
            "<notation>", None, "notation", f"{notation!r}: use one of {', '.join(NAMES)}"
        )
    return replace(spec, notation=notation)


@dataclass(frozen=True, eq=False)
class Worked:
    """A traced result: `records` holds every number; it shows itself as markdown in Jupyter.

    `records` is a `records.Trace` (one step) or a `history.TrainingTrace` (epochs).
    """

    records: Any
    decimals: int | None = None

    @property
    def rounding(self) -> str | None:
        return self.records.rounding

    def text(self, fmt: str = "markdown") -> str:
        """The trace as `markdown`, `json` or `table` (plain text, no colour)."""
        from . import render  # start-up: the renderers load when a trace is drawn

        return render.text(self.records, fmt, render.number_format(self.decimals, self.rounding))

    def markdown(self) -> str:
        return self.text("markdown")

    def json(self) -> dict[str, Any]:
        import json  # start-up: only for this call

        return json.loads(self.text("json"))

    def _repr_markdown_(self) -> str:
        return self.markdown()

    def __str__(self) -> str:
        return self.text("table")


MAX_TRACED = 100  # epochs shown in full: each is pages of equations, and costs its records


def picks(items: Iterable[int | str], epochs: int) -> tuple[set[int], bool, bool]:
    """Epochs to trace in full — 2, "1-3", "first", "last", "all" → (epochs, last, all).

    Checked against `epochs` before any set is built: a range is refused by its ends, so
    "1-999999999999" costs nothing. Raises ValueError naming what is not an epoch."""
    picked: set[int] = set()
    last = everything = False
    valid = f"trace epochs from 1 to {epochs:,} (--epochs)"
    for item in items:
        part = str(item).strip()
        if part == "last":
            last = True
        elif part == "all":
            everything = True
            if epochs > MAX_TRACED:
                raise ValueError(
                    f"all is {epochs:,} epochs in full; at most {MAX_TRACED} are traced — pick "
                    "some (1,2,50 or 1-3, first, last); the table has a row for the others"
                )
            picked.update(range(1, epochs + 1))
        elif part == "first":
            picked.add(1)
        elif _RANGE.fullmatch(part):
            a, b = sorted(_epoch(p, part, epochs, valid) for p in part.split("-"))
            a = max(a, 1)
            if b - a + 1 > MAX_TRACED:
                raise ValueError(
                    f"{part} is {b - a + 1:,} epochs in full; at most {MAX_TRACED} are traced"
                )
            picked.update(range(a, b + 1))
        elif _NUMBER.fullmatch(part) and part.strip("0"):
            picked.add(_epoch(part, part, epochs, valid))
        else:
            raise ValueError(
                f"{quote(part)} is not an epoch; use numbers from 1 and ranges (1,2,50 or 1-3), "
                "first, last or all"
            )
        if len(picked) > MAX_TRACED:
            raise ValueError(f"{len(picked):,} epochs in full; at most {MAX_TRACED} are traced")
    return picked, last, everything


_NUMBER = re.compile(r"[0-9]+")
_RANGE = re.compile(r"[0-9]+-[0-9]+")


def _epoch(digits: str, part: str, epochs: int, valid: str) -> int:
    """One epoch number of `part`, refused past `epochs` by its length before int() reads it."""
    digits = digits.lstrip("0") or "0"
    if len(digits) > len(str(epochs)) or int(digits) > epochs:
        raise ValueError(f"{cut(part)} goes past epoch {epochs:,}, the last one; {valid}")
    return int(digits)


def trace(
    source: Source = None,
    *,
    rounding: str | None = None,
    decimals: int | None = None,
    full: bool = False,
    gradients: bool | None = None,
    inference: bool = False,
    verify: bool = False,
    notation: str | None = None,
) -> Worked:
    """One training step (one epoch over several samples), every equation traced.

    `rounding`: "3sf" or "4dp", carried as a student does by hand; `inference`: in torch's
    eval mode, without dropout or update (`run --eval`: a network's forward pass and loss, a
    model's δ and gradients too); `notation`: a textbook's
    symbols and δ sign ("nielsen", "hagan", "mazur"; default the config's, else the lecture's)."""
    spec = _in_notation(load(source), notation)
    model = tracing.model(spec)
    built = model.trace(
        spec, rounding, full=full, gradients=gradients, inference=inference, verify=verify
    )
    return Worked(built, decimals)


def train(
    source: Source = None,
    epochs: int = 100,
    *,
    trace: Iterable[int | str] = (),
    until_loss: float | None = None,
    rounding: str | None = None,
    decimals: int | None = None,
    full: bool = False,
    gradients: bool | None = None,
    every: int | None = None,
    all_epochs: bool = False,
    progress: Callable[[int], None] | None = None,
    verify: bool = False,
    notation: str | None = None,
    inference: bool = False,
) -> Worked:
    """`epochs` epochs of training; `trace` picks epochs shown in full: numbers, "first",
    "last" or "all". The result's `records.final` is the trained network. `inference`: in
    torch's eval mode (`step --eval`: a model's dropout drops nothing, its batch norm uses its
    running statistics and does not move them)."""
    import math  # start-up: only for `train`

    if until_loss is not None and not (math.isfinite(until_loss) and until_loss > 0):
        raise ConfigError(
            "--until-loss", None, None, f"{until_loss} is not a positive finite number"
        )
    spec = _in_notation(load(source), notation)
    picked, last, _ = picks(trace, epochs)
    built = tracing.model(spec).train(
        spec,
        epochs,
        picked,
        last,
        until_loss=until_loss,
        rounding=rounding,
        full=full,
        gradients=gradients,
        every=every,
        all_epochs=all_epochs,
        progress=progress,
        verify=verify,
        inference=inference,
    )
    return Worked(built, decimals)


def check_report(
    answers: Any,
    config: Source = None,
    *,
    rounding: str | None = None,
    notation: str | None = None,
) -> Any:
    """Mark answers into a `check.Report` (see `check.check_report`)."""
    from .teach import check as marking  # the marking modules load here, not for --help

    return marking.check_report(answers, config, rounding=rounding, notation=notation)


def check(
    answers: Any,
    config: Source = None,
    *,
    rounding: str | None = None,
    notation: str | None = None,
) -> dict[str, Any]:
    """Mark answers: the report `backtrace check --format json` prints, as a dict (its
    `answers` have each verdict, `unanswered` the questions left out, `summary` the mark).
    `notation`: the textbook whose names the answers use (wins over the file's)."""
    from .teach import check as marking  # start-up: marking loads when it marks

    return marking.as_dict(check_report(answers, config, rounding=rounding, notation=notation))
