"""The 2-D layers of `model:` configs (issue #28): conv2d, maxpool2d, avgpool2d, and flatten
after them. Every expected number comes from central finite differences of a layer's own
forward pass, or from a derivation written in the test (sums of products worked by hand)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import yaml

from backtrace_cli import api, models
from backtrace_cli.cli import cli
from backtrace_cli.core.errors import ConfigError
from backtrace_cli.network import model_engine
from backtrace_cli.network.model_spec import ModelSpec


def _rows(records) -> dict:
    return {row.symbol: row for step in records.steps for _, row in step.equations()}


def _values(records) -> dict[str, float]:
    return {symbol: row.value for symbol, row in _rows(records).items()}


# ---------------------------------------------------------------- each layer's backward


def _model(first: dict, shape_in: tuple[int, ...], parameters: dict | None = None) -> dict:
    """A model whose layer 1 is `first`, after an identity 1×1 conv2d (so layer 1 is asked
    for the δ of its input), then flatten."""
    channels = shape_in[0]
    identity = np.zeros((channels, channels, 1, 1))
    for c in range(channels):
        identity[c, c, 0, 0] = 1.0
    conv = {"in_channels": channels, "out_channels": channels, "kernel_size": 1, "bias": False}
    return {
        "model": [{"conv2d": conv}, first, "flatten"],
        "parameters": {"0.weight": identity.tolist(), **(parameters or {})},
        "loss": "half_sse",
        "learning_rate": 0.1,
        "inputs": np.zeros(shape_in).tolist(),
        "targets": [0.0],  # replaced below, once the output's size is known
    }


# each: the layer, its input's shape, its parameters' shapes, and its output's size worked
# out by hand from torch's floor((n + 2p − k)/s) + 1 on each axis
LAYERS = {
    "conv2d with pairs": (  # 4×5, k 2×3, stride 1×2, padding 1×0: (4+2−2)+1 = 5, (5−3)//2+1 = 2
        {"conv2d": {"in_channels": 2, "out_channels": 3, "kernel_size": [2, 3]}},
        {"stride": [1, 2], "padding": [1, 0]},
        (2, 4, 5),
        {"1.weight": (3, 2, 2, 3), "1.bias": (3,)},
        3 * 5 * 2,
    ),
    "conv2d, stride 2, padding 1, no bias": (  # 5×4, k 3: (5+2−3)//2+1 = 3, (4+2−3)//2+1 = 2
        {"conv2d": {"in_channels": 1, "out_channels": 2, "kernel_size": 3}},
        {"stride": 2, "padding": 1, "bias": False},
        (1, 5, 4),
        {"1.weight": (2, 1, 3, 3)},
        2 * 3 * 2,
    ),
    "maxpool2d": ({"maxpool2d": {"kernel_size": 2}}, {"stride": 1}, (2, 3, 4), {}, 2 * 2 * 3),
    "maxpool2d with pairs": (  # 5×5, k 2×3, stride 2×1: (5−2)//2+1 = 2, (5−3)+1 = 3
        {"maxpool2d": {"kernel_size": [2, 3]}},
        {"stride": [2, 1]},
        (1, 5, 5),
        {},
        2 * 3,
    ),
    "avgpool2d": ({"avgpool2d": {"kernel_size": 2}}, {}, (2, 5, 4), {}, 2 * 2 * 2),
    "avgpool2d with pairs": (  # 4×3, k 1×2, stride 2×1: (4−1)//2+1 = 2, (3−2)+1 = 2
        {"avgpool2d": {"kernel_size": [1, 2]}},
        {"stride": [2, 1]},
        (1, 4, 3),
        {},
        2 * 2,
    ),
}


@pytest.mark.parametrize("name", LAYERS)
def test_each_2d_layers_backward_is_the_central_difference_of_its_own_forward(name):
    """E = Σ r·y for fixed random r: −∂E/∂x and −∂E/∂θ from the layer's backward against
    [E(· + h) − E(· − h)]/2h, entry by entry."""
    rng = np.random.default_rng(7)
    first, more, shape_in, shapes, size = LAYERS[name]
    kind = next(iter(first))
    first = {kind: {**first[kind], **more}}
    parameters = {key: rng.normal(size=shape).tolist() for key, shape in shapes.items()}
    spec = models.from_dict({**_model(first, shape_in, parameters), "targets": [0.0] * size})
    assert isinstance(spec, ModelSpec)
    layer = model_engine.build(spec)[1]
    x = rng.normal(size=shape_in)
    r = rng.normal(size=spec.layers[1].shape_out)
    _, cache = layer.forward(x, lambda a: a)
    sent, grads = layer.backward(cache, -r, lambda a: a)

    def energy(inputs: np.ndarray, values: dict) -> float:
        moved = layer._replace(**values)
        return float((moved.forward(inputs, lambda a: a)[0] * r).sum())

    own = dict(layer.parameters)
    h = 1e-6
    for index in np.ndindex(*x.shape):
        up, down = x.copy(), x.copy()
        up[index] += h
        down[index] -= h
        numeric = (energy(up, own) - energy(down, own)) / (2 * h)
        assert sent[index] == pytest.approx(-numeric, rel=1e-6, abs=1e-8), index
    for key, value in own.items():
        for index in np.ndindex(*value.shape):
            shifted = []
            for step in (h, -h):
                moved = {k: v.copy() for k, v in own.items()}
                moved[key][index] += step
                shifted.append(energy(x, moved))
            numeric = (shifted[0] - shifted[1]) / (2 * h)
            assert grads[key][index] == pytest.approx(-numeric, rel=1e-6, abs=1e-8), (key, index)


def test_every_gradient_of_random_2d_models_is_the_central_difference_of_the_loss():
    """Whole models (conv2d → tanh → pool → flatten → linear), each parameter's gradient
    against finite differences of E, as `--verify` checks them."""
    rng = np.random.default_rng(3)
    for kind in ("maxpool2d", "avgpool2d"):
        conv = {"in_channels": 2, "out_channels": 2, "kernel_size": [2, 3], "padding": [0, 1]}
        data = {
            "model": [
                {"conv2d": conv},
                "tanh",
                {kind: {"kernel_size": 2, "stride": [1, 2]}},
                "flatten",
                {"linear": {"in_features": 8, "out_features": 2}},
            ],
            "parameters": {
                "0.weight": rng.normal(size=(2, 2, 2, 3)).tolist(),
                "0.bias": rng.normal(size=2).tolist(),
                "4.weight": rng.normal(size=(2, 8)).tolist(),
                "4.bias": rng.normal(size=2).tolist(),
            },
            "loss": "mse",
            "learning_rate": 0.1,
            "inputs": rng.normal(size=(2, 4, 4)).tolist(),  # conv: 2×3×4; pool: 2×2×2
            "targets": rng.normal(size=2).tolist(),
        }
        checks = api.trace(data, verify=True).records.checks
        assert len(checks) == 24 + 2 + 16 + 2
        assert all(c.agrees for c in checks), [c.name for c in checks if not c.agrees]


# ---------------------------------------------------------------- the cnn example by hand

X = [[1.0, 0.2, -0.5, 0.9], [0.4, -1.2, 0.8, 0.3], [0.6, 0.1, -0.4, 1.1], [-0.7, 0.5, 0.2, 0.9]]


def test_the_cnn_examples_numbers_worked_by_hand():
    """configs/cnn.yaml: filter 0 = [[0.5, −0.3], [0.2, 0.4]], b = 0.1; filter 1 = [[0.2,
    −0.3], [−0.2, 0.1]], b = 0.2. The pool's one window reads y[c, 0…1, 0…1]:
    y0[0,0,0] = 0.5·1 + (−0.3)·0.2 + 0.2·0.4 + 0.4·(−1.2) + 0.1 = 0.14
    y0[0,0,1] = 0.5·0.2 + (−0.3)·(−0.5) + 0.2·(−1.2) + 0.4·0.8 + 0.1 = 0.43
    y0[0,1,0] = 0.5·0.4 + (−0.3)·(−1.2) + 0.2·0.6 + 0.4·0.1 + 0.1 = 0.82
    y0[0,1,1] = 0.5·(−1.2) + (−0.3)·0.8 + 0.2·0.1 + 0.4·(−0.4) + 0.1 = −0.88 → relu 0
    y0[1,0,1] = 0.2·0.2 + (−0.3)·(−0.5) + (−0.2)·(−1.2) + 0.1·0.8 + 0.2 = 0.71
    y0[1,1,0] = 0.2·0.4 + (−0.3)·(−1.2) + (−0.2)·0.6 + 0.1·0.1 + 0.2 = 0.53
    y0[1,0,0] = 0.2·1 + (−0.3)·0.2 + (−0.2)·0.4 + 0.1·(−1.2) + 0.2 = 0.14
    y0[1,1,1] = 0.2·(−1.2) + (−0.3)·0.8 + (−0.2)·0.1 + 0.1·(−0.4) + 0.2 = −0.34 → relu 0
    The pools keep 0.82 (y1[0,1,0]) and 0.71 (y1[1,0,1]); the linear layer's z = W·p + b."""
    values = _values(api.trace("cnn").records)
    by_hand = {
        "y0[0,0,0]": 0.5 * 1 + (-0.3) * 0.2 + 0.2 * 0.4 + 0.4 * (-1.2) + 0.1,
        "y0[0,0,1]": 0.5 * 0.2 + (-0.3) * (-0.5) + 0.2 * (-1.2) + 0.4 * 0.8 + 0.1,
        "y0[0,1,0]": 0.5 * 0.4 + (-0.3) * (-1.2) + 0.2 * 0.6 + 0.4 * 0.1 + 0.1,
        "y0[0,1,1]": 0.5 * (-1.2) + (-0.3) * 0.8 + 0.2 * 0.1 + 0.4 * (-0.4) + 0.1,
        "y0[1,0,0]": 0.2 * 1 + (-0.3) * 0.2 + (-0.2) * 0.4 + 0.1 * (-1.2) + 0.2,
        "y0[1,0,1]": 0.2 * 0.2 + (-0.3) * (-0.5) + (-0.2) * (-1.2) + 0.1 * 0.8 + 0.2,
        "y0[1,1,0]": 0.2 * 0.4 + (-0.3) * (-1.2) + (-0.2) * 0.6 + 0.1 * 0.1 + 0.2,
        "y0[1,1,1]": 0.2 * (-1.2) + (-0.3) * 0.8 + (-0.2) * 0.1 + 0.1 * (-0.4) + 0.2,
    }
    assert [round(v, 10) for v in by_hand.values()] == [
        0.14,
        0.43,
        0.82,
        -0.88,
        0.14,
        0.71,
        0.53,
        -0.34,
    ]
    for symbol, value in by_hand.items():
        assert values[symbol] == pytest.approx(value, abs=1e-12), symbol
    assert values["y1[0,1,1]"] == 0.0 and values["y1[1,1,1]"] == 0.0  # relu
    assert values["y2[0,0,0]"] == pytest.approx(0.82) and values["y2[1,0,0]"] == pytest.approx(0.71)
    z = [
        0.3 * 0.82 - 0.6 * 0.71 + 0.05,
        0.7 * 0.82 + 0.2 * 0.71 - 0.1,
        -0.4 * 0.82 + 0.5 * 0.71 + 0.1,
    ]
    assert [values[f"y4[{k}]"] for k in range(3)] == pytest.approx(z)  # −0.13, 0.616, 0.127
    total = sum(math.exp(v) for v in z)
    p = [math.exp(v) / total for v in z]
    assert values["E"] == pytest.approx(-math.log(p[1]))
    # softmax with cross-entropy: δ4 = t − p; back through the linear layer to the pool's
    # outputs, δ2[c] = Σ_k w4[k,c]·δ4[k]; the pool sends it to the entry it kept, relu passes
    # it (0.82 > 0), and filter 0's weights see it at position (1, 0) alone:
    # ∂E/∂w0[0,0,m,n] = −δ1[0,1,0]·x[0, 1 + m, n]
    d4 = [0 - p[0], 1 - p[1], 0 - p[2]]
    d2 = [0.3 * d4[0] + 0.7 * d4[1] - 0.4 * d4[2], -0.6 * d4[0] + 0.2 * d4[1] + 0.5 * d4[2]]
    assert values["δ1[0,1,0]"] == pytest.approx(d2[0]) and values["δ1[1,0,1]"] == pytest.approx(
        d2[1]
    )
    assert values["δ1[0,0,0]"] == 0.0 and values["δ1[0,2,2]"] == 0.0
    for m, n in np.ndindex(2, 2):
        assert values[f"∂E/∂w0[0,0,{m},{n}]"] == pytest.approx(-d2[0] * X[1 + m][n])
        assert values[f"∂E/∂w0[1,0,{m},{n}]"] == pytest.approx(-d2[1] * X[m][1 + n])
    assert values["∂E/∂b0[0]"] == pytest.approx(-d2[0])


