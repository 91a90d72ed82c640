"""Every answer name is findable (issue 27, finding 3): a gradient's ASCII spellings (dE/dw36,
dEdw36, grad_w36) are read as ∂E/∂w36."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from conftest import NETWORKS

from backtrace_cli import api, models
from backtrace_cli.cli import cli
from backtrace_cli.definitions.notation import ascii_name, symbol_of
from backtrace_cli.solution import solve

# the week-5 homework of the issue: 2-3-3, tanh → softmax, cross-entropy, Adam, biases
X, T = [0.5, -0.2], [0.0, 1.0, 0.0]
W1 = [[0.1, 0.2], [0.3, -0.1], [-0.2, 0.4]]  # row = unit 3, 4, 5; column = unit 1, 2
W2 = [[0.3, -0.2, 0.1], [0.2, 0.1, -0.3], [-0.1, 0.4, 0.2]]  # row = unit 6, 7, 8
B1, B2 = [0.1, 0.1, 0.1], [0.0, 0.05, 0.0]
WEEK5 = f"""name: Week 5 (2-3-3, tanh → softmax, Adam)
layers: [2, 3, 3]
activations: [tanh, softmax]
loss: cross_entropy
learning_rate: 0.01
optimizer: adam
inputs: {X}
targets: {T}
weights: [{W1}, {W2}]
biases: [{B1}, {B2}]
"""


@pytest.fixture
def week5(tmp_path):
    path = tmp_path / "week5.yaml"
    path.write_text(WEEK5, encoding="utf-8")
    return path


def _week5_by_hand() -> dict[str, float]:
    """The forward pass and the output δ worked in numpy from the config (δ_k = t_k − o_k,
    the lecture's sign), and the gradients ∂E/∂w_jk = −δ_k·o_j, ∂E/∂b_k = −δ_k."""
    hidden = np.tanh(np.array(W1) @ X + B1)
    net = np.array(W2) @ hidden + B2
    out = np.exp(net) / np.exp(net).sum()
    delta = np.array(T) - out
    return {
        "o3": hidden[0],
        "∂E/∂w36": -delta[0] * hidden[0],
        "∂E/∂w57": -delta[1] * hidden[2],
        "∂E/∂b7": -delta[1],
    }


# ---------------------------------------------------------------- a gradient's spellings


@pytest.mark.parametrize("of", ["w36", "w9_12", "b3", "o5", "net5"])
@pytest.mark.parametrize("spelt", ["∂E/∂{}", "dE/d{}", "dEd{}", "grad_{}"])
def test_a_gradients_ascii_spellings_are_read_as_its_symbol(spelt, of):
    assert symbol_of(spelt.format(of)) == f"∂E/∂{of}"


@pytest.mark.parametrize("example", NETWORKS)
def test_every_symbol_of_a_networks_step_reads_back_from_its_ascii_spelling(example):
    for line in solve(models.load(example), 1, "3sf").lines:
        symbol = line.key[2]
        assert symbol_of(ascii_name(symbol)) == symbol
        assert ascii_name(symbol).isascii() or symbol.startswith(
            ("õ", "x̃")
        )  # dropout's, typed as printed


def test_a_chain_rule_factor_is_read_in_ascii_too():
    assert symbol_of("do5/dnet5") == "∂o5/∂net5"
    assert symbol_of("grad_x5") is None  # no such quantity: not a gradient of E


def test_check_marks_the_ascii_gradients_of_a_softmax_adam_network(runner, week5, tmp_path):
    by_hand = _week5_by_hand()
    path = tmp_path / "answers.yaml"
    path.write_text(
        f"exercise: {week5}\nanswers:\n  o3: {by_hand['o3']:.6f}\n"
        f"  dE/dw36: {by_hand['∂E/∂w36']:.6f}\n  dEdw57: {by_hand['∂E/∂w57']:.6f}\n"
        f"  grad_b7: {by_hand['∂E/∂b7']:.6f}\n",
        encoding="utf-8",
    )
    report = api.check(str(path))
    assert report["notes"] == []
    kinds = {a["symbol"]: a["kind"] for a in report["answers"]}
    assert kinds == {"o3": "right", "∂E/∂w36": "right", "∂E/∂w57": "right", "∂E/∂b7": "right"}


def test_the_gradebook_reads_the_ascii_gradients(runner, week5, tmp_path):
    by_hand = _week5_by_hand()
    student = tmp_path / "class" / "ada.yaml"
    student.parent.mkdir()
    student.write_text(
        f"student: Ada\nanswers:\n  grad_w36: {by_hand['∂E/∂w36']:.6f}\n", encoding="utf-8"
    )
    grades = tmp_path / "grades.csv"
    result = runner.invoke(
        cli,
        ["check", "--exercise", str(week5), str(student.parent), "--gradebook", str(grades)],
    )
    assert result.exit_code == 1  # its other questions are unanswered
    assert result.output == (
        f"Wrote {grades}: 1 file: 0 all right, 1 with a wrong or missing answer, 0 unreadable.\n"
    )
    (row,) = csv.DictReader(grades.open(encoding="utf-8-sig"))
    assert row["error"] == "" and row["note"] == ""
    assert row["∂E/∂w36"] == "right"


def test_a_quiz_session_file_takes_the_ascii_gradients(runner, tmp_path):
    """A session `quiz --gradients -o` wrote, with ∂E/∂w35 added by hand as dE/dw35: from the
    notes, ∂E/∂w35 = −δ5·o3 = 0.040681·0.680267."""
    session = tmp_path / "session.yaml"
    runner.invoke(cli, ["quiz", "lecture", "--gradients", "-o", str(session)], input="0.755\n")
    text = session.read_text(encoding="utf-8")
    assert "gradients: true" in text
    session.write_text(text + f"  dE/dw35: {0.040681 * 0.680267:.5f}\n", encoding="utf-8")
    report = api.check(str(session))
    assert {a["symbol"]: a["kind"] for a in report["answers"]} == {
        "net3": "right",
        "∂E/∂w35": "right",
    }
