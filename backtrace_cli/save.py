"""A network back out as a config: same format, same notation (named weights stay named)."""

from __future__ import annotations

from typing import Any

import yaml

from . import notation
from .config import Spec, dropout_layer_names


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


def to_config(spec: Spec, header: str = "") -> str:
    """YAML text that `config.load` reads back to this exact network (floats round-trip)."""
    numbering = spec.numbering
    data: dict[str, Any] = {"name": spec.name}
    if spec.description:
        data["description"] = spec.description
    data["layers"] = list(spec.layers)
    if len(set(spec.activations)) == 1:
        data["activation"] = spec.activations[0]
    else:
        data["activations"] = list(spec.activations)
    data["loss"] = spec.loss
    data["learning_rate"] = spec.learning_rate
    if len(spec.samples) == 1:
        data["inputs"] = spec.samples[0].inputs.tolist()
        data["targets"] = spec.samples[0].targets.tolist()
    else:
        data["samples"] = [
            {"inputs": s.inputs.tolist(), "targets": s.targets.tolist()} for s in spec.samples
        ]
        data["mode"] = spec.mode
        if spec.mode == "batch":
            data["batch_gradient"] = spec.batch_gradient
    if spec.shuffle:
        data["shuffle"] = True
        data["seed"] = spec.seed
    if spec.weight_style == "named":
        data["weights"] = {
            notation.weight_name(numbering.unit(k - 1, i), numbering.unit(k, j)): float(w[j, i])
            for k, w in enumerate(spec.weights, start=1)
            for j in range(w.shape[0])
            for i in range(w.shape[1])
        }
    else:  # matrices, and seeded weights once trained
        data["weights"] = [w.tolist() for w in spec.weights]
    if spec.biases is not None:
        if spec.weight_style == "named":
            data["biases"] = {
                f"b{numbering.unit(k, j)}": float(b[j])
                for k, b in enumerate(spec.biases, start=1)
                if b is not None  # a layer left out has no biases
                for j in range(b.shape[0])
            }
        else:
            data["biases"] = [None if b is None else b.tolist() for b in spec.biases]
        if not spec.train_biases:
            data["train_biases"] = False
    if spec.dropout is not None:
        data["dropout"] = _dropout(spec)
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
