"""The trace as JSON: the machine-readable contract (format "backtrace-trace", version 1)."""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

import numpy as np

from ..network import layout
from ..network.config import dropout_layer_names
from ..network.optimize import plain_sgd
from ..network.records import JSON_IN_FULL, LECTURE, Trace, changes, parameters, translation
from ..network.rows import sign_convention

if TYPE_CHECKING:
    from ..network.history import TrainingTrace
from .numbers import symbolic


def _clean(value: Any) -> Any:
    """Arrays → lists; non-finite floats → null (JSON has no nan)."""
    if value is None:
        return None
    if isinstance(value, np.ndarray):
        if np.isfinite(value).all():
            return value.tolist()  # at C speed: a wide layer has 200,000 weights
        return _clean(value.tolist())
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return value


def _network(spec, rounding: str | None) -> dict[str, Any]:
    return {
        "name": spec.name,
        "source": spec.source,
        "layers": list(spec.layers),
        "activations": list(spec.activations),
        **spec.settings,  # leaky_relu_slope, where a layer uses it
        "loss": spec.loss,
        "learning_rate": spec.learning_rate,
        "mode": spec.mode,
        "batch_gradient": spec.batch_gradient,
        "shuffle": spec.shuffle,
        "seed": spec.seed,
        "train_biases": spec.train_biases,
        "biases": spec.biases is not None,
        "dropout": _dropout(spec),
        "optimizer": {"name": spec.optimizer.name, **dict(spec.optimizer.values)},
        "weight_decay": spec.weight_decay,
        "rounding": rounding,
        "sign_convention": (
            "delta = -dE/dnet; w <- w + learning_rate * delta_j * o_i"
            if plain_sgd(spec)
            else "delta = -dE/dnet; g = dE/dw = -delta_j * o_i; w updated by update_rule"
        ),
        "update_rule": spec.optimizer.optimizer.rule(),  # the optimizer's, as the trace writes it
        # the equations' symbols and δ sign (the arrays above keep the lecture's)
        "notation": getattr(spec, "notation", "lecture"),
        "notation_convention": _convention(spec),
        **_notes(spec),
    }


def _notes(spec) -> dict[str, Any]:
    """How the config was read, where it needs saying: a square matrix's layout."""
    note = layout.note_text(spec)
    return {"notes": [note]} if note else {}


def _dropout(spec) -> dict[str, Any] | None:
    """Rates per layer it can follow (inputs, hidden1, …), seed, shared mask, fixed masks."""
    d = spec.dropout
    if d is None:
        return None
    names = dropout_layer_names(spec.layers)
    return {
        "rates": dict(zip(names, d.rates)),
        "seed": d.seed,
        "shared_mask": d.shared_mask,
        "masks": {n: _clean(m) for n, m in zip(names, d.masks) if m is not None} or None,
    }


def _steps(trace: Trace) -> list[dict[str, Any]]:
    spec = trace.spec
    numbering = spec.numbering
    steps = []
    for step in trace.steps:
        layers = []
        for k, layer in enumerate(step.layers, start=1):
            layers.append(
                {
                    "layer": k,
                    "units": [numbering.unit(k, j) for j in range(spec.layers[k])],
                    "activation": spec.activations[k - 1],
                    "net": _clean(layer.net),
                    "out": _clean(layer.out),
                    "delta": _clean(layer.delta),
                    "mask": _clean(layer.mask),
                    "out_after_dropout": _clean(layer.out_after_dropout),
                    "weights_before": _clean(layer.weights_before),
                    "weights_after": _clean(layer.weights_after),
                    "biases_before": _clean(layer.biases_before),
                    "biases_after": _clean(layer.biases_after),
                }
            )
        equations = [
            {
                "section": section.kind,
                "symbol": row.symbol,
                "formula": symbolic(row.formula),
                "operands": {name: _clean(value) for name, value in row.used()},
                "value": _clean(row.value),
            }
            for section, row in step.equations()
        ]
        steps.append(
            {
                "epoch": step.epoch,
                "sample": step.sample,
                "inputs": _clean(step.inputs),
                "targets": _clean(step.targets),
                "loss": _clean(step.loss),
                "input_mask": _clean(step.input_mask),
                "penalty": _clean(step.penalty),
                "optimizer": _optimizer(step),
                "layers": layers,
                "equations": equations,
            }
        )
    return steps


def _optimizer(step) -> dict[str, Any] | None:
    """The optimizer's state before and after the step's update, per layer (null: none)."""
    record = step.optimizer
    if record is None:
        return None

    def state(values: dict | None) -> dict[str, Any] | None:
        return None if values is None else {k: _clean(v) for k, v in values.items()}

    return {
        "t": record.t,
        "layers": [
            {
                "layer": k + 1,
                "weights_before": state(record.weights_before[k]),
                "weights_after": state(record.weights_after[k]),
                "biases_before": state(record.biases_before[k]),
                "biases_after": state(record.biases_after[k]),
            }
            for k in range(len(record.weights_before))
        ],
    }


