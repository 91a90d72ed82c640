"""Nielsen's notation is Nielsen's (#27, finding 7): the book's chapter 2 writes
z^l_j = Σ_k w^l_jk·a^(l−1)_k + b^l_j, the inputs as layer 1's activations a^1_j, and the four
equations BP1 δ^L_j = ∂C/∂a^L_j·σ′(z^L_j), BP2 δ^l = ((w^(l+1))ᵀδ^(l+1)) ⊙ σ′(z^l),
BP3 ∂C/∂b^l_j = δ^l_j, BP4 ∂C/∂w^l_jk = a^(l−1)_k·δ^l_j. Every expected value here is computed
from those equations and the traced a and δ, never copied from the tool's output."""

from __future__ import annotations

import json
import re

import pytest
from conftest import run_json
from node_parsers import check, pieces

from backtrace_cli.cli import cli


def terminal(runner, *args: str) -> str:
    result = runner.invoke(cli, ["run", *args, "--notation", "nielsen"], env={"COLUMNS": "300"})
    assert result.exit_code == 0, result.output
    return result.output


def rules(output: str) -> list[str]:
    """Each section's title line and rule, as one line."""
    return [
        line
        for line in output.splitlines()
        if re.match(r"(δ ·|Updates|Bias updates|Forward)", line)
    ]


@pytest.mark.parametrize("example", ["lecture", "xor", "softmax", "lecture_dropout", "adam"])
def test_every_header_sums_over_k_with_w_jk_as_the_book(runner, example):
    forward = [r for r in rules(terminal(runner, example)) if r.startswith("Forward")]
    assert forward
    for line in forward:
        assert re.search(r"z\^([lL])_j = Σ_k w\^\1_jk·ã?a?\^\(\1−1\)_k", line), line
        assert "_ji" not in line and "_i" not in line, line


def test_the_inputs_are_layer_ones_activations(runner):
    document = run_json(runner, "lecture", "--notation", "nielsen")
    step = document["steps"][0]
    first = next(e for e in step["equations"] if e["symbol"] == "z^2_1")
    assert set(first["operands"]) == {"w^2_11", "a^1_1", "w^2_12", "a^1_2"}
    assert first["operands"]["a^1_1"] == 0.35 and first["operands"]["a^1_2"] == 0.9
    text = terminal(runner, "lecture")
    assert "inputs a^1_1 = 0.35, a^1_2 = 0.9" in text and "x_1" not in text


@pytest.mark.parametrize("example", ["lecture", "xor"])
def test_gradients_are_bp4_and_bp3_from_the_traced_a_and_delta(runner, example):
    """∂C/∂w^l_jk = a^(l−1)_k·δ^l_j and ∂C/∂b^l_j = δ^l_j, each from the a and δ the trace
    shows; no chain-rule factor ∂z/∂w is left."""
    document = run_json(runner, example, "--notation", "nielsen", "--gradients")
    equations = document["steps"][0]["equations"]
    values = {name: v for e in equations for name, v in e["operands"].items()}  # inputs too
    values.update((e["symbol"], e["value"]) for e in equations)
    for e in equations:
        symbol = e["symbol"]
        weight = re.fullmatch(r"∂C/∂w\^(\d)_(\d)(\d)", symbol)
        bias = re.fullmatch(r"∂C/∂b\^(\d)_(\d)", symbol)
        if weight:
            layer, j, k = map(int, weight.groups())
            a, delta = f"a^{layer - 1}_{k}", f"δ^{layer}_{j}"
            assert set(e["operands"]) == {a, delta}, e
            assert e["value"] == pytest.approx(values[a] * values[delta], rel=1e-12)
        if bias:
            layer, j = map(int, bias.groups())
            assert e["value"] == pytest.approx(values[f"δ^{layer}_{j}"], rel=1e-12)
        assert not re.match(r"∂z\^\d_\d/∂[wb]", symbol), symbol
    assert any(s.startswith("∂C/∂w") for s in values)
    # and the update is w − η·∂C/∂w (δ is ∂C/∂z: a step down the gradient)
    eta = 1.0  # both examples' η
    for symbol, value in values.items():
        weight = re.fullmatch(r"∂C/∂(w\^\d_\d\d)", symbol)
        if weight and f"Δ{weight.group(1)}" in values:
            assert values[f"Δ{weight.group(1)}"] == pytest.approx(-eta * value, rel=1e-12)


def test_bp1_to_bp4_are_named_in_the_rules(runner):
    text = " ".join(rules(terminal(runner, "xor", "--gradients")))
    assert "δ^L_j = ∂C/∂a^L_j · ∂a^L_j/∂z^L_j (BP1)" in text
    assert "δ^l_j = ∂a^l_j/∂z^l_j · Σ_k w^(l+1)_kj·δ^(l+1)_k (BP2)" in text
    assert "∂C/∂w^L_jk = a^(L−1)_k·δ^L_j (BP4)" in text
    plain = " ".join(rules(terminal(runner, "xor")))
    assert "∂C/∂b^L_j = δ^L_j (BP3)" in plain and "∂C/∂w^l_jk = a^(l−1)_k·δ^l_j (BP4)" in plain


