"""An rnn's given initial state h0, stacked layers (torch's num_layers) and two directions
(bidirectional) (issue #28). Every expected number comes from outside the program: the small
example worked step by step with math in the test, random models worked by hand with numpy
(tests/rnn_by_hand.py: torch's documented recurrence, then backpropagation through time a step
at a time), and central finite differences of that hand-written forward pass."""

from __future__ import annotations

import copy
import json
import math

import numpy as np
import pytest
import rnn_by_hand
import yaml
from model_commands import exercised

from backtrace_cli import api, formula, models
from backtrace_cli.cli import cli
from backtrace_cli.core.errors import ConfigError
from backtrace_cli.network.model_names import typed

# two stacked layers from a given h0, its last step into a linear output
TWO = {
    "name": "two layers",
    "model": [
        {
            "rnn": {
                "input_size": 1,
                "hidden_size": 2,
                "num_layers": 2,
                "h0": [[0.1, -0.2], [0.3, 0.05]],
            }
        },
        "last",
        {"linear": {"in_features": 2, "out_features": 1}},
    ],
    "parameters": {
        "0.weight_ih_l0": [[0.5], [-0.3]],
        "0.weight_hh_l0": [[0.2, -0.4], [0.6, 0.1]],
        "0.bias_ih_l0": [0.1, -0.2],
        "0.bias_hh_l0": [0.05, 0.1],
        "0.weight_ih_l1": [[0.3, 0.7], [-0.5, 0.2]],
        "0.weight_hh_l1": [[0.1, 0.4], [-0.3, 0.2]],
        "0.bias_ih_l1": [0.2, 0.1],
        "0.bias_hh_l1": [-0.1, 0.3],
        "2.weight": [[0.7, -0.5]],
        "2.bias": [0.2],
    },
    "loss": "mse",
    "learning_rate": 0.1,
    "inputs": [[1.0], [0.5], [-1.0]],
    "targets": [0.5],
}


# the example as a config file writes it, for the messages' lines
TEXT = (
    """name: two layers
model:
  - rnn: {input_size: 1, hidden_size: 2, num_layers: 2, h0: [[0.1, -0.2], [0.3, 0.05]]}
  - last
  - linear: {in_features: 2, out_features: 1}
parameters:
"""
    + "".join(f"  {name}: {value}\n" for name, value in TWO["parameters"].items())
    + """loss: mse
learning_rate: 0.1
inputs: [[1.0], [0.5], [-1.0]]
targets: [0.5]
"""
)


def _rows(data: dict, **options) -> dict[str, float]:
    """Every row of the trace by the name an answers file types."""
    records = api.trace(data, **options).records
    return {typed(row.symbol): row.value for step in records.steps for _, row in step.equations()}


# ---------------------------------------------------------------- the small example by hand


