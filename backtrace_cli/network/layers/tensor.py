"""What the layers of a `model:` share: how a tensor's entries are named in the trace, the one
sample's values every layer's rows read (`ModelView`), and a row written from its pieces.

Names: the model's input is `x`; layer N's output `yN`, its δ (−∂E/∂yN, the lecture's sign)
`δN`, its parameters `wN` and `bN` (torch's `N.weight`, `N.bias`); an entry carries its index
as torch does, `y0[1,2]` (channel 1, position 2). A layer named `conv` writes `y_conv[1,2]`.
A layer that only reshapes (flatten) names its output by its input's names. In a textbook's
notation each kind's `Letters` say what its quantities are, and `model_notation` renames them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from ...worked import (
    MODEL_LONGEST_SUM,
    Equation,
    Formula,
    Operand,
    Section,
    Slip,
    elision,
    used_terms,
)

if TYPE_CHECKING:  # numpy.typing costs start-up time; annotations only
    import numpy as np
    import numpy.typing as npt

    from ..model_spec import ModelSpec

    Array = npt.NDArray[np.float64]


MAX_TERMS = 100_000  # the terms a layer's rows write in all: checked before any work is done


def too_many(outputs: int, terms: int) -> str | None:
    """What is wrong with a layer writing `outputs` rows of `terms` terms each (a convolution's
    or a pool's, from its shapes alone), or None."""
    if outputs * terms <= MAX_TERMS:
        return None
    return (
        f"would write {outputs:,} rows of {terms:,} terms; at most {MAX_TERMS:,} terms in all "
        "(a model to follow by hand)"
    )


# What the generic letters of a kind's rules name (`Letters.rules`): its output "out", its input
# "in", their δ "δout", "δin", a parameter's or its own letter (w, b, net, μ) as itself.
RULES: Mapping[str, str] = MappingProxyType(
    {"y": "out", "x": "in", "δ": "δout", "δx": "δin", "δ_y": "δout", "δ_x": "δin"}
    | {"w": "w", "b": "b"}
)
PARAMETERS: Mapping[str, str] = MappingProxyType({"weight": "w", "bias": "b"})


def one_cell(arguments: Mapping[str, Any]) -> tuple[str, ...]:
    """A layer's own heads carry no suffix (an rnn's carry its stacked layers': _l1)."""
    return ("",)


@dataclass(frozen=True, slots=True)
class Letters:
    """A tensor layer kind's names in every book (`network/model_notation.py`), beside its rows:
    what each of its quantities is, in the lecture's heads, so that each book gives it its
    letter (a net input: Nielsen's z, Hagan's n, Mazur's net) — the letters stay the books'
    own, written once (`definitions/notations`, the dense and dropout kinds' `NAMES`)."""

    output: str = "net"  # its output: "net" (a weighted input: z^l), "o" (an activation,
    # a pool's: a^l), "õ" (dropout's: its input's letter with a tilde, ã^l), "" (flatten,
    # last: its input's entries, named as they are)
    joins: str = ""  # "net": it takes the layer number of the layer below when that one's
    # output is a net (an activation: a^l = f(z^l)); "any": always (dropout); "": its own
    own: Mapping[str, str] = field(default_factory=dict)  # its own heads (the trace's letters) →
    # "net", "o" or "δ" (the book's letter for that), "õ" (o's with a tilde: ã^l), or "=μ"
    # (kept: μ^l), "=Σ{δ}" (the book's δ letter spliced in: Hagan's Σs^m). A head with δ in
    # it carries δ's sign.
    # its state-dict keys' starts → the trace's letters (weight → w; an rnn's weight_ih → w_ih)
    parameters: Mapping[str, str] = field(default_factory=lambda: PARAMETERS)
    rules: Mapping[str, str] = field(default_factory=lambda: RULES)  # its rules' letters
    cells: Callable[[Mapping[str, Any]], tuple[str, ...]] = one_cell  # its heads' suffixes


NET = Letters()  # a layer whose output is a weighted input (linear, a convolution)
POOLED = Letters(output="o")  # a pool: its output an activation of a layer of its own
RENAMES = Letters(output="")  # flatten, last: its input's entries, as they are named


def head(letter: str, layer: str) -> str:
    """`w` of layer "0" → "w0"; of layer "conv" → "w_conv"."""
    return f"{letter}{layer}" if layer.isdigit() else f"{letter}_{layer}"


def entry(name: str, index: Sequence[int]) -> str:
    """ "y0", (1, 2) → "y0[1,2]"."""
    return f"{name}[{','.join(str(i) for i in index)}]"


@dataclass(frozen=True, slots=True)
class ModelView:
    """One sample's pass through a model, as its rows read it: for layer p, its input
    `inputs[p]`, its output `outputs[p]`, the δ of its output `deltas[p]` and of its input
    `sent[p]` (None for the first layer), its gradients −∂E/∂θ by parameter. A layer that
    works over the batch (`BATCH`, batch norm) also reads `batch[p]`, what its backward
    recorded for every sample together, and which sample this is (`sample`, from 0, its place
    in the batch). A row naming another sample's values names it by its number in the config
    (`number`: a shuffled epoch takes them in another order)."""

    spec: ModelSpec
    layers: tuple[Any, ...]  # the built layers, bottom up
    inputs: tuple[Array, ...]
    outputs: tuple[Array, ...]
    deltas: tuple[Array, ...]
    sent: tuple[Array | None, ...]
    gradients: tuple[dict[str, Array], ...]
    caches: tuple[Any, ...] = ()  # per layer: what its forward and backward kept (an rnn's net)
    sample: int = 0
    batch: tuple[Any, ...] = ()  # per layer: a batch layer's record, None for the others
    numbers: tuple[int, ...] = ()  # each place's sample number in the config (none: 1, 2, …)
    # per layer, its gradients −∂E/∂θ before they are carried (`gradients`: carried): sums of
    # products of carried values, as its rows write them; a batch's are carried once, summed
    terms: tuple[dict[str, Array], ...] = ()

    def number(self, place: int | None = None) -> int:
        """The config's number (from 1) of the sample at `place` in the batch (None: this
        one's): x[0,1]⁽2⁾ is sample 2's."""
        at = self.sample if place is None else place
        return self.numbers[at] if self.numbers else at + 1

    def name(self, p: int) -> Callable[[tuple[int, ...]], str]:
        """The names of layer p's output entries (p = −1: the model's input x)."""
        if p < 0:
            return lambda index: entry("x", index)
        layer = self.layers[p]
        if getattr(layer, "renames", False):  # flatten, last: its input's entries
            below, shape = self.name(p - 1), self.spec.layers[p].shape_in
            source = getattr(layer, "source", _flat)
            return lambda index: below(source(index, shape))
        if hasattr(layer, "output_names"):  # its own: an rnn's states, h0[t,j], h0_l1[t,j]
            return layer.output_names(self.spec.layers[p].name)
        own = head("y", self.spec.layers[p].name)
        return lambda index: entry(own, index)

    def delta(self, p: int) -> Callable[[tuple[int, ...]], str]:
        """The names of the δ of layer p's output entries (−∂E/∂y)."""
        if p < 0:
            return lambda index: entry("δx", index)
        layer = self.layers[p]
        if getattr(layer, "renames", False):
            below, shape = self.delta(p - 1), self.spec.layers[p].shape_in
            source = getattr(layer, "source", _flat)
            return lambda index: below(source(index, shape))
        own = head("δ", self.spec.layers[p].name)
        return lambda index: entry(own, index)

    def parameter(self, p: int, letter: str) -> Callable[[tuple[int, ...]], str]:
        own = head(letter, self.spec.layers[p].name)
        return lambda index: entry(own, index)


def weight_and_bias(layer: Any) -> dict[str, Array]:
    """A layer's parameters by key: its weight, and its bias where it has one (linear's,
    a convolution's)."""
    if layer.bias is None:
        return {"weight": layer.weight}
    return {"weight": layer.weight, "bias": layer.bias}


def _flat(index: tuple[int, ...], shape: tuple[int, ...]) -> tuple[int, ...]:
    """Flatten's: output entry (n,) is the input's n-th entry, read row by row."""
    return _unravel(index[0], shape)


def tagged(piece: Any, sample: int) -> Any:
    """A row piece's operand named as sample `sample`'s (from 1): x[0,1] → x[0,1]⁽2⁾; text as
    it is. A row over the batch names every sample's values so, as the batch's gradients do."""
    return piece if isinstance(piece, str) else (f"{piece[0]}⁽{sample}⁾", piece[1])


def _unravel(flat: int, shape: tuple[int, ...]) -> tuple[int, ...]:
    out = []
    for size in reversed(shape):
        out.append(flat % size)
        flat //= size
    return tuple(reversed(out))


Pieces = Sequence[str | tuple[str, float]]


def row(
    symbol: str,
    pieces: Pieces,
    value: float,
    note: str = "",
    latex: Pieces | None = None,
    slips: Sequence[tuple[str, Pieces]] = (),
) -> Equation:
    """A row from its formula's pieces: text, or an operand (name, value). Written as the
    graph's template rows are, so every renderer and marking read it as structure.

    `slips`: the row's named slips, (name, the pieces a student who makes it writes), pieces
    as the row's own; carried on the row for marking alone (`Equation.slips`) — the model's
    `complete` makes them `Line.slips` — and never rendered.

    A row holding a long sum (`joined`) also holds itself as a page writes it without
    --full, `Equation.elided`: the sum's middle terms left out, as a layered network's are."""
    operands: list[Operand] = []
    text: list[str] = []
    slots: dict[str, str] = {}
    for piece in pieces:
        if isinstance(piece, str):
            text.append(piece)
            continue
        name, number = piece
        if name not in slots:
            slots[name] = f"s{len(slots)}"
            operands.append(Operand(name, float(number), slot=slots[name]))
        text.append("{" + slots[name] + "}")
    template = "".join(text)
    tex = (
        template
        if latex is None
        else "".join(p if isinstance(p, str) else "{" + slots[p[0]] + "}" for p in latex)
    )
    tex = tex.replace("·", " \\cdot ").replace("−", "-").replace("ln ", "\\ln ")
    tex = tex.replace("½", "\\tfrac{1}{2}")  # half_sse's E: KaTeX has no ½
    formula = Formula("template", tuple(operands), template=(template, tex))
    by_slot = {o.slot: o.name for o in operands}
    filled = "".join(
        p if isinstance(p, str) else "{" + str(by_slot[slots[p[0]]]) + "}" for p in pieces
    )
    named = tuple((o.name, o.value) for o in operands if o.name is not None)
    elided = None
    sums = _separators(pieces)
    shown = _elided(pieces, sums, latex=False)
    if len(shown) < len(pieces):  # a long sum: the row as the page writes it, too
        written = (
            _elided(pieces, sums, latex=True)
            if latex is None
            else _elided(latex, _separators(latex), latex=True)
        )
        elided = row(symbol, shown, value, note, latex=written)
    return Equation(
        symbol,
        filled,
        named,
        float(value),
        note=note,
        structure=formula,
        slips=tuple(slip(name, written) for name, written in slips),
        elided=elided,
    )


def _separators(pieces: Pieces) -> dict[int, list[int]]:
    """Where each sum's " + " are in the pieces, by the sum (equal, not the same: `joined`)."""
    out: dict[int, list[int]] = {}
    for n, piece in enumerate(pieces):
        if piece.__class__ is Plus:
            out.setdefault(id(piece), []).append(n)
    return out


def _elided(pieces: Pieces, at: dict[int, list[int]], latex: bool) -> Pieces:
    """The pieces with each sum of more than MODEL_LONGEST_SUM terms cut (`worked.used_terms`):
    its first terms, `… (n terms)` and its last. A sum inside a term left out goes with it.
    `at`: each sum's separators (`_separators`); the pieces themselves where no sum is long."""
    cuts = []
    for separators in at.values():
        count = len(separators) + 1
        first = len(used_terms(count, False, MODEL_LONGEST_SUM)) - 1  # before the "…"
        if first < count - 1:
            words = pieces[separators[0]].words  # type: ignore[union-attr]
            cuts.append((separators[first - 1], separators[-1] + 1, words))
    if not cuts:
        return pieces
    kept: list[tuple[int, int, str]] = []
    for cut in sorted(cuts):  # a sum's cut inside another's goes with it
        if not kept or cut[0] >= kept[-1][1]:
            kept.append(cut)
    out = list(pieces)
    for start, stop, words in reversed(kept):
        out[start:stop] = [elision(len(at[id(pieces[start])]) + 1, words, latex)]
    return out


def as_written(section: Section, full: bool) -> Section:
    """A section as the trace writes it: with `full` every term of every row; without, each
    row that holds a long sum as its `elided` form (a layered network's rule)."""

    def written(r: Equation | Any) -> Any:
        if not isinstance(r, Equation) or r.elided is None:
            return r
        return replace(r, elided=None) if full else r.elided

    if not any(isinstance(r, Equation) and r.elided is not None for r in section.rows):
        return section
    return replace(section, rows=tuple(written(r) for r in section.rows))


def slip(name: str, pieces: Pieces) -> Slip:
    """A named slip from its pieces: its formula over its operands' names, their values."""
    text = "".join(p if isinstance(p, str) else "{" + p[0] + "}" for p in pieces)
    operands = dict((p[0], float(p[1])) for p in pieces if not isinstance(p, str))
    return Slip(name, text, tuple(operands.items()))


def slip_template(written: Slip, known: Callable[[str], bool]) -> str:
    """A slip's formula as a template over the trace's names, for `Line.slips`: an operand
    marking can look up (`known`: a line of the solution or an operand of the row) keeps its
    name, so the student's own earlier value is used; any other (a weight the row itself does
    not read) is written as its number."""
    from ...formula import Num, template

    out = written.formula
    for name, value in written.operands:
        if not known(name):
            out = out.replace("{" + name + "}", template(Num(value)))
    return out


def template_row(
    symbol: str, text: str, latex: str, slots: dict[str, tuple[str, float]], value: float
) -> Equation:
    """A row from a definition's own templates, text and LaTeX, over the same named slots
    (an optimizer's line: "{β1}·{m} + (1 − {β1})·{g}")."""
    operands = tuple(Operand(name, float(v), slot=slot) for slot, (name, v) in slots.items())
    formula = Formula("template", operands, template=(text, latex))
    filled = text
    for slot, (name, _) in slots.items():
        filled = filled.replace("{" + slot + "}", "{" + name + "}")
    named = tuple(dict((o.name, o.value) for o in operands if o.name is not None).items())
    return Equation(symbol, filled, named, float(value), structure=formula)


class Plus(str):
    """ " + " between two terms of one sum (one object for all of them: `joined`), so that
    `row` can write a long sum as a layered network's, its middle terms left out."""

    words: str  # what its terms are: "terms", a batch's "samples"

    def __new__(cls, words: str = "terms") -> Plus:
        plus = super().__new__(cls, " + ")
        plus.words = words
        return plus


def joined(terms: Iterable[Pieces], words: str = "terms") -> list[Any]:
    """Terms, each its pieces, as one sum's row pieces: a + b + … (none: no pieces)."""
    plus = Plus(words)
    pieces: list[Any] = []
    for n, term in enumerate(terms):
        if n:
            pieces.append(plus)
        pieces.extend(term)
    return pieces


def products(pairs: Sequence[tuple[tuple[str, float], tuple[str, float]]]) -> list[Any]:
    """a·b + c·d + … as row pieces; "0" for none."""
    return joined([a, "·", b] for a, b in pairs) or ["0"]


def summed(terms: Sequence[tuple[str, float]]) -> list[Any]:
    """a + b + … as row pieces; "0" for none."""
    return joined([term] for term in terms) or ["0"]


def shared(terms: Sequence[tuple[str, float]], count: int) -> list[Any]:
    """(a + b + …)/count as row pieces: a/count for one term, the sum alone for a count of
    1, "0" for none (an average pool's mean and δ, a max pool's δ averaged by slip)."""
    if not terms or count == 1:
        return summed(terms)
    return [*summed(terms), f"/{count}"] if len(terms) == 1 else ["(", *summed(terms), f")/{count}"]


def negated(pieces: list[Any]) -> list[Any]:
    """−(…) around pieces (−a for one operand)."""
    return ["−", *pieces] if len(pieces) == 1 else ["−(", *pieces, ")"]


def template_pieces(template: str, slots: dict[str, tuple[str, float]]) -> list[Any]:
    """A definition's template ("{o}(1 − {o})") as row pieces, its slots filled."""
    out: list[Any] = []
    for n, part in enumerate(template.replace("{", "\0").replace("}", "\0").split("\0")):
        if n % 2:
            out.append(slots[part])
        elif part:
            out.append(part)
    return out
