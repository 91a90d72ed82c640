"""A `model:` config — layers as torch's `nn.Sequential`, parameters under torch's state-dict
names — into a validated spec.

    model:
      - conv1d: {in_channels: 1, out_channels: 2, kernel_size: 2}
      - relu
      - linear: {name: out, in_features: 4, out_features: 1}
    parameters:                 # model.state_dict(), as YAML
      0.weight: [[[0.5, -0.3]], [[0.2, 0.8]]]
      out.weight: [[0.1, 0.2, 0.3, 0.4]]

A model of linear layers, each followed by at most one activation, is a fully connected network:
it is read into the network's `Spec` (so it traces, checks and quizzes exactly as `layers:` does,
the lecture's numbers for the lecture's network), `Spec.model` keeping its layers for
`step --save`. Any other model is a `ModelSpec`, traced layer by layer (`model_engine`).
"""

from __future__ import annotations

import os
from dataclasses import replace
from typing import Any

import numpy as np

from ..core.errors import ConfigError
from ..core.validate import Checker, closest, counted, show
from ..core.yamlsource import Document
from ..definitions import activations as activation_functions
from ..definitions import losses as loss_functions
from ..definitions import optimizer_config
from . import config as network_config
from .layers.model_kinds import MODEL_KINDS
from .model_spec import LayerSpec, ModelSpec
from .spec import Sample, Spec, frozen
from .weights import UNITS_BY_INPUTS

_DENSE_ONLY = ("layers", "weights", "biases", "activation", "activations", "dropout")
# a network's keys, its layers and weights given as `model:` and `parameters:` instead
KEYS = (
    "name",
    "description",
    "model",
    "parameters",
    *(key for key in network_config.KEYS if key not in (*_DENSE_ONLY, "name", "description")),
)
FORM = "`- linear: {in_features: 2, out_features: 2}`, `- relu`"
MAX_LAYERS = 64
MAX_SIZE = 10_000  # entries of any tensor: a model to follow by hand, never gigabytes


def from_document(doc: Document) -> Spec | ModelSpec:
    c = Checker(doc)
    data = doc.value
    for key in data:
        if key in _DENSE_ONLY:
            raise c.fail(
                (key,),
                f"a `model:` config gives its layers in `model:` and their weights in "
                f"`parameters:` (torch's state-dict names); leave out `{key}`",
            )
        if key not in KEYS:
            close = closest(str(key), KEYS)
            hint = f"did you mean {close!r}? " if close else ""
            raise c.fail((key,), f"unknown key; {hint}valid keys: {', '.join(KEYS)}")
    kinds = _kinds(c, data["model"])
    first = _input_shape(c, data, kinds[0])
    layers = _shapes(c, kinds, first)
    parameters = _parameters(c, data, layers)
    if _dense(layers):
        return _as_network(doc, data, layers, parameters)
    spec = _as_model(c, doc, data, layers, parameters)
    refused = _batch_layers(c, data, spec)
    return replace(spec, buffers=_buffers(c, data, layers), training_refused=refused)


# ---------------------------------------------------------------- the layers


