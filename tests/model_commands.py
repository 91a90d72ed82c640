"""What the tests of a `model:` layer's torch arguments share (test_dilation_ceil_mode.py,
test_groups_divisor.py): a config written as a file, its step's rows and sections, a layer
alone under a linear of ones, the trace held to the values worked by hand, central
differences, a bad value's refusal (exit 2, file, line, field), a quiz answered with every
revealed value and an exercise's variants. The numbers expected are each test file's own."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from slips import assert_all_right

from backtrace_cli import api
from backtrace_cli.cli import cli


def written(tmp_path: Path, config: dict, name: str = "model.yaml") -> Path:
    """The config as a YAML file (each layer on one line, as a config writes it)."""
    path = tmp_path / name
    path.write_text(yaml.safe_dump(config, default_flow_style=None, sort_keys=False), "utf-8")
    return path


def rows(config: dict) -> dict[str, Any]:
    """Every row of the step by its symbol (y0[0,1], δ1[0,2], ∂E/∂w0[0,0,1])."""
    records = api.trace(config).records
    return {row.symbol: row for step in records.steps for _, row in step.equations()}


def values(config: dict) -> dict[str, float]:
    """Every row's value by its symbol."""
    return {symbol: row.value for symbol, row in rows(config).items()}


def alone(layer: dict, x: list, outputs: int, parameters: dict | None = None) -> dict:
    """`layer` first on input x, then flatten and a linear of ones: its rows' values."""
    config = {
        "model": [layer, "flatten", {"linear": {"in_features": outputs, "out_features": 1}}],
        "parameters": {**(parameters or {}), "2.weight": [[1.0] * outputs], "2.bias": [0.0]},
        "loss": "mse",
        "learning_rate": 0.1,
        "inputs": x,
        "targets": [0.0],
    }
    return values(config)


def assert_refused(runner: Any, tmp_path: Path, config: dict, at: int, key: str, problem: str):
    """`run` on the config, whose layer `at` has a bad `key`: exit 2 without a traceback,
    naming the file, the line of the key, the field (model[at].kind.key) and `problem`."""
    path = written(tmp_path, config)
    text = path.read_text(encoding="utf-8")
    line = 1 + next(n for n, row in enumerate(text.splitlines()) if f"{key}:" in row)
    result = runner.invoke(cli, ["run", str(path)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert f"model.yaml, line {line}," in result.output, result.output
    kind = next(iter(config["model"][at]))
    assert f"model[{at}].{kind}.{key}" in result.output, result.output
    assert problem in result.output.replace("\n", " "), result.output


def assert_quizzed_in_full(runner: Any, path: Path, tmp_path: Path) -> None:
    """`quiz` revealing every answer, then fed those answers: every one scored."""
    revealed = runner.invoke(cli, ["quiz", str(path)], input="!\n" * 600).output
    answers = [v.replace("−", "-") for v in re.findall(r"revealed: (\S+)", revealed)]
    typed = "\n".join(answers) + "\n"
    session = tmp_path / "session.yaml"
    result = runner.invoke(cli, ["quiz", str(path), "-o", str(session)], input=typed)
    assert answers and f"Score: {len(answers)} of {len(answers)}" in result.output


def exercised(runner: Any, tmp_path: Path, config: dict, seed: int) -> Iterator[tuple[dict, str]]:
    """`exercise` of two variants of the config: each variant's drawn config and its sheet."""
    source = tmp_path / "source.yaml"
    source.write_text(yaml.safe_dump(config), encoding="utf-8")
    folder = tmp_path / "set"
    args = ["exercise", str(source), "--variants", "2", "--seed", str(seed), "-o", str(folder)]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    for path in sorted((folder / "configs").glob("*.yaml")):
        sheet = (folder / "questions" / f"{path.stem}.md").read_text(encoding="utf-8")
        yield yaml.safe_load(path.read_text(encoding="utf-8")), sheet


def by_title(config: dict) -> dict[str, Any]:
    """The step's sections by title ("Forward · layer 1 (…)", "δ · into layer 1 (…)")."""
    step = api.trace(config).records.steps[0]
    return {section.title: section for section in step.sections}


def symbol(name: str) -> str:
    """An answers file's name as the trace writes it: delta0[0,1] → δ0[0,1], dE/dw0 → ∂E/∂w0."""
    return name.replace("delta", "δ").replace("dE/d", "∂E/∂")


def assert_traced_as_worked(config: dict, by_hand: dict[str, float]) -> None:
    """Every value worked by hand (more than 30 of them) is the trace's, to 1e-12, and `check`
    marks each right, typed as a student writes it."""
    traced = values(config)
    assert len(by_hand) > 30
    for key, value in by_hand.items():
        assert traced[symbol(key)] == pytest.approx(value, rel=1e-12, abs=1e-12), key
    assert_all_right(by_hand, config)


def central_differences(
    energy: Callable[[np.ndarray], float], array: np.ndarray, h: float = 1e-4
) -> Iterator[tuple[str, float]]:
    """Each entry of `array` (its index written "0,1,2") and [E(· + h) − E(· − h)]/2h,
    `energy` E of the array with that entry moved."""
    for index in np.ndindex(*array.shape):
        energies = []
        for step in (h, -h):
            moved = array.copy()
            moved[index] += step
            energies.append(energy(moved))
        yield ",".join(map(str, index)), (energies[0] - energies[1]) / (2 * h)
