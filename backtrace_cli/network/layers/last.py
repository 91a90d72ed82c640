"""`last` in a `model:`: an rnn's last step, h_T, as torch takes it (`out[-1]` of the [T][hidden]
the rnn gives). It computes nothing, so it has no rows: the layer above names its inputs as
the entries they are (`h0[2,1]`), and δ flows back to the last step only (the others get 0
from here: their δ comes back through the recurrence)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from ...worked import Section
from .tensor import RENAMES, ModelView

if TYPE_CHECKING:
    import numpy.typing as npt

    from ..model_spec import LayerSpec

    Array = npt.NDArray[np.float64]
    Carry = Callable[[Array], Array]

ARGUMENTS: tuple[tuple[str, Any], ...] = ()


def shape(arguments: dict[str, Any], shape_in: tuple[int, ...]) -> tuple[int, ...] | str:
    if len(shape_in) != 2:
        got = shape_in[0] if len(shape_in) == 1 else "×".join(map(str, shape_in))
        return f"keeps the last step of a sequence (steps × features), and gets {got}"
    return (shape_in[1],)


def parameter_shapes(arguments: dict[str, Any]) -> dict[str, tuple[int, ...]]:
    return {}


def written(arguments: dict[str, Any]) -> str:
    return "keeps h_T"


class Last(NamedTuple):
    spec: LayerSpec
    kind = "last"
    renames = True  # its outputs are its input's last row (`source`)
    only_last = True  # the δ it sends down is 0 but at the last step
    LETTERS = RENAMES  # its outputs are its input's entries, named as they are

    @staticmethod
    def source(index: tuple[int, ...], shape_in: tuple[int, ...]) -> tuple[int, ...]:
        """Which entry of its input its output entry `index` is: (j,) → (T − 1, j)."""
        return (shape_in[0] - 1, *index)

    @property
    def parameters(self) -> dict[str, Array]:
        return {}

    def forward(self, x: Array, carry: Carry) -> tuple[Array, tuple[int, ...]]:
        return x[-1].copy(), x.shape

    def backward(
        self, cache: tuple[int, ...], upstream: Array, carry: Carry, below: bool = True
    ) -> tuple[Array | None, dict[str, Array]]:
        sent = np.zeros(cache)
        sent[-1] = upstream
        return (sent if below else None), {}

    @staticmethod
    def forward_rows(view: ModelView, p: int) -> list[Section]:
        return []

    @staticmethod
    def delta_rows(view: ModelView, p: int) -> list[Section]:
        return []
