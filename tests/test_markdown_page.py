"""The markdown as a student hands it in: equations written as the course notes do, fitting a
900-pixel page (measured with KaTeX's own layout), conventions in math, the problem in the
notation of the notes rather than the config's names, and a loss chart from epoch 1."""

from __future__ import annotations

import json
import re

import yaml
from node_parsers import check, pieces, widths

import backtrace_cli as bt
from backtrace_cli.cli import cli

PAGE = 900  # pixels: a course site's or GitHub's text column

NET232 = {
    "name": "A 2-3-2 network with biases",
    "layers": [2, 3, 2],
    "activation": "sigmoid",
    "learning_rate": 0.5,
    "inputs": [0.613, -0.287],
    "targets": [0.05, 0.95],
    # six-digit values with signs everywhere: the widest numbers a trace writes
    "weights": [
        [[-0.153, 0.428], [0.271, -0.396], [-0.317, 0.184]],
        [[0.362, -0.245, 0.519], [-0.408, 0.137, -0.263]],
    ],
    "biases": [[-0.125, 0.236, -0.347], [0.158, -0.219]],
}


def _display_blocks(markdown: str) -> list[str]:
    return re.findall(r"\$\$\n(.*?)\n\$\$", markdown, re.S)


def test_every_equation_of_a_2_3_2_network_with_biases_fits_a_900_pixel_page():
    markdown = bt.trace(NET232).markdown()
    blocks = _display_blocks(markdown)
    measured = widths(blocks)
    worst = max(measured)
    assert worst <= PAGE, (worst, blocks[measured.index(worst)][:300])


def test_layers_of_four_units_with_biases_fit_too_and_wider_ones_are_summarised():
    data = {
        "layers": [4, 4, 4],
        "activation": "tanh",
        "learning_rate": 0.1,
        "inputs": [-0.613, -0.287, -0.904, -0.555],
        "targets": [-0.95, 0.95, -0.5, 0.5],
        "weights": {"init": "uniform", "seed": 5},
        "biases": [[-0.125, -0.236, -0.347, -0.458], [-0.158, -0.219, -0.321, -0.432]],
    }
    assert max(widths(_display_blocks(bt.trace(data).markdown()))) <= PAGE
    wide = dict(data, layers=[4, 9, 4], biases=None)
    markdown = bt.trace(wide).markdown()
    assert max(widths(_display_blocks(markdown))) <= PAGE
    assert "*… 4 more: units 9–12 (`--full` shows them)*" in markdown  # as the terminal does


def test_equations_are_written_as_the_notes_write_them():
    """Y3 = (W13 * X1) + (W23 * X2) / = (0.1 * 0.35) + (0.8 * 0.9) / = 0.755: the formula,
    the numbers on the next line, the value on the next."""
    markdown = bt.trace("lecture").markdown()
    block = _display_blocks(markdown)[0]
    first = block.split(" \\\\[6pt]\n")[0].splitlines()[1:]
    assert [line.split("&=")[0].strip() for line in first] == ["\\mathit{net}_{3}", "", ""]
    assert first[1].startswith("&= 0.1 \\cdot 0.35")
    assert first[2] == "&= 0.755"


def test_the_conventions_are_math():
    markdown = bt.trace("lecture_dropout").markdown()
    conventions = markdown.split("## Conventions")[1].split("## Solution")[0]
    assert "$\\sigma(\\mathit{net}) = 1/(1 + e^{-\\mathit{net}})$" in conventions
    assert "$\\delta _{j} = -\\partial E/\\partial \\mathit{net}_{j}$" in conventions
    assert "$E = \\tfrac{1}{2} \\sum  (t - o)^{2}$" in conventions
    prose = re.sub(r"\$[^$]+\$", "", conventions)
    for plain in ("δ_j", "e^−", "σ′", "net_j", "½", "Σ"):
        assert plain not in prose, plain
    math, _ = pieces(conventions)
    assert math and not check(math, [])["math"]  # KaTeX reads every one


def test_the_problem_says_the_loss_as_the_notes_do_and_no_config_names():
    for loss, formula in [
        ("half_sse", "E = \\tfrac{1}{2} \\sum  (t - o)^{2}"),
        ("mse", "E = (1/n) \\sum  (o - t)^{2}"),
    ]:
        markdown = bt.trace(dict(NET232, loss=loss)).markdown()
        problem = markdown.split("```mermaid")[0]
        assert f"the loss ${formula}$" in problem
        assert f"`{loss}`" not in markdown and loss not in problem


def test_the_loss_chart_starts_at_epoch_1(runner):
    result = runner.invoke(cli, ["step", "lecture", "-n", "200", "--format", "markdown"])
    chart = result.output.split("xychart-beta")[1].split("```")[0]
    axis = re.search(r"x-axis \[([^\]]*)\]", chart).group(1).split(", ")
    line = re.search(r"line \[([^\]]*)\]", chart).group(1).split(", ")
    assert axis[0] == "1" and axis[-1] == "200" and len(axis) == len(line)
    epochs = json.loads(
        runner.invoke(cli, ["step", "lecture", "-n", "200", "--format", "json"]).output
    )["epochs"]
    assert float(line[0]) == round(epochs[0]["loss_after"], 10)  # the steep first drop
    assert float(line[1]) == round(epochs[int(axis[1]) - 1]["loss_after"], 10)


def test_the_markdown_width_measure_agrees_with_the_config_loaded_from_yaml(tmp_path):
    """The measured document is the one the CLI writes for the same network from a file."""
    path = tmp_path / "net232.yaml"
    path.write_text(yaml.safe_dump(NET232), encoding="utf-8")
    from click.testing import CliRunner

    result = CliRunner().invoke(cli, ["run", str(path), "--format", "markdown"])
    assert _display_blocks(result.output) == _display_blocks(bt.trace(NET232).markdown())
