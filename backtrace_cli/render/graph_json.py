"""A computational graph's trace and training as JSON: the backtrace-graph contract, version 1."""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

from ..graph.trace import GraphTrace
from .graph_formula import text_formula

if TYPE_CHECKING:
    from ..graph.trace import GraphTraining


def _clean(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return value


def document(trace: GraphTrace) -> dict[str, Any]:
    """The JSON contract: format backtrace-graph, version 1."""
    spec = trace.spec
    data: dict[str, Any] = {
        "format": "backtrace-graph",
        "version": 1,
        "name": spec.name,
        "source": spec.source,
        "output": spec.output,
        "value": _clean(trace.value),
        "inputs": {n: _clean(v) for n, v in trace.inputs},
        "nodes": [
            {
                "name": node.name,
                "op": node.op,
                "inputs": [a if isinstance(a, str) else _clean(a) for a in node.inputs],
                "value": _clean(node.value),
                "grad": None if trace.inference else _clean(node.grad),
                "named": node.named,
            }
            for node in trace.nodes
        ],
        "gradients": None if trace.inference else {n: _clean(g) for n, g in trace.gradients},
        "rounding": trace.rounding,
        "inference": trace.inference,
        "equations": [
            {
                "section": block.kind,
                "symbol": row.symbol,
                "formula": text_formula(row.structure),
                "value": _clean(row.value),
            }
            for block in trace.blocks
            for row in block.rows
        ],
    }
    if spec.parameters:
        data["parameters"] = list(spec.parameters)
        data["learning_rate"] = spec.learning_rate
    if trace.updates:
        data["update"] = {
            u.name: {"before": u.before, "grad": u.grad, "after": _clean(u.after)}
            for u in trace.updates
        }
        data["value_after"] = _clean(trace.value_after)
    if trace.checks is not None:
        data["verify"] = [
            {
                "input": c.name,
                "backprop": c.backprop,
                "finite_difference": None if c.numeric is None else _clean(c.numeric),
                "relative_difference": _clean(c.difference),
                "agrees": c.agrees,
            }
            for c in trace.checks
        ]
    return data


def render_json(trace: GraphTrace) -> str:
    return _dumps(document(trace))


def training_json(trace: GraphTraining) -> str:
    return _dumps(document_training(trace))


def _dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def document_training(trace: GraphTraining) -> dict[str, Any]:
    data = document(trace.first)
    data["epochs"] = [
        {
            "epoch": row.epoch,
            "loss": _clean(row.value),
            "loss_after": _clean(row.value_after),
            "parameters": {n: _clean(v) for n, v in row.parameters},
            "gradients": {n: _clean(v) for n, v in row.gradients},
        }
        for row in trace.rows
    ]
    data["traced"] = [document(t) for t in trace.traces]
    data["summary"] = {
        "epochs_asked": trace.epochs_asked,
        "epochs_run": len(trace.rows),
        "stop_reason": trace.stop_reason or None,
        "parameters": {
            n: {"before": _clean(a), "after": _clean(b)}
            for (n, a), (_, b) in zip(trace.start, trace.rows[-1].parameters)
        },
        "value_before": _clean(trace.rows[0].value),
        "value_after": _clean(trace.rows[-1].value_after),
    }
    return data
