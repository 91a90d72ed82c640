"""Expressions of a computational graph: text → the tool's own node types. Never `eval`.

A small recursive-descent parser over this grammar (power binds tighter than a unary minus on
its left, as in Python and in maths: −x^2 = −(x^2); it groups to the right: 2^3^2 = 2^(3^2)):

    sum     := product (("+" | "−") product)*
    product := unary (("*" | "·" | "×" | "/") unary)*
    unary   := ("−" | "+") unary | power
    power   := atom (("^" | "**") unary)?
    atom    := number | name | function "(" sum ("," sum)* ")" | "(" sum ")"

Names are looked up by the caller (inputs and nodes); the functions are the ones `operations`
defines, nothing else: a call of anything else, attribute access, quotes, brackets and every
other character are refused with the place they occur. Cheap to import: no numpy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..core import numerals
from ..definitions.operations import FUNCTIONS

MAX_LENGTH = 10_000  # characters in one expression
MAX_DEPTH = 60  # nested parentheses, calls, unary signs and powers
MAX_OPERATIONS = 500  # operations in one expression: beyond what a person follows


class ExpressionError(Exception):
    """A problem at `offset` (0-based) in the expression's text."""

    def __init__(self, offset: int, problem: str) -> None:
        self.offset = offset
        self.problem = problem
        super().__init__(problem)


@dataclass(frozen=True, slots=True)
class Num:
    """A constant as written: `3`, `0.5`."""

    value: float
    at: int


@dataclass(frozen=True, slots=True)
class Var:
    """A name: an input or another node."""

    name: str
    at: int


@dataclass(frozen=True, slots=True)
class Apply:
    """An operation (`operations.OPS` key) applied to its arguments; `at` is where the
    operator or the function's name stands."""

    op: str
    args: tuple[Num | Var | Apply, ...]
    at: int


Expr = Num | Var | Apply

_TOKEN = re.compile(
    r"\s*(?:"
    r"(?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)"
    r"|(?P<name>[^\W\d]\w*)"
    r"|(?P<op>\*\*|[-+*/^(),·×−])"
    r")"
)
_BINARY = {"+": "add", "-": "sub", "−": "sub", "*": "mul", "·": "mul", "×": "mul", "/": "div"}
_HINTS = {
    ".": "attribute access (a dot after a name) is not part of an expression",
    "'": "quotes have no meaning in an expression: write names and numbers as they are",
    '"': "quotes have no meaning in an expression: write names and numbers as they are",
    "[": "brackets have no meaning in an expression: use ( and )",
    "]": "brackets have no meaning in an expression: use ( and )",
    "{": "braces have no meaning in an expression: use ( and )",
    "}": "braces have no meaning in an expression: use ( and )",
    "=": "an expression has no `=`: give the right-hand side only (under `nodes:`, the node's "
    "name is the key)",
    "%": "% is not an operator here; use + − * / ^",
    "@": "@ is not an operator here; use + − * / ^",
    "!": "! is not an operator here; use + − * / ^",
    "<": "comparisons are not part of an expression; max(a, b) and min(a, b) are",
    ">": "comparisons are not part of an expression; max(a, b) and min(a, b) are",
}


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # "number", "name", "op", "end", or "bad"
    text: str
    at: int


def _tokens(text: str) -> list[_Token]:
    out: list[_Token] = []
    at = 0
    while True:
        while at < len(text) and text[at].isspace():
            at += 1
        if at == len(text):
            out.append(_Token("end", "", at))
            return out
        match = _TOKEN.match(text, at)
        if match is None or match.end() == at:
            out.append(_Token("bad", text[at], at))  # refused where the parser meets it
            out.append(_Token("end", "", at))
            return out
        kind = match.lastgroup or "bad"
        out.append(_Token(kind, match.group(kind), match.start(kind)))
        at = match.end()


def _quote(text: str) -> str:
    return repr(text if len(text) <= 30 else text[:27] + "...")


