"""A textbook's notation applied to a traced `model:` of tensor layers: the same rows under the
book's names and its δ's sign — z^2[0,1], ∂C/∂a^2[0,1], δ^2[0,1], ∂C/∂w^2[0,0,1] in Nielsen's.

Which letter a layer's quantities take is its kind's (`tensor.Letters`, beside its rows: its
output a weighted input, an activation, a dropped copy; its own heads) and the book's
(`definitions/notations`: how it writes a layer's tensor, z^2, n^1 or net_h1; its input, target,
loss and rate; the letters its kinds give a net input, an activation and δ). Each layer makes a
layer of the book's, numbered as the book numbers layers, unless it joins the one below (an
activation after a weighted input, a^l = f(z^l); a dropout). Index brackets stay torch's.

Where the book's δ is +∂E/∂(…), every quantity named with δ has its value negated. A row then
still holds with its operands negated too — every δ row is linear in the δ it reads — except
where a row's own sign and its operands' differ: an output's δ, written as the loss's own
derivative (∂C/∂a^L = (2/n)(a^L − y)), and a gradient, whose −(…) goes (∂C/∂w = δ·a). The
numbers are the engine's: only names, signs and formulas change.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import replace
from functools import lru_cache
from typing import Any, NamedTuple

from ..definitions import losses as loss_functions
from ..definitions.notations import DEFAULT, Book, get
from ..worked import Equation, Section, Slip
from .layers.model_kinds import MODEL_KINDS
from .layers.tensor import head, row, template_pieces
from .model_engine import delta_template
from .translation import latex_rule, letters

# what may stand before a name, and after it: not a letter, digit or combining mark of one
_BEFORE = r"(?<![A-Za-z0-9\u0300-\u036f])"
_AFTER = r"(?![A-Za-z0-9_\u0300-\u036f])"
_SLOT = re.compile(r"\{([^{}]+)\}")


def tilde(name: str) -> str:
    """A dropped copy's name: its first letter with a tilde (a^2 → ã^2, out_h1 → õut_h1)."""
    return unicodedata.normalize("NFC", name[0] + "\u0303" + name[1:])


class _Layer(NamedTuple):
    """One layer of the model as the book names it."""

    k: int  # its layer in the book (0: the input)
    output: str  # its output's head (flatten's, last's: its input's)
    net: bool  # that output is a weighted input: its δ is the book's δ (δ^l = ∂C/∂z^l)


def _letters(kind: str) -> Any:
    return MODEL_KINDS[kind][1].LETTERS


def book_derivative(loss: str, n: int) -> str:
    """The output's δ as a book whose δ is +∂E/∂y writes it: the loss's own ∂E/∂o, −(t − o)
    as o − t (Nielsen's BP1 for a quadratic cost: a^L − y)."""
    derivative = loss_functions.get(loss).derivative.replace("{n}", str(n))
    return "{o} − {t}" if derivative == "−({t} − {o})" else derivative