@pytest.mark.parametrize("example", ["lecture", "xor", "lecture_dropout"])
def test_the_markdown_parses_in_katex(runner, example):
    result = runner.invoke(
        cli, ["run", example, "--notation", "nielsen", "--gradients", "--format", "markdown"]
    )
    assert result.exit_code == 0, result.output
    assert "(BP4)" in result.output and "a^{1}_{1}" in result.output
    math_, diagrams = pieces(result.output)
    report = check(math_, diagrams)
    assert report["math"] == [], report["math"]
    assert report["mermaid"] == [], report["mermaid"]


def test_answers_in_nielsens_symbols_mark_right(runner, tmp_path):
    """A student's BP4 gradient and inputs named as the book names them mark right."""
    document = run_json(runner, "lecture", "--notation", "nielsen")
    values = {e["symbol"]: e["value"] for e in document["steps"][0]["equations"]}
    a, delta = values["a^2_1"], values["δ^3_1"]
    answers = {
        "z^2_1": f"{values['z^2_1']:.6g}",
        "delta^3_1": f"{delta:.6g}",
        "w^3_11": f"{0.3 - 1.0 * a * delta:.6g}",  # w − η·∂C/∂w, BP4
        "Δw^3_11": f"{-a * delta:.6g}",
    }
    path = tmp_path / "answers.yaml"
    lines = [f"  {name}: {value}" for name, value in answers.items()]
    path.write_text(
        "exercise: lecture\nnotation: nielsen\nanswers:\n" + "\n".join(lines) + "\n",
        encoding="utf-8",
    )
    result = runner.invoke(cli, ["check", str(path), "--format", "json"])
    report = json.loads(result.output)
    assert [x["kind"] for x in report["answers"]] == ["right"] * len(answers), report["answers"]


def test_the_equations_names_are_words_beside_the_math_not_italic_letters_in_it(runner):
    """(BP1)–(BP4) are the book's names for its equations: written in the markdown outside
    the $…$ of the formulas they follow, as prose, not as KaTeX's italic B·P·4."""
    args = ["run", "lecture", "--notation", "nielsen", "--gradients", "--format", "markdown"]
    text = runner.invoke(cli, args).output
    lines = [line for line in text.splitlines() if "(BP" in line]
    assert lines
    for line in lines:
        for found in re.finditer(r"\(BP[1-4]\)", line):
            assert line[: found.start()].count("$") % 2 == 0, line  # not inside $…$


def test_weight_decays_penalty_squares_a_superscripted_weight_as_one_group(runner, tmp_path):
    """λ/2·Σ w² in a book whose weights carry a superscript (w^2_11): w^{2}_{11}^{2} is a double
    superscript KaTeX refuses; {w^{2}_{11}}^{2} is the square of the weight."""
    config = tmp_path / "decay.yaml"
    lecture = runner.invoke(cli, ["examples", "lecture"]).output
    config.write_text(lecture + "weight_decay: 0.01\n", encoding="utf-8")
    args = ["run", str(config), "--notation", "nielsen", "--format", "markdown"]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "{w^{2}_{11}}^{2}" in result.output
    math_, diagrams = pieces(result.output)
    assert check(math_, diagrams)["math"] == []


@pytest.mark.parametrize("example", ["lecture", "xor"])
def test_the_cost_gradient_is_a_minus_y_as_bp1_writes_it(runner, example):
    """For the quadratic cost C = ½ Σ (y − a)², ∂C/∂a^L_j = a^L_j − y_j (∇_a C = (a^L − y)):
    written so in the terminal, the markdown and the JSON, its value a − y from the traced
    a and the target, never the lecture's −(y − a)."""
    document = run_json(runner, example, "--notation", "nielsen")
    equations = [e for step in document["steps"] for e in step["equations"]]
    rows = [e for e in equations if re.fullmatch(r"∂C/∂a\^3_\d", e["symbol"])]
    assert rows
    for e in rows:
        j = e["symbol"][-1]
        a, y = f"a^3_{j}", f"y_{j}"
        assert e["formula"] == f"{a} − {y}", e
        assert list(e["operands"]) == [a, y]  # in the order the formula writes them
        assert e["value"] == pytest.approx(e["operands"][a] - e["operands"][y], rel=1e-12)
    text = terminal(runner, example)
    assert re.search(r"^∂C/∂a\^3_1 +a\^3_1 − y_1 +[\d.]+ − [\d.]+ ", text, re.M), text
    assert "−(y_1" not in text
    markdown = runner.invoke(cli, ["run", example, "--notation", "nielsen", "--format", "markdown"])
    assert r"\partial a^{3}_{1}} &= a^{3}_{1} - y_{1}" in markdown.output
    assert "-(y_{1}" not in markdown.output
