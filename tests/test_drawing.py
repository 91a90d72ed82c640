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
from click.testing import CliRunner
from conftest import GRAPHS, NETWORKS
from node_parsers import check, pieces

from backtrace_cli.cli import cli

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
