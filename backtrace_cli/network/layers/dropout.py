"""Inverted dropout on a layer's inputs: õ = m·o/(1 − rate), m the keep-mask (1 kept, 0 dropped).
Backward multiplies by the same m/(1 − rate), so a dropped unit's δ is 0."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from ...definitions.notations import Names, either
from . import dropout_rows

if TYPE_CHECKING:  # numpy.typing costs start-up time; annotations only
    import numpy.typing as npt

    from ...worked import Section
    from ..config import Spec
    from ..rows import View
    from .upstream import FromAbove

    Array = npt.NDArray[np.float64]
    Carry = Callable[[Array], Array]

# Its quantities in each book: the letters of the units it passes on (õ_j; x̃_j on the inputs,
# written as the book writes its inputs) and of its mask m_j, and its rules' names, as `dense`'s.
NAMES = {
    "nielsen": Names(
        units={"õ": "ã", "m": "m", "x̃": "ã"},  # the inputs are layer 1's a^1_j: dropped, ã^1_j
        heads={"õ": "ã"},
        generic=either(
            {("õ", "i"): "ã^(l−1)_k", ("m", "j"): "m^l_j", ("õ", "j"): "ã^l_j", ("x̃", "j"): "ã^1_j"}
        ),
    ),
    "hagan": Names(
        units={"õ": "ã", "m": "m"},
        inputs={"x̃": "p̃"},
        heads={"õ": "ã"},
        generic=either(
            {("õ", "i"): "ã^(m−1)_j", ("m", "j"): "m^m_i", ("õ", "j"): "ã^m_i", ("x̃", "j"): "p̃_i"}
        ),
    ),
    "mazur": Names(units={"õ": "õut", "m": "m"}, inputs={"x̃": "ĩ"}, heads={"õ": "õut"}),
}

NO_GRADIENTS: dict[str, Array] = {}  # dropout trains nothing (never mutated)


class Dropout(NamedTuple):  # a tuple: built for every update, and cheaper than a dataclass
    """The scaled keep-mask m/(1 − rate) (rows: samples, or one row shared by all)."""

    keep: Array
    kind = dropout_rows.KIND  # no annotation: a class attribute, not a field
    new_units = False  # it passes the units below on (õ_j), scaled or dropped
    NAMES = NAMES  # its quantities in each book

    @property
    def parameters(self) -> dict[str, Array]:
        return NO_GRADIENTS

    def forward(self, x: Array, carry: Carry) -> tuple[Array, None]:
        """õ = o·m/(1 − rate), carried; nothing to keep: the mask is the layer's."""
        return carry(x * self.keep), None

    def backward(
        self, cache: None, upstream: FromAbove, carry: Carry, below: bool = True
    ) -> tuple[FromAbove, dict[str, Array]]:
        """The gradient times m/(1 − rate): a factor the layer below multiplies in after its
        ∂o/∂net, in the order the trace writes its δ."""
        return upstream.times(self.keep), NO_GRADIENTS

    # ------------------------------------------------------------ its rows (`dropout_rows`)

    @staticmethod
    def forward_rows(view: View, p: int) -> list[Section]:
        """Layer p's outputs through the mask: õ_j = m_j·o_j/(1 − rate)."""
        return [dropout_rows.dropout_section(view, p)]

    @staticmethod
    def delta_rows(view: View, p: int) -> list[Section]:
        """None of its own: its factor is in the δ of the units it passed on (`factor`)."""
        return []

    @staticmethod
    def update_rows(view: View, p: int) -> list[Section]:
        return []  # nothing trained

    @staticmethod
    def decayed(spec: Spec, p: int) -> list[tuple[str, float]]:
        return []  # no weights

    passes = dropout_rows.PASSES  # what a rule calls the units it passes on: õ_i
    passed_on = staticmethod(dropout_rows.passed_on)
    factor = staticmethod(dropout_rows.factor)
    factor_rule = staticmethod(dropout_rows.factor_rule)
    unchanged = staticmethod(dropout_rows.unchanged)
