"""Named slips: a computational graph's four (a local gradient left out, the upstream gradient
left out, a multiply gate not swapped, a branch's gradients not summed) and a network's Δw with
its sign flipped. Every wrong answer is derived here by hand from the exercise's numbers, as a
student who makes the slip would work it, carrying 2, 3 or 4 significant figures.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from backtrace_cli import api

LOCAL = "the local gradient left out"
UPSTREAM = "the upstream gradient left out"
SWAP = "a multiply gate not swapped"
BRANCH = "a branch's gradients not summed"
SLIPS = (LOCAL, UPSTREAM, SWAP, BRANCH)
FIGURES = (2, 3, 4)


def carry(value: float, figures: int) -> float:
    """The value as a student carries it: rounded to `figures` significant figures."""
    return float(f"{value:.{figures}g}")


def written(value: float, figures: int) -> str:
    """The value as a student writes it, trailing zeros kept: 0.50, −3.70."""
    return f"{value:#.{figures}g}".rstrip(".")


def verdicts(answers: dict, exercise: str) -> dict:
    report = api.check_report(answers, exercise)
    return {v.symbol: v for v in report.answered}


def named(verdict, slip: str) -> bool:
    return any(name.startswith(slip) for name in verdict.mistakes)


def slip_names(verdict) -> list[str]:
    return [name for name in verdict.mistakes if name.startswith(SLIPS)]


# ---------------------------------------------------------------- neuron_circuit, by hand
# f = 1/(1 + exp(−(w0·x0 + w1·x1 + w2))), w0 = 2, x0 = −1, w1 = −3, x1 = −2, w2 = −3:
# n1 = w0·x0 = −2, n2 = w1·x1 = 6, n3 = n1 + n2 = 4, n4 = n3 + w2 = 1, n5 = −n4 = −1,
# n6 = exp(n5), n7 = 1 + n6, f = 1/n7; backward ∂f/∂n7 = −1/n7², ∂f/∂n6 = ∂f/∂n7·1,
# ∂f/∂n5 = ∂f/∂n6·exp(n5) = ∂f/∂n6·n6, ∂f/∂n4 = ∂f/∂n5·(−1), and the adds pass it on:
# ∂f/∂n1 = ∂f/∂n3 = ∂f/∂n4; the multiply gate n1 = w0·x0 swaps: ∂f/∂w0 = ∂f/∂n1·x0.


def neuron(figures: int) -> dict[str, float]:
    """The neuron circuit's values as a student carrying `figures` figures has them."""
    n6 = carry(math.exp(-1), figures)
    n7 = carry(1 + n6, figures)
    d7 = carry(-1 / n7**2, figures)  # ∂f/∂n7
    d6 = d7  # ∂f/∂n6 = ∂f/∂n7·1
    d5 = carry(d6 * n6, figures)  # ∂f/∂n5
    d1 = -d5  # ∂f/∂n1 = ∂f/∂n4 = −∂f/∂n5
    return {"n6": n6, "n7": n7, "d7": d7, "d6": d6, "d5": d5, "d1": d1}


@pytest.mark.parametrize("figures", FIGURES)
def test_exp_local_gradient_left_out_is_named(figures):
    # ∂f/∂n5 = ∂f/∂n6·∂n6/∂n5 with exp's e^n5 left out: ∂f/∂n6 alone, −1/n7²
    v = neuron(figures)
    slip = v["d6"]
    assert abs(slip - -0.534447) < 0.03  # e^−1 = 0.367879…, n7 = 1.367879…, −1/n7²
    verdict = verdicts({"df/dn5": written(slip, figures)}, "neuron_circuit")["∂f/∂n5"]
    assert verdict.kind == "wrong"
    assert named(verdict, LOCAL), verdict.diagnosis


@pytest.mark.parametrize("figures", FIGURES)
def test_upstream_gradient_left_out_is_named(figures):
    # ∂f/∂n5 written as exp's local gradient alone: e^n5 = e^−1 = 0.367879…
    slip = carry(math.exp(-1), figures)
    verdict = verdicts({"df/dn5": written(slip, figures)}, "neuron_circuit")["∂f/∂n5"]
    assert verdict.kind == "wrong"
    assert named(verdict, UPSTREAM), verdict.diagnosis


