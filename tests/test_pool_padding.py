"""A pool's `padding` (torch's): maxpool1d and maxpool2d pad with −∞, avgpool2d with 0, its
divisor the window's k_h·k_w with count_include_pad (torch's default) or the inputs it holds
without. Every expected number is worked here with numpy over the explicitly padded input (a
window at a time, as a student pads the grid), and every gradient also checked by central
finite differences of the forward written here; never read from the program's trace."""

from __future__ import annotations

import numpy as np
import pytest
import yaml
from slips import above_the_pool, assert_all_right, assert_slip_named, entries, verdicts

from backtrace_cli import api
from backtrace_cli.cli import cli
from backtrace_cli.network.layers import avgpool2d, maxpool1d, maxpool2d
from backtrace_cli.network.model_spec import LayerSpec

# ---------------------------------------------------------------- the layers, worked by hand


def _out(n: int, k: int, s: int, p: int) -> int:
    """torch's floor((n + 2p − k)/s) + 1."""
    return (n + 2 * p - k) // s + 1


def _max2d(x, k, s, p):
    """Each window of the −∞-padded input: its max, and the input entry (unpadded indices)
    it keeps, the first row by row on a tie."""
    padded = np.pad(x, ((0, 0), (p, p), (p, p)), constant_values=-np.inf)
    shape = (len(x), _out(x.shape[1], k, s, p), _out(x.shape[2], k, s, p))
    y, kept = np.zeros(shape), {}
    for c, i, j in np.ndindex(*shape):
        window = padded[c, i * s : i * s + k, j * s : j * s + k]
        m, n = np.unravel_index(np.argmax(window), window.shape)
        y[c, i, j] = window[m, n]
        kept[c, i, j] = (c, i * s + m - p, j * s + n - p)
    return y, kept


def _max2d_back(x, kept, d):
    """Each window's δ to the entry it kept."""
    sent = np.zeros_like(x)
    for window, index in kept.items():
        sent[index] += d[window]
    return sent


def _avg2d(x, k, s, p, counted):
    """Each window of the 0-padded input: its sum over k·k (`counted`, torch's default) or
    over the real inputs in it (the padded grid of ones summed); and those divisors."""
    padded = np.pad(x, ((0, 0), (p, p), (p, p)))
    real = np.pad(np.ones(x.shape[1:]), p)
    shape = (len(x), _out(x.shape[1], k, s, p), _out(x.shape[2], k, s, p))
    y, divisors = np.zeros(shape), np.zeros(shape[1:])
    for c, i, j in np.ndindex(*shape):
        rows, columns = slice(i * s, i * s + k), slice(j * s, j * s + k)
        divisors[i, j] = k * k if counted else real[rows, columns].sum()
        y[c, i, j] = padded[c, rows, columns].sum() / divisors[i, j]
    return y, divisors


def _avg2d_back(x, d, k, s, p, divisors):
    """Each window's δ/divisor added to every entry of its padded window; the padding cut."""
    sent = np.zeros((len(x), x.shape[1] + 2 * p, x.shape[2] + 2 * p))
    for c, i, j in np.ndindex(*d.shape):
        sent[c, i * s : i * s + k, j * s : j * s + k] += d[c, i, j] / divisors[i, j]
    return sent[:, p : p + x.shape[1], p : p + x.shape[2]]


def _max1d(x, k, s, p):
    padded = np.pad(x, ((0, 0), (p, p)), constant_values=-np.inf)
    shape = (len(x), _out(x.shape[1], k, s, p))
    y, kept = np.zeros(shape), {}
    for c, t in np.ndindex(*shape):
        window = padded[c, t * s : t * s + k]
        m = int(np.argmax(window))
        y[c, t], kept[c, t] = window[m], (c, t * s + m - p)
    return y, kept


def _conv(x, w, b):
    """Cross-correlation, stride 1, no padding: the layer under the pool, so the pool is asked
    for the δ of its input."""
    k = w.shape[2:]
    shape = (len(w), *(n - m + 1 for n, m in zip(x.shape[1:], k)))
    y = np.zeros(shape)
    for c, *at in np.ndindex(*shape):
        window = tuple(slice(a, a + m) for a, m in zip(at, k))
        y[(c, *at)] = np.sum(w[c] * x[(slice(None), *window)]) + b[c]
    return y