def test_two_stacked_layers_from_a_given_h0_worked_by_hand():
    """Layer l0 reads x and its own state, from h0's first row (0.1, −0.2); layer l1 reads l0's
    states and its own, from h0's second row (0.3, 0.05). T = 3, MSE of one output."""
    rows = _rows(TWO)
    f = math.tanh
    # l0, step 0: the input's term, b_ih, the given state through w_hh, b_hh
    l0 = [
        (
            f(0.5 * 1.0 + 0.1 + 0.2 * 0.1 - 0.4 * -0.2 + 0.05),
            f(-0.3 * 1.0 - 0.2 + 0.6 * 0.1 + 0.1 * -0.2 + 0.1),
        )
    ]
    for x in (0.5, -1.0):
        a, b = l0[-1]
        l0.append(
            (
                f(0.5 * x + 0.1 + 0.2 * a - 0.4 * b + 0.05),
                f(-0.3 * x - 0.2 + 0.6 * a + 0.1 * b + 0.1),
            )
        )
    # l1: its input at step t is l0's state at step t; before step 0 the state is (0.3, 0.05)
    l1, previous = [], (0.3, 0.05)
    for a, b in l0:
        c, d = previous
        previous = (
            f(0.3 * a + 0.7 * b + 0.2 + 0.1 * c + 0.4 * d - 0.1),
            f(-0.5 * a + 0.2 * b + 0.1 - 0.3 * c + 0.2 * d + 0.3),
        )
        l1.append(previous)
    for t in range(3):
        for j in range(2):
            assert rows[f"h0_l0[{t},{j}]"] == pytest.approx(l0[t][j], rel=1e-12)
            assert rows[f"h0_l1[{t},{j}]"] == pytest.approx(l1[t][j], rel=1e-12)
    y = 0.7 * l1[2][0] - 0.5 * l1[2][1] + 0.2
    assert rows["y2[0]"] == pytest.approx(y, rel=1e-12)
    # back: δ = 2(t − y) into `last`, step 2 of l1 alone
    delta = 2 * (0.5 - y)
    dnet1_2 = ((1 - l1[2][0] ** 2) * 0.7 * delta, (1 - l1[2][1] ** 2) * -0.5 * delta)
    # l0's last step gets its δ from l1 above through w_ih_l1 (column j), nothing from later
    dh0_2 = (0.3 * dnet1_2[0] - 0.5 * dnet1_2[1], 0.7 * dnet1_2[0] + 0.2 * dnet1_2[1])
    assert rows["deltah0_l0[2,0]"] == pytest.approx(dh0_2[0], rel=1e-12)
    assert rows["deltah0_l0[2,1]"] == pytest.approx(dh0_2[1], rel=1e-12)
    dh1_1 = (0.1 * dnet1_2[0] - 0.3 * dnet1_2[1], 0.4 * dnet1_2[0] + 0.2 * dnet1_2[1])
    dnet1_1 = ((1 - l1[1][0] ** 2) * dh1_1[0], (1 - l1[1][1] ** 2) * dh1_1[1])
    dh1_0 = (0.1 * dnet1_1[0] - 0.3 * dnet1_1[1], 0.4 * dnet1_1[0] + 0.2 * dnet1_1[1])
    dnet1_0 = (1 - l1[0][0] ** 2) * dh1_0[0]
    # w_hh_l1[0,0] is used at every step, step 0's term with h0's 0.3: a sum of three
    grad = -(dnet1_0 * 0.3 + dnet1_1[0] * l1[0][0] + dnet1_2[0] * l1[1][0])
    assert rows["dE/dw_hh0_l1[0,0]"] == pytest.approx(grad, rel=1e-12)


def test_the_first_step_writes_the_given_state_by_its_name():
    records = api.trace(TWO).records
    rows = {r.symbol: r for _, r in records.steps[0].equations()}
    assert rows["net0_l0[0,0]"].formula == (
        "{w_ih0_l0[0,0]}·{x[0,0]} + {b_ih0_l0[0]} + {w_hh0_l0[0,0]}·{h0_l0[-1,0]} + "
        "{w_hh0_l0[0,1]}·{h0_l0[-1,1]} + {b_hh0_l0[0]}"
    )
    assert dict(rows["net0_l1[0,1]"].values())["h0_l1[-1,0]"] == 0.3
    # l1 reads l0's states as its input
    assert "{w_ih0_l1[0,1]}·{h0_l0[2,1]}" in rows["net0_l1[2,0]"].formula
    # l0's δ comes from l1 above (through w_ih_l1) and from step 2 (through w_hh_l0)
    assert rows["δh0_l0[1,0]"].formula == (
        "{w_ih0_l1[0,0]}·{δnet0_l1[1,0]} + {w_ih0_l1[1,0]}·{δnet0_l1[1,1]} + "
        "{w_hh0_l0[0,0]}·{δnet0_l0[2,0]} + {w_hh0_l0[1,0]}·{δnet0_l0[2,1]}"
    )
    first = rows["∂E/∂w_hh0_l0[0,1]"].formula
    assert first.startswith("−({δnet0_l0[0,0]}·{h0_l0[-1,1]} + ")


