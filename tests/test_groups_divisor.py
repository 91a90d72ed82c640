"""torch's `groups` (conv1d, conv2d: nn.Conv1d(in, out, k, groups=g), weight [out][in/g][k…],
output channel c reading only the input channels of its group) and `divisor_override`
(avgpool2d: nn.AvgPool2d(k, divisor_override=d), every window's sum divided by d). Every
expected number is worked by hand in a docstring or with numpy over explicit loops
(`windows_by_hand`: each output channel's group sliced by hand, each window's divisor set by
hand), every gradient also by central finite differences of that forward; never read from
the program's trace."""

from __future__ import annotations

import json

import numpy as np
import pytest
import windows_by_hand as hand
import yaml
from model_commands import (
    alone,
    assert_quizzed_in_full,
    assert_refused,
    assert_traced_as_worked,
    by_title,
    central_differences,
    written,
)
from slips import assert_slip_named, entries

from backtrace_cli import api, formula
from backtrace_cli.cli import cli
from backtrace_cli.core.errors import ConfigError
from backtrace_cli.network.layers import avgpool2d, conv1d, conv2d

# ---------------------------------------------------------------- small examples by hand


def test_a_grouped_conv1d_reads_only_its_groups_channels():
    """Conv1d(4, 2, 2, groups=2): weight [2][2][2], channel 0 reads x[0], x[1]; channel 1
    x[2], x[3]. x = [[1, 0.2, −0.5], [0.9, 0.4, −1.2], [0.3, 0.7, 0.6], [−0.4, 0.5, 1.1]],
    w[0] = [[0.5, −0.3], [0.2, 0.1]], w[1] = [[−0.2, 0.8], [0.4, −0.6]], b = [0.1, 0.3]:
    y[0,0] = 0.5·1 − 0.3·0.2 + 0.2·0.9 + 0.1·0.4 + 0.1 = 0.76
    y[0,1] = 0.5·0.2 + 0.3·0.5 + 0.2·0.4 − 0.1·1.2 + 0.1 = 0.31
    y[1,0] = −0.2·0.3 + 0.8·0.7 − 0.4·0.4 − 0.6·0.5 + 0.3 = 0.34
    y[1,1] = −0.2·0.7 + 0.8·0.6 + 0.4·0.5 − 0.6·1.1 + 0.3 = 0.18"""
    x = [[1.0, 0.2, -0.5], [0.9, 0.4, -1.2], [0.3, 0.7, 0.6], [-0.4, 0.5, 1.1]]
    conv = {"in_channels": 4, "out_channels": 2, "kernel_size": 2, "groups": 2}
    weights = {"0.weight": [[[0.5, -0.3], [0.2, 0.1]], [[-0.2, 0.8], [0.4, -0.6]]]}
    rows = alone({"conv1d": conv}, x, 4, {**weights, "0.bias": [0.1, 0.3]})
    expected = {"y0[0,0]": 0.76, "y0[0,1]": 0.31, "y0[1,0]": 0.34, "y0[1,1]": 0.18}
    assert {key: rows[key] for key in expected} == pytest.approx(expected, abs=1e-12)


