"""Classification: softmax outputs, cross-entropy, leaky_relu and elu, accuracy.

Every expectation comes from outside the program: the Jacobian and the losses written out in
this file with numpy and math, central finite differences, or hand rounding done here.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pytest import approx

from backtrace_cli import api
from backtrace_cli.cli import cli
from backtrace_cli.definitions import activations
from backtrace_cli.network import config, engine

ROOT = Path(__file__).parent.parent
SLOPE = 0.01

# ---------------------------------------------------------------- the maths, written here


def softmax(z: np.ndarray) -> np.ndarray:
    shifted = np.exp(z - z.max())
    return shifted / shifted.sum()


HIDDEN = {
    "sigmoid": lambda z, a: 1 / (1 + np.exp(-z)),
    "tanh": lambda z, a: np.tanh(z),
    "relu": lambda z, a: np.where(z > 0, z, 0.0),
    "linear": lambda z, a: z,
    "leaky_relu": lambda z, a: np.where(z > 0, z, a * z),
    "elu": lambda z, a: np.where(z > 0, z, np.exp(np.minimum(z, 0)) - 1),
}


def loss_of(name: str, o: np.ndarray, t: np.ndarray) -> float:
    """The losses as PRODUCT.md defines them, for one sample."""
    if name == "cross_entropy":
        return float(-np.sum(t * np.log(o)))
    if name == "half_sse":
        return float(0.5 * np.sum((t - o) ** 2))
    if name == "sse":
        return float(np.sum((o - t) ** 2))
    return float(np.mean((o - t) ** 2))  # mse


def forward(data: dict[str, Any], weights: list[np.ndarray], x: np.ndarray):
    nets, outs = [], [x]
    slope = data.get("leaky_relu_slope", SLOPE)
    for k, w in enumerate(weights):
        net = w @ outs[-1]
        nets.append(net)
        act = data["activations"][k]
        outs.append(softmax(net) if act == "softmax" else HIDDEN[act](net, slope))
    return nets, outs


# ---------------------------------------------------------------- finite differences


@st.composite
def softmax_networks(draw: st.DrawFn) -> dict[str, Any]:
    layers = draw(st.lists(st.integers(1, 4), min_size=1, max_size=3))
    layers.append(draw(st.integers(2, 4)))  # a softmax over 2–4 classes
    hidden = draw(
        st.lists(
            st.sampled_from(sorted(HIDDEN)), min_size=len(layers) - 2, max_size=len(layers) - 2
        )
    )
    loss = draw(st.sampled_from(["cross_entropy", "half_sse", "sse", "mse"]))
    n = layers[-1]
    floats = st.floats(-1.5, 1.5, allow_nan=False)
    if loss == "cross_entropy":
        raw = draw(st.lists(st.floats(0.05, 1.0), min_size=n, max_size=n))
        targets = (np.array(raw) / sum(raw)).tolist()  # a smoothed distribution
        if draw(st.booleans()):
            targets = [0.0] * n
            targets[draw(st.integers(0, n - 1))] = 1.0  # one-hot
    else:
        targets = draw(st.lists(floats, min_size=n, max_size=n))
    weights = [
        draw(st.lists(st.lists(floats, min_size=a, max_size=a), min_size=b, max_size=b))
        for a, b in itertools.pairwise(layers)
    ]
    return {
        "layers": layers,
        "activations": [*hidden, "softmax"],
        "loss": loss,
        "learning_rate": 0.5,
        "leaky_relu_slope": draw(st.sampled_from([0.01, 0.2])),
        "inputs": draw(st.lists(floats, min_size=layers[0], max_size=layers[0])),
        "targets": targets,
        "weights": weights,
    }


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(softmax_networks())
def test_softmax_networks_gradients_are_finite_differences_of_every_applicable_loss(data):
    x, t = np.array(data["inputs"]), np.array(data["targets"])
    weights = [np.array(w, float) for w in data["weights"]]
    nets, _ = forward(data, weights, x)
    assume(all(np.abs(net).min() > 1e-3 for net in nets[:-1]))  # no hidden unit at a kink
    done = engine.update(config.from_dict(data), (0,))
    h = 1e-6
    for k, layer in enumerate(done.layers):
        for index in np.ndindex(weights[k].shape):
            up = [w.copy() for w in weights]
            down = [w.copy() for w in weights]
            up[k][index] += h
            down[k][index] -= h
            numeric = (
                loss_of(data["loss"], forward(data, up, x)[1][-1], t)
                - loss_of(data["loss"], forward(data, down, x)[1][-1], t)
            ) / (2 * h)
            assert layer.gradient[index] == approx(numeric, rel=1e-5, abs=1e-7)


# ---------------------------------------------------------------- δ at a softmax output


def _jacobian_delta(o: np.ndarray, dE_do: np.ndarray) -> np.ndarray:
    """δ_j = −∂E/∂net_j = −Σ_k ∂E/∂o_k·∂o_k/∂net_j with ∂o_k/∂net_j = o_k(1[k = j] − o_j)."""
    jacobian = np.diag(o) - np.outer(o, o)  # J[k, j] = ∂o_k/∂net_j
    return -(jacobian.T @ dE_do)


@pytest.mark.parametrize("targets", [[0, 1, 0], [0.1, 0.7, 0.2]])
def test_delta_at_a_softmax_with_cross_entropy_is_t_minus_o(targets):
    """With E = −Σ t_k ln o_k, ∂E/∂o_k = −t_k/o_k, and the Jacobian's terms collapse:
    δ_j = Σ_k (t_k/o_k)·o_k(1[k = j] − o_j) = t_j − o_j·Σ_k t_k = t_j − o_j (Σ t = 1)."""
    data = {
        "layers": [2, 3],
        "activation": "softmax",
        "loss": "cross_entropy",
        "learning_rate": 1,
        "inputs": [0.5, -0.3],
        "targets": targets,
        "weights": [[[0.3, 0.9], [-0.2, 0.5], [0.7, -0.1]]],
    }
    t = np.array(targets, float)
    o = softmax(np.array(data["weights"][0]) @ np.array(data["inputs"]))
    derived = _jacobian_delta(o, -t / o)
    assert derived == approx(t - o, abs=1e-15)  # the derivation's own check
    done = engine.update(config.from_dict(data), (0,))
    assert done.layers[0].delta[0] == approx(derived, rel=1e-12)
    # the trace writes δ5 = t5 − o5 and says why, and `--gradients` goes the long way
    section = _section(api.trace(data).records, "delta")
    assert [row.formula for row in section.rows] == ["{t3} − {o3}", "{t4} − {o4}", "{t5} − {o5}"]
    assert "collapse" in section.note
    long = _section(api.trace(data, gradients=True).records, "delta")
    assert long.rule == "δ_j = o_j·(g_j − ḡ), g = −∂E/∂o, ḡ = Σ_k g_k·o_k"
    g_bar = next(row for row in long.rows if row.symbol == "ḡ")
    assert g_bar.value == approx(float(np.sum(t / o * o)))  # Σ_k g_k·o_k = Σ_k t_k = 1


@pytest.mark.parametrize("loss", ["half_sse", "sse", "mse"])
def test_delta_at_a_softmax_with_another_loss_goes_through_the_whole_jacobian(loss):
    data = {
        "layers": [2, 3],
        "activation": "softmax",
        "loss": loss,
        "learning_rate": 1,
        "inputs": [0.5, -0.3],
        "targets": [0.2, 0.9, -0.1],
        "weights": [[[0.3, 0.9], [-0.2, 0.5], [0.7, -0.1]]],
    }
    t = np.array(data["targets"])
    o = softmax(np.array(data["weights"][0]) @ np.array(data["inputs"]))
    dE_do = {"half_sse": o - t, "sse": 2 * (o - t), "mse": 2 * (o - t) / 3}[loss]
    done = engine.update(config.from_dict(data), (0,))
    assert done.layers[0].delta[0] == approx(_jacobian_delta(o, dE_do), rel=1e-12)
    rows = {row.symbol: row for row in _section(api.trace(data).records, "delta").rows}
    assert rows["ḡ"].value == approx(float(np.sum(-dE_do * o)))
    assert rows["δ3"].formula == "{o3}·({g3} − {ḡ})"


def _section(trace, kind: str, title: str = "output"):
    return next(s for s in trace.steps[0].sections if s.kind == kind and title in s.title)


# ---------------------------------------------------------------- stability and rounding


def test_softmax_of_nets_of_plus_minus_1000_does_not_overflow():
    data = {
        "layers": [1, 3],
        "activation": "softmax",
        "loss": "cross_entropy",
        "learning_rate": 0.5,
        "inputs": [1],
        "targets": [0, 1, 0],
        "weights": [[[1000], [-1000], [999]]],
    }
    # no overflow, no 0/0 (e^−2000 underflows to 0, exactly as float64 holds it)
    with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
        done = engine.update(config.from_dict(data), (0,))
    o = done.layers[0].out[0]
    # by hand: e^{net − 1000} = 1, e^{−2000} (0 in float64), e^{−1}
    assert o == approx([1 / (1 + math.exp(-1)), 0.0, math.exp(-1) / (1 + math.exp(-1))])
    # E = −ln o3 = −(net3 − 1000 − ln(1 + e^−1)) = 2000 + ln(1 + e^−1): finite
    assert done.loss[0] == approx(2000 + math.log1p(math.exp(-1)), rel=1e-15)
    assert done.layers[0].delta[0] == approx(np.array([0, 1, 0]) - o)
    rows = {row.symbol: row for row in _section(api.trace(data).records, "forward").rows}
    assert rows["e^net2"].formula == "e^({net2} − {m})"  # shifted, and said so
    assert "m = 1000" in rows["Σe^net"].note


def test_round_3sf_is_carried_through_the_softmax():
    """Numerators, the denominator and each o_k rounded in turn, as a student does."""

    def r(value: float) -> float:
        return float(f"{value:.3g}")

    data = {
        "layers": [2, 3],
        "activation": "softmax",
        "loss": "cross_entropy",
        "learning_rate": 1,
        "inputs": [0.35, 0.9],
        "targets": [0, 0, 1],
        "weights": [[[0.1, 0.8], [0.4, 0.6], [-0.3, 0.9]]],
    }
    nets = [r(0.1 * 0.35 + 0.8 * 0.9), r(0.4 * 0.35 + 0.6 * 0.9), r(-0.3 * 0.35 + 0.9 * 0.9)]
    numerators = [r(math.exp(net)) for net in nets]
    denominator = r(sum(numerators))
    outs = [r(e / denominator) for e in numerators]
    loss = r(-math.log(outs[2]))
    values = {
        row.symbol: row.value
        for s in api.trace(data, rounding="3sf").records.steps[0].sections
        for row in s.rows
    }
    assert [values[f"e^net{u}"] for u in (3, 4, 5)] == numerators
    assert values["Σe^net"] == denominator
    assert [values[f"o{u}"] for u in (3, 4, 5)] == outs
    assert values["E"] == loss
    assert values["δ5"] == r(1 - outs[2])


# ---------------------------------------------------------------- leaky_relu and elu


@settings(max_examples=200, deadline=None)
@given(
    st.floats(-30, 30, allow_nan=False).filter(lambda z: abs(z) > 1e-6),
    st.sampled_from([0.01, 0.2, 1.5]),
)
def test_leaky_relu_and_elu_and_their_derivatives(z, slope):
    leaky = activations.get("leaky_relu", slope)
    elu = activations.get("elu")
    net = np.array([[z]])
    assert leaky.forward(net)[0, 0] == (z if z > 0 else slope * z)
    # e^z − 1 computed directly loses digits near 0: equal within its own rounding error
    assert elu.forward(net)[0, 0] == approx(z if z > 0 else math.exp(z) - 1, rel=1e-9, abs=1e-15)
    h = 1e-7 * max(1.0, abs(z))
    for definition, scalar in (
        (leaky, lambda v: v if v > 0 else slope * v),
        (elu, lambda v: v if v > 0 else math.expm1(v)),
    ):
        if abs(z) <= h:
            continue
        numeric = (scalar(z + h) - scalar(z - h)) / (2 * h)
        out = definition.forward(net)
        assert definition.derivative(net, out)[0, 0] == approx(numeric, rel=1e-6, abs=1e-9)
        assert definition.scalar(z) == approx(scalar(z), rel=1e-15)


def test_derivatives_at_the_kink_are_pytorchs_one_sided_values():
    zero = np.zeros((1, 1))
    assert activations.get("relu").derivative(zero, zero)[0, 0] == 0
    assert activations.get("leaky_relu", 0.2).derivative(zero, zero)[0, 0] == 0.2
    assert activations.get("elu").derivative(zero, zero)[0, 0] == 1  # α·e^0


def test_leaky_relu_slope_reaches_the_trace_and_a_saved_config(tmp_path):
    data = {
        "layers": [1, 1, 2],
        "activations": ["leaky_relu", "softmax"],
        "leaky_relu_slope": 0.2,
        "loss": "cross_entropy",
        "learning_rate": 1,
        "inputs": [-1],
        "targets": [1, 0],
        "weights": [[[0.5]], [[1.0], [-1.0]]],
    }
    rows = {row.symbol: row for row in _section(api.trace(data).records, "forward", "hidden").rows}
    assert rows["o2"].formula == "max(0.2·{net2}, {net2})"
    assert rows["o2"].value == -0.1  # 0.2·(−0.5)
    saved = tmp_path / "saved.yaml"
    result = CliRunner().invoke(
        cli, ["step", _write(tmp_path, data), "-n", "1", "--save", str(saved)]
    )
    assert result.exit_code == 0, result.output
    assert config.load(str(saved)).leaky_relu_slope == 0.2


def _write(tmp_path: Path, data: dict[str, Any]) -> str:
    path = tmp_path / "net.yaml"
    path.write_text(json.dumps(data), encoding="utf-8")  # JSON is YAML
    return str(path)


# ---------------------------------------------------------------- accuracy


def test_accuracy_per_epoch_is_each_samples_argmax_before_its_update(tmp_path):
    """Batch mode: epoch 1's forward pass is the network as given, for every sample."""
    data = json.loads(json.dumps(config_data("softmax")))
    data["mode"] = "batch"
    weights = [np.array(w) for w in data["weights"]]
    biases = [np.array(b) for b in data["biases"]]
    right = 0
    for sample in data["samples"]:
        h = np.maximum(weights[0] @ np.array(sample["inputs"]) + biases[0], 0)
        o = softmax(weights[1] @ h + biases[1])
        right += int(np.argmax(o) == np.argmax(sample["targets"]))
    result = CliRunner().invoke(
        cli, ["step", _write(tmp_path, data), "-n", "2", "--format", "json"]
    )
    epochs = json.loads(result.output)["epochs"]
    assert epochs[0]["accuracy"] == right / len(data["samples"])
    table = CliRunner().invoke(cli, ["step", _write(tmp_path, data), "-n", "2"]).output
    assert re.search(r"^\s*epoch\s+loss\s+accuracy", table, re.M), table
    assert re.search(r"accuracy \d+(\.\d)?% in epoch 1, \d+(\.\d)?% in epoch 2", table)


