"""Textbook notations: the same trace in another book's symbols and sign convention.

Each module of this package defines one `Book` as `BOOK`; `get(name)` finds it, so a fifth book
is one file. A book has its own symbol style (z^2_1, n^1_1, net_h1), names the network's own
quantities (inputs, targets, weights w13 → w^2_11) and, where its δ is +∂E/∂net (Nielsen's,
Hagan's, Mazur's), flips the sign of δ and rewrites the formulas that carry it. Which letter a
layer's quantities take in it (net → z, õ → ã) is the layer kind's (`Names`, in each kind's file
under `network/layers/`); a book no kind names anything in names them all in `quantity`. This
package only defines the books (and reads answers' spellings of their names); it imports none of
the stages. `translation.Translation` applies a book to a traced network.
"""

from __future__ import annotations

import importlib
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import NamedTuple

DEFAULT = "lecture"


class Place(NamedTuple):
    """A unit of the network: its layer (0: the inputs) and index in it (0-based)."""

    layer: int
    index: int
    layers: tuple[int, ...]

    @property
    def output(self) -> bool:
        return self.layer == len(self.layers) - 1

    @property
    def hidden_layers(self) -> int:
        return len(self.layers) - 2


Generic = Mapping[tuple[str, str, bool | None], str]  # (head, index, output layer) → "z^l_j"


@dataclass(frozen=True)
class Names:
    """A layer kind's quantities in one book: the letters of its symbols, which the book writes
    in its own style (`Book.symbol`, `Book.plain`), and its names in the rules."""

    units: Mapping[str, str]  # lecture head → the book's letter for a unit's quantity: net → z
    inputs: Mapping[str, str] = field(default_factory=dict)  # written as the book writes its
    # inputs (`Book.plain`): dropout's x̃ → p̃
    heads: Mapping[str, str] = field(default_factory=dict)  # in rules, without an index: net → z
    generic: Generic = field(default_factory=dict)  # in rules: (head, index, output layer) →
    # "z^l_j"; output None: either, the output layer's as `Book.last` writes it


def either(generic: Mapping[tuple[str, str], str]) -> Generic:
    """Rules' names (head, index) → text, the same in a hidden and the output layer (there with
    the book's letter for the last layer, `Book.last`)."""
    return {(head, index, None): text for (head, index), text in generic.items()}


@dataclass(frozen=True)
class Book:
    """One textbook's notation: how it names every quantity, and its δ's sign."""

    name: str  # what --notation and `notation:` take
    title: str  # "Nielsen, Neural Networks and Deep Learning"
    flips: bool  # δ = +∂E/∂net: the opposite of the lecture's δ = −∂E/∂net
    convention: str  # the conventions line: which book, its δ and its update
    quantity: Callable[[str, Place], str]  # the network's own (x t e) and unit → symbol; and
    # any quantity no layer kind names in this book (`Names`)
    weight: Callable[[Place, Place, int], str]  # from, to, its number in the book's order
    bias: Callable[[Place, bool], str]  # unit, whether the layer shares one fixed bias
    symbol: Callable[[str, Place], str] | None = None  # its style for a layer's quantity of a
    # unit, with the letter the kind gives (`Names.units`): z → z^2_1
    plain: Callable[[str, Place], str] | None = None  # its style for the inputs: p̃ → p̃_1
    new: Callable[[str], str] = lambda old: f"new {old}"  # the updated parameter's name
    loss: str = "E"
    rate: str = "η"
    softmax_sum: str = "Σe^net"
    heads: Mapping[str, str] = field(default_factory=dict)  # rules: its own (t → y, E → C);
    # a layer's quantities' are its kind's (`Names.heads`)
    generic: Generic = field(default_factory=dict)  # rules: its own, as `Names.generic`
    last: Callable[[str], str] = lambda text: text  # a rule's name for layer l as written for
    # the output layer: z^l_j → z^L_j
    sign_mistake: str = "δ with the sign of ∂E/∂net: your notes use δ = −∂E/∂net"
    gradients: bool = False  # always trace ∂E/∂w as the product of its factors, each factor a
    # question of the step (a row of its own working, not a lecture's explanation)
    gradient_update: bool = False  # new w = w − η·∂E/∂w in one row (no Δw row)
    gradient_from_delta: bool = False  # ∂E/∂w = o_i·δ_j and ∂E/∂b = δ_j, not the chain rule's
    # three factors: the book's own equations (Nielsen's BP4, BP3)
    delta_from_factors: bool = False  # output δ = ∂E/∂o·∂o/∂net, the factor rows' product
    layer_label: Callable[[int, int], str] = lambda k, last: ""  # "l = 2" for hidden layer 1
    phrases: tuple[tuple[str, str], ...] = ()  # rules: the book's own words first ("Σ_i" → "Σ_j")
    named: tuple[tuple[str, str], ...] = ()  # rules as the book writes them and names its
    # equations, last: (pattern, replacement) as re.sub takes them, "δ^l_j = …" → "… (BP2)"
    formulas: tuple[tuple[str, str], ...] = ()  # rows' formulas as the book writes them, the
    # same value: (pattern, replacement) on a lecture template and its working, as re.sub
    # takes them — Nielsen's ∇_a C = (a^L − y) for the lecture's −(t − o)
    unit: Callable[[Place], str] | None = None  # a unit in prose ("unit h2"); None: its output
    words: tuple[str, ...] = ()  # heads written as words, upright in LaTeX: net, out, target
    latex: Mapping[str, str] = field(default_factory=dict)  # other heads' LaTeX: ã → \\tilde{a}
    # a `model:` of tensor layers (network/model_notation.py): a layer's tensor without a unit,
    # its entries indexed as torch's after it (z^2[0,1])
    tensor: Callable[[str, int, int], str] | None = None  # (letter, layer k — 0 the input —,
    # the last layer's k) → z^2 (Nielsen), n^1 (Hagan), net_h1 (Mazur); None: torch's names
    tensors: Mapping[str, str] = field(default_factory=dict)  # a model's own: its input x,
    # target t and error e → a^1, y, e (Nielsen)
    tensor_convention: str = ""  # a model's conventions line: its layers' letters, δ's sign


