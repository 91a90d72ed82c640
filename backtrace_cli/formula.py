"""A trace formula as structure: operations from the registries over named operands.

The trace writes a formula as a template over its operands' names (`{o3}(1 − {o3})·{w35}·{δ5}`).
`parse` reads our own templates — never an answers file's text — into a tree whose inner nodes
are operations, and `evaluate` computes it through each operation's own definition: the
activations' scalar functions (σ, tanh, relu, …), the graph operations' forwards (exp, log,
sqrt, max, sin, …), and arithmetic. Nothing is compiled or executed, so an operation added to a
registry is evaluated here with nothing else changed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from .definitions import activations, operations


@dataclass(frozen=True, slots=True)
class Ref:
    """An operand, by its name in the trace."""

    name: str


@dataclass(frozen=True, slots=True)
class Num:
    """A number the formula writes itself (the 1 of 1 − o, a dropout scale)."""

    value: float


@dataclass(frozen=True, slots=True)
class Apply:
    """An operation applied to its arguments: "mul", "sub", "σ", "exp", "sin", …"""

    op: str
    args: tuple[Formula, ...]


Formula = Ref | Num | Apply

_ARITHMETIC: dict[str, Callable[..., float]] = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "neg": lambda a: -a,
    "pow": math.pow,
    "positive": lambda a, b: 1.0 if a > b else 0.0,  # [x > 0]: relu's derivative
    "not_positive": lambda a, b: 1.0 if a <= b else 0.0,  # [x ≤ 0]
    "ln": math.log,
    "log10": math.log10,  # log base 10: a slip check names
    "exp": math.exp,
    "sqrt": math.sqrt,
    "sign": lambda a: float((a > 0) - (a < 0)),  # a computational graph's |x|′
    "max": max,
    "min": min,
}


@lru_cache(maxsize=1)
def _functions() -> dict[str, Callable[..., float]]:
    """Every operation a formula may apply, by the name the trace writes: arithmetic, then
    the graph operations' forwards (by name), then the activations (by symbol: σ, tanh)."""
    table = dict(_ARITHMETIC)
    for name, op in operations.OPS.items():
        if op.is_function:
            table.setdefault(name, op.forward)
    for symbol, activation in activations.symbols().items():
        table[symbol] = activation.scalar
    return table


def operation(name: str) -> Callable[..., float]:
    """The function a formula's operation applies: arithmetic, a graph operation's forward
    or an activation's scalar form (KeyError for a name no registry has)."""
    return _functions()[name]


def evaluate(
    formula: Formula,
    values: Mapping[str, float],
    written: Callable[[float], float] | None = None,
) -> float | None:
    """The formula's value for these operands; None where it has none (an operand missing,
    a value outside an operation's domain, an overflow). `written`: the rounding a student
    carries, applied to each bracket they write down on the way (`_factor`)."""
    try:
        result = float(_value(formula, values, _functions(), written))
    except (KeyError, ZeroDivisionError, OverflowError, ValueError, TypeError):
        return None
    return result if math.isfinite(result) else None


def _value(
    f: Formula,
    values: Mapping[str, float],
    table: Mapping[str, Callable],
    written: Callable[[float], float] | None = None,
) -> float:
    if isinstance(f, Ref):
        return float(values[f.name])
    if isinstance(f, Num):
        return f.value
    if written is not None and f.op in _PRODUCT:
        left, right = f.args
        # a product's factors: a longer product on the left goes on multiplying, unrounded
        chain = isinstance(left, Apply) and left.op in _PRODUCT
        first = (
            _value(left, values, table, written) if chain else _factor(left, values, table, written)
        )
        return table[f.op](first, _factor(right, values, table, written))
    if written is not None and f.op == "pow":
        base, power = f.args
        return table["pow"](
            _factor(base, values, table, written), _value(power, values, table, written)
        )
    return table[f.op](*(_value(a, values, table, written) for a in f.args))


_PRODUCT = ("mul", "div")
_BRACKETED = ("add", "sub", "mul", "div")  # a factor or a base of these was written in brackets


def _factor(
    f: Formula,
    values: Mapping[str, float],
    table: Mapping[str, Callable],
    written: Callable[[float], float],
) -> float:
    """A factor's value, rounded where a student writes it down: a bracket — (1 − o²),
    (Σ …), (√v̂ + ε), (n·o(1 − o)) —, not a name, a number, a power or a function's value,
    which stay in the calculator."""
    value = _value(f, values, table, written)
    return written(value) if bracketed(f) else value


def bracketed(f: Formula) -> bool:
    """Is the formula, as a factor of a product, written in brackets: a sum, a difference, a
    product (negated or not)?"""
    if isinstance(f, Apply) and f.op == "neg":
        return bracketed(f.args[0])
    return isinstance(f, Apply) and f.op in _BRACKETED


def names(formula: Formula) -> tuple[str, ...]:
    """The operands a formula reads, in order of first appearance."""
    out: dict[str, None] = {}

    def walk(f: Formula) -> None:
        if isinstance(f, Ref):
            out.setdefault(f.name, None)
        elif isinstance(f, Apply):
            for a in f.args:
                walk(a)

    walk(formula)
    return tuple(out)


_INFIX = {"add": " + ", "sub": " − ", "mul": "·", "div": "/", "pow": "^"}


