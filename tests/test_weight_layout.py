"""Matrix weights name their layout (#27, finding 6): a square matrix given the other way round
(inputs × units, as Keras' kernel and many homework sheets write it) cannot pass unseen.

The losses are worked out here with numpy by the lecture's equations (net_j = Σ_i w_ij·o_i, a
row of W per unit of the layer), from the kernels as Keras would use them (x @ K)."""

from __future__ import annotations

import json
import re
import textwrap
from importlib.resources import files
from pathlib import Path

import jsonschema
import numpy as np
import pytest
import yaml
from pytest import approx

from backtrace_cli.cli import cli

X = np.array([0.5, -0.3])
T = np.array([0.0, 1.0, 0.0])
# Keras' kernels: a row per input of the layer, a column per unit (inputs × units)
KERNEL1 = np.array([[0.2, -0.5, 0.7], [0.4, 0.1, -0.3]])  # 2 inputs → 3 hidden units
KERNEL2 = np.array([[0.3, -0.2, 0.9], [0.6, 0.5, -0.4], [-0.1, 0.8, 0.2]])  # square: 3 → 3

NOTE = (
    "Note: weights[1] is square, read units × inputs: its first row is w36, w46, w56 (into "
    "unit 6). If rows are inputs, write `layout: inputs × units` under weights."
)


def cross_entropy(w1: np.ndarray, w2: np.ndarray) -> float:
    """E = −Σ t ln o for the 2-3-3 tanh → softmax network, W with a row per unit."""
    o3 = np.tanh(w1 @ X)
    net = w2 @ o3
    o = np.exp(net - net.max()) / np.exp(net - net.max()).sum()
    return float(-np.sum(T * np.log(o)))


def config(weights: object) -> str:
    return yaml.safe_dump(
        {
            "name": "week 5",
            "layers": [2, 3, 3],
            "activations": ["tanh", "softmax"],
            "loss": "cross_entropy",
            "learning_rate": 0.1,
            "inputs": X.tolist(),
            "targets": T.tolist(),
            "weights": weights,
        },
        allow_unicode=True,
        sort_keys=False,
    )


def run(runner, tmp_path, text: str, *args: str):
    path = tmp_path / "net.yaml"
    path.write_text(text, encoding="utf-8")
    return runner.invoke(cli, ["run", str(path), *args])