@pytest.mark.parametrize("figures", FIGURES)
def test_multiply_gate_not_swapped_is_named(figures):
    # ∂f/∂w0 = ∂f/∂n1·x0 (−0.197·(−1)); not swapped: ∂f/∂n1·w0 = 0.197·2 ≈ 0.393
    v = neuron(figures)
    slip = carry(v["d1"] * 2, figures)
    verdict = verdicts({"df/dw0": written(slip, figures)}, "neuron_circuit")["∂f/∂w0"]
    assert verdict.kind == "wrong"
    assert named(verdict, SWAP), verdict.diagnosis


NEURON = """\
config:
  expression: 1 / (1 + exp(-(w0*x0 + w1*x1 + w2)))
  inputs: {w0: -1.6, x0: -1.9, w1: 1.3, x1: -0.3, w2: -2.0}
answers:
"""


@pytest.mark.parametrize("figures", FIGURES)
def test_a_slip_at_the_end_of_a_long_chain_carried_rounded(tmp_path, figures):
    # a student carrying 4 figures rounds every gradient they write, as `run --round` does:
    # n1 = w0·x0 = 3.04, n2 = w1·x1 = −0.39, n4 = (n1 + n2) + w2 = 0.65, n5 = −n4,
    # n6 = e^n5, n7 = 1 + n6, ∂f/∂n7 = −1/n7², ∂f/∂n5 = ∂f/∂n7·n6, ∂f/∂n1 = −∂f/∂n5;
    # ∂f/∂x0 = ∂f/∂n1·w0, not swapped ∂f/∂n1·x0 (−0.4281 at 4 figures, where the
    # gradients kept exact would give −0.4282)
    r = lambda value: carry(value, figures)  # noqa: E731
    n4 = r(r(r(-1.6 * -1.9) + r(1.3 * -0.3)) + -2.0)  # (3.04 − 0.39) − 2.0 = 0.65
    n6 = r(math.exp(-n4))
    n7 = r(1 + n6)
    d1 = -r(r(-1 / n7**2) * n6)
    slip = r(d1 * -1.9)
    path = tmp_path / "answers.yaml"
    path.write_text(NEURON + f"  df/dx0: {written(slip, figures)}\n")
    verdict = verdicts(str(path), None)["∂f/∂x0"]
    assert verdict.kind == "wrong"
    assert named(verdict, SWAP), verdict.diagnosis


def test_a_slip_is_named_from_the_students_own_earlier_value():
    # ∂f/∂n6 written −0.50 (wrong: −0.534); with exp's local gradient left out ∂f/∂n5 is
    # their −0.50 again — not −0.50·0.368 = −0.184, which would follow from it
    got = verdicts({"df/dn6": "-0.50", "df/dn5": "-0.50"}, "neuron_circuit")
    assert got["∂f/∂n6"].kind == "wrong"
    assert got["∂f/∂n5"].kind == "wrong"
    assert named(got["∂f/∂n5"], LOCAL), got["∂f/∂n5"].diagnosis
    follows = verdicts({"df/dn6": "-0.50", "df/dn5": "-0.184"}, "neuron_circuit")["∂f/∂n5"]
    assert follows.kind == "follows" and not follows.mistakes


# ---------------------------------------------------------------- circuit and chain_rule_graph


def test_circuit_slips_by_hand():
    # f = q·z, q = x + y = −2 + 5 = 3, z = −4: ∂f/∂q = z = −4 (not swapped: q = 3),
    # ∂f/∂z = q = 3 (not swapped: z = −4); ∂f/∂x = ∂f/∂q·∂q/∂x = (−4)·1 (upstream left
    # out: 1)
    got = verdicts({"df/dq": 3, "df/dz": -4, "df/dx": 1}, "circuit")
    assert named(got["∂f/∂q"], SWAP)
    assert named(got["∂f/∂z"], SWAP)
    assert named(got["∂f/∂x"], UPSTREAM)
    # f is the output: ∂f/∂z = ∂f/∂f·q = 1·3; with the local gradient q left out, 1
    assert named(verdicts({"df/dz": 1}, "circuit")["∂f/∂z"], LOCAL)


