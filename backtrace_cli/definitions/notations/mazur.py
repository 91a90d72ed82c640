"""Mazur's notation ("A Step by Step Backpropagation Example", 2015): inputs i1, i2, hidden
units h1, h2, outputs o1, o2; net_h1, out_h1, target_o1, E_total; weights w1, w2, … numbered
layer by layer, by the unit they go to, then the unit they come from; one bias per layer (b1,
b2); ∂E_total/∂w5 = ∂E_total/∂out_o1·∂out_o1/∂net_o1·∂net_o1/∂w5, δ_o1 = ∂E_total/∂net_o1
(the opposite sign of the lecture's δ), and w5⁺ = w5 − η·∂E_total/∂w5."""

from __future__ import annotations

from . import Book, Place


def _unit(place: Place) -> str:
    """i1, h1, o1; with several hidden layers h1_2 (hidden layer 1, unit 2)."""
    j = place.index + 1
    if place.layer == 0:
        return f"i{j}"
    if place.output:
        return f"o{j}"
    return f"h{j}" if place.hidden_layers == 1 else f"h{place.layer}_{j}"


def _layer(k: int, last: int) -> str:
    """A model's layer k (0: the input) as a unit's layer is named: i, h1, h2, …, o."""
    return "i" if k == 0 else "o" if k == last else f"h{k}"


def _symbol(letter: str, place: Place) -> str:
    """A layer's quantity of a unit: net_h1, out_o1."""
    return f"{letter}_{_unit(place)}"


def _quantity(kind: str, place: Place) -> str:
    """The network's own: inputs i1, targets target_o1, errors e_o1."""
    if kind == "x":
        return _unit(place)
    return _symbol({"t": "target", "e": "e"}[kind], place)


def _bias(place: Place, shared: bool) -> str:
    return f"b{place.layer}" if shared else _symbol("b", place)


BOOK = Book(
    name="mazur",
    title="Mazur, A Step by Step Backpropagation Example",
    flips=True,
    convention=(
        "Mazur's notation: δ_o1 = ∂E_total/∂net_o1 (the opposite sign of the lecture's "
        "δ = −∂E/∂net), and w5⁺ = w5 − η·∂E_total/∂w5. Weights w1, w2, … are numbered "
        "layer by layer, by the unit they go to, then the one they come from"
    ),
    quantity=_quantity,
    weight=lambda source, target, n: f"w{n}",
    unit=_unit,
    bias=_bias,
    symbol=_symbol,
    plain=lambda letter, place: letter + _unit(place),  # dropout's x̃1: ĩ before i1
    new=lambda old: f"{old}⁺",
    loss="E_total",
    heads={"t": "target", "x": "i", "E": "E_total"},
    sign_mistake="δ with the lecture's sign, −∂E/∂net: Mazur's δ_o1 is ∂E_total/∂net_o1",
    gradients=True,
    gradient_update=True,
    delta_from_factors=True,
    words=("net", "out", "target", "total"),
    latex={"õut": "\\widetilde{\\mathit{out}}"},
    tensor=lambda letter, k, last: f"{letter}_{_layer(k, last)}",  # a model's: net_h1[0,1]
    tensors={"x": "i", "t": "target_o", "e": "e_o"},
    tensor_convention=(
        "Mazur's notation: a layer's net and out, named by the layer (i the input; h1, h2, … "
        "the hidden layers; o the output layer: net_h1, out_o), its weights w_h1 and biases "
        "b_h1; δ_h1 = ∂E_total/∂net_h1 (the opposite sign of the lecture's δ = −∂E/∂y), "
        "∂E_total/∂out_h1 where a layer's output is no net; w⁺ = w − η·∂E_total/∂w"
    ),
)
