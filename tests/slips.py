"""What the tests of a `model:`'s named slips share (test_model_slips*.py): answers written as
a student types them, marked by `check`, verdicts by the name (and sample) the answers gave,
and the entries a slip clearly changes. The values themselves are each test's own, worked with
numpy in the test, never read from the program's trace."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from backtrace_cli import api

Values = dict[str, float]


def written(values: Values) -> dict[str, str]:
    """Each value as a student types it, to 6 significant figures."""
    return {name: f"{value:.6g}" for name, value in values.items()}


def verdicts(answers: dict[str, str], config: dict) -> dict[str, Any]:
    """Each answer's verdict under the name the answers file gave it (one sample's step)."""
    return {v.answer.name: v for v in api.check_report(answers, config).answered}


def batch_verdicts(answers: dict[int, dict[str, str]], config: dict) -> dict[tuple[int, str], Any]:
    """Each answer's verdict by (sample, name), the answers given by sample from 1."""
    sheet: dict[str, Any] = {"answers": answers[1]}
    sheet["samples"] = {n: given for n, given in answers.items() if n > 1}
    return {(v.sample, v.answer.name): v for v in api.check_report(sheet, config).answered}


def clearly_changed(right: Values, slipped: Values, prefix: str) -> Iterable[str]:
    """The entries named `prefix…` whose slipped value is clearly not the right one (by 5% of
    1 + |right|, far beyond the 6 figures written)."""
    for name, value in right.items():
        if name.startswith(prefix) and abs(slipped[name] - value) > 0.05 * (1 + abs(value)):
            yield name


def one_changed(right: Values, slipped: Values, prefix: str) -> str | None:
    """The first entry named `prefix…` the slip clearly changes, or None."""
    return next(iter(clearly_changed(right, slipped, prefix)), None)


def slip_named_there_alone(got: dict[Any, Any], at: Any, name: str) -> None:
    """The slipped answer `at` is wrong and given the slip's name; no other answer is given any
    named mistake."""
    assert got[at].kind == "wrong", (at, got[at].kind)
    assert name in got[at].mistakes, got[at].diagnosis
    elsewhere = [(n, v.mistakes) for n, v in got.items() if n != at and v.mistakes]
    assert not elsewhere


def all_right_and_nothing_named(got: dict[Any, Any], count: int) -> None:
    """Every one of `count` answers is marked right, and no mistake is named anywhere."""
    assert len(got) == count  # every answer marked, under the name it was given
    wrong = [(n, v.kind, v.diagnosis) for n, v in got.items() if v.kind != "right"]
    assert not wrong
    assert not any(v.mistakes for v in got.values())
