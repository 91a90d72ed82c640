"""A network's YAML config → a validated, immutable `Spec`. `models` tells a network's config
from a graph's; `validate` holds the checks every model shares, `network_weights` the numbers."""

from __future__ import annotations

import itertools
import math
import os
from typing import TYPE_CHECKING, Any

from ..core.errors import ConfigError
from ..core.examples import example_names, example_text, examples_dir, read
from ..core.validate import Checker, closest, counted, show
from ..core.yamlsource import Document, Path, parse
from ..definitions import activations as activation_functions
from ..definitions import losses as loss_functions
from ..definitions import notation, optimizer_config
from .spec import Dropout, Sample, Spec, dropout_layer_names, frozen
from .weights import INITS, LAYOUT_FORM, read_biases, read_optimizer_state, read_weights

if TYPE_CHECKING:  # numpy.typing costs start-up time; annotations only
    import numpy as np
    import numpy.typing as npt

    Array = npt.NDArray[np.float64]

__all__ = [  # this module's names, and those the tool and its tests read from here
    "ACTIVATIONS",
    "BATCH_GRADIENTS",
    "DROPOUT_KEYS",
    "INITS",
    "KEYS",
    "LOSSES",
    "MAX_LAYERS",
    "MAX_PARAMETERS",
    "MAX_SAMPLES",
    "MAX_UNITS",
    "MODES",
    "Dropout",
    "Sample",
    "Spec",
    "dropout_layer_names",
    "example_names",
    "example_text",
    "examples_dir",
    "from_dict",
    "from_document",
    "from_text",
    "load",
]

ACTIVATIONS = activation_functions.NAMES
LOSSES = loss_functions.NAMES
MODES = ("online", "batch")
BATCH_GRADIENTS = ("mean", "sum")
MAX_UNITS = 100_000  # per layer; keeps a typo from allocating gigabytes
# `run` at these limits takes about a second and well under 1 GiB (docs/config.md, "Error
# messages and limits"); checked before anything is computed, so a class folder's hostile config
# costs only its own row
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


def load(source: str | None = None) -> Spec:
    """Load a network config from a path or a built-in example name (None: the lecture example);
    `models.load` loads either kind."""
    return from_text(*read(source))


def from_text(text: str, file: str) -> Spec:
    """Parse and validate a network config's YAML text."""
    return from_document(parse(text, file))


def from_dict(data: dict[str, Any], file: str = "<dict>") -> Spec:
    """Validate a network config given as a Python dict (no line numbers)."""
    return from_document(Document(file, data))


def from_document(doc: Document) -> Spec:
    """Validate a parsed network config into a Spec (`models.from_document` reads either kind)."""
    c = Checker(doc)
    data = doc.value
    if not isinstance(data, dict):
        raise ConfigError(
            doc.file,
            doc.line(()),
            None,
            # text is not quoted: a text file given by mistake is never echoed back
            "a config is a mapping of keys (layers, weights, …), found "
            + ("text; is this a YAML config?" if isinstance(data, str) else show(data)),
        )
    if data and not any(key in KEYS for key in data):
        # nothing of a config in it: likely some other file, whose lines are not repeated
        raise doc.error(
            (), "none of the keys is one a config has (layers, weights, …); is this a YAML config?"
        )
    for key in data:
        if key == "layout":
            raise c.fail(
                (key,),
                "unknown key here; a layout goes under weights, beside its matrices: "
                f"{LAYOUT_FORM}",
            )
        if key not in KEYS:
            close = closest(key, KEYS)
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
    weights, style, layout = read_weights(c, data["weights"], layers)
    biases = read_biases(c, data["biases"], layers) if data.get("biases") is not None else None
    train_biases = data.get("train_biases", True)
    if not isinstance(train_biases, bool):
        raise c.fail(("train_biases",), f"{show(train_biases)} is not true or false")
    epochs = epoch_settings(c, data)
    dropout = _dropout(c, data["dropout"], layers) if data.get("dropout") is not None else None
    optimizer, weight_decay = optimizer_config.read(c, data)
    state = None
    if data.get("optimizer_state") is not None:
        state = read_optimizer_state(
            c, data["optimizer_state"], optimizer, layers, biases, train_biases, layout
        )
    for key in ("name", "description"):
        if key in data and not isinstance(data[key], str):
            raise c.fail((key,), f"{show(data[key])} is not text")
    book = read_notation(c, data.get("notation"))
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
        weight_layout=layout,
        description=data.get("description", "") or "",
        dropout=dropout,
        optimizer=optimizer,
        weight_decay=weight_decay,
        optimizer_state=state,
        **epochs,
        leaky_relu_slope=leaky_slope,
        notation=book,
    )


