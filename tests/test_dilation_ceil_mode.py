"""torch's `dilation` (conv1d, conv2d, maxpool1d, maxpool2d) and `ceil_mode` (maxpool1d,
maxpool2d, avgpool2d). Every expected number is worked with numpy over the explicitly padded
grid (`windows_by_hand`), the small examples by hand in the tests' own words, and every
gradient also checked by central finite differences of that forward; never read from the
program's trace."""

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
from slips import above_the_pool, assert_slip_named, entries

from backtrace_cli import models
from backtrace_cli.cli import cli
from backtrace_cli.core.errors import ConfigError
from backtrace_cli.network.layers import avgpool2d, conv1d, conv2d, maxpool1d, maxpool2d
from backtrace_cli.network.model_spec import LayerSpec

# ---------------------------------------------------------------- small examples by hand


def test_small_windows_by_hand():
    """x = [1, 3, 2, 5, 4] (n = 5).
    MaxPool1d(2, ceil_mode=True): ⌈(5 − 1 − 1)/2⌉ + 1 = 3 windows (⌊…⌋ + 1 = 2); the last
    starts at 4, inside the input: [1, 3] → 3, [2, 5] → 5, [4] (5 runs past the end) → 4.
    MaxPool1d(2, stride=1, dilation=2): (5 − 2 − 1)/1 + 1 = 3 windows, x[t] and x[t + 2]:
    max(1, 2) = 2, max(3, 5) = 5, max(2, 4) = 4.
    On x6 = [1, 3, 2, 0.5, 4, 6], MaxPool1d(3, stride=2, padding=1, dilation=2,
    ceil_mode=True): ⌈(6 + 2 − 2·2 − 1)/2⌉ + 1 = 3 windows (⌊…⌋ + 1 = 2), the third starting
    at 2·2 − 1 = 3 < 6 (kept); positions −1, 1, 3 → max(3, 0.5) = 3 (−1 is padding); 1, 3, 5
    → max(3, 0.5, 6) = 6; 3, 5, 7 → max(0.5, 6) = 6 (7 past the padded input, which ends at 6).
    Conv1d(1, 1, 2, dilation=2), w = [0.5, −1], b = 0.1: y[t] = 0.5·x[t] − x[t + 2] + 0.1 =
    0.5 − 2 + 0.1 = −1.4, 1.5 − 5 + 0.1 = −3.4, 1 − 4 + 0.1 = −2.9."""
    x = [[1.0, 3.0, 2.0, 5.0, 4.0]]
    rows = alone({"maxpool1d": {"kernel_size": 2, "ceil_mode": True}}, x, 3)
    assert [rows[f"y0[0,{t}]"] for t in range(3)] == [3.0, 5.0, 4.0]
    rows = alone({"maxpool1d": {"kernel_size": 2, "stride": 1, "dilation": 2}}, x, 3)
    assert [rows[f"y0[0,{t}]"] for t in range(3)] == [2.0, 5.0, 4.0]
    pool = {"kernel_size": 3, "stride": 2, "padding": 1, "dilation": 2, "ceil_mode": True}
    rows = alone({"maxpool1d": pool}, [[1.0, 3.0, 2.0, 0.5, 4.0, 6.0]], 3)
    assert [rows[f"y0[0,{t}]"] for t in range(3)] == [3.0, 6.0, 6.0]
    conv = {"in_channels": 1, "out_channels": 1, "kernel_size": 2, "dilation": 2}
    rows = alone({"conv1d": conv}, x, 3, {"0.weight": [[[0.5, -1.0]]], "0.bias": [0.1]})
    assert [rows[f"y0[0,{t}]"] for t in range(3)] == pytest.approx([-1.4, -3.4, -2.9])


