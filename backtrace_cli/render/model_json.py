"""A `model:` of tensor layers, traced and trained, as JSON: "format": "backtrace-model",
version 1 — the layers and their shapes, each step's tensors (every layer's output and δ),
every parameter's gradient, before and after, and every equation of the worked solution."""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

from ..network.layers.model_kinds import MODEL_KINDS
from .graph_formula import text_formula

if TYPE_CHECKING:
    from ..network.model_trace import ModelTrace, ModelTraining


def _clean(value: Any) -> Any:
    if hasattr(value, "tolist"):
        value = value.tolist()
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return value


def _arguments(layer: Any) -> dict[str, Any]:
    """A layer's arguments, those its kind lists as `QUIET` left out at torch's default (a
    pool's padding 0): a pool without padding is written as before pools took it."""
    quiet = dict(getattr(MODEL_KINDS[layer.kind][0], "QUIET", ()))
    return {
        key: value
        for key, value in layer.arguments
        if key not in quiet or value not in (quiet[key], (quiet[key], quiet[key]))
    }


def _model(spec: Any) -> dict[str, Any]:
    return {
        "layers": [
            {
                "name": layer.name,
                "kind": layer.kind,
                "arguments": _arguments(layer),
                "input_shape": list(layer.shape_in),
                "output_shape": list(layer.shape_out),
            }
            for layer in spec.layers
        ],
        "loss": spec.loss,
        "learning_rate": spec.learning_rate,
        "optimizer": {"name": spec.optimizer.name, **dict(spec.optimizer.values)},
        "weight_decay": spec.weight_decay,
    }


def _notation(spec: Any) -> dict[str, Any]:
    """A textbook's notation, where the trace is in one: the equations' names and δ sign are
    the book's (the steps' `out` and `delta` keep the lecture's, as a network's JSON does)."""
    if spec.notation == "lecture":
        return {}
    from .model_table import convention  # only in a book's notation

    return {"notation": spec.notation, "notation_convention": convention(spec)}


def document(trace: ModelTrace) -> dict[str, Any]:
    spec = trace.spec
    data: dict[str, Any] = {
        "format": "backtrace-model",
        "version": 1,
        "name": spec.name,
        "source": spec.source,
        "model": _model(spec),
        "rounding": trace.rounding,
        "inference": trace.inference,
        **_notation(spec),
        "steps": [
            {
                "epoch": step.epoch,
                "sample": step.sample,
                "inputs": _clean(step.inputs),
                "targets": _clean(step.targets),
                "outputs": _clean(step.outputs),
                "loss": _clean(step.loss),
                "layers": [
                    {
                        "name": layer["name"],
                        "kind": layer["kind"],
                        "out": _clean(layer["out"]),
                        "delta": _clean(layer["delta"]),
                    }
                    for layer in step.layers
                ],
                "gradients": {n: _clean(g) for n, g in step.gradients.items()},
                "equations": [
                    {
                        "section": section.kind,
                        "title": section.title,
                        "symbol": row.symbol,
                        "formula": text_formula(row.structure),
                        "value": _clean(row.value),
                        **({"note": row.note} if row.note else {}),
                    }
                    for section in step.sections
                    for row in section.rows
                ],
            }
            for step in trace.steps
        ],
        "parameters_before": {n: _clean(v) for n, v in spec.parameters},
        "parameters_after": {n: _clean(v) for n, v in trace.after.parameters},
        "loss_after": _clean(trace.loss_after),
    }
    if spec.buffers:  # batch norm's running statistics, before and after the training pass
        data["buffers_before"] = {n: _clean(v) for n, v in spec.buffers}
        data["buffers_after"] = {n: _clean(v) for n, v in trace.after.buffers}
    if trace.checks is not None:
        data["verify"] = [
            {
                "parameter": c.name,
                "backprop": c.backprop,
                "finite_difference": _clean(c.numeric),
                "relative_difference": _clean(c.difference),
                "agrees": c.agrees,
            }
            for c in trace.checks
        ]
    return data


def render(trace: ModelTrace) -> str:
    return json.dumps(document(trace), ensure_ascii=False, indent=2) + "\n"


def training(trace: ModelTraining) -> str:
    data = {
        "format": "backtrace-model-training",
        "version": 1,
        "name": trace.spec.name,
        "source": trace.spec.source,
        "model": _model(trace.spec),
        **({"inference": True} if trace.inference else {}),  # `step --eval`: in eval mode
        "epochs": [
            {"epoch": r.epoch, "loss": _clean(r.loss), "loss_after": _clean(r.loss_after)}
            for r in trace.rows
        ],
        "traced": [document(t) for t in trace.traces],
        "final": {n: _clean(v) for n, v in trace.final.parameters},
    }
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