def test_a_slip_follows_the_students_wrong_node_value():
    # q written 4 (wrong: 3); ∂f/∂q not swapped is then their q = 4, not 3
    got = verdicts({"q": 4, "df/dq": 4}, "circuit")
    assert named(got["∂f/∂q"], SWAP), got["∂f/∂q"].diagnosis


def test_chain_rule_graph_slips_by_hand():
    # wx = w·x = 0.5·2 = 1, ŷ = wx + b = 1.1, err = ŷ − y = −0.4, loss = err²;
    # ∂loss/∂err = 2·err = −0.8, passed on through the add and the sub's first input:
    # ∂loss/∂wx = −0.8. ∂loss/∂w = ∂loss/∂wx·x = −1.6: with the local x left out −0.8;
    # not swapped ∂loss/∂wx·w = −0.4. ∂loss/∂x = ∂loss/∂wx·w = −0.4: not swapped
    # ∂loss/∂wx·x = −1.6; upstream left out: w = 0.5
    got = verdicts({"dloss/dw": -0.8, "dloss/dx": -1.6}, "chain_rule_graph")
    assert named(got["∂loss/∂w"], LOCAL)
    assert named(got["∂loss/∂x"], SWAP)
    got = verdicts({"dloss/dw": -0.4, "dloss/dx": 0.5}, "chain_rule_graph")
    assert named(got["∂loss/∂w"], SWAP)
    assert named(got["∂loss/∂x"], UPSTREAM)


# ---------------------------------------------------------------- a value used twice

BRANCHED = """\
config:
  name: x used twice
  nodes:
    a: x * y
    b: x + z
    f: a * b
  inputs: {x: 1.3, y: -2.1, z: 0.46}
answers:
"""


def _branched(tmp_path: Path, answers: dict[str, str]) -> dict:
    path = tmp_path / "answers.yaml"
    path.write_text(BRANCHED + "".join(f"  {k}: {v}\n" for k, v in answers.items()))
    return verdicts(str(path), None)


@pytest.mark.parametrize("figures", FIGURES)
def test_a_branch_not_summed_is_named(tmp_path, figures):
    # a = x·y = 1.3·(−2.1) = −2.73, b = x + z = 1.76; f = a·b: ∂f/∂a = b, ∂f/∂b = a.
    # ∂f/∂x = ∂f/∂a·y + ∂f/∂b·1 = b·y + a; one branch alone: b·y, or a
    a = carry(1.3 * -2.1, figures)
    b = carry(1.3 + 0.46, figures)
    via_a = carry(b * -2.1, figures)
    via_b = a
    for slip in (via_a, via_b):
        got = _branched(tmp_path, {"df/dx": written(slip, figures)})["∂f/∂x"]
        assert got.kind == "wrong"
        assert named(got, BRANCH), got.diagnosis
    right = _branched(tmp_path, {"df/dx": written(carry(via_a + via_b, figures), figures)})
    assert right["∂f/∂x"].ok and not right["∂f/∂x"].mistakes


# ---------------------------------------------------------------- never invented


@pytest.mark.parametrize("figures", FIGURES)
def test_right_answers_are_never_given_a_slip(figures):
    v = neuron(figures)
    answers = {
        "n6": written(v["n6"], figures),
        "n7": written(v["n7"], figures),
        "df/dn7": written(v["d7"], figures),
        "df/dn6": written(v["d6"], figures),
        "df/dn5": written(v["d5"], figures),
        "df/dw0": written(carry(v["d1"] * -1, figures), figures),  # ∂f/∂n1·x0
        "df/dx0": written(carry(v["d1"] * 2, figures), figures),  # ∂f/∂n1·w0
    }
    for verdict in verdicts(answers, "neuron_circuit").values():
        assert verdict.ok, (verdict.symbol, verdict.verdict)
        assert not verdict.mistakes
    # the circuit: q = 3, f = −12, ∂f/∂q = z = −4, ∂f/∂z = q = 3, ∂f/∂x = ∂f/∂y = −4
    exact = {"q": 3, "f": -12, "df/dq": -4, "df/dz": 3, "df/dx": -4, "df/dy": -4}
    for verdict in verdicts(exact, "circuit").values():
        assert verdict.kind == "right" and not verdict.mistakes


