"""A quiz's hint (`?`): the rule a question's row follows and the values it needs — never its
answer. Read from the worked solution's row: its formula as structure where the model holds it
so (a graph's operation and operands: a local gradient names its operation's own rule, the seed
says what it is, a chain-rule product the upstream-times-local rule), else its template with the
numbers put in. Numbers that would give the answer away (∂f/∂q = z is z's value) are left out:
the rule and the symbols stand instead."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ..definitions.operations import OPS
from ..worked import Equation, Section

if TYPE_CHECKING:
    from ..render.numbers import NumberFormat

_NUMBER = re.compile(r"(?<![\w.^])[−-]?\d+(?:\.\d+)?(?:e[−+-]?\d+)?(?![\w.])")


def numbers_in(text: str) -> set[str]:
    """The numbers written in a text, as written (− as -): "σ(−0.5)·w13" → {"-0.5"}; a digit
    of a name (w13, n1, x⁽²⁾) is not a number."""
    return {n.replace("−", "-") for n in _NUMBER.findall(text)}


def gives_away(text: str, value: str) -> bool:
    """Whether `text` writes the answer `value` (as the quiz formats it) as one of its numbers."""
    return value.replace("−", "-") in numbers_in(text)


def hint(row: Equation, section: Section, values: dict[str, float], fmt: NumberFormat) -> str:
    """What `?` says of `row` (its symbol first), with `values` — its operands as the session
    carries them — put in where they do not give the answer away."""
    from ..render.numbers import substituted, symbolic

    answer = fmt(row.value)
    template = row.working or row.formula
    shown = symbolic(row.formula)
    formula = f" = {shown}" if "{" in template and shown != row.symbol else ""
    numbers = f"{row.symbol} = {substituted(template, values, fmt)}" if formula else ""
    local = row.structure is not None and row.structure.part is not None
    rules = (*_rules(row, section), _local(row.symbol))
    # a local gradient's numbers come with its operation's rule (d(1/x)/dx with numbers alone
    # reads like any product); any other row's numbers are the hint
    candidates = [f"{numbers} — {rules[0]}"] if local and numbers else []
    candidates += [numbers] if numbers and not local else []
    for rule in rules:
        candidates += [f"{row.symbol}{formula} — {rule}", f"{row.symbol}: {rule}"]
    for text in candidates:  # the numbers, else the rule: whichever does not say the answer
        if not gives_away(text, answer):
            return text
    return f"{row.symbol}: {_local(row.symbol)}"


def _local(symbol: str) -> str:
    """What a chain-rule factor is, from its symbol alone: ∂net3/∂b3."""
    top, _, bottom = symbol.removeprefix("∂").partition("/∂")
    if not bottom:
        return "found from the values it needs, as the section's rule says"
    return f"how {top} changes with {bottom} alone, everything else held fixed"


def _rules(row: Equation, section: Section) -> tuple[str, ...]:
    """The rule a row follows, from its structure where it has one, else its section's; the
    most telling first."""
    structure = row.structure
    if structure is None:  # a network's chain-rule factor (∂net5/∂w35): what it is, first —
        # as the lecture's trace has it (Mazur's asks its factors, but they are factors)
        factor = (row.origin or row).factor and row.symbol.startswith("∂") and "/∂" in row.symbol
        return (_local(row.symbol), section.rule) if factor else (section.rule,)
    if structure.writer == "seed":
        return ("the seed: the output's gradient with respect to itself, where backward starts",)
    op = OPS.get(structure.writer)
    if op is not None and structure.part is not None:
        names = [o.name or o.text for o in structure.operands]
        out, args = names[op.arity] if len(names) > op.arity else "", names[: op.arity]
        wrt = args[structure.part] if structure.part < len(args) else "its input"
        node = f"{out} = {op.text(*args)}" if out else op.text(*args)
        local = op.local_text[structure.part](*args, out)
        own = op.pattern or f"d/d{wrt} of {op.text(*args)} is {local}"
        plain = op.pattern or "its own derivative, the upstream gradient left out"
        return (
            f"the local gradient of {op.name} ({node}) with respect to {wrt}: {own}",
            f"the local gradient of {op.name} with respect to {wrt}: {plain}",
        )
    return (section.rule,)
