"""The δ of an rnn's given initial state h0 (issue #28): torch's h0.grad when h0 requires grad,
with the lecture's sign, δh[−1,j] = −∂E/∂h0[j] = Σ_k w_hh[k,j]·δnet[0,k], one row per layer,
direction and unit. Every expected number comes from outside the program: a one-unit rnn of
two steps worked in the test, random models worked by hand (tests/rnn_by_hand.py) and central
finite differences of the loss with respect to h0."""

from __future__ import annotations

import copy
import json
import math

import pytest
import rnn_by_hand
import yaml
from model_commands import exercised
from test_rnn_stacked import _random

from backtrace_cli import api
from backtrace_cli.cli import cli
from backtrace_cli.network.model_names import typed

# one unit, two steps, from a given h0 = 0.4: h[t] = tanh(a·x[t] + u·h[t−1] + b), y = v·h[1] + c
A, U, B, V, C = 0.8, -0.6, 0.1, 1.5, -0.2
H0, X, T = 0.4, (0.5, -1.0), 0.3
ONE = {
    "name": "one unit from h0",
    "model": [
        {"rnn": {"input_size": 1, "hidden_size": 1, "h0": [H0]}},
        "last",
        {"linear": {"in_features": 1, "out_features": 1}},
    ],
    "parameters": {
        "0.weight_ih_l0": [[A]],
        "0.weight_hh_l0": [[U]],
        "0.bias_ih_l0": [B],
        "0.bias_hh_l0": [0.0],
        "2.weight": [[V]],
        "2.bias": [C],
    },
    "loss": "half_sse",
    "learning_rate": 0.5,
    "inputs": [[X[0]], [X[1]]],
    "targets": [T],
}


def _loss(h0: float) -> float:
    """E = ½(t − y)² of the one-unit rnn from the state h0, written out."""
    h_0 = math.tanh(A * X[0] + U * h0 + B)
    h_1 = math.tanh(A * X[1] + U * h_0 + B)
    return 0.5 * (T - (V * h_1 + C)) ** 2


def _rows(data: dict, **options) -> dict[str, float]:
    records = api.trace(data, **options).records
    return {typed(r.symbol): r.value for step in records.steps for _, r in step.equations()}


def test_the_delta_of_h0_of_one_unit_over_two_steps_worked_by_hand():
    h_0 = math.tanh(A * X[0] + U * H0 + B)
    h_1 = math.tanh(A * X[1] + U * h_0 + B)
    y = V * h_1 + C
    delta = T - y  # −∂E/∂y for ½(t − y)²
    dnet_1 = (1 - h_1**2) * V * delta  # `last` sends δ·v to step 1 alone
    dnet_0 = (1 - h_0**2) * U * dnet_1  # back from step 1 through w_hh
    given = U * dnet_0  # back from step 0 through w_hh, to the state before it: h0
    rows = _rows(ONE)
    assert rows["deltah0[-1,0]"] == pytest.approx(given, rel=1e-12)
    # torch's h0.grad is ∂E/∂h0: the lecture's δ with the other sign
    numeric = (_loss(H0 + 1e-6) - _loss(H0 - 1e-6)) / 2e-6
    assert rows["deltah0[-1,0]"] == pytest.approx(-numeric, rel=1e-7)


def test_the_row_writes_w_hh_against_step_0s_delta_net_and_says_h0_is_not_trained():
    records = api.trace(ONE).records
    found = [(s, r) for s, r in records.steps[0].equations() if r.symbol == "δh0[-1,0]"]
    assert len(found) == 1
    section, row = found[0]
    assert row.formula == "{w_hh0[0,0]}·{δnet0[0,0]}"
    assert section.kind == "delta" and section.title == "δ · the initial state h0 · layer 0 (rnn)"
    assert "torch's h0.grad = −δh[-1,j]" in section.rule and "no update" in section.rule
    # it comes after the last step back through time, before the gradients
    titles = [s.title for s in records.steps[0].sections]
    at = titles.index(section.title)
    assert titles[at - 1].endswith("step t = 0") and titles[at + 1].startswith("Gradients")
    # and h0 is not a parameter: nothing updates it
    assert "0.h0" not in dict(records.after.parameters)
    assert records.after.layers[0].argument("h0") == ((H0,),)


def test_without_h0_there_is_no_such_row():
    data = copy.deepcopy(ONE)
    del data["model"][0]["rnn"]["h0"]
    assert not [name for name in _rows(data) if "[-1," in name and name.startswith("deltah")]


@pytest.mark.parametrize(("layers", "two"), [(1, False), (2, False), (1, True), (2, True)])
def test_every_h0_delta_of_a_random_model_is_minus_the_finite_difference_of_the_loss(layers, two):
    """Each layer's and direction's row of h0 (the reverse direction's state before its first
    step is h[T]): −∂E/∂h0 by central differences of the hand-written forward pass."""
    data = _random(11, layers, two, True, "each", False)
    rows = _rows(data)
    hidden, steps = data["model"][0]["rnn"]["hidden_size"], len(data["inputs"])
    names = []
    for layer in range(layers):
        for reverse in range(2 if two else 1):
            tail = "" if layers == 1 and not two else f"_l{layer}" + ("_reverse" if reverse else "")
            names.append(f"deltah0{tail}[{steps if reverse else -1},")
    for row_of_h0, start in enumerate(names):
        for j in range(hidden):

            def loss(shift: float, at: int = row_of_h0, j: int = j) -> float:
                moved = copy.deepcopy(data)
                moved["model"][0]["rnn"]["h0"][at][j] += shift
                return rnn_by_hand.forward(moved)["E"]

            numeric = (loss(1e-6) - loss(-1e-6)) / 2e-6
            assert rows[f"{start}{j}]"] == pytest.approx(-numeric, rel=1e-6, abs=1e-9)


