"""A computational graph's formula written out: each operand by a given writer (its name, a
{slot}, a number), as text or LaTeX, in the operation's own words (`operations.OPS`).

Below both the renderers (which write names and numbers) and marking (which writes a row as a
template of {slots} to evaluate).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from ..definitions.operations import OPS
from ..worked import Formula, Operand

_SLOT = re.compile(r"\{([^{}]+)\}")
# f({x}), \tanh ({x}), \operatorname{relu}({x}): a call's own brackets around one slot
_BRACKETED = re.compile(r"(?<=[\w)}])( ?)\(\{([^{}]+)\}\)")


def write(formula: Formula, operand: Callable[[Operand], str], latex: bool) -> str:
    """The formula with each operand written by `operand` (a name, or a number)."""
    return "".join(terms(formula, operand, latex))


def terms(formula: Formula, operand: Callable[[Operand], str], latex: bool) -> list[str]:
    """The formula as its terms, each after the first with its sign (" + b"): a sum's, a
    path each; any other formula is one term."""
    if formula.writer == "sum":
        args = [operand(o) for o in formula.operands]
        return args[:1] + [f" + {arg}" for arg in args[1:]]
    return [_whole(formula, operand, latex)]


def _whole(formula: Formula, operand: Callable[[Operand], str], latex: bool) -> str:
    args = [operand(o) for o in formula.operands]
    if formula.writer == "product":
        return (" \\cdot " if latex else "·").join(args)
    if formula.writer == "seed":
        return "0" if formula.part == 0 else "1"
    if formula.writer == "template":
        by_slot = {o.slot: a for o, a in zip(formula.operands, args)}
        template = formula.template[1] if latex else formula.template[0]
        # a slot the template already brackets, "relu({x})", takes a bracketed number bare
        template = _BRACKETED.sub(
            lambda m: (
                m.group(0)
                if by_slot.get(m.group(2), "")[:1] != "("
                else m.group(1) + "{" + m.group(2) + "}"
            ),
            template,
        )
        # a brace group that names no operand is the template's own LaTeX (\operatorname{relu})
        return _SLOT.sub(lambda m: by_slot.get(m.group(1), m.group(0)), template)
    if formula.writer == "update":
        w, eta, grad = args
        return f"{w} - {eta} \\cdot {grad}" if latex else f"{w} − {eta}·{grad}"
    op = OPS[formula.writer]
    if formula.part is None:
        return (op.latex if latex else op.text)(*args)
    writers = op.local_latex if latex else op.local_text
    return writers[formula.part](*args)
