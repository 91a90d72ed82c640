"""What a student sees of a drawing, a note and a long rule (issue 27, finding 9): a circuit's
boxes hold their text and the layout is told what keeps edges off other boxes; the softmax
note is math KaTeX parses; an optimizer's rule breaks between its equations, never inside one —
at 80 columns and on a 900-pixel page.

The Mermaid and KaTeX parsers are the real ones from npm (tests/node_parsers.py). Where a box
is drawn and where an edge runs only a browser knows: `benchmarks/diagram_layout.py` renders
the circuits in headless Chromium and counts the edges that cross a box. What is checked here
is what that layout rests on, written from the circuits' own expressions."""

from __future__ import annotations

import json
import re

import pytest
import yaml
from click.testing import CliRunner
from conftest import GRAPHS, NETWORKS
from node_parsers import check, pieces, widths

from backtrace_cli.cli import cli
from backtrace_cli.network.config import example_text

PAGE_PX = 900 - 2 * 16  # a 900-pixel window less the page's margins

_NODE = re.compile(r'^\s+(\w+)(\(\["|\(\("|\["|\(")(.*?)("\]\)|"\)\)|"\]|"\))$', re.M)
SHAPE = {'(["': "stadium", '(("': "circle", '["': "box", '("': "rounded"}


def _markdown(args: list[str]) -> str:
    result = CliRunner().invoke(cli, [*args, "--format", "markdown"])
    assert result.exit_code == 0, result.output
    return result.output


def _diagrams(markdown: str) -> list[str]:
    return [d for d in pieces(markdown)[1] if "flowchart" in d]


def _nodes(diagram: str) -> list[tuple[str, str, list[str]]]:
    """Each declared node: its id, its shape, its label's lines, in declaration order."""
    return [(m[1], SHAPE[m[2]], m[3].split("<br/>")) for m in _NODE.finditer(diagram)]


# ---------------------------------------------------------------- 1: the text inside its box


@pytest.mark.parametrize("name", GRAPHS + NETWORKS)
def test_a_circle_holds_two_lines_at_most_so_no_label_spills_out_of_its_shape(name):
    """A circle's text is laid out in the square inside it: two short lines fit ("unit 3",
    "b3 = 0.1"); a graph's output — formula, value, gradient — did not ("f = q·z / = −12 /
    ∂f/∂f = 1" ran out of its circle, under the arrowheads)."""
    for diagram in _diagrams(_markdown(["run", name])):
        for ident, shape, lines in _nodes(diagram):
            if shape == "circle":
                assert len(lines) <= 2, f"{name}: {ident} has {len(lines)} lines in a circle"


@pytest.mark.parametrize("name", GRAPHS)
def test_a_circuits_output_is_a_rounded_box_marked_with_a_heavy_border(name):
    traced = CliRunner().invoke(cli, ["run", name, "--format", "json"])
    output = json.loads(traced.output)["output"]
    diagram = _diagrams(_markdown(["run", name]))[0]
    drawn = {lines[0].split(" = ")[0]: (ident, shape) for ident, shape, lines in _nodes(diagram)}
    ident, shape = drawn[output]
    assert shape == "rounded"
    assert re.search(rf"^  class {ident} output$", diagram, re.M)
    assert re.search(r"^  classDef output stroke-width:3px$", diagram, re.M)
    assert [s for _, s, _ in _nodes(diagram)].count("rounded") == 1  # the output alone


# ---------------------------------------------------------------- 2: no edge across a box

# each circuit's boxes in the order the layout is given them, from its expression: each input
# just before the first node that reads it, then that node (the nodes in the trace's order)
DECLARED = {
    "circuit": ["x", "y", "q", "z", "f"],  # q = x + y, f = q·z
    "chain_rule_graph": ["w", "x", "wx", "b", "yhat", "y", "err", "loss"],
    # n1 = w0·x0, n2 = w1·x1, n3 = n1 + n2, n4 = n3 + w2, n5 = −n4, n6 = exp(n5), n7 = 1 + n6,
    # f = 1/n7
    "neuron_circuit": [
        *("w0", "x0", "n1", "w1", "x1", "n2", "n3", "w2", "n4"),
        *("n5", "n6", "n7", "f"),
    ],
    "descent": ["theta", "n1", "f"],  # n1 = theta − 3, f = n1²
}