def test_the_cnn_examples_rows_name_the_receptive_field_the_kept_entry_and_the_routed_delta():
    rows = _rows(api.trace("cnn").records)
    assert rows["y0[0,1,0]"].formula == (
        "{w0[0,0,0,0]}·{x[0,1,0]} + {w0[0,0,0,1]}·{x[0,1,1]} + {w0[0,0,1,0]}·{x[0,2,0]} + "
        "{w0[0,0,1,1]}·{x[0,2,1]} + {b0[0]}"
    )
    assert rows["y0[0,1,0]"].note == "receptive field x[:, 1…2, 0…1]"
    assert rows["y2[0,0,0]"].formula == "max({y1[0,0,0]}, {y1[0,0,1]}, {y1[0,1,0]}, {y1[0,1,1]})"
    assert rows["y2[0,0,0]"].note == "keeps y1[0,1,0]"
    assert (
        rows["δ1[0,1,0]"].formula == "{δ2[0,0,0]}"
        and rows["δ1[0,1,0]"].note == "kept by window (0,0)"
    )
    assert rows["δ1[0,0,1]"].note == "not the maximum of any window: gets no gradient"
    assert rows["δ1[0,2,1]"].note == "in no window: gets no gradient"  # torch's floor
    # flatten (nn.Flatten(0)): the linear layer reads the pool's entries by their own names
    assert rows["y4[0]"].formula == "{w4[0,0]}·{y2[0,0,0]} + {w4[0,1]}·{y2[1,0,0]} + {b4[0]}"


