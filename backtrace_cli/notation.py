"""The lecture's unit numbering: units 1…n across the whole network, inputs first.

`w13` is the weight from unit 1 to unit 3; past unit 9 the two numbers are separated by an
underscore (`w9_12`). In a layer matrix, row = unit of this layer, column = unit before.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Numbering:
    """Global unit numbers of a layered network."""

    layers: tuple[int, ...]  # units per layer, inputs first

    def first(self, layer: int) -> int:
        """Number of the first unit of `layer` (0 = inputs)."""
        return 1 + sum(self.layers[:layer])

    def unit(self, layer: int, index: int) -> int:
        """Global number of unit `index` (0-based) of `layer`."""
        return self.first(layer) + index

    def locate(self, unit: int) -> tuple[int, int] | None:
        """(layer, index) of a global unit number, or None when there is no such unit."""
        start = 1
        for layer, width in enumerate(self.layers):
            if start <= unit < start + width:
                return layer, unit - start
            start += width
        return None

    @property
    def total(self) -> int:
        return sum(self.layers)


def pair(i: int, j: int) -> str:
    """The subscript of a connection: `13`, or `9_12` once a number has two digits."""
    return f"{i}{j}" if i < 10 and j < 10 else f"{i}_{j}"


def weight_name(i: int, j: int) -> str:
    return "w" + pair(i, j)


_WEIGHT = re.compile(r"w(?:(\d+)_(\d+)|(\d)(\d))")
_BIAS = re.compile(r"b(\d+)")


def parse_weight(name: str) -> tuple[int, int] | None:
    """`w13` → (1, 3); `w9_12` → (9, 12); anything else → None."""
    m = _WEIGHT.fullmatch(name)
    if not m:
        return None
    a, b, c, d = m.groups()
    return (int(a), int(b)) if a is not None else (int(c), int(d))


def parse_bias(name: str) -> int | None:
    """`b3` → 3; anything else → None."""
    m = _BIAS.fullmatch(name)
    return int(m.group(1)) if m else None