@pytest.mark.parametrize("name", sorted(DECLARED))
def test_each_input_is_declared_beside_the_first_node_that_reads_it(name):
    """Mermaid's layout (dagre) orders a stage's boxes starting from the order they are
    declared: an input declared with the node that reads it starts beside it, instead of in a
    row of all the inputs, where its edge cut across the boxes between (the order was: every
    input, then every node)."""
    diagram = _diagrams(_markdown(["run", name]))[0]
    declared = [lines[0].split(" = ")[0] for _, _, lines in _nodes(diagram)]
    assert declared == DECLARED[name]


@pytest.mark.parametrize("name", GRAPHS)
def test_a_circuit_is_drawn_down_the_page_with_room_between_its_stages(name):
    """Top to bottom, a stage a row: a box is wider than tall, so an edge from the stage
    above meets it on its long top side rather than across the box beside it, and the rows
    are 100 px apart (Mermaid's default 50 px made the edges steep enough to cut corners).
    A long chain keeps its text at full size (left to right, the 13 boxes of the neuron circuit
    were shrunk to half size on a 900-pixel page)."""
    markdown = _markdown(["run", name])
    for diagram in _diagrams(markdown):
        head = diagram.split("\nflowchart ", 1)
        assert head[1].startswith("TB\n")
        assert "config:\n  flowchart:\n    rankSpacing: 100\n---" in head[0]
    report = check([], _diagrams(markdown))
    assert report["mermaid"] == [] and report["counts"]["mermaid"] >= 1


def test_a_networks_layers_still_go_left_to_right():
    for diagram in _diagrams(_markdown(["run", "lecture"])):
        assert "\nflowchart LR\n" in diagram and "config:" not in diagram


def test_the_question_sheets_circuit_is_drawn_the_same_way(tmp_path):
    result = CliRunner().invoke(cli, ["exercise", "circuit", "--variants", "1", "-o", tmp_path])
    assert result.exit_code == 0, result.output
    (sheet,) = [p for p in (tmp_path / "questions").glob("*.md") if p.name != "index.md"]
    diagram = _diagrams(sheet.read_text(encoding="utf-8"))[0]
    assert "\nflowchart TB\n" in diagram
    assert [lines[0].split(" = ")[0] for _, _, lines in _nodes(diagram)] == DECLARED["circuit"]
    assert check([], [diagram])["mermaid"] == []


# ---------------------------------------------------------------- 3: the softmax note is math


def test_the_softmax_note_is_math_katex_parses():
    """Σ_j (t_j/o_j)·o_j(1[j = k] − o_k) = t_k − o_k·Σ_j t_j = t_k − o_k: the collapse of
    softmax's Jacobian under cross-entropy, written as math, not as underscores in prose."""
    markdown = _markdown(["run", "softmax"])
    notes = [line for line in markdown.splitlines() if line.startswith("*softmax with cross")]
    assert notes, "the softmax example's δ section has its note"
    for note in notes:
        math = re.findall(r"\$([^$]+)\$", note)
        assert len(math) == 1
        prose = re.sub(r"\$[^$]+\$", "", note)
        assert not re.search(r"[Σ_∂]", prose), prose
        assert "\\sum_j (t_{j}/o_{j})" in math[0] and math[0].endswith("= t_{k} - o_{k}}")
        # braced, which KaTeX never breaks: the line breaks before the formula, not after a −
        assert math[0].startswith("{") and max(widths(math)) < PAGE_PX
        report = check([(m, False) for m in math], [])
        assert report["math"] == []


# ---------------------------------------------------------------- 4: a rule broken between them


def _homework(tmp_path) -> str:
    """The week-5 homework: 2-3-3, tanh → softmax, cross-entropy, Adam."""
    spec = yaml.safe_load(example_text("softmax"))
    spec.update(name="Week 5 homework", activations=["tanh", "softmax"], optimizer="adam")
    spec["learning_rate"] = 0.01
    path = tmp_path / "week5.yaml"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    return str(path)


# Adam's update, as PRODUCT.md's "Optimizers" writes it: each a whole equation
ADAM = [
    "m ← β1·m + (1 − β1)·g",
    "v ← β2·v + (1 − β2)·g²",
    "m̂ = m/(1 − β1^t)",
    "v̂ = v/(1 − β2^t)",
]


