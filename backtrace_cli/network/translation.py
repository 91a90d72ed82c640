"""A textbook's notation applied to a traced network: the same numbers under the book's names.

A book (`notations`) says how it writes a quantity and which sign its δ has, each layer kind
(`layers.KINDS`) which letter its quantities take in the book (`Names`); a `Translation` renames
a network's symbols, rows and sections in it and, where the book's δ is +∂E/∂net (Nielsen's,
Hagan's, Mazur's), flips the sign of δ and rewrites the formulas that carry it. Which layer a
section is about it reads from the section (`layer`, `parameter`), never from its title. The
numbers are the engine's: only their names, signs and formulas change.
"""

from __future__ import annotations

import re
from dataclasses import replace
from functools import cache
from typing import TYPE_CHECKING, NamedTuple

from ..definitions import notation
from ..definitions.notations import DEFAULT, Book, Generic, Place, get
from .layers import KINDS
from .rows import SIGN_CONVENTION, Equation, Section, Step, layer_kind, sign_convention, update_rule

if TYPE_CHECKING:
    from .config import Spec


def translation(spec: Spec, book: str | None = None) -> Translation:
    """The spec's notation (or `book`): a Translation of its network."""
    return Translation(get(book or spec.notation), spec)


# ---------------------------------------------------------------- names

# The network's own quantities, which each book names itself (`Book.quantity`): inputs, targets,
# errors; and weights and biases, which each book numbers its own way (`Book.weight`, `.bias`).
_OWN = ("x", "t", "e", "w", "b")


class _Tables(NamedTuple):
    """A book's names of the network's quantities: its own, and each layer kind's."""

    letters: dict[str, tuple[str, bool]]  # head → (its letter, written as the inputs are)
    heads: dict[str, str]  # in rules, without an index
    generic: dict[tuple[str, str, bool], str]  # in rules: (head, index, output layer) → text


def _both(generic: Generic, last) -> dict[tuple[str, str, bool], str]:
    """Generic names for (head, index, output layer): those for either layer (output None) in
    both, the output layer's as the book writes its last layer; then those given for one."""
    found = {}
    for (head, index, output), text in generic.items():
        if output is None:
            found[head, index, False] = text
            found[head, index, True] = last(text)
    found.update((key, text) for key, text in generic.items() if key[2] is not None)
    return found


@cache
def _tables(name: str) -> _Tables:
    """The book's own names, then each layer kind's in it (`Names`); a kind that does not name
    its quantities in the book leaves them to `Book.quantity`."""
    book = get(name)
    letters: dict[str, tuple[str, bool]] = {}
    heads, generic = dict(book.heads), _both(book.generic, book.last)
    for kind in KINDS.values():
        names = kind.NAMES.get(name)
        if names is None:
            continue
        letters.update((head, (letter, False)) for head, letter in names.units.items())
        letters.update((head, (letter, True)) for head, letter in names.inputs.items())
        heads.update(names.heads)
        generic.update(_both(names.generic, book.last))
    return _Tables(letters, heads, generic)


def letters(name: str) -> dict[str, str]:
    """Each lecture head's letter in the book, as the layer kinds name it (net → z, o → a,
    δ → δ in Nielsen's): the letters a model's tensor layers take (`model_notation`)."""
    return {head: letter for head, (letter, _) in _tables(name).letters.items()}


def _heads(*more: str) -> str:
    """Every quantity's lecture head (the network's and each kind's), longest first: net, x̃, o."""
    found = {*_OWN, *more}
    for kind in KINDS.values():
        for names in kind.NAMES.values():
            found.update(names.units, names.inputs)
    return "|".join(re.escape(head) for head in sorted(found, key=lambda h: (-len(h), h)))


# The patterns compile on first use: the lecture's own notation renames nothing (start-up time).
@cache
def _atom() -> re.Pattern[str]:
    return re.compile(
        r"Σe\^net"
        r"|e\^net(?P<numerator>\d+(?:_\d+)?)"
        r"|new (?P<new>[wb]\d+(?:_\d+)?)"
        r"|(?<![A-Za-z])(?P<loss>E)(?![A-Za-z])"
        r"|(?P<rate>η)"
        rf"|(?<![A-Za-z])(?P<head>{_heads()})(?P<number>\d+(?:_\d+)?)(?![\d])"
    )


