"""The operations of a computational graph: one definition each, read by every stage.

An operation is its name (what the parser accepts), its forward value and its local
gradients (∂out/∂argument, given the arguments and the output), the domain it is defined on,
and its formulas as the trace writes them, in text and in LaTeX, for the value and for each
local gradient. Each writer takes the operands as strings (names, or numbers already
formatted), so the same definition writes `q·z` and `3·(−4)`. Derivatives at a kink are the
ones PyTorch's autograd uses (relu′(0) = 0, |x|′ at 0 = 0, max and min split a tie equally).

Python floats (float64); sigmoid, tanh and relu are the layered networks' own definitions
(`activations`), so each is written once.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from . import activations

Writer = Callable[..., str]


@dataclass(frozen=True, slots=True)
class Op:
    """One operation of the graph."""

    name: str  # "mul": the JSON's `op`, and the function name for calls
    arity: int
    forward: Callable[..., float]  # arguments → value
    local: tuple[Callable[..., float], ...]  # per argument: (arguments..., out) → ∂out/∂arg
    text: Writer  # operand strings → "q·z"
    latex: Writer  # LaTeX operand strings → "q \\cdot z"
    local_text: tuple[Writer, ...]  # per argument: (operands..., out) → "z"
    local_latex: tuple[Writer, ...]
    pattern: str = ""  # the gate pattern, named in the backward pass
    usage: str = ""  # how a call is written, for error messages
    domain: Callable[..., str | None] = lambda *args: None  # arguments → problem, or None
    is_function: bool = False  # called by name: exp(x)
    routes: bool = False  # selects where the gradient goes (relu, max, min): a local gradient
    # of 0 passes nothing, even an infinite or nan upstream, as autograd's masks do


def _bare(operand: str) -> str:
    """A number wrapped as "(−2)" for a product is written bare inside a function's own
    parentheses: σ(−2), not σ((−2))."""
    if operand.startswith("(") and operand.endswith(")") and ")" not in operand[1:-1]:
        return operand[1:-1]
    return operand


def _tie(first: float, second: float, wins: bool) -> float:
    """max/min routing: 1 to the winner, 0 to the other, ½ each on a tie (PyTorch)."""
    if first == second:
        return 0.5
    return 1.0 if wins else 0.0


def _pow(a: float, b: float) -> float:
    return math.pow(a, b)


def _pow_domain(a: float, b: float) -> str | None:
    if a < 0 and b != int(b):
        return "a negative number to a power that is not whole has no real value"
    if a == 0 and b < 0:
        return "division by 0: 0 to a negative power"
    return None


def _pow_base(a: float, b: float, out: float) -> float:
    # ∂(a^b)/∂a = b·a^(b − 1); 0 where b = 0, as PyTorch has it
    if b == 0:
        return 0.0
    if a == 0 and b < 1:
        return math.inf  # reported by the engine: infinite at 0
    return b * math.pow(a, b - 1)


def _pow_exponent(a: float, b: float, out: float) -> float:
    # ∂(a^b)/∂b = a^b·ln a; PyTorch takes it as 0 where a = 0 and b ≥ 0
    if a == 0 and b >= 0:
        return 0.0
    if a < 0:
        return math.nan  # reported by the engine: ln of a negative base
    return out * math.log(a)


def _fn(name: str, a: str) -> str:
    return f"{name}({_bare(a)})"


OPS: dict[str, Op] = {}
FUNCTIONS: dict[str, Op] = {}  # the operations called by name: exp(x)


def _define(op: Op) -> None:
    OPS[op.name] = op
    if op.is_function:
        FUNCTIONS[op.name] = op


_define(
    Op(
        "add",
        2,
        lambda a, b: a + b,
        (lambda a, b, out: 1.0, lambda a, b, out: 1.0),
        lambda a, b: f"{a} + {b}",
        lambda a, b: f"{a} + {b}",
        (lambda a, b, out: "1", lambda a, b, out: "1"),
        (lambda a, b, out: "1", lambda a, b, out: "1"),
        pattern="add distributes: each input gets the upstream gradient unchanged",
    )
)
_define(
    Op(
        "sub",
        2,
        lambda a, b: a - b,
        (lambda a, b, out: 1.0, lambda a, b, out: -1.0),
        lambda a, b: f"{a} − {b}",
        lambda a, b: f"{a} - {b}",
        (lambda a, b, out: "1", lambda a, b, out: "−1"),
        (lambda a, b, out: "1", lambda a, b, out: "-1"),
        pattern="subtract distributes: the first input gets the upstream gradient, the "
        "second its negative",
    )
)
_define(
    Op(
        "mul",
        2,
        lambda a, b: a * b,
        (lambda a, b, out: b, lambda a, b, out: a),
        lambda a, b: f"{a}·{b}",
        lambda a, b: f"{a} \\cdot {b}",
        (lambda a, b, out: _bare(b), lambda a, b, out: _bare(a)),
        (lambda a, b, out: _bare(b), lambda a, b, out: _bare(a)),
        pattern="multiply swaps: each input's local gradient is the other input's value",
    )
)
_define(
    Op(
        "div",
        2,
        lambda a, b: a / b,
        (lambda a, b, out: 1.0 / b, lambda a, b, out: -a / (b * b)),
        lambda a, b: f"{a}/{b}",
        lambda a, b: f"\\frac{{{_bare(a)}}}{{{_bare(b)}}}",
        (lambda a, b, out: f"1/{b}", lambda a, b, out: f"−{a}/{b}²"),
        (
            lambda a, b, out: f"\\frac{{1}}{{{_bare(b)}}}",
            lambda a, b, out: f"-\\frac{{{_bare(a)}}}{{{b}^{{2}}}}",
        ),
        domain=lambda a, b: "division by 0: the divisor is 0" if b == 0 else None,
    )
)
_define(
    Op(
        "neg",
        1,
        lambda a: -a,
        (lambda a, out: -1.0,),
        lambda a: f"−{a}",
        lambda a: f"-{a}",
        (lambda a, out: "−1",),
        (lambda a, out: "-1",),
    )
)
_define(
    Op(  # a node that is another value under a new name (`y: q`), or a constant (`c: 3`)
        "id",
        1,
        lambda a: a,
        (lambda a, out: 1.0,),
        _bare,
        _bare,
        (lambda a, out: "1",),
        (lambda a, out: "1",),
    )
)
_define(
    Op(
        "pow",
        2,
        _pow,
        (_pow_base, _pow_exponent),
        lambda a, b: f"{a}^{b}",
        lambda a, b: f"{{{a}}}^{{{_bare(b)}}}",
        (
            lambda a, b, out: f"{b}·{a}^({_bare(b)} − 1)",
            lambda a, b, out: f"{a}^{b}·ln({_bare(a)})",
        ),
        (
            lambda a, b, out: f"{b} \\cdot {{{a}}}^{{{_bare(b)} - 1}}",
            lambda a, b, out: f"{{{a}}}^{{{_bare(b)}}} \\ln({_bare(a)})",
        ),
        domain=_pow_domain,
    )
)


def _function(
    name: str,
    forward: Callable[[float], float],
    local: Callable[[float, float], float],
    text: Writer,
    latex: Writer,
    local_text: Writer,
    local_latex: Writer,
    domain: Callable[[float], str | None] = lambda a: None,
    pattern: str = "",
    routes: bool = False,
) -> None:
    _define(
        Op(
            name,
            1,
            forward,
            (local,),
            text,
            latex,
            (local_text,),
            (local_latex,),
            pattern=pattern,
            usage=f"{name}(x)",
            domain=domain,
            is_function=True,
            routes=routes,
        )
    )


_function(
    "exp",
    math.exp,
    lambda a, out: out,
    lambda a: _fn("exp", a),
    lambda a: f"e^{{{_bare(a)}}}",
    lambda a, out: _fn("exp", a),
    lambda a, out: f"e^{{{_bare(a)}}}",
)
_function(
    "log",
    math.log,
    lambda a, out: 1.0 / a,
    lambda a: _fn("ln", a),
    lambda a: f"\\ln({_bare(a)})",
    lambda a, out: f"1/{a}",
    lambda a, out: f"\\frac{{1}}{{{_bare(a)}}}",
    domain=lambda a: None if a > 0 else f"log of {_plain(a)}: log is defined for values > 0",
)
_function(
    "sqrt",
    math.sqrt,
    lambda a, out: 0.5 / out if out > 0 else math.inf,
    lambda a: f"√{a}",
    lambda a: f"\\sqrt{{{_bare(a)}}}",
    lambda a, out: f"1/(2·√{a})",
    lambda a, out: f"\\frac{{1}}{{2\\sqrt{{{_bare(a)}}}}}",
    domain=lambda a: (
        None
        if a >= 0
        else f"sqrt of a negative number ({_plain(a)}): sqrt is defined for values ≥ 0"
    ),
)
_function(
    "abs",
    abs,
    lambda a, out: (a > 0) - (a < 0),
    lambda a: f"|{_bare(a)}|",
    lambda a: f"\\lvert {_bare(a)} \\rvert",
    lambda a, out: _fn("sign", a),
    lambda a, out: f"\\operatorname{{sign}}({_bare(a)})",
)


def _activation(name: str) -> None:
    """An activation of the layered networks as a graph function: the same definition
    (`activations`) gives its value, its derivative and how both are written."""
    act = activations.get(name)

    def slope(a: str, out: str) -> str:
        return act.slope.replace("{o}", out).replace("{net}", _bare(a))

    def local(a: float, out: float) -> float:
        return float(act.derivative(np.float64(a), np.float64(out)))

    _function(
        name,
        act.scalar,
        local,
        lambda a: f"{act.symbol}({_bare(a)})",
        lambda a: f"{act.latex}({_bare(a)})",
        slope,
        lambda a, out: slope(a, out).replace("−", "-").replace("²", "^{2}"),
        pattern=_PATTERNS.get(name, ""),
        routes=name == "relu",
    )


_PATTERNS = {
    "relu": "relu routes: it passes the upstream gradient where its input is > 0, else 0",
}
for _name in ("sigmoid", "tanh", "relu"):
    _activation(_name)


def _two(name: str, wins: Callable[[float, float], bool], pattern: str, sign: str) -> None:
    tex = "\\max" if name == "max" else "\\min"
    _define(
        Op(
            name,
            2,
            max if name == "max" else min,
            (
                lambda a, b, out: _tie(a, b, wins(a, b)),
                lambda a, b, out: _tie(b, a, wins(b, a)),
            ),
            lambda a, b: f"{name}({_bare(a)}, {_bare(b)})",
            lambda a, b: f"{tex}({_bare(a)}, {_bare(b)})",
            (
                lambda a, b, out: f"[{_bare(a)} {sign} {_bare(b)}]",
                lambda a, b, out: f"[{_bare(b)} {sign} {_bare(a)}]",
            ),
            (
                lambda a, b, out: f"[{_bare(a)} {sign} {_bare(b)}]",
                lambda a, b, out: f"[{_bare(b)} {sign} {_bare(a)}]",
            ),
            pattern=pattern,
            usage=f"{name}(a, b)",
            is_function=True,
            routes=True,
        )
    )


_two(
    "max",
    lambda a, b: a > b,
    "max routes: the whole upstream gradient goes to the larger input, none to the other "
    "(a tie splits it equally, as PyTorch does)",
    ">",
)
_two(
    "min",
    lambda a, b: a < b,
    "min routes: the whole upstream gradient goes to the smaller input, none to the other "
    "(a tie splits it equally, as PyTorch does)",
    "<",
)

COPY_PATTERN = "a copy sums: {name} feeds {count} nodes, so its gradient is the sum of the branches"


def _plain(value: float) -> str:
    return f"{value:.6g}".replace("-", "−")
