"""What the homework question says: a model's problem statement (`statement.Statement`) as
markdown — its symbols in LaTeX, its numbers formatted, its rules as math. Which model it is, it
never asks: the statement says how its names are written."""

from __future__ import annotations

from collections.abc import Callable

from ..definitions.operations import OPS
from ..statement import Expression, Given, Node, Number, Part, Rule, Statement, Symbol
from ..worked import Operand
from .graph_formula import constant, latex_formula, latex_name, write
from .latex import latex_number, latex_symbol, math_inline
from .numbers import NumberFormat
from .rules import rule_markdown

LATEX_SOURCE_NODES = 60  # larger expressions are quoted as written, not rebuilt in LaTeX

# how a statement's names are written (`Statement.names`): the name in LaTeX, and whether a
# given's number goes inside the math ($x = 0.5$) or beside it ($x_1$ = 0.5)
NAMES: dict[str, tuple[Callable[[str], str], bool]] = {
    "trace": (latex_symbol, False),
    "graph": (latex_name, True),
}


def problem(statement: Statement, fmt: NumberFormat) -> str:
    """The statement as one markdown paragraph, sentence by sentence."""
    latex, given_in_math = NAMES[statement.names]

    def part(p: Part) -> str:
        if isinstance(p, str):
            return p
        if isinstance(p, Symbol):
            return math_inline(latex(p.name))
        if isinstance(p, Given):
            if given_in_math:
                return math_inline(f"{latex(p.name)} = {latex_number(p.value, fmt)}")
            return f"{math_inline(latex(p.name))} = {fmt(p.value)}"
        if isinstance(p, Number):
            return fmt(p.value)
        if isinstance(p, Rule):
            return rule_markdown(p.text)
        if isinstance(p, Node):
            return math_inline(f"{latex(p.name)} = {latex_formula(p.formula)}")
        return _expression(p, latex)

    return " ".join("".join(part(p) for p in sentence) for sentence in statement.sentences)


def notes(statement: Statement, fmt: NumberFormat) -> list[str]:
    """The statement's notes (a square matrix's layout), a paragraph each after it."""
    found = []
    for note in statement.notes:
        found += [f"**Note:** {problem(Statement(statement.names, (note,)), fmt)}", ""]
    return found


def _expression(expression: Expression, latex: Callable[[str], str]) -> str:
    """`output = …` in math, rebuilt from its nodes; quoted as written where it is long."""
    if len(expression.nodes) > LATEX_SOURCE_NODES:
        return f"`{expression.output} = {expression.written[:60]}…`"
    return math_inline(f"{latex(expression.output)} = {_latex_source(expression)}")


def _latex_source(expression: Expression) -> str:
    """The one-line expression, rebuilt from its nodes in LaTeX (nothing recomputed)."""
    rows = {node.name: node for node in expression.nodes}
    named = {node.name for node in expression.nodes if node.named}

    def expand(name: str) -> str:
        formula = rows[name].formula

        def operand(o: Operand) -> str:
            if o.name is None:
                return constant(o, True)
            if o.name in rows and o.name not in named:
                inner = expand(o.name)
                op = OPS[rows[o.name].formula.writer]
                simple = op.is_function or op.name in ("pow", "id")
                return inner if simple or _wrapped(formula.writer) else f"\\left({inner}\\right)"
            return latex_name(o.name)

        return write(formula, operand, latex=True)

    return expand(expression.output)


def _wrapped(writer: str) -> bool:
    """Operations whose LaTeX groups each operand already (functions, fractions)."""
    return OPS[writer].is_function or writer in ("div", "id", "add")
