"""The lecture's unit numbering: units 1…n across the whole network, inputs first.

`w13` is the weight from unit 1 to unit 3; past unit 9 the two numbers are separated by an
underscore (`w9_12`). In a layer matrix, row = unit of this layer, column = unit before.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from functools import lru_cache


@dataclass(frozen=True, slots=True)
class Numbering:
    """Global unit numbers of a layered network."""

    layers: tuple[int, ...]  # units per layer, inputs first
    firsts: tuple[int, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # each layer's first unit, summed once: a wide layer asks for 200,000 unit numbers
        object.__setattr__(self, "firsts", tuple(itertools.accumulate(self.layers, initial=1)))

    def first(self, layer: int) -> int:
        """Number of the first unit of `layer` (0 = inputs)."""
        return self.firsts[layer]

    def unit(self, layer: int, index: int) -> int:
        """Global number of unit `index` (0-based) of `layer`."""
        return self.first(layer) + index

    def locate(self, unit: int) -> tuple[int, int] | None:
        """(layer, index) of a global unit number, or None when there is no such unit."""
        start = 1
        for layer, width in enumerate(self.layers):
            if start <= unit < start + width:
                return layer, unit - start
            start += width
        return None

    @property
    def total(self) -> int:
        return sum(self.layers)


def pair(i: int, j: int) -> str:
    """The subscript of a connection: `13`, or `9_12` once a number has two digits."""
    return f"{i}{j}" if i < 10 and j < 10 else f"{i}_{j}"


def weight_name(i: int, j: int) -> str:
    return "w" + pair(i, j)


_WEIGHT = re.compile(r"w(?:(\d+)_(\d+)|(\d)(\d))")
_BIAS = re.compile(r"b(\d+)")


def parse_weight(name: str) -> tuple[int, int] | None:
    """`w13` → (1, 3); `w9_12` → (9, 12); anything else → None."""
    m = _WEIGHT.fullmatch(name)
    if not m:
        return None
    a, b, c, d = m.groups()
    return (int(a), int(b)) if a is not None else (int(c), int(d))


def parse_bias(name: str) -> int | None:
    """`b3` → 3; anything else → None."""
    m = _BIAS.fullmatch(name)
    return int(m.group(1)) if m else None


# ---------------------------------------------------------------- answer names
# One mapping between the trace's symbols and the names answers files and JSON reports use:
# δ3 ↔ delta3, Δw45 ↔ dw45, Δb3 ↔ db3, new w45 ↔ w45, new b3 ↔ b3; the rest as printed.
_TO_NAME = (("new ", ""), ("Δ", "d"), ("δ", "delta"), ("e^net", "exp"), ("Σe^net", "sumexp"))
_QUANTITY = r"(delta|δ|dw|Δw|db|Δb|w|b|net|o|e|õ|x̃)(\d+(?:_\d+)?)"  # compiled on first use
_SYMBOL_HEADS = {"delta": "δ", "δ": "δ", "dw": "Δw", "Δw": "Δw", "db": "Δb", "Δb": "Δb"}


def answer_name(symbol: str) -> str:
    """The name an answers file (and a check report) uses for a trace symbol: δ5 → delta5."""
    for prefix, name in _TO_NAME:
        if symbol.startswith(prefix):
            return name + symbol[len(prefix) :]
    return symbol


# a gradient in ASCII, as a graph's df/dx: dE/dw36 (and do5/dnet5, the chain rule's factors)
PARTIAL = r"[d∂](\w+)/[d∂](\w+)"
# what E has a gradient with respect to, in the shorter spellings dEdw36 and grad_w36
_OF_E = r"(?:w|b|o|net)\d+(?:_\d+)?"
_ASCII = (("∂", "d"), ("m̂", "mhat"), ("v̂", "vhat"), ("ḡ", "gbar"))


def gradient(name: str) -> str | None:
    """A gradient's symbol, ∂E/∂w36, from any spelling of it: ∂E/∂w36, dE/dw36, dEdw36,
    grad_w36 (the same for b, o, net); dA/dB is ∂A/∂B. None when `name` is no gradient."""
    partial = re.fullmatch(PARTIAL, name)
    if partial:
        return f"∂{partial.group(1)}/∂{partial.group(2)}"
    short = re.fullmatch(rf"(?:dEd|grad_)({_OF_E})", name)
    return f"∂E/∂{short.group(1)}" if short else None


def ascii_name(symbol: str) -> str:
    """The spelling of a symbol an answers file can type on any keyboard: δ5 → delta5,
    m̂_w36 → mhat_w36, ∂E/∂w36 → dE/dw36 (`symbol_of` reads each back)."""
    return ascii_spelling(answer_name(symbol))


def ascii_spelling(text: str) -> str:
    """`text` with the trace's letters a keyboard lacks spelt out: ∂ → d, m̂ → mhat, v̂ → vhat,
    ḡ → gbar (a graph's names too: ∂f/∂x → df/dx, m̂_theta → mhat_theta)."""
    for unicode, ascii in _ASCII:
        text = text.replace(unicode, ascii)
    return text


def symbol_of(name: str) -> str | None:
    """The trace symbol an answers file's name stands for: delta5/δ5 → δ5, dw45/Δw45 → Δw45,
    w45/new w45 → new w45 (the updated weight), net3, o3, e5, E, dE/dw36 → ∂E/∂w36 (`gradient`);
    None for anything else."""
    name = name.strip()
    if name == "E":
        return name
    partial = gradient(name)
    if partial:  # ∂ factors as the trace writes them, or in ASCII
        return partial
    state = re.fullmatch(r"(?:new )?(m|v|s|g|mhat|vhat|m̂|v̂)_([wb]\d+(?:_\d+)?)", name)
    if state:  # an optimizer's: m_w45 is the new m of w45, mhat_w45 its m̂
        head, param = state.groups()
        head = {"mhat": "m̂", "vhat": "v̂"}.get(head, head)
        return f"{head}_{param}" if head in ("g", "m̂", "v̂") else f"new {head}_{param}"
    softmax = re.fullmatch(r"(?:exp|e\^net)(\d+(?:_\d+)?)", name)
    if softmax:  # softmax's numerator e^net6, and the denominator
        return f"e^net{softmax.group(1)}"
    if name in ("sumexp", "Σe^net"):
        return "Σe^net"
    if name in ("ḡ", "gbar", "g_bar"):  # softmax's Jacobian the long way: ḡ = Σ_k g_k·o_k
        return "ḡ"
    jacobian = re.fullmatch(r"g(\d+(?:_\d+)?)", name)
    if jacobian:  # g6 = −∂E/∂o6
        return name
    if name.startswith("new "):
        name = name[4:].strip()
        if not re.fullmatch(r"[wb]\d+(?:_\d+)?", name):
            return None
    match = re.fullmatch(_QUANTITY, name)
    if not match:
        return None
    head, index = match.groups()
    if head in ("w", "b"):
        return f"new {head}{index}"
    return _SYMBOL_HEADS.get(head, head) + index


# ---------------------------------------------------------------- what each name means
_INDEX = r"(\d+(?:_\d+)?)"
_MEANINGS = (  # (pattern, words): `#` stands for a unit's index
    ("net#", "net input of unit {0}"),
    ("o#", "output of unit {0}"),
    ("õ#", "output of unit {0} after dropout"),
    ("x̃#", "input {0} after dropout"),
    ("e#", "error of output unit {0}: t{0} − o{0}"),
    ("E", "the loss"),
    ("δ#", "error term δ of unit {0}"),
    ("Δw#", "change of weight w{0}"),
    ("new w#", "weight w{0} after the update"),
    ("Δb#", "change of bias b{0}"),
    ("new b#", "bias b{0} after the update"),
    (r"e\^net#", "softmax's numerator of o{0}"),
    (r"Σe\^net", "softmax's denominator: Σ e^net over the output layer"),
    ("g#", "−∂E/∂o{0}, in softmax's Jacobian"),
    ("ḡ", "Σ_k g_k·o_k, in softmax's Jacobian"),
    (r"∂([^/]+)/∂(\S+)", "gradient of {0} with respect to {1}"),  # a book's too: ∂C/∂a^3_1
)


@lru_cache(maxsize=1)
def _meanings() -> tuple[tuple[re.Pattern[str], str], ...]:
    """The patterns compiled on first use: `run` in the terminal names no meanings (start-up
    time)."""
    return tuple((re.compile(p.replace("#", _INDEX)), words) for p, words in _MEANINGS)


def meaning(symbol: str) -> str | None:
    """What a lecture symbol stands for, in words: o3 → "output of unit 3"; None for a
    quantity these words do not name (an optimizer's state: its formula says it)."""
    for pattern, words in _meanings():
        match = pattern.fullmatch(symbol)
        if match:
            return words.format(*match.groups())
    return None