def test_a_ceil_mode_average_is_divided_by_its_window_cut_at_the_padded_input():
    """AvgPool2d(3, stride=2, padding=1, ceil_mode=True) on a 4×4 of ones: ⌈(4 + 2 − 3)/2⌉ + 1
    = 3 windows a side (⌊…⌋ + 1 = 2; the third starts at row 2·2 − 1 = 3, inside). Window
    (0,0): rows and columns −1…1, 9 entries, 4 of them inputs → 4/9. Window (0,2): columns
    3…5 — 3 an input, 4 the padding, 5 past the padded input — so 3·2 = 6 entries, 2 inputs
    → 2/6. Window (2,2): rows and columns 3…5: 2·2 = 4 entries, x[3,3] alone → 1/4 (as
    torch: 0.25). Without count_include_pad, every window is divided by its inputs: 1."""
    ones = np.ones((1, 4, 4)).tolist()
    pool = {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}
    rows = alone({"avgpool2d": pool}, ones, 9)
    assert rows["y0[0,0,0]"] == pytest.approx(4 / 9)
    assert rows["y0[0,0,2]"] == pytest.approx(2 / 6)
    assert rows["y0[0,2,2]"] == pytest.approx(1 / 4)
    rows = alone({"avgpool2d": {**pool, "count_include_pad": False}}, ones, 9)
    assert all(rows[f"y0[0,{i},{j}]"] == pytest.approx(1.0) for i in range(3) for j in range(3))


# ---------------------------------------------------------------- the models


def _config(conv: dict, pool: dict, x_shape: tuple[int, ...], seed: int) -> dict:
    """conv (1→2 channels, `conv`'s arguments) → `pool` → flatten → linear(2), mse; its
    numbers drawn, rounded to two places; the linear's width from the sizes worked here."""
    rng = np.random.default_rng(seed)
    rank = len(x_shape) - 1
    kind = "conv2d" if rank == 2 else "conv1d"
    k = hand.axes(conv["kernel_size"], rank)
    conv_out = hand.conv(np.zeros(x_shape), np.zeros((1, 1, *k)), np.zeros(1), conv).shape[1:]
    args = next(iter(pool.values()))
    ceil = args.get("ceil_mode", False)
    pooled = [hand.count(*a, ceil=ceil) for a in zip(conv_out, *hand.arguments(args, rank))]
    size = 2 * int(np.prod(pooled))
    return {
        "model": [
            {kind: {"in_channels": 1, "out_channels": 2, **conv}},
            pool,
            "flatten",
            {"linear": {"in_features": size, "out_features": 2}},
        ],
        "parameters": {
            "0.weight": rng.normal(size=(2, 1, *k)).round(2).tolist(),
            "0.bias": rng.normal(size=2).round(2).tolist(),
            "3.weight": rng.normal(size=(2, size)).round(2).tolist(),
            "3.bias": rng.normal(size=2).round(2).tolist(),
        },
        "loss": "mse",
        "learning_rate": 0.1,
        "inputs": rng.normal(size=x_shape).round(2).tolist(),
        "targets": rng.normal(size=2).round(2).tolist(),
    }


def _pool_forward(config: dict, y0: np.ndarray, slip: str = ""):
    """The pool's output on y0 and its backward for a δ given; `slip`: as a student who makes
    it (the average's padding counted the other way)."""
    kind, args = next(iter(config["model"][1].items()))
    if kind.startswith("max"):
        y1, kept = hand.max_pool(y0, args)

        def back(d):
            sent = np.zeros_like(y0)
            for window, index in kept.items():
                sent[index] += d[window]
            return sent

        return y1, back
    counted = args.get("count_include_pad", True) != (slip == "recounted")
    y1, divisors = hand.avg_pool(y0, args, counted)
    return y1, lambda d: hand.avg_back(y0, d, args, divisors)


def _forward(config: dict, x: np.ndarray, w0: np.ndarray, slip: str = ""):
    """y0 (conv), the answers above the pool (`above_the_pool`), E, the pool's backward."""
    p = {key: np.array(value) for key, value in config["parameters"].items()}
    conv = next(iter(config["model"][0].values()))
    y0 = hand.conv(x, w0[..., ::-1] if slip == "flipped" else w0, p["0.bias"], conv)
    if slip == "flipped" and w0.ndim == 4:
        y0 = hand.conv(x, w0[..., ::-1, ::-1], p["0.bias"], conv)
    y1, back = _pool_forward(config, y0, slip)
    above, energy = above_the_pool(config, y1)
    return y0, above, energy, back


