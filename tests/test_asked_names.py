"""Every name `check --names` lists is a question a student can be asked (#27's leftovers):
`quiz --ask NAME` asks it, a chain-rule factor (∂E/∂o5, dq/dx) too; a book that works the chain
rule's factors as steps of their own (Mazur's) has them as questions in check, quiz and a sheet
alike; and `check --names --gradients` lists the rows `gradients: true` marks. Expected values
are derived here from the notes' 2-2-1 network, CS231n's circuit and Mazur's published example."""

from __future__ import annotations

import json
import re

import pytest
from test_quiz import RIGHT, quiz, score

import backtrace_cli
from backtrace_cli.cli import cli
from backtrace_cli.solution import solve
from backtrace_cli.teach import quiz as session
from backtrace_cli.teach.names import names

PROMPT = re.compile(r"^\[\d+/\d+\] (.+?)(?: = |$)", re.M)


# ---------------------------------------------------------------- 3. every name is askable


@pytest.mark.parametrize(
    ("example", "notation"),
    [("lecture", None), ("lecture", "nielsen"), ("circuit", None), ("mazur", "mazur")],
)
def test_every_name_check_lists_is_askable_on_its_own(example, notation):
    spec = backtrace_cli.load(example)
    if notation:
        spec = backtrace_cli.load({**_config(example), "notation": notation})
    listed = names(spec).names
    assert any(not n.asked for n in listed) or notation == "mazur"  # a factor among them
    for name in listed:
        asked = session.build(spec, ask=(name.name,)).questions
        assert [q.row.symbol for q in asked] == [name.symbol], name


def _config(example: str) -> dict:
    import yaml

    from backtrace_cli.network.config import example_text

    return yaml.safe_load(example_text(example))


def test_a_factor_asked_by_name_is_marked_and_its_session_checked(runner, tmp_path):
    """E = ½(t5 − o5)²: ∂E/∂o5 = −(t5 − o5) = o5 − t5, from the notes' o5; dE/do5 and
    do5/dnet5 asked alone, marked, written to the session, and check counts those two."""
    o5, t5 = RIGHT["o5"], 0.5
    gradient, slope = o5 - t5, o5 * (1 - o5)
    path = tmp_path / "s.yaml"
    typed = [f"{gradient:.6f}", f"{slope:.6f}"]
    done = quiz("--ask", "dE/do5,do5/dnet5", "-o", str(path), answers=typed)
    assert PROMPT.findall(done.stdout) == ["∂E/∂o5", "∂o5/∂net5"]
    assert score(done.stdout) == "2 of 2", done.stdout
    assert done.returncode == 0
    checked = runner.invoke(cli, ["check", str(path), "--format", "json"])
    assert checked.exit_code == 0, checked.output
    assert (json.loads(checked.output)["correct"], json.loads(checked.output)["total"]) == (2, 2)


def test_a_graphs_local_gradients_are_askable():
    """f = (x + y)·z, q = x + y: ∂f/∂f = 1 (the seed), ∂q/∂x = 1 (add's local gradient)."""
    done = quiz("circuit", "--ask", "df/df,dq/dx", answers=["1", "1"])
    assert PROMPT.findall(done.stdout) == ["∂f/∂f", "∂q/∂x"]
    assert score(done.stdout) == "2 of 2"


# ---------------------------------------------------------------- 4. Mazur's factors


# Mazur, "A Step by Step Backpropagation Example" (2015): the published numbers
MAZUR = {
    "dE_total/dout_o1": 0.74136507,
    "dout_o1/dnet_o1": 0.186815602,
    "dnet_o1/dw5": 0.593269992,
    "dE_total/dw5": 0.082167041,
    "w5⁺": 0.35891648,
}


