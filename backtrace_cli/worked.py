"""The worked solution's parts, as every model writes them: sections of equations, each with
its symbol, its formula, the numbers and the value. Computes nothing, and imports no model.

A layered network writes a formula as a template over its operands' names — "{o3}(1 − {o3})·
{w35}·{δ5}", from the definitions' own templates (`formula.parse` reads it as structure); a
computational graph also holds it as a `Formula`: the operation (a writer of
`definitions.operations`, or a product, sum, seed, update or optimizer template) and its
operands. Renderers, marking and the quiz read these rows and nothing else of a step.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# ---------------------------------------------------------------- a long sum, as a page writes it

TERMS_SHOWN = 4  # a sum of more than TERMS_SHOWN + 1 terms is written as its first TERMS_SHOWN − 1,
# "… (n terms)" and its last, unless full (--full): a layered network's rows (its rule since the
# first round: a long section shows its first units only, and its records keep those alone)
MODEL_LONGEST_SUM = 16  # a model's rows (`network/layers/tensor.row`) cut a sum only past 16
# terms: what a student works by hand — a 3×3 kernel's 9 products, a max pool's gradient over
# them — is written whole; a 40-input linear's is not


def used_terms(count: int, full: bool, longest: int = TERMS_SHOWN + 1) -> list[int]:
    """Which terms of a sum of `count` are written: all (`full`, or at most `longest`), or the
    first TERMS_SHOWN − 1 and the last."""
    if full or count <= longest:
        return list(range(count))
    return [*list(range(TERMS_SHOWN - 1)), count - 1]


def elision(total: int, words: str = "terms", latex: bool = False) -> str:
    """What stands between a long sum's first terms and its last for those left out:
    " + … (256 terms) + " (a batch's sum over its samples: "samples"), or in LaTeX."""
    left_out = f"({total} {words})"
    return f" + \\ldots \\text{{{left_out}}} + " if latex else f" + … {left_out} + "


def sum_text(terms: list[str], full: bool, words: str = "terms") -> str:
    """Join terms with +, eliding the middle of a long sum unless `full` (a batch's sum over
    its samples: `words` "samples")."""
    if full or len(terms) <= TERMS_SHOWN + 1:
        return " + ".join(terms)
    return elided_sum([*terms[: TERMS_SHOWN - 1], terms[-1]], len(terms), words)


def elided_sum(terms: list[str], total: int, words: str = "terms") -> str:
    """The written terms (`used_terms`) of a sum of `total`, the others left out."""
    return " + ".join(terms[:-1]) + elision(total, words) + terms[-1]


@dataclass(frozen=True, slots=True)
class Operand:
    """A name (an input, a node or a gradient such as "∂f/∂q") with its value, or a
    constant (name None) written as `text`."""

    name: str | None
    value: float
    text: str = ""
    slot: str = ""  # the template slot it fills ("template" formulas): "m", "β1", "η"


@dataclass(frozen=True, slots=True)
class Formula:
    """Which writer writes the row: an operation's value (`part` None) or its local
    gradient with respect to argument `part`; or "product", "sum", "seed", "update"."""

    writer: str
    operands: tuple[Operand, ...]
    part: int | None = None
    template: tuple[str, str] = ("", "")  # "template": an optimizer's line, text and LaTeX


@dataclass(frozen=True, slots=True)
class Slip:
    """A named slip of a row, as its layer writes it: the formula a student who makes it
    computes, a template over its operands' names (as `Equation.formula`), with their values
    (a name the solution has no line for, such as a weight the row does not read, is marked
    with this value)."""

    name: str  # "the kernel flipped (…)"
    formula: str  # "{w0[0,0,1]}·{x[0,0]} + {w0[0,0,0]}·{x[0,1]} + {b0[0]}"
    operands: tuple[tuple[str, float], ...]


@dataclass(frozen=True, slots=True)
class Equation:
    """One traced equation, as a student writes it."""

    symbol: str  # "δ3"
    formula: str  # template: "{o3}(1 − {o3})·{w35}·{δ5}"
    operands: tuple[tuple[str, float], ...]  # (("o3", 0.680267), ("w35", 0.3), ...)
    value: float  # from the engine's array, never recomputed
    working: str | None = None  # template for the numbers, when it differs from `formula`
    note: str = ""
    latex: str = ""  # the formula as a LaTeX template with the same slots, where it has one
    origin: Equation | None = field(default=None, repr=False, compare=False)  # the lecture's
    # equation this one renames, in a textbook's notation (None: it is the lecture's)
    structure: Formula | None = field(default=None, repr=False, compare=False)  # the formula
    # as its operation and operands, where the model holds it so (a graph's rows)
    factor: bool = False  # a chain-rule factor on the page to explain another row (∂E/∂o and
    # ∂o/∂net beside δ, ∂net/∂w, an SGD step's ∂E/∂w): asked only with `gradients` — unlike
    # the g = ∂E/∂w an optimizer's or a batch's update reads, a quantity of the step
    slips: tuple[Slip, ...] = field(default=(), repr=False, compare=False)  # a tensor layer's
    # named slips of this row (`layers.tensor.row`): marking-only, never rendered
    elided: Equation | None = field(default=None, repr=False, compare=False)  # a tensor
    # layer's row holding a long sum, as a page writes it without --full: the sum's middle terms
    # left out (`elision`), their operands with them (`layers.tensor.row`); never marked

    def values(self) -> dict[str, float]:
        return dict(self.operands)

    def used(self) -> tuple[tuple[str, float], ...]:
        """The operands the formula (or its working) writes: what a student needs to find
        the value. (A δ row also carries net, which only relu's derivative reads.)"""
        written = self.formula + (self.working or "")
        return tuple((name, v) for name, v in self.operands if "{" + name + "}" in written)


@dataclass(frozen=True, slots=True)
class Elided:
    """Rows left out of a wide layer's table (all are in the JSON)."""

    count: int
    what: str  # "units 11–258"


@dataclass(frozen=True, slots=True)
class Section:
    """A phase of one step: a titled group of equations under one general rule."""

    kind: str  # "forward", "dropout", "error", "delta", "update"
    title: str
    rule: str
    rows: tuple[Equation | Elided, ...]
    note: str = ""  # a line under the table (dropout: how many units were dropped)
    rule_latex: str = ""  # the rule in LaTeX, where the definition gives one
    layer: int | None = None  # a network's: the layer whose units it is about (0: the inputs;
    # None: none, as the loss's), as `records` places each kind's sections; a model's: the
    # index of its layer in `model:` (`model_trace.placed`)
    parameter: str = ""  # an update's: which of its layer's parameters ("weight", "bias")
    capital: bool = True  # markdown begins its rule with a capital; False where the rule
    # begins with a textbook's symbol (z^2[0,j] is not Z^2[0,j]: `model_notation`)
