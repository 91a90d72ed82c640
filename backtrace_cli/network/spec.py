"""A layered network as the tool holds it once validated: `Spec`, its samples and its dropout."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ..definitions import activations as activation_functions
from ..definitions import notation, optimizers

if TYPE_CHECKING:  # numpy.typing costs start-up time; annotations only
    import numpy.typing as npt

    Array = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True, eq=False)
class Sample:
    """One training example."""

    inputs: Array  # shape (layers[0],)
    targets: Array  # shape (layers[-1],)


@dataclass(frozen=True, slots=True, eq=False)
class Spec:
    """A validated network and what to train it on. Arrays are read-only."""

    name: str
    source: str  # the file it came from, or "built-in example NAME"
    layers: tuple[int, ...]  # units per layer, inputs first
    activations: tuple[str, ...]  # one per non-input layer
    loss: str
    learning_rate: float
    samples: tuple[Sample, ...]
    mode: str  # "online": update after each sample; "batch": one update per epoch
    batch_gradient: str  # batch mode: "mean" or "sum" of the per-sample gradients
    weights: tuple[
        Array, ...
    ]  # per non-input layer: row = unit of this layer, column = unit before
    # per non-input layer a vector, or None for a layer without bias terms; None: no layer has any
    biases: tuple[Array | None, ...] | None
    train_biases: bool
    weight_style: str  # "named", "matrices", "init" or "model": how the user wrote them
    description: str = ""
    shuffle: bool = False  # online mode: a new sample order every epoch, drawn from `seed`
    seed: int = 0

    dropout: Dropout | None = None
    leaky_relu_slope: float = activation_functions.LEAKY_SLOPE
    optimizer: optimizers.Settings = field(default_factory=optimizers.Settings)  # plain SGD
    weight_decay: float = 0.0  # L2: g = ∂E/∂w + λ·w, on weights only
    optimizer_state: optimizers.State | None = None  # None: every state 0, t = 0
    epochs_done: int = 0  # epochs trained before (step --save): shuffles and masks continue
    notation: str = "lecture"  # the textbook whose symbols the trace uses (notations.NAMES)
    # the layout `weights:` states for its matrices, "units × inputs" or "inputs × units"
    # (`weights` above is held units × inputs either way); None: not stated
    weight_layout: str | None = None
    # a `model:` config's layers (`model_spec.LayerSpec`s) read into this network: `step --save`
    # writes them back with torch's state-dict names; None: a `layers:` config
    model: tuple[Any, ...] | None = None

    @property
    def numbering(self) -> notation.Numbering:
        return notation.Numbering(self.layers)

    @property
    def functions(self) -> tuple[activation_functions.Activation, ...]:
        """The activation definitions, one per non-input layer."""
        return _functions(self.activations, self.leaky_relu_slope)

    @property
    def settings(self) -> dict[str, float]:
        """The activations' parameters this network uses, by config key: leaky_relu_slope."""
        return {a.setting: getattr(self, a.setting) for a in self.functions if a.setting}


@dataclass(frozen=True, slots=True, eq=False)
class Dropout:
    """Keras-style inverted dropout on the outputs of the inputs and hidden layers.

    Position p is layer p of `layers` (0: the inputs); there is one position per layer
    except the output layer. Kept outputs are scaled by 1/(1 − rate).
    """

    rates: tuple[float, ...]  # per position; 0 means no dropout there
    seed: int
    shared_mask: bool  # batch mode: one mask for all samples of the batch (noise_shape (1, n))
    masks: tuple[Array | None, ...]  # per position: a fixed 0/1 keep-mask, or None (drawn)

    @property
    def active(self) -> bool:
        return any(rate > 0 for rate in self.rates)

    def scale(self, position: int) -> float:
        return 1.0 / (1.0 - self.rates[position])


@functools.lru_cache(maxsize=256)
def _functions(
    names: tuple[str, ...], leaky_slope: float
) -> tuple[activation_functions.Activation, ...]:
    """The definitions for a network's activations (cached: the engine asks every update)."""
    return tuple(activation_functions.get(a, leaky_slope) for a in names)


def frozen(values: Any) -> Array:
    """A read-only float64 array: stored arrays never change."""
    array = np.array(values, dtype=np.float64)
    array.setflags(write=False)
    return array


def dropout_layer_names(layers: tuple[int, ...]) -> list[str]:
    """The names dropout uses for the layers it can follow: inputs, hidden1, hidden2, …"""
    return ["inputs"] + [f"hidden{k}" for k in range(1, len(layers) - 1)]