def test_one_layer_from_the_state_0_writes_no_state_before_the_first_step():
    """h0 left out: torch's 0, and no w_hh terms at step 0 (the built-in example's rows)."""
    data = copy.deepcopy(TWO)
    del data["model"][0]["rnn"]["h0"]
    rows = {r.symbol: r for _, r in api.trace(data).records.steps[0].equations()}
    assert "w_hh" not in rows["net0_l1[0,0]"].formula
    assert "h0_l1[-1" not in rows["∂E/∂w_hh0_l1[0,0]"].formula


# ---------------------------------------------------------------- random models by hand


def _random(seed: int, layers: int, two: bool, given: bool, top: str, relu: bool) -> dict:
    rng = np.random.default_rng(seed)
    steps, inputs, hidden = (
        int(rng.integers(2, 5)),
        int(rng.integers(1, 3)),
        int(rng.integers(1, 4)),
    )
    directions = 2 if two else 1
    rnn: dict = {"input_size": inputs, "hidden_size": hidden, "num_layers": layers}
    rnn |= {"bidirectional": two, "nonlinearity": "relu" if relu else "tanh", "bias": seed % 3 != 2}
    if given:
        rnn["h0"] = (rng.normal(size=(layers * directions, hidden)) * 0.5).tolist()
    parameters = {}
    for layer in range(layers):
        for tail in ("", "_reverse")[:directions]:
            width = inputs if layer == 0 else directions * hidden
            parameters[f"0.weight_ih_l{layer}{tail}"] = rng.normal(size=(hidden, width)).tolist()
            parameters[f"0.weight_hh_l{layer}{tail}"] = (
                0.6 * rng.normal(size=(hidden, hidden))
            ).tolist()
            if rnn["bias"]:
                parameters[f"0.bias_ih_l{layer}{tail}"] = rng.normal(size=hidden).tolist()
                parameters[f"0.bias_hh_l{layer}{tail}"] = rng.normal(size=hidden).tolist()
    features = directions * hidden * (steps if top == "flatten" else 1)
    model: list = [{"rnn": rnn}, *([top] if top != "each" else [])]
    model.append({"linear": {"in_features": features, "out_features": 2}})
    n = len(model) - 1
    parameters[f"{n}.weight"] = (0.7 * rng.normal(size=(2, features))).tolist()
    parameters[f"{n}.bias"] = rng.normal(size=2).tolist()
    return {
        "model": model,
        "parameters": parameters,
        "loss": str(rng.choice(["half_sse", "sse", "mse"])),
        "learning_rate": 0.1,
        "inputs": rng.normal(size=(steps, inputs)).tolist(),
        "targets": rng.normal(size=(steps, 2) if top == "each" else 2).tolist(),
    }


FORMS = [
    (layers, two, given, top, relu)
    for layers, two in ((1, False), (2, False), (3, False), (1, True), (2, True))
    for given, top, relu in (
        (True, "last", False),
        (False, "each", False),
        (True, "flatten", True),
        (True, "each", False),
    )
]


@pytest.mark.parametrize("seed", range(2))
@pytest.mark.parametrize(("layers", "two", "given", "top", "relu"), FORMS)
def test_every_rnn_row_of_a_random_model_is_its_value_worked_by_hand(
    seed, layers, two, given, top, relu
):
    data = _random(seed, layers, two, given, top, relu)
    traced = _rows(data)
    hand = rnn_by_hand.worked(data)
    for name, value in hand.items():
        assert traced[name] == pytest.approx(value, rel=1e-9, abs=1e-12), name
    # and the trace has no rnn row the hand working has not
    heads = (
        "net0",
        "h0",
        "deltah0",
        "deltanet0",
        "dE/dw_ih0",
        "dE/dw_hh0",
        "dE/db_ih0",
        "dE/db_hh0",
    )
    own = {name for name in traced if name.startswith(heads)}
    assert own <= set(hand), sorted(own - set(hand))[:5]


@pytest.mark.parametrize(("layers", "two", "given", "top", "relu"), FORMS[::2])
def test_every_gradient_is_the_central_finite_difference_of_the_hand_forward_pass(
    layers, two, given, top, relu
):
    data = _random(5, layers, two, given, top, relu)
    gradients = api.trace(data).records.steps[0].gradients
    for name, numeric in rnn_by_hand.central_differences(data).items():
        assert gradients[name] == pytest.approx(numeric, rel=1e-5, abs=1e-7), name