def test_bce_networks_count_an_output_right_on_its_side_of_one_half(tmp_path):
    data = {
        "layers": [1, 2],
        "activation": "sigmoid",
        "loss": "bce",
        "learning_rate": 0.1,
        "mode": "batch",
        "samples": [{"inputs": [1], "targets": [1, 0]}, {"inputs": [-1], "targets": [1, 1]}],
        "weights": [[[2.0], [0.5]]],
    }
    # o = σ(2x), σ(0.5x): sample 1 (0.88, 0.62) → 1 of 2 right; sample 2 (0.12, 0.38) → 0 of 2
    result = CliRunner().invoke(
        cli, ["step", _write(tmp_path, data), "-n", "1", "--format", "json"]
    )
    assert json.loads(result.output)["epochs"][0]["accuracy"] == 0.25


def test_losses_without_classes_have_no_accuracy():
    result = CliRunner().invoke(cli, ["step", "lecture", "-n", "2", "--format", "json"])
    assert "accuracy" not in json.loads(result.output)["epochs"][0]


def config_data(name: str) -> dict[str, Any]:
    """A built-in example as a plain mapping (its named weights as matrices)."""
    spec = config.load(name)
    return {
        "layers": list(spec.layers),
        "activations": list(spec.activations),
        "loss": spec.loss,
        "learning_rate": spec.learning_rate,
        "samples": [
            {"inputs": s.inputs.tolist(), "targets": s.targets.tolist()} for s in spec.samples
        ],
        "weights": [w.tolist() for w in spec.weights],
        "biases": [b.tolist() for b in spec.biases],
    }


