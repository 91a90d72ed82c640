"""torch's `nn.Flatten()` in a `model:` (one sample: start_dim 0): a (channels, length) tensor
read as one vector, channel after channel. It computes nothing, so it has no rows: the layer
above names its inputs by the entries they are (`y2[1,0]`), and δ flows back unchanged."""

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
    return (int(np.prod(shape_in)),)


def parameter_shapes(arguments: dict[str, Any]) -> dict[str, tuple[int, ...]]:
    return {}


def written(arguments: dict[str, Any]) -> str:
    return ""


class Flatten(NamedTuple):
    spec: LayerSpec
    kind = "flatten"
    renames = True  # its outputs are its inputs' entries, in order (`ModelView.name`)
    LETTERS = RENAMES  # its outputs are its input's entries, named as they are

    @property
    def parameters(self) -> dict[str, Array]:
        return {}

    def forward(self, x: Array, carry: Carry) -> tuple[Array, tuple[int, ...]]:
        return x.reshape(-1), x.shape

    def backward(
        self, cache: tuple[int, ...], upstream: Array, carry: Carry, below: bool = True
    ) -> tuple[Array | None, dict[str, Array]]:
        return (upstream.reshape(cache) if below else None), {}

    @staticmethod
    def forward_rows(view: ModelView, p: int) -> list[Section]:
        return []

    @staticmethod
    def delta_rows(view: ModelView, p: int) -> list[Section]:
        return []
