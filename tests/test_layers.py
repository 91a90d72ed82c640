"""The layer protocol: each layer's backward pass against central finite differences of its own
forward pass, dropout's 1/(1 − rate) scale, and a spec's layers in order. Every expectation is
derived here (numerically or by hand), never read back from the program's output."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from pytest import approx

from backtrace_cli.definitions import activations, losses
from backtrace_cli.network import config, engine
from backtrace_cli.network.engine import exact  # the identity carry
from backtrace_cli.network.layers import (
    KINDS,
    Dense,
    Dropout,
    FromAbove,
    FromLoss,
    build,
)
from backtrace_cli.network.layers.model_kinds import MODEL_KINDS

H = 1e-6  # central differences: truncation about h² (1e-12), rounding about ε·|E|/h (1e-10)


def numeric_gradient(energy: Callable[[np.ndarray], float], at: np.ndarray) -> np.ndarray:
    """∂E/∂a for every entry of `at`, by (E(a + h) − E(a − h))/2h."""
    out = np.zeros_like(at)
    for index in np.ndindex(at.shape):
        shifted = []
        for sign in (1.0, -1.0):
            moved = at.copy()
            moved[index] += sign * H
            shifted.append(energy(moved))
        out[index] = (shifted[0] - shifted[1]) / (2 * H)
    return out


def case(rows: int, units_in: int, units: int, seed: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (rows, units_in))
    w = rng.uniform(-1, 1, (units, units_in))
    b = rng.uniform(-1, 1, units)
    g = rng.uniform(-1, 1, (rows, units))  # −∂E/∂o from above
    return x, w, b, g


# ---------------------------------------------------------------- dense, below the output


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "linear", "elu", "leaky_relu"])
@pytest.mark.parametrize("rows", [1, 3])
def test_dense_backward_is_minus_the_finite_differences_of_its_forward(name, rows):
    """With E = −Σ g·o, whatever arrives from above is g = −∂E/∂o; then δ = −∂E/∂net,
    the gradients are −∂E/∂w and −∂E/∂b summed over the rows, and the layer below gets
    −∂E/∂x."""
    activation = activations.get(name)
    x, w, b, g = case(rows, 3, 2, seed=len(name) + rows)

    def energy(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> float:
        return float(-(g * Dense(w, b, activation).forward(x, exact)[0]).sum())

    layer = Dense(w, b, activation)
    _, cache = layer.forward(x, exact)
    below, gradients, _, delta, _ = layer.backward(cache, FromAbove(g), exact)
    net = x @ w.T + b
    by_net = numeric_gradient(lambda n: float(-(g * activation.forward(n)).sum()), net)
    assert delta == approx(-by_net)
    assert gradients["weight"] == approx(-numeric_gradient(lambda a: energy(x, a, b), w))
    assert gradients["bias"] == approx(-numeric_gradient(lambda a: energy(x, w, a), b))
    assert below.gradient() == approx(-numeric_gradient(lambda a: energy(a, w, b), x))


def test_dense_without_biases_has_one_parameter_and_no_bias_gradient():
    x, w, _, g = case(2, 2, 2, seed=7)
    layer = Dense(w, None, activations.get("tanh"))
    _, cache = layer.forward(x, exact)
    assert list(layer.parameters) == ["weight"]
    assert list(layer.backward(cache, FromAbove(g), exact)[1]) == ["weight"]


def test_dense_gives_nothing_below_when_not_asked():
    x, w, b, g = case(1, 2, 2, seed=8)
    layer = Dense(w, b, activations.get("sigmoid"))
    _, cache = layer.forward(x, exact)
    assert layer.backward(cache, FromAbove(g), exact, below=False)[0] is None


# ---------------------------------------------------------------- dense, at the output


@pytest.mark.parametrize(
    "activation, loss",
    [
        ("sigmoid", "half_sse"),
        ("sigmoid", "bce"),  # the shortcut δ = t − o
        ("softmax", "cross_entropy"),  # the shortcut through the whole Jacobian
        ("softmax", "half_sse"),  # the long way through the Jacobian
        ("tanh", "mse"),
    ],
)
def test_output_delta_is_minus_dE_dnet_of_the_loss(activation, loss):
    definition, function = losses.get(loss), activations.get(activation)
    x, w, b, _ = case(3, 2, 3, seed=11)
    rng = np.random.default_rng(12)
    t = rng.uniform(0.05, 0.95, (3, 3))
    if activation == "softmax":
        t = t / t.sum(axis=1, keepdims=True)
    if loss == "bce":
        t = (t > 0.5).astype(float)

    def energy(net: np.ndarray) -> float:
        out = function.apply(net, exact)[0]
        return float(definition.value(t - out, net, out, t).sum())

    layer = Dense(w, b, function)
    out, cache = layer.forward(x, exact)
    error = t - out
    upstream = FromLoss(definition, error, definition.gradient(error, out, t))
    delta = layer.backward(cache, upstream, exact)[3]
    assert delta == approx(-numeric_gradient(energy, x @ w.T + b), rel=1e-6, abs=1e-9)


# ---------------------------------------------------------------- dropout


def test_dropout_scales_kept_outputs_by_one_over_keep_probability():
    mask = np.array([[1.0, 0.0, 1.0]])
    layer = Dropout(mask / (1 - 0.2))
    x = np.array([[0.5, -2.0, 4.0]])
    out, cache = layer.forward(x, exact)
    assert out.tolist() == [[0.625, 0.0, 5.0]]  # 0.5/0.8, dropped, 4/0.8
    assert layer.parameters == {}
    g = np.array([[0.8, 3.0, -1.6]])
    below, gradients = layer.backward(cache, FromAbove(g), exact)
    assert gradients == {}
    assert below.gradient().tolist() == [[1.0, 0.0, -2.0]]  # the same scale: 0.8/0.8, 0, −1.6/0.8


def test_dropout_backward_is_minus_the_finite_differences_of_its_forward():
    rng = np.random.default_rng(3)
    x, g = rng.uniform(-1, 1, (2, 4)), rng.uniform(-1, 1, (2, 4))
    layer = Dropout(np.array([[1.0, 0.0, 1.0, 1.0], [0.0, 1.0, 1.0, 0.0]]) / (1 - 1 / 3))
    below, _ = layer.backward(layer.forward(x, exact)[1], FromAbove(g), exact)
    expected = -numeric_gradient(lambda a: float(-(g * layer.forward(a, exact)[0]).sum()), x)
    assert below.gradient() == approx(expected)


def test_dense_below_dropout_multiplies_the_scale_after_its_slope():
    """δ = o′·Σwδ·m/(1 − rate) is evaluated left to right, as the trace writes it: with a
    scale of 1.5 (not a power of two) the other grouping can round differently."""
    x, w, b, g = case(4, 3, 3, seed=5)
    keep = np.array([[1.0, 0.0, 1.0]]) * 1.5  # rate 1/3
    dense = Dense(w, b, activations.get("sigmoid"))
    out, cache = dense.forward(x, exact)
    _, dropout_cache = Dropout(keep).forward(out, exact)
    upstream, _ = Dropout(keep).backward(dropout_cache, FromAbove(g), exact)
    delta = dense.backward(cache, upstream, exact)[3]
    slope = out * (1 - out)
    assert delta.tolist() == ((slope * g) * keep).tolist()
    assert delta.tolist() != (slope * (g * keep)).tolist()  # this case tells them apart
    assert (delta[:, 1] == 0).all()  # a dropped unit's δ is 0


# ---------------------------------------------------------------- a spec's layers


def test_a_specs_layers_come_out_as_dense_and_dropout_bottom_up():
    spec = config.from_dict(
        {
            "layers": [2, 3, 2, 1],
            "activation": "sigmoid",
            "loss": "half_sse",
            "learning_rate": 0.5,
            "inputs": [0.1, 0.2],
            "targets": [0.5],
            "weights": {"init": "glorot_uniform", "seed": 0},
            "dropout": {"rate": {"inputs": 0.2, "hidden2": 0.5}, "seed": 1},
        }
    )
    masks = engine.dropout_masks(spec, 1, [1])[0]
    stack = build(spec, spec.weights, spec.biases, engine.scaled_masks(spec, masks))
    assert [layer.kind for layer in stack] == ["dropout", "dense", "dense", "dropout", "dense"]
    assert [layer.weights.shape for layer in stack if layer.kind == "dense"] == [
        (3, 2),
        (2, 3),
        (1, 2),
    ]
    assert stack[0].keep.tolist() == (masks[0] * 1.25).tolist()  # 1/(1 − 0.2)
    assert stack[3].keep.tolist() == (masks[2] * 2).tolist()  # 1/(1 − 0.5)
    assert [layer.kind for layer in build(spec, spec.weights, spec.biases)] == ["dense"] * 3
    assert set(KINDS) == {"dense", "dropout"}
    assert (KINDS["dense"], KINDS["dropout"]) == (Dense, Dropout)


# ---------------------------------------------------------------- the protocol, for every kind

# What the Layer protocol names (written here, not read from the program): every kind's members,
# then those of a layer that makes new units (dense) and of one that passes units on (dropout).
EVERY_KIND = (
    "kind",
    "new_units",
    "parameters",
    "forward",
    "backward",
    "forward_rows",
    "delta_rows",
    "update_rows",
    "decayed",
    "NAMES",
)
NEW_UNITS = ("SENT_DOWN", "sent_down", "unchanged_counts", "parameter_name")
PASSES_ON = ("passes", "passed_on", "factor", "factor_rule", "unchanged")


@pytest.mark.parametrize("name", sorted(KINDS))
def test_every_registered_kind_provides_the_protocols_members(name):
    kind = KINDS[name]
    assert kind.kind == name
    missing = [m for m in EVERY_KIND if not hasattr(kind, m)]
    role = NEW_UNITS if kind.new_units else PASSES_ON
    missing += [m for m in role if not hasattr(kind, m)]
    assert missing == []
    for member in ("forward_rows", "delta_rows", "update_rows", "decayed"):
        assert callable(getattr(kind, member))


@pytest.mark.parametrize("name", sorted(MODEL_KINDS))
def test_every_layer_a_model_may_name_provides_the_tensor_protocols_members(name):
    """Each `model:` kind: what the config reader asks of its module, what the engine and the
    trace ask of its class (docs/layers.md, "A tensor layer's members")."""
    module, kind = MODEL_KINDS[name]
    for member in ("ARGUMENTS", "shape", "parameter_shapes", "written"):
        assert hasattr(module, member), member
    for member in ("kind", "LETTERS", "parameters", "forward", "backward"):
        assert hasattr(kind, member), member
    assert callable(kind.forward_rows) and callable(kind.delta_rows)
    if module.parameter_shapes({k: 2 if v is None else v for k, v in module.ARGUMENTS}):
        assert isinstance(kind.GRADIENT_RULE, str) and callable(kind.gradient_terms)


def test_every_activation_is_a_layer_and_linear_is_torchs_linear():
    assert set(activations.NAMES) - {"linear"} <= set(MODEL_KINDS)
    assert MODEL_KINDS["linear"][1].kind == "linear"


def test_the_registry_holds_dense_and_dropout():
    assert set(KINDS) == {"dense", "dropout"}
    assert KINDS["dense"].new_units and not KINDS["dropout"].new_units


def test_dropout_writes_no_delta_or_update_rows_and_decays_nothing():
    """Dropout trains nothing: its factor lives in the δ of the units it passes on."""
    assert Dropout.delta_rows(None, 1) == []
    assert Dropout.update_rows(None, 1) == []
    assert Dropout.decayed(None, 1) == []
    assert Dropout.passed_on(0, ["x1", "x2"]) == ["x̃1", "x̃2"]
    assert Dropout.passed_on(1, ["o3"]) == ["õ3"]


def test_stack_names_each_layer_by_kind_and_position_in_builds_order():
    """Dropout on the inputs and on hidden layer 2 of a 3-weight-layer net: by hand."""
    from backtrace_cli.network.layers import stack

    mask = np.ones((1, 2))
    assert stack(3, [mask, None, mask]) == (
        (Dropout, 0),
        (Dense, 1),
        (Dense, 2),
        (Dropout, 2),
        (Dense, 3),
    )
    assert stack(2, ()) == ((Dense, 1), (Dense, 2))


# ---------------------------------------------------------------- its names in each book

STYLED = ("nielsen", "hagan", "mazur")  # the books with a symbol style of their own
OWN = ("x", "t", "e", "w", "b")  # what the network names itself: inputs, targets, errors,
# weights and biases (each book numbers those its own way)


@pytest.mark.parametrize("name", sorted(KINDS))
def test_every_kind_names_the_same_quantities_in_every_book(name):
    from backtrace_cli.definitions.notations import BOOKS

    assert {book for book, found in BOOKS.items() if found.symbol is not None} == set(STYLED)
    kind = KINDS[name]
    quantities = [{*kind.NAMES[book].units, *kind.NAMES[book].inputs} for book in STYLED]
    assert quantities[0] and all(q == quantities[0] for q in quantities)
    for book in STYLED:
        names = kind.NAMES[book]
        assert all({**names.units, **names.inputs}.values())


@pytest.mark.parametrize("book", STYLED)
def test_no_two_kinds_name_one_quantity(book):
    claimed = list(OWN)
    for kind in KINDS.values():
        claimed += [*kind.NAMES[book].units, *kind.NAMES[book].inputs]
    assert len(claimed) == len(set(claimed))


# By hand from each book's conventions, on the lecture's 2-2-1 network (units 1, 2 the inputs,
# 3, 4 hidden layer 1, 5 the output): Nielsen counts layers from 1 (the inputs), Hagan from 0,
# Mazur names units i1, h1, o1; dropout's õ and x̃ take each book's letter with a tilde.
BY_HAND = {
    "nielsen": {
        "net3": "z^2_1",
        "o5": "a^3_1",
        "δ4": "δ^2_2",
        "õ3": "ã^2_1",
        "x̃1": "ã^1_1",  # the inputs are layer 1: a^1_1, dropped ã^1_1
        "x1": "a^1_1",
        "m4": "m^2_2",
        "t5": "y_1",
    },
    "hagan": {
        "net3": "n^1_1",
        "δ5": "s^2_1",
        "õ4": "ã^1_2",
        "x̃2": "p̃_2",
        "m1": "m^0_1",
        "x1": "p_1",
    },
    "mazur": {"net5": "net_o1", "o3": "out_h1", "δ4": "δ_h2", "õ3": "õut_h1", "t5": "target_o1"},
}


@pytest.mark.parametrize("book", STYLED)
def test_each_kinds_quantities_in_each_book_by_hand(book):
    from backtrace_cli.definitions.notations import get
    from backtrace_cli.network.translation import Translation

    names = Translation(get(book), config.load("lecture"))
    assert {lecture: names.symbol(lecture) for lecture in BY_HAND[book]} == BY_HAND[book]


def test_a_new_kind_names_its_quantities_in_its_own_file(tmp_path):
    """A kind registered with its own quantity (a pooled p3) is named in Nielsen's style, in
    the letter it gives, with no book touched."""
    import subprocess
    import sys

    script = """