class ModelNotation:
    """A book applied to one model: torch's names (y0[1,2], δ1[0], ∂E/∂w0[0,0,1]) → the
    book's, each row's value and formula in its sign."""

    def __init__(self, book: Book, spec: Any) -> None:
        self.book, self.spec = book, spec
        self.identity = book.name == DEFAULT or book.tensor is None
        if self.identity:
            return
        self.letters = letters(book.name)  # net → z, o → a, δ → δ
        self.layers = self._layered()
        self.last = max((layer.k for layer in self.layers), default=0)
        self.heads: dict[str, str] = {}  # torch's head (y0, δ1, w_ih0_l1) → the book's
        self.delta_heads: set[str] = set()  # heads whose values carry δ's sign
        self.indexed = {"x", "t", "e"}  # the model's own: renamed only as an entry, x[0,1]
        self._named()
        names = "|".join(re.escape(h) for h in sorted(self.heads, key=lambda h: (-len(h), h)))
        self._name = re.compile(
            rf"(?P<new>new )?{_BEFORE}(?P<head>{names})(?P<index>\[[^\[\]]*\])?{_AFTER}"
            rf"|{_BEFORE}(?P<loss>E){_AFTER}|(?P<rate>η)"
        )
        signed = "|".join(re.escape(h) for h in sorted(self.delta_heads, key=lambda h: -len(h)))
        self._signed = re.compile(rf"(?:{signed})(?:\[[^\[\]]*\])?(?:⁽\d+⁾)?")

    # ------------------------------------------------------------ the book's names

    def _layered(self) -> list[_Layer]:
        """Each layer's number in the book and its output's head."""
        numbers, outputs, k, role = [], [], 0, "x"
        for layer in self.spec.layers:
            letters = _letters(layer.kind)
            if letters.output:
                joins = letters.joins == "any" or (letters.joins == "net" and role == "net")
                k, role = (k if joins else k + 1), letters.output
            numbers.append(k)
            outputs.append(role)
        last = max(numbers, default=0)
        below = self.book.tensors["x"]
        out: list[_Layer] = []
        for layer, k, role in zip(self.spec.layers, numbers, outputs):
            output = _letters(layer.kind).output
            if output == "õ":
                below = tilde(below)
            elif output:
                below = self.book.tensor(self.letters[output], k, last)  # type: ignore[misc]
            out.append(_Layer(k, below, role == "net"))
        return out

    def tensor(self, letter: str, k: int) -> str:
        """Layer k's tensor with this letter, as the book writes it (z^2, n^1, net_h1)."""
        return self.book.tensor(letter, k, self.last)  # type: ignore[misc]

    def delta(self, output: str, net: bool, k: int) -> str:
        """The δ of an output: the book's δ of a weighted input (δ^2, s^1, δ_h1), else its
        derivative (∂C/∂a^2)."""
        if net:
            return self.tensor(self.letters["δ"], k)
        return f"{'' if self.book.flips else '−'}∂{self.book.loss}/∂{output}"

    def own(self, meaning: str, k: int) -> str:
        """A kind's own head in layer k: the book's letter for "net", "o" or "δ", "õ" that of
        "o" with a tilde (an rnn's dropped state: ã^2), or its own letters ("=μ": μ^2), the
        book's δ spliced into "{δ}" (Hagan's Σs^1)."""
        if meaning.startswith("="):
            return self.tensor(meaning[1:].replace("{δ}", self.letters["δ"]), k)
        if meaning == "õ":
            return tilde(self.tensor(self.letters["o"], k))
        return self.tensor(self.letters[meaning], k)

    @property
    def _outputs(self) -> int:
        """How many entries the model's output has (the loss's n)."""
        return math.prod(self.spec.output_shape)

    def _input(self, p: int) -> _Layer:
        """What layer p reads: the layer below's output, or the model's input."""
        return self.layers[p - 1] if p else _Layer(0, self.book.tensors["x"], False)

    def _named(self) -> None:
        book, heads = self.book, self.heads
        x = book.tensors["x"]
        heads |= {"x": x, "t": book.tensors["t"], "e": book.tensors["e"]}
        heads["δx"] = self.delta(x, False, 0)
        self.delta_heads.add("δx")
        for layer, placed in zip(self.spec.layers, self.layers):
            module, kind = MODEL_KINDS[layer.kind]
            letters = kind.LETTERS
            arguments = dict(layer.arguments)
            if not letters.output:  # flatten, last: its input's names
                continue
            name, k = layer.name, placed.k
            if not hasattr(kind, "output_names"):  # an rnn's are its own (h)
                heads[head("y", name)] = placed.output
            heads[head("δ", name)] = self.delta(placed.output, placed.net, k)
            self.delta_heads.add(head("δ", name))
            for letter, meaning in letters.own.items():
                for suffix in letters.cells(arguments):
                    heads[head(letter, name) + suffix] = self.own(meaning, k) + suffix
                    if "δ" in letter:
                        self.delta_heads.add(head(letter, name) + suffix)
            own_head = getattr(module, "parameter_head", None)
            for key in module.parameter_shapes(arguments):
                letter = letters.parameters[key.partition("_l")[0]]
                torch = own_head(arguments, key, name) if own_head else head(letter, name)
                heads[torch] = self.tensor(letter, k) + torch[len(head(letter, name)) :]

    def _sub(self, match: re.Match[str]) -> str:
        if match.group("loss"):
            return self.book.loss
        if match.group("rate"):
            return self.book.rate
        found, index = match.group("head"), match.group("index") or ""
        # a name without an index (a buffer's count, num_batches_tracked1) is renamed as a
        # whole name: in prose, h0 is torch's initial state, not layer 0's states
        if not index and (found in self.indexed or match.group(0) != match.string):
            return match.group(0)
        name = self.heads[found] + index
        return self.book.new(name) if match.group("new") else name

    def symbol(self, text: str) -> str:
        """Every name in `text` in the book (a symbol, a formula's slots, a note): y0[1,2] →
        z^2[1,2], new w0[0,0,1] → w^1[0,0,1](k+1) (Hagan's), ∂E/∂b4[0] → ∂C/∂b^4[0]."""
        if self.identity or not text:
            return text
        return self._name.sub(self._sub, text)

    def signed(self, name: str) -> bool:
        """Whether a torch name's value has the opposite sign in the book: a δ of any kind
        (δ1[0], δh0[2,1], Σδ1[0], a batch's δ0[0,1]⁽2⁾), where the book's δ is +∂E/∂(…)."""
        return self.book.flips and self._signed.fullmatch(name) is not None

    # ------------------------------------------------------------ rows

    def _slots(self, template: str) -> str:
        return _SLOT.sub(lambda m: "{" + self.symbol(m.group(1)) + "}", template)

    def _operands(self, operands: Any) -> tuple[tuple[str, float], ...]:
        return tuple((self.symbol(n), _signed(v, self.signed(n))) for n, v in operands)

    def equation(self, found: Equation) -> Equation:
        """A row in the book: its names, the values of δ negated where the book's δ has the
        other sign, and its formula negated where its own sign and its operands' differ (a
        gradient's −(δ·x) is δ·x)."""
        own = self.signed(found.symbol)
        negate = bool(found.operands) and own != any(self.signed(n) for n, _ in found.operands)
        formula = self._slots(found.formula)
        working = None if found.working is None else self._slots(found.working)
        structure = found.structure
        if structure is not None:
            text, tex = structure.template
            operands = tuple(
                replace(o, name=self.symbol(o.name), value=_signed(o.value, self.signed(o.name)))
                if o.name is not None
                else o
                for o in structure.operands
            )
            if negate:
                text, tex = _negated(text), _negated(tex, "-")
            structure = replace(structure, operands=operands, template=(text, tex))
        if negate:
            formula = _negated(formula)
            working = None if working is None else _negated(working)
        slips = tuple(self._slip(slip, own) for slip in found.slips)
        renamed = replace(
            found,
            symbol=self.symbol(found.symbol),
            formula=formula,
            operands=self._operands(found.operands),
            value=_signed(found.value, own),
            working=working,
            note=self.symbol(found.note),
            structure=structure,
            slips=slips,
        )
        return self._with_sign_slip(renamed, own)

    def _slip(self, slip: Slip, own: bool) -> Slip:
        """A named slip written as its row is: its names, signs and, where its row's formula
        is negated, its formula too."""
        formula = self._slots(slip.formula)
        if bool(slip.operands) and own != any(self.signed(n) for n, _ in slip.operands):
            formula = _negated(formula)
        return Slip(slip.name, formula, self._operands(slip.operands))

    def _with_sign_slip(self, found: Equation, own: bool) -> Equation:
        """A row whose value the book's δ sign negates also names the slip of the other sign
        (the book's `sign_mistake`: the lecture's δ written where the book's belongs)."""
        if not own:
            return found
        slip = Slip(self.book.sign_mistake, f"−({found.formula})", found.operands)
        return replace(found, slips=(*found.slips, slip))

    def output_delta(self, found: Equation) -> Equation:
        """The output's δ as the book writes it: the loss's own derivative, ∂C/∂a^L =
        (2/n)(a^L − y), its operands the target's and the output's."""
        values = dict(found.operands)
        targets = [n for n in values if n.startswith("t[")]
        outputs = [n for n in values if not n.startswith("t[")]
        if not self.book.flips or len(targets) != 1 or len(outputs) != 1:
            return self.equation(found)
        t, o = targets[0], outputs[0]
        slots = {"t": (self.symbol(t), values[t]), "o": (self.symbol(o), values[o])}
        pieces = template_pieces(book_derivative(self.spec.loss, self._outputs), slots)
        own = self.signed(found.symbol)
        written = row(self.symbol(found.symbol), pieces, _signed(found.value, own))
        return self._with_sign_slip(written, own)

    # ------------------------------------------------------------ sections

    def section(self, found: Section) -> Section:
        """A section in the book: its rows, its rule's letters and sign, its layer labelled
        as the book numbers layers (l = 2)."""
        output = found.kind == "delta" and found.layer is None  # the loss's δ of the output
        rows = tuple(
            (self.output_delta(r) if output else self.equation(r)) if isinstance(r, Equation) else r
            for r in found.rows
        )
        if found.layer:  # a later layer's notes read its own input, as its rule's x does
            rows = tuple(self._read_input(r, found.layer) for r in rows)
        rule = self._output_rule() if output else self.rule(found)
        latex = found.rule_latex and latex_rule(self.book, found.rule_latex)  # an optimizer's
        return replace(
            found,
            title=self._title(found),
            rule=rule,
            rule_latex=latex,
            rows=rows,
            note=self.symbol(found.note),
            # a rule that begins with a name keeps its case: z^2[0,j], not Z^2[0,j]
            capital=rule.split(" ", 1)[0] == found.rule.split(" ", 1)[0],
        )

    def _read_input(self, found: Any, p: int) -> Any:
        """A row of layer p whose note slices the layer's input as its rules write it (x[:, 0…1]:
        a receptive field, a pool's window; a convolution's group x[2…3, 0…1]) with the book's
        name of that input (a^2[:, 0…1]), not of the model's (a^1), which `symbol` gives x."""
        if not isinstance(found, Equation) or not found.note:
            return found
        model_input = re.escape(self.heads["x"])
        sliced = r"(?=\[(?::|\d+(?:…\d+)?, ))"  # channels: all, a group's, or one
        note = re.sub(rf"{_BEFORE}{model_input}{sliced}", self._input(p).output, found.note)
        return replace(found, note=note)

    def _title(self, found: Section) -> str:
        """ "Forward · layer 0 (conv1d)" → "Forward · layer 0 (conv1d), l = 2"."""
        if found.layer is None:
            return found.title
        label = self.book.layer_label(self.layers[found.layer].k, self.last)
        if not label:
            return found.title
        return re.sub(
            r"layer \S+ \([^()]*\)", lambda m: f"{m.group(0)}, {label}", found.title, count=1
        )

    def _output_rule(self) -> str:
        """The output's δ as the book writes it: δ^L = ∂C/∂z^L = (2/n)(z^L − y) for a weighted
        input, ∂C/∂a^L = … for an activation."""
        top, size = self.layers[-1], self._outputs
        gradient = f"∂{self.book.loss}/∂{top.output}"
        if self.book.flips:
            derivative = book_derivative(self.spec.loss, size)
        else:  # a book of the lecture's sign: δ = −∂E/∂y
            derivative = delta_template(loss_functions.get(self.spec.loss), size)
            gradient = "−" + gradient
        written = derivative.replace("{t}", self.book.tensors["t"]).replace("{o}", top.output)
        delta = self.delta(top.output, top.net, top.k)
        named = gradient if delta == gradient else f"{delta} = {gradient}"
        return f"the output's {named} = {written}"

    def rule(self, found: Section) -> str:
        """A section's rule in the book's letters: the generic letters its kind's rules write
        (y, x, w, δ, δx; an rnn's net, h) as this layer's (z^2, a^1, w^2, δ^2, ∂C/∂a^1), and
        a gradient's −δ·x as the book's δ·x (and torch's x.grad = −δ as its δ)."""
        text = found.rule
        if not text:
            return text
        if found.layer is not None:
            letters = _letters(self.spec.layers[found.layer].kind)
            tokens = {token: self._role(role, found.layer) for token, role in letters.rules.items()}
        elif found.kind == "error":  # the loss's: e = t − y, E = ½ Σ (t − o)²
            top = self.layers[-1].output
            tokens = {"e": self.book.tensors["e"], "t": self.book.tensors["t"], "y": top, "o": top}
        else:  # an update's, an optimizer's: the loss and the rate alone
            tokens = {}
        text = _tokens(tuple(tokens)).sub(lambda m: self._token(m, tokens), text)
        if self.book.flips and found.kind == "gradient":
            text = re.sub(r"(gradient |'s |= )−", r"\1", text)
        if self.book.flips:  # torch's h0.grad = −δh[-1,j] is the book's δ itself
            text = text.replace(".grad = −", ".grad = ")
        return text

    def _role(self, role: str, p: int) -> str:
        """What a rule's letter names in layer p's rows, in the book."""
        placed, below = self.layers[p], self._input(p)
        if role == "out":
            return placed.output
        if role == "in":
            return below.output
        if role == "δout":
            return self.delta(placed.output, placed.net, placed.k)
        if role == "δin":
            return self.delta(below.output, below.net, below.k)
        letters = _letters(self.spec.layers[p].kind)
        if role in letters.own:
            return self.own(letters.own[role], placed.k)
        return self.tensor(role, placed.k)  # a parameter's letter: w, b, w_ih

    def _token(self, match: re.Match[str], tokens: dict[str, str]) -> str:
        if match.group("loss"):
            return self.book.loss
        if match.group("rate"):
            return self.book.rate
        token = match.group("token")
        text = tokens[token] + (match.group("cell") or "")
        # a subscript of its own (linear's δ_i, its input's δ) or written after it (y_j)
        own = token[-2:] if re.search(r"_[ijk]$", token) else ""
        text += own or match.group("index") or ""
        start, end = match.span()
        before, after = match.string[start - 1 : start], match.string[end : end + 1]
        if len(text) > 1 and (before == "^" or after == "²"):  # e^(z^2_k), (a^2)²
            return f"({text})"
        return text

    # ------------------------------------------------------------ a trace

    def step(self, step: Any) -> Any:
        return replace(step, sections=tuple(self.section(s) for s in step.sections))

    def trace(self, traced: Any) -> Any:
        """A traced epoch in the book: its steps' sections and --verify's names."""
        if self.identity:
            return traced
        checks = traced.checks
        if checks is not None:
            checks = tuple(replace(c, name=self.symbol(c.name)) for c in checks)
        return replace(traced, steps=tuple(self.step(s) for s in traced.steps), checks=checks)

    def convention(self, line: str) -> str:
        """The model's conventions line in the book: its letters and δ's sign, then how its
        entries are indexed (torch's, in the book's names)."""
        if self.identity:
            return line
        _, _, indexed = line.partition("; ")
        return f"{self.book.tensor_convention}; {self.symbol(indexed)}"

    def names(self, p: int) -> str:
        """Layer p's tensors in the book, for the layers' table: its output and parameters
        (z^2 · w^2, b^2); flatten's and last's: none of their own."""
        layer = self.spec.layers[p]
        letters = _letters(layer.kind)
        if not letters.output:
            return ""
        placed = self.layers[p]
        own = [self.own(m, placed.k) for m in letters.own.values() if m in ("net", "o")]
        shown = list(dict.fromkeys([*own, placed.output]))
        module = MODEL_KINDS[layer.kind][0]
        starts = dict.fromkeys(
            key.partition("_l")[0] for key in module.parameter_shapes(dict(layer.arguments))
        )
        parameters = [self.tensor(letters.parameters[s], placed.k) for s in starts]
        return ", ".join(shown) + (f" · {', '.join(parameters)}" if parameters else "")


