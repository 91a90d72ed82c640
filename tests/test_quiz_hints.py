"""A quiz's hint (`?`) names the rule and the values it needs, never the answer: for every row
of the worked solution of the circuits, the notes' network, softmax and Adam (the chain rule's
factors too), no number a hint writes is the row's value as the quiz shows it; a graph's local
gradient names its own operation's rule, not the upstream product."""

from __future__ import annotations

import re

import pytest
from test_quiz import quiz

from backtrace_cli import tracing
from backtrace_cli.definitions.operations import OPS
from backtrace_cli.render import number_format
from backtrace_cli.teach import check
from backtrace_cli.teach.quiz import build

# a number as written: a name's digits (w13, n1, ∂f/∂x0) are not numbers
NUMBER = re.compile(r"(?<![\w.^])[−-]?\d+(?:\.\d+)?(?![\w.])")
FORMAT = number_format(None, None)  # the quiz's, without --round


def written_numbers(text: str) -> set[str]:
    return {n.replace("−", "-") for n in NUMBER.findall(text)}


def hint_of(line) -> str:
    from backtrace_cli.teach import hints

    return hints.hint(line.exact, line.section, line.exact.values(), FORMAT)


@pytest.mark.parametrize("example", ["circuit", "neuron_circuit", "lecture", "softmax", "adam"])
@pytest.mark.parametrize("gradients", [None, True])
def test_no_hint_writes_its_answer(example, gradients):
    spec = tracing.load(example)
    if gradients and tracing.model(spec) is tracing.MODELS["graph"]:
        gradients = None  # a graph's solution holds its factors whatever is asked
    solution = check.solve(spec, 1, None, gradients=gradients)
    asked = {key for key in solution.questions()}
    for line in solution.lines:  # every row: the questions and the factors a graph shows
        answer = FORMAT(line.exact.value).replace("−", "-")
        hint = hint_of(line)
        assert hint.startswith(line.exact.symbol), hint
        assert answer not in written_numbers(hint), (line.key, answer, hint)
    # and the quiz asks its questions with these hints
    quizzed = build(spec, gradients=gradients)
    assert {q.key for q in quizzed.questions} == asked


@pytest.mark.parametrize("example", ["circuit", "neuron_circuit"])
def test_a_local_gradient_names_its_operations_rule(example):
    solution = check.solve(tracing.load(example), 1, None)
    local = [line for line in solution.lines if line.exact.structure.part is not None]
    assert local
    for line in local:
        hint = hint_of(line)
        writer = line.exact.structure.writer
        assert f"the local gradient of {writer}" in hint, hint
        assert line.section.rule not in hint, hint  # "upstream ∂f/∂q times …": ∂f/∂x's rule
        assert OPS[writer].pattern in hint, hint  # "add distributes: …", where it has one


def test_circuit_hints_through_the_quiz():
    """f = (x + y)·z at x = −2, y = 5, z = −4: ∂f/∂q = z = −4 is mul's local gradient (the
    output's: the seed 1 times it); ∂f/∂x = ∂f/∂q·∂q/∂x = −4 the upstream times add's 1."""
    # q, f, then ? before ∂f/∂q and before ∂f/∂x
    done = quiz("circuit", answers=["3", "-12", "?", "-4", "3", "?", "-4", "-4"])
    hints = re.findall(r"hint: (.+)", done.stdout)
    assert len(hints) == 2
    assert hints[0].startswith("∂f/∂q = z — the local gradient of mul (f = q·z) with respect to q")
    assert "multiply swaps" in hints[0]
    assert hints[1] == "∂f/∂x = ∂f/∂q·∂q/∂x — upstream ∂f/∂q times the local gradient of add"
    assert not any("-4" in written_numbers(h) for h in hints)
    assert done.returncode == 0


def test_the_seed_says_what_it_is_not_its_value():
    solution = check.solve(tracing.load("circuit"), 1, None)
    seed = solution.line((1, 1, "∂f/∂f"))
    hint = hint_of(seed)
    assert "seed" in hint and "1" not in written_numbers(hint), hint
