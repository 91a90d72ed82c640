"""A computational graph's answers file (`q: 3`, `df/dx: -4`), read into an `AnswerSheet` that
`check.mark_sheet` marks as it marks a network's; its names are the graph's own
(`graph.sheet.symbol_of`)."""

from __future__ import annotations

import os
from dataclasses import replace
from typing import Any

from .. import models, tracing
from ..core import safefile
from ..core.errors import ConfigError
from ..core.yamlsource import Document, parse
from ..graph import config as graph
from ..graph.sheet import symbol_of
from .answers import ANSWERS_FILE, AnswerSheet, answers_in, read_rounding

KEYS = ("exercise", "config", "variant", "student", "round", "answers")


def read(
    path: str, data_doc: Document | None = None, root: str | None = None
) -> tuple[AnswerSheet, Any]:
    """An answers file for a graph → (sheet, the exercise to load). `root`: the folder the
    file was found in, which no link in it may lead out of."""
    doc = data_doc
    if doc is None:
        text = safefile.read_text(path, root, ANSWERS_FILE)
        doc = parse(text, path, ANSWERS_FILE)
    data = doc.value
    base = os.path.dirname(os.path.abspath(path)) if os.path.isfile(path) else "."
    for key in data:
        if key not in KEYS:
            raise doc.error((key,), f"unknown key; a graph's answers file has {', '.join(KEYS)}")
    exercise: Any = data.get("exercise")
    if "config" in data:
        inline = Document(path, data["config"])
        for where, line in doc.lines.items():
            if where[:1] == ("config",):
                inline.lines[where[1:]] = line
                inline.columns[where[1:]] = doc.columns.get(where, 1)
        exercise = graph.from_document(inline)
    elif isinstance(exercise, str) and not os.path.isabs(exercise):
        candidate = os.path.join(base, exercise)
        if os.path.isfile(candidate):
            exercise = candidate
    rounding = read_rounding(doc, data)
    raw = data.get("answers")
    if not isinstance(raw, dict) or not raw:
        raise doc.error(
            ("answers",), "expected your values by name, e.g. `answers: {q: 3, df/dx: -4}`"
        )
    answers = answers_in(doc, ("answers",), raw, 1, 1, symbol_of)
    sheet = AnswerSheet(
        path,
        exercise,
        rounding,
        tuple(answers),
        doc,
        "config" not in data,
        data.get("variant"),
        data.get("student"),
    )
    return sheet, exercise


def for_graph(sheet: AnswerSheet) -> AnswerSheet:
    """A sheet `check.read` read (its names as a network's), with its names read as a graph's:
    df/dx → ∂f/∂x, w_new → new w. For a file whose exercise turned out to be a graph."""
    answers = tuple(replace(a, symbol=symbol_of(a.name)) for a in sheet.answers)
    return replace(sheet, answers=answers)


def is_graph_sheet(doc: Document, base: str) -> bool:
    """Does this answers file answer a computational graph (by its exercise's config)?"""
    data = doc.value
    if not isinstance(data, dict):
        return False
    if isinstance(data.get("config"), dict):
        return graph.is_graph(data["config"])
    exercise = data.get("exercise")
    if not isinstance(exercise, str):
        return False
    candidate = os.path.join(base, exercise)
    try:
        spec = tracing.load(candidate if os.path.isfile(candidate) else exercise)
    except ConfigError:
        return False
    return models.kind(spec) == "graph"