def test_mazurs_chain_rule_factors_are_questions_of_check_quiz_and_a_sheet(runner, tmp_path):
    """His example, 2-2-2 with one fixed bias a layer: the forward pass (net, out of 4 units),
    2 errors and E_total, each output unit's ∂E/∂out, ∂out/∂net and δ, each hidden unit's the
    same three, and each of the 8 weights' ∂net/∂w, ∂E/∂w and w⁺ — no Δw, no bias rows."""
    count = 4 * 2 + 2 + 1 + 2 * 3 + 2 * 3 + 8 * 3
    spec = backtrace_cli.load({**_config("mazur"), "notation": "mazur"})
    listed = names(spec)
    assert (len(listed.names), listed.questions) == (count, count)
    assert all(n.asked for n in listed.names)
    asked = session.build(spec).questions
    assert len(asked) == count
    symbols = [q.row.symbol for q in asked]
    assert symbols.index("∂E_total/∂out_o1") < symbols.index("δ_o1")  # asked, not revealed
    report = backtrace_cli.teach.check({"exercise": "mazur", "notation": "mazur", "answers": MAZUR})
    assert report["total"] == count
    assert [a["kind"] for a in report["answers"]] == ["right"] * len(MAZUR), report["answers"]
    # a sheet of his example asks the same list; check of it counts it
    config = tmp_path / "mazur.yaml"
    config.write_text(runner.invoke(cli, ["examples", "mazur"]).output + "notation: mazur\n")
    made = runner.invoke(
        cli, ["exercise", str(config), "--variants", "1", "-o", str(tmp_path / "s")]
    )
    assert made.exit_code == 0, made.output
    manifest = json.loads((tmp_path / "s" / "exercise.json").read_text(encoding="utf-8"))
    ((ident, sheet),) = manifest["variants"].items()
    variant = backtrace_cli.load(str(tmp_path / "s" / sheet["config"]))
    drawn = session.build(variant).questions  # its biases are drawn: one per unit, updated
    solved = solve(variant, 1)
    assert [solved.named(n) for n in sheet["questions"]] == [q.row.symbol for q in drawn]
    assert len(sheet["questions"]) == names(variant).questions
    answers = tmp_path / "a.yaml"
    answers.write_text(f"variant: {ident}\nanswers:\n  net_h1: 0.1\n")
    marked = runner.invoke(
        cli, ["check", "--exercises", str(tmp_path / "s"), str(answers), "--format", "json"]
    )
    assert json.loads(marked.output)["total"] == len(drawn), marked.output


# ---------------------------------------------------------------- 6. check --names --gradients


def test_names_with_gradients_are_what_gradients_true_marks(runner):
    """The notes' 2-2-1 step with the chain rule written out: its 23 questions, and ∂E/∂o and
    ∂o/∂net of each of its 3 units, ∂net/∂w and ∂E/∂w of each of its 6 weights — 41, what
    check counts of a file with `gradients: true` and `quiz --gradients` asks."""
    count = 23 + 2 * 3 + 2 * 6
    listed = runner.invoke(cli, ["check", "--names", "--gradients"])
    assert listed.exit_code == 0, listed.output
    assert listed.output.splitlines()[1] == f"{count} names, {count} questions"
    shown = re.findall(r"^  (\S+)", listed.output, re.M)
    assert {"dE/dw35", "dnet5/dw35", "dE/do3", "do3/dnet3"} <= set(shown)
    assert "`gradients: true`" in listed.output and "(optional)" not in listed.output
    report = backtrace_cli.teach.check({"gradients": True, "answers": {"o3": 0.1}}, "lecture")
    assert report["total"] == count
    assert len(session.build(backtrace_cli.load("lecture"), gradients=True).questions) == count
    plain = runner.invoke(cli, ["check", "--names"]).output
    assert plain.splitlines()[1] == "25 names, 23 questions"  # the factors beside δ5 optional
    assert "dE/dw35" not in plain


def test_gradients_on_check_goes_with_names_and_not_on_a_graph(runner):
    done = runner.invoke(cli, ["check", "--names", "circuit", "--gradients"])
    assert done.exit_code == 2 and "computational graph" in done.output
    done = runner.invoke(cli, ["check", "answers.yaml", "--gradients"])
    assert done.exit_code == 2 and "--gradients goes with --names" in done.output


def test_a_mazur_factors_hint_says_what_the_factor_is():
    """Asked as a question, a chain-rule factor is still a factor: its hint says what it is
    (∂net_o1/∂w5: how net_o1 changes with w5 alone), not the section's rule."""
    done = quiz("mazur", "--notation", "mazur", "--ask", "dnet_o1/dw5", answers=["?", "!"])
    assert "hint: ∂net_o1/∂w5 = out_h1 — how net_o1 changes with w5 alone" in done.stdout