_UNITS = r"\b(units?) (\d+(?:, \d+)*)(?![\d–])"
_FLIPPED = r"(?:δ|g)\d+(?:_\d+)?(?:⁽\d+⁾)?|ḡ"


class Translation:
    """A book applied to one network: lecture symbols, formulas and sections → the book's."""

    def __init__(self, book: Book, spec: Spec) -> None:
        self.book = book
        self.spec = spec
        self.layers = spec.layers
        self.numbering = spec.numbering
        fixed = spec.biases is not None and not spec.train_biases
        self.shared = tuple(  # per layer: one fixed bias for all its units (Mazur's b1, b2)
            fixed and b is not None and bool((b == b[0]).all()) for b in (spec.biases or ())
        )
        self._symbols: dict[str, str] = {}
        self.names = _tables(book.name)

    @property
    def identity(self) -> bool:
        return self.book.name == DEFAULT

    def place(self, unit: int) -> Place | None:
        found = self.numbering.locate(unit)
        return None if found is None else Place(found[0], found[1], self.layers)

    def _weight(self, number: str) -> str | None:
        pair = notation.parse_weight("w" + number)
        if pair is None:
            return None
        source, target = self.place(pair[0]), self.place(pair[1])
        if source is None or target is None or target.layer != source.layer + 1:
            return None
        before = sum(a * b for a, b in zip(self.layers[: target.layer - 1], self.layers[1:]))
        n = before + target.index * self.layers[source.layer] + source.index + 1
        return self.book.weight(source, target, n)

    def _atom(self, head: str, number: str) -> str | None:
        if head == "w":
            return self._weight(number)
        if "_" in number:
            return None
        unit = int(number)
        place = self.place(unit)
        if place is None:
            return None
        if head == "b":
            shared = place.layer >= 1 and self.shared[place.layer - 1] if self.shared else False
            return self.book.bias(place, shared)
        return self.quantity(head, place)

    def quantity(self, head: str, place: Place) -> str:
        """A unit's quantity in the book: the network's own, or in the letter its layer kind
        gives it (`Names`), written in the book's style."""
        found = self.names.letters.get(head)
        if found is None or self.book.symbol is None or self.book.plain is None:
            return self.book.quantity(head, place)
        letter, plain = found
        return (self.book.plain if plain else self.book.symbol)(letter, place)

    def _sub(self, match: re.Match[str]) -> str:
        text = match.group(0)
        if text == "Σe^net":
            return self.book.softmax_sum
        if match.group("numerator"):
            net = self._atom("net", match.group("numerator"))
            return text if net is None else f"e^({net})"
        if match.group("new"):
            name = match.group("new")
            old = self._atom(name[0], name[1:])
            return text if old is None else self.book.new(old)
        if match.group("loss"):
            return self.book.loss
        if match.group("rate"):
            return self.book.rate
        found = self._atom(match.group("head"), match.group("number"))
        return text if found is None else found

    def symbol(self, lecture: str) -> str:
        """A trace symbol in the book: δ5 → δ^3_1, new w35 → w5⁺, ∂E/∂o5 → ∂C/∂a^3_1."""
        if self.identity:
            return lecture
        found = self._symbols.get(lecture)
        if found is None:
            found = self._symbols[lecture] = _atom().sub(self._sub, lecture)
        return found

    def flipped(self, lecture: str) -> bool:
        """Whether the book's value of this lecture quantity has the opposite sign."""
        return self.book.flips and re.fullmatch(_FLIPPED, lecture) is not None

    def sign(self, lecture: str) -> float:
        return -1.0 if self.flipped(lecture) else 1.0

    def signed_template(self, lecture: str, row_symbol: str) -> str:
        """A lecture template (a mistake's rewrite, say) evaluated in the book's numbers: every
        flipped operand negated back, and the result negated if the row's value is flipped."""
        if self.identity:
            return lecture

        def slot(match: re.Match[str]) -> str:
            name = match.group(1)
            renamed = "{" + self.symbol(name) + "}"
            return f"(−{renamed})" if self.flipped(name) else renamed

        out = re.sub(r"\{([^{}]+)\}", slot, lecture)
        return f"−({out})" if self.flipped(row_symbol) else out

    # ------------------------------------------------------------ equations and sections

    def equation(self, row: Equation, gradient: Equation | None = None) -> Equation:
        """A lecture equation in the book: symbols renamed, flipped values negated, and the
        formulas that carry δ's sign rewritten so that they still evaluate to the value.
        `gradient`: the ∂E/∂w row just before a Δw row (books that update from it)."""
        if self.identity:
            return row
        formula, working, note = row.formula, row.working, row.note
        symbol = row.symbol
        if self.book.flips:
            formula, working, note = _flip_formula(symbol, formula, working, note)
        operands = row.operands
        for pattern, book in self.book.formulas:  # the book's own way of writing the row
            found = re.sub(pattern, book, formula)
            if found != formula:  # its operands in the order it writes them: a^3_1, then y_1
                formula = found
                slots = [formula.find("{" + name + "}") for name, _ in operands]
                order = sorted(range(len(operands)), key=lambda n: (slots[n] < 0, slots[n]))
                operands = tuple(operands[n] for n in order)
            working = None if working is None else re.sub(pattern, book, working)
        if self.book.gradient_update and gradient is not None and symbol.startswith("new "):
            # Mazur: w5⁺ = w5 − η·∂E_total/∂w5
            old = symbol[4:]
            eta = self.spec.learning_rate
            formula = f"{{{old}}} − {{η}}·{{{gradient.symbol}}}"
            operands = ((old, row.values()[old]), ("η", eta), (gradient.symbol, gradient.value))
            working = None
        return replace(
            row,
            symbol=self.symbol(symbol),
            formula=self.symbol(formula),  # slots and the text between them
            operands=tuple(
                (self.symbol(name), value * self.sign(name)) for name, value in operands
            ),
            value=row.value * self.sign(symbol),
            working=None if working is None else self.symbol(working),
            note=self.text(note),
            latex=self.symbol(row.latex) if row.latex else "",
            origin=row,
            # a book that writes the chain rule for every weight (Mazur's) works its factors
            # as steps of their own: questions of the step, not the lecture's explanations
            factor=row.factor and not self.book.gradients,
        )

    def text(self, prose: str) -> str:
        """Free text (a note, a title) with the trace's symbols renamed, and the lecture's unit
        numbers ("unit 4", "units 3, 4") as the book names units."""
        if self.identity or not prose:
            return prose
        return re.sub(_UNITS, self._units, _atom().sub(self._sub, prose))

    def _units(self, match: re.Match[str]) -> str:
        names = []
        for number in re.findall(r"\d+", match.group(2)):
            place = self.place(int(number))
            if place is None:
                return match.group(0)
            if self.book.unit is not None:
                names.append(self.book.unit(place))
            else:
                names.append(self.quantity("x" if place.layer == 0 else "o", place))
        return f"{match.group(1)} {', '.join(names)}"

    def rule(self, text: str, output: bool, flip: bool = True) -> str:
        """A section's general rule (net_j = Σ_i w_ij·o_i, …) in the book's letters; `flip`:
        rewrite what carries δ's sign (δ and update rules)."""
        if self.identity or not text:
            return text
        text = re.sub(r"e\^net_([a-z])", r"e^(net_\1)", text)  # e^(z^L_k): the exponent whole
        for lecture, book in self.book.phrases:
            text = text.replace(lecture, book)
        if self.book.flips and flip:
            text = _flip_rule(text)

        def generic(match: re.Match[str]) -> str:
            head, index = match.group("head"), match.group("index")
            found = self.names.heads.get(head, head) + (index or "")
            if index:
                found = self.names.generic.get((head, index[1:], output), found)
            return self.book.new(found) if match.group("new") else found

        text = _generic().sub(generic, text)
        for pattern, book in self.book.named:  # the book's own form and name: … (BP4)
            text = re.sub(pattern, book, text)
        return text

    def section(self, section: Section) -> Section:
        """A section in the book: its rows, rule, note and title (its layer labelled as the book
        numbers layers)."""
        last = len(self.layers) - 1
        output = section.layer == last or section.kind == "error"
        rows = []
        folded: Equation | None = None  # a ∂E/∂w row whose Δw row was left out
        any_folded = False
        previous: Equation | None = None
        for row in section.rows:
            if not hasattr(row, "symbol"):
                rows.append(row)
                continue
            if (
                self.book.gradient_update
                and previous is not None
                and row.symbol.startswith("Δ")
                and previous.symbol == f"∂E/∂{row.symbol[1:]}"
            ):
                folded = previous  # Δw5 is folded into w5⁺ = w5 − η·∂E_total/∂w5
                any_folded = True
                continue
            rows.append(self.equation(row, folded))
            folded, previous = None, row
        rows = _delta_from_factors(rows) if self.book.delta_from_factors else rows
        flip = section.kind in ("delta", "update")
        rule = section.rule
        if section.rule_latex:  # an optimizer's: only its gradient part is the network's
            head, sep, tail = rule.partition(",  g = ")
            gradient, comma, lines = tail.partition(",  ")  # ∂E/∂w, then the optimizer's lines
            # its lines' own letters stay (β1^t's t is the step count), but for the book's rate
            lines = lines.replace("η", self.book.rate)
            rule = self.rule(head, output, flip) + sep + self.rule(gradient, output, False)
            rule += comma + lines
            section = replace(section, rule_latex=latex_rule(self.book, section.rule_latex))
        else:
            rule = self.rule(rule, output, flip)
        if any_folded:  # the update the folded rows make, in the book's words
            p = "b_j" if section.parameter == "bias" else "w_ij"
            rule += ",  " + self.rule(f"new {p} = {p} − η·∂E/∂{p}", output, flip=False)
        note = _flip_rule(section.note) if self.book.flips else section.note
        return replace(
            section,
            title=self._title(section),
            rule=rule,
            rows=tuple(rows),
            note=self.text(note),
        )

    def _title(self, section: Section) -> str:
        """ "δ · hidden layer 1 (sigmoid)" → "δ^l · hidden layer 1, l = 2 (sigmoid)": the layer
        the section is about (`Section.layer`) labelled as the book numbers layers."""
        title = section.title
        if section.kind == "delta":
            title = re.sub(r"^δ(?= ·)", self.names.heads.get("δ", "δ"), title)
        k = section.layer
        if k:
            extra = self.book.layer_label(k, len(self.layers) - 1)
            if extra:
                where = layer_kind(self.spec, k)
                title = title.replace(where, f"{where}, {extra}", 1)
        return title

    def step(self, step: Step) -> Step:
        sections = tuple(
            self.section(section) for section in step.sections if not self._shared_biases(section)
        )
        return replace(step, sections=sections)

    def _shared_biases(self, section: Section) -> bool:
        """A fixed bias the book names once per layer (Mazur's b1): no update rows per unit."""
        if section.parameter != "bias" or not self.shared or not section.layer:
            return False
        return self.shared[section.layer - 1]

    def conventions(self, notes: tuple[str, ...]) -> tuple[str, ...]:
        out = []
        for note in notes:
            if note == SIGN_CONVENTION:
                out.append(self.book.convention)
            elif note == sign_convention(self.spec):  # another optimizer's update replaces
                # the plain step the book's convention writes; its own symbols are the book's too
                rule = update_rule(self.spec, lambda text: self.rule(text, True, flip=False))
                rule = rule.replace("η", self.book.rate)  # its lines' letters are its own
                out.append(f"{self.book.convention}; instead of that plain step, {rule}")
            else:
                out.append(self.rule(note, True, flip=False))
        return tuple(out)