def test_the_built_in_example_learns_in_a_few_hundred_epochs():
    done = api.train("softmax", 300).records
    assert done.accuracy[0] < 0.5 and done.accuracy[-1] == 1.0
    assert done.losses_after[-1] < 0.05 * done.loss_start


# ---------------------------------------------------------------- check's named slips


def _marked(answers: dict[str, float], source: Any) -> dict[str, Any]:
    report = api.check_report(answers, source)
    return {v.key[2]: v for v in report.verdicts if v.answer is not None}


SOFTMAX_NET = {
    "layers": [2, 3],
    "activation": "softmax",
    "loss": "cross_entropy",
    "learning_rate": 1,
    "inputs": [0.35, 0.9],
    "targets": [0, 1, 0],
    "weights": [[[0.1, 0.8], [0.4, 0.6], [-0.3, 0.9]]],
}


def test_check_names_softmax_delta_taken_unit_by_unit():
    o = softmax(np.array(SOFTMAX_NET["weights"][0]) @ np.array(SOFTMAX_NET["inputs"]))
    o4 = round(float(o[1]), 4)
    slipped = o4 * (1 - o4) * (1 - o4)  # δ4 = o4(1 − o4)(t4 − o4), as if softmax were σ
    marked = _marked({"o4": o4, "delta4": round(slipped, 4)}, SOFTMAX_NET)
    assert marked["δ4"].kind == "wrong"
    assert marked["δ4"].mistakes[0] == "softmax's δ computed unit by unit, o(1 − o)(t − o)"