def test_verify_agrees_on_a_bidirectional_stacked_model_from_h0():
    data = _random(1, 2, True, True, "each", False)
    checks = api.trace(data, verify=True).records.checks
    assert len(checks) == sum(np.size(v) for v in data["parameters"].values())
    assert all(c.agrees for c in checks)


def test_the_delta_a_bidirectional_stack_sends_below_trains_the_layer_under_it():
    """conv1d (its 3 channels the steps) → rnn (two layers, two directions, h0) → last →
    linear: the conv's gradients are only right if δx[t,i] sums both directions'
    Σ_j w_ih_l0[j,i]·δnet_l0[t,j]; --verify's central differences say they are, and the row
    writes both sums."""
    rng = np.random.default_rng(4)
    steps, width, hidden = 3, 3, 2
    parameters = {"0.weight": rng.normal(size=(steps, 1, 2)).tolist(), "0.bias": [0.1, -0.2, 0.3]}
    for layer, given in ((0, width), (1, 2 * hidden)):
        for tail in ("", "_reverse"):
            shapes = {"weight_ih": (hidden, given), "weight_hh": (hidden, hidden)}
            shapes |= {"bias_ih": (hidden,), "bias_hh": (hidden,)}
            for kind, shape in shapes.items():
                parameters[f"1.{kind}_l{layer}{tail}"] = rng.normal(size=shape).tolist()
    parameters |= {"3.weight": rng.normal(size=(1, 2 * hidden)).tolist(), "3.bias": [0.1]}
    rnn = {"input_size": width, "hidden_size": hidden, "num_layers": 2, "bidirectional": True}
    rnn["h0"] = rng.normal(size=(4, hidden)).tolist()
    data = {
        "model": [
            {"conv1d": {"in_channels": 1, "out_channels": steps, "kernel_size": 2}},
            {"rnn": rnn},
            "last",
            {"linear": {"in_features": 2 * hidden, "out_features": 1}},
        ],
        "parameters": parameters,
        "loss": "mse",
        "learning_rate": 0.1,
        "inputs": [[0.5, -1.2, 0.3, 0.8]],
        "targets": [0.2],
    }
    worked = api.trace(data, verify=True).records
    assert all(c.agrees for c in worked.checks)
    assert [c.name for c in worked.checks][:2] == ["w0[0,0,0]", "w0[0,0,1]"]
    rows = {r.symbol: r for _, r in worked.steps[0].equations()}
    assert rows["δ0[2,1]"].formula.count("δnet1_l0_reverse[2,") == hidden
    assert rows["δ0[2,1]"].formula.count("δnet1_l0[2,") == hidden


def test_every_row_is_its_formula_and_the_markdown_parses_with_adam():
    from node_parsers import check, pieces

    data = _random(3, 2, True, True, "last", False) | {"optimizer": "adam"}
    worked = api.trace(data)
    for step in worked.records.steps:
        for _, row in step.equations():
            value = formula.evaluate(formula.parse(row.formula), row.values())
            assert value == pytest.approx(row.value, rel=1e-9, abs=1e-12), row.symbol
    markdown = worked.markdown()
    report = check(*pieces(markdown))
    assert report["math"] == [] and report["mermaid"] == [], report
    # the diagram: a box per stacked layer, each with the shape it gives
    assert '["0: rnn l0<br/>' in markdown and '["0: rnn l1<br/>' in markdown
    # δh is written as δ·h, never as a state h
    assert "\\delta h^{(0,\\,\\ell_{1},\\,\\leftarrow)}" in markdown


@pytest.mark.parametrize("rounding", ["3sf", "4dp"])
def test_under_round_every_row_of_a_stacked_model_adds_up(rounding):
    from backtrace_cli.core.rounding import written

    records = api.trace(_random(0, 2, True, True, "last", False), rounding=rounding).records
    for step in records.steps:
        for section, row in step.equations():
            if section.kind == "update":
                continue  # the update's own question (tests/test_rnn.py)
            value = formula.evaluate(
                formula.parse(row.formula), row.values(), lambda v: written(v, rounding)
            )
            assert written(value, rounding) == written(row.value, rounding), row.symbol


