"""Nielsen's notation (Neural Networks and Deep Learning, ch. 2; also Ng's and CS231n's
courses): layers numbered from 1 (the inputs, a^1_j), z^l_j = Σ_k w^l_jk·a^(l−1)_k + b^l_j,
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
    """Targets and errors: the unit only, y_1, e_1."""
    return f"{letter}_{place.index + 1}"


def _quantity(kind: str, place: Place) -> str:
    """The network's own: inputs are layer 1's activations, a^1_1 (the book has no x_j in
    its equations); targets y_1, errors e_1."""
    if kind == "x":
        return _symbol("a", place)
    return _plain({"t": "y", "e": "e"}[kind], place)


def _weight(source: Place, target: Place, n: int) -> str:
    return f"w^{target.layer + 1}_{_indices(target.index + 1, source.index + 1)}"


def _layer(k: int, last: int) -> str:
    return f"l = {k + 1}" if k < last else f"l = L = {k + 1}"


# The four equations of backpropagation as the book names them (ch. 2, "The four fundamental
# equations"), in the rules they are: (pattern in a translated rule, the rule as he writes it).
# l: a hidden layer's, L: the output layer's.
_NAMED = (
    (r"^δ = ∂C/∂a · ∂a/∂z(?= |$)", "δ^L_j = ∂C/∂a^L_j · ∂a^L_j/∂z^L_j (BP1)"),
    (
        r"δ\^l_j = ∂a\^l_j/∂z\^l_j · Σ_k w\^\(l\+1\)_kj·δ\^\(l\+1\)_k",
        r"\g<0> (BP2)",
    ),
    (r"∂C/∂w\^([lL])_jk = δ\^\1_j·(ã|a)\^\(\1−1\)_k", r"∂C/∂w^\1_jk = \2^(\1−1)_k·δ^\1_j"),
    (r"∂C/∂w\^([lL])_jk = (ã|a)\^\(\1−1\)_k·δ\^\1_j", r"\g<0> (BP4)"),
    (r"∂C/∂b\^([lL])_j = δ\^\1_j", r"\g<0> (BP3)"),
    (  # SGD's update: the gradient it takes, BP4, first
        r"^Δw\^([lL])_jk = −η·δ\^\1_j·(ã|a)\^\(\1−1\)_k",
        r"∂C/∂w^\1_jk = \2^(\1−1)_k·δ^\1_j (BP4),  \g<0>",
    ),
    (r"^Δb\^([lL])_j = −η·δ\^\1_j", r"∂C/∂b^\1_j = δ^\1_j (BP3),  \g<0>"),
)

# A quadratic cost's ∂C/∂a^L_j as the book writes it (BP1, ∇_a C = (a^L − y)), not the
# lecture's −(t − o): the same number, the operands the other way round.
_FORMULAS = ((r"^−\((\{t[^{}]+\}) − (\{o[^{}]+\})\)$", r"\2 − \1"),)

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
    bias=lambda place, shared: _symbol("b", place),
    symbol=_symbol,
    plain=_plain,
    loss="C",
    softmax_sum="Σe^z",
    heads={"t": "y", "E": "C"},
    generic=either({("x", "j"): "a^1_j", ("t", "j"): "y_j", ("t", "k"): "y_k"}),
    phrases=(("Σ_i", "Σ_k"),),  # z^l_j = Σ_k w^l_jk·a^(l−1)_k: the unit below is k
    last=lambda text: text.replace("l", "L", 1),  # z^l_j → z^L_j
    sign_mistake="δ with the lecture's sign, −∂C/∂z: Nielsen's δ is ∂C/∂z",
    layer_label=_layer,
    gradient_from_delta=True,
    named=_NAMED,  # BP4 and BP3, not the chain rule's three factors
    formulas=_FORMULAS,
    latex={"ã": "\\tilde{a}"},
    tensor=lambda letter, k, last: f"{letter}^{k + 1}",  # a model's layer k: z^2[0,1]
    tensors={"x": "a^1", "t": "y", "e": "e"},
    tensor_convention=(
        "Nielsen's notation: layer l's weighted input z^l and activation a^l (layer 1 is the "
        "input, a^1; L the output layer), its weights w^l and biases b^l; δ^l = ∂C/∂z^l (the "
        "opposite sign of the lecture's δ = −∂E/∂y), ∂C/∂a^l where a layer's output is no z; "
        "w ← w − η·∂C/∂w"
    ),
)