def _names() -> tuple[str, ...]:
    """Every book's name: its module's (os.listdir, not pkgutil: start-up time), the
    lecture's first."""
    here = os.path.dirname(__file__)
    found = [f[:-3] for f in os.listdir(here) if f.endswith(".py") and not f.startswith("_")]
    return tuple(sorted(found, key=lambda name: (name != DEFAULT, name)))


NAMES = _names()


@cache
def get(name: str | None) -> Book:
    """A book by name, its module loaded on first use: `run` in the lecture's notation loads
    no other book (start-up time). KeyError for a name that is not one."""
    name = name or DEFAULT
    if name not in NAMES:
        raise KeyError(name)
    book: Book = importlib.import_module(f"{__name__}.{name}").BOOK
    assert book.name == name, f"{name}.py defines the book {book.name!r}"
    return book


def __getattr__(name: str) -> object:
    """BOOKS, WORDS and LATEX, read from every book: each loads where all are read — the
    markdown's LaTeX, the tests — and never for `run` (start-up time)."""
    if name == "BOOKS":
        value: object = {book: get(book) for book in NAMES}
    elif name == "WORDS":
        words = {w for book in NAMES for w in get(book).words}
        value = tuple(sorted(words, key=len, reverse=True))
    elif name == "LATEX":
        value = {head: tex for book in NAMES for head, tex in get(book).latex.items()}
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value  # computed once
    return value


# ---------------------------------------------------------------- answers in a book's names

_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹₀₁₂₃₄₅₆₇₈₉", "01234567890123456789")


@lru_cache(maxsize=8192)
def canonical(name: str) -> str:
    """A name as students write it, reduced so that spellings of one symbol agree:
    z^{2}_{1}, z^2_1, z^{(2)}_1, z_1^2, z²₁ and z2_1 → z21; delta^3_1 → δ31; w5+, w5^+ and
    w5⁺ → w5⁺; dE_total/dw5 → ∂Etotal/∂w5; w'^3_11 → neww311."""
    text = name.strip().translate(_SUPERSCRIPTS).replace("new ", "new")
    swapped = re.fullmatch(r"(.*?)_\{?(\d+)\}?\^\{?\(?(\d+)\)?\}?", text)  # z_1^2: Nielsen's z^2_1
    if swapped and not re.search(r"\d", swapped.group(1)):
        text = f"{swapped.group(1)}^{swapped.group(3)}_{swapped.group(2)}"
    text = re.sub(r"\^\{?\((\d+)\)\}?", r"^\1", text)  # z^{(2)}_1
    text = re.sub(r"[\s^_{}\\]", "", text)
    text = re.sub(r"^(?:Δ|d(?=[wb]\d))", "Δ", text)
    text = re.sub(r"(^|(?<=[/∂]))delta", "δ", text)
    if "/" in text:  # dE/dw5 for ∂E/∂w5
        text = re.sub(r"(^|/)d(?=[A-Za-zδ])", r"\1∂", text)
    if text.endswith("+") and not text.endswith("(k+1)"):
        text = text[:-1] + "⁺"
    if "'" in text:  # Nielsen's w′: the updated weight
        text = "new" + text.replace("'", "")
    return text


def lookup(symbols: list[str]) -> dict[str, str]:
    """Canonical spellings → symbols, for answer names: each symbol's own canonical form,
    and as aliases (dropped where two symbols would share one) its form without commas, the
    output layer by its letter (Nielsen's a^L_1, Hagan's s^M_1) and, for an updated parameter,
    its plain name (an answers file's `w45` is the new w45)."""
    aliases: dict[str, set[str]] = {}

    def alias(key: str, symbol: str) -> None:
        for spelling in (key, key.replace(",", "")):
            aliases.setdefault(spelling, set()).add(symbol)

    # a unit's layer (z^3_1) or a model's tensor's (z^4[0]): the output layer's is also L, M
    layers = [int(n) for symbol in symbols for n in re.findall(r"\^(\d+)(?=[_\[])", symbol)]
    last = f"^{max(layers)}" if layers else None
    for symbol in symbols:
        spellings = [symbol]
        if last:
            for after in "_[":
                if last + after in symbol:
                    spellings += [symbol.replace(last + after, f"^{x}{after}") for x in "LM"]
        for spelling in spellings:
            alias(canonical(spelling), symbol)
            if spelling.startswith("new "):
                alias(canonical(spelling[4:]), symbol)
                alias(canonical(spelling[4:]) + "⁺", symbol)
            plain = re.fullmatch(r"(.+?)(?:⁺|\(k\+1\))", spelling)
            if plain:
                alias("new" + canonical(plain.group(1)), symbol)
                alias(canonical(plain.group(1)), symbol)
    found = {key: next(iter(owners)) for key, owners in aliases.items() if len(owners) == 1}
    found.update((canonical(symbol), symbol) for symbol in symbols)  # its own spelling wins
    return found