# ---------------------------------------------------------------- pools by hand

TIE = {
    "model": [
        {"conv2d": {"in_channels": 1, "out_channels": 1, "kernel_size": 1, "bias": False}},
        {"maxpool2d": {"kernel_size": 2, "stride": 1}},
        "flatten",
    ],
    "parameters": {"0.weight": [[[[1.0]]]]},  # the identity: layer 1 gets x itself
    "loss": "half_sse",
    "learning_rate": 0.1,
    "inputs": [[[1.0, 3.0, 3.0], [2.0, 0.5, -1.0]]],
    "targets": [1.0, 4.0],
}


def test_maxpool2d_keeps_the_first_of_a_tie_and_routes_each_windows_delta_to_it():
    """Windows of 2×2 at stride 1 on [[1, 3, 3], [2, 0.5, −1]]: window (0,0) reads 1, 3, 2,
    0.5 and keeps x[0,0,1] = 3; window (0,1) reads 3, 3, 0.5, −1 — a tie, and torch keeps the
    first, row by row: x[0,0,1] again. y = [3, 3]; half-SSE against t = [1, 4]: δ = t − y =
    [−2, 1]; both go to x[0,0,1]: its δ is −2 + 1 = −1, every other entry's 0."""
    rows = _rows(api.trace(TIE).records)
    assert rows["y1[0,0,0]"].value == 3.0 and rows["y1[0,0,1]"].value == 3.0
    assert rows["y1[0,0,1]"].note == "keeps y0[0,0,1]"  # the first 3, not y0[0,0,2]
    assert [rows["δ1[0,0,0]"].value, rows["δ1[0,0,1]"].value] == [-2.0, 1.0]
    assert rows["δ0[0,0,1]"].value == -1.0
    assert rows["δ0[0,0,1]"].formula == "{δ1[0,0,0]} + {δ1[0,0,1]}"
    assert rows["δ0[0,0,1]"].note == "kept by window (0,0), (0,1)"
    others = [(0, 0, 0), (0, 0, 2), (0, 1, 0), (0, 1, 1), (0, 1, 2)]
    assert [rows["δ0[" + ",".join(map(str, i)) + "]"].value for i in others] == [0.0] * 5
    # the weight's gradient: −Σ δ0·x = −(−1·3) = 3 (the identity 1×1 filter)
    assert rows["∂E/∂w0[0,0,0,0]"].value == pytest.approx(3.0)


