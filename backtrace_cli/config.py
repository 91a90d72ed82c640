"""YAML config → a validated, immutable `Spec`. All validation of user input lives here."""

from __future__ import annotations

import functools
import itertools
import math
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from . import activations as activation_functions
from . import losses as loss_functions
from . import notation, numerals, optimizers, safefile
from .errors import ConfigError, quote
from .yamlsource import Document, Path, parse

if TYPE_CHECKING:  # numpy.typing costs start-up time; annotations only
    import numpy.typing as npt

    Array = npt.NDArray[np.float64]

ACTIVATIONS = activation_functions.NAMES
LOSSES = loss_functions.NAMES
MODES = ("online", "batch")
BATCH_GRADIENTS = ("mean", "sum")
INITS = ("glorot_uniform", "he_normal", "uniform", "normal")
MAX_UNITS = 100_000  # per layer; keeps a typo from allocating gigabytes
# `run` at these limits takes about a second and well under 1 GiB (README, "Limits"); checked
# before anything is computed, so a class folder's hostile config costs only its own row
MAX_LAYERS = 64  # layers, inputs included: each costs `run` a section of rows
MAX_PARAMETERS = 1_000_000  # weights and biases: 784-1000-10 fits, MNIST-sized and more
MAX_SAMPLES = 10_000  # each epoch trains on every one (`run` traces at most api.MAX_RUN_SAMPLES)

KEYS = (
    "name",
    "description",
    "layers",
    "activation",
    "activations",
    "loss",
    "learning_rate",
    "inputs",
    "targets",
    "samples",
    "mode",
    "batch_gradient",
    "shuffle",
    "seed",
    "weights",
    "biases",
    "train_biases",
    "dropout",
    "optimizer",
    "weight_decay",
    "optimizer_state",
    "leaky_relu_slope",
    "epochs_done",
    "notation",
)
DROPOUT_KEYS = ("rate", "seed", "shared_mask", "masks")


@dataclass(frozen=True, slots=True)
class Sample:
    """One training example."""

    inputs: Array  # shape (layers[0],)
    targets: Array  # shape (layers[-1],)


@dataclass(frozen=True, slots=True)
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
    weight_style: str  # "named", "matrices" or "init": how the user wrote them
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


@dataclass(frozen=True, slots=True)
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


def _frozen(values: Any) -> Array:
    array = np.array(values, dtype=np.float64)
    array.setflags(write=False)
    return array


# ---------------------------------------------------------------- where configs come from


_HERE = os.path.dirname(os.path.abspath(__file__))


def examples_dir() -> str:
    """The built-in examples: shipped in the wheel, or the checkout's top-level `configs/`.

    Plain os.path, not importlib.resources or pathlib: they would cost `run` ~20 ms at start.
    """
    shipped = os.path.join(_HERE, "configs")
    return shipped if os.path.isdir(shipped) else os.path.join(os.path.dirname(_HERE), "configs")


def _example_path(name: str) -> str:
    return os.path.join(examples_dir(), f"{name}.yaml")


def example_names() -> list[str]:
    return sorted(f[: -len(".yaml")] for f in os.listdir(examples_dir()) if f.endswith(".yaml"))


def example_text(name: str) -> str:
    path = _example_path(name)
    if not os.path.isfile(path):
        raise ConfigError(name, None, None, _unknown_example(name))
    with open(path, encoding="utf-8") as stream:
        return stream.read()


def _closest(word: str, options: Sequence[str]) -> str | None:
    import difflib  # only when there is a mistake to explain

    close = difflib.get_close_matches(word, options, n=1)
    return close[0] if close else None


def _unknown_example(name: str) -> str:
    names = example_names()
    close = _closest(name, names)
    hint = f"did you mean {close!r}? " if close else ""
    return f"no such file, and no built-in example of that name; {hint}built-in: {', '.join(names)}"


def load(source: str | None = None) -> Spec:
    """Load a config from a path or a built-in example name (None: the lecture example)."""
    if source is None:
        source = "lecture"
    if os.path.lexists(source) or "/" in source or source.endswith((".yaml", ".yml")):
        # looked at before it is opened: a FIFO, a device or a huge file is refused unread
        return from_text(safefile.read_text(source), source)
    if os.path.isfile(_example_path(source)):
        return from_text(example_text(source), f"built-in example {source!r}")
    raise ConfigError(source, None, None, _unknown_example(source))


def from_text(text: str, file: str) -> Spec:
    """Parse and validate YAML text."""
    return from_document(parse(text, file))


def from_dict(data: dict[str, Any], file: str = "<dict>") -> Spec:
    """Validate a config given as a Python dict (no line numbers)."""
    return from_document(Document(file, data))


# ---------------------------------------------------------------- validation