def test_check_names_log_base_10_in_the_loss():
    o = softmax(np.array(SOFTMAX_NET["weights"][0]) @ np.array(SOFTMAX_NET["inputs"]))
    o4 = round(float(o[1]), 4)
    marked = _marked({"o4": o4, "E": round(-math.log10(o4), 4)}, SOFTMAX_NET)
    assert marked["E"].mistakes[0] == "the loss with log base 10 instead of the natural log ln"


def test_check_names_t_and_o_swapped_in_the_loss():
    smoothed = dict(SOFTMAX_NET, targets=[0.1, 0.8, 0.1])
    o = softmax(np.array(SOFTMAX_NET["weights"][0]) @ np.array(SOFTMAX_NET["inputs"]))
    os_ = [round(float(v), 4) for v in o]
    swapped = -sum(oi * math.log(ti) for oi, ti in zip(os_, [0.1, 0.8, 0.1]))
    answers = {"o3": os_[0], "o4": os_[1], "o5": os_[2], "E": round(swapped, 4)}
    marked = _marked(answers, smoothed)
    assert marked["E"].mistakes[0] == "t and o swapped in the loss (−Σ o·ln t)"


def test_a_loss_from_a_slipped_output_follows_from_it_as_written():
    """o2 written as 0.561 (a slip: the right o2 is 0.565) stands for anything in
    [0.5605, 0.5615): −ln of that is (0.5771, 0.5790], so a loss of 0.579 follows from it,
    though −ln 0.561 = 0.5780."""
    assert f"{-math.log(0.5605):.3f}" == "0.579" and f"{-math.log(0.561):.3f}" == "0.578"
    # a 2-class net with o2 = 0.565: net2 − net3 = ln(o/(1 − o))
    gap = math.log(0.565 / (1 - 0.565))
    data = dict(SOFTMAX_NET, layers=[1, 2], inputs=[1], targets=[1, 0], weights=[[[gap], [0.0]]])
    marked = _marked({"o2": 0.561, "E": 0.579}, data)
    assert marked["o2"].kind == "wrong"
    assert marked["E"].kind == "follows", marked["E"]


