"""The models a config can describe, told apart in one place: a layered network (`config`, read
into a `Spec`) or a computational graph (`graph`, read into a `GraphSpec`).

Above both models and below everything that uses them: nothing else asks "network or graph?" —
it loads through `load`, or asks `kind`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from .core.examples import example_names, example_text, examples_dir, read
from .core.validate import closest
from .core.yamlsource import Document, parse
from .network import config
from .network.spec import Spec

if TYPE_CHECKING:  # start-up: a graph's and a tensor model's code load only for one of them
    from .graph.spec import GraphSpec
    from .network.model_spec import ModelSpec

    Model = Spec | GraphSpec | ModelSpec

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
    if isinstance(doc.value, dict) and "model" in doc.value:
        from .network import model_config  # start-up: loads the tensor layers

        return model_config.from_document(doc)
    if is_graph(doc.value):
        from .graph import config as graph  # start-up: loads the graph's engine

        return graph.from_document(doc)
    return config.from_document(doc)


def is_graph(data: Any) -> bool:
    """Whether a config's parsed data describes a computational graph: `expression:` or
    `nodes:` at the top — or, without `layers:` or `weights:`, a key only a graph has, a
    misspelling nearer a graph's key than a network's (`node:`, `expresion:`), or inputs by
    name ({x: -2}), so that its mistakes are told in a graph's terms."""
    if not isinstance(data, dict):
        return False
    if "expression" in data or "nodes" in data:
        return True
    if "layers" in data or "weights" in data:
        return False
    if isinstance(data.get("inputs"), dict):
        return True
    from .graph import config as graph  # start-up: only for a config neither at a glance

    graph_only = tuple(key for key in graph.KEYS if key not in config.KEYS)  # expression, …
    both = (*config.KEYS, *graph_only)
    return any(
        str(key) not in config.KEYS and closest(str(key), both) in graph_only for key in data
    )


def is_model(value: Any) -> bool:
    """Whether `value` is a model already read (a network's or a graph's spec)."""
    return _kind(value) is not None


def kind(model: Any) -> Kind:
    """ "graph" for a computational graph's spec, "model" for a `model:` of tensor layers,
    "network" for a layered network's (a `model:` of linear layers and activations too)."""
    return _kind(model) or "network"


def _kind(value: Any) -> Kind | None:
    """A read model's kind; None for anything else (a source: a name, a path, a dict). A
    network's spec is told first, so that the graph's and the tensor model's classes load only
    for a value that is not one (start-up time: `run` on a network never loads them)."""
    if isinstance(value, Spec):
        return "network"
    if value is None or isinstance(value, (str, dict)):
        return None
    from .graph.spec import GraphSpec  # start-up: see above
    from .network.model_spec import ModelSpec

    if isinstance(value, ModelSpec):
        return "model"
    return "graph" if isinstance(value, GraphSpec) else None
