"""The one error type for bad input. Cheap to import: no numpy, no yaml."""

from __future__ import annotations


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