def run_json(runner, tmp_path, text: str) -> dict:
    result = run(runner, tmp_path, text, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def flat(text: str) -> str:
    return " ".join(text.split())


# ---------------------------------------------------------------- the layout, stated


@pytest.mark.parametrize("written", ["inputs × units", "inputs x units", "Inputs X Units"])
def test_kernels_with_their_layout_stated_give_the_loss_keras_computes(runner, tmp_path, written):
    stated = {"layout": written, "matrices": [KERNEL1.tolist(), KERNEL2.tolist()]}
    trace = run_json(runner, tmp_path, config(stated))
    expected = cross_entropy(KERNEL1.T, KERNEL2.T)  # x @ K is Kᵀ·x
    assert expected != approx(cross_entropy(KERNEL1.T, KERNEL2), abs=0.01)  # the case tells
    assert trace["steps"][0]["loss"] == approx(expected, rel=1e-12)
    # the JSON's matrices keep the contract: a row per unit of the layer
    assert trace["steps"][0]["layers"][1]["weights_before"] == KERNEL2.T.tolist()
    assert "notes" not in trace["network"]


def test_the_default_layout_stated_reads_as_unstated_without_a_note(runner, tmp_path):
    matrices = [KERNEL1.T.tolist(), KERNEL2.tolist()]
    stated = run(runner, tmp_path, config({"layout": "units × inputs", "matrices": matrices}))
    assert stated.exit_code == 0 and "Note:" not in stated.output
    plain = run(runner, tmp_path, config(matrices))
    assert flat(NOTE) in flat(plain.output)
    assert flat(plain.output).replace(flat(NOTE) + " ", "") == flat(stated.output)


# ---------------------------------------------------------------- a square matrix, unstated


def test_an_unstated_square_matrix_is_read_a_row_per_unit_and_the_trace_says_so(runner, tmp_path):
    text = config([KERNEL1.T.tolist(), KERNEL2.tolist()])  # the square one as a kernel
    trace = run_json(runner, tmp_path, text)
    assert trace["steps"][0]["loss"] == approx(cross_entropy(KERNEL1.T, KERNEL2), rel=1e-12)
    assert trace["network"]["notes"] == [NOTE.removeprefix("Note: ")]
    schema = json.loads(files("backtrace_cli").joinpath("trace.schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(trace)
    assert schema["properties"]["network"]["properties"]["notes"]["type"] == "array"
    terminal = run(runner, tmp_path, text)
    assert terminal.exit_code == 0
    before = flat(terminal.output.split("Epoch 1 · sample 1")[0])  # before any number
    assert before.endswith(flat(NOTE))
    markdown = run(runner, tmp_path, text, "--format", "markdown").output
    assert (
        "**Note:** weights[1] is square, read units × inputs: its first row is $w_{36}$, "
        "$w_{46}$, $w_{56}$ (into unit 6). If rows are inputs, write "
        "`layout: inputs × units` under weights.\n"
    ) in markdown.split("## Solution")[0]


def test_step_says_it_too(runner, tmp_path):
    path = tmp_path / "net.yaml"
    path.write_text(config([KERNEL1.T.tolist(), KERNEL2.tolist()]), encoding="utf-8")
    result = runner.invoke(cli, ["step", str(path), "--epochs", "2"])
    assert flat(NOTE) in flat(result.output.split("Epochs")[0])
    page = runner.invoke(cli, ["step", str(path), "--epochs", "2", "--format", "markdown"])
    assert "**Note:** weights[1] is square" in page.output.split("## Epochs")[0]


def test_sheets_check_and_quiz_say_it_too(runner, tmp_path):
    """The note comes with the exercise wherever a student meets it: the question sheet (under
    its problem statement), check's report of an answers file in every format, check --names,
    and the quiz — said of the exercise, never a fault of the file."""
    path = tmp_path / "net.yaml"
    path.write_text(config([KERNEL1.T.tolist(), KERNEL2.tolist()]), encoding="utf-8")
    made = runner.invoke(cli, ["exercise", str(path), "--variants", "1", "-o", str(tmp_path / "s")])
    assert made.exit_code == 0, made.output
    (sheet,) = (tmp_path / "s" / "questions").glob("net-*.md")
    assert (
        "\n**Note:** weights[1] is square, read units × inputs"
        in sheet.read_text().split("## Your answers")[0]
    )
    # the first net input, worked from the kernels (a row of W per unit), answered right
    net3 = float(KERNEL1.T[0] @ X)
    answers = tmp_path / "a.yaml"
    answers.write_text(f"exercise: net.yaml\nanswers:\n  net3: {net3!r}\n", encoding="utf-8")
    table = runner.invoke(cli, ["check", str(answers)], env={"COLUMNS": "80"})
    assert flat(NOTE) in flat(table.output)
    report = json.loads(runner.invoke(cli, ["check", str(answers), "--format", "json"]).output)
    assert report["exercise_notes"] == [NOTE.removeprefix("Note: ")]
    assert report["notes"] == [] and [a["kind"] for a in report["answers"]] == ["right"]
    schema = json.loads(files("backtrace_cli").joinpath("check.schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(report)
    page = runner.invoke(cli, ["check", str(answers), "--format", "markdown"]).output
    assert f"- {NOTE}" in page
    names = runner.invoke(cli, ["check", "--names", str(path)]).output
    assert flat(NOTE) in flat(names)
    asked = runner.invoke(cli, ["quiz", str(path)], input=f"{net3!r}\n")
    assert flat(NOTE) in flat(asked.output.split("[1/")[0])  # before the first question
    lecture = runner.invoke(cli, ["check", "--names"]).output  # named weights: nothing to say
    assert "Note:" not in lecture


def test_the_note_names_the_weights_in_the_books_notation(runner, tmp_path):
    text = config([KERNEL1.T.tolist(), KERNEL2.tolist()]) + "notation: nielsen\n"
    note = run_json(runner, tmp_path, text)["network"]["notes"][0]
    # Nielsen's w^l_jk: into unit j of layer l from unit k of the layer before
    assert "its first row is w^3_11, w^3_12, w^3_13. If rows are inputs" in note


@pytest.mark.parametrize(
    "weights",
    [
        [[[0.1, 0.8], [0.4, 0.6], [0.2, 0.3]], [[0.3, 0.9, 0.1]]],  # 3×2, 1×3: not square
        {"w13": 0.1, "w23": 0.8, "w14": 0.4, "w24": 0.6, "w35": 0.3, "w45": 0.9},
        {"init": "glorot_uniform", "seed": 0},
    ],
    ids=["not square", "named", "seeded"],
)
def test_no_note_where_no_matrix_could_be_read_either_way(runner, tmp_path, weights):
    layers = [2, 3, 1] if isinstance(weights, list) else [2, 2, 1]
    text = yaml.safe_dump(
        {"layers": layers, "activation": "sigmoid", "learning_rate": 1, "inputs": [0.35, 0.9]}
        | {"targets": [0.5], "weights": weights}
    )
    assert "Note:" not in run(runner, tmp_path, text).output
    assert "notes" not in run_json(runner, tmp_path, text)["network"]


# ---------------------------------------------------------------- the problem statement


def test_the_problem_statement_names_every_weight_of_the_matrices_row_by_row(runner, tmp_path):
    text = config([KERNEL1.T.tolist(), KERNEL2.tolist()])
    page = run(runner, tmp_path, text, "--format", "markdown").output
    statement = page.split("\n\n")[1]  # the paragraph under the title, before any solution
    named = re.findall(r"\$w_\{(\d)(\d)\}\$ = (−?\d+(?:\.\d+)?)", statement)
    # units 1–2 inputs, 3–5 hidden, 6–8 outputs; a row per unit: into 3 from 1, 2, then 4, …
    expected = [
        (str(i), str(j), f"{w:g}".replace("-", "−"))
        for rows, first_in, first_out in ((KERNEL1.T, 1, 3), (KERNEL2, 3, 6))
        for r, row in enumerate(rows)
        for c, w in enumerate(row)
        for i, j in [(first_in + c, first_out + r)]
    ]
    assert named == expected
    assert statement.startswith("A fully connected network")
    assert "Weights (the matrices read units × inputs): $w_{13}$ = 0.2, $w_{23}$ = 0.4," in page


def test_named_weights_keep_their_statement(runner):
    page = runner.invoke(cli, ["run", "lecture", "--format", "markdown"]).output
    assert "Weights (the matrices" not in page and "**Note:**" not in page


# ---------------------------------------------------------------- bad layouts


def message(runner, tmp_path, text: str) -> str:
    result = run(runner, tmp_path, text)
    assert result.exit_code == 2 and "Traceback" not in result.output
    return result.output


LAYERS_231 = (
    "layers: [2, 3, 1]\nactivation: sigmoid\nlearning_rate: 1\ninputs: [0.35, 0.9]\n"
    "targets: [0.5]\n"
)


@pytest.mark.parametrize(
    ("weights", "expected"),
    [
        (
            "weights: {layout: rows, matrices: [[[1, 2]]]}",
            "line 6, column 11, weights.layout: 'rows' is not a layout; write `units × inputs` "
            "(a row per unit of the layer, the default: the row for unit 3 is [w13, w23]) or "
            "`inputs × units` (a row per unit of the layer before, as Keras' kernel); `x` may "
            "stand for `×`",
        ),
        (
            "weights: {layout: units x units, matrices: [[[1, 2]]]}",
            "line 6, column 11, weights.layout: 'units x units' is not a layout; write "
            "`units × inputs` (a row per unit of the layer, the default: the row for unit 3 is "
            "[w13, w23]) or `inputs × units` (a row per unit of the layer before, as Keras' "
            "kernel); `x` may stand for `×`",
        ),
        (
            "weights: {layout: inputs × units, w13: 0.1}",
            "line 6, column 35, weights.w13: named weights need no layout: each name says its "
            "direction (w13: from unit 1 to unit 3); give either named weights or `layout` "
            "with `matrices`",
        ),
        (
            "weights: {layout: inputs × units, init: he_normal, seed: 0}",
            "line 6, column 35, weights.init: seeded weights have no layout to state; give "
            "either `init` or `matrices`",
        ),
        (
            "weights: {layout: inputs × units, matrix: []}",
            "line 6, column 35, weights.matrix: unknown key; did you mean 'matrices'? with a "
            "layout, weights take `layout` and `matrices`",
        ),
        (
            "weights: {layout: inputs × units}",
            "line 6, column 1, weights: missing `matrices`, the per-layer matrices `layout` "
            "describes: `weights: {layout: inputs × units, matrices: [...]}`",
        ),
        (
            "layout: inputs × units\nweights: [[[1, 2], [3, 4], [5, 6]], [[1, 2, 3]]]",
            "line 6, column 1, layout: unknown key here; a layout goes under weights, beside its "
            "matrices: `weights: {layout: inputs × units, matrices: [...]}`",
        ),
        (
            # Keras' kernel (2 inputs × 3 units) where 3 rows of 2 are expected: a shape error
            # that names the layout key
            "weights: [[[0.1, 0.8, 0.2], [0.4, 0.6, 0.3]], [[0.3, 0.9, 0.1]]]",
            "line 6, column 11, weights[0]: found 2 rows; expected a matrix 3×2: 3 rows (units "
            "of layer 1), 2 columns (units of layer 0); its 2 rows of 3 look written inputs × "
            "units (a row per unit of the layer before, as Keras' kernel)? Say so: "
            "`weights: {layout: inputs × units, matrices: [...]}`",
        ),
        (
            "weights: {layout: inputs × units, matrices: [[[1, 2], [3, 4], [5, 6]], [[1, 2, 3]]]}",
            "line 6, column 46, weights.matrices[0]: found 3 rows; expected a matrix 2×3: "
            "2 rows (units of layer 0), 3 columns (units of layer 1), as `layout: inputs × "
            "units` says; its 3 rows of 2 look written units × inputs (a row per unit of the "
            "layer, the default): drop `layout`",
        ),
        (
            "weights: {layout: inputs × units, matrices: [[[1, 2, 3], [4, 5]], [[1], [2], [3]]]}",
            "line 6, column 58, weights.matrices[0][1]: has 2 numbers; expected 3 (matrix 2×3: "
            "2 rows (units of layer 0), 3 columns (units of layer 1), as `layout: inputs × "
            "units` says)",
        ),
    ],
    ids=[
        "unknown layout",
        "units by units",
        "with named weights",
        "with init",
        "misspelt matrices",
        "no matrices",
        "layout at the top",
        "kernel unstated",
        "stated but not so",
        "stated, short row",
    ],
)
def test_a_bad_layout_names_file_line_field_and_what_is_valid(runner, tmp_path, weights, expected):
    path = tmp_path / "net.yaml"
    assert message(runner, tmp_path, LAYERS_231 + weights + "\n") == (
        f"Error: {path}, {expected}\n"
    )


# ---------------------------------------------------------------- saved and read back


def test_a_network_saved_keeps_its_layout_and_continues_exactly(runner, tmp_path):
    stated = {"layout": "inputs × units", "matrices": [KERNEL1.tolist(), KERNEL2.tolist()]}
    path = tmp_path / "net.yaml"
    path.write_text(config(stated) + "optimizer: adam\n", encoding="utf-8")
    saved = tmp_path / "saved.yaml"
    first = runner.invoke(cli, ["step", str(path), "--epochs", "3", "--save", str(saved)])
    assert first.exit_code == 0, first.output
    data = yaml.safe_load(saved.read_text(encoding="utf-8"))
    assert data["weights"]["layout"] == "inputs × units"
    assert np.array(data["weights"]["matrices"][1]).shape == (3, 3)

    def final(*args: str) -> dict:
        result = runner.invoke(cli, ["step", *args, "--format", "json"])
        assert result.exit_code == 0, result.output
        return {
            n: p["after"] for n, p in json.loads(result.output)["summary"]["parameters"].items()
        }

    assert final(str(saved), "--epochs", "2") == final(str(path), "--epochs", "5")


def test_a_square_matrix_saved_states_its_layout_and_reads_back_without_a_note(runner, tmp_path):
    path = tmp_path / "net.yaml"
    path.write_text(config([KERNEL1.T.tolist(), KERNEL2.tolist()]), encoding="utf-8")
    saved = tmp_path / "saved.yaml"
    assert runner.invoke(cli, ["step", str(path), "-n", "1", "--save", str(saved)]).exit_code == 0
    assert yaml.safe_load(saved.read_text(encoding="utf-8"))["weights"]["layout"] == (
        "units × inputs"
    )
    again = runner.invoke(cli, ["run", str(saved)])
    assert again.exit_code == 0 and "Note:" not in again.output


def test_the_documented_layout_example_gives_the_lectures_numbers(runner, tmp_path):
    """The config reference's `layout` example (README or docs/, wherever it lives): the
    lecture's weights as Keras holds them give the notes' new w45 = 0.872998."""
    root = Path(__file__).resolve().parent.parent
    pages = [root / "README.md", *sorted((root / "docs").glob("*.md"))]
    blocks = [
        textwrap.dedent(block)
        for page in pages
        for block in re.findall(r"```yaml\n(.*?)```", page.read_text(encoding="utf-8"), re.S)
        if "layout: inputs × units" in block
    ]
    assert len(blocks) == 1
    lecture = runner.invoke(cli, ["examples", "lecture"]).output
    text = re.sub(r"weights:.*?(?=\n\S|\Z)", blocks[0].strip(), lecture, count=1, flags=re.S)
    assert "matrices:" in text and "w13:" not in text
    trace = run_json(runner, tmp_path, text)
    w45 = trace["summary"]["parameters"]["w45"]["after"]
    o3, o4 = 1 / (1 + np.exp(-0.755)), 1 / (1 + np.exp(-0.68))  # net3, net4 from the notes
    o5 = 1 / (1 + np.exp(-(0.3 * o3 + 0.9 * o4)))
    assert w45 == approx(0.9 + 1 * o5 * (1 - o5) * (0.5 - o5) * o4, rel=1e-12)
    assert round(w45, 6) == 0.872998