def _worked(config: dict, slip: str = "") -> dict[str, float]:
    """Every answer of the step by the names an answers file gives them."""
    x = np.array(config["inputs"])
    w0 = np.array(config["parameters"]["0.weight"])
    y0, above, _, back = _forward(config, x, w0, slip)
    d1 = above["delta1"]
    d0 = back(d1)
    if slip == "spread":
        d0 = hand.spread(y0, d1, next(iter(config["model"][1].values())))
    conv = next(iter(config["model"][0].values()))
    arrays = {"y0": y0, **above, "delta0": d0}
    axes = tuple(range(1, d0.ndim))
    arrays |= {"dE/dw0": -hand.conv_grad(x, w0, d0, conv), "dE/db0": -d0.sum(axis=axes)}
    return entries(arrays)


K2 = {"kernel_size": 2}
MODELS = {
    # conv 9 − 2 − 1 + 1 = 7; pool ⌈(7 − 1 − 1)/2⌉ + 1 = 4 (⌊…⌋: 3), the last window 6…7
    "conv1d dilation 2, maxpool1d 2 ceil_mode": (
        {**K2, "dilation": 2},
        {"maxpool1d": {"kernel_size": 2, "ceil_mode": True}},
        (1, 9),
    ),
    # conv (10 + 4 − 3 − 1)//2 + 1 = 6; pool ⌈(6 + 2 − 4 − 1)/2⌉ + 1 = 3, windows −1, 1, 3 …
    # 3, 5, 7: 7 past the padded input (6 + 1)
    "conv1d dilation 3 stride 2 padding 2, maxpool1d 3/2/1 dilation 2 ceil_mode": (
        {**K2, "dilation": 3, "stride": 2, "padding": 2},
        {
            "maxpool1d": {
                "kernel_size": 3,
                "stride": 2,
                "padding": 1,
                "dilation": 2,
                "ceil_mode": True,
            }
        },
        (1, 10),
    ),
    # conv 6×6 (rows dilated 2); pool ⌈(6 − 2 − 1)/2⌉ + 1 = 3 a side (⌊…⌋: 2), rows 4, 6
    "conv2d dilation [2, 1], maxpool2d 2 dilation 2 ceil_mode": (
        {**K2, "dilation": [2, 1]},
        {"maxpool2d": {"kernel_size": 2, "dilation": 2, "ceil_mode": True}},
        (1, 8, 7),
    ),
    # conv 6×6; pool ⌈(6 + 2 − 3)/2⌉ + 1 = 4 a side (⌊…⌋: 3), the last rows 5 (input), 6
    # (padding), 7 (past it): divided by 2·3, 3·2 or 2·2 at the edges
    "conv2d dilation 2 padding 1, avgpool2d 3/2/1 ceil_mode": (
        {**K2, "dilation": 2, "padding": 1},
        {"avgpool2d": {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}},
        (1, 6, 6),
    ),
    "conv2d dilation 2 padding 1, avgpool2d 3/2/1 ceil_mode, not counted": (
        {**K2, "dilation": 2, "padding": 1},
        {
            "avgpool2d": {
                "kernel_size": 3,
                "stride": 2,
                "padding": 1,
                "ceil_mode": True,
                "count_include_pad": False,
            }
        },
        (1, 6, 6),
    ),
    # conv 5×5; pool ⌈(5 − 2)/2⌉ + 1 = 3 a side: the last window one input wide
    "conv2d, avgpool2d 2 ceil_mode": (
        K2,
        {"avgpool2d": {"kernel_size": 2, "ceil_mode": True}},
        (1, 6, 6),
    ),
}


@pytest.mark.parametrize("name", MODELS)
def test_every_number_is_the_one_worked_over_the_padded_grid_and_check_marks_it_right(name):
    config = _config(*MODELS[name], seed=4)
    assert_traced_as_worked(config, _worked(config))  # and `check` marks each right


@pytest.mark.parametrize("name", MODELS)
def test_the_gradients_by_hand_are_the_central_differences_of_the_forward(name):
    """−∂E/∂w0 (through the pool) and −∂E/∂y0 (the δ into the pool), worked above, against
    [E(· + h) − E(· − h)]/2h of the forward written in this file."""
    config = _config(*MODELS[name], seed=5)
    x = np.array(config["inputs"])
    w0 = np.array(config["parameters"]["0.weight"])
    worked = _worked(config)  # E is quadratic between kinks: no truncation error
    for at, numeric in central_differences(lambda w: _forward(config, x, w)[2], w0):
        assert worked[f"dE/dw0[{at}]"] == pytest.approx(numeric, rel=1e-6, abs=1e-9), at
    y0 = _forward(config, x, w0)[0]
    above = lambda y: above_the_pool(config, _pool_forward(config, y)[0])[1]  # noqa: E731
    for at, numeric in central_differences(above, y0):
        assert worked[f"delta0[{at}]"] == pytest.approx(-numeric, rel=1e-6, abs=1e-8), at


