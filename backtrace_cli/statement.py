"""What a model's homework question says and draws, as structure: its problem statement (sentences
of words, named values, rules and formulas) and its diagram (nodes, groups and edges). Computes
nothing, and imports no model.

Each model writes its own (`tracing.model(spec).problem(...)`, `.diagram(...)`): the words, which
values it gives and under which symbols, how its nodes are joined. Renderers only write the
symbols in LaTeX, format the numbers and draw the Mermaid — they never ask which model it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from .worked import Formula

# ---------------------------------------------------------------- the problem statement


@dataclass(frozen=True, slots=True)
class Symbol:
    """A name written as inline math: "x1" → $x_1$, "∂f/∂x" → a fraction."""

    name: str


@dataclass(frozen=True, slots=True)
class Given:
    """A value the problem gives, under its symbol: an input, a target, the learning rate."""

    name: str  # "x1", "t5", "η"
    value: float


@dataclass(frozen=True, slots=True)
class Number:
    """A number in the prose (a dropout rate), written as every number is."""

    value: float


@dataclass(frozen=True, slots=True)
class Rule:
    """A definition's rule, its formulas as math and its words as prose: the loss."""

    text: str  # "E = ½Σ(t − o)²"


@dataclass(frozen=True, slots=True)
class Node:
    """A computational graph's node, written as the equation `name = formula` in math: its
    formula as structure, and whether the config names it (in an `Expression`, a node the tool
    named is written out in place)."""

    name: str
    formula: Formula
    named: bool


@dataclass(frozen=True, slots=True)
class Expression:
    """The expression `output = …` in math, rebuilt from its nodes (nothing recomputed)."""

    output: str
    nodes: tuple[Node, ...]  # forward order
    written: str  # as the config writes it, to quote where it is too long to rebuild


Part = str | Symbol | Given | Number | Rule | Node | Expression
Sentence = tuple[Part, ...]
Names = Literal["trace", "graph"]


@dataclass(frozen=True, slots=True)
class Statement:
    """What the homework question says, sentence by sentence."""

    names: Names  # how its symbols are written: a layered network's trace symbols ("δ5",
    # "w13", a book's "a^2_1"), a given's number beside its math; or a graph's own names
    # ("x0", "theta", "∂f/∂x"), a given wholly in math
    sentences: tuple[Sentence, ...]
    notes: tuple[Sentence, ...] = ()  # how the config was read, where it needs saying (a
    # square matrix's layout): a line beside the statement wherever it is read

    @property
    def givens(self) -> tuple[Given, ...]:
        """Every value it gives, in order."""
        return tuple(p for s in self.sentences for p in s if isinstance(p, Given))

    def notes_text(self) -> tuple[str, ...]:
        """Its notes as plain text (a terminal's, a JSON's)."""
        return tuple(plain(note) for note in self.notes)


def plain(sentence: Sentence) -> str:
    """A sentence of words and symbols as plain text, each symbol by its name."""
    return "".join(p if isinstance(p, str) else p.name for p in sentence)  # type: ignore[union-attr]


# ---------------------------------------------------------------- the diagram

Label = tuple[str | float | Formula, ...]  # words, numbers, a formula written as text
Shape = Literal["stadium", "circle", "box", "output"]


@dataclass(frozen=True, slots=True)
class Box:
    """One drawn node: a network's input or unit, a graph's input or operation."""

    ident: str  # "u3", "node2": what the edges name
    lines: tuple[Label, ...]  # the label, line by line
    # an input a stadium; a unit a circle; a step a box; a graph's output a box marked as the
    # output (its three lines — formula, value, gradient — do not fit a circle)
    shape: Shape
    faded: bool = False  # dropped by this step's dropout


@dataclass(frozen=True, slots=True)
class Group:
    """Boxes drawn together under a title, top to bottom: a layer."""

    ident: str
    title: str
    boxes: tuple[Box, ...]


@dataclass(frozen=True, slots=True)
class Edge:
    source: str
    target: str
    label: Label = ()  # a weight and its value, where the diagram writes them


@dataclass(frozen=True, slots=True)
class Diagram:
    """A model drawn in stages: its groups (layers), its loose boxes (in the order they are
    best declared to the layout), its edges."""

    groups: tuple[Group, ...]
    boxes: tuple[Box, ...]
    edges: tuple[Edge, ...]
    legend: str = ""  # a line under the diagram on what its marks mean
    # "across": stages left to right (a network's layers); "down": top to bottom (a circuit: its
    # boxes are wider than tall, so an edge meets a box on its long side and a long chain of
    # nodes keeps its text at full size)
    flow: Literal["across", "down"] = "across"

    @property
    def all_boxes(self) -> tuple[Box, ...]:
        return tuple(b for g in self.groups for b in g.boxes) + self.boxes
