"""A network back out as a config: same format, same notation (named weights stay named)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import yaml

from ..core.errors import ConfigError
from ..definitions import notation, optimizers
from .config import Spec, dropout_layer_names
from .engine import layout
from .layers.model_kinds import MODEL_KINDS
from .model_spec import ModelSpec
from .weights import INPUTS_BY_UNITS, UNITS_BY_INPUTS


class _Dumper(yaml.SafeDumper):
    """Mappings one key a line; lists of numbers (and matrix rows) inline, as people write."""


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 99  # never inline a mapping
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


def _represent_list(dumper: yaml.SafeDumper, data: list[Any]) -> yaml.Node:
    # a list of numbers or a matrix inline; a list of matrices one matrix a line
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=_depth(data) <= 2)


_Dumper.add_representer(list, _represent_list)


class _Inline(dict):  # type: ignore[type-arg]
    """A mapping written on one line: a `model:` layer's arguments, as torch's call reads."""


_Dumper.add_representer(
    _Inline,
    lambda dumper, data: dumper.represent_mapping("tag:yaml.org,2002:map", data, flow_style=True),
)


def to_config(spec: Spec, header: str = "", target: str = "<saved config>") -> str:
    """YAML text that `config.load` reads back to this exact network (floats round-trip).
    A network whose parameters left float64 (training diverged) is refused: a config of
    .inf and .nan could not be read back. A `model:` of tensor layers is written as one."""
    if isinstance(spec, ModelSpec):
        return _model_config(spec, header, target)
    _refuse_diverged([*spec.weights, *(b for b in spec.biases or () if b is not None)], target)
    data: dict[str, Any] = {"name": spec.name}
    if spec.description:
        data["description"] = spec.description
    data["layers"] = list(spec.layers)
    if len(set(spec.activations)) == 1:
        data["activation"] = spec.activations[0]
    else:
        data["activations"] = list(spec.activations)
    data["loss"] = spec.loss
    data.update(spec.settings)  # leaky_relu_slope, where a layer uses it
    data["learning_rate"] = spec.learning_rate
    data.update(_samples(spec))
    if len(spec.samples) > 1:
        data["mode"] = spec.mode
        if spec.mode == "batch":
            data["batch_gradient"] = spec.batch_gradient
    if spec.shuffle:
        data["shuffle"] = True
        data["seed"] = spec.seed
    data["weights"] = _with_layout(spec, _weights(spec, spec.weights))
    if spec.biases is not None:
        data["biases"] = _biases(spec, spec.biases)
        if not spec.train_biases:
            data["train_biases"] = False
    if spec.dropout is not None:
        data["dropout"] = _dropout(spec)
    settings = spec.optimizer
    if settings.name != "sgd":
        data["optimizer"] = {"name": settings.name, **dict(settings.values)}
    if spec.weight_decay:
        data["weight_decay"] = spec.weight_decay
    if spec.epochs_done:
        data["epochs_done"] = spec.epochs_done
    state = spec.optimizer_state
    if state is not None and (state.t or state.values):
        data["optimizer_state"] = _state(spec, state)
    if spec.notation != "lecture":
        data["notation"] = spec.notation  # weights stay named in the lecture's numbering
    if spec.model is not None:
        data = _as_model(spec, data)
    return dump(data, header)


def _refuse_diverged(parameters: Sequence[Any], target: str) -> None:
    """A trained model whose parameters left float64 is not saved: .inf and .nan would not
    read back."""
    if not all(np.isfinite(p).all() for p in parameters):
        raise ConfigError(
            target,
            None,
            "--save",
            "training diverged and the weights are no longer finite numbers, so nothing was "
            "saved; try a smaller learning_rate or fewer epochs",
        )


def _samples(spec: Any) -> dict[str, Any]:
    """`inputs` and `targets` of one sample, or `samples`."""
    if len(spec.samples) == 1:
        return {
            "inputs": spec.samples[0].inputs.tolist(),
            "targets": spec.samples[0].targets.tolist(),
        }
    return {
        "samples": [
            {"inputs": s.inputs.tolist(), "targets": s.targets.tolist()} for s in spec.samples
        ]
    }


def dump(data: dict[str, Any], header: str) -> str:
    """A config's data as YAML (flow lists inside, floats that round-trip), `header` as
    comments above it."""
    body = yaml.dump(
        data,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=100,
    )
    lines = "".join(f"# {line}\n" if line else "#\n" for line in header.splitlines())
    return lines + body


def model_layers(layers: Sequence[Any]) -> list[Any]:
    """A `model:` list as its config writes it: `relu`, `{linear: {in_features: 2, …}}`, the
    layer's `name:` where it is not its index, arguments left out where torch's default."""
    out: list[Any] = []
    for n, layer in enumerate(layers):
        arguments = {} if layer.name == str(n) else {"name": layer.name}
        defaults = dict(MODEL_KINDS[layer.kind][0].ARGUMENTS)
        for key, value in layer.arguments:
            default = defaults.get(key)
            if key == "stride" and default is None:  # a pool's: its kernel_size, as torch's
                default = layer.argument("kernel_size")
            if _as_written(value) != _as_written(default):
                arguments[key] = _as_written(value)
        out.append({layer.kind: _Inline(arguments)} if arguments else layer.kind)
    return out


def _as_written(value: Any) -> Any:
    """A 2-D layer's pair as a config writes it: 2 for (2, 2), [1, 2] for (1, 2); rows of
    numbers (an rnn's h0) as nested lists."""
    if isinstance(value, tuple) and value and isinstance(value[0], tuple):
        return [list(v) for v in value]
    if isinstance(value, tuple):
        return value[0] if value[0] == value[1] else list(value)
    return value


def _as_model(spec: Spec, data: dict[str, Any]) -> dict[str, Any]:
    """A network read from `model:` written back as one: its layers, and its weights, biases
    and optimizer state under torch's state-dict names."""
    names = [layer.name for layer in spec.model or () if layer.kind == "linear"]

    def state_dict(weights: Sequence[Any], biases: Sequence[Any] | None) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, name in enumerate(names):
            out[f"{name}.weight"] = weights[k].tolist()
            if biases is not None and biases[k] is not None:
                out[f"{name}.bias"] = biases[k].tolist()
        return out

    out: dict[str, Any] = {"name": data["name"]}
    if "description" in data:
        out["description"] = data["description"]
    out["model"] = model_layers(spec.model or ())
    out["parameters"] = state_dict(spec.weights, spec.biases)
    skipped = ("name", "description", "layers", "activation", "activations", "weights", "biases")
    out.update((key, value) for key, value in data.items() if key not in skipped)
    state = spec.optimizer_state
    if "optimizer_state" in out and state is not None:
        count = len(spec.weights)
        entry: dict[str, Any] = {"t": state.t}
        for name, flat in state.values:
            parts = optimizers.split(flat, layout(spec))
            trained = iter(parts[count:])
            biases = [
                None if b is None or not spec.train_biases else next(trained)
                for b in spec.biases or ()
            ]
            entry[name] = state_dict(parts[:count], biases if spec.biases else None)
        out["optimizer_state"] = entry
    return out


def _weights(spec: Spec, weights: Sequence[Any]) -> Any:
    """Weight-shaped values as the config gives its weights: named, or per-layer matrices."""
    numbering = spec.numbering
    if spec.weight_style == "named":
        return {
            notation.weight_name(numbering.unit(k - 1, i), numbering.unit(k, j)): float(w[j, i])
            for k, w in enumerate(weights, start=1)
            for j in range(w.shape[0])
            for i in range(w.shape[1])
        }
    if spec.weight_layout == INPUTS_BY_UNITS:  # as the config wrote them
        return [w.T.tolist() for w in weights]
    return [w.tolist() for w in weights]  # matrices, and seeded weights once trained


def _with_layout(spec: Spec, weights: Any) -> Any:
    """Matrices under their layout where it needs saying: stated in the config, or a square
    matrix (which a reader could take either way); the optimizer state's follow it."""
    square = any(w.shape[0] == w.shape[1] > 1 for w in spec.weights)
    if isinstance(weights, dict) or (spec.weight_layout is None and not square):
        return weights
    return {"layout": spec.weight_layout or UNITS_BY_INPUTS, "matrices": weights}


def _biases(spec: Spec, biases: Sequence[Any]) -> Any:
    """Bias-shaped values as the config gives biases; a layer without any is left out (null)."""
    numbering = spec.numbering
    if spec.weight_style == "named":
        return {
            f"b{numbering.unit(k, j)}": float(b[j])
            for k, b in enumerate(biases, start=1)
            if b is not None  # a layer left out has no biases
            for j in range(b.shape[0])
        }
    return [None if b is None else b.tolist() for b in biases]


def _state(spec: Spec, state: optimizers.State) -> dict[str, Any]:
    """t and each state's values, shaped like the weights and biases they belong to."""
    shapes = layout(spec)
    count = len(spec.weights)
    out: dict[str, Any] = {"t": state.t}
    for name, flat in state.values:
        parts = optimizers.split(flat, shapes)
        entry = {"weights": _weights(spec, parts[:count])}
        if len(parts) > count:
            entry["biases"] = _biases(spec, parts[count:])
        out[name] = entry
    return out


def _dropout(spec: Spec) -> dict[str, Any]:
    d = spec.dropout
    assert d is not None
    names = dropout_layer_names(spec.layers)
    hidden = set(d.rates[1:])
    out: dict[str, Any] = {}
    if d.rates[0] == 0 and len(hidden) == 1:
        out["rate"] = d.rates[1]
    else:
        out["rate"] = {n: r for n, r in zip(names, d.rates) if r > 0}
    out["seed"] = d.seed
    if d.shared_mask:
        out["shared_mask"] = True
    masks = {n: [int(v) for v in m] for n, m in zip(names, d.masks) if m is not None}
    if masks:
        out["masks"] = masks
    return out


def _state_dict(spec: ModelSpec) -> dict[str, Any]:
    """Its parameters and buffers (batch norm's running statistics) in torch's state-dict
    order: layer by layer, each layer's parameters then its buffers."""
    out: dict[str, Any] = {}
    held = dict(spec.buffers)
    for layer in spec.layers:
        for name, value in (*spec.parameters, *spec.buffers):
            if name.rpartition(".")[0] == layer.name:
                out[name] = value.tolist()
    return out if held else {name: value.tolist() for name, value in spec.parameters}


def _model_config(spec: ModelSpec, header: str, target: str) -> str:
    """A `model:` of tensor layers as its config: its layers, its parameters under torch's
    state-dict names."""
    _refuse_diverged([value for _, value in spec.parameters], target)
    data: dict[str, Any] = {"name": spec.name}
    if spec.description:
        data["description"] = spec.description
    data["model"] = model_layers(spec.layers)
    data["parameters"] = _state_dict(spec)
    data["loss"] = spec.loss
    data["learning_rate"] = spec.learning_rate
    data.update(_samples(spec))
    if spec.mode == "batch":
        data.update(mode="batch", batch_gradient=spec.batch_gradient)
    if spec.shuffle:
        data.update(shuffle=True, seed=spec.seed)
    settings = spec.optimizer
    if settings.name != "sgd":
        data["optimizer"] = {"name": settings.name, **dict(settings.values)}
    if spec.weight_decay:
        data["weight_decay"] = spec.weight_decay
    if spec.epochs_done:  # a saved run's next epochs draw their own masks and order
        data["epochs_done"] = spec.epochs_done
    if spec.notation != "lecture":
        data["notation"] = spec.notation  # its parameters stay torch's state-dict names
    if spec.optimizer_state:  # t and each state line under the state-dict names
        state: dict[str, Any] = {"t": spec.updates}
        for line in settings.optimizer.state:
            state[line] = {name: dict(lines)[line].tolist() for name, lines in spec.optimizer_state}
        data["optimizer_state"] = state
    return dump(data, header)
