"""The model protocol's exercise parts: every kind draws its variants, says what its sheets ask,
and writes a variant back as a config that loads as the same model — asked of the model, never
of the kind. Expectations come from the configs and the lecture's chain rule, written here."""

from __future__ import annotations

import numpy as np
import pytest

from backtrace_cli import api, models, tracing
from backtrace_cli.draws import ExerciseSet, NoFairVariant, Rules, Values


def test_every_model_has_the_exercise_parts():
    for model in tracing.MODELS.values():
        for part in ("variants", "questions", "notes", "to_config"):
            assert callable(getattr(model, part)), (type(model).__name__, part)


@pytest.mark.parametrize("name", ["lecture", "circuit"])
def test_a_variant_written_back_as_config_loads_as_the_same_model(name):
    spec = api.load(name)
    model = tracing.model(spec)
    drawn = model.variants(spec, 2, 4, Rules(), name)
    assert isinstance(drawn, ExerciseSet) and len(drawn.variants) == 2
    for v in drawn.variants:
        text = model.to_config(v.spec, f"Exercise variant {v.ident}")
        assert text.startswith(f"# Exercise variant {v.ident}\n")
        again = models.from_text(text, f"{v.ident}.yaml")
        assert models.kind(again) == models.kind(spec)
        if models.kind(spec) == "graph":  # the test tells them apart; the program does not
            assert dict(again.inputs) == dict(v.spec.inputs)
        else:
            for a, b in zip(again.weights, v.spec.weights):
                assert np.array_equal(a, b)
            assert np.array_equal(again.samples[0].inputs, v.spec.samples[0].inputs)


def test_a_graphs_sheet_asks_its_nodes_then_df_by_each_node_and_input():
    """circuit: q = x + y, f = q·z — its nodes, then the backward pass's ∂f/∂ of each: from f,
    ∂f/∂q and ∂f/∂z; through q, ∂f/∂x and ∂f/∂y (not the chain rule's factors ∂f/∂f = 1,
    ∂q/∂x, ∂q/∂y), as an answers file writes them; known from the graph alone, before any
    draw."""
    spec = api.load("circuit")
    asked = tracing.model(spec).questions(spec, ())
    assert [q.name for q in asked] == ["q", "f", "df/dq", "df/dz", "df/dx", "df/dy"]
    assert [q.name for q in tracing.model(spec).questions(spec, ("q", "∂f/∂z"))] == ["q", "df/dz"]
    with pytest.raises(ValueError, match="'w' is not a quantity of this graph"):
        tracing.model(spec).questions(spec, ("w",))


def test_a_networks_sheet_asks_what_its_trace_has():
    """The lecture's 2-2-1 net (units 1, 2 → 3, 4 → 5): its δ are δ3, δ4, δ5 — read from the
    traced step; before a trace the network cannot tell (None)."""
    spec = api.load("lecture")
    model = tracing.model(spec)
    assert model.questions(spec, ("delta",)) is None
    asked = model.questions(spec, ("delta",), api.trace(spec).records)
    assert sorted(q.name for q in asked) == ["delta3", "delta4", "delta5"]


def test_a_graphs_value_band_keeps_f_inside_it():
    """circuit's f = (x + y)·z, computed here from each variant's drawn inputs."""
    spec = api.load("circuit")
    drawn = tracing.model(spec).variants(spec, 5, 2, Rules(Values(), 0.001, (0.1, 0.5)), "c")
    assert drawn.band == (0.1, 0.5)
    for v in drawn.variants:
        x, y, z = (dict(v.spec.inputs)[n] for n in "xyz")
        assert 0.1 <= (x + y) * z <= 0.5 and v.value == pytest.approx((x + y) * z)


def test_no_value_to_draw_is_refused_for_either_kind():
    for name in ("lecture", "circuit"):
        spec = api.load(name)
        with pytest.raises(NoFairVariant):
            tracing.model(spec).variants(spec, 1, 0, Rules(Values(0, 0.04, 1)), name)
