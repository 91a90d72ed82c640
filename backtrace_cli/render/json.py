"""The trace as JSON: the machine-readable contract (format "backtrace-trace", version 1)."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

from ..trace import Elided, Trace
from .numbers import symbolic


def _clean(value: Any) -> Any:
    """Arrays → lists; non-finite floats → null (JSON has no nan)."""
    if value is None:
        return None
    if isinstance(value, np.ndarray):
        return _clean(value.tolist())
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return value


def document(trace: Trace) -> dict[str, Any]:
    spec = trace.spec
    numbering = spec.numbering
    steps = []
    for step in trace.steps:
        layers = []
        for k, layer in enumerate(step.layers, start=1):
            layers.append({
                "layer": k,
                "units": [numbering.unit(k, j) for j in range(spec.layers[k])],
                "activation": spec.activations[k - 1],
                "net": _clean(layer.net),
                "out": _clean(layer.out),
                "delta": _clean(layer.delta),
                "mask": _clean(layer.mask),
                "weights_before": _clean(layer.weights_before),
                "weights_after": _clean(layer.weights_after),
                "biases_before": _clean(layer.biases_before),
                "biases_after": _clean(layer.biases_after),
            })
        equations = [
            {"section": section.kind, "symbol": row.symbol, "formula": symbolic(row.formula),
             "value": _clean(row.value)}
            for section in step.sections for row in section.rows if not isinstance(row, Elided)
        ]
        steps.append({
            "epoch": step.epoch, "sample": step.sample, "inputs": _clean(step.inputs),
            "targets": _clean(step.targets), "loss": _clean(step.loss), "layers": layers,
            "equations": equations,
        })
    return {
        "format": "backtrace-trace",
        "version": 1,
        "network": {
            "name": spec.name,
            "source": spec.source,
            "layers": list(spec.layers),
            "activations": list(spec.activations),
            "loss": spec.loss,
            "learning_rate": spec.learning_rate,
            "mode": spec.mode,
            "batch_gradient": spec.batch_gradient,
            "train_biases": spec.train_biases,
            "biases": spec.biases is not None,
            "dropout": None,
            "rounding": trace.rounding,
            "sign_convention": "delta = -dE/dnet; w <- w + learning_rate * delta_j * o_i",
        },
        "steps": steps,
        "epochs": [{"epoch": e.epoch, "loss": _clean(e.loss), "loss_after": _clean(e.loss_after)}
                   for e in trace.epochs],
        "summary": {
            "parameters": {c.symbol: {"before": _clean(c.before), "after": _clean(c.after)}
                           for c in trace.changes},
            "loss_before": _clean(trace.loss_before),
            "loss_after": _clean(trace.loss_after),
            "outputs_after": _clean(trace.outputs_after),
        },
    }


def render(trace: Trace) -> str:
    return json.dumps(document(trace), indent=2, ensure_ascii=False, allow_nan=False) + "\n"
