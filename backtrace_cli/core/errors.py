"""The one error type for bad input. Cheap to import: no numpy, no yaml."""

from __future__ import annotations

import re

QUOTE_LIMIT = 60  # characters of anything read that a message may repeat

# C0 controls (with tab and newline), DEL, C1 controls, and the bidi marks, embeddings,
# overrides and isolates: in a terminal they move the cursor, set the clipboard
# (ESC ]52), or make a name read backwards. Lone surrogates are bytes that were not
# UTF-8 (stdin's surrogateescape): written back raw, 0x9b is a terminal's CSI. A pattern,
# compiled (and cached by `re`) on first use: `--help` never needs it (start-up time).
_CONTROL = "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"


def visible(text: str) -> str:
    r"""`text` with every control character written as an escape: "Eve\x1b]52;…\x07"."""
    return re.sub(_CONTROL, _escape, text)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8, as surrogateescape keeps it
        code -= 0xDC00
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def cut(text: str, limit: int = QUOTE_LIMIT) -> str:
    """`text` with its control characters escaped; if long, its first `limit` − 1
    characters and "…"."""
    return visible(_shortened(text, limit))


def _shortened(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def quote(value: object, limit: int = QUOTE_LIMIT) -> str:
    """A value read from input as a message repeats it: text quoted, at most `limit`
    characters of it, so that a message never echoes a whole file."""
    if isinstance(value, str):  # repr escapes every control character itself
        return repr(_shortened(value, limit))
    try:
        return cut(str(value), limit)
    except ValueError:  # an integer with more digits than Python will print
        return "a number too long to print"


class ConfigError(Exception):
    """Bad input, located: which file, line and column, which field, what would be valid."""

    def __init__(
        self,
        file: str,
        line: int | None,
        field: str | None,
        problem: str,
        column: int | None = None,
    ) -> None:
        self.file = file
        self.line = line
        self.field = field
        self.problem = problem
        self.column = column
        super().__init__(str(self))

    def __str__(self) -> str:
        where = [visible(self.file)]  # a file's name is a student's text too
        if self.line is not None:
            where.append(f"line {self.line}")
            if self.column is not None:
                where.append(f"column {self.column}")
        prefix = ", ".join(where)
        if self.field:
            return f"{prefix}, {self.field}: {self.problem}"
        return f"{prefix}: {self.problem}"