from backtrace_cli.definitions.notations import Names, get
from backtrace_cli.network import config, layers

class Pool:
    NAMES = {"nielsen": Names(units={"p": "π"}, heads={"p": "π"})}

layers.KINDS["pool"] = Pool
from backtrace_cli.network.translation import Translation

names = Translation(get("nielsen"), config.load("lecture"))
print(names.symbol("p3 + o3"), names.rule("p_j = o_j", False))
"""
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["π^2_1", "+", "a^2_1", "π_j", "=", "a^l_j"]


def test_a_section_is_translated_by_the_layer_it_says_not_by_its_title():
    """Nielsen's rule δ_k = o_k − t_k (his sign) at the output layer is δ^L_k = a^L_k − y_k;
    the same text in a hidden layer's section names the layer above's δ^(l+1)_k."""
    from backtrace_cli.definitions.notations import get
    from backtrace_cli.network.translation import Translation
    from backtrace_cli.worked import Section

    book = Translation(get("nielsen"), config.load("lecture"))
    rule = "δ_k = t_k − o_k"
    output = book.section(Section("delta", "δ · last", rule, (), layer=2))
    hidden = book.section(Section("delta", "δ · output layer", rule, (), layer=1))
    assert output.rule == "δ^L_k = a^L_k − y_k"
    assert hidden.rule == "δ^(l+1)_k = a^l_k − y_k"
    assert (output.title, hidden.title) == ("δ · last", "δ · output layer")  # no layer named
    forward = Section("forward", "Forward pass · hidden layer 1 (sigmoid)", "", (), layer=1)
    assert book.section(forward).title == "Forward pass · hidden layer 1, l = 2 (sigmoid)"


def test_mazurs_shared_fixed_biases_lose_their_update_section_by_its_parameter():
    """Mazur's example keeps one fixed bias per layer (b1, b2): its bias update sections go,
    whatever their titles; a weight update section stays."""
    from backtrace_cli.definitions.notations import get
    from backtrace_cli.network.rows import Step
    from backtrace_cli.network.translation import Translation
    from backtrace_cli.worked import Section

    book = Translation(get("mazur"), config.load("mazur"))
    sections = (
        Section("update", "Updates · output layer", "", (), layer=2, parameter="weight"),
        Section("update", "anything", "", (), layer=1, parameter="bias"),
        Section("update", "Updates · hidden layer 1", "", (), layer=2, parameter="bias"),
    )
    x = np.zeros(2)
    step = Step(1, 1, x, x, 0.0, (), sections, "")
    assert [s.parameter for s in book.step(step).sections] == ["weight"]


def test_every_network_section_says_its_layer_and_every_update_its_parameter():
    from backtrace_cli import api

    trace = api.trace("lecture_dropout", verify=True).records
    placed = [(s.kind, s.layer, s.parameter) for s in trace.steps[0].sections if s.kind != "verify"]
    assert placed == [
        ("forward", 1, ""),
        ("dropout", 1, ""),
        ("forward", 2, ""),
        ("error", None, ""),
        ("delta", 2, ""),
        ("delta", 1, ""),
        ("update", 2, "weight"),
        ("update", 1, "weight"),
    ]


def test_dense_names_its_parameters_row_by_row_as_the_lecture():
    """Layer 1 of the lecture's 2-2-1: weights w13, w23 (into unit 3), w14, w24; biases b3, b4."""
    spec = config.load("lecture")
    weight = Dense.parameter_name(spec, 1, "weight")
    assert [weight(n) for n in range(4)] == ["w13", "w23", "w14", "w24"]
    assert Dense.parameter_name(spec, 2, "bias")(0) == "b5"
