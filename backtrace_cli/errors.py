"""The one error type for bad input. Cheap to import: no numpy, no yaml."""

from __future__ import annotations

QUOTE_LIMIT = 60  # characters of anything read that a message may repeat


def cut(text: str, limit: int = QUOTE_LIMIT) -> str:
    """`text` if short, else its first `limit` − 1 characters and "…"."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def quote(value: object, limit: int = QUOTE_LIMIT) -> str:
    """A value read from input as a message repeats it: text quoted, at most `limit`
    characters of it, so that a message never echoes a whole file."""
    if isinstance(value, str):
        return repr(cut(value, limit))
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
        where = [self.file]
        if self.line is not None:
            where.append(f"line {self.line}")
            if self.column is not None:
                where.append(f"column {self.column}")
        prefix = ", ".join(where)
        if self.field:
            return f"{prefix}, {self.field}: {self.problem}"
        return f"{prefix}: {self.problem}"
