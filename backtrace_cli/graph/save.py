"""A computational graph back out as a config: the graph as written, its inputs, its training."""

from __future__ import annotations

import json

from .spec import GraphSpec


def to_config(spec: GraphSpec, header: str) -> str:
    """The graph as a config `run` and `check` read (an exercise variant's): the graph as
    written, its inputs, its parameters and their training; `header` as comments above."""
    lines = [f"# {line}" for line in header.splitlines()]
    lines.append(f"name: {json.dumps(spec.name, ensure_ascii=False)}")
    if spec.description:
        lines.append(f"description: {json.dumps(spec.description, ensure_ascii=False)}")
    if spec.form == "expression":
        lines.append(f"expression: {json.dumps(spec.written[0][1], ensure_ascii=False)}")
        if spec.output != "f":
            lines.append(f"output: {spec.output}")
    else:
        lines.append("nodes:")
        lines += [
            f"  {name}: {json.dumps(text, ensure_ascii=False)}" for name, text in spec.written
        ]
        lines.append(f"output: {spec.output}")
    inputs = ", ".join(f"{name}: {value!r}" for name, value in spec.inputs)
    lines.append(f"inputs: {{{inputs}}}")
    if spec.parameters:
        lines.append(f"parameters: [{', '.join(spec.parameters)}]")
        lines.append(f"learning_rate: {spec.learning_rate!r}")
        settings = spec.optimizer
        if settings.name != "sgd" or settings.values:
            given = ", ".join(f"{k}: {v!r}" for k, v in settings.values)
            lines.append(f"optimizer: {{name: {settings.name}{', ' + given if given else ''}}}")
        if spec.weight_decay:
            lines.append(f"weight_decay: {spec.weight_decay!r}")
    return "\n".join(lines) + "\n"