def test_avgpool2d_is_each_windows_mean_and_shares_its_delta_equally():
    """One 2×2 window on [[1, 2], [3, 6]]: y = 12/4 = 3; half-SSE against t = 5: δ = 2, each
    input's 2/4 = 0.5; x[0,2,·] (a third row) lies in no window (floor): 0."""
    data = dict(TIE)
    data["model"] = [TIE["model"][0], {"avgpool2d": {"kernel_size": 2}}, "flatten"]
    data |= {"inputs": [[[1.0, 2.0], [3.0, 6.0], [7.0, 8.0]]], "targets": [5.0]}
    rows = _rows(api.trace(data).records)
    assert rows["y1[0,0,0]"].value == 3.0
    assert rows["y1[0,0,0]"].formula == "({y0[0,0,0]} + {y0[0,0,1]} + {y0[0,1,0]} + {y0[0,1,1]})/4"
    assert rows["δ0[0,0,0]"].formula == "{δ1[0,0,0]}/4"
    assert [rows[f"δ0[0,{u},{v}]"].value for u in range(2) for v in range(2)] == [0.5] * 4
    assert (
        rows["δ0[0,2,1]"].value == 0.0
        and rows["δ0[0,2,1]"].note == "in no window: gets no gradient"
    )


# ---------------------------------------------------------------- what the tools read


