"""The model protocol answers what teaching asks of a kind: nothing in teach/ tells the kinds
apart itself (STYLE.md, "The house")."""

import pytest

from backtrace_cli import models, solution, tracing
from backtrace_cli.core.errors import ConfigError
from backtrace_cli.sheet import Question
from backtrace_cli.teach import answers, mistakes


def test_a_book_renames_a_networks_rows_not_a_graphs():
    network, graph = models.load("xor"), models.load("circuit")
    tracing.model(network).refuse_notation("nielsen")  # every book names a network's rows
    tracing.model(network).refuse_notation(None)
    tracing.model(graph).refuse_notation(None)
    with pytest.raises(ConfigError, match="names are its own"):
        tracing.model(graph).refuse_notation("nielsen")


def test_answers_are_read_by_the_models_own_reading():
    assert answers.reading(models.load("xor")) is answers.NETWORK
    assert answers.reading(models.load("circuit")) is answers.GRAPH


def test_a_graphs_slips_come_on_its_rows_a_networks_from_teach():
    assert mistakes.mistakes(models.load("circuit")) == []
    names = [m.name for m in mistakes.mistakes(models.load("xor"))]
    assert "the learning rate η left out" in names


def test_a_quiz_says_what_it_asks_and_refuses_a_sample_the_model_has_not():
    xor, circuit = models.load("xor"), models.load("circuit")  # XOR's truth table: 4 samples
    assert tracing.model(xor).quizzed(xor, None) == "epoch 1 · 4 samples, an update after each"
    assert tracing.model(xor).quizzed(xor, 2) == "epoch 1 · sample 2 of 4"
    with pytest.raises(ConfigError, match="samples 1 to 4"):
        tracing.model(xor).quizzed(xor, 5)
    assert tracing.model(circuit).quizzed(circuit, None) == "forward, then backward"
    assert tracing.model(circuit).quizzed(circuit, 1) == "forward, then backward"
    with pytest.raises(ConfigError, match="one pass"):
        tracing.model(circuit).quizzed(circuit, 2)


def test_every_line_of_a_solution_says_its_section_and_its_steps_heading():
    lecture = {line.key[2]: line for line in solution.solve(models.load("lecture")).lines}
    assert (lecture["o3"].section.kind, lecture["δ5"].section.kind) == ("forward", "delta")
    assert lecture["new w45"].section.kind == "update"
    assert {line.heading for line in lecture.values()} == {"Epoch 1 · sample 1 of 1"}
    circuit = {line.key[2]: line for line in solution.solve(models.load("circuit")).lines}
    assert (circuit["q"].section.kind, circuit["∂f/∂q"].section.kind) == ("forward", "backward")
    assert {line.heading for line in circuit.values()} == {""}  # one pass: no step heading


@pytest.mark.parametrize("example", ["lecture", "mazur", "softmax", "momentum", "circuit"])
def test_a_symbol_is_named_as_its_models_answers_file_reads_it_back(example):
    spec = models.load(example)
    how = answers.reading(spec)
    for line in solution.solve(spec, rounding="3sf").lines:
        assert how.symbol_of(how.name_of(line.key[2])) == line.key[2]


def test_a_graphs_names_are_its_own_a_networks_the_lectures():
    assert answers.NETWORK.name_of("δ5") == "delta5"
    assert answers.NETWORK.name_of("new w45") == "w45"
    assert answers.GRAPH.name_of("∂f/∂x") == "df/dx"


def test_a_teachers_question_is_read_by_the_models_own_names():
    assert answers.NETWORK.question(Question.parse("s2.delta5")) == Question(2, "delta5", "δ5")
    # a graph's label, df/dx, is its ∂f/∂x; its column is named as its verdict (∂f/∂x)
    assert answers.GRAPH.question(Question.parse("df/dx")) == Question(1, "∂f/∂x", "∂f/∂x")
    assert answers.GRAPH.question(Question.parse("q")) == Question(1, "q", "q")
