"""`check --names`: a step's answer names as a rich table for the terminal, or as plain
aligned text for a pipe. Formats only."""

from __future__ import annotations

import json
import re
import unicodedata
from itertools import groupby
from typing import TYPE_CHECKING, Any

from .numbers import symbolic

if TYPE_CHECKING:  # teach's records, read here: render imports nothing of teach's
    from ..teach.names import Name, Names

_HEAD = ("name", "symbol", "meaning")  # the columns' titles
OPTIONAL = "(optional)"  # a row check marks when it is given, not one of its questions


def meaning(name: Name) -> str:
    """The name's meaning in words, or its formula where no words name it."""
    said = name.meaning or f"= {symbolic(name.formula)}"
    return said if name.asked else f"{said} {OPTIONAL}"


def _heading(names: Names) -> tuple[str, str]:
    """The title, and how many names and questions (check's "x of N") there are."""
    count = f"{len(names.names)} names, {names.questions} questions"
    if names.samples > 1:
        count = f"{len(names.names)} names a sample, {names.questions} questions in its "
        count += f"{names.samples} samples"
    return f"Answer names · {names.title}", count


def _flow(name: str) -> str:
    """A name as a key of a YAML mapping written in braces: quoted where YAML would read its
    brackets or commas (a model's "y0[0,1]"), else as it is (o3)."""
    return (
        json.dumps(name, ensure_ascii=False) if re.search(r"[][{},:#&*!|>'\"%@`]", name) else name
    )


def _footer(names: Names) -> list[str]:
    first = _flow(names.names[0].name)
    lines = [f"An answers file gives a value by its name or its symbol: `answers: {{{first}: …}}`."]
    if any(not n.asked for n in names.names):
        lines.append(
            f'{OPTIONAL}: marked when you give it, not counted among the questions ("x of N").'
        )
    if names.gradients is not None:  # what the file must say to be marked on these names
        said = "true" if names.gradients else "false"
        lines.append(f"These are the names of an answers file with `gradients: {said}`.")
    lines += [f"Note: {note}" for note in names.notes]  # which way a square matrix was read
    if names.samples > 1:
        lines.append(
            f"{names.samples} samples: sample 1's values go under `answers:`, later "
            f"samples' under `samples: {{2: {{{first}: …}}}}`, with the same names."
        )
    return lines


def renderable(names: Names) -> Any:
    """The terminal: the names under their sections' titles, as the trace orders them, in
    columns aligned across sections; a long meaning wraps in its own column."""
    # rich loads here, only for the terminal
    from rich.console import Group
    from rich.padding import Padding
    from rich.table import Table
    from rich.text import Text

    widths = _widths(names)

    def grid() -> Table:
        table = Table.grid(padding=(0, 2))
        table.add_column(no_wrap=True, width=widths[0])
        table.add_column(no_wrap=True, width=widths[1])
        table.add_column()
        return table

    head = grid()
    head.add_row(*_HEAD, style="bold underline")
    heading, count = _heading(names)
    parts: list[Any] = [Text(heading, style="bold"), Text(count), Padding(head, (1, 0, 0, 2))]
    for title, rows in groupby(names.names, key=lambda n: n.section):
        table = grid()
        for n in rows:
            table.add_row(
                Text(n.name, style="bold cyan"),
                Text(n.symbol),
                Text(meaning(n)),
                style=None if n.asked else "dim",
            )
        parts += [Text(), Text(title, style="bold"), Padding(table, (0, 0, 0, 2))]
    parts += [Text(), *(Text(line) for line in _footer(names))]
    return Group(*parts)


def _columns(text: str) -> int:
    """The columns `text` takes: a combining mark (m̂'s circumflex) takes none."""
    return sum(not unicodedata.combining(c) for c in text)


def _widths(names: Names) -> tuple[int, int]:
    """The columns the name and the symbol columns take: their longest, or their title."""
    name_title, symbol_title, _ = _HEAD
    return (
        max(_columns(text) for text in (name_title, *(n.name for n in names.names))),
        max(_columns(text) for text in (symbol_title, *(n.symbol for n in names.names))),
    )


def _padded(text: str, width: int) -> str:
    return text + " " * (width - _columns(text))


def text(names: Names) -> str:
    """A pipe: plain text, one name a line under its section's title, columns aligned."""
    name_width, symbol_width = (width + 2 for width in _widths(names))
    lines = list(_heading(names))
    for title, rows in groupby(names.names, key=lambda n: n.section):
        lines += ["", title]
        lines += [
            f"  {_padded(n.name, name_width)}{_padded(n.symbol, symbol_width)}{meaning(n)}"
            for n in rows
        ]
    return "\n".join([*lines, "", *_footer(names)]) + "\n"
