"""A computational graph's formulas as text and as LaTeX, each written by its operation's own
writer (`operations`); numbers are the values the records hold, written by `NumberFormat`."""

from __future__ import annotations

import re
import unicodedata

from ..definitions.optimizers import LATEX
from ..graph.formula import terms, write
from ..worked import Formula, Operand
from .latex import latex_number
from .numbers import MINUS, NumberFormat

# ---------------------------------------------------------------- as text

# a row's formula is written by the graph model's own writer: marking writes its slot
# template with the same one
formula_terms = terms


def constant(operand: Operand, latex: bool) -> str:
    text = operand.text.replace(MINUS, "-") if latex else operand.text
    return f"({text})" if text.startswith(("-", MINUS)) else text


def text_name(o: Operand) -> str:
    return o.name if o.name is not None else constant(o, False)


def text_number(o: Operand, fmt: NumberFormat) -> str:
    return fmt.operand(o.value) if o.name is not None else constant(o, False)


def text_formula(formula: Formula) -> str:
    return write(formula, text_name, latex=False)


def text_working(formula: Formula, fmt: NumberFormat) -> str:
    return write(formula, lambda o: text_number(o, fmt), latex=False)


# ---------------------------------------------------------------- in LaTeX


_GREEK = {
    "alpha": "\\alpha",
    "beta": "\\beta",
    "gamma": "\\gamma",
    "delta": "\\delta",
    "epsilon": "\\epsilon",
    "eta": "\\eta",
    "theta": "\\theta",
    "lambda": "\\lambda",
    "mu": "\\mu",
    "rho": "\\rho",
    "sigma": "\\sigma",
    "tau": "\\tau",
    "phi": "\\phi",
    "omega": "\\omega",
    "α": "\\alpha",
    "β": "\\beta",
    "γ": "\\gamma",
    "δ": "\\delta",
    "ε": "\\epsilon",
    "η": "\\eta",
    "θ": "\\theta",
    "λ": "\\lambda",
    "μ": "\\mu",
    "ρ": "\\rho",
    "σ": "\\sigma",
    "τ": "\\tau",
    "φ": "\\phi",
    "ω": "\\omega",
    "Δ": "\\Delta",
    # batch norm's statistics (a model's heads: σ²1[0], x̂1[0], Σδx̂1[0])
    "σ²": "{\\sigma^{2}}",
    "x̂": "\\hat{x}",
    "Σδ": "\\Sigma\\delta",
    "Σδx̂": "\\Sigma\\delta\\hat{x}",
    "Σs": "\\Sigma s",  # Hagan's: the batch's sums of its sensitivities
    "Σsx̂": "\\Sigma s\\hat{x}",
}


_NAME = re.compile(r"([^\W\d_]+?)(hat)?_?(\d*)")


def latex_name(name: str) -> str:
    """A graph's name in LaTeX: x0 → x_{0}, theta → \\theta, yhat → \\hat{y}, q → q."""
    if name.startswith("new "):
        base = latex_name(name[4:])
        return ("{" + base + "}" if "^" in base else base) + "^{\\text{new}}"
    if name.startswith("∂"):
        return _latex_gradient(name)
    if name.endswith("⁺"):  # Mazur's updated parameter: w_h1[0,1]⁺
        return "{" + latex_name(name[:-1]) + "}^{+}"
    if name.endswith("(k+1)"):  # Hagan's: w^1[0,1](k+1)
        return latex_name(name[:-5]) + "(k+1)"
    tagged = re.fullmatch(r"(.+)⁽(\d+)⁾", name)  # a model's batch: sample 2's x[0,1]⁽2⁾
    if tagged:
        return "{" + latex_name(tagged.group(1)) + "}^{\\langle " + tagged.group(2) + "\\rangle}"
    book = _BOOK.fullmatch(name)
    if book:
        return _book_entry(*book.groups())
    indexed = _INDEXED.fullmatch(name)
    if indexed:
        return _latex_entry(*indexed.groups())
    if name.startswith(_WORDS[2]):  # a count, no index: num_batches_tracked1
        return _latex_entry(name, "").removesuffix("_{}")
    match = _NAME.fullmatch(name)
    if match is None:
        base, _, sub = name.partition("_")
        head = _word(base) if base else "\\_"
        return f"{head}_{{{_word(sub)}}}" if sub else head
    base, hat, digits = match.groups()
    head = _word(base)
    if hat:
        head = f"\\hat{{{head}}}"
    return f"{head}_{{{digits}}}" if digits else head


_INDEXED = re.compile(r"(.+)\[([^\[\]]+)\]")  # a model's tensor entry: y0[1,2], w_conv[0,0,1]
_STATE = re.compile(r"([^_]+)_([wb](?:\d|_).*)")  # an optimizer's state of one: m_w0[0,0,1]
_LAYERED = re.compile(r"([^\W\d_]+?[\u0302\u0303²]?)(\d+|_\w+)?")  # y0, δ0, w_conv, x̂1, σ²1, h̃0
_CELL = re.compile(r"(.+)_l(\d+)(_reverse)?")  # an rnn's stacked layers: h0_l1, w_ih0_l0_reverse
# batch norm's buffers, torch's words: running_mean1[0], num_batches_tracked1
_WORDS = ("running_mean", "running_var", "num_batches_tracked")