# ---------------------------------------------------------------- messages


def _lecture_with(tmp_path: Path, **changes: Any) -> str:
    data = {
        "layers": [2, 2, 3],
        "activations": ["relu", "softmax"],
        "loss": "cross_entropy",
        "learning_rate": 0.5,
        "samples": [
            {"inputs": [0.5, -0.3], "targets": [0, 1, 0]},
            {"inputs": [0.1, 0.9], "targets": [1, 0, 0]},
        ],
        "weights": [[[0.1, 0.8], [0.4, -0.6]], [[0.3, 0.9], [-0.2, 0.5], [0.7, -0.1]]],
    }
    data.update(changes)
    path = tmp_path / "net.yaml"
    lines = [f"{key}: {json.dumps(value)}" for key, value in data.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"activations": ["softmax", "softmax"]},
            "line 2, column 15, activations[0]: softmax is for the output layer only (its outputs "
            "are one distribution over the classes); use one of sigmoid, tanh, relu, linear, "
            "leaky_relu, elu in hidden layers",
        ),
        (
            {"activations": ["relu", "sigmoid"]},
            "line 3, column 1, loss: cross_entropy needs a softmax output layer (its o_k sum to "
            "1): write `softmax` as the last activation; with sigmoid outputs the loss is bce",
        ),
        (
            {"loss": "bce"},
            "line 3, column 1, loss: bce needs outputs in (0, 1): use `sigmoid` on the output "
            "layer, or another loss (cross_entropy for a softmax output)",
        ),
        (
            {
                "samples": [
                    {"inputs": [0.5, -0.3], "targets": [0, 1, 0]},
                    {"inputs": [0.1, 0.9], "targets": [1.5, -0.5, 0]},
                ]
            },
            "line 5, column 98, samples[1].targets[1]: -0.5 is negative; sample 2's targets for "
            "cross_entropy are probabilities of the classes: non-negative and summing to 1 "
            "(one-hot, e.g. [0, 1, 0])",
        ),
        (
            {
                "samples": [
                    {"inputs": [0.5, -0.3], "targets": [0, 1, 0]},
                    {"inputs": [0.1, 0.9], "targets": [0.5, 0.3, 0.1]},
                ]
            },
            "line 5, column 81, samples[1].targets: sample 2's targets sum to 0.9, not 1; "
            "cross_entropy needs a distribution over the classes (one-hot, e.g. [0, 1, 0], or "
            "smoothed)",
        ),
        (
            {"activations": ["leaky_relu", "softmax"], "leaky_relu_slope": 0},
            "line 7, column 1, leaky_relu_slope: 0 is not > 0; leaky_relu's slope for net ≤ 0 "
            "must be positive (PyTorch's default is 0.01; 0 would be relu)",
        ),
    ],
    ids=["softmax hidden", "ce sigmoid", "bce softmax", "negative", "sum", "slope"],
)
def test_bad_classification_configs_get_one_clear_line(tmp_path, changes, message):
    path = _lecture_with(tmp_path, **changes)
    result = CliRunner().invoke(cli, ["run", path])
    assert result.exit_code == 2
    assert result.output == f"Error: {path}, {message}\n"