def test_the_adam_rule_breaks_between_its_equations_at_80_columns(tmp_path):
    result = CliRunner().invoke(cli, ["run", _homework(tmp_path)], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    headings = [n for n, line in enumerate(lines) if line.startswith(("Updates", "Bias updates"))]
    assert len(headings) >= 4  # weights and biases of both layers
    for n in headings:
        rule = []
        for line in lines[n + 1 :]:
            if not re.match(r"  \S", line):  # the rule's lines, up to the table's header
                break
            rule.append(line.strip())
        letter = "b" if lines[n].startswith("Bias") else "w"
        assert rule[-1].endswith(f"{letter} ← {letter} − η·m̂/(√v̂ + ε)")
        for line in rule[:-1]:
            assert line.endswith(","), f"broken inside an equation: {line!r}"
        joined = "  ".join(rule)
        for equation in ADAM:
            assert equation in joined
        assert all(len(line) + 2 <= 80 for line in rule)


def test_the_adam_rule_in_markdown_is_one_unbreakable_piece_of_math_an_equation(tmp_path):
    """KaTeX breaks a long inline formula after a relation or an operator — after "w ← w −" —
    but never inside braces: each equation is its own braced math, each fits the page, so a
    line breaks between two equations."""
    markdown = _markdown(["run", _homework(tmp_path)])
    rules = [line for line in markdown.splitlines() if line.startswith("Rule: ${g = ")]
    assert len(rules) >= 4
    for rule in rules:
        math = re.findall(r"\$([^$]+)\$", rule)
        assert len(math) == 6  # g, m, v, m̂, v̂, the step
        assert re.sub(r"\$[^$]+\$", "", rule) == "Rule: " + ", " * 5
        for tex in math:
            assert tex.startswith("{") and tex.endswith("}")
            assert len(re.findall(r"\\leftarrow|=", tex)) == 1, tex  # one equation
        assert check([(t, False) for t in math], [])["math"] == []
        assert max(widths(math)) < PAGE_PX  # display style: wider than inline, an upper bound


def test_a_graphs_adam_rule_breaks_between_its_equations_at_80_columns():
    result = CliRunner().invoke(cli, ["run", "adam_parabola"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    (n,) = [n for n, line in enumerate(lines) if line.startswith("Update · Adam")]
    rule = []
    for line in lines[n + 1 :]:
        if not re.match(r"  \S", line):
            break
        rule.append(line.strip())
    assert len(rule) >= 2 and all(len(line) + 2 <= 80 for line in rule)
    for line in rule[:-1]:
        assert line.endswith(","), f"broken inside an equation: {line!r}"
    assert rule[-1].endswith("η·m̂/(√v̂ + ε), η = 0.1")
    for equation in ADAM:
        assert equation in "  ".join(rule)


@pytest.mark.parametrize(
    "args",
    [
        ["lecture", "--gradients"],
        ["lecture", "--notation", "nielsen"],
        ["chain_rule", "--notation", "mazur"],
        ["mazur", "--notation", "mazur"],
        ["adam"],
        ["adam_parabola"],
        ["descent", "--round", "3sf"],
    ],
)
def test_no_rule_line_ends_inside_an_equation_at_80_columns(args):
    """A rule too long for its line breaks after a comma between two equations: never after
    an operator, leaving "new w^L_jk" or "w_ij⁺ = w_ij −" hanging on one line."""
    result = CliRunner().invoke(cli, ["run", *args], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    for n, line in enumerate(lines[:-1]):
        if re.match(r"  \S", line) and re.match(r"  \S", lines[n + 1]):  # a rule goes on
            assert not re.search(r"[−+=←·/(]$|\bnew \S+$", line.rstrip()), line


@pytest.mark.parametrize("width", ["40", "80"])
def test_a_long_bullet_wraps_under_its_first_word_never_beside_an_operator(width):
    """The opening's conventions: a bullet too long for the terminal goes on under its first
    word (a hanging indent), and breaks at a space that is not beside an operator, so that
    "w5⁺ = w5 − η·∂E/∂w5" and "m ← β1·m + (1 − β1)·g" stay whole."""
    for args in (["adam", "--notation", "mazur"], ["lecture_dropout"], ["momentum"]):
        result = CliRunner().invoke(cli, ["run", *args], env={"COLUMNS": width})
        assert result.exit_code == 0, result.output
        head = result.output.split("\n\n", 1)[0].splitlines()
        bullets = [n for n, line in enumerate(head) if line.startswith("• ")]
        assert bullets, head
        after = head[bullets[0] :]
        assert any(line.startswith("  ") for line in after), after  # at least one wraps
        for line in after:
            assert line.startswith(("• ", "  ")), line  # under the first word, not the bullet
            assert len(line) <= int(width), line
            words = line.removeprefix("• ").split()
            assert words[-1] not in set("=−+←·") and words[0] not in set("=−+←·"), line
