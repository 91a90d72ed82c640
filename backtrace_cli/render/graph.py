"""A computational graph's trace as terminal tables, markdown (LaTeX, Mermaid) and JSON.

Like every renderer it only formats: each formula is written by its operation's own writer
(`operations`), each number is a value the records hold, written by `NumberFormat`. Each format
is a module of its own (`graph_table`, `graph_markdown`, `graph_json`, over `graph_formula`);
this one gathers them (a graph's question sheet is `sheets.graph_question`).
"""

from __future__ import annotations

from .graph_json import document, document_training, render_json
from .graph_markdown import render_markdown, training_markdown
from .graph_table import renderable, training_renderable

__all__ = [
    "document",
    "document_training",
    "render_json",
    "render_markdown",
    "renderable",
    "training_markdown",
    "training_renderable",
]
