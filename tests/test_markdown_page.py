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


def _graph_exports() -> dict[str, str]:
    """Every built-in graph's markdown as the CLI writes it: run, rounded, checked, trained."""
    from click.testing import CliRunner
    from conftest import GRAPHS

    from backtrace_cli.network.config import example_text

    runner = CliRunner()
    out = {}
    for name in GRAPHS:
        runs = [["run", name], ["run", name, "--round", "3sf"], ["run", name, "--verify"]]
        if "parameters:" in example_text(name):
            runs.append(["step", name, "-n", "12", "--trace", "1,last"])
        for args in runs:
            result = runner.invoke(cli, [*args, "--format", "markdown"])
            assert result.exit_code == 0, result.output
            out[" ".join(args)] = result.output
    return out


def test_a_graph_equation_is_written_as_the_notes_write_them(runner):
    """configs/circuit.yaml, f = (x + y)·z at x = −2, y = 5, z = −4: q = x + y = −2 + 5 = 3 and
    f = q·z = 3·(−4) = −12; backward ∂f/∂q = z = −4 and ∂f/∂x = ∂f/∂q·∂q/∂x = (−4)·1 = −4.
    Each is the formula, the numbers on the next line, the value on the next, as a network's."""
    from backtrace_cli.network.config import example_text

    config = yaml.safe_load(example_text("circuit"))
    x, y, z = (config["inputs"][k] for k in "xyz")
    assert (x, y, z) == (-2, 5, -4)
    q = x + y
    f = q * z
    assert (q, f) == (3, -12)
    markdown = runner.invoke(cli, ["run", "circuit", "--format", "markdown"]).output
    blocks = [_equations(block) for block in _display_blocks(markdown)]
    assert blocks[0] == [
        ["q &= x + y", f"&= ({x}) + {y}", f"&= {q}"],
        ["f &= q \\cdot z", f"&= {q} \\cdot ({z})", f"&= {f}"],
    ]
    df_dq, df_dz = z, q  # ∂(q·z)/∂q = z, ∂(q·z)/∂z = q
    equations = [equation for block in blocks for equation in block]
    dz = "\\frac{\\partial f}{\\partial z} &= "
    assert [dz + "q", f"&= {df_dz}"] in equations  # the numbers are the value: two lines
    dx = "\\frac{\\partial f}{\\partial x} &= "
    assert [
        dx + "\\frac{\\partial f}{\\partial q} \\cdot \\frac{\\partial q}{\\partial x}",
        f"&= ({df_dq}) \\cdot 1",
        f"&= {df_dq * 1}",
    ] in equations


def _equations(block: str) -> list[list[str]]:
    """An aligned block's equations, each its lines without their line breaks; a line that
    starts with & goes on with the equation before. Checks that more space separates one
    equation from the next than one line of an equation from the next."""
    rows = re.split(r" \\\\(?:\[(\d+)pt\])?\n", block.removeprefix("\\begin{aligned}\n"))
    rows[-1] = rows[-1].removesuffix("\n\\end{aligned}")
    lines, gaps = rows[::2], [int(gap or 0) for gap in rows[1::2]]
    out: list[list[str]] = []
    within, between = [0], []
    for n, line in enumerate(lines):
        if line.startswith("&"):
            out[-1].append(line)
            within.append(gaps[n - 1])
        else:
            out.append([line])
            between += gaps[n - 1 : n] if n else []
    assert not between or min(between) > max(within), (between, within)
    return out


def test_a_long_sum_of_paths_goes_on_at_a_plus_and_fits_the_page(runner, tmp_path):
    """x + x + … (14 times): the chain of 13 add nodes uses x once each and twice in the first,
    so ∂f/∂x is a sum of 14 paths, each 1: 14. Too long for one line, it goes on at a +."""
    count = 14
    path = tmp_path / "sum.yaml"
    path.write_text(f"expression: {' + '.join(['x'] * count)}\ninputs: {{x: 0.5}}\n", "utf-8")
    result = runner.invoke(cli, ["run", str(path), "--format", "markdown"])
    assert result.exit_code == 0, result.output
    dx = "\\frac{\\partial f}{\\partial x} &= \\left."  # the sum of the branches
    block = next(b for b in _display_blocks(result.output) if b.splitlines()[1].startswith(dx))
    lines = block.splitlines()[1:-1]
    numbers = [n for n, line in enumerate(lines) if line.startswith("&= ")]
    assert len(numbers) == 2 and numbers[0] > 1  # the formula took more than one line
    assert all(line.startswith("&\\quad + ") for line in lines[1 : numbers[0]])
    ends = re.compile(r"^&(=|\\quad)| \\\\(\[\w+\])?$")  # "&=", "&\quad", " \\[9pt]"
    terms = " ".join(ends.sub("", line) for line in lines[numbers[0] : numbers[1]])
    assert [t.strip() for t in terms.split(" + ")] == ["1"] * count
    assert lines[numbers[1]].startswith(f"&= {count}")
    assert max(widths([block])) <= PAGE


def test_every_equation_of_the_built_in_graphs_fits_a_900_pixel_page():
    blocks, where = [], []
    for label, markdown in _graph_exports().items():
        found = _display_blocks(markdown)
        blocks += found
        where += [label] * len(found)
    assert len(blocks) > 40  # the extraction found them
    measured = widths(blocks)
    worst = max(measured)
    at = measured.index(worst)
    assert worst <= PAGE, (worst, where[at], blocks[at][:300])