def _kinds(c: Checker, value: Any) -> list[tuple[str, str, dict[str, Any]]]:
    """Each entry's (kind, name, arguments with defaults)."""
    valid = ", ".join(MODEL_KINDS)
    if not isinstance(value, list) or not value:
        raise c.fail(("model",), f"expected a list of layers, as torch's nn.Sequential: {FORM}")
    if len(value) > MAX_LAYERS:
        raise c.fail(("model",), f"{len(value)} layers; at most {MAX_LAYERS}")
    out, names = [], set()
    for n, item in enumerate(value):
        path: tuple[Any, ...] = ("model", n)
        given: Any = {}
        if isinstance(item, dict) and len(item) == 1:
            kind, given = next(iter(item.items()))
            path = (*path, kind)
            given = {} if given is None else given
        elif isinstance(item, str):
            kind = item
        else:
            raise c.fail(path, f"expected one layer, its kind and arguments: {FORM}")
        if kind not in MODEL_KINDS:
            close = closest(str(kind), tuple(MODEL_KINDS))
            hint = f"did you mean {close!r}? " if close else ""
            raise c.fail(path, f"{show(kind)} is not a layer; {hint}layers: {valid}")
        module = MODEL_KINDS[kind][0]
        given = c.mapping(path, given, "its arguments")
        keys = [key for key, _ in module.ARGUMENTS]
        for key in given:
            if key != "name" and key not in keys:
                takes = ", ".join(["name", *keys])
                raise c.fail((*path, key), f"unknown argument of {kind}; it takes {takes}")
        name = given.get("name", str(n))
        if not isinstance(name, (str, int)) or not str(name) or "." in str(name):
            raise c.fail((*path, "name"), f"{show(name)}: a layer's name is a word without dots")
        if str(name) in names:
            raise c.fail((*path, "name"), f"{show(name)}: two layers have this name")
        names.add(str(name))
        reads = getattr(module, "read", None)  # its own reader: arguments not whole numbers
        if reads is not None:
            out.append((kind, str(name), reads(c, path, given)))
            continue
        arguments: dict[str, Any] = {}
        readers = getattr(module, "READERS", {})  # its own: an rnn's h0, a nested list
        for key, default in module.ARGUMENTS:
            optional = key in readers or key == "stride"
            if key not in given and default is None and not optional:
                raise c.fail(path, f"missing `{key}`; {kind} takes {', '.join(keys)}")
            raw = given.get(key, default)
            words = getattr(module, "CHOICES", {}).get(key)
            if key in readers:  # read with what is read before it: h0's shape is the layers'
                arguments[key] = readers[key](c, (*path, key), raw, arguments)
            elif words is not None:  # a word: an rnn's nonlinearity
                arguments[key] = c.choice((*path, key), raw, words)
            elif isinstance(default, bool):  # bias, batch norm's affine and track_running_stats
                if not isinstance(raw, bool):
                    raise c.fail((*path, key), f"{show(raw)} is not true or false")
                arguments[key] = raw
            elif isinstance(default, float):  # batch norm's eps and momentum
                number = c.number((*path, key), raw, "a number")
                problem = module.argument_problem(key, number)
                if problem:
                    raise c.fail((*path, key), problem)
                arguments[key] = number
            elif raw is None and key == "stride" and default is None:
                # maxpool1d's stride: its kernel_size, as torch's MaxPool1d(stride=None)
                arguments[key] = arguments["kernel_size"]
            else:
                low = 0 if key == "padding" else 1
                what = f"a whole number ≥ {low}"
                if key in getattr(module, "PAIRS", ()):  # a 2-D layer's: n or [h, w], as torch
                    arguments[key] = _pair(c, (*path, key), raw, low, what)
                else:
                    arguments[key] = c.integer((*path, key), raw, low, MAX_SIZE, what)
        limits = getattr(module, "limits", None)  # a bound one argument sets another's
        found = limits(arguments) if limits is not None else None
        if found is not None:  # a pool's padding at most half its kernel_size, as torch's
            key, axis, problem = found
            at = (key, axis) if axis is not None and isinstance(given.get(key), list) else (key,)
            raise c.fail((*path, *at), problem)
        out.append((kind, str(name), arguments))
    return out


def _pair(c: Checker, path: tuple[Any, ...], raw: Any, low: int, what: str) -> tuple[int, int]:
    """A 2-D layer's size, stride or padding: one whole number for both, or [height, width]."""
    if isinstance(raw, list):
        if len(raw) != 2:
            raise c.fail(path, f"{len(raw)} numbers; give one number, or two [height, width]")
        h, w = (c.integer((*path, n), v, low, MAX_SIZE, what) for n, v in enumerate(raw))
        return (h, w)
    n = c.integer(path, raw, low, MAX_SIZE, f"{what}, or two [height, width]")
    return (n, n)


