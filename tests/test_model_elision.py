"""A model's long sums, cut with a layered network's words (issue #28): a sum of more than
sixteen terms shows its first three, "… (n terms)" and its last, unless `--full` (a network cuts
past five, its rule since the first round; a model keeps a 3×3 kernel's sums whole); the JSON
writes every term up to 1,000 parameters; marking reads every term. Every expected text and
number is built here from the config's numbers (numpy), never read from the trace."""

from __future__ import annotations

import json

import numpy as np
import pytest
import yaml
from click.testing import CliRunner
from node_parsers import check, pieces
from slips import verdicts

from backtrace_cli import api
from backtrace_cli.cli import cli
from backtrace_cli.network.layers.conv1d import FLIPPED


def _wide(outputs: int = 2, seed: int = 28) -> dict:
    """flatten → linear(40 → outputs) on a 4×10 input: a row of 40 products and a bias."""
    rng = np.random.default_rng(seed)

    def drawn(*shape: int) -> list:  # two decimals, never 0: each number written as typed
        values = rng.uniform(0.05, 0.95, shape).round(2) * rng.choice([-1, 1], shape)
        return values.tolist()

    return {
        "model": ["flatten", {"linear": {"in_features": 40, "out_features": outputs}}],
        "parameters": {"1.weight": drawn(outputs, 40), "1.bias": drawn(outputs)},
        "loss": "mse",
        "learning_rate": 0.1,
        "inputs": drawn(4, 10),
        "targets": drawn(outputs),
    }


def _number(value: float) -> str:
    """A two-decimal number as the trace writes an operand: a negative one bracketed, with
    the minus sign U+2212."""
    text = f"{abs(value):g}"
    return f"(−{text})" if value < 0 else text


def _elided(terms: list[str], count: int) -> str:
    """The rule matched (a network's dense rows): the first three, the count, the last."""
    return " + ".join(terms[:3]) + f" + … ({count} terms) + " + terms[-1]


def _row(records, symbol: str):
    return next(r for s in records.steps for _, r in s.equations() if r.symbol == symbol)


def _plain(formula: str) -> str:
    return formula.replace("{", "").replace("}", "")


CONFIG = _wide()
W, B = np.array(CONFIG["parameters"]["1.weight"]), np.array(CONFIG["parameters"]["1.bias"])
X = np.array(CONFIG["inputs"])
NAMES = [f"w1[0,{i}]·x[{i // 10},{i % 10}]" for i in range(40)]
NUMBERS = [f"{_number(W[0, i])}·{_number(X.flat[i])}" for i in range(40)]


def _run(tmp_path, *options: str) -> str:
    path = tmp_path / "wide.yaml"
    path.write_text(yaml.safe_dump(CONFIG), encoding="utf-8")
    result = CliRunner().invoke(cli, ["run", str(path), *options], env={"COLUMNS": "3000"})
    assert result.exit_code == 0, result.output
    return result.output


def test_a_wide_linears_sum_shows_its_first_three_terms_the_count_and_its_last(tmp_path):
    row = _row(api.trace(CONFIG).records, "y1[0]")
    assert _plain(row.formula) == _elided(NAMES, 40) + " + b1[0]"
    assert row.values() == {  # the operands written: those of the terms shown, and the bias
        **{f"w1[0,{i}]": W[0, i] for i in (0, 1, 2, 39)},
        **{f"x[{i // 10},{i % 10}]": X.flat[i] for i in (0, 1, 2, 39)},
        "b1[0]": B[0],
    }
    out = _run(tmp_path)  # the terminal, wide enough not to wrap even in full
    assert _elided(NAMES, 40) + " + b1[0]" in out
    assert _elided(NUMBERS, 40) + f" + {_number(B[0])}" in out
    assert "w1[0,20]" not in out and "(40 terms)" in out


def test_with_full_every_product_is_written_and_the_value_is_the_sum_of_all_forty(tmp_path):
    whole = " + ".join(NAMES) + " + b1[0]"
    full = _row(api.trace(CONFIG, full=True).records, "y1[0]")
    assert _plain(full.formula) == whole
    out = _run(tmp_path, "--full")
    assert whole in out and " + ".join(NUMBERS) in out and "…" not in out
    expected = float(W[0] @ X.ravel() + B[0])  # every term, whichever the page shows
    elided = _row(api.trace(CONFIG).records, "y1[0]")
    assert full.value == elided.value == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("count", [16, 17, 40])