# ---------------------------------------------------------------- marking, saving, exercises


def test_answers_typed_as_the_sheet_names_them_are_right_and_a_wrong_state_is_followed():
    hand = rnn_by_hand.worked(TWO)
    report = api.check({name: round(value, 9) for name, value in hand.items()}, TWO)
    # every answer given right; the rest (y, e, E, the updates) left unanswered
    assert report["counts"]["right"] == len(hand) and report["counts"]["wrong"] == 0
    # h0_l0[0,0] off by 0.2: l1's net at step 0 reads it through w_ih_l1[0,0] = 0.3
    answers = {
        "h0_l0[0,0]": hand["h0_l0[0,0]"] + 0.2,
        "net0_l1[0,0]": hand["net0_l1[0,0]"] + 0.3 * 0.2,
        "deltanet0_l1[1,0]": hand["deltanet0_l1[1,0]"],
    }
    verdicts = {a["symbol"]: a["verdict"] for a in api.check(answers, TWO)["answers"]}
    assert verdicts == {
        "h0_l0[0,0]": "wrong",
        "net0_l1[0,0]": "follows from your h0_l0[0,0]",
        "δnet0_l1[1,0]": "right",
    }


def test_quiz_asks_a_stacked_layers_tensor(runner, tmp_path):
    hand = rnn_by_hand.worked(TWO)
    asked = [f"deltanet0_l1[{t},{j}]" for t in (2, 1, 0) for j in range(2)]
    path = tmp_path / "two.yaml"
    path.write_text(TEXT, encoding="utf-8")
    typed_in = "".join(f"{hand[name]:.9g}\n" for name in asked)
    result = runner.invoke(cli, ["quiz", str(path), "--ask", "deltanet0_l1"], input=typed_in)
    assert result.exit_code == 0, result.output
    assert "Score: 6 of 6" in result.output


def test_step_save_writes_torchs_names_in_its_order_and_h0_back(runner, tmp_path):
    data = _random(0, 2, True, True, "last", False)
    source = tmp_path / "bi.yaml"
    source.write_text(yaml.safe_dump(data), encoding="utf-8")
    out = tmp_path / "after.yaml"
    result = runner.invoke(cli, ["step", str(source), "--epochs", "1", "--save", str(out)])
    assert result.exit_code == 0, result.output
    saved = yaml.safe_load(out.read_text(encoding="utf-8"))
    # torch's state dict: l0, l0_reverse, l1, l1_reverse, each w_ih, w_hh, b_ih, b_hh
    keys = [
        f"0.{kind}_l{layer}{tail}"
        for layer in range(2)
        for tail in ("", "_reverse")
        for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
    ]
    assert list(saved["parameters"])[: len(keys)] == keys
    rnn = saved["model"][0]["rnn"]
    assert rnn["num_layers"] == 2 and rnn["bidirectional"] is True
    assert rnn["h0"] == data["model"][0]["rnn"]["h0"]  # an input, never trained
    # one SGD step: each saved parameter is θ − η·∂E/∂θ, ∂E/∂θ by central differences
    base = {k: np.array(v, dtype=float) for k, v in data["parameters"].items()}
    name, index = "0.weight_hh_l1_reverse", (0, 0)

    def loss(shift: float) -> float:
        moved = {k: v.copy() for k, v in base.items()}
        moved[name][index] += shift
        return rnn_by_hand.forward(data, moved)["E"]

    numeric = (loss(1e-6) - loss(-1e-6)) / 2e-6
    expected = base[name][index] - 0.1 * numeric
    assert np.array(saved["parameters"][name])[index] == pytest.approx(expected, rel=1e-7)
    again = runner.invoke(cli, ["run", str(out)])
    assert again.exit_code == 0, again.output