def template(formula: Formula) -> str:
    """A formula written as a template over its operands' {names}, bracketed wherever
    precedence could matter: what `parse` reads back to the same formula. For a formula built
    or rewritten as structure (a named slip's), so that it is marked as a traced row is."""
    if isinstance(formula, Ref):
        return "{" + formula.name + "}"
    if isinstance(formula, Num):
        text = repr(abs(formula.value))
        return f"(−{text})" if formula.value < 0 else text
    args = [template(a) for a in formula.args]
    if formula.op in _INFIX:
        return "(" + _INFIX[formula.op].join(args) + ")"
    if formula.op == "neg":
        return f"(−{args[0]})"
    if formula.op in ("positive", "not_positive"):
        return f"[{args[0]} {'>' if formula.op == 'positive' else '≤'} {args[1]}]"
    if formula.op == "log10":
        return f"log₁₀({args[0]})"
    return f"{formula.op}({', '.join(args)})"


# ---------------------------------------------------------------- reading our templates

_TOKEN = re.compile(
    r"\s*(?:"
    r"(?P<slot>\{[^{}]+\})"
    r"|(?P<num>\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)"
    r"|(?P<log10>log₁₀)"
    r"|(?P<op>[-−+·*/^²½√()\[\],>≤])"  # before words: ² and ½ are alphanumeric to `\w`
    r"|(?P<word>[^\W\d_](?:[^\W²]|′)*)"
    r")"
)


class _Unreadable(Exception):
    """A template this grammar does not cover (a sum written with … or Σ)."""


@lru_cache(maxsize=4096)
def parse(template: str) -> Formula | None:
    """One of our templates as a formula; None for one that is not a formula of its
    operands alone (a long sum written with "…")."""
    if "…" in template or "Σ" in re.sub(r"\{[^{}]+\}", "", template):
        return None
    tokens = _tokens(template)
    if tokens is None:
        return None
    reader = _Reader(tokens)
    try:
        out = reader.expression()
        if reader.peek() is not None:
            return None
    except _Unreadable:
        return None
    return out


def _tokens(template: str) -> list[tuple[str, str]] | None:
    out, at = [], 0
    text = template.rstrip()
    while at < len(text):
        match = _TOKEN.match(text, at)
        if match is None or match.end() == at:
            return None
        kind = match.lastgroup or ""
        out.append((kind, match.group(kind)))
        at = match.end()
    return out


_MINUS = ("-", "−")


class _Reader:
    """Recursive descent over the template's tokens, with the precedence our templates use:
    sums, products (· / and a product written by juxtaposition before a parenthesis),
    a unary minus, powers (^ and ², binding tighter than a minus on their left)."""

    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens, self.at = tokens, 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self, text: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if token is None or (text is not None and token[1] != text):
            raise _Unreadable
        self.at += 1
        return token

    def _is(self, *texts: str) -> bool:
        token = self.peek()
        return token is not None and token[0] == "op" and token[1] in texts

    def expression(self) -> Formula:
        out = self.product()
        while self._is("+", *_MINUS):
            op = "add" if self.take()[1] == "+" else "sub"
            out = Apply(op, (out, self.product()))
        return out

    def product(self) -> Formula:
        out = self.unary()
        while True:
            if self._is("·", "*", "/"):
                op = "div" if self.take()[1] == "/" else "mul"
                out = Apply(op, (out, self.unary()))
            elif self._is("("):  # o(1 − o), 2(o − t): a product written by juxtaposition
                out = Apply("mul", (out, self.unary()))
            else:
                return out

    def unary(self) -> Formula:
        if self._is(*_MINUS):
            self.take()
            return Apply("neg", (self.unary(),))
        if self._is("+"):
            self.take()
            return self.unary()
        return self.power()

    def power(self) -> Formula:
        base = self.postfix()
        if self._is("^"):
            self.take()
            return Apply("pow", (base, self.unary()))
        return base

    def postfix(self) -> Formula:
        out = self.atom()
        while self._is("²"):
            self.take()
            out = Apply("pow", (out, Num(2.0)))
        return out

    def atom(self) -> Formula:
        kind, text = self.take()
        if kind == "slot":
            return Ref(text[1:-1])
        if kind == "num":
            return Num(float(text))
        if kind == "log10":
            return Apply("log10", (self.atom(),))
        if kind == "op":
            return self._bracketed(text)
        return self._word(text)

    def _bracketed(self, text: str) -> Formula:
        if text == "(":
            inner = self.expression()
            self.take(")")
            return inner
        if text == "½":
            return Num(0.5)
        if text == "√":
            return Apply("sqrt", (self.atom(),))
        if text == "[":  # [x > 0]: an indicator, as relu's derivative is written
            left = self.expression()
            compare = self.take()[1]
            if compare not in (">", "≤"):
                raise _Unreadable
            right = self.expression()
            self.take("]")
            return Apply("positive" if compare == ">" else "not_positive", (left, right))
        raise _Unreadable

    def _word(self, word: str) -> Formula:
        if word == "e" and self._is("^"):  # e^net, e^(…): softmax's exponentials
            self.take()
            return Apply("exp", (self.atom(),))
        if word == "ln" and not self._is("("):  # ln o
            return Apply("ln", (self.atom(),))
        if word == "log" and self._is("("):
            word = "ln"  # a graph's log is natural
        if word not in _functions():
            raise _Unreadable
        self.take("(")
        args = [self.expression()]
        while self._is(","):
            self.take()
            args.append(self.expression())
        self.take(")")
        return Apply(word, tuple(args))
