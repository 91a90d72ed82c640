"""The model protocol answers what teaching asks of a kind: nothing in teach/ tells the kinds
apart itself (STYLE.md, "The house")."""

import pytest

from backtrace_cli import models, tracing
from backtrace_cli.core.errors import ConfigError
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
