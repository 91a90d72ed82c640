"""LaTeX of a network's trace: its names, numbers, formulas and equations, as KaTeX renders them.

Like every renderer it only formats: each number is a value the records hold, written by
`NumberFormat`.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Sequence
from functools import lru_cache

from ..definitions import activations, notations
from ..definitions.optimizers import LATEX as OPTIMIZER_SYMBOLS
from ..network.records import Equation
from .numbers import MINUS, NumberFormat, substituted, symbolic

_SLOT = re.compile(r"\{([^{}]+)\}")


_WRAPPED = re.compile(r"\(\{([^{}]+)\}\)")


_ELISION = re.compile(r"… \((\d+) (terms|samples)\)")


def _index(text: str) -> str:
    """ "13" → "13"; "9_12" → "9,12" (the separator written as a comma)."""
    return text.replace("_", ",")


@lru_cache(maxsize=1 << 16)  # a wide network's x1 … x784 are written in every unit's sum
def latex_symbol(name: str) -> str:
    """A trace name in LaTeX: net3 → \\mathit{net}_{3}, õ3 → \\tilde{o}_{3}, new w13 → …"""
    if name.startswith("new "):
        base = latex_symbol(name[4:])
        return ("{" + base + "}" if "^" in base else base) + "^{\\text{new}}"
    if name.startswith("∂") and "/" in name:
        top, bottom = name.split("/", 1)
        return (
            f"\\frac{{\\partial {latex_symbol(top[1:])}}}{{\\partial {latex_symbol(bottom[1:])}}}"
        )
    if name.startswith("Δ"):
        return "\\Delta " + latex_symbol(name[1:])
    if name.startswith("e^("):  # a book's softmax numerator: e^(z^3_1)
        return "e^{" + latex_symbol(name[3:-1]) + "}"
    if name.startswith("e^"):  # softmax's numerator e^net5
        return "e^{" + latex_symbol(name[2:]) + "}"
    if name == "Σe^net":  # softmax's denominator
        return "\\sum_{j} e^{\\mathit{net}_{j}}"
    if name in ("Σe^z", "Σe^n"):  # a book's softmax denominator
        return f"\\sum_{{j}} e^{{{name[-1]}_{{j}}}}"
    book = _book_symbol(name)
    if book is not None:
        return book
    state = re.fullmatch(r"(.+)_([wb][\d_]+)", name)  # an optimizer's state: m_w45, v̂_b5
    if state:
        return f"{latex_symbol(state.group(1))}_{{{latex_symbol(state.group(2))}}}"
    if name in OPTIMIZER_SYMBOLS:
        return OPTIMIZER_SYMBOLS[name]
    if len(name) == 1 and name.isascii() and name.isalpha():
        return name  # t, m, v, s, g
    sample = ""
    match = re.fullmatch(r"(.*)⁽(\d+)⁾", name)
    if match:
        name, sample = match.group(1), f"^{{({match.group(2)})}}"
    match = re.fullmatch(r"(net|x̃|õ|δ|[a-zA-Z])([\d_]+)", name)
    if not match:
        return {"η": "\\eta", "E": "E", "ḡ": "\\bar{g}", "δ": "\\delta", "α": "\\alpha"}.get(
            name, f"\\text{{{name}}}"
        ) + sample
    base, index = match.groups()
    head = {
        "net": "\\mathit{net}",
        "õ": "\\tilde{o}",
        "x̃": "\\tilde{x}",
        "δ": "\\delta",
    }.get(base, base)
    return f"{head}_{{{_index(index)}}}{sample}"


_BOOK_HEADS = {"δ": "\\delta", "x̃": "\\tilde{x}", **notations.LATEX}  # each book's own heads


BOOK_WORDS = "|".join(map(re.escape, notations.WORDS + tuple(notations.LATEX)))


_LAYERED = re.compile(r"([^\W\d_]̃?)\^(\d+)_([\d,]+)(\(k\+1\))?(⁽\d+⁾)?")  # z^2_1, w^2_1,1(k+1)


_NAMED = re.compile(rf"({BOOK_WORDS}|[^\W\d_]̃?)_([a-z]\d+(?:_\d+)?|\d+|[a-z]{{3,}})(⁽\d+⁾)?")


def _head(head: str) -> str:
    """A book's symbol head in LaTeX: its own (ã), a word upright (net), else as written."""
    if head in _BOOK_HEADS:
        return _BOOK_HEADS[head]
    return f"\\mathit{{{head}}}" if head in notations.WORDS else head


