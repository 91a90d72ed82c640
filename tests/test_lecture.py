"""The course notes' worked 2-2-1 example: the product's first acceptance test.

Expected numbers are the notes' and PRODUCT.md's, or derived here by hand with `math`.
"""

from __future__ import annotations

import math

from conftest import equations, run_json
from pytest import approx


def sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def test_forward_pass_matches_the_notes(runner):
    eq = equations(run_json(runner))
    assert eq["net3"] == approx(0.1 * 0.35 + 0.8 * 0.9)  # the notes: 0.755
    assert eq["net3"] == approx(0.755)
    assert eq["o3"] == approx(0.680267, abs=1e-6)
    assert eq["net4"] == approx(0.68)
    assert eq["o4"] == approx(0.663739, abs=1e-6)
    assert eq["net5"] == approx(0.801445, abs=1e-6)
    assert eq["o5"] == approx(0.690283, abs=1e-6)


def test_error_loss_and_deltas_match_product_numbers(runner):
    eq = equations(run_json(runner))
    assert eq["e5"] == approx(-0.190283, abs=1e-6)
    assert eq["E"] == approx(0.018104, abs=1e-6)
    assert eq["δ5"] == approx(-0.040681, abs=1e-6)
    assert eq["δ3"] == approx(-0.0026545, abs=1e-7)
    assert eq["δ4"] == approx(-0.0081716, abs=1e-7)


def test_hidden_delta_uses_weights_before_the_update(runner):
    eq = equations(run_json(runner))
    o3, o4 = sigmoid(0.755), sigmoid(0.68)
    assert eq["δ3"] == approx(o3 * (1 - o3) * 0.3 * eq["δ5"])  # w35 before: 0.3
    assert eq["δ4"] == approx(o4 * (1 - o4) * 0.9 * eq["δ5"])  # w45 before: 0.9


def test_new_weights_match_product_numbers(runner):
    doc = run_json(runner)
    new = {k: v["after"] for k, v in doc["summary"]["parameters"].items()}
    expected = {
        "w35": 0.272326,
        "w45": 0.872998,
        "w13": 0.099071,
        "w23": 0.797611,
        "w14": 0.397140,
        "w24": 0.592646,
    }
    for name, value in expected.items():
        assert new[name] == approx(value, abs=1e-6), name


def test_loss_and_output_after_the_update(runner):
    doc = run_json(runner)
    assert doc["summary"]["loss_after"] == approx(0.016565, abs=1e-6)
    assert doc["summary"]["outputs_after"][0][0] == approx(0.682019, abs=1e-6)
    assert doc["epochs"] == [
        {"epoch": 1, "loss": approx(0.018104, abs=1e-6), "loss_after": approx(0.016565, abs=1e-6)}
    ]


def test_delta_update_is_eta_delta_o(runner):
    eq = equations(run_json(runner))
    assert eq["Δw45"] == approx(1 * eq["δ5"] * eq["o4"])
    assert eq["new w45"] == approx(0.9 + eq["Δw45"])


def test_three_significant_figures_reproduce_the_notes(runner):
    # the notes' own numbers: o3 = 0.68(0), o5 = 0.69(0), δ5 = −0.0406, δ3 = −0.00265,
    # new w45 = 0.873, new w35 = 0.272, Δw45 = −0.0270 (the notes: −0.0267 from o4 ≈ 0.66)
    doc = run_json(runner, "--round", "3sf")
    eq = equations(doc)
    assert eq["o3"] == 0.680
    assert eq["o5"] == 0.690
    assert eq["δ5"] == -0.0406
    assert eq["δ3"] == -0.00265
    assert eq["new w45"] == 0.873
    assert eq["new w35"] == 0.272
    assert doc["network"]["rounding"] == "3sf"


def test_full_precision_delta5_rounds_to_minus_0_0407(runner):
    # the notes' −0.0406 comes from rounding o5 first; full precision gives −0.040681
    eq = equations(run_json(runner))
    assert round(eq["δ5"], 4) == -0.0407
    assert equations(run_json(runner, "--round", "4dp"))["δ5"] == -0.0407