def test_a_model_cuts_a_sum_past_sixteen_terms_with_a_networks_words(count):
    """A network's net and the same sum in a model (a flatten first keeps it a model): the
    network cuts it past five terms, the model past sixteen, both the same way and words."""
    rng = np.random.default_rng(count)
    w, x = rng.uniform(-1, 1, count).round(2), rng.uniform(-1, 1, count).round(2)
    common = {"loss": "mse", "learning_rate": 0.1, "targets": [0.5]}
    network = {
        "layers": [count, 1],
        "activation": "linear",
        "weights": [[w.tolist()]],
        "inputs": x.tolist(),
        **common,
    }
    model = {
        "model": ["flatten", {"linear": {"in_features": count, "out_features": 1, "bias": False}}],
        "parameters": {"1.weight": [w.tolist()]},
        "inputs": [x.tolist()],
        **common,
    }
    net = _row(api.trace(network).records, f"net{count + 1}").formula.split(" + ")
    out = _row(api.trace(model).records, "y1[0]").formula.split(" + ")
    assert len(net) == 5 and net[3] == f"… ({count} terms)"  # first three, the count, the last
    if count <= 16:
        assert len(out) == count and not any("…" in term for term in out)
    else:
        assert len(out) == 5 and out[3] == net[3]
        assert out[:3] == [f"{{w1[0,{i}]}}·{{x[0,{i}]}}" for i in range(3)]
        assert out[4] == f"{{w1[0,{count - 1}]}}·{{x[0,{count - 1}]}}"


def test_katex_parses_the_markdown_elided_and_in_full():
    elided, full = api.trace(CONFIG).markdown(), api.trace(CONFIG, full=True).markdown()
    assert elided.count("\\ldots \\text{(40 terms)}") == 4  # y1[0], y1[1]: formula, numbers
    assert "\\ldots" not in full
    for page in (elided, full):
        report = check(*pieces(page))
        assert report["math"] == [] and report["mermaid"] == [], report


def test_json_writes_every_term_up_to_1000_parameters_as_a_networks_does(tmp_path):
    def formula(config: dict, *options: str) -> str:
        path = tmp_path / "model.yaml"
        path.write_text(yaml.safe_dump(config), encoding="utf-8")
        result = CliRunner().invoke(cli, ["run", str(path), "--format", "json", *options])
        assert result.exit_code == 0, result.output
        rows = json.loads(result.output)["steps"][0]["equations"]
        return next(r["formula"] for r in rows if r["symbol"] == "y1[0]")

    assert formula(CONFIG) == " + ".join(NAMES) + " + b1[0]"  # 82 parameters
    wider = _wide(outputs=25)  # 40·25 weights and 25 biases: 1,025 parameters
    names = [f"w1[0,{i}]·x[{i // 10},{i % 10}]" for i in range(40)]
    assert formula(wider) == _elided(names, 40) + " + b1[0]"
    assert formula(wider, "--full") == " + ".join(names) + " + b1[0]"


def test_check_marks_every_term_of_an_elided_row():
    right = float(W[0] @ X.ravel() + B[0])
    shown = float(sum(W[0, i] * X.flat[i] for i in (0, 1, 2, 39)) + B[0])  # the page's terms
    got = verdicts({"y1[0]": f"{right:.6g}", "y1[1]": f"{shown:.6g}"}, CONFIG)
    assert got["y1[0]"].kind == "right"
    assert got["y1[1]"].kind == "wrong"  # y1[1]'s own terms: no row of it is the page's sum
    got = verdicts({"y1[0]": f"{shown:.6g}"}, CONFIG)
    assert got["y1[0]"].kind == "wrong", got["y1[0]"].diagnosis


def test_a_value_following_from_a_wrong_term_the_page_leaves_out_is_credited():
    """flatten → linear(40 → 17) → linear(17 → 1): y2[0] sums 17 products, y1[3]·w2[0,3]
    among the terms its row leaves out on the page; a wrong y1[3] and the y2[0] it gives
    follow."""
    rng = np.random.default_rng(8)
    config = dict(CONFIG, targets=[0.5])
    config["model"] = [
        "flatten",
        {"linear": {"in_features": 40, "out_features": 17}},
        {"linear": {"in_features": 17, "out_features": 1}},
    ]
    config["parameters"] = {
        "1.weight": rng.normal(size=(17, 40)).round(2).tolist(),
        "1.bias": rng.normal(size=17).round(2).tolist(),
        "2.weight": rng.normal(size=(1, 17)).round(2).tolist(),
        "2.bias": [0.1],
    }
    w1, b1 = (np.array(config["parameters"][f"1.{k}"]) for k in ("weight", "bias"))
    w2 = np.array(config["parameters"]["2.weight"])
    y1 = w1 @ X.ravel() + b1
    assert "y1[3]" not in _row(api.trace(config).records, "y2[0]").formula  # left out
    mine = y1.copy()
    mine[3] += 0.5  # a slip of the pen in y1[3]
    answers = {f"y1[{j}]": f"{mine[j]:.6g}" for j in range(17)}
    answers["y2[0]"] = f"{float(w2[0] @ mine + 0.1):.6g}"
    got = verdicts(answers, config)
    assert got["y1[3]"].kind == "wrong"
    assert got["y2[0]"].kind == "follows", got["y2[0]"].diagnosis