def _input_shape(
    c: Checker, data: dict[str, Any], first: tuple[str, str, dict[str, Any]]
) -> tuple[int, ...]:
    """The first layer's input: its features, (in_channels, the first sample's length), an
    image's (channels, height, width), or an rnn's (steps, input_size)."""
    kind, _, arguments = first
    if kind == "linear":
        return (arguments["in_features"],)
    inputs = _first_inputs(data)
    shape = _nested_shape(inputs)
    where = ("samples", 0, "inputs") if "samples" in data else ("inputs",)
    if kind == "rnn" and not (len(shape) == 2 and shape[1] == arguments["input_size"]):
        size = arguments["input_size"]
        raise c.fail(
            where,
            f"an rnn takes a sequence, steps × input_size: one list of {size} "
            f"number{'s' if size != 1 else ''} per step (input_size {size}), e.g. "
            + ("[[0.5], [1.0], [-0.5]]" if size == 1 else "[[0.5, 1.0], [0.2, -0.3], …]"),
        )
    takes = getattr(MODEL_KINDS[kind][0], "TAKES", None)  # (its input's rank, its form)
    if takes is not None and len(shape) != takes[0]:
        raise c.fail(where, f"{kind} takes {takes[1]}")
    return shape[:2] if takes is None else shape


def _nested_shape(value: Any) -> tuple[int, ...]:
    """A nested list's shape, read along its first entries ([[1, 2, 3]]: (1, 3)); a number
    is one feature. `_tensor` checks every entry against it."""
    shape: list[int] = []
    while isinstance(value, list):
        shape.append(len(value))
        if not value:
            break
        value = value[0]
    return tuple(shape) or (1,)


def _first_inputs(data: dict[str, Any]) -> Any:
    samples = data.get("samples")
    if isinstance(samples, list) and samples and isinstance(samples[0], dict):
        return samples[0].get("inputs")
    return data.get("inputs")


def _shapes(
    c: Checker, kinds: list[tuple[str, str, dict[str, Any]]], first: tuple[int, ...]
) -> tuple[LayerSpec, ...]:
    layers: list[LayerSpec] = []
    shape = first
    for n, (kind, name, arguments) in enumerate(kinds):
        module = MODEL_KINDS[kind][0]
        out = module.shape(arguments, shape)
        if kind == "softmax" and len(shape) != 1:
            out = "takes a vector (softmax over its entries): flatten first"
        if isinstance(out, str):
            before = (
                f"layer {layers[-1].name} ({layers[-1].kind}) gives {_written(shape)}"
                if layers
                else f"the inputs are {_written(shape)}"
            )
            raise c.fail(("model", n), f"layer {name} ({kind}) {out}; {before}")
        if int(np.prod(out)) > MAX_SIZE:
            raise c.fail(
                ("model", n),
                f"layer {name} ({kind}) gives {_written(out)}: at most {MAX_SIZE:,} entries",
            )
        layers.append(
            LayerSpec(kind, name, tuple(arguments.items()), shape, tuple(int(v) for v in out))
        )
        shape = layers[-1].shape_out
    return tuple(layers)


def _written(shape: tuple[int, ...]) -> str:
    return "×".join(map(str, shape)) if len(shape) > 1 else f"{shape[0]} features"


def _parameters(
    c: Checker, data: dict[str, Any], layers: tuple[LayerSpec, ...]
) -> tuple[tuple[str, Any], ...]:
    expected: dict[str, tuple[int, ...]] = {}
    for layer in layers:
        module = MODEL_KINDS[layer.kind][0]
        for key, shape in module.parameter_shapes(dict(layer.arguments)).items():
            expected[f"{layer.name}.{key}"] = shape
    listing = ", ".join(f"{name} {list(shape)}" for name, shape in expected.items())
    held = _buffer_defaults(layers)
    if held:
        listing += ", and optionally " + ", ".join(
            f"{name} {list(value.shape) if value.shape else '(a count)'}"
            for name, value in held.items()
        )
    if not expected:
        if data.get("parameters") and not held:
            raise c.fail(("parameters",), "this model has no parameters; leave `parameters` out")
        return ()
    if "parameters" not in data:
        raise c.doc.missing(
            "parameters", f"missing; give torch's state-dict names and shapes: {listing}"
        )
    given = c.mapping(("parameters",), data["parameters"], f"torch's state-dict names: {listing}")
    for key in given:
        if str(key) not in expected and str(key) not in held:
            close = closest(str(key), (*expected, *held))
            hint = f"did you mean {close!r}? " if close else ""
            raise c.fail(
                ("parameters", key),
                f"not a parameter of this model; {hint}its parameters: {listing}",
            )
    out = []
    for name, shape in expected.items():
        if name not in given:
            raise c.fail(("parameters",), f"missing `{name}` {list(shape)}; expected {listing}")
        out.append((name, frozen(_tensor(c, ("parameters", name), given[name], shape))))
    return tuple(out)


