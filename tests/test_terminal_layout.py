"""The terminal trace as a student reads it at 80 columns: numbers never split, every display's
loss said, every parameter of a hand-sized network in a column, dropout counted consistently.

The goldens in tests/golden/ pin the layout only (fixed width, no colour); they were read by eye,
in tmux at 80 columns, before they were committed. BACKTRACE_UPDATE_GOLDENS=1 rewrites them.
"""

from __future__ import annotations

import io
import json
import math
import os
import re
from pathlib import Path

import pytest
from rich.console import Console

import backtrace_cli as bt
from backtrace_cli.cli import cli
from backtrace_cli.network.records import Equation
from backtrace_cli.render import number_format, renderable

GOLDEN = Path(__file__).parent / "golden"
BIASED = str(GOLDEN / "biased_321.yaml")


def _render(result, width: int) -> str:
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, color_system=None, highlight=False, emoji=False)
    console.print(renderable(result, number_format(None, None)))
    return "\n".join(line.rstrip() for line in buffer.getvalue().splitlines()) + "\n"


@pytest.mark.parametrize(
    ("source", "golden"), [("dropout256", "dropout256_80.txt"), (BIASED, "biased_321_80.txt")]
)
def test_80_column_layout_matches_the_golden_read_by_eye(source, golden):
    text = _render(bt.trace(source).records, 80)
    path = GOLDEN / golden
    if os.environ.get("BACKTRACE_UPDATE_GOLDENS"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


_NUMBER = re.compile(r"(?<![\w.^])−?\d+(?:\.\d+)?(?![\w.])")


def _written_numbers(trace) -> set[str]:
    """Every number the trace writes: each equation's operands and value, as formatted."""
    fmt = number_format(None, None)
    numbers = set()
    for step in trace.steps:
        numbers |= {fmt(float(v)) for v in (*step.inputs, *step.targets)}
        for section in step.sections:
            for row in section.rows:
                if isinstance(row, Equation):
                    numbers |= {fmt(row.value)} | {fmt(v) for _, v in row.operands}
    numbers |= {fmt(c.before) for c in trace.changes} | {fmt(c.after) for c in trace.changes}
    numbers |= {fmt(trace.loss_before), fmt(trace.loss_after)}
    if trace.loss_before_inference is not None:
        numbers.add(fmt(trace.loss_before_inference))
    numbers |= {fmt(float(v)) for v in trace.outputs_after.ravel()}
    return numbers


@pytest.mark.parametrize("source", ["dropout256", BIASED, "lecture_dropout", "xor"])
@pytest.mark.parametrize("width", [60, 80, 100])
def test_a_number_is_never_split_across_lines(source, width):
    """Each decimal number on screen is one the trace wrote whole: a number cut in two (0.0461 /
    53) leaves pieces that are not. Whole numbers are counts, unit numbers and exponents."""
    trace = bt.trace(source).records
    text = _render(trace, width)
    assert max(len(line) for line in text.splitlines()) <= width
    written = _written_numbers(trace)
    pieces = [n for n in _NUMBER.findall(text) if "." in n and n not in written]
    assert not pieces, (width, pieces[:5])


def test_the_hidden_delta_rows_of_dropout256_keep_each_factor_whole():
    text = _render(bt.trace("dropout256").records, 80)
    delta3 = text[text.index("\nδ3 ") :].split("\nδ4 ")[0]
    working = " ".join(line[38:66].strip() for line in delta3.splitlines())
    assert "0.530559(1 − 0.530559)·1·2· (−0.135466)·0.046153" in working


def test_dropout_counts_agree_in_terminal_and_diagram_and_count_the_unchanged_weights(runner):
    document = json.loads(runner.invoke(cli, ["run", "dropout256", "--format", "json"]).output)
    mask = document["steps"][0]["layers"][0]["mask"]
    dropped = mask.count(0)
    # weights into a dropped hidden unit (2 each) and out of it (1 each): unchanged
    unchanged = dropped * 2 + dropped * 1
    assert unchanged == 426  # the count, for seed 0
    terminal = runner.invoke(cli, ["run", "dropout256"], env={"COLUMNS": "80"}).output
    assert f"{unchanged} of 768 weights unchanged in this step (dropped units)" in terminal
    assert "251 more: units 7–257" in terminal
    markdown = runner.invoke(cli, ["run", "dropout256", "--format", "markdown"]).output
    assert "… 251 more: units 7–257" in markdown.split("```mermaid")[1]  # the diagram
    assert "252 more units" not in markdown
    assert f"*{unchanged} of 768 weights unchanged in this step (dropped units)*" in markdown


def _lecture_losses() -> tuple[float, float]:
    """E before the update and after it, by hand from the course notes' numbers."""

    def s(z):
        return 1 / (1 + math.exp(-z))

    o3, o4 = s(0.1 * 0.35 + 0.8 * 0.9), s(0.4 * 0.35 + 0.6 * 0.9)
    o5 = s(0.3 * o3 + 0.9 * o4)
    d5 = o5 * (1 - o5) * (0.5 - o5)
    d3, d4 = o3 * (1 - o3) * 0.3 * d5, o4 * (1 - o4) * 0.9 * d5
    w = [0.1 + d3 * 0.35, 0.8 + d3 * 0.9, 0.4 + d4 * 0.35, 0.6 + d4 * 0.9]
    v = [0.3 + d5 * o3, 0.9 + d5 * o4]
    n3, n4 = s(w[0] * 0.35 + w[1] * 0.9), s(w[2] * 0.35 + w[3] * 0.9)
    after = s(v[0] * n3 + v[1] * n4)
    return 0.5 * (0.5 - o5) ** 2, 0.5 * (0.5 - after) ** 2


def test_step_says_which_loss_each_display_shows(runner):
    before, after = _lecture_losses()
    text = runner.invoke(cli, ["step", "lecture", "-n", "3"], env={"COLUMNS": "80"}).output
    flat = " ".join(text.split())
    assert "loss: the mean of each sample's loss before its own update" in flat
    assert "Loss curve the network's loss after each epoch, the mean over all samples" in flat
    row1 = next(line for line in text.splitlines() if line.split()[:1] == ["1"])
    assert row1.split()[1] == f"{before:.6f}"  # the table: before the update
    curve_top = next(line for line in text.splitlines() if "│" in line).split()[0]
    assert curve_top == f"{after:.6f}"  # the curve: after the epoch
    assert f"The same loss before training: {before:.6f}" in flat


def test_batch_mode_says_before_the_epochs_one_update_and_names_the_samples(runner, tmp_path):
    path = tmp_path / "xor_batch.yaml"
    xor = runner.invoke(cli, ["examples", "xor"]).output
    path.write_text(xor.replace("mode: online", "mode: batch"), encoding="utf-8")
    assert "mode: batch" in path.read_text()
    text = runner.invoke(cli, ["step", str(path), "-n", "2"], env={"COLUMNS": "80"}).output
    flat = " ".join(text.split())
    assert "before its own update" not in flat
    assert "the mean of the samples' losses before the epoch's one update" in flat
    assert "sample 1" in text and "sample 4" in text and " s1" not in text


def test_a_hand_sized_network_shows_every_parameter_as_a_column(runner):
    """The biased 3-2-1 network has 11 weights and biases: each gets a column at 80 columns
    (over two tables) and its value after epoch 1 is in that column."""
    document = json.loads(
        runner.invoke(cli, ["step", BIASED, "-n", "1", "--format", "json"]).output
    )
    parameters = document["summary"]["parameters"]
    assert len(parameters) == 11
    text = runner.invoke(cli, ["step", BIASED, "-n", "1"], env={"COLUMNS": "80"}).output
    headers = [line.split() for line in text.splitlines() if re.match(r" epoch +[lwb]", line)]
    rows = [line.split() for line in text.splitlines() if re.match(r" +1 ", line)]
    assert len(headers) == len(rows) == 2
    shown = {}
    for header, row in zip(headers, rows):
        shown.update(dict(zip(header, row)))
    for name, value in parameters.items():
        expected = f"{value['after']:.6f}".rstrip("0").replace("-", "−")
        assert shown[name] == expected, name
    assert all(len(line) <= 80 for line in text.splitlines())


def test_the_summary_puts_the_outputs_after_the_update_on_a_line_of_their_own():
    text = _render(bt.trace("lecture").records, 80)
    assert "\nOutputs after the update: o5 = 0.682019\n" in text
