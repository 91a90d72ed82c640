"""The trace as a markdown document for homework: LaTeX math, markdown tables, Mermaid diagrams.

Renders on GitHub, GitLab, in Jupyter, VS Code and Obsidian. Like every renderer it only
formats: each number is a value the records hold, written by `NumberFormat`.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from .. import activations, notation, notations
from ..config import Spec
from ..optimizers import LATEX as OPTIMIZER_SYMBOLS
from ..records import Elided, Equation, Section, Step, Trace, biases_text, shown_units
from . import escape
from .numbers import (
    MINUS,
    NumberFormat,
    accuracy_caption,
    loss_change,
    percent,
    substituted,
    symbolic,
)

if TYPE_CHECKING:
    from ..exercise import Question
    from ..history import TrainingTrace

_SLOT = re.compile(r"\{([^{}]+)\}")
_WRAPPED = re.compile(r"\(\{([^{}]+)\}\)")
_ELISION = re.compile(r"… \((\d+) (terms|samples)\)")
LABELLED_EDGES = 16  # networks with at most this many weights get them written on the edges


# ---------------------------------------------------------------- LaTeX


def _index(text: str) -> str:
    """ "13" → "13"; "9_12" → "9,12" (the separator written as a comma)."""
    return text.replace("_", ",")


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
_BOOK_WORDS = "|".join(map(re.escape, notations.WORDS + tuple(notations.LATEX)))
_LAYERED = re.compile(r"([^\W\d_]̃?)\^(\d+)_([\d,]+)(\(k\+1\))?(⁽\d+⁾)?")  # z^2_1, w^2_1,1(k+1)
_NAMED = re.compile(rf"({_BOOK_WORDS}|[^\W\d_]̃?)_([a-z]\d+(?:_\d+)?|\d+|[a-z]{{3,}})(⁽\d+⁾)?")


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


def _functions(text: str) -> str:
    """Function names as LaTeX: σ → \\sigma, relu → \\operatorname{relu}, σ′ → \\sigma'."""
    return _FUNCTION.sub(lambda m: _FUNCTION_LATEX[m.group(1)], text).replace("′", "'")


def _literal(text: str) -> str:
    text = _ELISION.sub(lambda m: f"… \\text{{({m.group(1)} {m.group(2)})}}", text)
    for plain, tex in _LITERALS[:2]:  # Σ before σ
        text = text.replace(plain, tex)
    text = _functions(text)
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
        if parts[-1].endswith("^") and "^" in filled:  # e^{z^3_1}: one group up
            filled = "{" + filled + "}"
        parts.append(filled)
        end = match.end()
    parts.append(literal(template[end:]))
    return "".join(parts)


_SCIENTIFIC = re.compile(r"([\d.]+)e([+-])0*(\d+)")


def latex_number(value: float, fmt: NumberFormat) -> str:
    text = fmt(value).replace(MINUS, "-").replace("∞", "\\infty").replace("nan", "\\text{nan}")
    return _SCIENTIFIC.sub(
        lambda m: f"{m.group(1)} \\times 10^{{{'-' if m.group(2) == '-' else ''}{m.group(3)}}}",
        text,
    )


def _operand(value: float, fmt: NumberFormat) -> str:
    text = latex_number(value, fmt)
    return f"({text})" if text.startswith("-") else text


_POWER = re.compile(
    r"e\^(\\mathit\{net\}_\{[^{}]+\}|\([^()]*\)|-?[\d.]+(?: \\times 10\^\{-?\d+\})?)"
)


def _powers(text: str) -> str:
    """e^ followed by a whole exponent, braced: e^{\\mathit{net}_{5}}, e^{(-0.158)}."""
    return _POWER.sub(lambda m: "e^{" + m.group(1) + "}", text)


def latex_formula(template: str, raw: bool = False) -> str:
    return _powers(_fill(template, latex_symbol, raw))


