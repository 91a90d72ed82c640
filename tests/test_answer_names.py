"""Every answer name is findable (issue 27, finding 3): `check --names [CONFIG]` lists a step's
names with symbol and meaning; a gradient's ASCII spellings (dE/dw36, dEdw36, grad_w36) are
read as ∂E/∂w36; a name a network has not gets suggestions from that network."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from pathlib import Path

import numpy as np
import pytest
from conftest import GRAPHS, NETWORKS
from rich.console import Console

from backtrace_cli import api, models
from backtrace_cli.cli import cli
from backtrace_cli.definitions.notation import ascii_name, symbol_of
from backtrace_cli.render import names as shown
from backtrace_cli.solution import solve
from backtrace_cli.teach.names import names

# the week-5 homework of the issue: 2-3-3, tanh → softmax, cross-entropy, Adam, biases
X, T = [0.5, -0.2], [0.0, 1.0, 0.0]
W1 = [[0.1, 0.2], [0.3, -0.1], [-0.2, 0.4]]  # row = unit 3, 4, 5; column = unit 1, 2
W2 = [[0.3, -0.2, 0.1], [0.2, 0.1, -0.3], [-0.1, 0.4, 0.2]]  # row = unit 6, 7, 8
B1, B2 = [0.1, 0.1, 0.1], [0.0, 0.05, 0.0]
WEEK5 = f"""name: Week 5 (2-3-3, tanh → softmax, Adam)
layers: [2, 3, 3]
activations: [tanh, softmax]
loss: cross_entropy
learning_rate: 0.01
optimizer: adam
inputs: {X}
targets: {T}
weights: [{W1}, {W2}]
biases: [{B1}, {B2}]
"""


@pytest.fixture
def week5(tmp_path):
    path = tmp_path / "week5.yaml"
    path.write_text(WEEK5, encoding="utf-8")
    return path


def _week5_by_hand() -> dict[str, float]:
    """The forward pass and the output δ worked in numpy from the config (δ_k = t_k − o_k,
    the lecture's sign), and the gradients ∂E/∂w_jk = −δ_k·o_j, ∂E/∂b_k = −δ_k."""
    hidden = np.tanh(np.array(W1) @ X + B1)
    net = np.array(W2) @ hidden + B2
    out = np.exp(net) / np.exp(net).sum()
    delta = np.array(T) - out
    return {
        "o3": hidden[0],
        "∂E/∂w36": -delta[0] * hidden[0],
        "∂E/∂w57": -delta[1] * hidden[2],
        "∂E/∂b7": -delta[1],
    }


def _week5_names_by_the_notes_rule() -> list[str]:
    """The step's names in the trace's order, from the notes' naming rule: units 1, 2 the
    inputs, 3–5 hidden, 6–8 outputs; forward layer by layer (softmax: e^net, its sum, then o),
    the error, δ from the output back, then each layer's updates from the output back —
    every weight ij (i into j, j the outer loop) then every bias, each with Adam's lines."""
    hidden, output = [3, 4, 5], [6, 7, 8]
    listed = [f"{q}{j}" for j in hidden for q in ("net", "o")]
    listed += [f"net{k}" for k in output] + [f"exp{k}" for k in output] + ["sumexp"]
    listed += [f"o{k}" for k in output] + [f"e{k}" for k in output] + ["E"]
    listed += [f"delta{k}" for k in output + hidden]

    def adam(p: str) -> list[str]:
        return [f"dE/d{p}", f"m_{p}", f"v_{p}", f"mhat_{p}", f"vhat_{p}", f"d{p}", p]

    for before, layer in (([3, 4, 5], output), ([1, 2], hidden)):
        listed += [name for j in layer for i in before for name in adam(f"w{i}{j}")]
        listed += [name for j in layer for name in adam(f"b{j}")]
    return listed


def _listed(output: str) -> list[tuple[str, ...]]:
    """The rows of `check --names` in a pipe: (name, symbol, meaning), indented under titles."""
    rows = [line for line in output.splitlines() if line.startswith("  ")]
    return [tuple(re.split(r"\s{2,}", row.strip(), maxsplit=2)) for row in rows]


# ---------------------------------------------------------------- check --names


def test_names_of_a_233_softmax_adam_network_follow_the_notes_naming_rule(runner, week5):
    result = runner.invoke(cli, ["check", "--names", str(week5)])
    assert result.exit_code == 0, result.output
    rows = _listed(result.output)
    expected = _week5_names_by_the_notes_rule()
    assert [row[0] for row in rows] == expected
    by_name = {row[0]: row for row in rows}
    assert by_name["o3"] == ("o3", "o3", "output of unit 3")
    assert by_name["exp6"][1] == "e^net6" and by_name["sumexp"][1] == "Σe^net"
    assert by_name["m_w36"][1] == "new m_w36" and by_name["vhat_w36"][1] == "v̂_w36"
    # Adam's g = ∂E/∂w is a quantity of its step (its m and v are made of it): a question,
    # as check counts it and the quiz asks it — every name listed here is one
    assert by_name["dE/dw36"][1:] == ("∂E/∂w36", "gradient of E with respect to w36")
    assert result.output.splitlines()[1] == f"{len(expected)} names, {len(expected)} questions"


def test_without_a_config_the_lecture_example_is_listed(runner):
    result = runner.invoke(cli, ["check", "--names"])
    assert result.exit_code == 0
    names_only = [row[0] for row in _listed(result.output)]
    weights = ["35", "45", "13", "23", "14", "24"]  # the notes' update order: output first
    assert names_only == [
        *("net3", "o3", "net4", "o4", "net5", "o5", "e5", "E"),
        *("dE/do5", "do5/dnet5", "delta5", "delta3", "delta4"),  # δ5's chain-rule factors
        *(name for ij in weights for name in (f"dw{ij}", f"w{ij}")),
    ]
    # the notes' questions: 2 hidden units' net and o, net5, o5, e5, E, 3 δ, 6 Δw and 6 new w
    assert "25 names, 23 questions" in result.output


WIDE = "dropout256"  # its 2,567 names are named as lecture_dropout's are (below: how many)


@pytest.mark.parametrize("example", [name for name in NETWORKS + GRAPHS if name != WIDE])
def test_every_name_listed_is_one_check_marks_right(example):
    """Each example's names, written with the solution's own values, are all marked right —
    none unknown to check — and the questions the listing counts are check's "x of N"."""
    spec = models.load(example)
    listed = names(spec).names
    solution = solve(spec, 1, "3sf")
    value = {}
    for line in solution.lines:
        value.setdefault(line.key[2], line.exact.value)
    report = api.check({n.name: repr(value[n.symbol]) for n in listed}, example)
    assert report["notes"] == []
    assert {a["kind"] for a in report["answers"]} == {"right"}
    assert [a["symbol"] for a in report["answers"]] == [n.symbol for n in listed]
    # either spelling, the symbol too, is read as the same quantity
    again = api.check({n.symbol: repr(value[n.symbol]) for n in listed}, example)
    assert [a["symbol"] for a in again["answers"]] == [n.symbol for n in listed]
    first = next(n for n in listed if n.asked)
    one = api.check({first.name: repr(value[first.symbol])}, example)
    assert one["questions"] == names(spec).questions


def test_a_wide_layer_is_listed_whole():
    """2-256-1 with dropout, no biases: net and o of 256 hidden units, õ of each, net5 and
    o5, e5 and E, ∂E/∂o5, ∂o5/∂net5 and δ5, 256 hidden δ, then Δw and new w of the 256 weights
    into unit 259 and of the 2·256 into the hidden layer."""
    listed = names(models.load(WIDE)).names
    hidden = 256
    assert len(listed) == 2 * hidden + hidden + 2 + 2 + 3 + hidden + 2 * (hidden + 2 * hidden)
    assert [n.name for n in listed[-2:]] == ["dw2_258", "w2_258"]  # the last hidden unit's


def test_a_graphs_names_are_its_nodes_and_gradients(runner):
    result = runner.invoke(cli, ["check", "--names", "circuit"])
    assert result.exit_code == 0
    rows = {row[0]: row for row in _listed(result.output)}
    assert rows["q"] == ("q", "q", "= x + y")  # f = (x + y)·z: the node's own formula
    assert rows["df/dx"] == ("df/dx", "∂f/∂x", "gradient of f with respect to x")


@pytest.mark.parametrize("width", [80, 60])
def test_the_terminal_table_fits_its_width_and_keeps_every_name_whole(width, week5):
    listed = names(models.load(str(week5)))
    console = Console(file=io.StringIO(), width=width, color_system=None)
    console.print(shown.renderable(listed))
    text = console.file.getvalue()
    lines = text.splitlines()
    # columns a line takes: m̂'s circumflex is a combining mark, on the m's column
    assert max(sum(not unicodedata.combining(c) for c in line) for line in lines) <= width
    for n in listed.names:
        assert any(line.startswith(f"  {n.name} ") for line in lines), n.name


def test_with_several_samples_the_questions_of_every_samples_step_are_counted(runner):
    result = runner.invoke(cli, ["check", "--names", "xor"])
    # xor (2-2-1, biases), online: each of its 4 samples' steps asks net and o of 3 units,
    # e5, E, 3 δ, and Δ and new value of 6 weights and 3 biases
    per_sample = 3 * 2 + 2 + 3 + (6 + 3) * 2
    assert f"{4 * per_sample} questions in its 4 samples" in result.output.splitlines()[1]


def test_a_pipe_gets_plain_text(runner):
    result = runner.invoke(cli, ["check", "--names", "softmax"])  # CliRunner: not a terminal
    assert result.exit_code == 0
    assert "\x1b[" not in result.output and "─" not in result.output
    # six samples: where the others go is said
    assert "6 samples: sample 1's values go under `answers:`" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["check", "--names", "nosuch"], "nosuch: no such file, and no built-in example"),
        (["check", "--names", "lecture", "xor"], "--names lists one config's names"),
        (["check", "--names", "lecture", "--gradebook", "g.csv"], "--names lists one"),
        (["check"], "Missing argument 'ANSWERS...'"),
    ],
)
def test_bad_names_usage_exits_2_with_a_message(runner, args, message):
    result = runner.invoke(cli, args)
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output


