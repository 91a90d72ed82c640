"""`--verify`: each gradient beside a central finite difference of the loss, computed through
the engine's forward pass; it must agree on correct gradients and catch a wrong one."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from test_markdown import random_config

import backtrace_cli as bt
from backtrace_cli.cli import cli
from backtrace_cli.network import config, engine, records


@pytest.mark.parametrize("seed", range(30))
def test_verify_agrees_on_random_networks(seed):
    data = random_config(seed)
    data["samples"] = [
        {"inputs": data.pop("inputs"), "targets": data.pop("targets")},
        {"inputs": [0.3] * data["layers"][0], "targets": [0.1] * data["layers"][-1]},
    ]
    data["mode"] = ["online", "batch"][seed % 2]
    worked = bt.trace(data, verify=True)
    sections = [s for step in worked.records.steps for s in step.sections if s.kind == "verify"]
    assert len(sections) == (2 if data["mode"] == "online" else 1)
    for section in sections:
        # relu kinks aside (none here: random weights, three decimals), every check agrees
        assert section.note.startswith("All "), section.note
        parameters = sum(np.size(w) for w in data["weights"]) + sum(
            np.size(b) for b in data.get("biases", [])
        )
        assert len(section.rows) == parameters


def test_verify_catches_a_wrong_gradient():
    """Feed the check an update whose ∂E/∂w35 is off by 1%: it must say so."""
    spec = config.load("lecture")
    done = engine.epoch(spec).updates[0]
    out = done.layers[1]
    wrong = out.gradient.copy()
    wrong[0, 0] *= 1.01
    broken = dataclasses.replace(
        done, layers=(done.layers[0], dataclasses.replace(out, gradient=wrong))
    )
    checks = engine.check_gradients(spec, broken, spec.weights, spec.biases)
    bad = [c for c in checks if not c.agrees]
    assert [(c.layer, c.index) for c in bad] == [(1, (0, 0))]
    assert bad[0].difference == pytest.approx(0.01 / 1.01, rel=1e-4)
    section = records._verification(spec, checks)
    assert section.note.startswith("1 of 6 gradients DISAGREE")
    assert "∂E/∂w35" in section.note


def test_verify_numbers_are_the_lecture_gradients(runner):
    """∂E/∂w45 = −δ5·o4 = 0.040681·0.663739 (the notes' numbers), from both sides."""
    doc = bt.trace("lecture", verify=True).json()
    rows = {
        e["symbol"]: e["value"] for e in doc["steps"][0]["equations"] if e["section"] == "verify"
    }
    assert rows["∂E/∂w45"] == pytest.approx(0.040681 * 0.663739, rel=1e-4)
    result = runner.invoke(cli, ["run", "--verify"])
    assert result.exit_code == 0
    assert "All 6 gradients agree with central finite differences" in result.output


def test_verify_with_dropout_uses_the_steps_masks():
    worked = bt.trace("lecture_dropout", verify=True)
    verify = next(s for s in worked.records.steps[0].sections if s.kind == "verify")
    values = {row.symbol: row.value for row in verify.rows}
    assert values["∂E/∂w14"] == 0 and values["∂E/∂w45"] == 0  # dropped unit 4: no effect
    assert verify.note.startswith("All 6")


def test_verify_refuses_hand_rounding_and_eval(runner):
    for extra in (["--round", "3sf"], ["--eval"]):
        result = runner.invoke(cli, ["run", "--verify", *extra])
        assert result.exit_code == 2 and "--verify" in result.output


def test_step_verifies_its_traced_epochs(runner):
    result = runner.invoke(cli, ["step", "xor", "-n", "3", "--trace", "2", "--verify"])
    assert result.exit_code == 0
    assert result.output.count("gradients agree with central finite differences") == 4


def test_verify_refuses_networks_too_big_to_check_one_by_one(runner, tmp_path):
    path = tmp_path / "wide.yaml"
    path.write_text(
        "layers: [2, 3000, 1]\nactivation: sigmoid\nlearning_rate: 0.1\ninputs: [0.35, 0.9]\n"
        "targets: [0.5]\nweights: {init: glorot_uniform, seed: 1}\n"
    )
    result = runner.invoke(cli, ["run", str(path), "--verify"])
    assert result.exit_code == 2
    assert "this network has 9,000 and the limit is 5,000" in result.output  # 2·3000 + 3000·1