# ---------------------------------------------------------------- what the trace says


def test_the_rows_say_where_a_window_steps_and_where_it_runs_past_the_end():
    name = "conv1d dilation 3 stride 2 padding 2, maxpool1d 3/2/1 dilation 2 ceil_mode"
    config = _config(*MODELS[name], seed=4)
    sections = by_title(config)
    conv = sections["Forward · layer 0 (conv1d)"]
    # output t reads x[2t − 2 + 3k]: t = 0 reads −2 (padding) and 1
    assert "x[i, 2t − 2 + 3k]" in conv.rule
    assert conv.rows[0].note == "receptive field x[:, 1] (the rest is padding, 0)"
    assert conv.rows[1].note == "receptive field x[:, 0…3 step 3]"
    title = (
        "Forward · layer 1 (maxpool1d, windows of 3, stride 2, padding 1, dilation 2, ceil_mode)"
    )
    pool = sections[title]
    assert "max(x[c, 2t − 1], …, x[c, 2t + 3]), its positions 2 apart (dilation 2)" in pool.rule
    assert "ceil_mode (as torch): a last window runs past the end" in pool.rule
    first, last = pool.rows[0], pool.rows[2]
    assert first.note.startswith("window x[:, −1…3 step 2], position −1 padding (−∞); keeps")
    assert last.formula == "max({y0[0,3]}, {y0[0,5]})"  # 3, 5 and 7: 7 past 6 + 1
    assert last.note.startswith("window x[:, 3…7 step 2], position 7 past the end (ceil mode)")
    gradients = sections["Gradients · layer 0 (conv1d)"]
    assert "x[i, 2t − 2 + 3k]" in gradients.rule


def test_an_average_pool_in_ceil_mode_says_what_it_divides_by():
    config = _config(*MODELS["conv2d dilation 2 padding 1, avgpool2d 3/2/1 ceil_mode"], seed=4)
    sections = by_title(config)
    pool = next(s for title, s in sections.items() if title.startswith("Forward · layer 1"))
    assert pool.title.endswith("(avgpool2d, windows of 3, stride 2, padding 1, ceil_mode)")
    assert "cut there, and divided by the entries it keeps" in pool.rule
    rows = {row.symbol: row for row in pool.rows}
    assert rows["y1[0,0,3]"].formula.endswith(")/6")  # 3 rows × columns 5, 6 (7 past)
    assert rows["y1[0,3,3]"].formula == "{y0[0,5,5]}/4"  # x[5,5] alone, of 2·2 entries
    # rows 5…7 (5 an input, 6 the padding, 7 past it) × columns −1…1: 2·3 = 6 entries
    assert rows["y1[0,3,0]"].formula.endswith(")/6")
    assert rows["y1[0,3,0]"].note == (
        "window x[:, 5…7, −1…1], row 6 and column −1 padding (0), row 7 past the end "
        "(ceil mode): left out"
    )
    delta = sections["δ · into layer 1 (avgpool2d)"]
    assert delta.rule.startswith("each window's δ divided as its mean was")
    layers = models.from_dict(config).layers  # as the layers' table and the sheets write them
    assert conv2d.written(dict(layers[0].arguments)) == "1→2 channels, k=2, padding 1, dilation 2"
    assert avgpool2d.written(dict(layers[1].arguments)) == "k=3, stride 2, padding 1, ceil_mode"


# ---------------------------------------------------------------- marking


