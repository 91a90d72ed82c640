"""Nielsen's notation (Neural Networks and Deep Learning, ch. 2; also Ng's and CS231n's
courses): layers numbered from 1 (the inputs, x), z^l_j = Σ_k w^l_jk·a^(l−1)_k + b^l_j,
a^l_j = σ(z^l_j), cost C, targets y; δ^l_j = ∂C/∂z^l_j, the opposite sign of the lecture's;
w^l_jk is the weight from unit k of layer l − 1 to unit j of layer l; w → w − η·∂C/∂w."""

from __future__ import annotations

from . import Book, Place, either


def _indices(*numbers: int) -> str:
    """ "11", or "1,12" once an index has two digits."""
    return ("," if any(n > 9 for n in numbers) else "").join(map(str, numbers))


def _symbol(letter: str, place: Place) -> str:
    """A layer's quantity of a unit: its layer (from 1, the inputs) up, its unit down: z^2_1."""
    return f"{letter}^{place.layer + 1}_{place.index + 1}"


def _plain(letter: str, place: Place) -> str:
    """Inputs, targets and errors: the unit only, x_1, y_1."""
    return f"{letter}_{place.index + 1}"


_OWN = {"x": "x", "t": "y", "e": "e"}  # the network's inputs, targets and errors


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
    quantity=lambda kind, place: _plain(_OWN[kind], place),
    weight=_weight,
    bias=lambda place, shared: _symbol("b", place),
    symbol=_symbol,
    plain=_plain,
    loss="C",
    softmax_sum="Σe^z",
    heads={"t": "y", "E": "C"},
    generic=either({("x", "j"): "x_j", ("t", "j"): "y_j", ("t", "k"): "y_k"}),
    last=lambda text: text.replace("l", "L", 1),  # z^l_j → z^L_j
    sign_mistake="δ with the lecture's sign, −∂C/∂z: Nielsen's δ is ∂C/∂z",
    layer_label=_layer,
    latex={"ã": "\\tilde{a}"},
)
