"""Biases on some layers and not others, as homework states them ("hidden biases b4 = 0.1,
b5 = −0.1, no output bias"): the layer without biases has no bias term anywhere."""

from __future__ import annotations

import json
import math

import yaml
from conftest import equations, run_json
from pytest import approx

from backtrace_cli.cli import cli
from backtrace_cli.network import config

HOMEWORK = {
    "name": "Hidden biases, no output bias (3-2-1)",
    "layers": [3, 2, 1],
    "activation": "sigmoid",
    "learning_rate": 0.5,
    "inputs": [1, 0.5, -0.5],
    "targets": [1],
    "weights": {
        "w14": 0.2,
        "w24": -0.3,
        "w34": 0.4,
        "w15": 0.1,
        "w25": 0.5,
        "w35": -0.2,
        "w46": 0.3,
        "w56": -0.4,
    },
    "biases": {"b4": 0.1, "b5": -0.1},
}


def _write(tmp_path, data, name="net.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return str(path)


def _by_hand():
    """The homework's step worked out here, with no bias on unit 6."""

    def s(z):
        return 1 / (1 + math.exp(-z))

    o4 = s(0.2 * 1 - 0.3 * 0.5 + 0.4 * -0.5 + 0.1)
    o5 = s(0.1 * 1 + 0.5 * 0.5 - 0.2 * -0.5 - 0.1)
    o6 = s(0.3 * o4 - 0.4 * o5)  # no + b6
    d6 = o6 * (1 - o6) * (1 - o6)
    d4 = o4 * (1 - o4) * 0.3 * d6
    d5 = o5 * (1 - o5) * -0.4 * d6
    return {"o4": o4, "o5": o5, "o6": o6, "δ6": d6, "δ4": d4, "δ5": d5}


def test_named_biases_on_the_hidden_layer_only_leave_the_output_without_one(runner, tmp_path):
    hand = _by_hand()
    document = run_json(runner, _write(tmp_path, HOMEWORK))
    values = equations(document)
    for name in ("o4", "o5", "o6", "δ4", "δ5", "δ6"):
        assert values[name] == approx(hand[name], rel=1e-12), name
    assert values["new b4"] == approx(0.1 + 0.5 * hand["δ4"], rel=1e-12)
    assert values["new b5"] == approx(-0.1 + 0.5 * hand["δ5"], rel=1e-12)
    assert not [symbol for symbol in values if "b6" in symbol]
    hidden, output = document["steps"][0]["layers"]
    assert hidden["biases_before"] == [0.1, -0.1]
    assert output["biases_before"] is None and output["biases_after"] is None
    assert document["network"]["biases"] is True


def test_null_in_the_list_form_is_a_layer_without_biases(tmp_path):
    listed = dict(HOMEWORK, biases=[[0.1, -0.1], None])
    a = config.load(_write(tmp_path, HOMEWORK, "named.yaml"))
    b = config.load(_write(tmp_path, listed, "listed.yaml"))
    assert b.biases is not None and b.biases[1] is None
    assert a.biases[0].tolist() == b.biases[0].tolist() == [0.1, -0.1]
    assert a.biases[1] is None


def test_every_layer_null_is_no_biases(tmp_path):
    spec = config.load(_write(tmp_path, dict(HOMEWORK, biases=[None, None])))
    assert spec.biases is None


def test_a_layer_with_some_biases_but_not_all_is_refused(runner, tmp_path):
    path = _write(tmp_path, dict(HOMEWORK, biases={"b4": 0.1, "b6": 0.2}))
    result = runner.invoke(cli, ["run", path])
    assert result.exit_code == 2
    assert "missing b5; a layer has a bias on every unit or on none" in result.output
    assert "hidden layer 1 (b4–b5)" in result.output
    assert "Traceback" not in result.output


def test_the_terminal_shows_no_bias_term_for_the_layer_without_biases(runner, tmp_path):
    result = runner.invoke(cli, ["run", _write(tmp_path, HOMEWORK)], env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    assert "b6" not in result.output
    assert "biases on hidden layer 1 only (none on the output layer)" in result.output
    net6 = next(line for line in result.output.splitlines() if line.startswith("net6"))
    assert "w46·o4 + w56·o5 " in net6 and "+ b" not in net6
    output_rule = next(
        line for line in result.output.splitlines() if line.startswith("Forward pass · output")
    )
    assert "b_j" not in output_rule
    hidden_rule = next(
        line for line in result.output.splitlines() if line.startswith("Forward pass · hidden")
    )
    assert "+ b_j" in hidden_rule


def test_the_markdown_shows_no_bias_term_for_the_layer_without_biases(runner, tmp_path):
    result = runner.invoke(cli, ["run", _write(tmp_path, HOMEWORK), "--format", "markdown"])
    assert result.exit_code == 0, result.output
    assert "b_{6}" not in result.output and "b6" not in result.output
    assert "b_{4}" in result.output
    assert "biases on hidden layer 1 only (none on the output layer)" in result.output


def test_step_trains_only_the_biases_there_are_and_saves_them_so(runner, tmp_path):
    saved = tmp_path / "after.yaml"
    path = _write(tmp_path, HOMEWORK)
    result = runner.invoke(cli, ["step", path, "-n", "3", "--save", str(saved), "--format", "json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert "b6" not in document["summary"]["parameters"]
    text = saved.read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    assert set(data["biases"]) == {"b4", "b5"}
    again = config.load(str(saved))
    assert again.biases[1] is None
    # three epochs by hand, one sample each: the saved network is where they end
    w = [[0.2, -0.3, 0.4], [0.1, 0.5, -0.2]]
    v = [0.3, -0.4]
    b = [0.1, -0.1]
    x = [1, 0.5, -0.5]
    for _ in range(3):
        o = [1 / (1 + math.exp(-(sum(wi * xi for wi, xi in zip(w[j], x)) + b[j]))) for j in (0, 1)]
        o6 = 1 / (1 + math.exp(-(v[0] * o[0] + v[1] * o[1])))
        d6 = o6 * (1 - o6) * (1 - o6)
        d = [o[j] * (1 - o[j]) * v[j] * d6 for j in (0, 1)]
        v = [v[j] + 0.5 * d6 * o[j] for j in (0, 1)]
        w = [[w[j][i] + 0.5 * d[j] * x[i] for i in range(3)] for j in (0, 1)]
        b = [b[j] + 0.5 * d[j] for j in (0, 1)]
    assert [data["biases"]["b4"], data["biases"]["b5"]] == approx(b, rel=1e-12)
    assert [data["weights"]["w46"], data["weights"]["w56"]] == approx(v, rel=1e-12)


def test_gradient_check_agrees_with_partial_biases(runner, tmp_path):
    data = dict(
        HOMEWORK,
        layers=[3, 2, 2],
        weights=[[[0.2, -0.3, 0.4], [0.1, 0.5, -0.2]], [[0.3, -0.4], [0.6, 0.1]]],
        biases=[None, [0.2, -0.3]],
        targets=[1, 0],
    )
    result = runner.invoke(cli, ["run", _write(tmp_path, data), "--verify"], env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    assert "All 12 gradients agree" in result.output  # 10 weights, b5 and b6; no b3, b4