def _tensor(
    c: Checker, path: tuple[Any, ...], value: Any, shape: tuple[int, ...], depth: int = 0
) -> Any:
    """A nested list of exactly `shape`, each entry a number (`depth`: lists entered)."""
    if depth == len(shape):
        return c.number(path, value)
    if not isinstance(value, list) or len(value) != shape[depth]:
        found = counted(len(value), "entry") if isinstance(value, list) else show(value)
        what = "".join(f"[{n}]" for n in shape)
        verb = "is" if shape[depth] == 1 else "are"
        raise c.fail(
            path, f"found {found} where {shape[depth]} {verb} expected: its shape is {what}"
        )
    return [_tensor(c, (*path, i), v, shape, depth + 1) for i, v in enumerate(value)]


def _buffer_defaults(layers: tuple[LayerSpec, ...]) -> dict[str, Any]:
    """Every layer's buffers (batch norm's running statistics) with torch's starting values."""
    out: dict[str, Any] = {}
    for layer in layers:
        module = MODEL_KINDS[layer.kind][0]
        if hasattr(module, "buffers"):
            for key, value in module.buffers(dict(layer.arguments)).items():
                out[f"{layer.name}.{key}"] = value
    return out


def _buffers(
    c: Checker, data: dict[str, Any], layers: tuple[LayerSpec, ...]
) -> tuple[tuple[str, Any], ...]:
    """The buffers `parameters:` gives (torch's state dict holds them), the others torch's
    starting values: running_mean 0, running_var 1, num_batches_tracked 0."""
    given = data.get("parameters") if isinstance(data.get("parameters"), dict) else {}
    out = []
    for name, default in _buffer_defaults(layers).items():
        if name not in given:
            value = default
        elif default.dtype.kind == "i":  # num_batches_tracked: a count
            value = c.integer(("parameters", name), given[name], 0, 2**62, "a whole number ≥ 0")
        else:
            value = _tensor(c, ("parameters", name), given[name], default.shape)
        array = np.array(value, dtype=default.dtype)  # read-only, its own type kept
        array.setflags(write=False)
        out.append((name, array))
    return tuple(out)


# ---------------------------------------------------------------- linear + activation: a network


def _dense(layers: tuple[LayerSpec, ...]) -> bool:
    """Linear layers, each followed by at most one activation, on a vector of inputs."""
    previous = "activation"
    for layer in layers:
        if layer.kind == "linear":
            previous = "linear"
        elif layer.kind in activation_functions.NAMES and previous == "linear":
            previous = "activation"
        else:
            return False
    return len(layers[0].shape_in) == 1


def _as_network(
    doc: Document,
    data: dict[str, Any],
    layers: tuple[LayerSpec, ...],
    parameters: tuple[tuple[str, Any], ...],
) -> Spec:
    """The network's config these layers make, read by the network's own reader."""
    values = dict(parameters)
    linears = [n for n, layer in enumerate(layers) if layer.kind == "linear"]
    units = [layers[0].shape_in[0]] + [layers[n].shape_out[0] for n in linears]
    names = [
        layers[n + 1].kind if n + 1 < len(layers) and layers[n + 1].kind != "linear" else "linear"
        for n in linears
    ]
    weights = [values[f"{layers[n].name}.weight"].tolist() for n in linears]
    biases = [
        values[f"{layers[n].name}.bias"].tolist() if f"{layers[n].name}.bias" in values else None
        for n in linears
    ]
    lowered = {key: value for key, value in data.items() if key not in ("model", "parameters")}
    lowered.update(
        layers=units,
        activations=names,
        weights={"layout": UNITS_BY_INPUTS, "matrices": weights},
    )
    if any(b is not None for b in biases):
        lowered["biases"] = biases
    if isinstance(data.get("optimizer_state"), dict):
        lowered["optimizer_state"] = _dense_state(
            data["optimizer_state"], [layers[n].name for n in linears]
        )
    if "name" not in data:
        lowered["name"] = os.path.splitext(os.path.basename(doc.file))[0]
    spec = network_config.from_document(replace(doc, value=lowered))
    return replace(spec, model=layers, weight_style="model")