def _latex_entry(base: str, index: str) -> str:
    """A tensor's entry: y0[1,2] → y^{(0)}_{1,2} (layer 0's output, channel 1, position 2);
    m_w0[0,0,1] → m_{w^{(0)}_{0,0,1}}, an optimizer's state of that weight."""
    state = _STATE.fullmatch(base)
    if state:
        return f"{_word(state.group(1))}_{{{_latex_entry(state.group(2), index)}}}"
    cell = _CELL.fullmatch(base)
    if cell:  # an rnn's stacked layer and direction: h0_l1_reverse[2,0] → h^{(0,\,ℓ1,\,←)}_{2,0}
        inner = _latex_entry(cell.group(1), index)
        tag = f",\\,\\ell_{{{cell.group(2)}}}" + (",\\,\\leftarrow" if cell.group(3) else "")
        return inner.replace(")}", tag + ")}", 1) if ")}" in inner else inner
    word = next((w for w in _WORDS if base.startswith(w) and base != w), None)
    layered = _LAYERED.fullmatch(base)
    if word is None and layered is None:
        return f"{_word(base)}_{{{index}}}"
    letters, layer = (word, base[len(word) :]) if word else layered.groups()  # type: ignore[union-attr]
    head = _word(letters) if not word else "\\mathit{" + word.replace("_", "\\_") + "}"
    if layer:  # a layer's number, or a book's words: Mazur's w_ih_h1 → w^{(ih,\,h1)}
        parts = [p if p.isdigit() else _word(p) for p in layer.lstrip("_").split("_")]
        head += "^{(" + ",\\,".join(parts) + ")}"
    return f"{head}_{{{index}}}"


# a model's tensor in a textbook's notation (network/model_notation.py): z^2[0,1], its stacked
# layer's a^2_l1[0,1], an optimizer's state of one m_w^2[0,0,1] (torch's names have no ^)
_BOOK = re.compile(
    r"((?:m|v|s|g|m̂|v̂|Δ)_)?([^\^\[\]]+)\^(\d+)(?:_l(\d+)(_reverse)?)?(?:\[([^\[\]]+)\])?"
)


def _book_entry(
    state: str | None, head: str, layer: str, cell: str | None, reverse: str | None, index: str
) -> str:
    """z^2[0,1] → z^{2}_{0,1}; w_ih^2_l1[0,1] → {w_{\\mathit{ih}}}^{2,\\,\\ell_{1}}_{0,1};
    m_w^2[0] → m_{w^{2}_{0}}."""
    if head in _WORDS:
        written = "\\mathit{" + head.replace("_", "\\_") + "}"
    elif "_" in head:  # an rnn's w_ih: its weights from the input
        base, _, sub = head.partition("_")
        written = f"{_word(base)}_{{\\mathit{{{sub}}}}}"
    else:
        written = _word(head)
    above = layer
    if cell is not None:
        above += f",\\,\\ell_{{{cell}}}" + (",\\,\\leftarrow" if reverse else "")
    out = f"{{{written}}}^{{{above}}}" + (f"_{{{index}}}" if index else "")
    return f"{_word(state[:-1])}_{{{out}}}" if state else out


def _word(text: str) -> str:
    if len(text) > 2 and text[0] in _GREEK and "\u0303" in text[1:]:
        return _GREEK[text[0]] + " " + _word(text[1:])  # an rnn's δh̃: δ of a dropped state
    decomposed = unicodedata.normalize("NFD", text)
    if "\u0303" in decomposed:  # a dropped copy: ã, p̃, õut (a textbook's dropout)
        plain = decomposed.replace("\u0303", "")
        return ("\\tilde{%s}" if len(plain) == 1 else "\\widetilde{%s}") % _word(plain)

    if text in _GREEK:
        return _GREEK[text]
    if text in LATEX:
        return LATEX[text]
    if len(text) == 1 and text.isascii():
        return text
    if len(text) > 1 and text[0] in _GREEK and text[1:].isascii() and text[1:].isalpha():
        return _GREEK[text[0]] + " " + _word(text[1:])  # an rnn's δh, δnet: δ kept
    safe = re.sub(r"[^A-Za-z0-9]", "", text) or "v"
    if not text.isascii():
        return f"\\text{{{safe}}}"
    return f"\\mathit{{{safe}}}"


def _latex_gradient(symbol: str) -> str:
    """∂f/∂q → \\frac{\\partial f}{\\partial q}; "∂f/∂x via q (1st)" marks the branch."""
    main, _, via = symbol.partition(" via ")
    suffix = ""
    match = re.fullmatch(r"(.*) \((\d)\w\w\)", main)
    if match:
        main, suffix = match.group(1), f"^{{({match.group(2)})}}"
    top, _, bottom = main.partition("/")
    frac = f"\\frac{{\\partial {latex_name(top[1:])}}}{{\\partial {latex_name(bottom[1:])}}}"
    if via:
        node, _, which = via.partition(" (")
        mark = f",\\,{which[0]}" if which else ""
        return f"\\left.{frac}\\right|_{{\\text{{via }} {latex_name(node)}{mark}}}"
    return frac + suffix


def latex_operand_number(o: Operand, fmt: NumberFormat) -> str:
    if o.name is None:
        return constant(o, True)
    text = latex_number(o.value, fmt)
    return f"({text})" if text.startswith("-") else text


def latex_operand_name(o: Operand) -> str:
    return latex_name(o.name) if o.name is not None else constant(o, True)


def latex_formula(formula: Formula) -> str:
    return write(formula, latex_operand_name, latex=True)


def latex_working(formula: Formula, fmt: NumberFormat) -> str:
    return write(formula, lambda o: latex_operand_number(o, fmt), latex=True)
