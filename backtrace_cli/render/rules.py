"""A rule or a convention as markdown: its formulas as inline LaTeX, its words as prose."""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..definitions import activations, notations, optimizers
from .latex import BOOK_WORDS, SCIENTIFIC, functions, math_inline, powers

_RULE_WORDS = re.compile(r"[A-Za-z]{3,}")


_RULE_NAMES = {
    "net",
    "new",
    *notations.WORDS,
    *(a.rule_name for a in activations.ACTIVATIONS.values()),
}


_RULE_SUBSCRIPT = re.compile(rf"(net|{BOOK_WORDS}|x̃|õ|(?!Σ)[^\W\d_])_([a-z]+\d*)")


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
    ("λ", "\\lambda "),
    ("θ", "\\theta "),
    ("Δ", "\\Delta "),
    ("ln", "\\ln"),
    ("ḡ", "\\bar{g}"),
    ("α", "\\alpha "),
    ("…", "\\ldots "),
]


# an optimizer's equations, as its definition writes them in LaTeX (a convention quotes its rule)
_EQUATIONS = {
    text: tex
    for optimizer in optimizers.OPTIMIZERS.values()
    for weights in (True, False)
    for text, tex in optimizer.equations(weights)
}


def _equation(span: str) -> str | None:
    """An optimizer's equation in LaTeX, its learning rate η or a book's α (Hagan's)."""
    if "α" not in span:
        return _EQUATIONS.get(span)
    tex = _EQUATIONS.get(span.replace("α", "η"))  # no optimizer's own letters use α
    return None if tex is None else tex.replace("\\eta", "\\alpha")


_CONNECTIVES = {"if", "of", "or", "to", "by", "at", "on", "in", "is", "as", "A"}


_MATHS = re.compile(r"[=←·Σ∂/^′²><−+_()]")


def _prose(token: str) -> bool:
    """A word of the sentence around a formula: "before", "(the", "if"; not "net" or "σ′"."""
    if re.fullmatch(r"\(BP[1-4]\)[,.;:]?", token):  # the name Nielsen gives an equation
        return True
    words = re.findall(r"[A-Za-z']+", token)
    return any((len(w) >= 3 and w not in _RULE_NAMES) or w in _CONNECTIVES for w in words)


def _rule_part(part: str, whole: bool = False) -> str:
    """A rule or a convention with its formulas as inline math and its prose as prose:
    "δ_j = −∂E/∂net_j" → math; "w before the update" → $w$ before the update. `whole`: each
    formula braced, which KaTeX never breaks (a line breaks before it, not after its "−")."""
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
            tex = _equation(span) or _rule_tex(span)
            out.append(math_inline("{" + tex + "}" if whole else tex) + tail)
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
    text = powers(text)  # e^\mathit{net}_{k} → e^{\mathit{net}_{k}}: the subscript goes up too
    text = re.sub(r"\^(−?)(\\mathit\{net\}|\w+)", r"^{\1\2}", text)  # e^−net: all of it up
    text = text.replace("′", "'")
    for plain, tex in _RULE_LITERALS[:4]:  # new, Σ before σ
        text = text.replace(plain, tex)
    text = functions(text)
    for plain, tex in _RULE_LITERALS[4:]:
        text = text.replace(plain, tex)
    text = text.replace("δ", "\\delta ")
    text = re.sub(r"NEW(w_\{[a-z]+\}|b_\{[a-z]+\})", r"\1^{\\text{new}}", text)
    text = re.sub(r"NEW\s*([wb]\^\{[^{}]*\}_\{[^{}]*\})", r"{\1}^{\\text{new}}", text)  # books'
    text = text.replace("NEW", "\\text{new }")
    text = text.replace("⁺", "^{+}")  # Mazur's updated weight, w_ij⁺
    return SCIENTIFIC.sub(
        lambda m: f"{m.group(1)} \\times 10^{{{'-' if m.group(2) == '-' else ''}{m.group(3)}}}",
        text,
    )


def rule_markdown(rule: str, whole: bool = False) -> str:
    """A rule or convention: its parts (split at commas outside parentheses) each as math
    where they are formulas (`whole`: each unbreakable), as prose where they are words."""
    parts, depth, start = [], 0, 0
    for n, char in enumerate(rule):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0 and rule[n + 1 : n + 2] == " ":
            parts.append(rule[start:n])
            start = n + 2
    parts.append(rule[start:])
    return ", ".join(_rule_part(part.strip(), whole) for part in parts)


def conventions(notes: Sequence[str]) -> list[str]:
    """The conventions, their formulas as math, as the notes write them: a list item each."""
    return [f"- {rule_markdown(note)}" for note in notes]


def latex_rule_markdown(latex: str) -> str:
    """A rule its definition writes in LaTeX (an optimizer's update): each equation its own
    inline math, braced so that KaTeX never breaks inside it — a narrow page breaks the line
    between two equations, never after "w ← w −"."""
    parts = latex.split(optimizers.RULE_LATEX_JOIN)
    return ", ".join(math_inline("{" + part + "}") for part in parts)
