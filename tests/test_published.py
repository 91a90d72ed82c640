"""A published worked example, not written by us: Matt Mazur's "A Step by Step
Backpropagation Example" (2015). Every expected number below is his, as he printed it."""

from __future__ import annotations

from conftest import equations, run_json
from pytest import approx

# his names: out_h1, out_h2, out_o1, out_o2, E_total → ours: o3, o4, o5, o6, E
FORWARD = {
    "o3": 0.593269992,
    "o4": 0.596884378,
    "o5": 0.75136507,
    "o6": 0.772928465,
    "E": 0.298371109,
}
# his w1 … w8 after one step at η = 0.5 → ours w13, w23, w14, w24, w35, w45, w36, w46
NEW_WEIGHTS = {
    "w13": 0.149780716,
    "w23": 0.19956143,
    "w14": 0.24975114,
    "w24": 0.29950229,
    "w35": 0.35891648,
    "w45": 0.408666186,
    "w36": 0.511301270,
    "w46": 0.561370121,
}


def test_mazur_forward_pass_and_total_error(runner):
    eq = equations(run_json(runner, "mazur"))
    for name, value in FORWARD.items():
        assert eq[name] == approx(value, abs=5e-9), name


def test_mazur_new_weights_and_fixed_biases(runner):
    parameters = run_json(runner, "mazur")["summary"]["parameters"]
    for name, value in NEW_WEIGHTS.items():
        assert parameters[name]["after"] == approx(value, abs=5e-9), name
    for bias, value in {"b3": 0.35, "b4": 0.35, "b5": 0.60, "b6": 0.60}.items():
        assert parameters[bias] == {"before": value, "after": value}
