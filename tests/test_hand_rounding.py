"""Rounding as you go, inside a formula (#26, finding 2): under `--round` every row the tool
prints adds up — its formula worked from the numbers it shows, each bracket a student writes
down rounded on the way, gives its value at that rounding — and marking takes both the tool's
value and the one from the unrounded brackets."""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st

from backtrace_cli import solution, tracing
from backtrace_cli.core.errors import ConfigError
from backtrace_cli.core.rounding import round_value
from backtrace_cli.worked import Equation

# The homework of the trial: 3-2-3, tanh → softmax with cross-entropy, Adam (η = 0.1); built
# so that its hidden δ are the issue's: (1 − o4²)·Σ = 0.787·0.499, (1 − o5²)·Σ = 0.822·0.115.
HOMEWORK = {
    "name": "Homework (3-2-3, tanh → softmax, Adam)",
    "layers": [3, 2, 3],
    "activations": ["tanh", "softmax"],
    "loss": "cross_entropy",
    "learning_rate": 0.1,
    "optimizer": "adam",
    "inputs": [0.5, -1, 0.4],
    "targets": [0, 0, 1],
    "weights": {
        **{"w14": 0.2, "w24": -0.3, "w34": 0.5, "w15": 0.3, "w25": -0.1, "w35": 0.25},
        **{"w46": 0.1, "w56": 0.7, "w47": -0.8, "w57": -0.4, "w48": 0.8, "w58": 0.6},
    },
    "biases": {"b4": -0.1, "b5": 0.1, "b6": 0, "b7": 0, "b8": 0},
}


def r(value: float) -> float:
    return round_value(value, "3sf")


def rows(source, rounding: str, gradients: bool | None = None) -> dict[str, Equation]:
    spec = tracing.load(source)
    (_, _, sections, _), *_ = tracing.model(spec).steps(spec, 1, rounding, gradients)
    return {row.symbol: row for s in sections for row in s.rows if isinstance(row, Equation)}


def by_hand() -> dict[str, float]:
    """The homework worked on paper at 3 s.f., every carried value and bracket rounded."""
    x1, x2, x3 = 0.5, -1.0, 0.4
    o4 = r(math.tanh(r(0.2 * x1 + -0.3 * x2 + 0.5 * x3 - 0.1)))  # tanh(0.500) = 0.462
    o5 = r(math.tanh(r(0.3 * x1 + -0.1 * x2 + 0.25 * x3 + 0.1)))  # tanh(0.450) = 0.422
    nets = [r(0.1 * o4 + 0.7 * o5), r(-0.8 * o4 - 0.4 * o5), r(0.8 * o4 + 0.6 * o5)]
    exps = [r(math.exp(net)) for net in nets]
    total = r(sum(exps))
    o6, o7, o8 = (r(e / total) for e in exps)
    d6, d7, d8 = r(0 - o6), r(0 - o7), r(1 - o8)  # δ = t − o
    sum4 = r(0.1 * d6 + -0.8 * d7 + 0.8 * d8)  # the bracket (Σ_k w4k·δk), written down
    sum5 = r(0.7 * d6 + -0.4 * d7 + 0.6 * d8)
    delta4 = r(r(1 - o4**2) * sum4)  # (1 − o4²) written down too
    delta5 = r(r(1 - o5**2) * sum5)
    g25 = r(-delta5 * x2)  # ∂E/∂w25 = −δ5·x2
    return {
        "1 − o4²": r(1 - o4**2),
        "Σ4": sum4,
        "1 − o5²": r(1 - o5**2),
        "Σ5": sum5,
        "δ4": delta4,
        "δ5": delta5,
        "unrounded δ4": r((1 - o4**2) * (0.1 * d6 + -0.8 * d7 + 0.8 * d8)),
        "unrounded δ5": r((1 - o5**2) * (0.7 * d6 + -0.4 * d7 + 0.6 * d8)),
        "new m_w25": r(r(1 - 0.9) * g25),  # β1·0 + (1 − β1)·∂E/∂w25
    }


def test_the_issue_numbers_come_out_by_hand():
    """The derivation gives the issue's numbers: the brackets 0.787, 0.499, 0.822, 0.115."""
    hand = by_hand()
    assert (hand["1 − o4²"], hand["Σ4"], hand["1 − o5²"], hand["Σ5"]) == (
        0.787,
        0.499,
        0.822,
        0.115,
    )
    assert (hand["δ4"], hand["δ5"], hand["new m_w25"]) == (0.393, 0.0945, 0.00945)
    # …and the values the tool used to give, each bracket kept in the calculator
    assert (hand["unrounded δ4"], hand["unrounded δ5"]) == (0.392, 0.0944)


def test_a_hidden_delta_rounds_each_bracket_it_shows():
    hand = by_hand()
    traced = rows(HOMEWORK, "3sf")
    assert traced["δ4"].value == hand["δ4"] == 0.393
    assert traced["δ5"].value == hand["δ5"] == 0.0945
    assert traced["∂E/∂w25"].value == 0.0945  # −δ5·x2
    assert traced["new m_w25"].value == hand["new m_w25"] == 0.00945