def test_the_json_names_the_layers_arguments_and_gradients_as_torch_does(runner, tmp_path):
    path = tmp_path / "two.yaml"
    path.write_text(yaml.safe_dump(TWO), encoding="utf-8")
    result = runner.invoke(cli, ["run", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    layer = data["model"]["layers"][0]
    assert layer["arguments"]["num_layers"] == 2
    assert layer["arguments"]["h0"] == [[0.1, -0.2], [0.3, 0.05]]
    assert list(data["steps"][0]["gradients"])[:8] == list(TWO["parameters"])[:8]


def test_exercise_draws_h0_with_the_inputs_and_the_sheet_gives_it(runner, tmp_path):
    for drawn, sheet in exercised(runner, tmp_path, TWO, 3):
        h0 = np.array(drawn["model"][0]["rnn"]["h0"])
        assert h0.shape == (2, 2) and not np.isin(h0, (0.0, 1.0, -1.0)).any()
        assert not np.array_equal(h0, TWO["model"][0]["rnn"]["h0"])
        assert "| h0 of layer 0 (its initial state) |" in sheet
        for name in drawn["parameters"]:
            assert f"| `{name}` |" in sheet
        assert "`deltanet0_l1[1,0]`" in sheet and "`dE/dw_hh0_l1[0,0]`" in sheet
        # the key marks its own answers right: the variant's h0 is the one traced
        hand = rnn_by_hand.worked(drawn)
        report = api.check({name: round(v, 9) for name, v in hand.items()}, drawn)
        assert report["counts"]["right"] == len(hand) and report["counts"]["wrong"] == 0


# ---------------------------------------------------------------- bad configs


def _error(data: dict) -> str:
    with pytest.raises(ConfigError) as caught:
        models.from_dict(data)
    return str(caught.value)


def _with(**rnn) -> dict:
    data = copy.deepcopy(TWO)
    data["model"][0]["rnn"] |= rnn
    return data


def test_an_h0_of_the_wrong_shape_says_torchs_shape():
    assert _error(_with(h0=[[0.1, -0.2]])) == (
        "<dict>, model[0].rnn.h0: found 1 row where 2 are expected: h0 is "
        "[num_layers × directions][hidden_size], [2][2]"
    )
    assert _error(_with(h0=[[0.1, -0.2], [0.3]])) == (
        "<dict>, model[0].rnn.h0[1]: has 1 number; expected 2 (h0 is "
        "[num_layers × directions][hidden_size], [2][2])"
    )
    assert _error(_with(h0=[[0.1, "x"], [0.3, 0.2]])) == (
        "<dict>, model[0].rnn.h0[0][1]: 'x' is not a number; expected a number"
    )
    assert "found a mapping where 2 are expected" in _error(_with(h0={"a": 1}))
    # one layer, one direction: torch's [1][hidden], or one list
    one = _with(num_layers=1, h0=[0.1, -0.2, 0.3])
    one["parameters"] = {k: v for k, v in one["parameters"].items() if "_l1" not in k}
    assert _error(one) == (
        "<dict>, model[0].rnn.h0: has 3 numbers; expected 2 (h0 is "
        "[num_layers × directions][hidden_size], [1][2], or one list of 2 numbers)"
    )
    one["model"][0]["rnn"]["h0"] = [0.1, -0.2]
    assert models.from_dict(one).layers[0].argument("h0") == ((0.1, -0.2),)


def test_num_layers_and_bidirectional_say_what_is_valid():
    assert _error(_with(num_layers=0)) == (
        "<dict>, model[0].rnn.num_layers: 0 is out of range; expected a whole number of "
        "stacked layers from 1 to 8"
    )
    assert "not a whole number" in _error(_with(num_layers="two"))
    assert _error(_with(bidirectional="yes")) == (
        "<dict>, model[0].rnn.bidirectional: 'yes' is not true or false"
    )
    missing = copy.deepcopy(TWO)
    del missing["parameters"]["0.bias_hh_l1"]
    assert _error(missing).startswith("<dict>, parameters: missing `0.bias_hh_l1` [2]; expected")
    reverse = _with(bidirectional=True, h0=[[0.0, 0.0]] * 4)
    reverse["model"][2]["linear"]["in_features"] = 4
    assert "missing `0.weight_ih_l0_reverse` [2, 1]" in _error(reverse)