class _Parser:
    def __init__(self, text: str, names: frozenset[str] | None) -> None:
        self.tokens = _tokens(text)
        self.position = 0
        self.depth = 0
        self.operations = 0

    @property
    def token(self) -> _Token:
        return self.tokens[self.position]

    def take(self) -> _Token:
        token = self.token
        self.position += 1
        return token

    def nested(self, at: int) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExpressionError(
                at, f"nested more than {MAX_DEPTH} levels deep; split it into `nodes:`"
            )

    def counted(self, op: str, args: tuple[Expr, ...], at: int) -> Apply:
        self.operations += 1
        if self.operations > MAX_OPERATIONS:
            raise ExpressionError(
                at, f"more than {MAX_OPERATIONS:,} operations; a graph is for a person to follow"
            )
        return Apply(op, args, at)

    def unexpected(self, wanted: str) -> ExpressionError:
        token = self.token
        if token.kind == "end":
            return ExpressionError(token.at, f"the expression ends where {wanted} should follow")
        if token.kind == "bad":
            hint = _HINTS.get(token.text, "use names, numbers, + − * / ^ ** and ( )")
            return ExpressionError(token.at, f"unexpected {token.text!r}: {hint}")
        return ExpressionError(token.at, f"unexpected {_quote(token.text)}; expected {wanted}")

    def parse(self) -> Expr:
        tree = self.sum()
        if self.token.kind != "end":
            if self.token.text in ("(",) or self.token.kind in ("name", "number"):
                raise ExpressionError(
                    self.token.at,
                    f"unexpected {_quote(self.token.text)}: write * between factors",
                )
            raise self.unexpected("an operator (+ − * / ^) or the end")
        return tree

    def sum(self) -> Expr:
        left = self.product()
        while self.token.kind == "op" and self.token.text in ("+", "-", "−"):
            op = self.take()
            right = self.product()
            left = self.counted(_BINARY[op.text], (left, right), op.at)
        return left

    def product(self) -> Expr:
        left = self.unary()
        while self.token.kind == "op" and self.token.text in ("*", "·", "×", "/"):
            op = self.take()
            right = self.unary()
            left = self.counted(_BINARY[op.text], (left, right), op.at)
        return left

    def unary(self) -> Expr:
        token = self.token
        if token.kind == "op" and token.text in ("-", "−", "+"):
            self.take()
            self.nested(token.at)
            operand = self.unary()
            self.depth -= 1
            if token.text == "+":
                return operand
            if isinstance(operand, Num):  # −3 is a constant, not an operation on one
                return Num(-operand.value, token.at)
            return self.counted("neg", (operand,), token.at)
        return self.power()

    def power(self) -> Expr:
        base = self.atom()
        if self.token.kind == "op" and self.token.text in ("^", "**"):
            op = self.take()
            self.nested(op.at)
            exponent = self.unary()  # 2^−1, and right-associative: 2^3^2 = 2^(3^2)
            self.depth -= 1
            return self.counted("pow", (base, exponent), op.at)
        return base

    def atom(self) -> Expr:
        token = self.token
        if token.kind == "number":
            trouble = numerals.problem(token.text)
            if trouble:  # 1e999 is not a silent inf, 1e-999 not a silent 0
                raise ExpressionError(token.at, trouble)
            self.take()
            return Num(float(token.text), token.at)
        if token.kind == "name":
            self.take()
            if self.token.kind == "op" and self.token.text == "(":
                return self.call(token)
            if self.token.kind == "bad" and self.token.text == ".":
                raise ExpressionError(self.token.at, _HINTS["."])
            return Var(token.text, token.at)
        if token.kind == "op" and token.text == "(":
            self.take()
            self.nested(token.at)
            inner = self.sum()
            self.depth -= 1
            if not (self.token.kind == "op" and self.token.text == ")"):
                raise self.unexpected("a closing )")
            self.take()
            return inner
        raise self.unexpected("a number, a name, a function or (")

    def call(self, name: _Token) -> Apply:
        function = FUNCTIONS.get(name.text)
        if function is None:
            raise ExpressionError(
                name.at,
                f"{_quote(name.text)} is not a function here; the functions are "
                f"{', '.join(FUNCTIONS)}",
            )
        self.take()  # (
        self.nested(name.at)
        args = [self.sum()]
        while self.token.kind == "op" and self.token.text == ",":
            self.take()
            args.append(self.sum())
        self.depth -= 1
        if not (self.token.kind == "op" and self.token.text == ")"):
            raise self.unexpected("a closing ) or a comma")
        self.take()
        if len(args) != function.arity:
            wanted = "one argument" if function.arity == 1 else f"{function.arity} arguments"
            raise ExpressionError(
                name.at, f"{name.text} takes {wanted}, found {len(args)}: {function.usage}"
            )
        return self.counted(function.name, tuple(args), name.at)


def parse(text: str) -> Expr:
    """Parse one expression, or raise `ExpressionError` at the offending character."""
    if len(text) > MAX_LENGTH:
        raise ExpressionError(
            0, f"{len(text):,} characters; an expression may have at most {MAX_LENGTH:,}"
        )
    if not text.strip():
        raise ExpressionError(0, "empty; write an expression such as (x + y) * z")
    return _Parser(text, None).parse()


def names(tree: Expr) -> list[Var]:
    """Every name the expression uses, in reading order."""
    out: list[Var] = []
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, Var):
            out.append(node)
        elif isinstance(node, Apply):
            stack.extend(reversed(node.args))
    return out
