"""`backtrace check` for computational graphs: answers like `q: 3` and `df/dx: -4`, marked by
`check`'s own rules (right at the precision written or the rounding carried, follows from the
student's own earlier values, wrong) against the graph's traced solution.

The graph's rows become `solution.Line`s whose templates are the operations' own formulas over the
trace's names, so error carried forward works exactly as for networks. Names an answers file may
use: a node's or input's name (`q`, `n3`), a gradient `df/dx` or `∂f/∂x` (and a branch,
`df/dx via q`), a local gradient `dq/dx`, a parameter's new value `new w` (or `w_new`), an
optimizer's lines `m_theta`, `Δ_theta`.
"""

from __future__ import annotations

import os
import re
from dataclasses import replace
from typing import Any

from .. import models, solution, tracing
from ..core import safefile
from ..core.errors import ConfigError
from ..core.yamlsource import Document, parse
from ..graph import config as graph
from ..graph.config import GraphSpec
from ..solution import Key, Solution
from .answers import ANSWERS_FILE, AnswerSheet, answers_in, read_rounding
from .graphmistakes import slips
from .marker import mark, unanswered
from .verdicts import Report

KEYS = ("exercise", "config", "variant", "student", "round", "answers")


def solve(spec: GraphSpec, rounding: str | None = None) -> Solution:
    """The graph's solution, exactly and with each rounding a student may carry."""
    solved = solution.solve(spec, 1, rounding)
    rows = {line.key[2]: line.exact for line in solved.lines}
    # each line with the named slips its formula's structure admits (`graphmistakes`)
    lines = tuple(
        replace(line, slips=slips(line.exact, rows, spec.output)) for line in solved.lines
    )
    return replace(solved, lines=lines, rounds_gradients=True)


def symbols(spec: GraphSpec) -> list[str]:
    """What a graph exercise asks, as trace symbols in the order its sheet lists them:
    every node's value, ∂f/∂input of every input, and each parameter's new value."""
    wanted = [n.name for n in spec.nodes]
    wanted += [f"∂{spec.output}/∂{name}" for name in spec.input_names]
    wanted += [f"new {name}" for name in spec.parameters]
    return wanted


def _asked(spec: GraphSpec, solution: Solution) -> tuple[Key, ...]:
    """What a graph exercise asks, as `check`'s keys (see `symbols`)."""
    return tuple((1, 1, symbol) for symbol in symbols(spec) if (1, 1, symbol) in solution.index)


_ASCII = re.compile(r"d(\w+)/d(\w+)(?:\s+via\s+(\w+)(\s+\(\d\w\w\))?)?")


def symbol_of(name: str) -> str:
    """An answers file's name → the trace's symbol: df/dx → ∂f/∂x, w_new → new w."""
    name = " ".join(str(name).split())
    match = _ASCII.fullmatch(name)
    if match:
        top, bottom, via, which = match.groups()
        return f"∂{top}/∂{bottom}" + (f" via {via}{which or ''}" if via else "")
    if name.endswith("_new"):
        return f"new {name[:-4]}"
    if name.startswith("new_"):
        return f"new {name[4:]}"
    return name


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


def ascii_name(symbol: str) -> str:
    """The name an answers file may use for a trace symbol: ∂f/∂x → df/dx."""
    return symbol.replace("∂", "d")


def for_graph(sheet: AnswerSheet) -> AnswerSheet:
    """A sheet `check.read` read (its names as a network's), with its names read as a graph's:
    df/dx → ∂f/∂x, w_new → new w. For a file whose exercise turned out to be a graph."""
    answers = tuple(replace(a, symbol=symbol_of(a.name)) for a in sheet.answers)
    return replace(sheet, answers=answers)


def mark_sheet(
    sheet: AnswerSheet, spec: GraphSpec, questions: tuple[Key, ...] | None = None
) -> Report:
    """Mark a graph's answers file: each answer, and (against an exercise) every question.
    `questions`: only these are asked (a set written with `exercise --ask`), and answers to
    anything else are not marked — as `check.mark_sheet` does for a network."""
    solution = solve(spec, sheet.rounding)
    doc = sheet.document or Document(sheet.source, None)
    for answer in sheet.answers:
        if answer.key not in solution.index:
            names = [n for n in dict.fromkeys(line.key[2] for line in solution.lines)]
            shown = [ascii_name(n) for n in names if "(" not in n][:14]
            raise doc.error(
                answer.where,
                f"this graph has no {answer.name}; it has {', '.join(shown)}"
                + (", …" if len(names) > 14 else ""),
            )
    marked = {v.key: v for v in mark(solution, sheet.answers, sheet.rounding)}
    if questions is not None:
        asked = tuple(key for key in questions if key in solution.index)
        marked = {key: marked[key] for key in asked if key in marked}
    else:
        asked = _asked(spec, solution) if sheet.against_exercise else ()
    keys = sorted(set(marked) | set(asked), key=solution.index.__getitem__)
    verdicts = tuple(marked.get(key) or unanswered(solution, key) for key in keys)
    return Report(
        f"Check of {sheet.source} against {spec.name}",
        verdicts,
        len(verdicts) if sheet.against_exercise or questions is not None else None,
        sheet.rounding,
        sheet.source,
    )


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
