"""The models a config can describe, told apart in one place: a layered network (`config`, read
into a `Spec`) or a computational graph (`graph`, read into a `GraphSpec`).

Above both models and below everything that uses them: nothing else asks "network or graph?" —
it loads through `load`, or asks `kind`.
"""

from __future__ import annotations

from typing import Any, Literal

from .core.examples import example_names, example_text, examples_dir, read
from .core.yamlsource import Document, parse
from .graph import config as graph
from .graph.spec import GraphSpec
from .network import config
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

Model = Spec | GraphSpec
Kind = Literal["network", "graph"]


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
    `nodes:` at the top) or a network's."""
    if is_graph(doc.value):
        return graph.from_document(doc)
    return config.from_document(doc)


def is_graph(data: Any) -> bool:
    """Whether a config's parsed data describes a computational graph."""
    return graph.is_graph(data)


def is_model(value: Any) -> bool:
    """Whether `value` is a model already read (a network's or a graph's spec)."""
    return isinstance(value, (Spec, GraphSpec))


def kind(model: Any) -> Kind:
    """ "graph" for a computational graph's spec, "network" for a layered network's."""
    return "graph" if isinstance(model, GraphSpec) else "network"
