"""A `model:` config as the tool holds it once validated: torch's `nn.Sequential`, layer by
layer, with its parameters under torch's state-dict names (`0.weight`, `conv.bias`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..definitions import optimizers
from .spec import Sample

if TYPE_CHECKING:  # numpy.typing costs start-up time; annotations only
    import numpy as np
    import numpy.typing as npt

    from ..core.errors import ConfigError

    Array = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class LayerSpec:
    """One entry of `model:`: its kind, its name (torch's: the index, or `name:`), its
    arguments with defaults filled in, and the shapes it maps (without a batch dimension)."""

    kind: str  # "linear", "conv1d", "maxpool2d", "flatten", … or an activation's name
    name: str  # "0", "conv": what its parameters are called under (`conv.weight`)
    # (("in_features", 2), ("bias", True)); a 2-D layer's sizes a pair, (("kernel_size", (2, 2)),)
    arguments: tuple[tuple[str, int | float | bool | tuple[int, int]], ...]
    shape_in: tuple[int, ...]  # (features,), (channels, length) or (channels, height, width)
    shape_out: tuple[int, ...]

    def argument(self, key: str) -> int | float | bool | tuple[int, int]:
        return dict(self.arguments)[key]


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """A validated `model:` with tensor layers (conv1d, pooling, flatten) and what to train it
    on. A model of linear layers and activations alone is read into a network's `Spec`
    instead, so it traces exactly as `layers:` does (`Spec.model` keeps its layers)."""

    name: str
    source: str
    layers: tuple[LayerSpec, ...]
    parameters: tuple[tuple[str, Array], ...]  # state-dict order: "0.weight", "0.bias", …
    loss: str
    learning_rate: float
    samples: tuple[Sample, ...]  # inputs shaped as the first layer takes them
    mode: str = "online"
    batch_gradient: str = "mean"
    description: str = ""
    optimizer: optimizers.Settings = field(default_factory=optimizers.Settings)
    weight_decay: float = 0.0
    notation: str = "lecture"  # the textbook whose names and δ sign its trace writes
    # the optimizer's state after `updates` updates: each state line's values ("m", "v") by
    # parameter, shaped as it is — `step --save` writes it, so a run continues exactly
    optimizer_state: tuple[tuple[str, tuple[tuple[str, Array], ...]], ...] = ()
    updates: int = 0  # t: the updates made so far (bias correction)
    # what a layer keeps that is no parameter, under torch's state-dict names (batch norm's
    # `1.running_mean`, `1.running_var`, `1.num_batches_tracked`): never trained, updated by
    # each training forward pass
    buffers: tuple[tuple[str, Array], ...] = ()
    shuffle: bool = False  # a new sample order every epoch, drawn from `seed` (`order.py`)
    seed: int = 0
    epochs_done: int = 0  # epochs trained before (step --save): shuffles and masks continue
    # why a training pass is refused where eval mode still traces it (batch norm with its
    # running statistics, in online mode or on one value per feature), located in the config
    training_refused: ConfigError | None = field(default=None, compare=False)

    def state(self, name: str) -> dict[str, Array]:
        """The optimizer state's values of parameter `name`, by line (none yet: empty)."""
        for parameter, lines in self.optimizer_state:
            if parameter == name:
                return dict(lines)
        return {}

    @property
    def input_shape(self) -> tuple[int, ...]:
        return self.layers[0].shape_in

    @property
    def output_shape(self) -> tuple[int, ...]:
        return self.layers[-1].shape_out

    def parameter(self, name: str) -> Array:
        return dict(self.parameters)[name]

    @property
    def parameter_count(self) -> int:
        """Its parameters' entries in all (`run --format json` writes every term of a sum up
        to JSON_IN_FULL of them, as for a network)."""
        return sum(int(value.size) for _, value in self.parameters)
