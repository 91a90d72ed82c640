"""The models a config can describe, told apart in one place: a layered network (`config`, read
into a `Spec`) or a computational graph (`graph`, read into a `GraphSpec`).

Above both models and below everything that uses them: nothing else asks "network or graph?" —
it loads through `load`, or asks `kind`.
"""

from __future__ import annotations

from typing import Any, Literal

from .core.examples import example_names, example_text, examples_dir, read
from .core.validate import closest
from .core.yamlsource import Document, parse
from .graph import config as graph
from .graph.spec import GraphSpec
from .network import config, model_config
from .network.model_spec import ModelSpec
from .network.spec import Spec

__all__ = [
    "Kind",
    "Model",
    "example_names",
    "example_text",
    "examples_dir",
    "from_dict",
    "from_document",
    "from_text",
    "is_graph",
    "is_model",
    "kind",
    "load",
]

Model = Spec | GraphSpec | ModelSpec
_GRAPH_ONLY = tuple(key for key in graph.KEYS if key not in config.KEYS)  # expression, nodes, …
Kind = Literal["network", "graph", "model"]


def load(source: str | None = None) -> Model:
    """A validated model from a path or a built-in example name (None: the lecture example)."""
    return from_text(*read(source))


def from_text(text: str, file: str) -> Model:
    """Parse and validate YAML text of either kind."""
    return from_document(parse(text, file))


def from_dict(data: dict[str, Any], file: str = "<dict>") -> Model:
    """Validate a config of either kind given as a Python dict (no line numbers)."""
    return from_document(Document(file, data))


def from_document(doc: Document) -> Model:
    """Validate a parsed document with the reader of its kind: a graph's (`expression:` or
    `nodes:` at the top), a `model:`'s (torch's nn.Sequential) or a network's."""
    if model_config.is_model(doc.value):
        return model_config.from_document(doc)
    if is_graph(doc.value):
        return graph.from_document(doc)
    return config.from_document(doc)


def is_graph(data: Any) -> bool:
    """Whether a config's parsed data describes a computational graph: `expression:` or
    `nodes:` at the top — or, without `layers:` or `weights:`, a key only a graph has, a
    misspelling nearer a graph's key than a network's (`node:`, `expresion:`), or inputs by
    name ({x: -2}), so that its mistakes are told in a graph's terms."""
    if graph.is_graph(data):
        return True
    if not isinstance(data, dict) or "layers" in data or "weights" in data:
        return False
    if isinstance(data.get("inputs"), dict):
        return True
    both = (*config.KEYS, *_GRAPH_ONLY)
    return any(
        str(key) not in config.KEYS and closest(str(key), both) in _GRAPH_ONLY for key in data
    )


def is_model(value: Any) -> bool:
    """Whether `value` is a model already read (a network's or a graph's spec)."""
    return isinstance(value, (Spec, GraphSpec, ModelSpec))


def kind(model: Any) -> Kind:
    """ "graph" for a computational graph's spec, "model" for a `model:` of tensor layers,
    "network" for a layered network's (a `model:` of linear layers and activations too)."""
    if isinstance(model, ModelSpec):
        return "model"
    return "graph" if isinstance(model, GraphSpec) else "network"