def test_the_json_writes_the_h0_delta_as_an_equation(runner, tmp_path):
    path = tmp_path / "one.yaml"
    path.write_text(yaml.safe_dump(ONE), encoding="utf-8")
    result = runner.invoke(cli, ["run", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    equations = json.loads(result.output)["steps"][0]["equations"]
    found = [e for e in equations if e["symbol"] == "δh0[-1,0]"]
    assert len(found) == 1 and found[0]["section"] == "delta"
    assert found[0]["value"] == pytest.approx(_rows(ONE)["deltah0[-1,0]"], rel=1e-15)


def test_in_each_book_the_h0_delta_takes_the_books_sign_and_letters():
    lecture = _rows(ONE)["deltah0[-1,0]"]
    names = {"nielsen": "δh^2[-1,0]", "hagan": "δh^1[-1,0]", "mazur": "δh_h1[-1,0]"}
    for book, name in names.items():
        records = api.trace(ONE, notation=book).records
        rows = {r.symbol: (s, r) for s, r in records.steps[0].equations()}
        section, row = rows[name]
        assert row.value == pytest.approx(-lecture, rel=1e-15)  # +∂E/∂h0: torch's h0.grad
        assert f"torch's h0.grad = {name.replace('[-1,0]', '[-1,j]')}" in section.rule


# ---------------------------------------------------------------- marking, quiz, exercise


def test_check_marks_the_h0_delta_right_and_one_from_a_wrong_delta_net_as_following():
    rows = _rows(ONE)
    right = api.check({"deltah0[-1,0]": round(rows["deltah0[-1,0]"], 8)}, ONE)
    assert [a["verdict"] for a in right["answers"]] == ["right"]
    # δnet0[0,0] off by 0.05: the h0 δ from it is u·(δnet + 0.05)
    wrong = rows["deltanet0[0,0]"] + 0.05
    answers = {"deltanet0[0,0]": wrong, "deltah0[-1,0]": U * wrong}
    verdicts = {a["symbol"]: a["verdict"] for a in api.check(answers, ONE)["answers"]}
    assert verdicts == {"δnet0[0,0]": "wrong", "δh0[-1,0]": "follows from your deltanet0[0,0]"}


def test_quiz_asks_the_h0_delta(runner, tmp_path):
    path = tmp_path / "one.yaml"
    path.write_text(yaml.safe_dump(ONE), encoding="utf-8")
    value = _rows(ONE)["deltah0[-1,0]"]
    result = runner.invoke(
        cli, ["quiz", str(path), "--ask", "deltah0[-1,0]"], input=f"{value:.9g}\n"
    )
    assert result.exit_code == 0, result.output
    assert "Score: 1 of 1" in result.output


def test_an_exercise_asks_the_h0_delta_of_its_own_drawn_h0(runner, tmp_path):
    for drawn, sheet in exercised(runner, tmp_path, ONE, 5):
        assert "`deltah0[-1,0]`" in sheet
        hand = rnn_by_hand.worked(drawn)
        assert "deltah0[-1,0]" in hand
        report = api.check({"deltah0[-1,0]": round(hand["deltah0[-1,0]"], 9)}, drawn)
        assert [a["verdict"] for a in report["answers"]] == ["right"]


def test_under_round_the_h0_delta_is_worked_from_the_rounded_delta_net():
    from backtrace_cli.core.rounding import written

    rows = _rows(ONE, rounding="3sf")
    expected = written(U * rows["deltanet0[0,0]"], "3sf")
    assert written(rows["deltah0[-1,0]"], "3sf") == expected
    assert rows["deltah0[-1,0]"] == pytest.approx(float(expected), rel=1e-12)


def test_every_row_of_a_bidirectional_stack_from_h0_is_the_hand_workings():
    """Four rows of h0's δ a unit: l0 and l1 from h[−1], their reverse directions from h[T]."""
    data = _random(4, 2, True, True, "last", False)
    traced, hand = _rows(data), rnn_by_hand.worked(data)
    hidden, steps = data["model"][0]["rnn"]["hidden_size"], len(data["inputs"])
    for tail, start in (("_l0", -1), ("_l0_reverse", steps), ("_l1", -1), ("_l1_reverse", steps)):
        for j in range(hidden):
            name = f"deltah0{tail}[{start},{j}]"
            assert traced[name] == pytest.approx(hand[name], rel=1e-9, abs=1e-12), name
    for name, value in hand.items():
        assert traced[name] == pytest.approx(value, rel=1e-9, abs=1e-12), name
    assert api.check({n: round(v, 9) for n, v in hand.items()}, data)["counts"]["wrong"] == 0


def test_the_markdown_writes_the_h0_delta_and_keeps_a_rules_delta_lower_case():
    """A rule that begins with δh is not capitalised to Δh (an increment, another symbol)."""
    from node_parsers import check, pieces

    markdown = api.trace(ONE).markdown()
    assert "\nδh[-1,j] = Σ_k w_hh[k,j]·δnet[0,k]: what reaches the given h0" in markdown
    assert "\\delta h^{(0)}_{-1,0} &= w^{(\\mathit{hh0})}_{0,0} \\cdot" in markdown
    assert "\nΔh[" not in markdown and "\nδh[0,j] = Σ_k w_hh[k,j]·δnet[1,k]" in markdown
    report = check(*pieces(markdown))
    assert report["math"] == [] and report["mermaid"] == [], report