class _Checker:
    """Reads fields out of a Document, raising located ConfigErrors."""

    def __init__(self, doc: Document) -> None:
        self.doc = doc

    def fail(self, path: Path, problem: str) -> ConfigError:
        return self.doc.error(path, problem)

    def get(self, path: Path) -> Any:
        value = self.doc.value
        for part in path:
            value = value[part]
        return value

    def number(self, path: Path, value: Any, what: str = "a number") -> float:
        written = self.doc.texts.get(tuple(path))
        trouble = numerals.problem(value if written is None else written)
        trouble = trouble or numerals.problem(value)  # a whole number YAML has read (0x…)
        if trouble:  # 1e-400 is not silently 0, a 400-digit integer not an OverflowError
            raise self.fail(path, trouble)
        if isinstance(value, str) and _EXPONENT.fullmatch(value.strip()):
            # YAML 1.1 reads 1e-3 (no dot) as text; people mean the number
            value = float(value)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            hint = ""
            if isinstance(value, str) and "," in value:
                hint = " (use a decimal point, not a comma)"
            raise self.fail(path, f"{_show(value)} is not a number; expected {what}{hint}")
        try:
            number = float(value)
        except OverflowError:
            raise self.fail(path, f"{quote(value)} is too large; expected {what}") from None
        if not math.isfinite(number):
            raise self.fail(path, f"{_show(value)} is not a finite number; expected {what}")
        return number

    def integer(self, path: Path, value: Any, low: int, high: int, what: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(path, f"{_show(value)} is not a whole number; expected {what}")
        if not low <= value <= high:
            raise self.fail(path, f"{quote(value)} is out of range; expected {what}")
        return value

    def choice(self, path: Path, value: Any, options: tuple[str, ...]) -> str:
        if value in options:
            return value
        close = _closest(str(value), options)
        hint = f"; did you mean {close!r}?" if close else ""
        return_options = ", ".join(options)
        raise self.fail(path, f"{_show(value)} is not one of: {return_options}{hint}")

    def vector(self, path: Path, value: Any, length: int, what: str) -> list[float]:
        if not isinstance(value, list):
            raise self.fail(
                path, f"expected a list of {length} numbers ({what}), found {_show(value)}"
            )
        if len(value) != length:
            comma = self.doc.decimal_comma(path, length)
            if comma is not None:
                point = comma.replace(",", ".")
                raise self.fail(
                    path,
                    f"has {_count(len(value), 'number')}: `{comma}` is a decimal comma, read as "
                    f"two numbers; write {point} (expected {length}: {what})",
                )
            raise self.fail(path, f"has {_count(len(value), 'number')}; expected {length} ({what})")
        return [self.number((*path, i), v) for i, v in enumerate(value)]

    def mapping(self, path: Path, value: Any, what: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(path, f"expected a mapping ({what}), found {_show(value)}")
        return value


_EXPONENT = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)[eE][+-]?\d+")


def _count(n: int, noun: str) -> str:
    """1 number, 2 numbers; 1 matrix, 2 matrices."""
    if n == 1:
        return f"1 {noun}"
    return f"{n} {noun[:-1] + 'ices' if noun.endswith('ix') else noun + 's'}"


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"  # as YAML spells it
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if value is None:
        return "nothing (null)"
    return quote(value)  # text quoted; never more than a short piece of what was read


def from_document(doc: Document) -> Spec:
    """Validate a parsed document into a Spec — or, for a config with `expression:` or
    `nodes:`, into a computational graph's `graph.GraphSpec`."""
    from . import graph

    if graph.is_graph(doc.value):
        return graph.from_document(doc)  # type: ignore[return-value]
    c = _Checker(doc)
    data = doc.value
    if not isinstance(data, dict):
        raise ConfigError(
            doc.file,
            doc.line(()),
            None,
            # text is not quoted: a text file given by mistake is never echoed back
            "a config is a mapping of keys (layers, weights, …), found "
            + ("text; is this a YAML config?" if isinstance(data, str) else _show(data)),
        )
    if data and not any(key in KEYS for key in data):
        # nothing of a config in it: likely some other file, whose lines are not repeated
        raise doc.error(
            (), "none of the keys is one a config has (layers, weights, …); is this a YAML config?"
        )
    for key in data:
        if key not in KEYS:
            close = _closest(key, KEYS)
            hint = f"did you mean {close!r}? " if close else ""
            raise c.fail((key,), f"unknown key; {hint}valid keys: {', '.join(KEYS)}")
    for key in ("layers", "weights"):
        if key not in data:
            raise doc.missing(key, f"missing; {_MISSING[key]}")

    layers = _layers(c, data["layers"])
    activations = _activations(c, data, len(layers) - 1)
    loss = c.choice(("loss",), data.get("loss", "half_sse"), LOSSES)
    if "learning_rate" not in data:
        raise doc.missing("learning_rate", f"missing; {_MISSING['learning_rate']}")
    learning_rate = c.number(("learning_rate",), data["learning_rate"], "a learning rate η > 0")
    if learning_rate <= 0:
        raise c.fail(
            ("learning_rate",),
            f"{data['learning_rate']} is not > 0; the learning "
            "rate η must be positive (the lecture uses 1)",
        )
    if activation_functions.get(activations[-1]).output_only and layers[-1] < 2:
        raise c.fail(
            ("layers", len(layers) - 1),
            f"{activations[-1]} needs at least 2 output units, one per class (with 1 unit its "
            "output is always 1); for one yes/no output use sigmoid and bce",
        )
    leaky_slope = activation_functions.LEAKY_SLOPE
    if "leaky_relu_slope" in data:
        leaky_slope = c.number(
            ("leaky_relu_slope",), data["leaky_relu_slope"], "leaky_relu's slope for net ≤ 0"
        )
        if leaky_slope <= 0:
            raise c.fail(
                ("leaky_relu_slope",),
                f"{data['leaky_relu_slope']} is not > 0; leaky_relu's slope for net ≤ 0 must be "
                "positive (PyTorch's default is 0.01; 0 would be relu)",
            )
    samples = _samples(c, data, layers, loss, activations[-1])
    mode = c.choice(("mode",), data.get("mode", "online"), MODES)
    batch_gradient = c.choice(
        ("batch_gradient",), data.get("batch_gradient", "mean"), BATCH_GRADIENTS
    )
    weights, style = _weights(c, data["weights"], layers)
    biases = _biases(c, data["biases"], layers) if data.get("biases") is not None else None
    train_biases = data.get("train_biases", True)
    if not isinstance(train_biases, bool):
        raise c.fail(("train_biases",), f"{_show(train_biases)} is not true or false")
    shuffle = data.get("shuffle", False)
    if not isinstance(shuffle, bool):
        raise c.fail(("shuffle",), f"{_show(shuffle)} is not true or false")
    seed = c.integer(("seed",), data.get("seed", 0), 0, 2**63 - 1, "a whole number ≥ 0")
    dropout = _dropout(c, data["dropout"], layers) if data.get("dropout") is not None else None
    optimizer, weight_decay = _optimizer(c, data)
    epochs_done = c.integer(
        ("epochs_done",), data.get("epochs_done", 0), 0, 2**62, "a whole number of epochs ≥ 0"
    )
    state = None
    if data.get("optimizer_state") is not None:
        state = _optimizer_state(
            c, data["optimizer_state"], optimizer, layers, biases, train_biases
        )
    for key in ("name", "description"):
        if key in data and not isinstance(data[key], str):
            raise c.fail((key,), f"{_show(data[key])} is not text")
    book = _notation(c, data.get("notation"))
    return Spec(
        name=data.get("name") or os.path.splitext(os.path.basename(doc.file))[0],
        source=doc.file,
        layers=layers,
        activations=activations,
        loss=loss,
        learning_rate=learning_rate,
        samples=samples,
        mode=mode,
        batch_gradient=batch_gradient,
        weights=weights,
        biases=biases,
        train_biases=train_biases,
        weight_style=style,
        description=data.get("description", "") or "",
        shuffle=shuffle,
        seed=seed,
        dropout=dropout,
        optimizer=optimizer,
        weight_decay=weight_decay,
        optimizer_state=state,
        epochs_done=epochs_done,
        leaky_relu_slope=leaky_slope,
        notation=book,
    )


def _notation(c: _Checker, value: Any) -> str:
    if value is None or value == "lecture":
        return "lecture"
    from . import notations  # only for another book: start-up time

    if not isinstance(value, str) or value not in notations.NAMES:
        close = _closest(str(value), notations.NAMES) if isinstance(value, str) else None
        hint = f"did you mean {close}? " if close else ""
        raise c.fail(
            ("notation",),
            f"{_show(value)} is not a notation; {hint}use one of {', '.join(notations.NAMES)}",
        )
    return value


_MISSING = {
    "layers": "give units per layer, inputs first, e.g. `layers: [2, 2, 1]`",
    "weights": "give named weights (`w13: 0.1`), per-layer matrices, or "
    "`{init: glorot_uniform, seed: 0}`",
    "learning_rate": "give the learning rate η, e.g. `learning_rate: 1`",
    "inputs": "give `inputs` and `targets`, or `samples: [{inputs: [...], targets: [...]}]`",
}


def _layers(c: _Checker, value: Any) -> tuple[int, ...]:
    if not isinstance(value, list) or len(value) < 2:
        raise c.fail(
            ("layers",), "expected a list of at least two unit counts, inputs first, e.g. [2, 2, 1]"
        )
    if len(value) > MAX_LAYERS:
        raise c.fail(
            ("layers",),
            f"{len(value):,} layers; at most {MAX_LAYERS}, inputs included "
            "(this tool is for networks a person can follow)",
        )
    layers = tuple(
        c.integer(("layers", i), v, 1, MAX_UNITS, f"a unit count from 1 to {MAX_UNITS:,}")
        for i, v in enumerate(value)
    )
    parameters = sum(a * b + b for a, b in itertools.pairwise(layers))
    if parameters > MAX_PARAMETERS:
        raise c.fail(
            ("layers",),
            f"{parameters:,} parameters; at most {MAX_PARAMETERS:,} "
            "are traced (this tool is for networks a person can follow)",
        )
    return layers


def _activations(c: _Checker, data: dict[str, Any], count: int) -> tuple[str, ...]:
    if "activation" in data and "activations" in data:
        raise c.fail(
            ("activations",),
            "give either `activation` (one for all layers) or "
            "`activations` (one per non-input layer), not both",
        )
    if "activations" in data:
        value = data["activations"]
        if not isinstance(value, list) or len(value) != count:
            raise c.fail(
                ("activations",),
                f"expected a list of {count} activations, one per "
                f"non-input layer, each one of: {', '.join(ACTIVATIONS)}",
            )
        names = tuple(c.choice(("activations", i), v, ACTIVATIONS) for i, v in enumerate(value))
        for i, name in enumerate(names[:-1]):
            if activation_functions.get(name).output_only:
                raise c.fail(
                    ("activations", i),
                    f"{name} is for the output layer only (its outputs are one distribution "
                    f"over the classes); use one of {', '.join(_hidden_names())} in hidden layers",
                )
        return names
    if "activation" not in data:
        raise c.doc.missing(
            "activation",
            f"missing; give one of {', '.join(ACTIVATIONS)} (or `activations:`, one per layer)",
        )
    if isinstance(data["activation"], list):
        raise c.fail(
            ("activation",),
            "a list under `activation`; did you mean `activations` (one per non-input layer, "
            f"here {count})? `activation` takes one name for every layer",
        )
    name = c.choice(("activation",), data["activation"], ACTIVATIONS)
    if count > 1 and activation_functions.get(name).output_only:
        raise c.fail(
            ("activation",),
            f"{name} is for the output layer only, and `activation` sets every layer; write "
            f"`activations: [{', '.join(['relu'] * (count - 1))}, {name}]`",
        )
    return (name,) * count


def _hidden_names() -> list[str]:
    return [a.name for a in activation_functions.ACTIVATIONS.values() if not a.output_only]


def _samples(
    c: _Checker, data: dict[str, Any], layers: tuple[int, ...], loss: str, output_activation: str
) -> tuple[Sample, ...]:
    n_in, n_out = layers[0], layers[-1]
    has_single = "inputs" in data or "targets" in data
    if has_single and "samples" in data:
        raise c.fail(
            ("samples",), "give either `inputs`/`targets` (one sample) or `samples`, not both"
        )
    if "samples" in data:
        raw = data["samples"]
        if not isinstance(raw, list) or not raw:
            raise c.fail(
                ("samples",), "expected a non-empty list of {inputs: [...], targets: [...]}"
            )
        if len(raw) > MAX_SAMPLES:
            raise c.fail(
                ("samples",),
                f"{len(raw):,} samples; at most {MAX_SAMPLES:,} (every epoch trains on each one)",
            )
        items = []
        for k, item in enumerate(raw):
            m = c.mapping(("samples", k), item, "with `inputs` and `targets`")
            for key in m:
                if key not in ("inputs", "targets"):
                    raise c.fail(
                        ("samples", k, key), "unknown key; a sample has `inputs` and `targets`"
                    )
            items.append((("samples", k), m))
    else:
        for key in ("inputs", "targets"):
            if key not in data:
                raise c.doc.missing(key, f"missing; {_MISSING['inputs']}")
        items = [((), data)]
    definition = loss_functions.get(loss)
    if definition.outputs and output_activation not in definition.outputs:
        raise c.fail(("loss",), definition.needs)
    samples = []
    for path, m in items:
        for key in ("inputs", "targets"):
            if key not in m:
                raise c.fail(path, f"missing `{key}`")
        x = c.vector((*path, "inputs"), m["inputs"], n_in, f"layers[0] = {n_in} inputs")
        t = c.vector((*path, "targets"), m["targets"], n_out, f"layers[-1] = {n_out} output units")
        _check_targets(c, path, t, definition, len(items) > 1 and bool(path))
        samples.append(Sample(_frozen(x), _frozen(t)))
    return tuple(samples)


def _check_targets(
    c: _Checker, path: Path, t: list[float], loss: loss_functions.Loss, several: bool
) -> None:
    """The targets a loss accepts: bce's in [0, 1]; cross-entropy's a distribution."""
    if loss.distribution:
        sample = f"sample {path[1] + 1}'s " if several else ""
        for i, v in enumerate(t):
            if v < 0:
                raise c.fail(
                    (*path, "targets", i),
                    f"{v} is negative; {sample}targets for {loss.name} are probabilities of "
                    "the classes: non-negative and summing to 1 (one-hot, e.g. [0, 1, 0])",
                )
        total = math.fsum(t)
        if abs(total - 1.0) > 1e-9:
            raise c.fail(
                (*path, "targets"),
                f"{sample or 'the '}targets sum to {total:g}, not 1; {loss.name} needs a "
                "distribution over the classes (one-hot, e.g. [0, 1, 0], or smoothed)",
            )
    elif loss.targets is not None:
        low, high = loss.targets
        for i, v in enumerate(t):
            if not low <= v <= high:
                raise c.fail(
                    (*path, "targets", i),
                    f"{v} is not in [{low:g}, {high:g}]; binary cross-entropy needs targets "
                    "between 0 and 1",
                )


def _weights(c: _Checker, value: Any, layers: tuple[int, ...]) -> tuple[tuple[Array, ...], str]:
    if isinstance(value, list):
        return _weight_matrices(c, value, layers), "matrices"
    m = c.mapping(
        ("weights",),
        value,
        "named weights like `w13: 0.1`, per-layer matrices, or `{init: glorot_uniform, seed: 0}`",
    )
    if "init" in m or "seed" in m:
        return _weight_init(c, m, layers), "init"
    return _named_weights(c, m, layers), "named"


def _weight_matrices(
    c: _Checker, value: list[Any], layers: tuple[int, ...], root: Path = ("weights",)
) -> tuple[Array, ...]:
    if len(value) != len(layers) - 1:
        raise c.fail(
            root,
            f"has {_count(len(value), 'matrix')}; expected "
            f"{len(layers) - 1}, one per non-input layer",
        )
    out = []
    for k, matrix in enumerate(value):
        rows, cols = layers[k + 1], layers[k]
        shape = (
            f"{rows}×{cols}: {_count(rows, 'row')} (units of layer {k + 1}), "
            f"{_count(cols, 'column')} (units of layer {k})"
        )
        if not isinstance(matrix, list) or len(matrix) != rows:
            found = _count(len(matrix), "row") if isinstance(matrix, list) else _show(matrix)
            raise c.fail((*root, k), f"found {found}; expected a matrix {shape}")
        out.append(
            _frozen(
                [
                    c.vector((*root, k, r), row, cols, f"matrix {shape}")
                    for r, row in enumerate(matrix)
                ]
            )
        )
    return tuple(out)


def _named_weights(
    c: _Checker, m: dict[str, Any], layers: tuple[int, ...], root: Path = ("weights",)
) -> tuple[Array, ...]:
    numbering = notation.Numbering(layers)
    matrices = [np.full((layers[k + 1], layers[k]), np.nan) for k in range(len(layers) - 1)]
    example = notation.weight_name(numbering.unit(0, 0), numbering.unit(1, 0))
    for name, v in m.items():
        ij = notation.parse_weight(name)
        if ij is None:
            raise c.fail(
                (*root, name),
                f"not a weight name; write `w` and the two unit "
                f"numbers, e.g. `{example}` (past unit 9: `w9_12`)",
            )
        i, j = ij
        src, dst = numbering.locate(i), numbering.locate(j)
        if src is None or dst is None or dst[0] != src[0] + 1:
            raise c.fail(
                (*root, name),
                f"there is no connection from unit {i} to unit {j}: {_connections(numbering)}",
            )
        matrices[src[0]][dst[1], src[1]] = c.number((*root, name), v)
    missing = [
        notation.weight_name(numbering.unit(k, col), numbering.unit(k + 1, row))
        for k, matrix in enumerate(matrices)
        for row, col in zip(*np.nonzero(np.isnan(matrix)))
    ]
    if missing:
        listed = ", ".join(missing[:8]) + (
            f" and {len(missing) - 8} more" if len(missing) > 8 else ""
        )
        raise c.fail(
            root,
            f"missing {listed}; every connection needs a weight "
            "(for large layers use `{init: glorot_uniform, seed: 0}`)",
        )
    return tuple(_frozen(matrix) for matrix in matrices)


def _connections(numbering: notation.Numbering) -> str:
    parts = []
    for k in range(len(numbering.layers)):
        a, b = numbering.first(k), numbering.first(k) + numbering.layers[k] - 1
        parts.append(f"units {a}–{b}" if a != b else f"unit {a}")
    return "weights go from one layer to the next (" + " → ".join(parts) + ")"


def _weight_init(c: _Checker, m: dict[str, Any], layers: tuple[int, ...]) -> tuple[Array, ...]:
    for key in m:
        if key not in ("init", "seed", "scale"):
            raise c.fail(
                ("weights", key),
                "unknown key; seeded initialisation takes `init`, `seed` and `scale`",
            )
    if "seed" not in m:
        raise c.fail(
            ("weights",),
            "seeded initialisation needs a `seed` (a whole number), "
            "so every run gets the same weights",
        )
    seed = c.integer(("weights", "seed"), m["seed"], 0, 2**63 - 1, "a whole number ≥ 0")
    init = c.choice(("weights", "init"), m.get("init", "glorot_uniform"), INITS)
    scale = c.number(
        ("weights", "scale"),
        m.get("scale", 1.0 if init.startswith(("glorot", "he")) else 0.5),
        "a positive number",
    )
    if scale <= 0:
        raise c.fail(("weights", "scale"), f"{scale} is not > 0")
    rng = np.random.default_rng(seed)
    out = []
    for fan_in, fan_out in itertools.pairwise(layers):
        shape = (fan_out, fan_in)
        if init == "glorot_uniform":
            limit = scale * math.sqrt(6 / (fan_in + fan_out))
            w = rng.uniform(-limit, limit, shape)
        elif init == "he_normal":
            w = rng.normal(0, scale * math.sqrt(2 / fan_in), shape)
        elif init == "uniform":
            w = rng.uniform(-scale, scale, shape)
        else:
            w = rng.normal(0, scale, shape)
        out.append(_frozen(w))
    return tuple(out)


def _biases(
    c: _Checker, value: Any, layers: tuple[int, ...], root: Path = ("biases",)
) -> tuple[Array | None, ...] | None:
    """Per non-input layer a bias vector, or None for a layer without biases ("hidden
    biases, no output bias"); None when no layer has any."""
    numbering = notation.Numbering(layers)
    out: list[Array | None]
    if isinstance(value, list):
        if len(value) != len(layers) - 1:
            raise c.fail(
                root,
                f"has {_count(len(value), 'list')}; expected "
                f"{len(layers) - 1}, one per non-input layer (`null` for a layer without biases)",
            )
        out = [
            None
            if v is None
            else _frozen(
                c.vector(
                    (*root, k),
                    v,
                    layers[k + 1],
                    f"layer {k + 1} has {layers[k + 1]} units; `null` for no biases",
                )
            )
            for k, v in enumerate(value)
        ]
        return tuple(out) if any(b is not None for b in out) else None
    m = c.mapping(root, value, "named biases like `b3: 0.35`, or one list per layer")
    vectors = [np.full(n, np.nan) for n in layers[1:]]
    for name, v in m.items():
        j = notation.parse_bias(name)
        where = numbering.locate(j) if j is not None else None
        if where is None or where[0] == 0:
            first = numbering.first(1)
            raise c.fail(
                (*root, name),
                f"not a bias of a non-input unit; write `b` and "
                f"the unit number, from b{first} to b{numbering.total}",
            )
        vectors[where[0] - 1][where[1]] = c.number((*root, name), v)
    out = []
    for k, vec in enumerate(vectors, start=1):
        missing = np.isnan(vec)
        if missing.all():
            out.append(None)  # a layer left out of the named form has no bias terms
            continue
        if missing.any():
            names = [f"b{numbering.unit(k, i)}" for i in np.nonzero(missing)[0]]
            first, last = numbering.unit(k, 0), numbering.unit(k, layers[k] - 1)
            kind = "the output layer" if k == len(layers) - 1 else f"hidden layer {k}"
            raise c.fail(
                root,
                f"missing {', '.join(names[:8])}{' …' if len(names) > 8 else ''}; a layer has "
                f"a bias on every unit or on none: give them, or leave out every bias of "
                f"{kind} (b{first}–b{last})",
            )
        out.append(_frozen(vec))
    return tuple(out) if any(b is not None for b in out) else None


def _optimizer(c: _Checker, data: dict[str, Any]) -> tuple[optimizers.Settings, float]:
    """`optimizer:` (a name, or a mapping with `name` and hyperparameters) and `weight_decay:`."""
    raw = data.get("optimizer", "sgd")
    given: dict[str, Any] = {}
    if isinstance(raw, dict):
        if "name" not in raw:
            raise c.fail(
                ("optimizer",),
                f"missing `name`: e.g. `optimizer: {{name: adam, beta1: 0.9}}`; "
                f"one of: {', '.join(optimizers.NAMES)}",
            )
        name = c.choice(("optimizer", "name"), raw["name"], optimizers.NAMES)
        given = {k: v for k, v in raw.items() if k != "name"}
    else:
        name = c.choice(("optimizer",), raw, optimizers.NAMES)
    opt = optimizers.OPTIMIZERS[name]
    values: dict[str, float] = {}
    # `weight_decay` in the mapping of an optimizer without its own decay is the L2 decay, as
    # torch.optim.SGD/Adam/…(weight_decay=λ) means it: the same as the top-level key
    where: Path = ("weight_decay",)
    raw_decay = data.get("weight_decay")
    if "weight_decay" in given and opt.decoupled is None:
        if raw_decay is not None:
            raise c.fail(
                ("optimizer", "weight_decay"),
                "the L2 weight decay is given twice (here and at the top level); keep one",
            )
        where, raw_decay = ("optimizer", "weight_decay"), given.pop("weight_decay")
    for key, value in given.items():
        if key not in opt.keys:
            raise c.fail(("optimizer", key), _unknown_hyperparameter(str(key), opt))
        path = ("optimizer", key)
        hyper = next(h for h in opt.hyperparameters if h.key == key)
        number = c.number(path, value, f"{hyper.symbol} {hyper.valid} ({hyper.what})")
        problem = hyper.problem(number)
        if problem:
            raise c.fail(path, problem)
        values[key] = number
    weight_decay = 0.0
    if raw_decay is not None:
        path = where
        weight_decay = c.number(path, raw_decay, "the L2 weight decay λ ≥ 0")
        if weight_decay < 0:
            raise c.fail(path, f"{weight_decay:g} is negative; the weight decay λ must be ≥ 0")
        if opt.decoupled is not None:
            # adamw has only its own, decoupled decay (as torch.optim.AdamW): the top-level
            # key sets it, unless the optimizer's mapping does
            if opt.decoupled in values:
                raise c.fail(
                    path,
                    f"{name} decays weights itself (`optimizer.{opt.decoupled}`); give the "
                    "decay in one place, not both",
                )
            values[opt.decoupled] = weight_decay
            weight_decay = 0.0
    return optimizers.settings(name, values), weight_decay


def _unknown_hyperparameter(key: str, opt: optimizers.Optimizer) -> str:
    takes = f"{opt.name} takes " + (", ".join(opt.keys) if opt.keys else "no hyperparameters")
    if key in ("lr", "learning_rate", "eta"):
        return f"unknown key; the learning rate is the top-level `learning_rate`; {takes}"
    close = _closest(key, opt.keys)
    if close:
        return f"unknown key; did you mean {close!r}? {takes}"
    owners = [o.name for o in optimizers.OPTIMIZERS.values() if key in o.keys]
    if owners:
        return f"unknown key for {opt.name}; `{key}` belongs to {', '.join(owners)}; {takes}"
    return f"unknown key; {takes}"


def _optimizer_state(
    c: _Checker,
    value: Any,
    settings: optimizers.Settings,
    layers: tuple[int, ...],
    biases: tuple[Array | None, ...] | None,
    train_biases: bool,
) -> optimizers.State:
    """`optimizer_state:` as `step --save` writes it: t and each state's weights and biases."""
    opt = settings.optimizer
    root = ("optimizer_state",)
    example = ", ".join(f"{name}: {{weights: …, biases: …}}" for name in opt.state)
    what = "t (updates so far)" + (f" and {example}" if opt.state else "")
    m = c.mapping(root, value, what)
    for key in m:
        if key != "t" and key not in opt.state:
            valid = ", ".join(("t", *opt.state))
            raise c.fail((*root, key), f"unknown key; the state of {opt.name} is {valid}")
    if "t" not in m:
        raise c.fail(root, "missing `t`: how many updates the state has seen")
    t = c.integer((*root, "t"), m["t"], 0, 2**62, "a whole number of updates ≥ 0")
    trained = biases is not None and train_biases
    values = []
    for name in opt.state:
        if name not in m:
            raise c.fail(root, f"missing `{name}`; expected {what}")
        path = (*root, name)
        parts = c.mapping(path, m[name], "`weights:` and, for trained biases, `biases:`")
        for key in parts:
            if key not in ("weights", "biases"):
                raise c.fail((*path, key), "unknown key; a state has `weights` and `biases`")
        if "weights" not in parts:
            raise c.fail(path, "missing `weights`: one value per weight, as `weights:` is given")
        w = parts["weights"]
        if isinstance(w, list):
            matrices = _weight_matrices(c, w, layers, (*path, "weights"))
        else:
            named = c.mapping((*path, "weights"), w, "named weights or per-layer matrices")
            matrices = _named_weights(c, named, layers, (*path, "weights"))
        arrays: list[Array] = list(matrices)
        if trained:
            if parts.get("biases") is None:
                raise c.fail(path, "missing `biases`: the biases are trained, so they have state")
            given = _biases(c, parts["biases"], layers, (*path, "biases")) or ()
            if [b is None for b in given] != [b is None for b in biases]:
                having = [f"layer {k}" for k, b in enumerate(biases, start=1) if b is not None]
                raise c.fail(
                    (*path, "biases"),
                    f"does not match the network's biases: state for {', '.join(having)}",
                )
            arrays += [b for b in given if b is not None]
        elif parts.get("biases") is not None:
            raise c.fail((*path, "biases"), "this network trains no biases, so they have no state")
        values.append((name, _frozen(optimizers.flatten(arrays))))
    return optimizers.State(t, tuple(values))


def dropout_layer_names(layers: tuple[int, ...]) -> list[str]:
    """The names dropout uses for the layers it can follow: inputs, hidden1, hidden2, …"""
    return ["inputs"] + [f"hidden{k}" for k in range(1, len(layers) - 1)]


def _dropout(c: _Checker, value: Any, layers: tuple[int, ...]) -> Dropout | None:
    names = dropout_layer_names(layers)
    rate_what = "a rate in [0, 1): the fraction of units dropped (Keras' Dropout(rate))"
    m = {"rate": value} if not isinstance(value, dict) else value
    path: Path = ("dropout",) if not isinstance(value, dict) else ("dropout", "rate")
    for key in m:
        if key not in DROPOUT_KEYS:
            close = _closest(key, DROPOUT_KEYS)
            hint = f"did you mean {close!r}? " if close else ""
            raise c.fail(
                ("dropout", key), f"unknown key; {hint}dropout takes {', '.join(DROPOUT_KEYS)}"
            )
    if "rate" not in m:
        raise c.fail(("dropout",), "missing `rate`: e.g. `dropout: {rate: 0.5, seed: 0}`")

    def rate(where: Path, raw: Any) -> float:
        r = c.number(where, raw, rate_what)
        if r >= 1:
            raise c.fail(
                where,
                f"{raw} is not < 1; a rate of 1 would drop every unit (Keras refuses it too): "
                "use a rate in [0, 1)",
            )
        if r < 0:
            raise c.fail(where, f"{raw} is negative; expected {rate_what}")
        return r

    raw = m["rate"]
    if isinstance(raw, dict):
        rates = [0.0] * len(names)
        for key, v in raw.items():
            if key not in names:
                raise c.fail((*path, key), _unknown_layer(key, names))
            rates[names.index(key)] = rate((*path, key), v)
    else:
        if len(layers) == 2:
            raise c.fail(
                path,
                "this network has no hidden layer, so a single rate drops nothing; "
                "to drop inputs write `rate: {inputs: 0.2}`",
            )
        rates = [0.0] + [rate(path, raw)] * (len(layers) - 2)
    seed = c.integer(("dropout", "seed"), m.get("seed", 0), 0, 2**63 - 1, "a whole number ≥ 0")
    shared = m.get("shared_mask", False)
    if not isinstance(shared, bool):
        raise c.fail(("dropout", "shared_mask"), f"{_show(shared)} is not true or false")
    masks: list[Array | None] = [None] * len(names)
    if m.get("masks") is not None:
        given = c.mapping(
            ("dropout", "masks"), m["masks"], "one 0/1 list per layer, e.g. `hidden1: [1, 0]`"
        )
        for key, v in given.items():
            where = ("dropout", "masks", key)
            if key not in names:
                raise c.fail(where, _unknown_layer(key, names))
            p = names.index(key)
            n = layers[p]
            units = notation.Numbering(layers)
            first, last = units.unit(p, 0), units.unit(p, n - 1)
            span = f"unit {first}" if n == 1 else f"units {first}–{last}"
            what = f"{key} has {_count(n, 'unit')} ({span}), each 1 (kept) or 0 (dropped)"
            if not isinstance(v, list) or len(v) != n:
                found = _count(len(v), "value") if isinstance(v, list) else _show(v)
                raise c.fail(where, f"found {found}; expected {n}: {what}")
            for i, bit in enumerate(v):
                if isinstance(bit, bool) or bit not in (0, 1):
                    raise c.fail((*where, i), f"{_show(bit)} is not 0 or 1; expected {what}")
            if rates[p] == 0:
                raise c.fail(
                    where,
                    f"a mask needs a dropout rate for {key} (it sets the scaling 1/(1 − rate)); "
                    f"give one in `rate`",
                )
            masks[p] = _frozen(v)
    dropout = Dropout(tuple(rates), seed, shared, tuple(masks))
    return dropout if dropout.active else None


def _unknown_layer(key: str, names: list[str]) -> str:
    close = _closest(str(key), names)
    hint = f"did you mean {close!r}? " if close else ""
    return (
        f"not a layer dropout can follow; {hint}this network's are: {', '.join(names)} "
        "(never the output layer)"
    )
