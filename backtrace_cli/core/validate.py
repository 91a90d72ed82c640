"""Reading typed fields out of a parsed YAML document, every problem a located ConfigError.

The generic part of validating a config, shared by every model (networks, graphs): numbers,
whole numbers, choices, vectors and mappings, and how a wrong value is shown back.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

from . import numerals
from .errors import ConfigError, quote
from .yamlsource import Document, Path


def closest(word: str, options: Sequence[str]) -> str | None:
    """The option nearest a mistyped word, if one is close enough to suggest."""
    import difflib  # only when there is a mistake to explain

    close = difflib.get_close_matches(word, options, n=1)
    return close[0] if close else None


def nearest(word: str, options: Sequence[str], most: int = 4) -> list[str]:
    """The options nearest a mistyped name, in their own order: those fewest edits away
    (a swap of two neighbours is one: dw64 → dw46), if that is close; else difflib's."""
    distance = {option: _edits(word, option) for option in dict.fromkeys(options)}
    least = min(distance.values(), default=0)
    if distance and least <= max(1, len(word) // 3):
        return [option for option, d in distance.items() if d == least][:most]
    import difflib  # only when there is a mistake to explain

    return difflib.get_close_matches(word, list(distance), n=most, cutoff=0.5)


def _edits(a: str, b: str) -> int:
    """Insertions, deletions, substitutions and swaps of neighbours that turn a into b."""
    if abs(len(a) - len(b)) > 3 or len(a) > 60:  # far apart either way: not worth the table
        return 4 + abs(len(a) - len(b))
    before: list[int] = []
    row = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        now = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            now[j] = min(row[j] + 1, now[j - 1] + 1, row[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                now[j] = min(now[j], before[j - 2] + 1)
        before, row = row, now
    return row[-1]


class Checker:
    """Reads fields out of a Document, raising located ConfigErrors."""

    def __init__(self, doc: Document) -> None:
        self.doc = doc

    def fail(self, path: Path, problem: str) -> ConfigError:
        return self.doc.error(path, problem)

    def get(self, path: Path) -> Any:
        value = self.doc.value
        for part in path:
            value = value[part]
        return value

    def number(self, path: Path, value: Any, what: str = "a number") -> float:
        written = self.doc.texts.get(tuple(path))
        trouble = numerals.problem(value if written is None else written)
        trouble = trouble or numerals.problem(value)  # a whole number YAML has read (0x…)
        if trouble:  # 1e-400 is not silently 0, a 400-digit integer not an OverflowError
            raise self.fail(path, trouble)
        if isinstance(value, str) and _EXPONENT.fullmatch(value.strip()):
            # YAML 1.1 reads 1e-3 (no dot) as text; people mean the number
            value = float(value)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            hint = ""
            if isinstance(value, str) and "," in value:
                hint = " (use a decimal point, not a comma)"
            raise self.fail(path, f"{show(value)} is not a number; expected {what}{hint}")
        try:
            number = float(value)
        except OverflowError:
            raise self.fail(path, f"{quote(value)} is too large; expected {what}") from None
        if not math.isfinite(number):
            raise self.fail(path, f"{show(value)} is not a finite number; expected {what}")
        return number

    def integer(self, path: Path, value: Any, low: int, high: int, what: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(path, f"{show(value)} is not a whole number; expected {what}")
        if not low <= value <= high:
            raise self.fail(path, f"{quote(value)} is out of range; expected {what}")
        return value

    def choice(self, path: Path, value: Any, options: tuple[str, ...]) -> str:
        if value in options:
            return value
        close = closest(str(value), options)
        hint = f"; did you mean {close!r}?" if close else ""
        return_options = ", ".join(options)
        raise self.fail(path, f"{show(value)} is not one of: {return_options}{hint}")

    def vector(self, path: Path, value: Any, length: int, what: str) -> list[float]:
        if not isinstance(value, list):
            raise self.fail(
                path, f"expected a list of {length} numbers ({what}), found {show(value)}"
            )
        if len(value) != length:
            comma = self.doc.decimal_comma(path, length)
            if comma is not None:
                point = comma.replace(",", ".")
                raise self.fail(
                    path,
                    f"has {counted(len(value), 'number')}: `{comma}` is a decimal comma, read as "
                    f"two numbers; write {point} (expected {length}: {what})",
                )
            raise self.fail(
                path, f"has {counted(len(value), 'number')}; expected {length} ({what})"
            )
        return [self.number((*path, i), v) for i, v in enumerate(value)]

    def mapping(self, path: Path, value: Any, what: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(path, f"expected a mapping ({what}), found {show(value)}")
        return value


_EXPONENT = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)[eE][+-]?\d+")


def counted(n: int, noun: str) -> str:
    """1 number, 2 numbers; 1 matrix, 2 matrices; 1 entry, 0 entries."""
    if n == 1:
        return f"1 {noun}"
    if noun.endswith("ix"):
        return f"{n} {noun[:-1]}ices"
    if noun.endswith("y") and noun[-2:-1] not in ("a", "e", "o", "u"):
        return f"{n} {noun[:-1]}ies"
    return f"{n} {noun}s"


def show(value: Any) -> str:
    """A value as a message shows it: YAML's spelling, or a short quoted piece of text."""
    if isinstance(value, bool):
        return "true" if value else "false"  # as YAML spells it
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if value is None:
        return "nothing (null)"
    return quote(value)  # text quoted; never more than a short piece of what was read