def test_names_of_a_file_that_is_no_config_exit_2(runner, tmp_path):
    path = tmp_path / "answers.yaml"
    path.write_text("exercise: lecture\nanswers: {o3: 0.68}\n", encoding="utf-8")
    result = runner.invoke(cli, ["check", "--names", str(path)])
    assert result.exit_code == 2
    assert "is this a YAML config?" in result.output and "Traceback" not in result.output


# ---------------------------------------------------------------- a gradient's spellings


@pytest.mark.parametrize("of", ["w36", "w9_12", "b3", "o5", "net5"])
@pytest.mark.parametrize("spelt", ["∂E/∂{}", "dE/d{}", "dEd{}", "grad_{}"])
def test_a_gradients_ascii_spellings_are_read_as_its_symbol(spelt, of):
    assert symbol_of(spelt.format(of)) == f"∂E/∂{of}"


@pytest.mark.parametrize("example", NETWORKS)
def test_every_symbol_of_a_networks_step_reads_back_from_its_ascii_spelling(example):
    for line in solve(models.load(example), 1, "3sf").lines:
        symbol = line.key[2]
        assert symbol_of(ascii_name(symbol)) == symbol
        # every spelling is typable on any keyboard but dropout's õ3, x̃1 (typed as printed)
        assert ascii_name(symbol).isascii() or symbol.startswith(("õ", "x̃"))