@lru_cache(maxsize=64)
def _tokens(tokens: tuple[str, ...]) -> re.Pattern[str]:
    """A rule's generic letters (y, x, δ_x, w_ih), each with an rnn's cell suffix (_l1) and a
    subscript (_j) it may carry; the loss E and the rate η."""
    alternatives = "|".join(re.escape(t) for t in sorted(tokens, key=lambda t: (-len(t), t)))
    letter = r"(?![A-Za-z0-9_\u0300-\u036fα-ω])"
    found = (
        rf"(?<![A-Za-z0-9_\u0300-\u036fα-ω])(?P<token>{alternatives})"
        rf"(?P<cell>_l\d+(?:_reverse)?)?(?P<index>_[a-z](?![A-Za-z0-9]))?{letter}"
        if tokens
        else r"(?!x)x"
    )
    return re.compile(rf"{found}|{_BEFORE}(?P<loss>E){_AFTER}|(?P<rate>η)")


def _signed(value: float, negated: bool) -> float:
    """The value in the book's sign (0 stays 0, never −0)."""
    return -value + 0.0 if negated else value


def _negated(text: str, minus: str = "−") -> str:
    """A formula negated: −(a·b) → a·b, −a → a, (2/1)(t − y) → −((2/1)(t − y))."""
    if text.startswith(minus + "(") and _closes_at_end(text, len(minus)):
        return text[len(minus) + 1 : -1]
    if text.startswith(minus):
        return text[len(minus) :]
    return f"{minus}({text})"


def _closes_at_end(text: str, start: int) -> bool:
    """Whether the bracket opened at `start` closes at the end of `text`."""
    depth = 0
    for n, char in enumerate(text[start:], start):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0:
            return n == len(text) - 1
    return False


def notation(spec: Any, book: str | None = None) -> ModelNotation:
    """The spec's notation (or `book`) applied to its model."""
    return ModelNotation(get(book or spec.notation), spec)


def renamed(traced: Any) -> Any:
    """A traced epoch in its spec's notation (the lecture's: as it is)."""
    if traced.spec.notation == DEFAULT:
        return traced
    return notation(traced.spec).trace(traced)


# the renderers' few words of their own: the input, the target and the loss
def word(spec: Any, torch: str) -> str:
    """The model's input x, target t or loss E in the spec's notation."""
    book = get(spec.notation)
    return book.loss if torch == "E" else book.tensors.get(torch, torch)