def latex_working(
    template: str, values: dict[str, float], fmt: NumberFormat, raw: bool = False
) -> str:
    # "({net3})" is in parentheses already: its number gets no second pair
    template = _WRAPPED.sub(lambda m: "({=" + m.group(1) + "})", template)
    return _powers(
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


_NOTE_SYMBOL = re.compile(rf"(δ|−|[^\W\d_]\^\d+_[\d,]+|(?:{_BOOK_WORDS}|[a-z])_[a-z]\d+)")


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
    pieces, depth, start = [], 0, 0
    for n, char in enumerate(template):
        depth += {"(": 1, ")": -1, "[": 1, "]": -1}.get(char, 0)
        if depth == level and char in "+−" and template[n - 1 : n] == " " and n > 1:
            pieces.append(template[start : n - 1])
            start = n - 1
    pieces.append(template[start:])
    return pieces


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


_RULE_WORDS = re.compile(r"[A-Za-z]{3,}")
_RULE_NAMES = {
    "net",
    "new",
    *notations.WORDS,
    *(a.rule_name for a in activations.ACTIVATIONS.values()),
}
_RULE_SUBSCRIPT = re.compile(rf"(net|{_BOOK_WORDS}|x̃|õ|(?!Σ)[^\W\d_])_([a-z]+\d*)")
_RULE_LITERALS = [
    ("new ", "NEW"),
    ("Σₛ", "\\sum_{s} "),
    ("Σ_", "\\sum_"),
    ("Σ", "\\sum "),
    ("∂", "\\partial "),
    ("·", " \\cdot "),
    ("−", "-"),
    ("½", "\\tfrac{1}{2}"),
    ("²", "^{2}"),
    ("≈", "\\approx "),
    ("←", "\\leftarrow "),
    ("η", "\\eta"),
    ("θ", "\\theta "),
    ("Δ", "\\Delta "),
    ("ln", "\\ln"),
    ("ḡ", "\\bar{g}"),
    ("α", "\\alpha "),
    ("…", "\\ldots "),
]


_CONNECTIVES = {"if", "of", "or", "to", "by", "at", "on", "in", "is", "as", "A"}
_MATHS = re.compile(r"[=←·Σ∂/^′²><−+_()]")


def _prose(token: str) -> bool:
    """A word of the sentence around a formula: "before", "(the", "if"; not "net" or "σ′"."""
    words = re.findall(r"[A-Za-z']+", token)
    return any((len(w) >= 3 and w not in _RULE_NAMES) or w in _CONNECTIVES for w in words)


def _rule_part(part: str) -> str:
    """A rule or a convention with its formulas as inline math and its prose as prose:
    "δ_j = −∂E/∂net_j" → math; "w before the update" → $w$ before the update."""
    tokens = part.split(" ")
    out: list[str] = []
    n = 0
    while n < len(tokens):
        if _prose(tokens[n]):
            out.append(tokens[n])
            n += 1
            continue
        end = n
        while end < len(tokens) and not _prose(tokens[end]):
            end += 1
        span = " ".join(tokens[n:end])
        tail = span[len(span.rstrip(",.;:")) :]
        span = span[: len(span) - len(tail)]
        balanced = span.count("(") == span.count(")")
        alone = re.fullmatch(r"[A-Za-zδη]", span) and end < len(tokens)  # "w before the …"
        if span and balanced and (_MATHS.search(span) or alone):
            out.append(_math(_rule_tex(span)) + tail)
        else:
            out.append(span + tail)
        n = end
    return " ".join(out)


_WORD = re.compile(rf"(?<!\{{)\b(net|{'|'.join(map(re.escape, notations.WORDS))})\b(?!\}})")


def _book_rule(text: str) -> str:
    """A textbook's indices in a rule as LaTeX groups: s^m_i → s^{m}_{i}, a^(m−1)_j →
    a^{m−1}_{j}, w^m_i,j → w^{m}_{i,j}, E_total → E_{total}, W(k)ᵀ → W(k)^{T}."""
    text = re.sub(r"\^\(([^()]*)\)", r"^{\1}", text)
    text = re.sub(r"\^([A-Za-z0-9])(?=_|\(|\b)", r"^{\1}", text)
    text = re.sub(r"\}_([a-z],[a-z]|[a-z]{1,2})(?![a-z])", r"}_{\1}", text)
    text = re.sub(r"\b([A-Z])_([a-z]{3,})\b", r"\1_{\\mathit{\2}}", text)  # E_total
    text = text.replace("ᵀ", "^{T}")
    for head, tex in notations.LATEX.items():  # ã, õut: each book's own
        text = text.replace(head, tex)
    text = re.sub(
        r"\b([wbi])(\d+)(⁺?)", lambda m: f"{m[1]}_{{{m[2]}}}" + ("^{+}" if m[3] else ""), text
    )
    return text


def _rule_tex(text: str) -> str:
    """A formula of a rule, written in plain symbols, as LaTeX."""
    text = _book_rule(text)
    text = _RULE_SUBSCRIPT.sub(
        lambda m: (
            (
                "\\mathit{" + m.group(1) + "}"
                if m.group(1) in ("net", *notations.WORDS)
                else {"õ": "\\tilde{o}", "x̃": "\\tilde{x}"}.get(m.group(1), m.group(1))
            )
            + f"_{{{m.group(2)}}}"
        ),
        text,
    )
    text = _WORD.sub(r"\\mathit{\1}", text)  # "∂o/∂net", "∂out/∂net"
    text = _powers(text)  # e^\mathit{net}_{k} → e^{\mathit{net}_{k}}: the subscript goes up too
    text = re.sub(r"\^(−?)(\\mathit\{net\}|\w+)", r"^{\1\2}", text)  # e^−net: all of it up
    text = text.replace("′", "'")
    for plain, tex in _RULE_LITERALS[:4]:  # new, Σ before σ
        text = text.replace(plain, tex)
    text = _functions(text)
    for plain, tex in _RULE_LITERALS[4:]:
        text = text.replace(plain, tex)
    text = text.replace("δ", "\\delta ")
    text = re.sub(r"NEW(w_\{[a-z]+\}|b_\{[a-z]+\})", r"\1^{\\text{new}}", text)
    text = re.sub(r"NEW\s*([wb]\^\{[^{}]*\}_\{[^{}]*\})", r"{\1}^{\\text{new}}", text)  # books'
    text = text.replace("NEW", "\\text{new }")
    text = text.replace("⁺", "^{+}")  # Mazur's updated weight, w_ij⁺
    return _SCIENTIFIC.sub(
        lambda m: f"{m.group(1)} \\times 10^{{{'-' if m.group(2) == '-' else ''}{m.group(3)}}}",
        text,
    )


def rule_markdown(rule: str) -> str:
    """A rule or convention: its parts (split at commas outside parentheses) each as math
    where they are formulas, as prose where they are words."""
    parts, depth, start = [], 0, 0
    for n, char in enumerate(rule):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0 and rule[n + 1 : n + 2] == " ":
            parts.append(rule[start:n])
            start = n + 2
    parts.append(rule[start:])
    return ", ".join(_rule_part(part.strip()) for part in parts)


def section_markdown(
    section: Section, fmt: NumberFormat, first_sigma: list[bool] | None = None
) -> str:
    rule = _math(section.rule_latex) if section.rule_latex else rule_markdown(section.rule)
    out = [f"#### {section.title}", "", f"Rule: {rule}", ""]
    if section.kind == "verify":
        return "\n".join([*out, *_verify_table(section, fmt), ""])
    equations: list[list[str]] = []
    for row in section.rows:
        if isinstance(row, Elided):
            if equations:
                out += [math_block(equations), ""]
                equations = []
            out += [f"*… {row.count} more: {row.what} (`--full` shows them)*", ""]
            continue
        equations.append(equation_lines(row, fmt, first_sigma))
    if equations:
        out += [math_block(equations), ""]
    for line in section.note.splitlines():
        out += [f"*{line}*", ""]
    return "\n".join(out)


def _verify_table(section: Section, fmt: NumberFormat) -> list[str]:
    out = [
        "| gradient | finite difference | backprop | relative difference | |",
        "| --- | ---: | ---: | ---: | --- |",
    ]
    for row in section.rows:
        if isinstance(row, Equation):
            values = row.values()
            out.append(
                f"| {_math(latex_symbol(row.symbol))} | {fmt(row.value)} | "
                f"{fmt(values['backprop'])} | {values['relative difference']:.1e} | "
                f"{row.note or 'agrees'} |"
            )
    return [*out, "", f"*{section.note}*"]


# ---------------------------------------------------------------- the problem and the network


def _math(text: str) -> str:
    return f"${text}$"


def problem(spec: Spec, fmt: NumberFormat, epochs: int | None = None) -> str:
    """What the homework question says: network, activations, loss, η, data, dropout."""
    from ..records import translation

    numbering = spec.numbering
    book = translation(spec)
    name = book.symbol
    layers = []
    for k, width in enumerate(spec.layers):
        first, last = numbering.unit(k, 0), numbering.unit(k, width - 1)
        units = f"unit {first}" if width == 1 else f"units {first}–{last}"
        if k and spec.notation != "lecture":  # a book numbers units within their layer
            outs = [_math(latex_symbol(name(f"o{u}"))) for u in (first, last)]
            units = outs[0] if width == 1 else f"{outs[0]}–{outs[1]}"
        if k == 0:
            xs = [_math(latex_symbol(name(f"x{u}"))) for u in (first, last)]
            units = xs[0] if width == 1 else f"{xs[0]}–{xs[1]}"
        kind = "inputs" if k == 0 else "output" if k == len(spec.layers) - 1 else "hidden"
        layers.append(f"{kind} {units}")
    acts = dict.fromkeys(spec.activations)
    activation = (
        f"{next(iter(acts))} activation"
        if len(acts) == 1
        else "activations " + ", ".join(spec.activations) + " (layer by layer)"
    )
    from ..losses import get as get_loss

    text = (
        f"A fully connected network with layers {'-'.join(map(str, spec.layers))} "
        f"({'; '.join(layers)}), {activation}"
        f", {biases_text(spec)}, "
        f"the loss {rule_markdown(book.rule(get_loss(spec.loss).rule, True, flip=False))}, "
        f"and learning rate ${latex_symbol(name('η'))}$ = {fmt(spec.learning_rate)}. "
    )
    last = len(spec.layers) - 1
    if len(spec.samples) == 1:
        sample = spec.samples[0]
        xs = ", ".join(
            f"{_math(latex_symbol(name(f'x{numbering.unit(0, i)}')))} = {fmt(v)}"
            for i, v in enumerate(sample.inputs[:8])
        )
        ts = ", ".join(
            f"{_math(latex_symbol(name(f't{numbering.unit(last, i)}')))} = {fmt(v)}"
            for i, v in enumerate(sample.targets[:8])
        )
        more = " …" if len(sample.inputs) > 8 else ""
        text += f"Inputs {xs}{more}; targets {ts}. "
    else:
        how = (
            "online (an update after each sample, in order"
            + (", shuffled every epoch" if spec.shuffle else "")
            + ")"
            if spec.mode == "online"
            else f"in batch mode (one update from the {spec.batch_gradient} of the gradients)"
        )
        text += f"{len(spec.samples)} training samples, taken {how}. "
    if spec.dropout is not None:
        from ..config import dropout_layer_names

        rates = [
            f"rate {fmt(r)} on " + ("the inputs" if n == "inputs" else f"hidden layer {n[6:]}")
            for n, r in zip(dropout_layer_names(spec.layers), spec.dropout.rates)
            if r > 0
        ]
        text += f"Dropout (Keras semantics): {', '.join(rates)}, seed {spec.dropout.seed}. "
    if epochs is None:
        text += (
            "Do one training step by backpropagation: the forward pass, the error and loss, "
            f"the ${latex_symbol(book.rule('δ', False, flip=False))}$ of every unit, and every "
            "updated weight"
            + (" and bias" if spec.biases is not None and spec.train_biases else "")
            + "."
        )
    else:
        text += f"Train for {epochs} epoch{'s' if epochs != 1 else ''}."
    return text


def _shown_units(width: int) -> list[int | None]:
    """Indices drawn for a layer, the units the equations write out; None stands for the
    collapsed middle."""
    shown = shown_units(width)
    if len(shown) == width:
        return list(shown)
    return [*shown[:-1], None, shown[-1]]


def diagram(
    spec: Spec,
    fmt: NumberFormat,
    title: str,
    inputs: list[float] | None = None,
    dropped: set[int] | None = None,
) -> str:
    """The network as a Mermaid flowchart: layers left to right, weights on the edges."""
    from ..records import translation

    numbering = spec.numbering
    named = translation(spec).symbol
    labelled = sum(w.size for w in spec.weights) <= LABELLED_EDGES
    lines = ["```mermaid", "---", f'title: "{title}"', "---", "flowchart LR"]
    node: dict[tuple[int, int | None], str] = {}
    last = len(spec.layers) - 1
    for k, width in enumerate(spec.layers):
        name = (
            "inputs"
            if k == 0
            else f"output layer ({spec.activations[k - 1]})"
            if k == last
            else f"hidden layer {k} ({spec.activations[k - 1]})"
        )
        lines.append(f'  subgraph L{k}["{name}"]')
        lines.append("    direction TB")
        for i in _shown_units(width):
            if i is None:
                ident = f"more{k}"
                shown = shown_units(width)
                first, last = numbering.unit(k, shown[-2] + 1), numbering.unit(k, width - 2)
                what = f"units {first}–{last}" if k else f"x{first}–x{last}"
                lines.append(f'    {ident}["… {width - len(shown)} more: {what}"]')
            else:
                u = numbering.unit(k, i)
                ident = f"u{u}"
                label = named(f"x{u}") if k == 0 else f"unit {u}"
                if k and spec.notation != "lecture":
                    label = named(f"o{u}")  # the book's name of the unit's output: a^2_1, out_h1
                if k == 0 and inputs is not None:
                    label += f" = {fmt(inputs[i])}"
                if k > 0 and spec.biases is not None and spec.biases[k - 1] is not None:
                    label += f"<br/>{named(f'b{u}')} = {fmt(float(spec.biases[k - 1][i]))}"
                shape = ('(["', '"])') if k == 0 else ('(("', '"))')
                lines.append(f"    {ident}{shape[0]}{label}{shape[1]}")
            node[(k, i)] = ident
        lines.append("  end")
    for k, w in enumerate(spec.weights, start=1):
        for j in _shown_units(spec.layers[k]):
            for i in _shown_units(spec.layers[k - 1]):
                a, b = node[(k - 1, i)], node[(k, j)]
                if labelled and i is not None and j is not None:
                    weight = notation.weight_name(numbering.unit(k - 1, i), numbering.unit(k, j))
                    lines.append(f'  {a} -->|"{named(weight)} = {fmt(float(w[j, i]))}"| {b}')
                else:
                    lines.append(f"  {a} --> {b}")
    if dropped:
        shown = [node[key] for key in node if key[1] is not None]
        faded = [n for n in shown if int(n[1:]) in dropped] if shown else []
        if faded:
            lines.append("  classDef dropped fill:#eeeeee,stroke:#999999,stroke-dasharray:4 3")
            lines.append(f"  class {','.join(faded)} dropped")
    lines.append("```")
    return "\n".join(lines)


def _dropped_units(step: Step, spec: Spec) -> set[int]:
    numbering = spec.numbering
    out = set()
    masks = [(0, step.input_mask)] + [(k + 1, layer.mask) for k, layer in enumerate(step.layers)]
    for k, mask in masks:
        if mask is not None:
            out |= {numbering.unit(k, i) for i, m in enumerate(mask) if m == 0}
    return out


# ---------------------------------------------------------------- documents


def _step_sections(step: Step, fmt: NumberFormat, first_sigma: list[bool]) -> list[str]:
    out = [f"### {step.heading}", ""]
    for section in step.sections:
        out.append(section_markdown(section, fmt, first_sigma))
    return out


def _summary(trace: Trace, fmt: NumberFormat) -> list[str]:
    out = ["| parameter | old | new |", "| --- | ---: | ---: |"]
    for change in trace.changes:
        out.append(
            f"| {_math(latex_symbol(change.symbol))} | {fmt(change.before)} | {fmt(change.after)} |"
        )
    hidden = trace.parameter_count - len(trace.changes)
    if hidden:
        out.append(f"| … | {hidden} more that moved less | (`--full` shows all) |")
    before = trace.loss_before_inference
    before = trace.loss_before if before is None else before
    out.append(f"| $E$ | {fmt(before)} | {fmt(trace.loss_after)} |")
    out.append("")
    line = f"The loss before the update is {fmt(before)}; after it, {fmt(trace.loss_after)}."
    if trace.loss_before_inference is not None:
        line += (
            f" Both are measured without dropout, as at inference; through this step's "
            f"dropout masks the loss was {fmt(trace.loss_before)}."
        )
    out.append(line)
    return out


def _notes(trace: Trace) -> list[str]:
    """The conventions, their formulas as math, as the notes write them."""
    return [f"- {rule_markdown(note)}" for note in trace.notes]


def render(trace: Trace, fmt: NumberFormat) -> str:
    """`run`: the whole worked step as one markdown document."""
    spec = trace.spec
    parts = [f"# {escape.markdown(spec.name)}", ""]
    if spec.description:
        parts += [escape.markdown(spec.description.strip(), lines=True), ""]
    parts += [problem(spec, fmt) if not trace.inference else _inference_problem(spec, fmt), ""]
    inputs = [float(v) for v in spec.samples[0].inputs] if len(spec.samples) == 1 else None
    dropped = _dropped_units(trace.steps[0], spec) if len(trace.steps) == 1 else None
    parts += [diagram(spec, fmt, "The network before the update", inputs, dropped), ""]
    if dropped:
        parts += ["*Grey, dashed: the units dropout drops in this step.*", ""]
    parts += ["## Conventions", "", *_notes(trace), ""]
    parts += ["## Solution", ""]
    first_sigma = [True]
    for step in trace.steps:
        parts += _step_sections(step, fmt, first_sigma)
    if trace.inference:
        count = len(trace.steps)
        mean = "" if count == 1 else f", the mean over the {count} samples"
        parts += [f"**Loss:** $E$ = {fmt(trace.loss_before)}{mean} (inference: no update).", ""]
        return "\n".join(parts).rstrip() + "\n"
    parts += ["## Summary", "", *_summary(trace, fmt), ""]
    if sum(w.size for w in spec.weights) <= LABELLED_EDGES:
        after = _after(trace)
        parts += [diagram(after, fmt, "The network after the update", inputs), ""]
    return "\n".join(parts).rstrip() + "\n"


def _inference_problem(spec: Spec, fmt: NumberFormat) -> str:
    return (
        problem(spec, fmt).rsplit(". ", 1)[0]
        + ". Compute the forward pass and the loss as at inference: no dropout, no update."
    )


def _after(trace: Trace) -> Spec:
    """The network after the step, read from the records' new values (nothing recomputed)."""
    from dataclasses import replace

    layers = trace.steps[-1].layers
    weights = tuple(layer.weights_after for layer in layers)
    biases = None
    if trace.spec.biases is not None:
        biases = tuple(layer.biases_after for layer in layers)  # None: a layer without
    return replace(trace.spec, weights=weights, biases=biases)


PARAMETERS_PER_TABLE = 8  # parameter columns per markdown table: fits a 900-pixel page


def epoch_table(trace: TrainingTrace, fmt: NumberFormat) -> list[str]:
    """The per-epoch table: loss and outputs, then the parameters (hand-sized networks) in
    tables of their own, at most eight columns each, each starting with the epoch."""
    from ..history import EpochRow

    rows = [row for row in trace.rows if isinstance(row, EpochRow)]
    header = ["epoch", "loss", *(_header_cell(name) for name in trace.output_names)]
    columns = [[str(r.epoch) for r in rows], [fmt(r.loss) for r in rows]]
    if trace.accuracy is not None:
        header.insert(2, "accuracy")
        columns.append([percent(r.accuracy or 0.0) for r in rows])
    columns += [[fmt(r.outputs[n]) for r in rows] for n in range(len(trace.output_names))]
    if not trace.parameter_names and any(row.moved for row in rows):
        header.append("changed most")
        columns.append(
            [
                f"{_math(latex_symbol(r.moved))} = {fmt(r.moved_value)} "
                f"({fmt.signed(r.moved_change)})"
                for r in rows
            ]
        )
    if trace.dropped is not None:
        header.append("dropped")
        columns.append([f"{r.dropped}/{trace.maskable}" for r in rows])
    out = _markdown_table(header, columns)
    names = trace.parameter_names
    tables = -(-len(names) // PARAMETERS_PER_TABLE)
    each = -(-len(names) // tables) if tables else 1  # balanced: 9 → 5 and 4, not 8 and 1
    for start in range(0, len(names), each):
        part = range(start, min(start + each, len(names)))
        out += [
            "",
            *_markdown_table(
                ["epoch", *(_math(latex_symbol(names[n])) for n in part)],
                [columns[0], *([fmt(r.parameters[n]) for r in rows] for n in part)],
            ),
        ]
    return out


def _markdown_table(header: list[str], columns: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "| " + " | ".join("---:" for _ in header) + " |"]
    out += ["| " + " | ".join(cells) + " |" for cells in zip(*columns)]
    return out


def _header_cell(name: str) -> str:
    from ..history import output_heading

    symbol, sample = output_heading(name)
    text = _math(latex_symbol(symbol))
    return f"{text} ({sample})" if sample else text


CHART_POINTS = 40


def loss_chart(trace: TrainingTrace, fmt: NumberFormat) -> str:
    """The loss after each epoch as a Mermaid xychart-beta line (thinned to about 40 points,
    from epoch 1 to the last)."""
    import math

    run = len(trace.losses_after)
    step = max(1, math.ceil(run / CHART_POINTS))
    # epoch 1 always: the steep first drop is what a student should see
    picked = sorted({0, *range(step - 1, run, step), run - 1})
    values = [float(trace.losses_after[i]) for i in picked]
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return "*No finite loss to draw.*"
    numbers = ", ".join(_plain(v) if math.isfinite(v) else "0" for v in values)
    top = max(finite)
    return "\n".join(
        [
            "```mermaid",
            "xychart-beta",
            '  title "Loss after each epoch"',
            "  x-axis [" + ", ".join(str(i + 1) for i in picked) + "]",
            f'  y-axis "loss" 0 --> {_plain(top * 1.05 if top > 0 else 1)}',
            f"  line [{numbers}]",
            "```",
        ]
    )


def _plain(value: float) -> str:
    """A chart value: positional digits only, as Mermaid's grammar reads them (no 1e-07)."""
    text = f"{value:.10f}".rstrip("0").rstrip(".")
    return text if text not in ("", "-0") else "0"


def render_training(trace: TrainingTrace, fmt: NumberFormat) -> str:
    """`step`: the problem, the network before and after, the per-epoch table, the loss chart,
    and the full equations of the traced epochs."""
    from ..history import loss_meanings

    spec = trace.spec
    run = len(trace.losses)
    parts = [f"# {escape.markdown(spec.name)}", ""]
    if spec.description:
        parts += [escape.markdown(spec.description.strip(), lines=True), ""]
    parts += [problem(spec, fmt, trace.epochs_asked), ""]
    inputs = [float(v) for v in spec.samples[0].inputs] if len(spec.samples) == 1 else None
    parts += [diagram(spec, fmt, "The network before training", inputs), ""]
    parts += ["## Epochs", ""]
    parts += [
        f"{run} of {trace.epochs_asked} epochs ran"
        + (f": {trace.stop_reason}." if trace.stop_reason else ".")
        + f" Rows: {trace.rows_note}. Loss: {loss_meanings(spec)[0]}; outputs"
        + (" and parameters" if trace.parameter_names else "")
        + ": after the epoch."
        + (
            " Accuracy: the share of samples right, each before its own update."
            if trace.accuracy is not None
            else ""
        ),
        "",
    ]
    parts += [*epoch_table(trace, fmt), ""]
    meaning = loss_meanings(spec)[1]
    parts += [f"The loss chart shows {meaning}.", "", loss_chart(trace, fmt), ""]
    parts += [
        f"The same loss before training is {fmt(trace.loss_start)}; after epoch {run} it is "
        f"{fmt(float(trace.losses_after[-1]))}: {loss_change(trace.relative_drop)}"
        + (f"; {accuracy_caption(trace.accuracy)}." if trace.accuracy is not None else "."),
        "",
    ]
    if sum(w.size for w in spec.weights) <= LABELLED_EDGES:
        parts += [diagram(trace.final, fmt, f"The network after epoch {run}", inputs), ""]
    first_sigma = [True]
    for traced in trace.traces:
        epoch = traced.epochs[0].epoch
        parts += [f"## Epoch {epoch} in full", ""]
        for step in traced.steps:
            parts += _step_sections(step, fmt, first_sigma)
        parts += [f"### Summary of epoch {epoch}", "", *_summary(traced, fmt), ""]
    return "\n".join(parts).rstrip() + "\n"


def question(trace: Trace, fmt: NumberFormat, ident: str, asked: Sequence[Question]) -> str:
    """An exercise sheet: the problem, the network, and a table of what to find — no answers,
    and no number from any solution (the hint's values are placeholders)."""
    spec = trace.spec
    inputs = [float(v) for v in spec.samples[0].inputs] if len(spec.samples) == 1 else None
    parts = [f"# Exercise {ident}", "", problem(spec, fmt), ""]
    parts += [diagram(spec, fmt, f"Exercise {ident}", inputs), ""]
    parts += ["## Conventions", "", *_notes(trace), ""]
    parts += ["## Your answers", ""]
    count = len(asked)
    parts += [f"Find {'this quantity' if count == 1 else f'these {count} quantities'}.", ""]
    headings = {step.sample: step.heading for step in trace.steps}
    for sample in dict.fromkeys(q.sample for q in asked):
        if len(trace.steps) > 1:
            parts += [f"### {headings[sample]}", ""]
        parts += ["| quantity | name in your answers file | your answer |", "| --- | --- | --- |"]
        for q in asked:
            if q.sample == sample:
                parts.append(f"| {_math(latex_symbol(q.symbol))} | `{q.name}` | |")
        parts.append("")
    parts += ["## Hand in", "", *hand_in(ident, asked)]
    return "\n".join(parts).rstrip() + "\n"


def hand_in(ident: str, asked: Sequence[Question]) -> list[str]:
    """How to write the answers file: this variant's id and names, placeholder values."""
    first = [q for q in asked if q.sample == 1][:2] or list(asked[:1])
    later = next((q for q in asked if q.sample > 1), None)
    lines = [f"variant: {ident}", "student: your name", "answers:"]
    lines += [f"  {q.name}: …" for q in first]
    if later is not None:
        lines += ["samples:", f"  {later.sample}:", f"    {later.name}: …"]
    return [
        "Write your answers in a YAML file by the names in the table, with the variant's id, "
        "and hand it in. Replace each … with your value; leave out what you did not find.",
        "",
        "```yaml",
        *lines,
        "```",
    ]


def _variants(count: int) -> str:
    return f"{count} variant{'s' if count != 1 else ''}"


def folder_index(title: str, lead: str, column: str, files: Sequence[tuple[str, str]]) -> str:
    """The index of one folder of a homework set: (id, file) links inside that folder only,
    so that the folder can be published on its own."""
    parts = [
        f"# {escape.markdown(title)}",
        "",
        lead,
        "",
        f"| variant | {column} |",
        "| --- | --- |",
    ]
    parts += [f"| {ident} | [{name}]({name}) |" for ident, name in files]
    return "\n".join(parts) + "\n"


def students_index(sheets: Sequence[tuple[str, str]], title: str) -> str:
    """The students' index: (id, sheet file) links, and how to hand in. Nothing else — it is
    published, so it names no key and no config."""
    lead = (
        f"{_variants(len(sheets))}: do the one you were given. Its id is at the top of the "
        "sheet; write it in your answers file as the sheet shows."
    )
    return folder_index(title, lead, "sheet", sheets)


def keys_index(keys: Sequence[tuple[str, str]], title: str) -> str:
    """The answer keys' index, for publishing the solutions once the work is marked."""
    lead = f"The worked solution of each of the {_variants(len(keys))}, step by step."
    return folder_index(f"{title}: answer keys", lead, "answer key", keys)


def teachers_index(
    entries: Sequence[tuple[str, str, str, str, str]],
    about: Sequence[str],
    mark: str,
    column: str = "E",
) -> str:
    """The teacher's index: (id, sheet, key, config, E) per variant, what was drawn and how
    (`about`), and the command that marks a class (`mark`). `column`: what the last column
    shows (a graph's output, f: it has no loss E)."""
    parts = [
        "# Exercise variants: the teacher's index",
        "",
        *about,
        "",
        "Publish [questions/](questions/index.md) (the sheets and the students' index); "
        "[keys/](keys/index.md) holds the solutions, to publish once the work is marked, and "
        "`configs/` what `backtrace` marks against.",
        "",
        f"| variant | sheet | answer key | config | {column} |",
        "| --- | --- | --- | --- | ---: |",
    ]
    parts += [f"| {i} | [{q}]({q}) | [{k}]({k}) | [{c}]({c}) | {e} |" for i, q, k, c, e in entries]
    parts += ["", "Mark a class's answers files, a row each in a spreadsheet:", ""]
    parts += ["```bash", mark, "```"]
    return "\n".join(parts) + "\n"