def test_a_value_simply_wrong_is_given_no_slip(tmp_path):
    # none of these is a slip's value: ∂f/∂n5 (slips give −0.534, 0.368), ∂f/∂w0 (0.393),
    # ∂f/∂q (slips: 3, 1), ∂loss/∂w (−0.8, −0.4, 2), ∂f/∂x of the branched graph (−3.70, −2.73)
    got = verdicts({"df/dn5": "0.250", "df/dw0": "0.811"}, "neuron_circuit")
    got |= verdicts({"df/dq": 7}, "circuit")
    got |= verdicts({"dloss/dw": -2.9}, "chain_rule_graph")
    got |= _branched(tmp_path, {"df/dx": "-5.12"})
    for verdict in got.values():
        assert verdict.kind == "wrong"
        assert not slip_names(verdict), (verdict.symbol, verdict.mistakes)


# ---------------------------------------------------------------- a network: Δw's sign


def _sigmoid(net: float) -> float:
    return 1 / (1 + math.exp(-net))


@pytest.mark.parametrize("figures", FIGURES)
def test_delta_w_with_its_sign_flipped_is_named_on_the_lecture_example(figures):
    # the course notes: x1 = 0.35, x2 = 0.9, w13 = 0.1, w23 = 0.8, w14 = 0.4, w24 = 0.6,
    # w35 = 0.3, w45 = 0.9, t5 = 0.5, η = 1; net3 = 0.1·0.35 + 0.8·0.9 = 0.755
    r = lambda value: carry(value, figures)  # noqa: E731
    o3 = r(_sigmoid(r(0.1 * 0.35 + 0.8 * 0.9)))
    o4 = r(_sigmoid(r(0.4 * 0.35 + 0.6 * 0.9)))
    o5 = r(_sigmoid(r(0.3 * o3 + 0.9 * o4)))
    delta5 = r(o5 * (1 - o5) * (0.5 - o5))
    delta3 = r(o3 * (1 - o3) * 0.3 * delta5)
    dw35 = r(1 * delta5 * o3)  # Δw35 = η·δ5·o3 ≈ −0.0277
    dw13 = r(1 * delta3 * 0.35)  # Δw13 = η·δ3·x1 ≈ −0.000929
    answers = {"dw35": written(-dw35, figures), "dw13": written(-dw13, figures)}
    got = verdicts(answers, "lecture")
    for symbol in ("Δw35", "Δw13"):
        assert got[symbol].kind == "wrong"
        assert got[symbol].mistakes[:1] == ("Δw with its sign flipped (Δw = −η·δ·o)",), got[
            symbol
        ].diagnosis


def test_delta_w_flipped_takes_no_other_mistakes_diagnosis():
    # δ5 with (t − o) flipped keeps its own name; Δw35 from that δ5 follows from it
    o3, o4 = _sigmoid(0.755), _sigmoid(0.68)
    o5 = _sigmoid(0.3 * o3 + 0.9 * o4)
    flipped = o5 * (1 - o5) * (o5 - 0.5)  # +0.0407
    got = verdicts({"delta5": f"{flipped:.4f}", "dw35": f"{flipped * o3:.4f}"}, "lecture")
    assert got["δ5"].mistakes[:1] == ("the sign of (t − o) flipped",)
    assert got["Δw35"].kind == "follows"


def test_a_value_following_a_wrong_gradient_is_still_credited_at_4_figures(
    tmp_path,
):
    # the same circuit at 4 figures: ∂f/∂n7 written −0.5000 (wrong); ∂f/∂x0 worked on from
    # it, each gradient rounded as written: ∂f/∂n5 = −0.5·n6, ∂f/∂x0 = −∂f/∂n5·w0
    r = lambda value: carry(value, 4)  # noqa: E731
    n6 = r(math.exp(-r(r(r(-1.6 * -1.9) + r(1.3 * -0.3)) + -2.0)))
    d1 = -r(-0.5 * n6)
    theirs = r(d1 * -1.6)
    path = tmp_path / "answers.yaml"
    path.write_text(NEURON + f"  df/dn7: -0.5000\n  df/dx0: {written(theirs, 4)}\n")
    got = verdicts(str(path), None)
    assert got["∂f/∂n7"].kind == "wrong"
    assert got["∂f/∂x0"].kind == "follows", got["∂f/∂x0"].verdict


