"""Bad input: one clear message naming file, line and field, exit status 2, no traceback."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from conftest import FUZZ_EXAMPLES, text
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backtrace_cli.cli import cli

LECTURE = """\
layers: [2, 2, 1]
activation: sigmoid
learning_rate: 1
inputs: [0.35, 0.9]
targets: [0.5]
weights: {w13: 0.1, w23: 0.8, w14: 0.4, w24: 0.6, w35: 0.3, w45: 0.9}
"""


def edit(old: str, new: str) -> str:
    assert old in LECTURE
    return LECTURE.replace(old, new)


def drop(key: str) -> str:
    return "".join(line for line in LECTURE.splitlines(True) if not line.startswith(key))


CASES = [
    (
        "syntax",
        "layers: [2, 2, 1\nactivation: sigmoid\n",
        "line 2: not valid YAML: while parsing a flow sequence did not find expected ',' or ']'",
    ),
    (
        "tabs",
        "layers: [2, 2, 1]\n\tactivation: sigmoid\n",
        "line 2: not valid YAML: while scanning for the next token found character that cannot "
        "start any token (the line has a tab: YAML indents with spaces, never tabs)",
    ),
    (
        "empty",
        "",
        ": the file is empty; a config is a mapping with at least `layers`, `weights` "
        "and `inputs`/`targets`",
    ),
    (
        "not a mapping",
        "- 1\n- 2\n",
        "line 1: a config is a mapping of keys (layers, weights, …), found a list",
    ),
    (
        "no layers",
        drop("layers"),
        "line 1, layers: missing; give units per layer, inputs first, e.g. `layers: [2, 2, 1]`",
    ),
    (
        "no weights",
        drop("weights"),
        "line 1, weights: missing; give named weights (`w13: 0.1`), "
        "per-layer matrices, or `{init: glorot_uniform, seed: 0}`",
    ),
    (
        "no activation",
        drop("activation"),
        "line 1, activation: missing; give one of sigmoid, tanh, "
        "relu, linear, leaky_relu, elu, softmax (or `activations:`, one per layer)",
    ),
    (
        "no learning rate",
        drop("learning_rate"),
        "line 1, learning_rate: missing; give the learning rate η, e.g. `learning_rate: 1`",
    ),
    (
        "no targets",
        drop("targets"),
        "line 1, targets: missing; give `inputs` and `targets`, or "
        "`samples: [{inputs: [...], targets: [...]}]`",
    ),
    (
        "unknown key",
        edit("learning_rate", "learning_rat"),
        "line 3, learning_rat: unknown key; did you mean 'learning_rate'? valid keys: name, "
        "description, layers, activation, activations, loss, learning_rate, inputs, targets, "
        "samples, mode, batch_gradient, shuffle, seed, weights, biases, train_biases, dropout, "
        "optimizer, weight_decay, optimizer_state, leaky_relu_slope, epochs_done, notation",
    ),
    (
        "wrong number of inputs",
        edit("inputs: [0.35, 0.9]", "inputs: [0.35]"),
        "line 4, inputs: has 1 number; expected 2 (layers[0] = 2 inputs)",
    ),
    (
        "connection that does not exist",
        edit("w45: 0.9", "w45: 0.9, w15: 1"),
        "line 6, weights.w15: there is no connection from unit 1 to unit 5: weights go from one "
        "layer to the next (units 1–2 → units 3–4 → unit 5)",
    ),
    (
        "missing weight",
        edit(", w45: 0.9", ""),
        "line 6, weights: missing w45; every connection "
        "needs a weight (for large layers use `{init: glorot_uniform, seed: 0}`)",
    ),
    (
        "malformed weight name",
        edit("w45", "weight45"),
        "line 6, weights.weight45: not a weight "
        "name; write `w` and the two unit numbers, e.g. `w13` (past unit 9: `w9_12`)",
    ),
    (
        "unknown activation",
        edit("sigmoid", "sigmod"),
        "line 2, activation: 'sigmod' is not "
        "one of: sigmoid, tanh, relu, linear, leaky_relu, elu, softmax; did you mean 'sigmoid'?",
    ),
    (
        "unknown loss",
        LECTURE + "loss: mse2\n",
        "line 7, loss: 'mse2' is not one of: half_sse, sse, mse, bce, cross_entropy; did you mean "
        "'mse'?",
    ),
    (
        "nan weight",
        edit("w13: 0.1", "w13: .nan"),
        "line 6, weights.w13: nan is not a finite number; expected a number",
    ),
    (
        "infinite learning rate",
        edit("learning_rate: 1", "learning_rate: .inf"),
        "line 3, learning_rate: inf is not a finite number; expected a learning rate η > 0",
    ),
    (
        "decimal comma",
        edit("inputs: [0.35, 0.9]", 'inputs: ["0,35", 0.9]'),
        "line 4, inputs[0]: '0,35' is not a number; expected a number (use a decimal point, "
        "not a comma)",
    ),
    (
        "boolean target",
        edit("targets: [0.5]", "targets: [true]"),
        "line 5, targets[0]: true is not a number; expected a number",
    ),
    (
        "zero learning rate",
        edit("learning_rate: 1", "learning_rate: 0"),
        "line 3, "
        "learning_rate: 0 is not > 0; the learning rate η must be positive (the lecture uses 1)",
    ),
    (
        "negative learning rate",
        edit("learning_rate: 1", "learning_rate: -0.5"),
        "line 3, "
        "learning_rate: -0.5 is not > 0; the learning rate η must be positive (the lecture uses 1)",
    ),
    (
        "duplicate key",
        LECTURE + "activation: tanh\n",
        "line 7, activation: given twice, on line 2 and line 7; keep one",
    ),
    (
        "matrix row too long",
        drop("weights") + "weights: [[[0.1, 0.8], [0.4, 0.6]], [[0.3, 0.9, 0.1]]]\n",
        "line 6, weights[1][0]: has 3 numbers; expected 2 (matrix 1×2: "
        "1 row (units of layer 2), 2 columns (units of layer 1))",
    ),
    (
        "too few matrices",
        drop("weights") + "weights: [[[0.1, 0.8], [0.4, 0.6]]]\n",
        "line 6, weights: has 1 matrix; expected 2, one per non-input layer",
    ),
    (
        "matrix with too few rows",
        drop("weights") + "weights: [[[0.1, 0.8]], [[0.3, 0.9]]]\n",
        "line 6, weights[0]: found 1 row; expected a matrix 2×2: 2 rows (units of layer 1), "
        "2 columns (units of layer 0)",
    ),
    (
        "absurd layer",
        edit("layers: [2, 2, 1]", "layers: [2, 100000000, 1]"),
        "line 1, layers[1]: 100000000 is out of range; expected a unit count from 1 to 100,000",
    ),
    (
        "bce on tanh",
        edit("sigmoid", "tanh") + "loss: bce\n",
        "line 7, loss: bce needs "
        "outputs in (0, 1): use `sigmoid` on the output layer, or another loss (cross_entropy "
        "for a softmax output)",
    ),
    (
        "bce target out of range",
        edit("targets: [0.5]", "targets: [1.5]") + "loss: bce\n",
        "line 5, targets[0]: 1.5 is not in [0, 1]; binary cross-entropy needs targets between "
        "0 and 1",
    ),
    (
        "bias list too short",
        LECTURE + "biases: [[0.1], [0.2]]\n",
        "line 7, biases[0]: has 1 number; expected 2 (layer 1 has 2 units; `null` for no biases)",
    ),
    (
        "bias of an input",
        LECTURE + "biases: {b1: 0.1, b3: 0.1, b4: 0.1, b5: 0.1}\n",
        "line 7, biases.b1: not a bias of a non-input unit; write `b` and the unit number, "
        "from b3 to b5",
    ),
    (
        "missing bias",
        LECTURE + "biases: {b3: 0.1, b5: 0.1}\n",
        "line 7, biases: missing b4; a layer has a bias on every unit or on none: "
        "give them, or leave out every bias of hidden layer 1 (b3–b4)",
    ),
    (
        "seeded without seed",
        drop("weights") + "weights: {init: he_normal}\n",
        "line 6, weights: seeded initialisation needs a `seed` (a whole number), so every run "
        "gets the same weights",
    ),
    (
        "python tag",
        edit("learning_rate: 1", 'learning_rate: !!python/object/apply:os.system ["echo pwned"]'),
        "line 3, learning_rate: the tag !!python/object/apply:os.system is not allowed",
    ),
]


def without_column(message: str) -> str:
    return re.sub(r"(line \d+), column \d+", r"\1", message)


@pytest.mark.parametrize(("text", "problem"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_config_gets_one_clear_message(runner, tmp_path, text, problem):
    path = tmp_path / "net.yaml"
    path.write_text(text, encoding="utf-8")
    result = runner.invoke(cli, ["run", str(path)])
    assert result.exit_code == 2
    separator = ", " if problem.startswith("line") else ""
    # columns are pinned in test_errors_name_the_column; here the rest of the message
    assert without_column(result.output) == f"Error: {path}{separator}{problem}\n"
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_a_python_tag_never_runs(runner, tmp_path):
    marker = tmp_path / "ran"
    path = tmp_path / "net.yaml"
    path.write_text(
        edit(
            "learning_rate: 1", f'learning_rate: !!python/object/apply:os.system ["touch {marker}"]'
        ),
        encoding="utf-8",
    )
    assert runner.invoke(cli, ["run", str(path)]).exit_code == 2
    assert not marker.exists()


def test_missing_file(runner, tmp_path):
    path = tmp_path / "nope.yaml"
    result = runner.invoke(cli, ["run", str(path)])
    assert (result.exit_code, result.output) == (2, f"Error: {path}: no such file\n")


def test_unknown_example_suggests_the_closest(runner):
    result = runner.invoke(cli, ["run", "lectur"])
    assert result.exit_code == 2
    assert result.output == (
        "Error: lectur: no such file, and no built-in example of that name; did you mean "
        "'lecture'? built-in: adam, adam_parabola, batchnorm, chain_rule, chain_rule_graph, "
        "circuit, cnn, conv1d, descent, dropout256, lecture, lecture_dropout, mazur, momentum, "
        "neuron_circuit, rnn, softmax, xor, xor_momentum\n"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["run", "--round", "2x"],
            "Error: Invalid value for '--round': '2x' is not a rounding "
            "spec; use e.g. 3sf (3 significant figures) or 4dp (4 decimal places)",
        ),
        (
            ["step", "--trace", "x"],
            "Error: Invalid value for '--trace': 'x' is not an epoch; use "
            "numbers from 1 and ranges (1,2,50 or 1-3), first, last or all",
        ),
        (
            ["step", "--epochs", "0"],
            "Error: Invalid value for '--epochs' / '-n': 0 is not in the range 1<=x<=10000000.",
        ),
    ],
)
def test_bad_options_exit_2_naming_the_option(runner, args, message):
    result = runner.invoke(cli, args)
    assert result.exit_code == 2
    assert result.output.rstrip("\n").endswith(message)


def mutations() -> st.SearchStrategy[dict]:
    """The lecture config with one careless change: a key gone, a value of another type,
    junk added, a list cut or grown."""
    base = yaml.safe_load(LECTURE)
    junk = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(10**30), 10**30),
        st.floats(allow_nan=True),
        text(max_size=8),
        st.lists(st.floats(-2, 2), max_size=4),
        st.dictionaries(text(max_size=4), st.integers(), max_size=3),
    )

    @st.composite
    def mutate(draw: st.DrawFn) -> dict:
        data = {k: (dict(v) if isinstance(v, dict) else v) for k, v in base.items()}
        for _ in range(draw(st.integers(1, 3))):
            key = draw(st.sampled_from([*sorted(data), "weights.w13", "extra"]))
            kind = draw(st.sampled_from(["delete", "replace", "grow", "shrink"]))
            if key == "weights.w13":
                data["weights"] = (
                    {**data.get("weights", {}), "w13": draw(junk)}
                    if isinstance(data.get("weights"), dict)
                    else data.get("weights")
                )
            elif key == "extra":
                data[draw(text(min_size=1, max_size=6))] = draw(junk)
            elif kind == "delete":
                data.pop(key, None)
            elif kind == "replace":
                data[key] = draw(junk)
            elif isinstance(data.get(key), list):
                data[key] = data[key] + [0.5] if kind == "grow" else data[key][:-1]
        return data

    return mutate()


# one of tests/test_fuzz.py's kinds of mutation, on the lecture config: sampled as they are
@settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(mutations())
def test_careless_configs_succeed_or_exit_2_with_a_message(runner, tmp_path, data):
    path = Path(tmp_path) / "mutated.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    result = runner.invoke(cli, ["run", str(path), "--format", "json"])
    assert result.exit_code in (0, 2), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    if result.exit_code == 2:
        assert result.output.startswith(f"Error: {path}")
        assert "Traceback" not in result.output


BASE = (
    "layers: [2, 2, 1]\n"  # line 1
    "activation: sigmoid\n"
    "learning_rate: 1\n"
    "inputs: [0.35, nan]\n"  # line 4: "nan" starts in column 16
    "targets: [0.5]\n"
    "weights:\n"
    "  w13: 0.1\n"  # line 7: keys start in column 3
    "  w23: 0.8\n"
    "  w14: 0.4\n"
    "  w24: 0.6\n"
    "  w35: 0.3\n"
    "  w45: 0.9\n"
)


@pytest.mark.parametrize(
    ("text", "where"),
    [
        (BASE, "line 4, column 16, inputs[1]: 'nan' is not a number"),
        (BASE.replace("nan", "0.9").replace("  w24: 0.6", "  w24: '0,6'"), "line 10, column 3"),
        (
            BASE.replace("nan", "0.9") + "  w13: 0.2\n",
            "line 13, column 3, weights.w13: given twice",
        ),
        (BASE.replace("nan", "0.9").replace("activation", "  activation"), "line 2, column "),
    ],
)
def test_errors_name_the_column(runner, tmp_path, text, where):
    """Columns counted by hand in the text above, from 1 as editors count them."""
    path = tmp_path / "net.yaml"
    path.write_text(text)
    result = runner.invoke(cli, ["run", str(path)])
    assert result.exit_code == 2
    assert f"Error: {path}, {where}" in result.output


def test_a_step_that_overflows_is_reported_as_divergence_not_tables_of_inf(runner, tmp_path):
    path = tmp_path / "net.yaml"
    path.write_text(
        "layers: [2, 2, 1]\nactivation: linear\nlearning_rate: 1\ninputs: [1e200, 1e200]\n"
        "targets: [0.5]\nweights: {w13: 1e200, w23: 0.8, w14: 0.4, w24: 0.6, w35: 0.3, w45: 0.9}\n"
    )
    result = runner.invoke(cli, ["run", str(path)])
    assert result.exit_code == 2
    # 1e200·1e200 = 1e400 > 1.8e308: net3 is the first value float64 cannot hold
    assert "the numbers overflow: net3 = inf" in result.output
    assert "Forward pass" not in result.output and "Warning" not in result.output


def test_exponents_without_a_dot_are_numbers(runner, tmp_path):
    """YAML 1.1 reads 1e-3 as text; a student means 0.001."""
    path = tmp_path / "net.yaml"
    path.write_text(
        "layers: [1, 1]\nactivation: linear\nlearning_rate: 1e-1\ninputs: [2e0]\n"
        "targets: [1]\nweights: {w12: 5E-1}\n"
    )
    result = runner.invoke(cli, ["run", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["network"]["learning_rate"] == 0.1
    # o = 0.5·2 = 1 = t: nothing to learn, so w12 stays 0.5
    assert doc["summary"]["parameters"]["w12"] == {"before": 0.5, "after": 0.5}