def test_gradient_rows_are_the_product_of_the_factors_they_show():
    """`run --round 3sf --gradients`: ∂E/∂w = ∂E/∂o·∂o/∂net·∂net/∂w from the rows above it,
    and what Adam's m uses is that row's value."""
    traced = rows(HOMEWORK, "3sf", gradients=True)
    for unit, names in ((4, ("w14", "w24", "w34", "b4")), (5, ("w15", "w25", "w35", "b5"))):
        dE_do = traced[f"∂E/∂o{unit}"].value
        slope = traced[f"∂o{unit}/∂net{unit}"].value
        assert slope == r(1 - traced[f"o{unit}"].value ** 2)
        for name, x in zip(names, (0.5, -1.0, 0.4, 1.0)):
            assert traced[f"∂E/∂{name}"].value == r(dE_do * slope * x), name
            m = traced[f"new m_{name}"]
            assert m.value == r(r(1 - 0.9) * traced[f"∂E/∂{name}"].value), name
    # the rows the issue found that did not add up, as they do now
    issue = {"w25": 0.0945, "w24": 0.393, "w15": -0.0473, "b4": -0.393, "b5": -0.0945}
    assert {name: traced[f"∂E/∂{name}"].value for name in issue} == issue
    assert (traced["∂E/∂o5"].value, traced["∂o5/∂net5"].value) == (-0.115, 0.822)


def test_an_adam_step_writes_down_its_denominator():
    """Δw = −η·m̂/(√v̂ + ε): the bracket (√v̂ + ε) rounded before it divides."""
    traced = rows("adam", "3sf")
    row = traced["Δb4"]  # −0.1·(−0.0108)/(√0.000117 + 1e−8): √0.000117 = 0.010817 → 0.0108
    values = row.values()
    assert values["m̂_b4"] == -0.0108 and values["v̂_b4"] == 0.000117
    assert row.value == r(-0.1 * -0.0108 / r(math.sqrt(0.000117) + 1e-8)) == 0.1


def test_exact_traces_keep_every_digit():
    """Nothing is written down without a rounding: δ4 is (1 − o4²)·Σ in full."""
    traced = rows(HOMEWORK, None)
    o4 = traced["o4"].value
    values = traced["δ4"].values()
    total = sum(values[f"w4{k}"] * values[f"δ{k}"] for k in (6, 7, 8))
    assert traced["δ4"].value == pytest.approx((1 - o4**2) * total, rel=1e-15)


# ---------------------------------------------------------------- every row, any network


def adds_up(row: Equation, rounding: str) -> bool | None:
    """Does the row's formula (or its working), worked from its own numbers as a student
    carrying `rounding` works it, give its value? None: it cannot be worked from them (a
    long sum written with "…", ln 0 of an output rounded to 0)."""
    verdict = None
    # each bracket (a product in a sum too) written down rounded, or the shown numbers worked
    # in one go on a calculator — both are a student's, and check takes either: a sum that
    # cancels tells them apart (−0.9·0.319 + 0.5·(−0.0635) + 0.6·0.618 is 0.0522 from
    # −0.287 − 0.0318 + 0.371, 0.05195 → 0.052 in one go)
    for template, carried in itertools.product((row.formula, row.working), (rounding, None)):
        if template is None:
            continue
        value = solution.evaluate(template, row.values(), carried)
        if value is None:
            continue
        # a tie worked in floats lands either side of it (0.05195 is 0.051949999…): both are
        # the student's rounding of the exact value
        near = {round_value(value * (1 + e), rounding) for e in (-1e-12, 0.0, 1e-12)}
        if any(math.isclose(v, row.value, rel_tol=1e-12) for v in near):
            return True  # (1e22 to 3dp: past what the rounding keeps, float noise alone)
        # a sum that cancels to 0 leaves float noise (−0.18 + 0.18 = −2e−17) either way
        scale = max((abs(v) for v in row.values().values()), default=1.0)
        if abs(value) < 1e-12 * scale and abs(row.value) < 1e-12 * scale:
            return True
        verdict = False
    return verdict


TENTHS = st.sampled_from([-0.9, -0.7, -0.5, -0.4, -0.3, -0.2, 0.2, 0.3, 0.5, 0.6, 0.8, 1.5])