def _conv_grad(x, w, d):
    """−∂E/∂w[c,i,…] = Σ over positions δ[c,…]·x[i, window]."""
    grad = np.zeros_like(w)
    k = w.shape[2:]
    for c, *at in np.ndindex(*d.shape):
        window = tuple(slice(a, a + m) for a, m in zip(at, k))
        grad[c] += d[(c, *at)] * x[(slice(None), *window)]
    return grad


# ---------------------------------------------------------------- the models


def _config(pool: dict, x_shape: tuple[int, ...], seed: int) -> dict:
    """conv (1→2 channels, kernel 2, 1-D or 2-D as the input) → `pool` → flatten → linear(2),
    mse; its numbers drawn, rounded to two places."""
    rng = np.random.default_rng(seed)
    kind = next(iter(pool))
    conv = "conv2d" if len(x_shape) == 3 else "conv1d"
    x = rng.normal(size=x_shape).round(2)
    w = rng.normal(size=(2, x_shape[0], *(2,) * (len(x_shape) - 1))).round(2)
    k, s, p = (pool[kind].get(key, 0) for key in ("kernel_size", "stride", "padding"))
    conv_out = [n - 1 for n in x_shape[1:]]  # a kernel of 2, stride 1
    size = 2 * int(np.prod([_out(n, np.max(k), s, p) for n in conv_out]))
    return {
        "model": [
            {conv: {"in_channels": x_shape[0], "out_channels": 2, "kernel_size": 2}},
            pool,
            "flatten",
            {"linear": {"in_features": size, "out_features": 2}},
        ],
        "parameters": {
            "0.weight": w.tolist(),
            "0.bias": rng.normal(size=2).round(2).tolist(),
            "3.weight": rng.normal(size=(2, size)).round(2).tolist(),
            "3.bias": rng.normal(size=2).round(2).tolist(),
        },
        "loss": "mse",
        "learning_rate": 0.1,
        "inputs": x.tolist(),
        "targets": rng.normal(size=2).round(2).tolist(),
    }


def _forward(config: dict, x: np.ndarray, w0: np.ndarray, slip: str = ""):
    """Every quantity of the step, by hand: y0 (conv), the answers above the pool (y1, y3, δ3,
    δ1, the linear's gradients), E, and the pool's backward for δ1 given; `slip` works the
    pool's δ as a student who makes it."""
    p = {key: np.array(value) for key, value in config["parameters"].items()}
    pool = config["model"][1]
    kind, args = next(iter(pool.items()))
    k, s, pad = args["kernel_size"], args["stride"], args["padding"]
    y0 = _conv(x, w0, p["0.bias"])
    if kind == "maxpool1d":
        y1, kept = _max1d(y0, k, s, pad)
        back = lambda d: _max2d_back(y0, kept, d)  # noqa: E731 (one index per window, 1-D too)
    elif kind == "maxpool2d":
        y1, kept = _max2d(y0, k, s, pad)
        back = lambda d: _max2d_back(y0, kept, d)  # noqa: E731
    else:
        counted = args.get("count_include_pad", True)
        y1, divisors = _avg2d(y0, k, s, pad, counted)
        if slip == "recounted":  # the padding counted the other way
            y1, divisors = _avg2d(y0, k, s, pad, not counted)
        back = lambda d: _avg2d_back(y0, d, k, s, pad, divisors)  # noqa: E731
    above, energy = above_the_pool(config, y1)
    return y0, above, energy, back


def _worked(config: dict, slip: str = "") -> dict[str, float]:
    """Every answer of the step by the names an answers file gives them."""
    x = np.array(config["inputs"])
    w0 = np.array(config["parameters"]["0.weight"])
    y0, above, _, back = _forward(config, x, w0, slip)
    d1 = above["delta1"]
    d0 = back(d1)
    if slip == "spread":  # each window's δ given to every real input of its window
        args = next(iter(config["model"][1].values()))
        k, s, pad = args["kernel_size"], args["stride"], args["padding"]
        d0 = _avg2d_back(y0, d1, k, s, pad, np.ones(d1.shape[1:]))
    arrays = {"y0": y0, **above, "delta0": d0}
    arrays |= {"dE/dw0": -_conv_grad(x, w0, d0), "dE/db0": -d0.sum(axis=tuple(range(1, d0.ndim)))}
    return entries(arrays)


def _symbol(name: str) -> str:
    """An answer name as the trace writes its row: delta1[0,1] → δ1[0,1], dE/dw0 → ∂E/∂w0."""
    return name.replace("delta", "δ").replace("dE/d", "∂E/∂")


