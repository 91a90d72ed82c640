"""Hagan's notation (Hagan, Demuth, Beale & De Jesús, Neural Network Design, ch. 11): inputs p,
layers m = 1…M after them, n^m_i = Σ_j w^m_i,j·a^(m−1)_j + b^m_i, a^m_i = f^m(n^m_i), targets
t, performance index F; sensitivities s^m_i = ∂F/∂n^m_i (the opposite sign of the lecture's δ);
W^m(k+1) = W^m(k) − α·s^m·(a^(m−1))ᵀ with learning rate α."""

from __future__ import annotations

from . import Book, Place

_HEADS = {"net": "n", "o": "a", "δ": "s", "m": "m", "õ": "ã", "g": "g"}


def _quantity(kind: str, place: Place) -> str:
    i = place.index + 1
    if kind == "x":
        return f"p_{i}"
    if kind == "x̃":
        return f"p̃_{i}"
    if kind in ("t", "e"):
        return f"{kind}_{i}"
    return f"{_HEADS[kind]}^{place.layer}_{i}"


def _layer(k: int, last: int) -> str:
    return f"m = {k}" if k < last else f"m = M = {k}"


_GENERIC = {
    ("net", "j"): "n^m_i",
    ("net", "k"): "n^m_i",
    ("o", "j"): "a^m_i",
    ("o", "k"): "a^m_i",
    ("o", "i"): "a^(m−1)_j",
    ("õ", "i"): "ã^(m−1)_j",
    ("w", "ij"): "w^m_i,j",
    ("δ", "j"): "s^m_i",
    ("b", "j"): "b^m_i",
    ("m", "j"): "m^m_i",
    ("õ", "j"): "ã^m_i",
    ("x", "j"): "p_i",
    ("x̃", "j"): "p̃_i",
    ("t", "j"): "t_i",
    ("t", "k"): "t_i",
    ("g", "j"): "g_i",
    ("g", "k"): "g_k",
}

BOOK = Book(
    name="hagan",
    title="Hagan, Demuth, Beale & De Jesús, Neural Network Design",
    flips=True,
    convention=(
        "Hagan's notation: sensitivities s^m_i = ∂F/∂n^m_i (the opposite sign of the "
        "lecture's δ = −∂E/∂net), and W^m(k+1) = W^m(k) − α·s^m·(a^(m−1))ᵀ; inputs p = a^0, "
        "layers m = 1…M, w^m_i,j from unit j of layer m − 1 to unit i of layer m"
    ),
    quantity=_quantity,
    weight=lambda source, target, n: f"w^{target.layer}_{target.index + 1},{source.index + 1}",
    bias=lambda place, shared: f"b^{place.layer}_{place.index + 1}",
    new=lambda old: f"{old}(k+1)",
    loss="F",
    rate="α",
    softmax_sum="Σe^n",
    heads={"net": "n", "o": "a", "x": "p", "δ": "s", "E": "F", "η": "α", "õ": "ã"},
    generic={
        **{(h, i, False): text for (h, i), text in _GENERIC.items()},
        **{(h, i, True): text.replace("m", "M", 1) for (h, i), text in _GENERIC.items()},
        ("w", "jk", False): "w^(m+1)_k,i",
        ("δ", "k", False): "s^(m+1)_k",
        ("δ", "k", True): "s^M_k",
    },
    sign_mistake="s with the lecture's sign, −∂F/∂n: Hagan's sensitivity is s = ∂F/∂n",
    layer_label=_layer,
    phrases=(("Σ_i", "Σ_j"),),
    latex={"ã": "\\tilde{a}", "p̃": "\\tilde{p}"},
)
