"""Which way a config's weight matrices were read, said where a student reads first: the
problem statement names every weight (w13 = 0.1, …) before any number is computed, and a
square matrix whose layout the config leaves unstated gets a note — given the other way round
(inputs × units, as Keras' kernel) it would pass silently transposed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..definitions import notation
from .spec import Spec
from .translation import translation
from .weights import INPUTS_BY_UNITS, UNITS_BY_INPUTS

if TYPE_CHECKING:
    from ..statement import Sentence

SHOWN_WEIGHTS = 48  # a 4-4-4-4 network's: the statement names them all
SHOWN_IN_NOTE = 3  # the first row's weights the note names


def given(spec: Spec) -> Sentence | None:
    """The problem statement's sentence naming the weights that matrices gave, row by row
    (named weights name themselves, and seeded ones are drawn, not given)."""
    if spec.weight_style not in ("matrices", "model"):
        return None
    from ..statement import Given  # start-up: the statement loads only when it is written

    numbering, name = spec.numbering, translation(spec).symbol
    read = spec.weight_layout or UNITS_BY_INPUTS
    stated = ", as stated" if spec.weight_layout else ""
    parts: list[Any] = [f"Weights (the matrices read {read}{stated}): "]
    if spec.weight_style == "model":
        parts = ["Weights (each linear layer's weight, torch's [out_features][in_features]): "]
    count = 0
    for k, w in enumerate(spec.weights, start=1):
        for j in range(w.shape[0]):
            for i in range(w.shape[1]):
                if count == SHOWN_WEIGHTS:
                    total = sum(m.size for m in spec.weights)
                    return (*parts, f", … ({total:,} in all).")
                weight = notation.weight_name(numbering.unit(k - 1, i), numbering.unit(k, j))
                parts += [", " if count else "", Given(name(weight), float(w[j, i]))]
                count += 1
    return (*parts, ".")


def note(spec: Spec) -> Sentence | None:
    """A note where a square matrix was read without a stated layout: which way, by its first
    row's names, and how to say the other."""
    square = [k for k, w in enumerate(spec.weights) if w.shape[0] == w.shape[1] > 1]
    if spec.weight_style != "matrices" or spec.weight_layout is not None or not square:
        return None
    from ..statement import Symbol  # start-up: the statement loads only for a note

    numbering, name = spec.numbering, translation(spec).symbol
    k = square[0]
    which = ", ".join(f"weights[{m}]" for m in square)
    row: list[Any] = []
    for i in range(min(spec.layers[k], SHOWN_IN_NOTE)):
        weight = notation.weight_name(numbering.unit(k, i), numbering.unit(k + 1, 0))
        row += [", " if i else "", Symbol(name(weight))]
    more = ", …" if spec.layers[k] > SHOWN_IN_NOTE else ""
    into = f" (into unit {numbering.unit(k + 1, 0)})" if spec.notation == "lecture" else ""
    one = len(square) == 1
    whose = "its first row" if one else f"the first row of weights[{k}]"
    return (
        f"{which} {'is' if one else 'are'} square, read {UNITS_BY_INPUTS}: {whose} is ",
        *row,
        f"{more}{into}. If rows are inputs, write `layout: {INPUTS_BY_UNITS}` under weights.",
    )


def note_text(spec: Spec) -> str | None:
    """The note as plain text: the terminal's and the JSON's."""
    found = note(spec)
    if found is None:
        return None
    from ..statement import plain  # start-up: the statement loads only for a note

    return plain(found)