def _book_symbol(name: str) -> str | None:
    """A textbook's symbol in LaTeX (notations/): z^2_1 → z^{2}_{1}, w^2_1,1(k+1) →
    w^{2}_{1,1}(k+1), net_h1 → \\mathit{net}_{h1}, E_total → E_{\\mathit{total}}, w5⁺ → w_{5}^{+};
    None for the lecture's own symbols."""
    state = re.fullmatch(r"(m|v|s|g|m̂|v̂)_([wb](?:\^|\d|_).*)", name)  # an optimizer's, of w^3_11
    if state:
        return f"{latex_symbol(state.group(1))}_{{{latex_symbol(state.group(2))}}}"
    if name.endswith("⁺"):
        return latex_symbol(name[:-1]) + "^{+}"
    if name == "α":
        return "\\alpha"
    layered = _LAYERED.fullmatch(name)
    if layered:
        head, layer, index, next_, sample = layered.groups()
        sample = f"^{{({sample[1:-1]})}}" if sample else ""
        symbol = f"{_head(head)}^{{{layer}}}_{{{index}}}{next_ or ''}"
        return f"{{{symbol}}}{sample}" if sample else symbol
    named = _NAMED.fullmatch(name)
    if named:
        head, index, sample = named.groups()
        index = f"\\mathit{{{index}}}" if index.isalpha() else index.replace("_", ",")
        return f"{_head(head)}_{{{index}}}" + (f"^{{({sample[1:-1]})}}" if sample else "")
    return None


_LITERALS = [
    ("Σₛ", "\\sum_{s} "),
    ("Σ", "\\sum "),
    ("ln ", "\\ln "),
    ("ln(", "\\ln("),
    ("·", " \\cdot "),
    ("−", "-"),
    ("½", "\\tfrac{1}{2}"),
    ("²", "^{2}"),
    ("δ", "\\delta"),
    ("η", "\\eta"),
    ("λ", "\\lambda "),
    ("θ", "\\theta "),
    ("…", "\\ldots "),
]


# every function name the trace writes (σ, tanh, relu; id in rules), from the activations' own
# definitions, as a whole word: relu's "elu" is not elu
_FUNCTION_LATEX = {
    name: a.latex for a in activations.ACTIVATIONS.values() for name in (a.symbol, a.rule_name)
}


_FUNCTION = re.compile(
    r"(?<![A-Za-z\\])("
    + "|".join(sorted(map(re.escape, filter(None, _FUNCTION_LATEX)), key=len, reverse=True))
    + r")(?![A-Za-z])"
)


def functions(text: str) -> str:
    """Function names as LaTeX: σ → \\sigma, relu → \\operatorname{relu}, σ′ → \\sigma'."""
    return _FUNCTION.sub(lambda m: _FUNCTION_LATEX[m.group(1)], text).replace("′", "'")


@lru_cache(maxsize=1 << 12)  # the pieces between slots: " + ", "·", "σ(", …
def _literal(text: str) -> str:
    text = _ELISION.sub(lambda m: f"… \\text{{({m.group(1)} {m.group(2)})}}", text)
    for plain, tex in _LITERALS[:2]:  # Σ before σ
        text = text.replace(plain, tex)
    text = functions(text)
    for plain, tex in _LITERALS[2:]:
        text = text.replace(plain, tex)
    return text