@pytest.mark.parametrize(
    ("name", "slip", "prefix", "mistake"),
    [
        ("conv1d dilation 2, maxpool1d 2 ceil_mode", "flipped", "y0[", conv1d.FLIPPED),
        (
            "conv2d dilation [2, 1], maxpool2d 2 dilation 2 ceil_mode",
            "spread",
            "delta0[",
            maxpool2d.SPREAD,
        ),
        (
            "conv1d dilation 3 stride 2 padding 2, maxpool1d 3/2/1 dilation 2 ceil_mode",
            "spread",
            "delta0[",
            maxpool1d.SPREAD,
        ),
        (
            "conv2d dilation 2 padding 1, avgpool2d 3/2/1 ceil_mode",
            "recounted",
            "y1[",
            avgpool2d.RECOUNTED,
        ),
        (
            "conv2d dilation 2 padding 1, avgpool2d 3/2/1 ceil_mode, not counted",
            "recounted",
            "y1[",
            avgpool2d.RECOUNTED,
        ),
    ],
)
def test_check_names_a_slip_at_a_dilated_or_ceil_mode_window(name, slip, prefix, mistake):
    config = _config(*MODELS[name], seed=6)
    assert_slip_named(_worked(config), _worked(config, slip), prefix, mistake, config)


# ---------------------------------------------------------------- every command


NAME = "conv1d dilation 3 stride 2 padding 2, maxpool1d 3/2/1 dilation 2 ceil_mode"


def test_json_lists_a_dilation_and_ceil_mode_where_given_and_save_writes_them_back(
    runner, tmp_path
):
    path = written(tmp_path, _config(*MODELS[NAME], seed=4))
    data = json.loads(runner.invoke(cli, ["run", str(path), "--format", "json"]).output)
    conv, pool = (layer["arguments"] for layer in data["model"]["layers"][:2])
    assert conv["dilation"] == 3 and pool["dilation"] == 2 and pool["ceil_mode"] is True
    undilated = _config(K2, {"maxpool1d": {"kernel_size": 2}}, (1, 6), seed=4)
    data = json.loads(
        runner.invoke(
            cli, ["run", str(written(tmp_path, undilated, "u.yaml")), "--format", "json"]
        ).output
    )
    conv, pool = (layer["arguments"] for layer in data["model"]["layers"][:2])
    assert "dilation" not in conv and "dilation" not in pool and "ceil_mode" not in pool
    saved = tmp_path / "saved.yaml"
    result = runner.invoke(cli, ["step", str(path), "--epochs", "1", "--save", str(saved)])
    assert result.exit_code == 0, result.output
    model = yaml.safe_load(saved.read_text(encoding="utf-8"))["model"]
    conv, pool, _ = MODELS[NAME]  # as given: torch's defaults left out, the rest written back
    assert model[:2] == [{"conv1d": {"in_channels": 1, "out_channels": 2, **conv}}, pool]
    assert runner.invoke(cli, ["run", str(saved)]).exit_code == 0


def test_markdown_verify_quiz_and_exercise_take_a_dilated_ceil_mode_model(runner, tmp_path):
    path = written(tmp_path, _config(*MODELS[NAME], seed=4))
    page = runner.invoke(cli, ["run", str(path), "--format", "markdown"])
    assert page.exit_code == 0 and "dilation 2, ceil_mode)" in page.output  # its title
    assert "position 7 past the end (ceil mode): left out" in page.output  # a note, in KaTeX text
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
        assert model[1]["maxpool1d"]["dilation"] == 2 and model[1]["maxpool1d"]["ceil_mode"]


# ---------------------------------------------------------------- refusals


def test_a_ceil_mode_window_may_be_longer_than_the_signal_as_torch_takes_it(runner, tmp_path):
    """MaxPool1d(3, stride=2) on x = [1, 2]: ⌊(2 − 3)/2⌋ + 1 = 0 windows, refused; with
    ceil_mode ⌈−1/2⌉ + 1 = 1, starting at 0 (inside): max(1, 2) = 2 (torch: tensor([[2.]]))."""
    pool = {"kernel_size": 3, "stride": 2, "ceil_mode": True}
    assert alone({"maxpool1d": pool}, [[1.0, 2.0]], 1)["y0[0,0]"] == 2.0
    floor = {"maxpool1d": {**pool, "ceil_mode": False}}
    config = {
        "model": [floor, "flatten", {"linear": {"in_features": 1, "out_features": 1}}],
        "loss": "mse",
        "learning_rate": 0.1,
        "inputs": [[1.0, 2.0]],
        "targets": [0.0],
    }
    result = runner.invoke(cli, ["run", str(written(tmp_path, config))])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "layer 0 (maxpool1d) its window (3) is longer than the signal (2)" in result.output


