"""What the tests of a `model:`'s named slips share (test_model_slips*.py): answers written as
a student types them, marked by `check`, and the tests every slip gets on random models
(`RandomModels`). The values themselves are each test file's own, worked there with numpy,
never read from the program's trace."""

from __future__ import annotations

from typing import Any

import pytest

from backtrace_cli import api


def entries(arrays: dict[str, Any]) -> dict[str, float]:
    """Each array's entries by the names an answers file gives them: {"y0": [[a, b]]} →
    {"y0[0,0]": a, "y0[0,1]": b}."""
    import numpy as np

    out: dict[str, float] = {}
    for name, array in arrays.items():
        for index in np.ndindex(*np.shape(array)):
            out[f"{name}[{','.join(map(str, index))}]"] = float(np.asarray(array)[index])
    return out


def written(values: dict[str, float]) -> dict[str, str]:
    """Each value as a student types it, to 6 significant figures."""
    return {key: f"{value:.6g}" for key, value in values.items()}


def verdicts(answers: dict[str, str], config: dict) -> dict[str, Any]:
    """Each answer's verdict under the name the answers file gave it. A model's answers file
    answers sample 1's step, and the batch's rows wherever they are (its averaged gradients)."""
    return {v.answer.name: v for v in api.check_report(answers, config).answered}


def one_changed(right: dict[str, float], slipped: dict[str, float], prefix: str) -> str | None:
    """The first entry of `prefix`'s whose slipped value is clearly not its right one (by 5%
    of 1 + |right|, far beyond the 6 figures written), or None."""
    for key, value in right.items():
        if key.startswith(prefix) and abs(slipped[key] - value) > 0.05 * (1 + abs(value)):
            return key
    return None


def above_the_pool(config: dict, y1: Any) -> tuple[dict[str, Any], float]:
    """A conv → pool → flatten → linear (layer 3) model under mse, worked with numpy above
    the pool's output y1: the arrays an answers file names there — y1, y3, δ3 = (2/n)(t − y3)
    (−∂E/∂y3 for the mean of squares), δ1 = W3ᵀ·δ3 shaped as y1, the linear's gradients —
    and E, the mean of the squared errors."""
    import numpy as np

    w3, b3 = (np.array(config["parameters"][f"3.{key}"]) for key in ("weight", "bias"))
    t = np.array(config["targets"])
    y3 = w3 @ y1.reshape(-1) + b3
    d3 = (2 / len(t)) * (t - y3)
    arrays = {"y1": y1, "y3": y3, "delta3": d3, "delta1": (w3.T @ d3).reshape(y1.shape)}
    arrays |= {"dE/dw3": -np.outer(d3, y1.reshape(-1)), "dE/db3": -d3}
    return arrays, float(np.mean((y3 - t) ** 2))


def assert_all_right(values: dict[str, float], config: dict) -> None:
    """Every value, written as a student types it, is marked right."""
    answers = written(values)
    got = verdicts(answers, config)
    assert len(got) == len(answers)
    assert not [(key, v.kind, v.diagnosis) for key, v in got.items() if v.kind != "right"]


def assert_slip_named(
    right: dict[str, float], slipped: dict[str, float], prefix: str, mistake: str, config: dict
) -> None:
    """The first entry of `prefix`'s that the slip changes (`one_changed`), answered as
    slipped among the right rest, is wrong and named `mistake`."""
    at = one_changed(right, slipped, prefix)
    assert at is not None, prefix
    got = verdicts(written(right) | {at: f"{slipped[at]:.6g}"}, config)
    assert got[at].kind == "wrong" and mistake in got[at].mistakes, got[at].diagnosis


class RandomModels:
    """The tests each named slip gets on random models: every answer right is right and names
        nothing; one entry slipped is named there and nowhere else; each slip changes an entry on
        most seeds (so the skips hide nothing); a value wrong another way gets no slip's name. A
    layer whose answers file is long to mark (2-D, batch norm) samples fewer seeds.

        A test class for a layer's slips gives `config(seed)`, a random model's config;
        `worked(config, slip)`, every answer worked by hand, "" right, or with `slip` made at each
        entry it changes (from the right values of the rest); `cases`, (slip, the prefix of the
        entries it is made at, the name `check` gives it); `elsewhere`, groups of entries (each
        the first of its prefix: "delta0[" the first δ0, "y0[0,0]" that one) made wrong by 0.37
        together (no entry of a group read by another's row, so that none is wrong by a slip
        made from another's wrong value)."""

    seeds = range(8)
    cases: tuple[tuple[str, str, str], ...] = ()
    elsewhere: tuple[tuple[str, ...], ...] = ()

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        cases = [pytest.param(case, id=f"{case[0]}-{case[1]}") for case in self.cases]
        groups = [pytest.param(group, id=",".join(map(str, group))) for group in self.elsewhere]
        given = {"seed": list(self.seeds), "case": cases, "group": groups}
        for argument, values in given.items():
            if argument in metafunc.fixturenames:
                metafunc.parametrize(argument, values)

    @staticmethod
    def config(seed: int) -> dict:
        raise NotImplementedError

    @staticmethod
    def worked(config: dict, slip: str = "") -> dict[str, float]:
        raise NotImplementedError

    @property
    def names(self) -> set[str]:
        return {name for *_, name in self.cases}

    def test_every_answer_right_is_right_and_names_nothing(self, seed: int) -> None:
        config = self.config(seed)
        answers = written(self.worked(config))
        got = verdicts(answers, config)
        assert len(got) == len(answers)  # every answer marked, under the name it was given
        assert not [(key, v.kind, v.diagnosis) for key, v in got.items() if v.kind != "right"]
        assert not any(v.mistakes for v in got.values())

    def test_a_slip_at_one_entry_is_named_there_and_nowhere_else(self, seed: int, case) -> None:
        slip, prefix, name = case
        config = self.config(seed)
        right, slipped = self.worked(config), self.worked(config, slip)
        at = one_changed(right, slipped, prefix)
        if at is None:  # this seed has no entry the slip changes: the next test counts them
            pytest.skip("no entry whose slipped value differs")
        got = verdicts(written(right) | {at: f"{slipped[at]:.6g}"}, config)
        assert got[at].kind == "wrong", (at, got[at].kind)
        assert name in got[at].mistakes, got[at].diagnosis
        assert not [(key, v.mistakes) for key, v in got.items() if key != at and v.mistakes]

    def test_most_seeds_have_an_entry_each_slip_changes(self) -> None:
        # the skips above hide no failure: at least ¾ of the seeds are marked for each slip
        configs = [self.config(seed) for seed in self.seeds]
        for slip, prefix, _ in self.cases:
            changed = [one_changed(self.worked(c), self.worked(c, slip), prefix) for c in configs]
            assert 4 * sum(at is not None for at in changed) >= 3 * len(configs), (slip, prefix)

    def test_values_wrong_in_another_way_are_given_no_slips_name(self, seed: int, group) -> None:
        # each entry of the group off by 0.37 (no slip's value), in one answers file
        config = self.config(seed)
        right = self.worked(config)
        entries = [next(key for key in right if key.startswith(prefix)) for prefix in group]
        answers = written(right) | {at: f"{right[at] + 0.37:.6g}" for at in entries}
        got = verdicts(answers, config)
        for at in entries:
            assert got[at].kind == "wrong" and not self.names & set(got[at].mistakes), at