# ---------------------------------------------------------------- markdown and the guide


def test_katex_and_mermaid_parse_the_classification_markdown(tmp_path):
    from node_parsers import check, pieces

    nets = {
        "leaky_elu": {
            "layers": [2, 2, 2, 3],
            "activations": ["leaky_relu", "elu", "softmax"],
            "leaky_relu_slope": 0.2,
            "loss": "half_sse",
            "learning_rate": 0.5,
            "inputs": [0.5, -0.3],
            "targets": [0, 1, 0],
            "weights": [
                [[0.1, 0.8], [-0.4, 0.6]],
                [[0.3, -0.9], [-0.2, 0.5]],
                [[0.3, 0.9], [-0.2, 0.5], [0.7, -0.1]],
            ],
        },
        "shifted": dict(SOFTMAX_NET, layers=[1, 3], inputs=[1], weights=[[[1000], [-1000], [999]]]),
    }
    runner = CliRunner()
    documents = []
    for name, data in nets.items():
        path = tmp_path / f"{name}.yaml"
        path.write_text(json.dumps(data), encoding="utf-8")
        for extra in ([], ["--gradients"], ["--round", "3sf"]) if name != "shifted" else ([],):
            result = runner.invoke(cli, ["run", str(path), "--format", "markdown", *extra])
            assert result.exit_code == 0, result.output
            documents.append(result.output)
    for extra in (
        ["run", "softmax", "--gradients"],
        ["step", "softmax", "-n", "5", "--trace", "1"],
    ):
        documents.append(runner.invoke(cli, [*extra, "--format", "markdown"]).output)
    math_parts, diagrams = [], []
    for text in documents:
        m, d = pieces(text)
        math_parts += m
        diagrams += d
    assert len(math_parts) > 200 and diagrams
    report = check(math_parts, diagrams)
    assert report["math"] == [] and report["mermaid"] == []