def test_verify_checks_every_parameter_of_the_cnn_example(runner):
    result = runner.invoke(cli, ["run", "cnn", "--verify", "--format", "json"])
    assert result.exit_code == 0, result.output
    checks = json.loads(result.output)["verify"]
    assert len(checks) == 8 + 2 + 6 + 3 and all(c["agrees"] for c in checks)


def test_step_save_writes_pairs_back_as_torch_takes_them(runner, tmp_path):
    """kernel_size [2, 3] stays a pair; a stride of 2 on both axes is written as one number."""
    data = {
        "model": [
            {
                "conv2d": {
                    "in_channels": 1,
                    "out_channels": 1,
                    "kernel_size": [2, 3],
                    "padding": [1, 0],
                }
            },
            {"avgpool2d": {"kernel_size": 2, "stride": [2, 2]}},
            "flatten",
        ],
        "parameters": {"0.weight": [[[[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]]]], "0.bias": [0.1]},
        "loss": "mse",
        "learning_rate": 0.1,
        "inputs": [[[1.0, 2.0, 3.0, 4.0], [0.5, -1.0, 2.0, 0.2], [0.3, 0.1, -0.4, 0.9]]],
        "targets": [0.5, -0.5],  # conv: 1×4×2; pool: 1×2×1
    }
    source = tmp_path / "net.yaml"
    source.write_text(yaml.safe_dump(data), encoding="utf-8")
    saved = tmp_path / "saved.yaml"
    result = runner.invoke(cli, ["step", str(source), "-n", "2", "--save", str(saved)])
    assert result.exit_code == 0, result.output
    written = yaml.safe_load(saved.read_text(encoding="utf-8"))
    assert written["model"][0]["conv2d"] == {
        "in_channels": 1,
        "out_channels": 1,
        "kernel_size": [2, 3],
        "padding": [1, 0],
    }
    assert written["model"][1] == {"avgpool2d": {"kernel_size": 2}}  # stride: its kernel_size
    three = api.train(str(source), 3).records.losses_after[-1]
    assert api.train(str(saved), 1).records.losses_after[-1] == pytest.approx(three, rel=1e-12)


def test_the_cnn_markdown_parses_with_katex_and_mermaid_and_fits_a_900_pixel_page():
    from node_parsers import check, pieces, widths

    markdown = api.trace("cnn", verify=True).markdown()
    math_, diagrams = pieces(markdown)
    report = check(math_, diagrams)
    assert report["math"] == [] and report["mermaid"] == [], report
    assert "| 0 | conv2d(1→2 channels, k=2) | 1×4×4 → 2×3×3 |" in markdown  # the shapes
    assert diagrams and "1×4×4" in diagrams[0]
    assert max(widths([tex for tex, display in math_ if display])) <= 900


# ---------------------------------------------------------------- bad configs


def _error(data: dict) -> str:
    with pytest.raises(ConfigError) as caught:
        models.from_dict(data)
    return str(caught.value)


CNN = yaml.safe_load(models.example_text("cnn"))


CNN_TEXT = models.example_text("cnn")


