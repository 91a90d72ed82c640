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
from backtrace_cli.network.layers import KINDS, Dense, Dropout, FromAbove, FromLoss, build

H = 1e-6  # central differences: truncation about h² (1e-12), rounding about ε·|E|/h (1e-10)


def exact(values: np.ndarray) -> np.ndarray:
    return values


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
)
NEW_UNITS = ("SENT_DOWN", "sent_down", "unchanged_counts")
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