def test_a_depthwise_conv2d_and_a_divisor_override_by_hand():
    """Conv2d(2, 2, 2, groups=2) on x[0] = [[1, 2], [3, 4]], x[1] = [[5, 6], [7, 8]], w[0] =
    [[1, 0], [0, 1]], w[1] = [[0, 1], [1, 0]]: y[0] = 1 + 4 = 5 (x[0] alone), y[1] = 6 + 7 =
    13 (x[1] alone). AvgPool2d(2, divisor_override=3) on [[1, 2], [3, 4]]: 10/3. With padding
    1, every window one input and three padding: 1/3, 2/3, 3/3, 4/3 (torch's default divides
    by 4, count_include_pad false by 1). AvgPool2d(2, ceil_mode, divisor_override=2) on a 3×3
    of 1…9: ⌈(3 − 2)/2⌉ + 1 = 2 windows a side; (1 + 2 + 4 + 5)/2 = 6, (3 + 6)/2 = 4.5,
    (7 + 8)/2 = 7.5, 9/2 = 4.5 (the last window holds x[2,2] alone, still divided by 2)."""
    depthwise = {"in_channels": 2, "out_channels": 2, "kernel_size": 2, "groups": 2}
    weights = {"0.weight": [[[[1.0, 0.0], [0.0, 1.0]]], [[[0.0, 1.0], [1.0, 0.0]]]]}
    x = [[[1.0, 2.0], [3.0, 4.0]], [[5.0, 6.0], [7.0, 8.0]]]
    rows = alone({"conv2d": {**depthwise, "bias": False}}, x, 2, weights)
    assert (rows["y0[0,0,0]"], rows["y0[1,0,0]"]) == (5.0, 13.0)
    square = [[[1.0, 2.0], [3.0, 4.0]]]
    rows = alone({"avgpool2d": {"kernel_size": 2, "divisor_override": 3}}, square, 1)
    assert rows["y0[0,0,0]"] == pytest.approx(10 / 3)
    for counted in (True, False):
        pool = {"kernel_size": 2, "padding": 1, "count_include_pad": counted}
        rows = alone({"avgpool2d": {**pool, "divisor_override": 3}}, square, 4)
        got = [rows[f"y0[0,{i},{j}]"] for i in range(2) for j in range(2)]
        assert got == pytest.approx([1 / 3, 2 / 3, 1.0, 4 / 3])
    nine = [[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]]
    pool = {"kernel_size": 2, "ceil_mode": True, "divisor_override": 2}
    rows = alone({"avgpool2d": pool}, nine, 4)
    got = [rows[f"y0[0,{i},{j}]"] for i in range(2) for j in range(2)]
    assert got == pytest.approx([6.0, 4.5, 7.5, 4.5])


# ---------------------------------------------------------------- the models