def test_sigmoid_derivative_left_out_is_named(tmp_path):
    # d = w·x = 0.6·1.5 = 0.9, s = σ(d), f = s·t with t = −0.8: ∂f/∂s = t = −0.8 and
    # ∂f/∂d = ∂f/∂s·s(1 − s) ≈ −0.8·0.2055 = −0.164; with σ′ left out, −0.80
    s = 1 / (1 + math.exp(-0.9))
    assert abs(-0.8 * s * (1 - s) - -0.1644) < 0.0005
    path = tmp_path / "answers.yaml"
    path.write_text(
        "config:\n  nodes: {d: w * x, s: sigmoid(d), f: s * t}\n"
        "  inputs: {w: 0.6, x: 1.5, t: -0.8}\nanswers:\n  df/dd: -0.80\n"
    )
    verdict = verdicts(str(path), None)["∂f/∂d"]
    assert verdict.kind == "wrong"
    assert named(verdict, LOCAL), verdict.diagnosis


def _lecture_step() -> tuple[float, float, float]:
    """The lecture's o3, δ5 and δ3 (course notes, η = 1), exact."""
    o3, o4 = _sigmoid(0.1 * 0.35 + 0.8 * 0.9), _sigmoid(0.4 * 0.35 + 0.6 * 0.9)
    o5 = _sigmoid(0.3 * o3 + 0.9 * o4)
    delta5 = o5 * (1 - o5) * (0.5 - o5)
    return o3, delta5, o3 * (1 - o3) * 0.3 * delta5


LECTURE_WITH = """\
config:
  layers: [2, 2, 1]
  activation: sigmoid
  loss: half_sse
  learning_rate: {eta}
  optimizer: {optimizer}
  inputs: [0.35, 0.9]
  targets: [0.5]
  weights: {{w13: 0.1, w23: 0.8, w14: 0.4, w24: 0.6, w35: 0.3, w45: 0.9}}
answers:
"""


def _first_mistake(tmp_path: Path, eta: float, optimizer: str, name: str, value: str) -> tuple:
    """The names check gives one wrong answer on the lecture's network with this optimizer."""
    path = tmp_path / "answers.yaml"
    path.write_text(LECTURE_WITH.format(eta=eta, optimizer=optimizer) + f"  {name}: {value}\n")
    got = next(iter(verdicts(str(path), None).values()))
    assert got.kind == "wrong"
    return got.mistakes


@pytest.mark.parametrize("figures", FIGURES)
def test_delta_w_with_its_sign_flipped_is_named_with_momentum(tmp_path, figures):
    # momentum's first step: v = μ·0 + g with g = ∂E/∂w35 = −δ5·o3, Δw35 = −η·v = δ5·o3
    # (η = 1) ≈ −0.0277; flipped, +0.0277 — the rule momentum states: Δw = +η·v
    o3, delta5, _ = _lecture_step()
    dw35 = -1 * (0.9 * 0 + -delta5 * o3)
    assert abs(dw35 - -0.02767) < 5e-5
    slip = written(carry(-dw35, figures), figures)
    named = _first_mistake(tmp_path, 1, "{name: momentum, momentum: 0.9}", "dw35", slip)
    assert named[:1] == ("Δw with its sign flipped (Δw = +η·v)",), named


@pytest.mark.parametrize("figures", FIGURES)
def test_delta_w_with_its_sign_flipped_is_named_with_adam(tmp_path, figures):
    # Adam's first step (t = 1): m = (1 − β1)·g, v = (1 − β2)·g², so m̂ = g and v̂ = g²:
    # Δw13 = −η·g/(|g| + ε), g = −δ3·x1 — a step of η against g's sign; flipped, with it
    _, _, delta3 = _lecture_step()
    g = -delta3 * 0.35
    m_hat, v_hat = (1 - 0.9) * g / (1 - 0.9), (1 - 0.999) * g * g / (1 - 0.999)
    dw13 = -0.1 * m_hat / (math.sqrt(v_hat) + 1e-8)
    assert abs(dw13 - -0.1) < 1e-4  # δ3 < 0, so g > 0 and the step is −η
    named = _first_mistake(tmp_path, 0.1, "adam", "dw13", written(carry(-dw13, figures), figures))
    assert named[:1] == ("Δw with its sign flipped (Δw = +η·m̂/(√v̂ + ε))",), named