@st.composite
def small_networks(draw: st.DrawFn) -> dict:
    """A hand-sized network: 1–2 hidden layers of 1–3 units, any activation, any loss its
    output allows, biases or not, any optimizer, one or two samples, online or batch."""
    sizes = [draw(st.integers(1, 3)) for _ in range(draw(st.integers(1, 2)))]
    output = draw(st.sampled_from(["sigmoid", "tanh", "linear", "softmax"]))
    outputs = draw(st.integers(2, 3)) if output == "softmax" else draw(st.integers(1, 2))
    layers = [2, *sizes, outputs]
    hidden = ["sigmoid", "tanh", "relu", "leaky_relu", "elu", "linear"]
    activations = [draw(st.sampled_from(hidden)) for _ in sizes] + [output]
    losses = {
        "softmax": ["cross_entropy", "half_sse", "mse"],
        "sigmoid": ["half_sse", "sse", "mse", "bce"],
    }.get(output, ["half_sse", "sse", "mse"])
    loss = draw(st.sampled_from(losses))

    def targets() -> list[float]:
        if loss == "cross_entropy":
            hot = draw(st.integers(0, outputs - 1))
            return [1.0 if k == hot else 0.0 for k in range(outputs)]
        if loss == "bce":
            return [draw(st.sampled_from([0.0, 1.0])) for _ in range(outputs)]
        return [draw(st.sampled_from([0.1, 0.5, 0.9, -0.3])) for _ in range(outputs)]

    count = draw(st.integers(1, 2))
    samples = [{"inputs": [draw(TENTHS), draw(TENTHS)], "targets": targets()}]
    samples += [{"inputs": [draw(TENTHS), draw(TENTHS)], "targets": targets()}][: count - 1]
    weights = [
        [[draw(TENTHS) for _ in range(below)] for _ in range(here)]
        for below, here in itertools.pairwise(layers)
    ]
    config = {
        "layers": layers,
        "activations": activations,
        "loss": loss,
        "learning_rate": draw(st.sampled_from([0.1, 0.5, 1])),
        "samples": samples,
        "mode": draw(st.sampled_from(["online", "batch"])),
        "weights": weights,
        "optimizer": draw(
            st.sampled_from(["sgd", "momentum", "nesterov", "rmsprop", "adagrad", "adam", "adamw"])
        ),
    }
    if draw(st.booleans()):
        config["biases"] = [[draw(TENTHS) for _ in range(n)] for n in layers[1:]]
    if draw(st.booleans()):
        config["weight_decay"] = 0.01
    return config


@settings(
    max_examples=90,  # a sample a run: each run draws new networks
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    small_networks(),
    st.sampled_from(["3sf", "2sf", "4sf", "3dp", "4dp"]),
    st.sampled_from([None, True]),
)
def test_every_row_adds_up_from_the_numbers_it_shows(config, rounding, gradients):
    spec = tracing.load(config)
    try:
        steps = tracing.model(spec).steps(spec, 1, rounding, gradients)
    except ConfigError:  # an o_k rounded to 0 (0/0 for ∂E/∂o): said as divergence, as before
        reject()
    for _, _, sections, _ in steps:
        for section in sections:
            for row in section.rows:
                if not isinstance(row, Equation) or not math.isfinite(row.value):
                    continue
                assert adds_up(row, rounding) is not False, (
                    section.title,
                    row.symbol,
                    row.formula,
                    row.operands,
                    row.value,
                )


@pytest.mark.parametrize("name", ["circuit", "neuron_circuit", "chain_rule_graph", "adam_parabola"])
@pytest.mark.parametrize("rounding", ["3sf", "2sf", "4dp"])
def test_every_graph_row_adds_up_from_the_numbers_it_shows(name, rounding):
    spec = tracing.load(name)
    (_, _, sections, _), *_ = tracing.model(spec).steps(spec, 1, rounding, None)
    for section in sections:
        for row in section.rows:
            if isinstance(row, Equation) and math.isfinite(row.value):
                assert adds_up(row, rounding) is not False, (row.symbol, row.formula, row.value)


# ---------------------------------------------------------------- marking under `round:`


def checked(tmp_path, answers: dict[str, float]) -> dict[str, dict]:
    import json

    import yaml
    from click.testing import CliRunner

    from backtrace_cli.cli import cli

    config = tmp_path / "homework.yaml"
    config.write_text(yaml.safe_dump(HOMEWORK, allow_unicode=True))
    path = tmp_path / "answers.yaml"
    lines = "".join(f"  {name}: {value}\n" for name, value in answers.items())
    path.write_text(f"exercise: {config}\nround: 3sf\nanswers:\n{lines}")
    result = CliRunner().invoke(cli, ["check", str(path), "--format", "json"])
    assert result.exit_code in (0, 1), result.output
    return {a["name"]: a for a in json.loads(result.output)["answers"]}


def test_both_ways_of_rounding_a_bracket_are_right_and_expected_is_the_declared_one(tmp_path):
    hand = by_hand()
    for delta4, delta5 in ((hand["δ4"], hand["δ5"]), (hand["unrounded δ4"], hand["unrounded δ5"])):
        marked = checked(tmp_path, {"delta4": delta4, "delta5": delta5})
        assert marked["delta4"]["kind"] == marked["delta5"]["kind"] == "right", marked
        # what the report shows is the solution worked at the declared 3 s.f.
        assert marked["delta4"]["expected"] == 0.393 and marked["delta5"]["expected"] == 0.0945
    marked = checked(tmp_path, {"delta5": 0.0946})  # one more unit is not a rounding
    assert marked["delta5"]["kind"] == "wrong"
    assert marked["delta5"]["working"].endswith("= 0.0945"), marked["delta5"]["working"]