def _config(first: dict, second: dict, pool: dict | None, x_shape: tuple, seed: int) -> dict:
    """conv (`first`) → conv (`second`) → [avgpool2d (`pool`)] → flatten → linear(2), mse;
    its numbers drawn, rounded to two places; the widths from the sizes worked here."""
    rng = np.random.default_rng(seed)
    kind = "conv2d" if len(x_shape) == 3 else "conv1d"
    layers, parameters, shape = [], {}, x_shape
    for n, conv in enumerate((first, second)):
        k = hand.axes(conv["kernel_size"], len(x_shape) - 1)
        weight = (conv["out_channels"], conv["in_channels"] // conv.get("groups", 1), *k)
        parameters[f"{n}.weight"] = rng.normal(size=weight).round(2).tolist()
        parameters[f"{n}.bias"] = rng.normal(size=conv["out_channels"]).round(2).tolist()
        w = np.zeros(weight)
        shape = hand.conv(np.zeros(shape), w, np.zeros(len(w)), conv).shape
        layers.append({kind: conv})
    if pool is not None:
        shape = hand.avg_pool(np.zeros(shape), pool)[0].shape
        layers.append({"avgpool2d": pool})
    size = int(np.prod(shape))
    top = len(layers) + 1
    parameters[f"{top}.weight"] = rng.normal(size=(2, size)).round(2).tolist()
    parameters[f"{top}.bias"] = rng.normal(size=2).round(2).tolist()
    return {
        "model": [*layers, "flatten", {"linear": {"in_features": size, "out_features": 2}}],
        "parameters": parameters,
        "loss": "mse",
        "learning_rate": 0.1,
        "inputs": rng.normal(size=x_shape).round(2).tolist(),
        "targets": rng.normal(size=2).round(2).tolist(),
    }


def _layers(config: dict) -> tuple[dict, dict, dict | None, int]:
    """The two convs' arguments, the pool's (or None) and the linear's position."""
    args = [next(iter(layer.values())) for layer in config["model"][:-2]]
    return args[0], args[1], (args[2] if len(args) == 3 else None), len(config["model"]) - 1


def _pool(y1: np.ndarray, pool: dict | None, slip: str = ""):
    """The pool's output and backward (none: itself); `slip`: as a student who makes it —
    "undivided" (the window's sum), "unoverridden" (divided as without divisor_override)."""
    if pool is None:
        return y1, lambda d: d
    if slip == "undivided":
        pool = {**pool, "divisor_override": 1}
    if slip == "unoverridden":
        pool = {key: value for key, value in pool.items() if key != "divisor_override"}
    y2, divisors = hand.avg_pool(y1, pool)
    return y2, lambda d: hand.avg_back(y1, d, pool, divisors)


def _forward(config: dict, x: np.ndarray, w0: np.ndarray, w1: np.ndarray, slip: str = ""):
    """y0, y1, the pool's output and backward, the linear's output and E (its mean square)."""
    p = {key: np.array(value) for key, value in config["parameters"].items()}
    first, second, pool, top = _layers(config)
    read = w0[..., ::-1, ::-1] if w0.ndim == 4 else w0[..., ::-1]
    y0 = hand.conv(x, read if slip == "flipped" else w0, p["0.bias"], first)
    y1 = hand.conv(y0, w1, p["1.bias"], second)
    y2, back = _pool(y1, pool, slip)
    out = p[f"{top}.weight"] @ y2.reshape(-1) + p[f"{top}.bias"]
    return y0, y1, y2, back, out, float(np.mean((out - np.array(config["targets"])) ** 2))


def _worked(config: dict, slip: str = "") -> dict[str, float]:
    """Every answer of the step by the names an answers file gives them."""
    x = np.array(config["inputs"])
    w0, w1 = (np.array(config["parameters"][f"{n}.weight"]) for n in (0, 1))
    first, second, pool, top = _layers(config)
    y0, y1, y2, back, out, _ = _forward(config, x, w0, w1, slip)
    w_top = np.array(config["parameters"][f"{top}.weight"])
    d_top = (2 / len(out)) * (np.array(config["targets"]) - out)
    d2 = (w_top.T @ d_top).reshape(y2.shape)
    d1 = back(d2)
    d0 = hand.conv_back(y0, w1, d1, second)
    axes = tuple(range(1, d0.ndim))
    arrays = {"y0": y0, "y1": y1, f"y{top}": out, f"delta{top}": d_top}
    arrays |= {"delta1": d1, "delta0": d0}
    arrays |= {"dE/dw0": -hand.conv_grad(x, w0, d0, first), "dE/db0": -d0.sum(axis=axes)}
    arrays |= {"dE/dw1": -hand.conv_grad(y0, w1, d1, second), "dE/db1": -d1.sum(axis=axes)}
    arrays |= {f"dE/dw{top}": -np.outer(d_top, y2.reshape(-1)), f"dE/db{top}": -d_top}
    if pool is not None:
        arrays |= {"y2": y2, "delta2": d2}
    return entries(arrays)


def _conv(c_in: int, c_out: int, groups: int, **more) -> dict:
    return {"in_channels": c_in, "out_channels": c_out, "kernel_size": 2, "groups": groups, **more}


MODELS = {
    # 4 → 4 in two groups of 2 → 2, then 4 → 2 in two groups (each output reads 2 channels)
    "conv1d groups 2, conv1d groups 2 padding 1 dilation 2": (
        _conv(4, 4, 2),
        _conv(4, 2, 2, padding=1, dilation=2),
        None,
        (4, 7),
    ),
    # depthwise (3 groups of one channel), then each of 3 groups' one channel → 2 outputs
    "conv1d depthwise stride 2, conv1d groups 3 (2 outputs a group)": (
        _conv(3, 3, 3, stride=2),
        _conv(3, 6, 3, kernel_size=1),
        None,
        (3, 8),
    ),
    # conv 5×5 → 4×4 → pool 2: every window's 4 entries divided by 3
    "conv2d groups 2, conv2d groups 2, avgpool2d 2 divisor_override 3": (
        _conv(2, 4, 2),
        _conv(4, 2, 2, kernel_size=1),
        {"kernel_size": 2, "divisor_override": 3},
        (2, 5, 5),
    ),
    # conv 5×6 → 4×5; pool ⌈(4 + 2 − 3)/2⌉ + 1 = 3 by ⌈(5 + 2 − 3)/2⌉ + 1 = 3: corners of one
    # to four inputs, each divided by 5
    "conv2d depthwise, conv2d 2→4, avgpool2d 3/2/1 ceil_mode divisor_override 5": (
        _conv(2, 2, 2),
        _conv(2, 4, 1, kernel_size=1),
        {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True, "divisor_override": 5},
        (2, 5, 6),
    ),
    # kernel [1, 2]; the pool padded, count_include_pad false: still divided by 2
    "conv2d 4→2 groups 2, conv2d groups 2, avgpool2d padding 1 not counted divisor 2": (
        _conv(4, 2, 2, kernel_size=[1, 2]),
        _conv(2, 2, 2),
        {"kernel_size": 2, "padding": 1, "count_include_pad": False, "divisor_override": 2},
        (4, 4, 5),
    ),
}


@pytest.mark.parametrize("name", MODELS)
def test_every_number_is_the_one_worked_by_hand_and_check_marks_it_right(name):
    config = _config(*MODELS[name], seed=4)
    assert_traced_as_worked(config, _worked(config))  # and `check` marks each right


@pytest.mark.parametrize("name", MODELS)
def test_the_gradients_by_hand_are_the_central_differences_of_the_forward(name):
    """−∂E/∂w0, −∂E/∂w1 and the δ into each conv (−∂E/∂y0, −∂E/∂y1), worked above, against
    [E(· + h) − E(· − h)]/2h of the forward written in this file (E is quadratic in each:
    no truncation error)."""
    config = _config(*MODELS[name], seed=5)
    x = np.array(config["inputs"])
    ws = [np.array(config["parameters"][f"{n}.weight"]) for n in (0, 1)]
    worked = _worked(config)
    for n in (0, 1):

        def energy(w, n=n):
            return _forward(config, x, *(w if k == n else ws[k] for k in (0, 1)))[-1]

        for at, numeric in central_differences(energy, ws[n]):
            assert worked[f"dE/dw{n}[{at}]"] == pytest.approx(numeric, rel=1e-6, abs=1e-9), at
    _, second, pool, top = _layers(config)
    p = {key: np.array(value) for key, value in config["parameters"].items()}
    t = np.array(config["targets"])

    def energy_above(y0=None, y1=None):
        if y1 is None:
            y1 = hand.conv(y0, ws[1], p["1.bias"], second)
        out = p[f"{top}.weight"] @ _pool(y1, pool)[0].reshape(-1) + p[f"{top}.bias"]
        return float(np.mean((out - t) ** 2))

    y0, y1 = _forward(config, x, *ws)[:2]
    for n, y in ((0, y0), (1, y1)):
        for at, numeric in central_differences(lambda y, n=n: energy_above(**{f"y{n}": y}), y):
            assert worked[f"delta{n}[{at}]"] == pytest.approx(-numeric, rel=1e-6, abs=1e-8), at


# ---------------------------------------------------------------- what the rules say


def test_the_rules_say_which_channels_a_group_reads_and_what_a_window_is_divided_by():
    name = "conv2d groups 2, conv2d groups 2, avgpool2d 2 divisor_override 3"
    sections = by_title(_config(*MODELS[name], seed=4))
    first = sections["Forward · layer 0 (conv2d)"]
    # 2 → 4 in groups of 1 input, 2 outputs: output c reads input channel ⌊c/2⌋
    assert "Σ_m Σ_n w[c,0,m,n]·x[⌊c/2⌋, i + m, j + n] + b[c]" in first.rule
    assert "groups 2: output channel c reads only input channel ⌊c/2⌋" in first.rule
    rows = {row.symbol: row for row in first.rows}
    assert rows["y0[3,0,0]"].note == "receptive field x[1, 0…1, 0…1]"
    assert "x[1,0,0]" in rows["y0[3,0,0]"].formula and "x[0," not in rows["y0[3,0,0]"].formula
    second = sections["Forward · layer 1 (conv2d)"]
    # 4 → 2 in groups of 2 inputs, 1 output: output c reads input channels 2c, 2c + 1
    assert "w[c,d,m,n]·x[2c + d, i + m, j + n]" in second.rule
    assert "groups 2: output channel c reads only input channels 2c…2c + 1" in second.rule
    back = sections["δ · into layer 1 (conv2d)"]
    assert "Σ w[c, d mod 2, m, n]·δ[c,i,j]" in back.rule
    assert "groups 2: input channel d feeds only output channel ⌊d/2⌋" in back.rule
    grads = sections["Gradients · layer 1 (conv2d)"]
    assert "δ[c,i,j]·x[2c + d, i·s + m − p, j·s + n − p]" in grads.rule
    pool = sections["Forward · layer 2 (avgpool2d, windows of 2, stride 2, divisor_override 3)"]
    assert "y[c,i,j] = (Σ x[c, 2i…2i + 1, 2j…2j + 1])/3: every window by 3" in pool.rule
    assert pool.rows[0].formula.endswith(")/3")
    delta = sections["δ · into layer 2 (avgpool2d)"]
    assert delta.rule.startswith("each window's δ divided by divisor_override")
    assert "Σ δ[c,i,j]/3 over the windows" in delta.rule


@pytest.mark.parametrize("book", ["lecture", "nielsen", "hagan", "mazur"])
def test_every_row_evaluates_to_its_value_from_its_operands_in_every_book(book):
    """What `check` reads: each row's formula, evaluated through the operations' definitions
    over its operands, gives its value — the grouped convs' and the divided pool's rows too."""
    config = _config(*MODELS[TWO_D], seed=4)
    traced = api.trace(config, notation=None if book == "lecture" else book)
    rows = [row for step in traced.records.steps for _, row in step.equations()]
    assert len(rows) > 100
    for row in rows:
        got = formula.evaluate(formula.parse(row.working or row.formula), row.values())
        assert got == pytest.approx(row.value, rel=1e-9, abs=1e-12), (row.symbol, row.formula)


def test_the_layers_table_and_sheets_write_groups_and_the_divisor():
    """As the layers' table and an exercise sheet write a layer (`written`)."""
    conv = {"in_channels": 4, "out_channels": 2, "kernel_size": 2, "stride": 1, "padding": 0}
    conv |= {"dilation": 1, "groups": 2, "bias": True}
    assert conv1d.written(conv) == "4→2 channels, k=2, groups 2"
    assert conv2d.written({**conv, "groups": 1}) == "4→2 channels, k=2"
    pool = {"kernel_size": (2, 2), "stride": (2, 2), "padding": (0, 0), "divisor_override": 3}
    assert avgpool2d.written(pool) == "k=2, divisor_override 3"


# ---------------------------------------------------------------- marking


ONE_D = "conv1d groups 2, conv1d groups 2 padding 1 dilation 2"
TWO_D = "conv2d groups 2, conv2d groups 2, avgpool2d 2 divisor_override 3"
CEIL = "conv2d depthwise, conv2d 2→4, avgpool2d 3/2/1 ceil_mode divisor_override 5"
SLIPS = {  # the model, the slip as this file makes it, where, and the name `check` gives it
    "1-D kernel flipped": (ONE_D, "flipped", "y0[", conv1d.FLIPPED),
    "2-D kernel flipped": (TWO_D, "flipped", "y0[", conv2d.FLIPPED),
    "the sum for the mean": (TWO_D, "undivided", "y2[", avgpool2d.UNDIVIDED),
    "the divisor left out": (TWO_D, "unoverridden", "y2[", avgpool2d.UNOVERRIDDEN),
    "… at a ceil_mode corner": (CEIL, "unoverridden", "y2[", avgpool2d.UNOVERRIDDEN),
}


@pytest.mark.parametrize("case", SLIPS)
def test_check_names_a_slip_at_a_grouped_conv_or_a_divisor_override(case):
    name, slip, prefix, mistake = SLIPS[case]
    config = _config(*MODELS[name], seed=6)
    assert_slip_named(_worked(config), _worked(config, slip), prefix, mistake, config)


# ---------------------------------------------------------------- every command

NAME = "conv2d 4→2 groups 2, conv2d groups 2, avgpool2d padding 1 not counted divisor 2"


def test_json_lists_groups_and_the_divisor_where_given_and_save_writes_them_back(runner, tmp_path):
    path = written(tmp_path, _config(*MODELS[NAME], seed=4))
    data = json.loads(runner.invoke(cli, ["run", str(path), "--format", "json"]).output)
    first, second, pool = (layer["arguments"] for layer in data["model"]["layers"][:3])
    assert first["groups"] == 2 and second["groups"] == 2 and pool["divisor_override"] == 2
    plain = _config(_conv(2, 2, 1), _conv(2, 2, 1), {"kernel_size": 2}, (2, 5, 5), seed=4)
    plain_path = written(tmp_path, plain, "p.yaml")
    data = json.loads(runner.invoke(cli, ["run", str(plain_path), "--format", "json"]).output)
    first, _, pool = (layer["arguments"] for layer in data["model"]["layers"][:3])
    assert "groups" not in first and "divisor_override" not in pool
    saved = tmp_path / "saved.yaml"
    result = runner.invoke(cli, ["step", str(path), "--epochs", "1", "--save", str(saved)])
    assert result.exit_code == 0, result.output
    model = yaml.safe_load(saved.read_text(encoding="utf-8"))["model"]
    first, second, pool, _ = MODELS[NAME]  # as given: torch's defaults left out
    assert model[:3] == [{"conv2d": first}, {"conv2d": second}, {"avgpool2d": pool}]
    again = tmp_path / "again.yaml"  # the saved model steps on, and saves the same layers
    result = runner.invoke(cli, ["step", str(saved), "--epochs", "1", "--save", str(again)])
    assert result.exit_code == 0, result.output
    assert (
        yaml.safe_load(again.read_text(encoding="utf-8"))["model"]
        == yaml.safe_load(saved.read_text(encoding="utf-8"))["model"]
    )


def test_markdown_verify_quiz_exercise_and_every_book_take_groups_and_a_divisor(runner, tmp_path):
    path = written(tmp_path, _config(*MODELS[NAME], seed=4))
    page = runner.invoke(cli, ["run", str(path), "--format", "markdown"])
    assert page.exit_code == 0 and "divisor_override 2)" in page.output  # the pool's title
    assert "reads only input channel" in page.output
    from node_parsers import check, pieces  # KaTeX and mermaid, in node

    book = ["run", str(path), "--format", "markdown", "--notation", "nielsen"]
    report = check(*pieces(page.output + runner.invoke(cli, book).output))
    assert report["math"] == [] and report["mermaid"] == [], report
    verify = runner.invoke(cli, ["run", str(path), "--verify"])
    assert verify.exit_code == 0 and "gradients agree with central finite differences" in (
        verify.output
    )
    assert_quizzed_in_full(runner, path, tmp_path)
    folder = tmp_path / "set"
    args = ["exercise", str(path), "--variants", "2", "--seed", "1", "-o", str(folder)]
    assert runner.invoke(cli, args).exit_code == 0
    for drawn in sorted((folder / "configs").glob("*.yaml")):
        model = yaml.safe_load(drawn.read_text(encoding="utf-8"))["model"]
        assert model[0]["conv2d"]["groups"] == 2 and model[2]["avgpool2d"]["divisor_override"]
    # a later conv's note slices its own input in the book: layer 1's group reads z^2's
    # channel c alone (Nielsen's; its own input, not the model's a^1)
    book = runner.invoke(cli, ["run", str(path), "--notation", "nielsen", "--full"])
    assert book.exit_code == 0 and "z^3[1,0,0]: receptive field z^2[1, 0…1, 0…1]" in book.output
    for name in ("hagan", "mazur"):
        assert runner.invoke(cli, ["run", str(path), "--notation", name]).exit_code == 0


# ---------------------------------------------------------------- refusals

GROUPS = "a whole number ≥ 1 dividing in_channels (4) and out_channels (2), as torch's: 1, 2"
DIVISOR = "a whole number ≥ 1, every window's sum divided by it (torch's), or leave it out"
BAD = [
    ("conv1d", "groups", 0, f"0 is out of range; expected {GROUPS}"),
    ("conv2d", "groups", -2, f"-2 is out of range; expected {GROUPS}"),
    ("conv1d", "groups", 1.5, f"1.5 is not a whole number; expected {GROUPS}"),
    ("conv2d", "groups", True, f"true is not a whole number; expected {GROUPS}"),
    ("conv1d", "groups", 4, f"4 does not divide out_channels (2); expected {GROUPS}"),
    ("conv2d", "groups", 3, f"3 does not divide in_channels (4); expected {GROUPS}"),
    ("avgpool2d", "divisor_override", 0, f"0 is out of range; expected {DIVISOR}"),
    ("avgpool2d", "divisor_override", -3, f"-3 is out of range; expected {DIVISOR}"),
    ("avgpool2d", "divisor_override", 2.5, f"2.5 is not a whole number; expected {DIVISOR}"),
    ("avgpool2d", "divisor_override", False, f"false is not a whole number; expected {DIVISOR}"),
    ("maxpool2d", "divisor_override", 2, "unknown argument of maxpool2d; it takes name, kernel"),
]


@pytest.mark.parametrize(("kind", "key", "value", "problem"), BAD)
def test_a_bad_groups_or_divisor_is_exit_2_naming_file_line_and_field(
    runner, tmp_path, kind, key, value, problem
):
    two = kind != "conv1d"
    conv = {"conv2d" if two else "conv1d": _conv(4, 2, 1)}
    pool = [{kind if kind.endswith("pool2d") else "avgpool2d": {"kernel_size": 2}}] if two else []
    size = 2 * 4 * 4 if two else 2 * 6  # conv 9×9 → 8×8, pool 2 → 4×4; 1-D 7 → 6
    config = {
        "model": [conv, *pool, "flatten", {"linear": {"in_features": size, "out_features": 1}}],
        "loss": "mse",
        "learning_rate": 0.1,
        "inputs": np.ones((4, 9, 9) if two else (4, 7)).tolist(),
        "targets": [0.0],
    }
    at = 1 if kind.endswith("pool2d") else 0
    next(iter(config["model"][at].values()))[key] = value  # the one bad value
    assert_refused(runner, tmp_path, config, at, key, problem)


def test_a_grouped_convs_weight_has_torchs_shape():
    """Conv1d(4, 2, 2, groups=2)'s weight is [2][2][2]: [2][4][2] (ungrouped) is refused."""
    config = _config(_conv(4, 2, 2), _conv(2, 2, 1), None, (4, 6), seed=1)
    config["parameters"]["0.weight"] = np.zeros((2, 4, 2)).tolist()
    with pytest.raises(ConfigError) as caught:
        api.trace(config)
    assert "found 4 entries where 2 are expected: its shape is [2][2][2]" in str(caught.value)