def latex_rule(book: Book, latex: str) -> str:
    """An optimizer's rule in LaTeX with the book's loss in g = ∂E/∂w and its rate (a
    network's and a model's update section)."""
    loss, rate = book.loss, book.rate
    name, _, sub = loss.partition("_")  # Mazur's E_total
    loss_latex = f"{name}_{{\\mathit{{{sub}}}}}" if sub else name
    latex = latex.replace("\\partial E}", f"\\partial {loss_latex}}}")
    return latex.replace("\\eta", book.latex.get(rate, "\\eta"))


# lecture rules that carry δ's sign, as a book with δ = +∂E/∂net writes them
_FLIPPED_RULES = (
    ("δ = −∂E/∂o · ∂o/∂net", "δ = ∂E/∂o · ∂o/∂net"),
    ("(t − o)", "(o − t)"),
    ("δ_k = t_k − o_k", "δ_k = o_k − t_k"),
    ("g = −∂E/∂o", "g = ∂E/∂o"),
    ("Δw_ij = η·δ_j·", "Δw_ij = −η·δ_j·"),
    ("= −δ_j·", "= δ_j·"),
    ("= −o_i·δ_j", "= o_i·δ_j"),  # a book's ∂E/∂w = o_i·δ_j (Nielsen's BP4)
    ("= −õ_i·δ_j", "= õ_i·δ_j"),
    ("= −(1/S)·Σₛ δ_j", "= (1/S)·Σₛ δ_j"),
    ("= −Σₛ δ_j", "= Σₛ δ_j"),
    ("Δb_j = η·δ_j", "Δb_j = −η·δ_j"),
    ("∂E/∂b_j = −δ_j", "∂E/∂b_j = δ_j"),
    ("δ_j = t_j − o_j", "δ_j = o_j − t_j"),
    ("∂E/∂o_j = −Σ_k", "∂E/∂o_j = Σ_k"),
)


