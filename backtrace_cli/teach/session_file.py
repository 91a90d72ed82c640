"""A quiz session as an answers file: what `quiz -o` writes and `backtrace check` marks the
same way — with `--ask`, every question asked (a blank where none was answered)."""

from __future__ import annotations

import os
from typing import Any


def session_text(summary: Any, config: str | None, path: str) -> str:
    """The answers typed (`summary`, a `quiz.Summary`), as an answers file `backtrace check`
    marks the same way."""
    quiz = summary.quiz
    lines = [
        f"# backtrace quiz: {summary.score} of {summary.total} right"
        + (f" ({summary.stopped})" if summary.stopped else ""),
        f"# `backtrace check {os.path.basename(path)}` marks these answers the same way.",
    ]
    if quiz.ask:  # `config:`, not `exercise:`: check marks the questions here, not the step's
        lines += [
            f"# Asked: {', '.join(quiz.ask)} (quiz --ask), {summary.total} of the step's "
            f"{quiz.of} questions;",
            "# check marks these (a blank one: not answered), not the step's others.",
            f"config: {_quoted(_exercise(config, path))}",
        ]
    else:
        lines.append(f"exercise: {_quoted(_exercise(config, path))}")
    if quiz.rounding:
        lines.append(f"round: {quiz.rounding}")
    if getattr(quiz.spec, "notation", "lecture") != "lecture":
        lines.append(f"notation: {quiz.spec.notation}")
    if quiz.gradients is not None:  # the chain-rule rows asked (or not), as check solves
        lines.append(f"gradients: {'true' if quiz.gradients else 'false'}")
    by_sample: dict[int, list[tuple[str, str]]] = {}
    found = {(o.question.sample, o.question.name): o.final for o in summary.outcomes}
    for question in quiz.questions:  # with --ask, each one asked: a blank where not answered
        answer = found.get((question.sample, question.name))
        if answer is not None or quiz.ask:
            written = answer.written if answer is not None else ""
            by_sample.setdefault(question.sample, []).append((question.name, written))
    first = by_sample.pop(1, [])  # sample 1 under `answers:`, later ones under `samples:`
    if first:
        lines += ["answers:", *(f"  {_quoted(n)}: {w}".rstrip() for n, w in first)]
    if by_sample:
        lines.append("samples:")
    for sample, answers in sorted(by_sample.items()):
        lines += [f"  {sample}:", *(f"    {_quoted(n)}: {w}".rstrip() for n, w in answers)]
    return "\n".join(lines) + "\n"


def _exercise(config: str | None, path: str) -> str:
    """The config as the session file names it: a built-in name, or a path relative to the
    session file's folder (check resolves it from there)."""
    if config is None:
        return "lecture"
    if not os.path.isfile(config):
        return config
    folder = os.path.dirname(os.path.abspath(path))
    try:
        return os.path.relpath(os.path.abspath(config), folder)
    except ValueError:  # another drive (Windows)
        return os.path.abspath(config)


def _quoted(text: str) -> str:
    """A YAML scalar: plain when it is a simple name, else double-quoted (JSON's quoting is
    valid YAML)."""
    import json
    import re

    special = re.fullmatch(r"\.(inf|nan)|null|true|false|yes|no|on|off|y|n", text, re.I)
    if re.fullmatch(r"[A-Za-z_./][\w./-]*", text) and not special:
        return text
    return json.dumps(text, ensure_ascii=False)