def _parameters(before, after) -> dict[str, Any]:
    """Old → new by name: every parameter of a network up to JSON_IN_FULL, else the
    SUMMARY_ROWS that moved most."""
    count = len(parameters(before))
    named = changes(before, after, full=count <= JSON_IN_FULL)
    return {
        "parameters": {
            c.symbol: {"before": _clean(c.before), "after": _clean(c.after)} for c in named
        },
        "parameter_count": count,
    }


def document(trace: Trace) -> dict[str, Any]:
    """`run`: one epoch, every step traced."""
    return {
        "format": "backtrace-trace",
        "version": 1,
        "network": _network(trace.spec, trace.rounding),
        "steps": _steps(trace),
        "epochs": [
            {"epoch": e.epoch, "loss": _clean(e.loss), "loss_after": _clean(e.loss_after)}
            for e in trace.epochs
        ],
        "inference": trace.inference,
        "summary": {
            **(
                _parameters(trace.spec, trace.spec_after)
                if trace.spec_after
                else {"parameters": {}, "parameter_count": 0}
            ),
            "loss_before": _clean(trace.loss_before),
            "loss_before_without_dropout": _clean(trace.loss_before_inference),
            "loss_after": _clean(trace.loss_after),
            "outputs_after": _clean(trace.outputs_after),
        },
    }


def document_training(trace: TrainingTrace) -> dict[str, Any]:
    """`step`: every epoch's loss, and the steps of the traced epochs."""
    summary = _parameters(trace.spec, trace.final)
    if summary["parameter_count"] > JSON_IN_FULL:  # the trained network, whole
        summary["weights_after"] = _clean(list(trace.final.weights))
        summary["biases_after"] = _clean(
            None if trace.final.biases is None else [_clean(b) for b in trace.final.biases]
        )
    return {
        "format": "backtrace-trace",
        "version": 1,
        "network": _network(trace.spec, trace.rounding),
        "steps": [step for traced in trace.traces for step in _steps(traced)],
        "epochs": [
            {"epoch": n + 1, "loss": _clean(float(loss)), "loss_after": _clean(float(after))}
            | ({"dropped": int(trace.dropped[n])} if trace.dropped is not None else {})
            | ({"accuracy": float(trace.accuracy[n])} if trace.accuracy is not None else {})
            for n, (loss, after) in enumerate(zip(trace.losses, trace.losses_after))
        ],
        "summary": {
            "epochs_asked": trace.epochs_asked,
            "epochs_run": len(trace.losses),
            "stop": trace.stop,
            "stop_reason": trace.stop_reason or None,
            **summary,
            "loss_first": _clean(float(trace.losses[0])) if len(trace.losses) else None,
            "loss_start": _clean(trace.loss_start),
            "loss_after": _clean(float(trace.losses_after[-1])) if len(trace.losses) else None,
            "relative_drop": _clean(trace.relative_drop),
            "outputs_after": _clean(trace.outputs_after),
        },
    }


def render(trace: Trace) -> str:
    """`run`'s JSON document."""
    return _dumps(document(trace))


def render_training(trace: TrainingTrace) -> str:
    """`step`'s JSON document."""
    return _dumps(document_training(trace))


def _dumps(data: dict[str, Any]) -> str:
    out: list[str] = []
    _write(data, 0, out)
    return "".join(out) + "\n"


def _write(value: Any, level: int, out: list[str]) -> None:
    """JSON indented by two spaces, except that a list of numbers (a vector, a matrix's row)
    stays on one line: json's own indenting runs in Python, one number per line, and made a
    784-256-10 trace 36 MB; this writes each row at C speed."""
    if isinstance(value, dict) and value:
        pad = "\n" + "  " * (level + 1)
        out.append("{")
        for n, (key, item) in enumerate(value.items()):
            out.append(("," if n else "") + pad + json.dumps(key, ensure_ascii=False) + ": ")
            _write(item, level + 1, out)
        out.append("\n" + "  " * level + "}")
    elif isinstance(value, list) and any(isinstance(v, (dict, list)) for v in value):
        pad = "\n" + "  " * (level + 1)
        out.append("[")
        for n, item in enumerate(value):
            out.append(("," if n else "") + pad)
            _write(item, level + 1, out)
        out.append("\n" + "  " * level + "]")
    else:
        out.append(json.dumps(value, ensure_ascii=False, allow_nan=False))


def _convention(spec: Any) -> str:
    """The conventions line — δ's sign and the update — in the words of the spec's notation."""
    line = sign_convention(spec)
    if getattr(spec, "notation", LECTURE) == LECTURE:
        return line
    return translation(spec).conventions((line,))[0]
