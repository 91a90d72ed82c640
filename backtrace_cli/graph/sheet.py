"""A computational graph's names on a sheet: what its exercise asks, and the names an answers
file may use for its rows — a node's or input's name (`q`, `n3`), a gradient `df/dx` or `∂f/∂x`
(and a branch, `df/dx via q`), a local gradient `dq/dx`, a parameter's new value `new w` (or
`w_new`), an optimizer's lines `m_theta`, `Δ_theta`."""

from __future__ import annotations

import re

from ..definitions import notation
from ..definitions.notation import PARTIAL
from ..sheet import Question
from ..worked import Equation
from .trace import GraphTrace


def asked(traced: GraphTrace) -> tuple[str, ...]:
    """What a graph exercise asks — the worked solution's question list (`solution.Solution.
    questions`) — as trace symbols in the trace's order: every node's value, every node's and
    input's gradient ∂f/∂node, and each parameter's update (an optimizer's lines, new w); not
    the chain rule's factors (∂f/∂f, local gradients ∂q/∂x, one branch of a sum)."""
    rows = (row for block in traced.blocks for row in block.rows if isinstance(row, Equation))
    return tuple(dict.fromkeys(row.symbol for row in rows if not row.factor))


# a gradient spelt as a network's is (dE/dw36): df/dx, ∂f/∂x, and a branch "df/dx via q"
_ASCII = re.compile(PARTIAL + r"(?:\s+via\s+(\w+)(\s+\(\d\w\w\))?)?")


def symbol_of(name: str) -> str:
    """An answers file's name → the trace's symbol: df/dx → ∂f/∂x, w_new → new w."""
    name = " ".join(str(name).split())
    name = re.sub(r"^([mv])hat_", "\\1\u0302_", name)  # mhat_theta is m̂_theta, as a network's
    match = _ASCII.fullmatch(name)
    if match:
        top, bottom, via, which = match.groups()
        return f"∂{top}/∂{bottom}" + (f" via {via}{which or ''}" if via else "")
    if name.endswith("_new"):
        return f"new {name[:-4]}"
    if name.startswith("new_"):
        return f"new {name[4:]}"
    return name


def ascii_name(symbol: str) -> str:
    """The name an answers file may use for a trace symbol: ∂f/∂x → df/dx."""
    return symbol.replace("∂", "d")


def meaning(symbol: str) -> str | None:
    """What a graph's symbol stands for, in words: ∂f/∂x → "gradient of f with respect to
    x"; None for a node or an optimizer's line (its formula says it)."""
    branch = re.fullmatch(r"(∂\w+/∂\w+) via (\w+).*", symbol)
    if branch:
        return f"{notation.meaning(branch.group(1))}, the branch through {branch.group(2)}"
    if symbol.startswith("new "):
        return f"{symbol[4:]} after the update"
    return notation.meaning(symbol) if symbol.startswith("∂") else None


def no_such(name: str, symbols: list[str]) -> str:
    """What a graph has instead of an answer's name: its names (the first 14) as a file
    writes them."""
    names = list(dict.fromkeys(symbols))
    shown = [ascii_name(n) for n in names if "(" not in n][:14]
    return f"this graph has no {name}; it has {', '.join(shown)}" + (
        ", …" if len(names) > 14 else ""
    )


def questions(traced: GraphTrace, ask: tuple[str, ...] = ()) -> tuple[Question, ...]:
    """What a graph's sheet asks (`asked` of its traced pass), named as an answers file writes
    them (q, df/dx, new w); or only those `ask` names, in either spelling (df/dx or ∂f/∂x) —
    any row the pass writes, a factor (∂f/∂f, dq/dx) too, as `check --names` lists it.
    Raises ValueError for a name this graph has not, listing the ones it has."""
    every = [Question(1, ascii_name(s), s) for s in asked(traced)]
    if not ask:
        return tuple(every)
    rows = (row for block in traced.blocks for row in block.rows if isinstance(row, Equation))
    known = tuple(dict.fromkeys(row.symbol for row in rows))
    unknown = [a for a in ask if symbol_of(a) not in known]
    if unknown:
        raise ValueError(
            f"{unknown[0]!r} is not a quantity of this graph; ask for any of "
            + ", ".join(q.name for q in every)
        )
    wanted = {symbol_of(a) for a in ask}
    return tuple(Question(1, ascii_name(s), s) for s in known if s in wanted)