def _dense_state(state: dict[str, Any], names: list[str]) -> dict[str, Any]:
    """`optimizer_state:` under state-dict names, as the network's reader takes it."""
    out: dict[str, Any] = {}
    for key, value in state.items():
        if isinstance(value, dict) and all(isinstance(k, str) and "." in k for k in value):
            # read in the layout `weights:` states (units × inputs, torch's)
            entry: dict[str, Any] = {"weights": [value.get(f"{n}.weight") for n in names]}
            if any(f"{n}.bias" in value for n in names):
                entry["biases"] = [value.get(f"{n}.bias") for n in names]
            out[key] = entry
        else:
            out[key] = value
    return out


# ---------------------------------------------------------------- tensor layers: a model


def _as_model(
    c: Checker,
    doc: Document,
    data: dict[str, Any],
    layers: tuple[LayerSpec, ...],
    parameters: tuple[tuple[str, Any], ...],
) -> ModelSpec:
    for key in ("train_biases", "leaky_relu_slope"):
        if key in data:
            raise c.fail(
                (key,),
                f"not yet for a model with {_tensor_kinds(layers)} layers (issue #28); "
                "leave it out",
            )
    loss = c.choice(("loss",), data.get("loss", "half_sse"), loss_functions.NAMES)
    definition = loss_functions.get(loss)
    if definition.outputs and layers[-1].kind not in definition.outputs:
        raise c.fail(("loss",), definition.needs)
    if "learning_rate" not in data:
        raise doc.missing(
            "learning_rate", "missing; give the learning rate η, e.g. `learning_rate: 0.1`"
        )
    eta = c.number(("learning_rate",), data["learning_rate"], "a learning rate η > 0")
    if eta <= 0:
        raise c.fail(("learning_rate",), f"{data['learning_rate']} is not > 0; η must be positive")
    optimizer, decay = optimizer_config.read(c, data)
    for key in ("name", "description"):
        if key in data and not isinstance(data[key], str):
            raise c.fail((key,), f"{show(data[key])} is not text")
    return ModelSpec(
        name=data.get("name") or os.path.splitext(os.path.basename(doc.file))[0],
        source=doc.file,
        layers=layers,
        parameters=parameters,
        loss=loss,
        learning_rate=eta,
        samples=_samples(c, data, layers),
        mode=c.choice(("mode",), data.get("mode", "online"), network_config.MODES),
        batch_gradient=c.choice(
            ("batch_gradient",), data.get("batch_gradient", "mean"), network_config.BATCH_GRADIENTS
        ),
        description=data.get("description", "") or "",
        optimizer=optimizer,
        weight_decay=decay,
        notation=network_config.read_notation(c, data.get("notation")),
        **_optimizer_state(c, data.get("optimizer_state"), optimizer, parameters),
        **network_config.epoch_settings(c, data),
    )