def _traced(config: dict) -> dict[str, float]:
    records = api.trace(config).records
    return {row.symbol: row.value for step in records.steps for _, row in step.equations()}


STEM = {"maxpool2d": {"kernel_size": 3, "stride": 2, "padding": 1}}  # ResNet's stem pool
MODELS = {
    "maxpool2d 3, stride 2, padding 1": (STEM, (1, 6, 6)),  # conv 5×5 → (5 + 2 − 3)//2 + 1 = 3
    "maxpool1d 3, stride 2, padding 1": (
        {"maxpool1d": {"kernel_size": 3, "stride": 2, "padding": 1}},
        (1, 8),  # conv 7 → (7 + 2 − 3)//2 + 1 = 4
    ),
    "maxpool2d 2, stride 1, padding 1": (
        {"maxpool2d": {"kernel_size": 2, "stride": 1, "padding": 1}},
        (1, 4, 4),  # conv 3×3 → (3 + 2 − 2) + 1 = 4: every border window half padding
    ),
    "avgpool2d 3, stride 2, padding 1, padding counted": (
        {"avgpool2d": {"kernel_size": 3, "stride": 2, "padding": 1}},
        (1, 6, 5),  # conv 5×4 → 3×2
    ),
    "avgpool2d 3, stride 2, padding 1, not counted": (
        {"avgpool2d": {"kernel_size": 3, "stride": 2, "padding": 1, "count_include_pad": False}},
        (1, 6, 5),
    ),
}


@pytest.mark.parametrize("name", MODELS)
def test_every_number_of_a_padded_pool_is_the_one_worked_over_the_padded_grid(name):
    pool, shape = MODELS[name]
    config = _config(pool, shape, seed=4)
    traced = _traced(config)
    by_hand = _worked(config)
    assert len(by_hand) > 40
    for key, value in by_hand.items():
        assert traced[_symbol(key)] == pytest.approx(value, rel=1e-12, abs=1e-12), key


@pytest.mark.parametrize("name", MODELS)
def test_the_gradients_by_hand_are_the_central_differences_of_the_forward(name):
    """−∂E/∂w0 (through the pool) and −∂E/∂y0 (the δ into the pool), worked above, against
    [E(· + h) − E(· − h)]/2h of the forward written in this file."""
    pool, shape = MODELS[name]
    config = _config(pool, shape, seed=5)
    x = np.array(config["inputs"])
    w0 = np.array(config["parameters"]["0.weight"])
    worked = _worked(config)
    h = 1e-6
    for index in np.ndindex(*w0.shape):
        up, down = w0.copy(), w0.copy()
        up[index] += h
        down[index] -= h
        numeric = (_forward(config, x, up)[2] - _forward(config, x, down)[2]) / (2 * h)
        key = f"dE/dw0[{','.join(map(str, index))}]"
        assert worked[key] == pytest.approx(numeric, rel=1e-6, abs=1e-9), key
    # the δ into the pool: −∂E/∂y0, moving one conv output at a time
    y0 = _forward(config, x, w0)[0]
    for index in np.ndindex(*y0.shape):
        up, down = (_energy_from_y0(config, y0, index, step) for step in (h, -h))
        key = f"delta0[{','.join(map(str, index))}]"
        assert worked[key] == pytest.approx(-(up - down) / (2 * h), rel=1e-6, abs=1e-8), key


def _energy_from_y0(config: dict, y0: np.ndarray, index: tuple, step: float) -> float:
    """E with conv output y0[index] moved by `step`: the pool's forward (written above) on."""
    y = y0.copy()
    y[index] += step
    kind, args = next(iter(config["model"][1].items()))
    k, s, pad = args["kernel_size"], args["stride"], args["padding"]
    if kind == "maxpool1d":
        y1 = _max1d(y, k, s, pad)[0]
    elif kind == "maxpool2d":
        y1 = _max2d(y, k, s, pad)[0]
    else:
        y1 = _avg2d(y, k, s, pad, args.get("count_include_pad", True))[0]
    return above_the_pool(config, y1)[1]


