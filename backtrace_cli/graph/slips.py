"""Named slips of a computational graph's backward pass: a row's formula rewritten — from its
structure (`worked.Formula`: which operand is the upstream gradient, which the local one,
which gate's local gradient that is) — into the formula a student who makes the slip computes,
as a `formula` tree. `solution.solve` writes each as a template over the trace's names on the
solution's line, and marking evaluates it as it does a traced row (with the student's own
earlier values where they gave them), so a slip is named wherever it gives their value.

The slips (PRODUCT.md, "Marking rules, third pass"):
- the local gradient left out: ∂f/∂n5 = ∂f/∂n6·∂n6/∂n5 written ∂f/∂n6 (exp's, σ′, … forgotten);
- the upstream gradient left out: written ∂n6/∂n5 alone;
- a multiply gate not swapped: ∂q/∂x for q = x·z written x, its own input, not z;
- a branch's gradients not summed: ∂f/∂x for an x used twice written as one branch's.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from .. import formula
from ..formula import Apply, Num, Ref
from ..worked import Equation, Operand

LOCAL = "the local gradient left out (the upstream gradient alone)"
UPSTREAM = "the upstream gradient left out (the local gradient alone)"
SWAP = "a multiply gate not swapped (its own input instead of the other one)"
BRANCH = "a branch's gradients not summed (one branch of a value used twice)"


def slips(row: Equation, rows: Mapping[str, Equation], output: str) -> tuple[tuple[str, str], ...]:
    """Each slip that applies to this row: (its name, the formula it gives as a template over
    the trace's names). `rows`: the trace's rows by symbol (a product's local gradient is read
    from its own row); `output`: the graph's output, whose own gradient is 1."""
    return tuple((name, formula.template(f)) for name, f in _rewrites(row, rows, output))


def _rewrites(
    row: Equation, rows: Mapping[str, Equation], output: str
) -> Iterator[tuple[str, formula.Formula]]:
    written = row.structure
    if written is None:  # a row without a graph formula: none of these slips
        return
    if written.writer == "product" and len(written.operands) == 2:
        upstream, local = (_operand(o) for o in written.operands)
        yield LOCAL, upstream
        yield UPSTREAM, local
        own = _own_input(rows.get(written.operands[1].name or ""), rows)
        if own is not None:
            yield SWAP, Apply("mul", (upstream, own))
    elif written.writer == "sum":
        for branch in written.operands:
            yield BRANCH, _operand(branch)
    elif written.part is not None:  # a local gradient
        if row.symbol.startswith(f"∂{output}/∂"):  # the output's: ∂f/∂d = σ′(d)·1
            yield LOCAL, Num(1.0)
        own = _own_input(row, rows)
        if own is not None:
            yield SWAP, own


def _own_input(row: Equation | None, rows: Mapping[str, Equation]) -> formula.Formula | None:
    """A multiply gate's local gradient written with the input's own value: ∂q/∂x = x for
    q = x·z (the gate's operands are its inputs, then its value). A node's value is the
    student's where they gave it; a graph's input is given, its number written in."""
    if row is None or row.structure.writer != "mul" or row.structure.part is None:
        return None
    own = row.structure.operands[row.structure.part]
    return Ref(own.name) if own.name in rows else Num(own.value)


def _operand(operand: Operand) -> formula.Formula:
    return Num(operand.value) if operand.name is None else Ref(operand.name)