BAD = [
    ("conv1d", "dilation", 0, "0 is out of range; expected a whole number ≥ 1"),
    ("conv1d", "dilation", -2, "-2 is out of range; expected a whole number ≥ 1"),
    ("conv1d", "dilation", 1.5, "1.5 is not a whole number; expected a whole number ≥ 1"),
    ("conv2d", "dilation", [2, 0], "0 is out of range; expected a whole number ≥ 1"),
    ("maxpool2d", "dilation", "two", "is not a whole number; expected a whole number ≥ 1, or"),
    ("maxpool1d", "dilation", True, "is not a whole number; expected a whole number ≥ 1"),
    ("maxpool1d", "ceil_mode", 1, "1 is not true or false"),
    ("avgpool2d", "ceil_mode", "yes", "is not true or false"),
    ("avgpool2d", "dilation", 2, "it takes name, kernel_size, stride, padding, ceil_mode, count"),
    ("conv1d", "ceil_mode", True, "it takes name, in_channels, out_channels, kernel_size, stride"),
]


@pytest.mark.parametrize(("kind", "key", "value", "problem"), BAD)
def test_a_bad_dilation_or_ceil_mode_is_exit_2_naming_file_line_and_field(
    runner, tmp_path, kind, key, value, problem
):
    two = kind.endswith("2d")
    at = 0 if kind.startswith("conv") else 1
    pool = kind if at else ("maxpool2d" if two else "maxpool1d")
    config = _config(K2, {pool: {"kernel_size": 2}}, (1, 6, 6) if two else (1, 7), seed=1)
    next(iter(config["model"][at].values()))[key] = value  # the one bad value
    assert_refused(runner, tmp_path, config, at, key, problem)


def test_a_max_pool_window_of_padding_alone_is_refused_as_torch_gives_it_minus_infinity(
    runner, tmp_path
):
    """MaxPool1d(2, padding=1, dilation=2) on one position: (1 + 2 − 2 − 1)/2 + 1 = 1 window,
    at −1 and 1 — both padding, stepping over x[0]: torch's max is −∞."""
    pool = {"maxpool1d": {"kernel_size": 2, "padding": 1, "dilation": 2}}
    config = _config({"kernel_size": 2}, {"maxpool1d": {"kernel_size": 1}}, (1, 2), seed=1)
    config["model"][1] = pool
    result = runner.invoke(cli, ["run", str(written(tmp_path, config))])
    assert result.exit_code == 2 and "Traceback" not in result.output, result.output
    assert "model[1]" in result.output
    assert (
        "layer 1 (maxpool1d) has a window that reads positions −1, 1 only, all padding "
        "(dilation 2 steps over the input): torch's max of it is −∞; give less padding or "
        "dilation; layer 0 (conv1d) gives 2×1"
    ) in result.output.replace("\n", " "), result.output


def test_a_2d_pool_on_a_signal_says_what_it_takes():
    """The window arithmetic 1-D and 2-D pools share still asks a 2-D pool for an image."""
    config = _config(K2, {"maxpool1d": {"kernel_size": 2}}, (1, 7), seed=1)
    config["model"][1] = {"maxpool2d": {"kernel_size": 2, "ceil_mode": True}}
    with pytest.raises(ConfigError) as caught:
        models.from_dict(config)
    assert (
        "layer 1 (maxpool2d) takes channels × height × width, and gets 2×6; layer 0 (conv1d) "
        "gives 2×6"
    ) in str(caught.value)


# ---------------------------------------------------------------- exercise fairness


def test_a_dilated_max_pool_is_unfair_only_where_its_own_window_nearly_ties():
    """Windows 2 apart read x[t] and x[t + 2]: 0.5 and 0.51 side by side are never in one
    window; 0.5 and 0.51 two apart are."""
    arguments = (("kernel_size", 2), ("stride", 1), ("padding", 0), ("dilation", 2))
    pool = LayerSpec("maxpool1d", "1", arguments, (1, 4), (1, 2))  # (4 − 2 − 1) + 1 = 2
    apart = np.array([[0.5, 0.51, 0.9, 0.1]])  # windows (0.5, 0.9), (0.51, 0.1)
    tie = np.array([[0.5, 0.9, 0.51, 0.1]])  # window 0: 0.5 and 0.51
    assert maxpool1d.unfair(pool, apart, np.zeros((1, 2))) is None
    assert maxpool1d.unfair(pool, tie, np.zeros((1, 2))) is not None