def test_a_chain_rule_factor_is_read_in_ascii_too():
    assert symbol_of("do5/dnet5") == "∂o5/∂net5"
    assert symbol_of("grad_x5") is None  # no such quantity: not a gradient of E


def test_check_marks_the_ascii_gradients_of_a_softmax_adam_network(runner, week5, tmp_path):
    by_hand = _week5_by_hand()
    path = tmp_path / "answers.yaml"
    path.write_text(
        f"exercise: {week5}\nanswers:\n  o3: {by_hand['o3']:.6f}\n"
        f"  dE/dw36: {by_hand['∂E/∂w36']:.6f}\n  dEdw57: {by_hand['∂E/∂w57']:.6f}\n"
        f"  grad_b7: {by_hand['∂E/∂b7']:.6f}\n",
        encoding="utf-8",
    )
    report = api.check(str(path))
    assert report["notes"] == []
    kinds = {a["symbol"]: a["kind"] for a in report["answers"]}
    assert kinds == {"o3": "right", "∂E/∂w36": "right", "∂E/∂w57": "right", "∂E/∂b7": "right"}


def test_the_gradebook_reads_the_ascii_gradients(runner, week5, tmp_path):
    by_hand = _week5_by_hand()
    student = tmp_path / "class" / "ada.yaml"
    student.parent.mkdir()
    student.write_text(
        f"student: Ada\nanswers:\n  grad_w36: {by_hand['∂E/∂w36']:.6f}\n", encoding="utf-8"
    )
    grades = tmp_path / "grades.csv"
    result = runner.invoke(
        cli,
        ["check", "--exercise", str(week5), str(student.parent), "--gradebook", str(grades)],
    )
    assert result.exit_code == 1  # its other questions are unanswered
    assert result.output == (
        f"Wrote {grades}: 1 file: 0 all right, 1 with a wrong or missing answer, 0 unreadable.\n"
    )
    (row,) = csv.DictReader(grades.open(encoding="utf-8-sig"))
    assert row["error"] == "" and row["note"] == ""
    assert row["∂E/∂w36"] == "right"


