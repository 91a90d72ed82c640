"""Hand-calculation mode: round every carried intermediate as a student does on paper."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # numpy.typing costs start-up time; annotations only
    import numpy.typing as npt

    Array = npt.NDArray[np.float64]

_SPEC = r"([1-9]\d?)(sf|dp)"  # compiled (and cached by `re`) on first use: start-up time
_HELD = 15  # the significant digits a float holds whatever arithmetic made it


def parse(spec: str) -> tuple[int, str] | None:
    """`3sf` → (3, "sf"), `4dp` → (4, "dp"); anything else → None."""
    m = re.fullmatch(_SPEC, spec.strip().lower())
    return (int(m.group(1)), m.group(2)) if m else None


def describe(spec: str) -> str:
    digits, kind = parse(spec) or (0, "")
    unit = "significant figure" if kind == "sf" else "decimal place"
    return f"{digits} {unit}{'s' if digits != 1 else ''}"


def round_value(value: float, spec: str) -> float:
    """One value rounded half away from zero, on the decimal the student sees.

    Rounding goes through the value's shortest decimal repr, so 0.0285 is rounded as the
    decimal 0.0285 a student writes, not as the binary float slightly below it.
    """
    if value == 0 or not math.isfinite(value):
        return value  # before the cache: it would take 0.0 and −0.0 for one key
    return _rounded(float(value), spec)


@lru_cache(maxsize=65536)  # marking a class rounds the same solution values again and again
def _rounded(value: float, spec: str) -> float:
    parsed = parse(spec)
    if parsed is None:
        raise ValueError(f"not a rounding spec: {spec!r}")
    digits, kind = parsed
    d = Decimal(repr(value))
    # a float holds 15 decimal digits safely: rounding past them changes nothing (and would
    # ask Decimal for more digits than its context keeps: 1e30 to 4dp is 35 digits)
    kept = d.adjusted() + 1 + digits if kind == "dp" else digits
    if kept >= _HELD:
        return value
    if len(d.as_tuple().digits) > _HELD:
        # past them is the noise of float arithmetic, 0.0865 + 0.048 = 0.13449999999999998:
        # the decimal a student has is 0.1345, and it rounds up
        d = d.quantize(Decimal(1).scaleb(d.adjusted() - _HELD + 1), rounding=ROUND_HALF_EVEN)
    if kind == "dp":
        quantum = Decimal(1).scaleb(-digits)
    else:
        quantum = Decimal(1).scaleb(d.adjusted() - digits + 1)
    return float(d.quantize(quantum, rounding=ROUND_HALF_UP))


def unit(value: float, spec: str) -> float:
    """The size of one step in the last digit `spec` keeps at `value`: 3sf at 0.0406 → 0.0001."""
    digits, kind = parse(spec) or (0, "")
    if kind == "dp":
        return 10.0**-digits
    if value == 0 or not math.isfinite(value):
        return 0.0
    return 10.0 ** (Decimal(repr(abs(float(value)))).adjusted() - digits + 1)


def written(value: float, spec: str) -> float:
    """A bracket a student works out on the way and writes down — (1 − o²), (Σ …), (√v̂ + ε) —
    rounded as they carry; but never to 0 from a number that is not: nobody divides by a 0
    they rounded to (1 − β2 = 0.001 at 2dp stays 0.001)."""
    rounded = round_value(value, spec)
    return value if rounded == 0 else rounded


class Carrier:
    """`--round`'s carry: every carried value rounded as `round_value` does (call it on an
    array), each bracket a row writes down rounded too (`written`), and which form the trace
    writes a step in where the forms round differently: `chain`, ∂E/∂w as the product of the
    chain rule's factors (`--gradients`); `jacobian`, a softmax output's δ the long way."""

    hand = True  # hand mode: the identity carry (the engine's `exact`) says False

    def __init__(self, spec: str, chain: bool = False, jacobian: bool = False) -> None:
        if parse(spec) is None:
            raise ValueError(f"not a rounding spec: {spec!r}")
        self.spec, self.chain, self.jacobian = spec, chain, jacobian

    def __call__(self, values: Array) -> Array:
        return self._each(values, round_value)

    def written(self, values: Array) -> Array:
        """Each value as a bracket written down (`written`)."""
        return self._each(values, written)

    def _each(self, values: Array, rounded: Callable[[float, str], float]) -> Array:
        spec = self.spec
        if isinstance(values, (float, int)):  # a computational graph carries single numbers
            return rounded(float(values), spec)  # type: ignore[return-value]
        flat = [rounded(float(v), spec) for v in np.asarray(values, dtype=np.float64).ravel()]
        return np.array(flat, dtype=np.float64).reshape(np.shape(values))


def carrier(spec: str, chain: bool = False, jacobian: bool = False) -> Carrier:
    """A carry rounding every value as `round_value` does (`Carrier`)."""
    return Carrier(spec, chain, jacobian)