def test_the_stems_windows_by_hand():
    """ResNet's stem pool on a 3×3 map of a single channel, written out: padding 1 around
    it, windows of 3 at stride 2, (3 + 2 − 3)//2 + 1 = 2 on each axis. Window (0,0) covers
    rows −1…1 and columns −1…1: its real inputs are x[0…1, 0…1] = 1, −2, 4, 3 → 4; window
    (1,1) rows 1…3, columns 1…3: x[1…2, 1…2] = 3, −5, 0.5, 2 → 3."""
    x = np.array([[[1.0, -2.0, 0.25], [4.0, 3.0, -5.0], [-1.0, 0.5, 2.0]]])
    y, kept = _max2d(x, 3, 2, 1)
    assert y.tolist() == [[[4.0, 3.0], [4.0, 3.0]]]
    assert kept[0, 0, 0] == (0, 1, 0) and kept[0, 1, 1] == (0, 1, 1)
    counted = _avg2d(x, 3, 2, 1, True)[0]
    assert counted[0, 0, 0] == pytest.approx((1 - 2 + 4 + 3) / 9)
    uncounted = _avg2d(x, 3, 2, 1, False)[0]
    assert uncounted[0, 0, 0] == pytest.approx((1 - 2 + 4 + 3) / 4)
    assert uncounted[0, 0, 1] == pytest.approx((-2 + 0.25 + 3 - 5) / 4)


def test_the_trace_shows_where_each_window_met_the_padding():
    config = _config(*MODELS["maxpool2d 3, stride 2, padding 1"], seed=4)
    records = api.trace(config).records
    rows = {row.symbol: row for step in records.steps for _, row in step.equations()}
    corner = rows["y1[0,0,0]"]
    assert corner.formula == "max({y0[0,0,0]}, {y0[0,0,1]}, {y0[0,1,0]}, {y0[0,1,1]})"
    assert corner.note.startswith("window x[:, −1…1, −1…1], row −1 and column −1 padding (−∞)")
    assert rows["y1[0,1,1]"].note.startswith("keeps")  # rows 1…3, columns 1…3: all inside
    uncounted = _config(*MODELS["avgpool2d 3, stride 2, padding 1, not counted"], seed=4)
    rows = {
        row.symbol: row
        for step in api.trace(uncounted).records.steps
        for _, row in step.equations()
    }
    assert rows["y1[0,0,0]"].formula.endswith(")/4")  # 2×2 real inputs of 3×3
    assert rows["y1[0,0,1]"].formula.endswith(")/6")
    assert "padding (0, not counted)" in rows["y1[0,0,0]"].note


# ---------------------------------------------------------------- marking


@pytest.mark.parametrize("name", MODELS)
def test_check_marks_every_answer_worked_by_hand_right(name):
    config = _config(*MODELS[name], seed=6)
    assert_all_right(_worked(config), config)


@pytest.mark.parametrize(
    ("name", "slip", "prefix", "mistake"),
    [
        ("maxpool2d 3, stride 2, padding 1", "spread", "delta0[", maxpool2d.SPREAD),
        (
            "avgpool2d 3, stride 2, padding 1, padding counted",
            "recounted",
            "y1[",
            avgpool2d.RECOUNTED,
        ),
        ("avgpool2d 3, stride 2, padding 1, not counted", "recounted", "y1[", avgpool2d.RECOUNTED),
    ],
)
def test_check_names_a_slip_at_a_padded_window(name, slip, prefix, mistake):
    config = _config(*MODELS[name], seed=6)
    assert_slip_named(_worked(config), _worked(config, slip), prefix, mistake, config)