def _fill(template: str, slot: Callable[[str], str], raw: bool = False) -> str:
    """Slots filled by `slot`; the text between them made LaTeX (`raw`: it is LaTeX already)."""
    literal = (lambda text: text) if raw else _literal
    parts, end = [], 0
    for match in _SLOT.finditer(template):
        parts.append(literal(template[end : match.start()]))
        filled = slot(match.group(1))
        squared = template.startswith("²", match.end())
        if (parts[-1].endswith("^") or squared) and "^" in filled:  # e^{z^3_1}, {w^2_11}^2:
            filled = "{" + filled + "}"  # one group up, never a double superscript
        parts.append(filled)
        end = match.end()
    parts.append(literal(template[end:]))
    return "".join(parts)


SCIENTIFIC = re.compile(r"([\d.]+)e([+-])0*(\d+)")


def latex_number(value: float, fmt: NumberFormat) -> str:
    text = fmt(value).replace(MINUS, "-").replace("∞", "\\infty").replace("nan", "\\text{nan}")
    return SCIENTIFIC.sub(
        lambda m: f"{m.group(1)} \\times 10^{{{'-' if m.group(2) == '-' else ''}{m.group(3)}}}",
        text,
    )


def _operand(value: float, fmt: NumberFormat) -> str:
    text = latex_number(value, fmt)
    return f"({text})" if text.startswith("-") else text


_POWER = re.compile(
    r"e\^(\\mathit\{net\}_\{[^{}]+\}|\([^()]*\)|-?[\d.]+(?: \\times 10\^\{-?\d+\})?)"
)


def powers(text: str) -> str:
    """e^ followed by a whole exponent, braced: e^{\\mathit{net}_{5}}, e^{(-0.158)}."""
    return _POWER.sub(lambda m: "e^{" + m.group(1) + "}", text)


def latex_formula(template: str, raw: bool = False) -> str:
    return powers(_fill(template, latex_symbol, raw))


def latex_working(
    template: str, values: dict[str, float], fmt: NumberFormat, raw: bool = False
) -> str:
    # "({net3})" is in parentheses already: its number gets no second pair
    template = _WRAPPED.sub(lambda m: "({=" + m.group(1) + "})", template)
    return powers(
        _fill(
            template,
            lambda name: (
                latex_number(values[name[1:]], fmt)
                if name.startswith("=")
                else _operand(values[name], fmt)
            ),
            raw,
        )
    )


_NOTE_SYMBOL = re.compile(rf"(δ|−|[^\W\d_]\^\d+_[\d,]+|(?:{BOOK_WORDS}|[a-z])_[a-z]\d+)")


def _note(note: str) -> str:
    """A row's note as LaTeX text: "dropped: δ = 0" → \\text{dropped: }\\delta\\text{ = 0}."""
    pieces = _NOTE_SYMBOL.split(note)
    out = []
    for n, piece in enumerate(pieces):
        if piece == "δ":
            out.append("\\delta")
        elif piece == "−":
            out.append("-")
        elif n % 2:  # a textbook's symbol: a^3_1, out_o1
            out.append(latex_symbol(piece))
        elif piece:
            escaped = piece.replace("_", "\\_")
            out.append(f"\\text{{{escaped}}}")
    return "\\quad " + "".join(out)


_SIGMA = re.compile(r"σ\(\{([^{}]+)\}\)")


LINE_CHARACTERS = 64  # a line of an equation, as plain text: at most ≈ 700 px of KaTeX display


def _terms(template: str, level: int) -> list[str]:
    """A formula template cut before each + or − at bracket depth `level`: "a + b − c" →
    ["a", " + b", " − c"]. Pieces rejoin to the template."""
    return list(_cut(template, level))


@lru_cache(maxsize=1 << 12)  # a layer's units share their formula's template
def _cut(template: str, level: int) -> tuple[str, ...]:
    pieces, depth, start = [], 0, 0
    for n, char in enumerate(template):
        depth += {"(": 1, ")": -1, "[": 1, "]": -1}.get(char, 0)
        if depth == level and char in "+−" and template[n - 1 : n] == " " and n > 1:
            pieces.append(template[start : n - 1])
            start = n - 1
    pieces.append(template[start:])
    return tuple(pieces)