def _flip_rule(text: str) -> str:
    """A rule or note of the lecture's, as a book whose δ is +∂E/∂net writes it."""
    for lecture, book in _FLIPPED_RULES:
        text = text.replace(lecture, book)
    return text


@cache
def _generic() -> re.Pattern[str]:
    """A rule's names (net_j, new w_ij), compiled on first use (start-up time)."""
    return re.compile(
        rf"(?<![A-Za-z])(?P<new>new )?(?P<head>{_heads('E', 'η')})(?P<index>_[ijk]{{1,2}})?"
        r"(?![A-Za-z])"
    )


def _flip_formula(
    symbol: str, formula: str, working: str | None, note: str
) -> tuple[str, str | None, str]:
    """A lecture row's formula where the book's δ has the opposite sign."""
    if symbol.startswith("δ"):
        swap = (r"\{(t[\d_]+)\} − \{(o[\d_]+)\}", r"{\2} − {\1}")
        formula = re.sub(*swap, formula)
        working = None if working is None else re.sub(*swap, working)
        note = re.sub(r"= (t[\d_]+) − (o[\d_]+)", r"= \2 − \1", note)
    elif symbol.startswith(("Δw", "Δb")) and formula.startswith("{η}"):
        formula = "−" + formula
        working = None if working is None else "−" + working
    elif formula.startswith("−(") and symbol.startswith("∂E/∂o") and "{δ" in formula:
        formula = formula[2:-1]  # a hidden unit's ∂E/∂o = Σ_k w_jk·δ_k, δ the gradient
    elif formula.startswith("−") and (
        (
            symbol.startswith(("∂E/∂w", "∂E/∂b", "∂E/∂o"))
            and ("{δ" in formula or not symbol.startswith("∂E/∂o"))
        )
        or re.fullmatch(r"g\d+(?:_\d+)?", symbol)
    ):
        formula = formula[1:]
        if working is not None and working.startswith("−"):
            working = working[1:]
    return formula, working, note


def _delta_from_factors(rows: list) -> list:
    """Output δ as the product of the factor rows before it: δ_o1 = ∂E/∂out_o1·∂out_o1/∂net_o1."""
    out = []
    for n, found in enumerate(rows):
        row = found
        origin = getattr(row, "origin", None)
        if (
            origin is not None
            and origin.symbol.startswith("δ")
            and n >= 2
            and getattr(rows[n - 2], "origin", None) is not None
            and rows[n - 2].origin.symbol.startswith("∂E/∂")
            and rows[n - 1].origin.symbol.startswith("∂")
        ):
            grad, slope = rows[n - 2], rows[n - 1]
            row = replace(
                row,
                formula=f"{{{grad.symbol}}}·{{{slope.symbol}}}",
                # the factors, then the δ row's own operands (what check's mistakes read)
                operands=((grad.symbol, grad.value), (slope.symbol, slope.value), *row.operands),
                working=None,
                note="",
            )
        out.append(row)
    return out