# ---------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    ("pool", "valid"),
    [
        ({"maxpool2d": {"kernel_size": 3, "stride": 2, "padding": 2}}, "0…1"),
        ({"maxpool2d": {"kernel_size": [2, 4], "stride": 2, "padding": [1, 3]}}, "0…2"),
        ({"avgpool2d": {"kernel_size": 2, "stride": 2, "padding": 2}}, "0…1"),
        ({"maxpool1d": {"kernel_size": 3, "stride": 3, "padding": 2}}, "0…1"),
    ],
)
def test_a_padding_over_half_the_window_is_refused_naming_file_line_and_range(
    runner, tmp_path, pool, valid
):
    kind, args = next(iter(pool.items()))
    shape = (1, 8) if kind == "maxpool1d" else (1, 6, 6)
    config = _config({kind: {**args, "padding": 0}}, shape, seed=1)
    model = [config["model"][0], pool, *config["model"][2:]]
    text = yaml.safe_dump({**config, "model": model}, default_flow_style=None, sort_keys=False)
    path = tmp_path / "pool.yaml"
    path.write_text(text, encoding="utf-8")
    line = 1 + next(n for n, row in enumerate(text.splitlines()) if "padding" in row)
    result = runner.invoke(cli, ["run", str(path)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert f"pool.yaml, line {line}," in result.output, result.output
    assert f"model[1].{kind}.padding" in result.output, result.output
    assert valid in result.output and "kernel" in result.output, result.output


# ---------------------------------------------------------------- exercise fairness


def test_a_padded_max_pool_is_unfair_only_where_two_real_inputs_nearly_tie():
    """The padding (−∞) never ties: a window holding one real input is fair whatever it
    holds; one holding two within draws.NEAR_ZERO is not."""
    corners = (("kernel_size", (2, 2)), ("stride", (2, 2)), ("padding", (1, 1)))
    pool = LayerSpec("maxpool2d", "1", corners, (1, 2, 2), (1, 2, 2))  # (2 + 2 − 2)//2 + 1 = 2
    x = np.array([[[0.5, 0.51], [0.52, 0.5]]])  # each window: one real input
    assert maxpool2d.unfair(pool, x, np.zeros((1, 2, 2))) is None
    stem = (("kernel_size", (3, 3)), ("stride", (2, 2)), ("padding", (1, 1)))
    pool = LayerSpec("maxpool2d", "1", stem, (1, 3, 3), (1, 2, 2))
    # window (0,0) holds x[0…1, 0…1]: 0.5 and 0.51 tie there, and nowhere else
    tie = np.array([[[0.5, 0.2, 0.9], [0.51, 0.3, 0.1], [-0.4, 0.8, 0.0]]])
    apart = np.array([[[0.5, 0.2, 0.9], [0.7, 0.3, 0.1], [-0.4, 0.8, 0.0]]])
    assert maxpool2d.unfair(pool, tie, np.zeros((1, 2, 2))) is not None
    assert maxpool2d.unfair(pool, apart, np.zeros((1, 2, 2))) is None
    one_d = (("kernel_size", 2), ("stride", 2), ("padding", 1))
    pool = LayerSpec("maxpool1d", "1", one_d, (1, 4), (1, 3))  # windows −1…0, 1…2, 3…4
    assert maxpool1d.unfair(pool, np.array([[0.5, 0.3, 0.31, 0.9]]), np.zeros((1, 3))) is not None
    assert maxpool1d.unfair(pool, np.array([[0.5, 0.3, 0.6, 0.51]]), np.zeros((1, 3))) is None


def test_a_max_pool_padded_with_0_is_named_where_a_padded_window_holds_only_negatives():
    """The padded corner window of a max pool over x[0:2, 0:2] = [[−0.4, −0.2], [−0.3, −0.6]]:
    its max is −0.2 (the padding is −∞); a student who pads with 0, as a convolution pads,
    writes max(0, …) = 0, and the mistake is named. The window beside it holds 0.9, where 0
    changes nothing: the same 0.9 is right."""
    config = {
        "model": [STEM, "flatten", {"linear": {"in_features": 4, "out_features": 1}}],
        "parameters": {"2.weight": [[0.3, -0.2, 0.5, 0.1]], "2.bias": [0.05]},
        "loss": "mse",
        "learning_rate": 0.1,
        "inputs": [
            [
                [-0.4, -0.2, 0.5, 0.9],
                [-0.3, -0.6, 0.7, 0.1],
                [0.3, 0.8, -0.4, 0.2],
                [0.9, -0.1, 0.5, -0.6],
            ]
        ],
        "targets": [0.5],
    }
    corner = max(-0.4, -0.2, -0.3, -0.6)  # rows −1…1 and columns −1…1: only x[0:2, 0:2] real
    beside = max(-0.2, 0.5, 0.9, -0.6, 0.7, 0.1)  # columns 1…3 of rows 0…1
    got = verdicts({"y0[0,0,0]": "0", "y0[0,0,1]": f"{beside:g}"}, config)
    assert got["y0[0,0,0]"].kind == "wrong"
    assert maxpool1d.ZERO_PADDED in got["y0[0,0,0]"].mistakes, got["y0[0,0,0]"].diagnosis
    assert got["y0[0,0,1]"].kind == "right"
    assert verdicts({"y0[0,0,0]": f"{corner:g}"}, config)["y0[0,0,0]"].kind == "right"
