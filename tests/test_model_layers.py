"""`model:` configs (issue #28): layers as torch's nn.Sequential, parameters under torch's
state-dict names. Every expected number here comes from a derivation written in the test, the
course notes, or central finite differences of the model's own forward pass."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
import yaml

from backtrace_cli import api, models
from backtrace_cli.cli import cli
from backtrace_cli.core.errors import ConfigError
from backtrace_cli.network import model_engine
from backtrace_cli.network.model_spec import ModelSpec
from backtrace_cli.network.spec import Spec

DOCS = Path(__file__).parent.parent / "docs" / "layers.md"

LECTURE_MODEL = {
    "name": "the lecture's 2-2-1 as a model",
    "model": [
        {"linear": {"in_features": 2, "out_features": 2, "bias": False}},
        "sigmoid",
        {"linear": {"in_features": 2, "out_features": 1, "bias": False}},
        "sigmoid",
    ],
    # 0.weight row = unit, column = input: w13, w23 / w14, w24; 2.weight: w35, w45
    "parameters": {"0.weight": [[0.1, 0.8], [0.4, 0.6]], "2.weight": [[0.3, 0.9]]},
    "loss": "half_sse",
    "learning_rate": 1,
    "inputs": [0.35, 0.9],
    "targets": [0.5],
}

# A signal of 4, one kernel of 2, max-pool windows of 2 at stride 1 (they overlap), worked by
# hand below.
HAND = {
    "name": "by hand",
    "model": [
        {"conv1d": {"in_channels": 1, "out_channels": 1, "kernel_size": 2}},
        {"maxpool1d": {"kernel_size": 2, "stride": 1}},
        "flatten",
    ],
    "parameters": {"0.weight": [[[0.5, -1.0]]], "0.bias": [0.25]},
    "loss": "half_sse",
    "learning_rate": 0.1,
    "inputs": [[1.0, 2.0, -1.0, 3.0]],
    "targets": [2.0, 3.0],
}


# padding and stride on two channels, tanh, sigmoid, softmax with cross-entropy, Adam
EVERY_KIND = {
    "model": [
        {"conv1d": {"in_channels": 2, "out_channels": 2, "kernel_size": 2, "padding": 1}},
        "tanh",
        "flatten",
        {"linear": {"in_features": 8, "out_features": 3}},
        "sigmoid",
        {"linear": {"in_features": 3, "out_features": 3}},
        "softmax",
    ],
    "parameters": {
        "0.weight": [[[0.5, -0.3], [0.1, 0.2]], [[-0.2, 0.8], [0.3, -0.1]]],
        "0.bias": [0.1, 0.3],
        "3.weight": [
            [0.3, -0.6, 0.7, 0.2] * 2,
            [0.1, 0.2, -0.3, 0.4] * 2,
            [0.5, 0.1, 0.2, -0.4] * 2,
        ],
        "3.bias": [0.05, 0.0, -0.1],
        "5.weight": [[0.3, -0.6, 0.7], [0.1, 0.2, -0.3], [0.5, 0.1, 0.2]],
        "5.bias": [0.05, 0.0, -0.1],
    },
    "loss": "cross_entropy",
    "learning_rate": 0.5,
    "optimizer": "adam",
    "inputs": [[1.0, 0.2, -0.5], [0.9, 0.4, -1.2]],
    "targets": [0, 1, 0],
}


def _rows(records) -> dict[str, float]:
    return {row.symbol: row.value for step in records.steps for _, row in step.equations()}


# ---------------------------------------------------------------- linear + activations


def test_the_lectures_network_as_a_model_gives_the_lectures_numbers():
    spec = models.from_dict(LECTURE_MODEL)
    assert isinstance(spec, Spec) and spec.layers == (2, 2, 1)  # traced as the network it is
    rows = _rows(api.trace(spec).records)
    # the course notes' numbers (PRODUCT.md, "Numbers that must come out")
    expected = {"o3": 0.680267, "o5": 0.690283, "δ5": -0.040681, "δ3": -0.0026545}
    expected |= {"new w45": 0.872998, "new w13": 0.099071, "new w24": 0.592646}
    for symbol, value in expected.items():
        assert rows[symbol] == pytest.approx(value, abs=5e-7), symbol


def test_a_model_of_linear_layers_traces_exactly_as_the_same_layers_network():
    as_layers = {
        "layers": [2, 2, 1],
        "activation": "sigmoid",
        "loss": "half_sse",
        "learning_rate": 1,
        "inputs": [0.35, 0.9],
        "targets": [0.5],
        "weights": {"w13": 0.1, "w23": 0.8, "w14": 0.4, "w24": 0.6, "w35": 0.3, "w45": 0.9},
    }
    ours, theirs = api.trace(LECTURE_MODEL).records, api.trace(as_layers).records
    assert [(r.symbol, r.formula, r.value) for _, r in ours.steps[0].equations()] == [
        (r.symbol, r.formula, r.value) for _, r in theirs.steps[0].equations()
    ]


def test_the_documented_snippet_turns_a_state_dict_into_a_config(tmp_path):
    """docs/layers.md's three lines, run on a state dict built by hand: numpy arrays stand in
    for torch's tensors (both have .tolist()); torch is no test dependency."""
    snippet = re.search(r"```python\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.S).group(1)
    assert len(snippet.strip().splitlines()) == 3

    class Model:  # what the snippet reads of a torch model
        def state_dict(self):
            return {
                "0.weight": np.array([[0.1, 0.8], [0.4, 0.6]]),
                "0.bias": np.array([0.35, 0.35]),
                "2.weight": np.array([[0.3, 0.9]]),
                "2.bias": np.array([0.6]),
            }

    printed: list[str] = []
    exec(snippet, {"model": Model(), "print": printed.append})  # the docs' code, as written
    config = yaml.safe_load(printed[0])
    model = [{"linear": {"in_features": 2, "out_features": 2}}, "sigmoid"]
    model += [{"linear": {"in_features": 2, "out_features": 1}}, "sigmoid"]
    config |= {"model": model, "learning_rate": 0.5, "inputs": [0.05, 0.1], "targets": [0.01]}
    spec = models.from_dict(config)
    assert spec.weights[0].tolist() == [[0.1, 0.8], [0.4, 0.6]]
    assert spec.biases[1].tolist() == [0.6]
    # the hidden unit's net by hand: 0.1·0.05 + 0.8·0.1 + 0.35
    assert _rows(api.trace(spec).records)["net3"] == pytest.approx(0.005 + 0.08 + 0.35)


def test_step_save_writes_a_linear_model_back_with_its_names_and_adams_state(runner, tmp_path):
    config = dict(LECTURE_MODEL, optimizer="adam")
    source = tmp_path / "net.yaml"
    source.write_text(yaml.safe_dump(config), encoding="utf-8")
    saved = tmp_path / "saved.yaml"
    result = runner.invoke(cli, ["step", str(source), "-n", "2", "--save", str(saved)])
    assert result.exit_code == 0, result.output
    data = yaml.safe_load(saved.read_text(encoding="utf-8"))
    assert list(data["parameters"]) == ["0.weight", "2.weight"]
    assert set(data["optimizer_state"]) == {"t", "m", "v"}
    assert list(data["optimizer_state"]["m"]) == ["0.weight", "2.weight"]
    assert data["model"][1] == "sigmoid"
    # three epochs from the start = two, saved, then one more from the saved file
    three = api.train(source.__str__(), 3).records
    one_more = api.train(str(saved), 1).records
    assert one_more.losses_after[-1] == pytest.approx(three.losses_after[-1], rel=1e-12)


# ---------------------------------------------------------------- conv1d and maxpool1d by hand


def test_conv1d_and_maxpool1d_worked_by_hand():
    """x = [1, 2, −1, 3], w = [0.5, −1], b = 0.25: y[t] = 0.5·x[t] − x[t+1] + 0.25 →
    y = [−1.25, 2.25, −3.25]. Windows {y0, y1} and {y1, y2} both keep y1 = 2.25: p = [2.25,
    2.25]. E = ½((2 − 2.25)² + (3 − 2.25)²) = 0.3125; δp = t − p = [−0.25, 0.75]. Both
    windows send their δ to y1: δy = [0, 0.5, 0]. ∂E/∂w[k] = −Σ_t δy[t]·x[t + k]: −0.5·2 = −1
    and −0.5·(−1) = 0.5; ∂E/∂b = −0.5. SGD, η = 0.1: w = [0.6, −1.05], b = 0.3."""
    records = api.trace(HAND).records
    rows = _rows(records)
    assert [rows[f"y0[0,{t}]"] for t in range(3)] == pytest.approx([-1.25, 2.25, -3.25])
    assert [rows["y1[0,0]"], rows["y1[0,1]"]] == pytest.approx([2.25, 2.25])
    assert rows["E"] == pytest.approx(0.3125)
    assert [rows["δ1[0,0]"], rows["δ1[0,1]"]] == pytest.approx([-0.25, 0.75])
    assert [rows[f"δ0[0,{t}]"] for t in range(3)] == pytest.approx([0.0, 0.5, 0.0])
    assert rows["∂E/∂w0[0,0,0]"] == pytest.approx(-1.0)
    assert rows["∂E/∂w0[0,0,1]"] == pytest.approx(0.5)
    assert rows["∂E/∂b0[0]"] == pytest.approx(-0.5)
    after = dict(records.after.parameters)
    assert after["0.weight"].ravel().tolist() == pytest.approx([0.6, -1.05])
    assert after["0.bias"].tolist() == pytest.approx([0.3])


@pytest.mark.parametrize("batch_gradient", ["mean", "sum"])
def test_batch_mode_sums_each_samples_terms_before_one_update(batch_gradient):
    """HAND's sample, and x = [0.5, −1, 2, 1] with t = [1, 0]: y = [1.5, −2.25, 0.25]; the
    windows keep y0 = 1.5 and y2 = 0.25; δp = t − p = [−0.5, −0.25], so δy = [−0.5, 0, −0.25].
    −∂E/∂w[0] per sample: 0.5·2 = 1 (HAND's), −0.5·0.5 + (−0.25)·2 = −0.75; −∂E/∂b: 0.5 and
    −0.75. Batch: their mean (or sum), one update after both samples."""
    second = {"inputs": [[0.5, -1.0, 2.0, 1.0]], "targets": [1.0, 0.0]}
    first = {"inputs": HAND["inputs"], "targets": HAND["targets"]}
    data = {k: v for k, v in HAND.items() if k not in ("inputs", "targets")}
    data |= {"samples": [first, second], "mode": "batch", "batch_gradient": batch_gradient}
    records = api.trace(data, verify=True).records
    scale = 0.5 if batch_gradient == "mean" else 1.0
    rows = {r.symbol: r for _, r in records.steps[1].equations()}
    assert rows["∂E/∂w0[0,0,0]"].value == pytest.approx(-scale * (1.0 - 0.75))
    assert rows["∂E/∂b0[0]"].value == pytest.approx(-scale * (0.5 - 0.75))
    assert "{x[0,0]⁽2⁾}" in rows["∂E/∂w0[0,0,0]"].formula  # each sample's own values
    assert not any(r.symbol.startswith("∂E/") for _, r in records.steps[0].equations())
    after = dict(records.after.parameters)["0.bias"][0]
    assert after == pytest.approx(0.25 - 0.1 * -scale * (0.5 - 0.75))  # one update, η = 0.1
    assert all(c.agrees for c in records.checks)  # the batch's loss, by finite differences


def test_the_trace_names_the_receptive_field_the_kept_input_and_where_the_gradient_goes():
    sections = api.trace(HAND).records.steps[0].sections
    rows = {row.symbol: row for section in sections for row in section.rows}
    assert rows["y0[0,1]"].formula == "{w0[0,0,0]}·{x[0,1]} + {w0[0,0,1]}·{x[0,2]} + {b0[0]}"
    assert rows["y0[0,1]"].note == "receptive field x[:, 1…2]"
    assert rows["y1[0,0]"].note == "keeps y0[0,1]"
    assert rows["δ0[0,1]"].formula == "{δ1[0,0]} + {δ1[0,1]}"  # both windows kept it
    assert rows["δ0[0,1]"].note == "kept by window 0, 1"
    assert rows["δ0[0,0]"].note == "not the maximum of any window: gets no gradient"
    # the weight's gradient, a sum over the three positions the kernel was used at
    expected = "−({δ0[0,0]}·{x[0,1]} + {δ0[0,1]}·{x[0,2]} + {δ0[0,2]}·{x[0,3]})"
    assert rows["∂E/∂w0[0,0,1]"].formula == expected


def test_a_position_no_pool_window_reads_is_noted_as_in_no_window():
    # HAND's pool at stride 2: windows y0[0,0…1] and y0[0,2…3]; y0 has 3 positions (4 − 2 +
    # 1), so torch's floor leaves y0[0,2] out of every window
    data = dict(HAND, model=[HAND["model"][0], {"maxpool1d": {"kernel_size": 2}}, "flatten"])
    rows = {
        r.symbol: r for _, r in api.trace(dict(data, targets=[2.0])).records.steps[0].equations()
    }
    assert rows["δ0[0,2]"].note == "in no window: gets no gradient"
    assert rows["δ0[0,2]"].value == 0.0


def test_padding_and_stride_leave_out_what_lies_outside_the_signal():
    """padding 1, stride 2 on x = [1, 2, −1]: positions t·2 + k − 1 for k = 0, 1, 2 —
    y[0] reads x[0], x[1] (x[−1] is padding), y[1] reads x[1], x[2] (x[3] is padding)."""
    conv = {"in_channels": 1, "out_channels": 1, "kernel_size": 3, "stride": 2, "padding": 1}
    data = dict(HAND, model=[{"conv1d": conv}, "flatten"], targets=[0.0, 0.0])
    data["inputs"] = [[1.0, 2.0, -1.0]]
    data["parameters"] = {"0.weight": [[[10.0, 1.0, 0.5]]], "0.bias": [0.0]}
    rows = _rows(api.trace(data).records)
    assert rows["y0[0,0]"] == pytest.approx(1.0 * 1 + 0.5 * 2)  # w1·x0 + w2·x1
    assert rows["y0[0,1]"] == pytest.approx(10.0 * 2 + 1.0 * -1)  # w0·x1 + w1·x2


# ---------------------------------------------------------------- finite differences


def _random_model(rng: np.random.Generator) -> dict:
    c_in, c_out, k = (int(v) for v in rng.integers(1, 4, 3))
    stride, padding = int(rng.integers(1, 3)), int(rng.integers(0, 2))
    length = k + int(rng.integers(3, 7))
    conv = {"in_channels": c_in, "out_channels": c_out, "kernel_size": k}
    conv |= {"stride": stride, "padding": padding}
    out = (length + 2 * padding - k) // stride + 1
    layers: list = [{"conv1d": conv}, str(rng.choice(["tanh", "sigmoid", "relu"]))]
    if out >= 2:
        layers.append({"maxpool1d": {"kernel_size": 2, "stride": int(rng.integers(1, 3))}})
        out = (out - 2) // layers[-1]["maxpool1d"]["stride"] + 1
    layers += ["flatten", {"linear": {"in_features": c_out * out, "out_features": 2}}]
    n = len(layers) - 1
    return {
        "model": layers,
        "parameters": {
            "0.weight": rng.normal(size=(c_out, c_in, k)).tolist(),
            "0.bias": rng.normal(size=c_out).tolist(),
            f"{n}.weight": rng.normal(size=(2, c_out * out)).tolist(),
            f"{n}.bias": rng.normal(size=2).tolist(),
        },
        "loss": str(rng.choice(["mse", "half_sse", "sse"])),
        "learning_rate": 0.1,
        "inputs": rng.normal(size=(c_in, length)).tolist(),
        "targets": rng.normal(size=2).tolist(),
    }


@pytest.mark.parametrize("seed", range(25))
def test_every_gradient_of_a_random_conv_model_is_its_central_finite_difference(seed):
    spec = models.from_dict(_random_model(np.random.default_rng(seed)))
    assert isinstance(spec, ModelSpec)
    sample = spec.samples[0]
    done = model_engine.run(
        spec, model_engine.build(spec), sample.inputs, sample.targets, lambda a: a
    )
    h = 1e-6
    base = {name: np.array(value) for name, value in spec.parameters}
    for name, value in spec.parameters:
        for index in np.ndindex(*value.shape):

            def loss(shift: float, name: str = name, index: tuple = index) -> float:
                moved = {n: v.copy() for n, v in base.items()}
                moved[name][index] += shift
                return model_engine.loss_of(spec, moved, sample.inputs, sample.targets)

            numeric = (loss(h) - loss(-h)) / (2 * h)
            # a relu or a max-pool at a kink would make the difference one-sided: none here
            assert done.gradients[name][index] == pytest.approx(numeric, rel=1e-5, abs=1e-7)


def test_verify_checks_every_parameter_of_the_conv1d_example(runner):
    result = runner.invoke(cli, ["run", "conv1d", "--verify", "--format", "json"])
    assert result.exit_code == 0, result.output
    checks = json.loads(result.output)["verify"]
    sizes = sum(np.size(v) for _, v in models.load("conv1d").parameters)
    assert len(checks) == sizes and all(c["agrees"] for c in checks)


# ---------------------------------------------------------------- what the tools read


def test_every_row_of_the_conv1d_example_is_marked_right_when_answered_as_traced():
    rows = _rows(api.trace("conv1d").records)
    named = {"y0[0,1]": rows["y0[0,1]"], "delta1[0,3]": rows["δ1[0,3]"]}
    named["dE/dw0[0,0,0]"] = rows["∂E/∂w0[0,0,0]"]
    report = api.check(named, "conv1d")
    assert [a["verdict"] for a in report["answers"]] == ["right"] * 3


def test_a_wrong_sum_of_products_is_marked_wrong():
    rows = _rows(api.trace("conv1d").records)
    report = api.check({"y0[0,1]": rows["y0[0,1]"] + 0.3}, "conv1d")
    assert report["answers"][0]["verdict"] == "wrong"


def test_the_json_is_a_models_with_every_layers_output_and_delta(runner):
    result = runner.invoke(cli, ["run", "conv1d", "--format", "json"])
    data = json.loads(result.output)
    assert (data["format"], data["version"]) == ("backtrace-model", 1)
    shapes = [(layer["kind"], layer["output_shape"]) for layer in data["model"]["layers"]]
    assert shapes == [
        ("conv1d", [2, 5]),
        ("relu", [2, 5]),
        ("maxpool1d", [2, 2]),
        ("flatten", [4]),
        ("linear", [1]),
    ]
    step = data["steps"][0]
    assert [np.shape(layer["out"]) for layer in step["layers"]] == [
        (2, 5),
        (2, 5),
        (2, 2),
        (4,),
        (1,),
    ]
    assert set(step["gradients"]) == {"0.weight", "0.bias", "4.weight", "4.bias"}
    assert step["loss"] == pytest.approx((0.8 - step["outputs"][0]) ** 2)  # mse of one output


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_step_save_writes_the_same_state_dict_names_back(runner, tmp_path, optimizer):
    source = tmp_path / "conv.yaml"
    config = yaml.safe_load(models.example_text("conv1d")) | {"optimizer": optimizer}
    source.write_text(yaml.safe_dump(config), encoding="utf-8")
    saved = tmp_path / "trained.yaml"
    result = runner.invoke(cli, ["step", str(source), "-n", "3", "--save", str(saved)])
    assert result.exit_code == 0, result.output
    data = yaml.safe_load(saved.read_text(encoding="utf-8"))
    assert list(data["parameters"]) == ["0.weight", "0.bias", "4.weight", "4.bias"]
    assert np.shape(data["parameters"]["0.weight"]) == (2, 1, 2)
    if optimizer == "adam":  # t, m and v under the same names: the run continues exactly
        assert data["optimizer_state"]["t"] == 3
        assert list(data["optimizer_state"]["v"]) == list(data["parameters"])
    four = api.train(str(source), 4).records.losses_after[-1]
    assert api.train(str(saved), 1).records.losses_after[-1] == pytest.approx(four, rel=1e-12)


def test_the_markdown_parses_with_katex_and_fits_a_900_pixel_page():
    from node_parsers import check, pieces, widths

    markdown = api.trace("conv1d", verify=True).markdown()
    math_, diagrams = pieces(markdown)
    report = check(math_, diagrams)
    assert report["math"] == [] and report["mermaid"] == [], report
    assert diagrams  # the layers and their shapes, drawn
    assert max(widths([tex for tex, display in math_ if display])) <= 900


BATCH_OF_EVERY_KIND = {k: v for k, v in EVERY_KIND.items() if k not in ("inputs", "targets")}
BATCH_OF_EVERY_KIND |= {
    "mode": "batch",
    "samples": [
        {"inputs": EVERY_KIND["inputs"], "targets": EVERY_KIND["targets"]},
        {"inputs": [[0.3, -0.7, 0.1], [-0.2, 0.6, 0.5]], "targets": [0.2, 0.3, 0.5]},
    ],
}


@pytest.mark.parametrize("data", [EVERY_KIND, BATCH_OF_EVERY_KIND], ids=["online", "batch"])
def test_every_row_of_every_layer_kind_is_its_formula_and_its_markdown_parses(data):
    """What marking and the renderers rely on: each row's formula, evaluated through the
    operations' own definitions, gives its value (softmax's e^x/Σ, tanh's (1 − y²), Adam's
    lines); and every equation parses with KaTeX."""
    from node_parsers import check, pieces

    from backtrace_cli import formula

    worked = api.trace(data, verify=True, full=True)  # every term of every sum
    for step in worked.records.steps:
        for _, row in step.equations():
            value = formula.evaluate(formula.parse(row.formula), row.values())
            assert value == pytest.approx(row.value, rel=1e-9, abs=1e-12), row.symbol
    assert all(c.agrees for c in worked.records.checks)
    for page in (worked, api.trace(data)):  # and a long sum elided, as the page writes it
        report = check(*pieces(page.markdown()))
        assert report["math"] == [] and report["mermaid"] == [], report


@pytest.mark.parametrize("book", [None, "hagan"])
@pytest.mark.parametrize("rounding", ["3sf", "2sf", "3dp"])
@pytest.mark.parametrize("source", ["conv1d", "every kind"])
def test_under_round_every_row_adds_up_from_the_numbers_it_shows(source, rounding, book):
    """PRODUCT.md: every row printed under --round gives its value at that rounding from
    its numbers as shown, each bracket written down rounded (tanh's (1 − y²), softmax's sum);
    in a book's notation too (its δ negated, its output's δ (2/n)(n^M − t), its δ·a)."""
    from backtrace_cli import formula
    from backtrace_cli.core.rounding import written

    data = "conv1d" if source == "conv1d" else EVERY_KIND
    records = api.trace(data, rounding=rounding, notation=book, full=True).records  # every term
    for step in records.steps:
        for section, row in step.equations():
            if source == "every kind" and section.kind == "update" and rounding.endswith("dp"):
                continue  # Adam's v of 1e-8 at 3 places: as a network's (its own question)
            value = formula.evaluate(
                formula.parse(row.formula), row.values(), lambda v: written(v, rounding)
            )
            assert written(value, rounding) == written(row.value, rounding), row.symbol


def test_the_example_in_the_docs_runs_as_written():
    text = re.search(r"```yaml\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.S).group(1)
    spec = models.from_text(text, "docs/layers.md")
    assert [name for name, _ in spec.parameters] == ["0.weight", "0.bias", "out.weight", "out.bias"]
    assert math.isfinite(api.trace(spec).records.loss_after)


# ---------------------------------------------------------------- bad configs


def _error(data: dict) -> str:
    with pytest.raises(ConfigError) as caught:
        models.from_dict(data)
    return str(caught.value)


def test_shapes_that_do_not_chain_name_both_layers():
    data = dict(HAND, model=[*HAND["model"], {"linear": {"in_features": 3, "out_features": 1}}])
    data["parameters"] = dict(HAND["parameters"], **{"3.weight": [[1, 2, 3]], "3.bias": [0]})
    assert _error(data) == (
        "<dict>, model[3]: layer 3 (linear) takes 3 features (in_features), and gets 2; "
        "layer 2 (flatten) gives 2 features"
    )


def _long_signal(layer: dict, parameters: dict) -> dict:
    """One channel of 1,000 positions through `layer`, flattened."""
    return {
        "model": [layer, "flatten"],
        "parameters": parameters,
        "loss": "mse",
        "learning_rate": 0.1,
        "inputs": [[0.5] * 1000],
        "targets": [0.0],
    }


def test_a_1d_convolution_or_pool_too_large_to_follow_by_hand_is_refused_before_any_work(
    runner, tmp_path
):
    # conv1d, a kernel of 500 over 1,000 positions: 1000 − 500 + 1 = 501 outputs of 500
    # products each, 250,500 terms (the limit is 100,000, as conv2d's; traced, 350 over 700
    # took 30 s); maxpool1d, windows of 300 a position apart: 701 rows of 300 terms
    conv = {"conv1d": {"in_channels": 1, "out_channels": 1, "kernel_size": 500}}
    data = _long_signal(conv, {"0.weight": [[[0.0] * 500]], "0.bias": [0.0]})
    assert _error(data) == (
        "<dict>, model[0]: layer 0 (conv1d) would write 501 rows of 500 terms; at most 100,000 "
        "terms in all (a model to follow by hand); the inputs are 1×1000"
    )
    pool = _long_signal({"maxpool1d": {"kernel_size": 300, "stride": 1}}, {})
    assert "layer 0 (maxpool1d) would write 701 rows of 300 terms" in _error(pool)
    path = tmp_path / "long.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    result = runner.invoke(cli, ["run", str(path)])
    assert result.exit_code == 2
    assert result.output.startswith(f"Error: {path}, ")
    assert "(conv1d) would write 501 rows of 500 terms; at most 100,000" in result.output
    assert "Traceback" not in result.output


def test_an_unknown_layer_a_parameter_misnamed_or_misshaped_say_what_is_valid():
    wrong_kind = dict(HAND, model=[{"conv2x": {"in_channels": 1}}, *HAND["model"][1:]])
    assert "'conv2x' is not a layer; did you mean 'conv2d'?" in _error(wrong_kind)
    misnamed = dict(HAND, parameters={"0.weights": [[[0.5, -1.0]]], "0.bias": [0.25]})
    message = _error(misnamed)
    assert "parameters.0.weights: not a parameter of this model; did you mean '0.weight'?" in (
        message
    )
    assert "0.weight [1, 1, 2], 0.bias [1]" in message
    state = dict(HAND, optimizer="adam", optimizer_state={"t": 1, "s": {}})
    assert _error(state) == ("<dict>, optimizer_state.s: unknown key; the state of adam is t, m, v")
    misshaped = dict(HAND, parameters={"0.weight": [[0.5, -1.0]], "0.bias": [0.25]})
    assert _error(misshaped) == (
        "<dict>, parameters.0.weight[0]: found 2 entries where 1 is expected: its shape is "
        "[1][1][2]"
    )


def test_a_bad_model_config_is_exit_2_with_its_file_and_line(runner, tmp_path):
    path = tmp_path / "bad.yaml"
    text = yaml.safe_dump(HAND, sort_keys=False).replace("stride: 1", "stride: 0")
    path.write_text(text, encoding="utf-8")
    result = runner.invoke(cli, ["run", str(path)])
    line = next(n for n, t in enumerate(text.splitlines(), start=1) if "stride: 0" in t)
    assert result.exit_code == 2
    assert result.output.startswith(f"Error: {path}, line {line}")
    assert "model[1].maxpool1d.stride: 0 is out of range; expected a whole number ≥ 1" in (
        result.output
    )
    assert "Traceback" not in result.output


def test_a_wide_tensors_rows_are_cut_unless_full_and_the_json_has_them_all(runner):
    """Three channels of 6 positions: 18 rows a section, the first 12 shown, as a wide
    layer's units are summarised."""
    data = dict(EVERY_KIND)
    conv = {"in_channels": 2, "out_channels": 3, "kernel_size": 2, "padding": 1}
    data["model"] = [
        {"conv1d": conv},
        "relu",
        "flatten",
        {"linear": {"in_features": 18, "out_features": 2}},
    ]
    data["parameters"] = {
        "0.weight": np.linspace(-1, 1, 12).reshape(3, 2, 2).tolist(),
        "0.bias": [0.1, 0.2, -0.3],
        "3.weight": np.linspace(-0.5, 0.5, 36).reshape(2, 18).tolist(),
        "3.bias": [0.0, 0.1],
    }
    data |= {"loss": "mse", "optimizer": "sgd", "targets": [0.5, -0.5]}
    data["inputs"] = [[1.0, 0.2, -0.5, 0.9, 0.4], [0.9, 0.4, -1.2, 0.3, -0.1]]  # 2 × 5: 6 out
    text = api.trace(data).text("table")
    assert "… 6 more rows of 18 (`--full` shows them)" in text
    row = re.compile(r"^y1\[2,3\] +relu", re.M)  # relu's 16th row: cut, unless --full
    assert not row.search(text) and re.search(r"^y1\[1,3\] +relu", text, re.M)
    assert row.search(api.trace(data, full=True).text("table"))
    equations = api.trace(data).json()["steps"][0]["equations"]
    assert sum(e["symbol"].startswith("y1[") for e in equations) == 18


def test_quiz_asks_a_row_or_a_whole_tensor_of_a_model(runner):
    """--ask y0[0,0],delta1: one conv output (its index's comma is not a separator) and
    every δ of layer 1's output (10 entries): 11 questions."""
    rows = _rows(api.trace("conv1d").records)
    answers = [rows["y0[0,0]"]] + [rows[f"δ1[{c},{t}]"] for c in range(2) for t in range(5)]
    typed = "".join(f"{v!r}\n" for v in answers)
    result = runner.invoke(cli, ["quiz", "conv1d", "--ask", "y0[0,0],delta1"], input=typed)
    assert result.exit_code == 0, result.output
    assert "11 of its 74 equations" in result.output and "11 of 11" in result.output
    wrong = runner.invoke(cli, ["quiz", "conv1d", "--ask", "z9"], input="")
    assert wrong.exit_code == 2
    assert "'z9' is not a quantity of this model; ask for a row (y0[0,1]) or a tensor: y0," in (
        wrong.output
    )


def test_a_null_argument_is_not_a_whole_number_not_a_default():
    """Only maxpool1d's stride takes null (torch's stride=None: the kernel size); found by
    fuzzing the conv1d example."""
    conv = {"in_channels": None, "out_channels": 1, "kernel_size": 2}
    data = dict(HAND, model=[{"conv1d": conv}, *HAND["model"][1:]])
    assert _error(data) == (
        "<dict>, model[0].conv1d.in_channels: nothing (null) is not a whole number; expected a "
        "whole number ≥ 1"
    )
    pool = {"kernel_size": 2, "stride": None}
    model = [HAND["model"][0], {"maxpool1d": pool}, "flatten"]
    spec = models.from_dict(dict(HAND, model=model, targets=[2.0]))  # y of 3: one window
    assert spec.layers[1].argument("stride") == 2
