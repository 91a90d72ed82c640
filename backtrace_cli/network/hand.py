"""Hand-calculation mode (`--round`): a definition's quantity worked from the very template the
trace writes it with — an activation's ∂o/∂net, a loss's ∂E/∂o and the factor it puts in δ —
as a student carrying the rounding works it: each bracket written down rounded
(`formula.evaluate`'s `written`), so that every row adds up from the numbers it shows."""

from __future__ import annotations

import math
from collections.abc import Iterable
from functools import partial
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # numpy.typing costs start-up time; annotations only
    import numpy.typing as npt

    from ..core.rounding import Carrier

    Array = npt.NDArray[np.float64]


def worked(carry: Carrier, template: str, factor: bool = False, **operands: Array) -> Array:
    """`template` (slots named as `operands`: {o}, {net}, {t}) worked element by element as
    `carry`'s student works it; `factor`: as one factor of a longer product, where a bracket
    as a whole — (1 − o²) — is written down too. Not itself rounded: the caller carries it."""
    from .. import formula  # start-up: only `--round` works a quantity by hand
    from ..core.rounding import written

    parsed = formula.parse(template)
    assert parsed is not None, template  # the definitions' own templates all parse
    rounded = partial(written, spec=carry.spec)
    bracket = factor and _enclosed(template.strip())
    names = tuple(operands)
    arrays = np.broadcast_arrays(*(np.asarray(a, dtype=np.float64) for a in operands.values()))
    shape = arrays[0].shape if arrays else ()
    out = np.empty(shape)
    for index in np.ndindex(shape):
        values = {name: float(a[index]) for name, a in zip(names, arrays)}
        value = formula.evaluate(parsed, values, rounded)
        if value is None:  # outside the domain (a softmax o_k rounded to 0): as numpy has it
            out[index] = np.nan
        else:
            out[index] = rounded(value) if bracket else value
    return out


def _enclosed(template: str) -> bool:
    """Is the whole template in one pair of brackets, "(1 − {o}²)", so that a product it is a
    factor of writes it down ("{o}(1 − {o})" is two factors of that product)?"""
    if not (template.startswith("(") and template.endswith(")")):
        return False
    depth = 0
    for at, char in enumerate(template):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0:
            return at == len(template) - 1
    return False


def added_up(weight: Array, x: Array, bias: Array | None) -> Array:
    """W·x + b as a student adds it up from the row's numbers (`exact`). Not itself rounded:
    the caller carries it."""
    if not (np.isfinite(weight).all() and np.isfinite(x).all()):
        return weight @ x + (0.0 if bias is None else bias)  # as numpy has it: nothing to add
    out = np.empty(weight.shape[0])
    for j, row in enumerate(weight):
        out[j] = exact(zip(row, x), () if bias is None else (bias[j],))
    return out


def exact(products: Iterable[tuple[float, float]], added: Iterable[float] = ()) -> float:
    """Σ a·b + Σ c, each product and the sum exact on the decimals shown (each number's
    shortest repr), as a student adds a row up: 0.7·0.81 − 0.4·1.48 + 0.1 is 0.075, where
    numpy's order of adding gives 0.07499999999999993 (0.07 at 2dp, not the row's 0.08). A
    non-finite term: the float sum, as numpy has it."""
    from decimal import Decimal  # start-up: only `--round` adds by hand

    pairs = [(float(a), float(b)) for a, b in products]
    rest = [float(c) for c in added]
    if not all(map(math.isfinite, [*(v for p in pairs for v in p), *rest])):
        return math.fsum([*(a * b for a, b in pairs), *rest])
    total = sum((Decimal(repr(a)) * Decimal(repr(b)) for a, b in pairs), Decimal(0))
    return float(total + sum((Decimal(repr(c)) for c in rest), Decimal(0)))
