"""The lecture's notation (the course notes): units numbered 1…n across the network, inputs
first; net, o, x, t; δ = −∂E/∂net; w13 from unit 1 to unit 3; Δw = η·δ_j·o_i."""

from __future__ import annotations

from . import Book, Place


def _quantity(kind: str, place: Place) -> str:  # never called: the lecture is the trace's own
    raise NotImplementedError(kind)


BOOK = Book(
    name="lecture",
    title="the lecture's notes",
    flips=False,
    convention="δ_j = −∂E/∂net_j, and w ← w + η·δ_j·o_i (the lecture's sign convention)",
    quantity=_quantity,
    weight=lambda source, target, n: "",
    bias=lambda place, shared: "",
)