def epoch_settings(c: Checker, data: dict[str, Any]) -> dict[str, Any]:
    """How the epochs take the samples, a network's or a model's: `shuffle` (a new order every
    epoch, `order.sample_order`), its `seed`, and `epochs_done` (written by `step --save`, so
    a resumed run's orders and dropout masks continue its sequence)."""
    shuffle = data.get("shuffle", False)
    if not isinstance(shuffle, bool):
        raise c.fail(("shuffle",), f"{show(shuffle)} is not true or false")
    seed = c.integer(("seed",), data.get("seed", 0), 0, 2**63 - 1, "a whole number ≥ 0")
    epochs_done = c.integer(
        ("epochs_done",), data.get("epochs_done", 0), 0, 2**62, "a whole number of epochs ≥ 0"
    )
    return {"shuffle": shuffle, "seed": seed, "epochs_done": epochs_done}


def read_notation(c: Checker, value: Any) -> str:
    """`notation:`, a book's name (a network's and a model's config read it alike)."""
    if value is None or value == "lecture":
        return "lecture"
    from ..definitions import notations  # only for another book: start-up time

    if not isinstance(value, str) or value not in notations.NAMES:
        close = closest(str(value), notations.NAMES) if isinstance(value, str) else None
        hint = f"did you mean {close}? " if close else ""
        raise c.fail(
            ("notation",),
            f"{show(value)} is not a notation; {hint}use one of {', '.join(notations.NAMES)}",
        )
    return value


_MISSING = {
    "layers": "give units per layer, inputs first, e.g. `layers: [2, 2, 1]`",
    "weights": "give named weights (`w13: 0.1`), per-layer matrices, or "
    "`{init: glorot_uniform, seed: 0}`",
    "learning_rate": "give the learning rate η, e.g. `learning_rate: 1`",
    "inputs": "give `inputs` and `targets`, or `samples: [{inputs: [...], targets: [...]}]`",
}


def _layers(c: Checker, value: Any) -> tuple[int, ...]:
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


def _activations(c: Checker, data: dict[str, Any], count: int) -> tuple[str, ...]:
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


def sample_items(c: Checker, data: dict[str, Any]) -> list[tuple[Path, dict[str, Any]]]:
    """Each sample's place and mapping (`inputs` and `targets` checked there, not read): the
    one at the top, or each of `samples`, at most MAX_SAMPLES."""
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
    return items


def _samples(
    c: Checker, data: dict[str, Any], layers: tuple[int, ...], loss: str, output_activation: str
) -> tuple[Sample, ...]:
    n_in, n_out = layers[0], layers[-1]
    items = sample_items(c, data)
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
        samples.append(Sample(frozen(x), frozen(t)))
    return tuple(samples)


def _check_targets(
    c: Checker, path: Path, t: list[float], loss: loss_functions.Loss, several: bool
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


def _dropout(c: Checker, value: Any, layers: tuple[int, ...]) -> Dropout | None:
    names = dropout_layer_names(layers)
    rate_what = "a rate in [0, 1): the fraction of units dropped (Keras' Dropout(rate))"
    m = {"rate": value} if not isinstance(value, dict) else value
    path: Path = ("dropout",) if not isinstance(value, dict) else ("dropout", "rate")
    for key in m:
        if key not in DROPOUT_KEYS:
            close = closest(key, DROPOUT_KEYS)
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
        raise c.fail(("dropout", "shared_mask"), f"{show(shared)} is not true or false")
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
            what = f"{key} has {counted(n, 'unit')} ({span}), each 1 (kept) or 0 (dropped)"
            if not isinstance(v, list) or len(v) != n:
                found = counted(len(v), "value") if isinstance(v, list) else show(v)
                raise c.fail(where, f"found {found}; expected {n}: {what}")
            for i, bit in enumerate(v):
                if isinstance(bit, bool) or bit not in (0, 1):
                    raise c.fail((*where, i), f"{show(bit)} is not 0 or 1; expected {what}")
            if rates[p] == 0:
                raise c.fail(
                    where,
                    f"a mask needs a dropout rate for {key} (it sets the scaling 1/(1 − rate)); "
                    f"give one in `rate`",
                )
            masks[p] = frozen(v)
    dropout = Dropout(tuple(rates), seed, shared, tuple(masks))
    return dropout if dropout.active else None


def _unknown_layer(key: str, names: list[str]) -> str:
    close = closest(str(key), names)
    hint = f"did you mean {close!r}? " if close else ""
    return (
        f"not a layer dropout can follow; {hint}this network's are: {', '.join(names)} "
        "(never the output layer)"
    )
