"""Hand-calculation mode: round every carried intermediate as a student does on paper."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # numpy.typing costs start-up time; annotations only
    import numpy.typing as npt

    Array = npt.NDArray[np.float64]

_SPEC = re.compile(r"([1-9]\d?)(sf|dp)")


def parse(spec: str) -> tuple[int, str] | None:
    """`3sf` → (3, "sf"), `4dp` → (4, "dp"); anything else → None."""
    m = _SPEC.fullmatch(spec.strip().lower())
    return (int(m.group(1)), m.group(2)) if m else None


def describe(spec: str) -> str:
    digits, kind = parse(spec) or (0, "")
    unit = "significant figure" if kind == "sf" else "decimal place"
    return f"{digits} {unit}{'s' if digits != 1 else ''}"


def carrier(spec: str) -> Callable[[Array], Array]:
    """A carry function rounding half away from zero, on the decimal the student sees.

    Rounding goes through each value's shortest decimal repr, so 0.0285 is rounded as the
    decimal 0.0285 a student writes, not as the binary float slightly below it.
    """
    parsed = parse(spec)
    if parsed is None:
        raise ValueError(f"not a rounding spec: {spec!r}")
    digits, kind = parsed

    def one(value: float) -> float:
        if value == 0 or not np.isfinite(value):
            return value
        d = Decimal(repr(value))
        if kind == "dp":
            quantum = Decimal(1).scaleb(-digits)
        else:
            quantum = Decimal(1).scaleb(d.adjusted() - digits + 1)
        return float(d.quantize(quantum, rounding=ROUND_HALF_UP))

    def carry(values: Array) -> Array:
        flat = [one(float(v)) for v in np.asarray(values, dtype=np.float64).ravel()]
        return np.array(flat, dtype=np.float64).reshape(np.shape(values))

    return carry
