"""Hagan's notation (Hagan, Demuth, Beale & De Jesús, Neural Network Design, ch. 11): inputs p,
layers m = 1…M after them, n^m_i = Σ_j w^m_i,j·a^(m−1)_j + b^m_i, a^m_i = f^m(n^m_i), targets
t, performance index F; sensitivities s^m_i = ∂F/∂n^m_i (the opposite sign of the lecture's δ);
W^m(k+1) = W^m(k) − α·s^m·(a^(m−1))ᵀ with learning rate α."""

from __future__ import annotations

from . import Book, Place, either


def _symbol(letter: str, place: Place) -> str:
    """A layer's quantity of a unit: its layer (the inputs 0) up, its unit down: n^1_1."""
    return f"{letter}^{place.layer}_{place.index + 1}"


def _plain(letter: str, place: Place) -> str:
    """Inputs, targets and errors: the unit only, p_1, t_1."""
    return f"{letter}_{place.index + 1}"


_OWN = {"x": "p", "t": "t", "e": "e"}  # the network's inputs, targets and errors


def _layer(k: int, last: int) -> str:
    return f"m = {k}" if k < last else f"m = M = {k}"


BOOK = Book(
    name="hagan",
    title="Hagan, Demuth, Beale & De Jesús, Neural Network Design",
    flips=True,
    convention=(
        "Hagan's notation: sensitivities s^m_i = ∂F/∂n^m_i (the opposite sign of the "
        "lecture's δ = −∂E/∂net), and W^m(k+1) = W^m(k) − α·s^m·(a^(m−1))ᵀ; inputs p = a^0, "
        "layers m = 1…M, w^m_i,j from unit j of layer m − 1 to unit i of layer m"
    ),
    quantity=lambda kind, place: _plain(_OWN[kind], place),
    weight=lambda source, target, n: f"w^{target.layer}_{target.index + 1},{source.index + 1}",
    bias=lambda place, shared: _symbol("b", place),
    symbol=_symbol,
    plain=_plain,
    new=lambda old: f"{old}(k+1)",
    loss="F",
    rate="α",
    softmax_sum="Σe^n",
    heads={"x": "p", "E": "F", "η": "α"},
    generic=either({("x", "j"): "p_i", ("t", "j"): "t_i", ("t", "k"): "t_i"}),
    last=lambda text: text.replace("m", "M", 1),  # n^m_i → n^M_i
    sign_mistake="s with the lecture's sign, −∂F/∂n: Hagan's sensitivity is s = ∂F/∂n",
    layer_label=_layer,
    phrases=(("Σ_i", "Σ_j"),),
    latex={"ã": "\\tilde{a}", "p̃": "\\tilde{p}", "α": "\\alpha"},
    tensor=lambda letter, k, last: f"{letter}^{k}",  # a model's layer k: n^1[0,1]
    tensors={"x": "p", "t": "t", "e": "e"},
    tensor_convention=(
        "Hagan's notation: layer m's net input n^m and output a^m (the input p = a^0; M the "
        "output layer), its weights w^m and biases b^m; sensitivities s^m = ∂F/∂n^m (the "
        "opposite sign of the lecture's δ = −∂E/∂y), ∂F/∂a^m where a layer's output is no n; "
        "w(k+1) = w(k) − α·∂F/∂w"
    ),
)
