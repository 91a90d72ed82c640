"""A question bank for a learning platform's quiz: one item per exercise variant, its blanks
and the numbers each blank accepts. `teach.quizbank` builds it from the worked solution;
`moodle` and `qti` write it in each platform's format. Computes nothing."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

_BLANK = re.compile(r"\[\[blank:(\d+)\]\]")


@dataclass(frozen=True, slots=True)
class Accepted:
    """A number a blank takes for full marks, give or take `tolerance` (both ends included)."""

    value: float
    tolerance: float


@dataclass(frozen=True, slots=True)
class Blank:
    """One quantity to find: its label as a gradebook's column (o3; s2.o3, sample 2's), its
    symbol in TeX, what it accepts (the key at the rounding asked first, then the value
    carried rounded as you go, where it differs)."""

    name: str  # as `sheet.Question.label`
    symbol: str
    accepted: tuple[Accepted, ...]


@dataclass(frozen=True, slots=True)
class Item:
    """One variant: its id, its question as HTML with a `token` where each blank goes, its
    blanks in order, and its worked solution as HTML (shown after the attempt)."""

    ident: str
    title: str
    text: str
    blanks: tuple[Blank, ...]
    feedback: str


def token(number: int) -> str:
    """Where blank `number` (from 0) goes in an item's text."""
    return f"[[blank:{number}]]"


def fill(item: Item, cell: Callable[[int, Blank], str]) -> str:
    """The item's text with each blank's token replaced by `cell(number, blank)`."""
    return _BLANK.sub(lambda m: cell(int(m.group(1)), item.blanks[int(m.group(1))]), item.text)


def number(value: float) -> str:
    """A number as both platforms read it: plain digits, an exponent only where Python writes
    one (0.755, -0.0406, 5e-06) — never a unicode minus or a thousands separator."""
    return repr(float(value))
