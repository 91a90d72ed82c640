"""What a sheet asks: its questions, and the variant ids that name a sheet.

Below both the exercises that write sheets and the renderers and marking that read them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .definitions.notation import symbol_of

UNRESOLVED = "?"  # an answer's symbol before its name is read in the notation it is marked in
PLACEHOLDER = "…"  # where a sheet's hand-in example puts a value: read back as unanswered
IDENT = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*-s\d+-v\d{2,}")


VARIANT_OF = " · variant "  # a variant config's name ends with it and its id (draws.labelled)


def is_ident(text: str) -> bool:
    """A variant id as `variant` writes it (lecture-s7-v03): never a path."""
    return IDENT.fullmatch(text) is not None


def variant_of(name: str) -> str | None:
    """The variant id a config's name ends with ("… · variant lecture-s7-v03"), or None."""
    ident = name.rpartition(VARIANT_OF)[2] if VARIANT_OF in name else ""
    return ident if is_ident(ident) else None


@dataclass(frozen=True, slots=True)
class Question:
    """One blank on a sheet: a quantity of one sample's step."""

    sample: int  # 1-based: later samples of an epoch go under `samples: {2: …}`
    name: str  # as an answers file writes it: "delta5", "w45" (the new weight)
    symbol: str  # the trace's symbol: "δ5", "new w45"

    @property
    def key(self) -> tuple[int, int, str]:
        """`check`'s key for it: (epoch, sample, symbol)."""
        return (1, self.sample, self.symbol)

    @classmethod
    def parse(cls, label: str) -> Question:
        """The question a gradebook column stands for: "s2.o5" → sample 2, o5."""
        head, dot, name = label.partition(".")
        sample = int(head[1:]) if dot and head[1:].isdigit() else 1
        name = name if dot else label
        symbol = symbol_of(name)
        if symbol is None:  # a textbook's name (z^2_1): read once the notation is known
            if not name.strip():
                raise ValueError(f"{label!r} is not a question")
            symbol = UNRESOLVED + name
        return cls(sample, name, symbol)

    @property
    def label(self) -> str:
        """The gradebook's column: the name, with its sample after the first: "s2.o5"."""
        return self.name if self.sample == 1 else f"s{self.sample}.{self.name}"