def continued(terms: Sequence[tuple[str, str]]) -> list[str]:
    """Terms, each (its plain text, as written) and each after the first starting with its
    sign (" + b"), joined into lines: a line takes terms while its plain text stays within
    LINE_CHARACTERS, the next starts at a term's sign (a single longer term stays whole)."""
    lines: list[tuple[str, str]] = []
    for plain, written in terms:
        if lines and len(lines[-1][0] + plain) > LINE_CHARACTERS:
            lines.append((plain.lstrip(), written.lstrip()))
        else:
            last = lines.pop() if lines else ("", "")
            lines.append((last[0] + plain, last[1] + written))
    return [written for _, written in lines]


def _lines_of(template: str, plain: Callable[[str], str], level: int = 0) -> list[str]:
    """The template cut into lines at + and − so that each line's plain text stays within
    LINE_CHARACTERS: outside brackets first, then inside them (a single term longer than
    that stays whole)."""
    lines = continued([(plain(piece), piece) for piece in _terms(template, level)])
    if level < 2 and any(len(plain(line)) > LINE_CHARACTERS for line in lines):
        return [part for line in lines for part in _lines_of(line, plain, level + 1)]
    return lines


def equation_lines(
    row: Equation, fmt: NumberFormat, first_sigma: list[bool] | None = None
) -> list[str]:
    """An equation as the course notes write it, one aligned line each: the formula, then
    "= " the numbers, then "= " the value; a line too long for the page continues on the next.
    `first_sigma`: [True] until σ has been written out once in the document, as
    1/(1 + e^−net) with the number."""
    values = row.values()
    if row.latex:  # the definition's own LaTeX (optimizers): one line each
        formula = [latex_formula(row.latex, raw=True)]
        numbers = [latex_working(row.latex, values, fmt, raw=True)]
    else:
        formula = [latex_formula(part) for part in _lines_of(row.formula, symbolic)]
        numbers = [
            latex_working(part, values, fmt)
            for part in _lines_of(row.working or row.formula, lambda t: substituted(t, values, fmt))
        ]
    sigma = _SIGMA.fullmatch(row.formula)
    if sigma and first_sigma and first_sigma[0]:
        first_sigma[0] = False
        net = values[sigma.group(1)]
        power = latex_number(abs(net), fmt) if net < 0 else f"-{_operand(net, fmt)}"
        numbers[-1] += f" = \\frac{{1}}{{1 + e^{{{power}}}}}"
    note = _note(row.note) if row.note else ""
    return aligned_equation(
        latex_symbol(row.symbol), formula, numbers, latex_number(row.value, fmt), note
    )


def aligned_equation(
    symbol: str, formula: list[str], numbers: list[str], value: str, note: str = ""
) -> list[str]:
    """The lines of one equation in an aligned block, as the course notes write it:
    `symbol &= ` the formula, `&= ` the numbers, `&= ` the value, each a line (a formula or
    numbers in several lines go on indented); a part equal to the one before is left out.
    All LaTeX; `note` goes after the last line."""
    parts = [formula] if numbers == formula else [formula, numbers]  # each: a line, continued
    if [value] != parts[-1]:
        parts.append([value])
    out = []
    for n, part in enumerate(parts):
        head = f"{symbol} &= " if n == 0 else "&= "
        out.append(head + part[0])
        out += [f"&\\quad {line}" for line in part[1:]]  # the sum goes on
    return [*out[:-1], out[-1] + note]


def math_block(equations: list[list[str]], gap: str = "6pt", jot: str = "") -> str:
    """Equations in one aligned block, `gap` between one equation and the next; `jot` between
    two lines of one where either holds a fraction, which would otherwise touch the other."""

    def joined(lines: list[str]) -> str:
        out = lines[:1]
        for before, line in itertools.pairwise(lines):
            tall = jot and ("\\frac" in before or "\\frac" in line)
            out.append(f" \\\\[{jot}]\n{line}" if tall else f" \\\\\n{line}")
        return "".join(out)

    body = f" \\\\[{gap}]\n".join(joined(lines) for lines in equations)
    return f"$$\n\\begin{{aligned}}\n{body}\n\\end{{aligned}}\n$$"


def math_inline(text: str) -> str:
    return f"${text}$"