def test_a_slip_on_an_elided_convolution_row_is_named_as_before():
    """conv1d(6 → 1, kernel 3): each output a sum of 18 products, elided on the page; the
    kernel flipped (a true convolution) at y0[0,1] is named, the right y0[0,0] is right."""
    rng = np.random.default_rng(3)
    w, x = rng.normal(size=(1, 6, 3)).round(2), rng.normal(size=(6, 6)).round(2)
    config = {
        "model": [
            {"conv1d": {"in_channels": 6, "out_channels": 1, "kernel_size": 3, "bias": False}},
            "flatten",
        ],
        "parameters": {"0.weight": w.tolist()},
        "loss": "mse",
        "learning_rate": 0.1,
        "inputs": x.tolist(),
        "targets": [0.1, 0.2, 0.3, 0.4],
    }
    page = _row(api.trace(config).records, "y0[0,0]").formula
    assert "… (18 terms)" in page
    right = [float(np.sum(w[0] * x[:, t : t + 3])) for t in range(4)]
    flipped = float(np.sum(w[0, :, ::-1] * x[:, 1:4]))
    got = verdicts({"y0[0,0]": f"{right[0]:.6g}", "y0[0,1]": f"{flipped:.6g}"}, config)
    assert got["y0[0,0]"].kind == "right"
    assert got["y0[0,1]"].mistakes == (FLIPPED,), got["y0[0,1]"].diagnosis


def test_a_batchs_gradient_elides_its_samples_and_each_samples_sum():
    """conv1d(1 → 1, kernel 1) over 17 positions, 17 samples in a batch: ∂E/∂w0[0,0,0] is the
    mean of the samples' sums of 17 products — each bracket shown cut, and "… (17 samples)"."""
    rng = np.random.default_rng(6)
    config = {
        "model": [
            {"conv1d": {"in_channels": 1, "out_channels": 1, "kernel_size": 1, "bias": False}},
            "flatten",
        ],
        "parameters": {"0.weight": [[[0.7]]]},
        "loss": "mse",
        "learning_rate": 0.1,
        "mode": "batch",
        "samples": [
            {"inputs": rng.normal(size=(1, 17)).round(2).tolist(), "targets": [0.5] * 17}
            for _ in range(17)
        ],
    }

    def bracket(s: int) -> str:
        terms = [f"δ0[0,{t}]⁽{s}⁾·x[0,{t}]⁽{s}⁾" for t in range(17)]
        return f"({_elided(terms, 17)})"

    samples = [bracket(s) for s in range(1, 18)]
    expected = "−(1/17)·(" + " + ".join(samples[:3]) + " + … (17 samples) + " + samples[-1] + ")"
    row = _row(api.trace(config).records, "∂E/∂w0[0,0,0]")
    assert _plain(row.formula) == expected
    full = _row(api.trace(config, full=True).records, "∂E/∂w0[0,0,0]")
    assert "…" not in full.formula and full.value == row.value


def test_a_book_renames_an_elided_row_as_it_renames_the_whole():
    row = _row(api.trace(CONFIG, notation="nielsen").records, "z^2[0]")
    assert "… (40 terms)" in row.formula and "w^2[0,39]" in row.formula


@pytest.mark.parametrize("full", [False, True])
def test_a_networks_batch_sum_over_its_samples_is_cut_by_the_same_rule_and_full_writes_it(full):
    """A layered network's ∂E/∂w over a batch of 7 samples: the first three products,
    "… (7 samples)" and the last, as its sums of terms are cut; with --full all seven."""
    xs = [0.1 * s for s in range(1, 8)]
    targets = [0.05 * s for s in range(1, 8)]
    network = {
        "layers": [1, 1],
        "activation": "linear",
        "loss": "half_sse",
        "learning_rate": 0.1,
        "mode": "batch",
        "weights": [[[0.5]]],
        "samples": [{"inputs": [x], "targets": [t]} for x, t in zip(xs, targets)],
    }
    row = _row(api.trace(network, full=full).records, "∂E/∂w12")
    products = [f"δ2⁽{s}⁾·x1⁽{s}⁾" for s in range(1, 8)]
    shown = " + ".join(products) if full else _elided(products, 7).replace("terms", "samples")
    assert _plain(row.working) == f"−(1/7)·[{shown}]"
    # linear output, half_sse: δ = t − o, o = 0.5·x; ∂E/∂w = −(1/7) Σ δ·x
    expected = -sum((t - 0.5 * x) * x for x, t in zip(xs, targets)) / 7
    assert row.value == pytest.approx(expected, rel=1e-12)