def test_the_student_guides_excerpt_is_the_current_output():
    guide = (ROOT / "docs" / "student-guide.md").read_text(encoding="utf-8")
    section = guide.split("## Classification", 1)[1].split("\n## ", 1)[0]
    excerpt = re.search(r"```console\n\$ backtrace run softmax\n…\n(.*?)\n```", section, re.S)
    excerpt = excerpt.group(1)
    result = CliRunner().invoke(cli, ["run", "softmax"], env={"COLUMNS": "80"})
    shown = "\n".join(line.rstrip() for line in result.output.splitlines())
    for part in excerpt.split("\n…\n"):
        assert part in shown, f"docs/student-guide.md's excerpt is stale: {part[:120]!r}"
    step = CliRunner().invoke(cli, ["step", "softmax", "-n", "300"], env={"COLUMNS": "200"})
    assert "accuracy 0% in epoch 1, 100% in epoch 300" in step.output


def test_exercise_variants_of_a_softmax_network_keep_each_samples_class(tmp_path):
    result = CliRunner().invoke(
        # a band given: the default one is 128 pilot draws of 6 online updates (8 s), and is
        # tested on its own (tests/test_exercise.py); the classes kept are what this asks
        cli,
        [
            "exercise",
            "softmax",
            "--variants",
            "2",
            "--seed",
            "1",
            "--loss-band",
            "0.01,100",
            "-o",
            str(tmp_path / "ex"),
        ],
    )
    assert result.exit_code == 0, result.output
    original = [s.targets.tolist() for s in config.load("softmax").samples]
    for path in sorted((tmp_path / "ex" / "configs").glob("*.yaml")):
        variant = config.load(str(path))
        assert [s.targets.tolist() for s in variant.samples] == original  # one-hot, as given
        assert variant.weights[0].tolist() != config.load("softmax").weights[0].tolist()
    sheet = next((tmp_path / "ex" / "questions").glob("*v01.md")).read_text(encoding="utf-8")
    assert "`exp6`" in sheet and "`sumexp`" in sheet  # the softmax's parts are asked too