def _failing(runner, tmp_path, old: str, new: str) -> tuple[str, int]:
    """`backtrace run` on the cnn example with one line's `old` made `new`: its output, and
    that line's number."""
    assert CNN_TEXT.count(old) == 1, old
    text = CNN_TEXT.replace(old, new)
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    result = runner.invoke(cli, ["run", str(path)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    line = next(n for n, t in enumerate(text.splitlines(), start=1) if new in t)
    assert result.output.startswith(f"Error: {path}, line {line}, "), result.output
    return result.output, line


def test_a_kernel_larger_than_the_padded_input_is_exit_2_naming_the_file_line_and_layer(
    runner, tmp_path
):
    output, _ = _failing(
        runner, tmp_path, "channels: 2, kernel_size: 2}", "channels: 2, kernel_size: [5, 2]}"
    )
    assert output.endswith(
        "model[0]: layer 0 (conv2d) its kernel (5×2) is larger than the input (4×4 with "
        "padding 0); the inputs are 1×4×4\n"
    )
    # with padding 1 the 4×4 image is 6×6: a kernel of 5 fits, one of 7 does not
    padded = "channels: 2, kernel_size: 7, padding: 1}"
    output, _ = _failing(runner, tmp_path, "channels: 2, kernel_size: 2}", padded)
    assert "its kernel (7) is larger than the input (4×4 with padding 1)" in output
    output, _ = _failing(
        runner, tmp_path, "maxpool2d: {kernel_size: 2}", "maxpool2d: {kernel_size: 4}"
    )
    assert output.endswith(
        "model[2]: layer 2 (maxpool2d) its window (4) is larger than the input (3×3); layer 1 "
        "(relu) gives 2×3×3\n"
    )


def test_a_wrong_parameter_shape_is_exit_2_naming_the_field(runner, tmp_path):
    """0.weight written as conv1d's [out][in][k]: a number where a row of 2 is expected."""
    old = "0.weight: [[[[0.5, -0.3], [0.2, 0.4]]], [[[0.2, -0.3], [-0.2, 0.1]]]]"
    output, _ = _failing(runner, tmp_path, old, "0.weight: [[[0.5, -0.3]], [[0.2, 0.4]]]")
    assert output.endswith(
        "parameters.0.weight[0][0][0]: found 0.5 where 2 are expected: its shape is [2][1][2][2]\n"
    )


def test_a_size_of_three_numbers_or_inputs_of_the_wrong_rank_say_what_is_valid():
    conv = {"in_channels": 1, "out_channels": 2, "kernel_size": [2, 2, 2]}
    assert _error(dict(CNN, model=[{"conv2d": conv}, *CNN["model"][1:]])).endswith(
        "model[0].conv2d.kernel_size: 3 numbers; give one number, or two [height, width]"
    )
    stride = {"in_channels": 1, "out_channels": 2, "kernel_size": 2, "stride": [1, 0]}
    assert "model[0].conv2d.stride[1]: 0 is out of range; expected a whole number ≥ 1" in _error(
        dict(CNN, model=[{"conv2d": stride}, *CNN["model"][1:]])
    )
    flat = dict(CNN, inputs=X)  # one channel's rows without the channel: [height][width]
    assert _error(flat).endswith(
        "inputs: conv2d takes channels × height × width: one list of rows per channel, "
        "e.g. [[[1, 2], [3, 4]]]"
    )


def test_a_convolution_too_large_to_follow_by_hand_is_refused_before_any_work():
    """A 100×100 image through a 60×60 kernel padded by 20: (100 + 40 − 60) + 1 = 81, so
    81×81 = 6,561 outputs of 3,600 products each, 23.6 million terms; the limit is 100,000."""
    conv = {"in_channels": 1, "out_channels": 1, "kernel_size": 60, "padding": 20}
    data = {
        "model": [{"conv2d": conv}, "flatten"],
        "parameters": {"0.weight": [[[[0.0] * 60] * 60]], "0.bias": [0.0]},
        "loss": "mse",
        "learning_rate": 0.1,
        "inputs": [[[0.0] * 100] * 100],
        "targets": [0.0],
    }
    assert _error(data) == (
        "<dict>, model[0]: layer 0 (conv2d) would write 6,561 rows of 3,600 terms; at most "
        "100,000 terms in all (a model to follow by hand); the inputs are 1×100×100"
    )


# ---------------------------------------------------------------- marking and rounding


def test_the_cnn_examples_rows_are_marked_right_when_answered_as_traced_and_wrong_when_not():
    values = _values(api.trace("cnn").records)
    named = {
        "y0[0,1,0]": 0.82,  # by hand, above
        "y2[1,0,0]": 0.71,
        "delta1[0,1,0]": values["δ1[0,1,0]"],
        "dE/dw0[0,0,0,0]": values["∂E/∂w0[0,0,0,0]"],
        "y0[1,1,0]": 0.35,  # 0.53 by hand: a wrong sum of products
    }
    report = api.check(named, "cnn")
    verdicts = [(a["symbol"], a["verdict"]) for a in report["answers"]]
    assert len(verdicts) == 5
    assert [symbol for symbol, verdict in verdicts if verdict != "right"] == ["y0[1,1,0]"]


AVERAGED = {
    "model": [
        {"conv2d": {"in_channels": 1, "out_channels": 2, "kernel_size": 2, "padding": [0, 1]}},
        "sigmoid",
        {"avgpool2d": {"kernel_size": 2, "stride": 1}},
        "flatten",
        {"linear": {"in_features": 2 * 1 * 4, "out_features": 2}},
    ],
    "parameters": {
        "0.weight": [[[[0.5, -0.3], [0.2, 0.4]]], [[[0.2, -0.3], [-0.2, 0.1]]]],
        "0.bias": [0.1, 0.2],
        "4.weight": np.linspace(-0.8, 0.8, 16).reshape(2, 8).round(2).tolist(),
        "4.bias": [0.05, -0.1],
    },
    "loss": "half_sse",
    "learning_rate": 0.12,  # 0.1·g at 2dp would tie at a last 5 (0.2 − 0.165), round either way
    "inputs": [X[:3]],  # 3×4: conv 2×2×5 (a padded column each side), pool 2×1×4
    "targets": [0.3, -0.2],
}


def _conv1d_target(target: float) -> dict:
    """The conv1d example with another target: MSE's δ (2/1)(t − y) then rounds t − y first
    (t = 0.8567 at 3sf: 2.01 where 2·(t − y) rounded once is 2.02)."""
    from backtrace_cli.core import examples

    data = yaml.safe_load(examples.example_text("conv1d"))
    return {**data, "targets": [target]}


ROUNDED = [
    *(
        (source, rounding)
        for source in ("cnn", "averaged", "conv1d t=0.8567", "rnn")
        for rounding in ("3sf", "2dp")
    ),
    # batch norm at 2dp: y3[0] = 0.7·0.81 − 0.4·1.48 + 0.6·0 + 0.1 is 0.075 on the row's
    # decimals, 0.07499999999999993 in numpy's order of adding (0.07 shown against 0.08)
    *(("batchnorm", rounding) for rounding in ("3sf", "2dp")),
]


@pytest.mark.parametrize(("source", "rounding"), ROUNDED)
def test_under_round_every_row_adds_up_from_the_numbers_it_shows(source, rounding):
    """PRODUCT.md: every row printed under --round gives its value at that rounding from its
    numbers as shown — a window's mean (a + b + c + d)/4 and its shared δ/4 too, and the
    output's δ (2/1)(t − y) from t − y as written."""
    from backtrace_cli import formula
    from backtrace_cli.core.rounding import round_value, written

    data = {"averaged": AVERAGED, "conv1d t=0.8567": _conv1d_target(0.8567)}.get(source, source)
    records = api.trace(data, rounding=rounding, full=True).records  # every term written
    for step in records.steps:
        for section, row in step.equations():
            if section.kind == "update":
                continue  # the update's rows: the test below
            value = formula.evaluate(
                formula.parse(row.formula), row.values(), lambda v: written(v, rounding)
            )
            # the row's value as carried: a bracket on the way is never written as 0, but a
            # value is (batch norm's ∂E/∂b0[0] = −(1/4)·(−0.01) is 0.00 at 2dp)
            assert round_value(value, rounding) == round_value(row.value, rounding), row.symbol


def test_under_round_a_models_sgd_update_adds_up_from_the_numbers_it_shows():
    """AVERAGED at 3sf: new b0[1] = 0.2 − 0.12·1.64 = 0.2 − 0.1968 = 0.0032; the trace writes
    0.003 when it rounded 0.12·1.64 to 0.197 first without showing it; now 0.0032."""
    from backtrace_cli import formula
    from backtrace_cli.core.rounding import written

    row = _rows(api.trace(AVERAGED, rounding="3sf").records)["new b0[1]"]
    assert row.values() == {"b0[1]": 0.2, "η": 0.12, "∂E/∂b0[1]": 1.64}
    value = formula.evaluate(formula.parse(row.formula), row.values(), lambda v: written(v, "3sf"))
    assert written(value, "3sf") == written(row.value, "3sf") == 0.0032


# AVERAGED on a batch of three images: each gradient row averages (or sums) three samples'
# sums of products, −(1/3)·((…) + (…) + (…))
BATCHED = {
    **{key: value for key, value in AVERAGED.items() if key not in ("inputs", "targets")},
    "mode": "batch",
    "samples": [
        {"inputs": [X[:3]], "targets": [0.3, -0.2]},
        {"inputs": [X[1:]], "targets": [-0.1, 0.4]},
        {"inputs": [[row[::-1] for row in X[:3]]], "targets": [0.5, 0.0]},
    ],
}


@pytest.mark.parametrize("rounding", ["3sf", "2dp"])
@pytest.mark.parametrize("source", ["batchnorm", "mean of 3", "sum of 3"])
def test_under_round_a_batchs_gradient_adds_up_from_the_numbers_it_shows(source, rounding):
    """−(1/m)·((…) + (…)) as a student works it: the bracket of the samples' products written
    down, times 1/m (itself a bracket: 1/3 at 3sf is 0.333); the sum −((…) + (…)) as it is."""
    from backtrace_cli import formula
    from backtrace_cli.core.rounding import round_value, written

    data = {
        "batchnorm": "batchnorm",
        "mean of 3": BATCHED,
        "sum of 3": {**BATCHED, "batch_gradient": "sum"},
    }[source]
    records = api.trace(data, rounding=rounding, full=True).records  # every sample's bracket
    checked = 0
    for step in records.steps:
        for section, row in step.equations():
            if section.kind == "gradient":
                value = formula.evaluate(
                    formula.parse(row.formula), row.values(), lambda v: written(v, rounding)
                )
                # at that rounding: a mean of 0.0025 is 0.00 at 2dp, as the row carries it
                assert round_value(value, rounding) == row.value, row.symbol
                checked += 1
    assert checked >= 9  # every parameter entry's row, once, in the last sample's step


# −1.88·1.19 + (−0.34)·0.17 + 1.32 = −2.2372 − 0.0578 + 1.32 = −0.975 on the decimals a student
# writes: −0.98 at 2dp (half away from zero). Added as floats, in the row's order, it is
# −0.9749999999999994: −0.97.
ON_A_TIE = {
    "conv1d": {
        "model": [
            {"conv1d": {"in_channels": 1, "out_channels": 1, "kernel_size": 2}},
            "flatten",
        ],
        "parameters": {"0.weight": [[[-1.88, -0.34]]], "0.bias": [1.32]},
        "inputs": [[1.19, 0.17]],
        "targets": [0.0],
    },
    "rnn": {
        "model": [{"rnn": {"input_size": 2, "hidden_size": 1}}, "last"],
        "parameters": {
            "0.weight_ih_l0": [[-1.88, -0.34]],
            "0.weight_hh_l0": [[0.5]],
            "0.bias_ih_l0": [1.0],
            "0.bias_hh_l0": [0.32],
        },
        "inputs": [[1.19, 0.17]],
        "targets": [0.0],
    },
}


ON_A_TIE["network"] = {
    "layers": [2, 1],
    "activation": "sigmoid",
    "weights": [[[-1.88, -0.34]]],
    "biases": [[1.32]],
    "inputs": [1.19, 0.17],
    "targets": [0.0],
}


@pytest.mark.parametrize(
    ("kind", "symbol"), [("conv1d", "y0[0,0]"), ("rnn", "net0[0,0]"), ("network", "net3")]
)
def test_under_round_a_sum_of_products_is_added_on_the_decimals_shown(kind, symbol):
    config = {**ON_A_TIE[kind], "loss": "mse", "learning_rate": 0.1}
    records = api.trace(config, rounding="2dp").records
    rows = {row.symbol: row for _, row in records.steps[0].equations()}
    assert rows[symbol].value == -0.98, rows[symbol]