def test_a_quiz_session_file_takes_the_ascii_gradients(runner, tmp_path):
    """A session `quiz --gradients -o` wrote, with ∂E/∂w35 added by hand as dE/dw35: from the
    notes, ∂E/∂w35 = −δ5·o3 = 0.040681·0.680267."""
    session = tmp_path / "session.yaml"
    runner.invoke(cli, ["quiz", "lecture", "--gradients", "-o", str(session)], input="0.755\n")
    text = session.read_text(encoding="utf-8")
    assert "gradients: true" in text
    session.write_text(text + f"  dE/dw35: {0.040681 * 0.680267:.5f}\n", encoding="utf-8")
    report = api.check(str(session))
    assert {a["symbol"]: a["kind"] for a in report["answers"]} == {
        "net3": "right",
        "∂E/∂w35": "right",
    }


# ---------------------------------------------------------------- suggestions of this network


def test_a_name_the_network_has_not_is_answered_with_its_own_names(runner, week5, tmp_path):
    path = tmp_path / "answers.yaml"
    path.write_text(f"exercise: {week5}\nanswers:\n  delat6: 0.1\n", encoding="utf-8")
    result = runner.invoke(cli, ["check", str(path)])
    assert result.exit_code == 2
    assert "this network (2-3-3) has no delat6; did you mean delta6?" in result.output
    assert f"`backtrace check --names {week5}` lists them all" in result.output
    for lectures in ("dw45", "e5,", "delta5 (or δ5)"):  # the lecture's 2-2-1, not this one
        assert lectures not in result.output


def test_a_softmax_name_past_the_output_layer_lists_the_layers_own(runner, week5, tmp_path):
    path = tmp_path / "answers.yaml"
    path.write_text(f"exercise: {week5}\nanswers:\n  exp9: 1\n", encoding="utf-8")
    result = runner.invoke(cli, ["check", str(path)])
    assert result.exit_code == 2
    outputs = ", ".join(f"exp{k}" for k in (6, 7, 8))  # the output units: 6, 7, 8
    assert f"has no exp9; it has {outputs} (" in result.output


def test_a_typo_beside_right_answers_is_told_this_networks_ascii_names(week5, tmp_path):
    by_hand = _week5_by_hand()
    path = tmp_path / "answers.yaml"
    path.write_text(
        f"exercise: {week5}\nanswers:\n  o3: {by_hand['o3']:.6f}\n  dE/dw63: 0.1\n",
        encoding="utf-8",
    )
    (note,) = api.check(str(path))["notes"]
    assert "answers.dE/dw63: not marked; no such name here — did you mean dE/dw36 or " in note


def test_the_answers_file_reference_says_where_names_are_listed(runner):
    root = Path(__file__).resolve().parent.parent
    docs = [root / "README.md", *sorted((root / "docs").glob("*.md"))]
    text = "\n".join(p.read_text(encoding="utf-8") for p in docs)
    assert "backtrace check --names" in text
    for spelling in ("dE/dw36", "dEdw36", "grad_w36", "exp6", "sumexp", "m_w36", "vhat_w36"):
        assert spelling in text, spelling
    # its sample rows are what the command prints (the columns' spacing aside)
    quoted = re.findall(r"`backtrace check --names (\w+)` has `([^`]+)`", text.replace("\n", " "))
    assert len(quoted) == 2
    for example, row in quoted:
        result = runner.invoke(cli, ["check", "--names", example])
        assert tuple(row.split("  ")) in _listed(result.output), row
