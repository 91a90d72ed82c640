"""A network's layers: each one file with its parameters, its forward pass (output and a cache)
and its backward pass (what the layer below receives, and its parameters' gradients).

The engine runs a spec's layers bottom up and back down; `KINDS` looks a layer up by name (a
`model:`'s tensor layers: `model_kinds.MODEL_KINDS`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from .dense import Dense
from .dropout import Dropout
from .upstream import FromAbove, FromLoss

if TYPE_CHECKING:  # numpy.typing costs start-up time; annotations only
    import numpy.typing as npt

    from ...definitions.notations import Names
    from ...worked import Section
    from ..rows import View
    from ..spec import Spec
    from .tensor import Letters

    Array = npt.NDArray[np.float64]
    Carry = Callable[[Array], Array]

__all__ = [
    "KINDS",
    "Dense",
    "Dropout",
    "FromAbove",
    "FromLoss",
    "Layer",
    "TensorLayer",
    "build",
    "stack",
]


class Layer(Protocol):
    """One layer. Sign convention (the lecture's): what flows down is −∂E/∂(the layer's
    output), and a parameter's gradient is −∂E/∂θ summed over the samples."""

    kind: str  # as KINDS names it
    new_units: bool  # its outputs are new units (dense), or the units below passed on (dropout)
    NAMES: Mapping[str, Names]  # its quantities in each book (the lecture's: the trace's own)

    @property
    def parameters(self) -> dict[str, Array]:
        """Its trained arrays by name ("weight", "bias"); none for dropout."""
        ...

    def forward(self, x: Array, carry: Carry) -> tuple[Array, Any]:
        """Its output for rows of inputs `x`, and what its backward pass needs."""
        ...

    def backward(
        self, cache: Any, upstream: FromAbove | FromLoss, carry: Carry, below: bool = True
    ) -> tuple[Any, ...]:
        """(what the layer below receives — None unless `below` —, its parameters' gradients by
        name, then whatever else its records show: a dense layer's ∂o/∂net, δ, carried parts)."""
        ...

    # Its rows, for one sample (`rows.View`) at its position in `stack`: static, read from what
    # the update computed. A kind of new units also gives SENT_DOWN, sent_down,
    # unchanged_counts and parameter_name; one that passes units on, passes, passed_on, factor,
    # factor_rule and unchanged (docs/layers.md).

    @staticmethod
    def forward_rows(view: View, position: int) -> list[Section]: ...

    @staticmethod
    def delta_rows(view: View, position: int) -> list[Section]: ...

    @staticmethod
    def update_rows(view: View, position: int) -> list[Section]: ...

    @staticmethod
    def decayed(spec: Spec, position: int) -> list[tuple[str, float]]:
        """Its weights as L2 weight decay sums them: (name, value)."""
        ...


KINDS: dict[str, type] = {Dense.kind: Dense, Dropout.kind: Dropout}


class TensorLayer(Protocol):
    """A layer of a `model:` (torch's nn.Sequential): one sample's tensor in, one out, no
    batch dimension. Its module gives ARGUMENTS, shape(arguments, shape_in),
    parameter_shapes(arguments) and written(arguments) for the config reader; the class runs
    and writes it (docs/layers.md, "A tensor layer's members"). Same sign as `Layer`: δ is
    −∂E/∂(its output), its gradients −∂E/∂θ."""

    kind: str
    LETTERS: Letters  # its quantities in each book, as the lecture's heads (tensor.Letters)

    @property
    def parameters(self) -> dict[str, Array]: ...

    def forward(self, x: Array, carry: Carry) -> tuple[Array, Any]: ...

    def backward(
        self, cache: Any, upstream: Array, carry: Carry, below: bool = True
    ) -> tuple[Array | None, dict[str, Array]]: ...

    @staticmethod
    def forward_rows(view: Any, p: int) -> list[Section]: ...

    @staticmethod
    def delta_rows(view: Any, p: int) -> list[Section]:
        """The δ of its input, each entry from the δ above; a layer with parameters also has
        GRADIENT_RULE and gradient_terms(view, p): each entry's −∂E/∂θ as its row writes it."""
        ...


def stack(count: int, dropped: Sequence[object | None] | None) -> tuple[tuple[type, int], ...]:
    """A network's layers bottom up as (kind, position), in `build`'s order: dense layer k
    (1…count) makes layer k's units; a dropout at position p (0: the inputs) passes layer p's
    on, wherever `dropped[p]` is not None."""
    out: list[tuple[type, int]] = []
    for k in range(count):
        if dropped is not None and k < len(dropped) and dropped[k] is not None:
            out.append((Dropout, k))
        out.append((Dense, k + 1))
    return tuple(out)


def build(
    spec: Spec,
    weights: Sequence[Array],
    biases: Sequence[Array | None] | None,
    keeps: Sequence[Array | None] | None = None,
) -> tuple[Dense | Dropout, ...]:
    """A spec's layers bottom up, with these weights: each dense layer, preceded by the dropout
    on its inputs where `keeps` (masks already scaled by 1/(1 − rate)) has one."""
    stack: list[Dense | Dropout] = []
    for k, (w, activation) in enumerate(zip(weights, spec.functions)):
        if keeps is not None and keeps[k] is not None:
            stack.append(Dropout(keeps[k]))
        stack.append(Dense(w, None if biases is None else biases[k], activation))
    return tuple(stack)
