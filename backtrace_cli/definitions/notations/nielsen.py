"""Nielsen's notation (Neural Networks and Deep Learning, ch. 2; also Ng's and CS231n's
courses): layers numbered from 1 (the inputs, x), z^l_j = Σ_k w^l_jk·a^(l−1)_k + b^l_j,
a^l_j = σ(z^l_j), cost C, targets y; δ^l_j = ∂C/∂z^l_j, the opposite sign of the lecture's;
w^l_jk is the weight from unit k of layer l − 1 to unit j of layer l; w → w − η·∂C/∂w."""

from __future__ import annotations

from . import Book, Place


def _indices(*numbers: int) -> str:
    """ "11", or "1,12" once an index has two digits."""
    return ("," if any(n > 9 for n in numbers) else "").join(map(str, numbers))


_HEADS = {"net": "z", "o": "a", "δ": "δ", "m": "m", "õ": "ã", "g": "g"}


def _quantity(kind: str, place: Place) -> str:
    j = place.index + 1
    if kind in ("x", "x̃"):
        return f"{kind}_{j}"
    if kind == "t":
        return f"y_{j}"
    if kind == "e":
        return f"e_{j}"
    return f"{_HEADS[kind]}^{place.layer + 1}_{j}"


def _weight(source: Place, target: Place, n: int) -> str:
    return f"w^{target.layer + 1}_{_indices(target.index + 1, source.index + 1)}"


def _layer(k: int, last: int) -> str:
    return f"l = {k + 1}" if k < last else f"l = L = {k + 1}"


BOOK = Book(
    name="nielsen",
    title="Nielsen, Neural Networks and Deep Learning (also Ng's and CS231n's courses)",
    flips=True,
    convention=(
        "Nielsen's notation: δ^l_j = ∂C/∂z^l_j (the opposite sign of the lecture's "
        "δ = −∂E/∂net), and w^l_jk ← w^l_jk − η·δ^l_j·a^(l−1)_k; layer 1 is the inputs, "
        "w^l_jk goes from unit k of layer l − 1 to unit j of layer l"
    ),
    quantity=_quantity,
    weight=_weight,
    bias=lambda place, shared: f"b^{place.layer + 1}_{place.index + 1}",
    loss="C",
    softmax_sum="Σe^z",
    heads={"net": "z", "o": "a", "t": "y", "E": "C", "õ": "ã"},
    generic={
        **{
            (head, index, output): text.replace("l", "L" if output else "l", 1)
            if "l" in text
            else text
            for output in (False, True)
            for (head, index), text in {
                ("net", "j"): "z^l_j",
                ("net", "k"): "z^l_k",
                ("o", "j"): "a^l_j",
                ("o", "k"): "a^l_k",
                ("o", "i"): "a^(l−1)_i",
                ("õ", "i"): "ã^(l−1)_i",
                ("w", "ij"): "w^l_ji",
                ("δ", "j"): "δ^l_j",
                ("b", "j"): "b^l_j",
                ("m", "j"): "m^l_j",
                ("õ", "j"): "ã^l_j",
                ("x", "j"): "x_j",
                ("x̃", "j"): "x̃_j",
                ("t", "j"): "y_j",
                ("t", "k"): "y_k",
                ("g", "j"): "g_j",
                ("g", "k"): "g_k",
            }.items()
        },
        ("w", "jk", False): "w^(l+1)_kj",
        ("δ", "k", False): "δ^(l+1)_k",
        ("δ", "k", True): "δ^L_k",
    },
    sign_mistake="δ with the lecture's sign, −∂C/∂z: Nielsen's δ is ∂C/∂z",
    layer_label=_layer,
    latex={"ã": "\\tilde{a}"},
)