def _optimizer_state(
    c: Checker, value: Any, settings: Any, parameters: tuple[tuple[str, Any], ...]
) -> dict[str, Any]:
    """`optimizer_state:` as `step --save` writes it: t, and each state line's values under
    the parameters' state-dict names and shapes (Adam's `m: {0.weight: …, 0.bias: …}`)."""
    if value is None:
        return {}
    lines = settings.optimizer.state
    root = ("optimizer_state",)
    what = "t (updates so far)" + "".join(f", {line}: {{0.weight: …, …}}" for line in lines)
    m = c.mapping(root, value, what)
    for key in m:
        if key != "t" and key not in lines:
            valid = ", ".join(("t", *lines))
            raise c.fail((*root, key), f"unknown key; the state of {settings.name} is {valid}")
    if "t" not in m:
        raise c.fail(root, "missing `t`: how many updates the state has seen")
    t = c.integer((*root, "t"), m["t"], 0, 2**62, "a whole number of updates ≥ 0")
    state: dict[str, list[tuple[str, Any]]] = {name: [] for name, _ in parameters}
    for line in lines:
        if line not in m:
            raise c.fail(root, f"missing `{line}`; expected {what}")
        given = c.mapping((*root, line), m[line], "the parameters' state-dict names")
        for name, array in parameters:
            if name not in given:
                raise c.fail((*root, line), f"missing `{name}` {list(array.shape)}")
            path = (*root, line, name)
            state[name].append((line, frozen(_tensor(c, path, given[name], array.shape))))
        for key in given:
            if key not in state:
                raise c.fail((*root, line, key), "not a parameter of this model")
    held = tuple((name, tuple(values)) for name, values in state.items() if values)
    return {"optimizer_state": held, "updates": t}


def _batch_layers(c: Checker, data: dict[str, Any], spec: ModelSpec) -> ConfigError | None:
    """A layer that works over the batch (batch norm) needs `mode: batch` and a batch it can
    normalise, as torch's training mode refuses a single value per feature. Where its eval
    mode takes each sample alone (batch norm's running statistics), the config is read and
    the refusal returned, for a training pass to raise (`run --eval` traces it, `step --eval`
    trains it)."""
    for n, layer in enumerate(spec.layers):
        module, cls = MODEL_KINDS[layer.kind]
        if not getattr(cls, "BATCH", False):
            continue
        problem = module.refused(len(spec.samples), layer.shape_in)
        if problem:
            error = c.fail(("samples",) if "samples" in data else ("inputs",), problem)
        elif spec.mode != "batch":
            needs = (
                f"layer {layer.name} ({layer.kind}) normalises over the batch: it needs "
                "`mode: batch` (every sample through the model, then one update)"
            )
            if "mode" in data:
                error = c.fail(("mode",), f"{show(data['mode'])}: {needs}")
            else:
                error = c.fail(("model", n), f"{needs}; add `mode: batch`")
        else:
            continue
        if not module.alone_in_eval(dict(layer.arguments)):
            raise error
        eval_mode = (
            "; or `run --eval` traces it in eval mode, with its running statistics (`step "
            "--eval` trains so)"
        )
        problem = error.problem + eval_mode
        return ConfigError(error.file, error.line, error.field, problem, error.column)
    return None


def _tensor_kinds(layers: tuple[LayerSpec, ...]) -> str:
    kinds = dict.fromkeys(
        layer.kind
        for layer in layers
        if layer.kind != "linear" and layer.kind not in activation_functions.NAMES
    )
    return "/".join(kinds)


def _per_step(layers: tuple[LayerSpec, ...]) -> bool:
    """An rnn without `last` above it: what follows acts on every step, its output and the
    targets [T][features], as torch applies a layer to the last dimension."""
    kinds = [layer.kind for layer in layers]
    return "rnn" in kinds and "last" not in kinds[kinds.index("rnn") :]


def _samples(c: Checker, data: dict[str, Any], layers: tuple[LayerSpec, ...]) -> tuple[Sample, ...]:
    items = network_config.sample_items(c, data)
    shape_in, shape_out = layers[0].shape_in, layers[-1].shape_out
    out = []
    for path, m in items:
        for key in ("inputs", "targets"):
            if key not in m:
                raise (
                    c.fail(path, f"missing `{key}`")
                    if path
                    else c.doc.missing(key, f"missing; give `{key}`")
                )
        x = _tensor(c, (*path, "inputs"), m["inputs"], shape_in)
        t = _tensor(c, (*path, "targets"), m["targets"], shape_out)
        if len(shape_out) != 1 and not _per_step(layers):
            raise c.fail(
                ("model",),
                f"the last layer gives {_written(shape_out)}; a loss compares a vector: end "
                "with flatten or linear",
            )
        out.append(Sample(frozen(x), frozen(t)))
    return tuple(out)
