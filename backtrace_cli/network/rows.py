"""A trace's rows and sections, and what every layer kind's row builders share: the view of one
sample they read, the units' symbols, slots, sums, and which units of a wide layer are written
out. Computes nothing; assumes no layer kind (each kind's rows are in its own `layers/` file).

Every value in an `Equation` is read from an array the engine computed; a formula is a template
whose `{name}` slots are filled with names (the formula) or with the operands' values (the
working), so renderers only format.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from ..definitions.notation import Numbering
from ..worked import Elided, Equation, Section, used_terms
from .computed import Update
from .config import Spec
from .optimize import plain_sgd

if TYPE_CHECKING:  # numpy.typing costs start-up time; annotations only
    import numpy as np
    import numpy.typing as npt

    Array = npt.NDArray[np.float64]

LECTURE = "lecture"  # the default notation: the course notes', the trace's own symbols
SIGN_CONVENTION = "δ_j = −∂E/∂net_j, and w ← w + η·δ_j·o_i (the lecture's sign convention)"
# another optimizer's: the gradient it is given, in the lecture's sign (its update follows)
GRADIENT_CONVENTION = "δ_j = −∂E/∂net_j, and ∂E/∂w_ij = −δ_j·o_i (the lecture's sign convention)"
ROWS_SHOWN = 5  # units of a layer shown before the rest are summarised (unless full)


def sign_convention(spec: Spec) -> str:
    """The conventions line: δ's sign and the update — the lecture's w ← w + η·δ_j·o_i, or
    another optimizer's rule as its definition writes it."""
    if plain_sgd(spec):
        return SIGN_CONVENTION
    return f"{GRADIENT_CONVENTION}; {update_rule(spec)}"


def update_rule(spec: Spec, named: Callable[[str], str] = str) -> str:
    """ "the Adam update, with g = ∂E/∂w, is m ← β1·m + (1 − β1)·g,  …": the optimizer's
    rule, its gradient g (`named`: in a book's symbols) with the L2 weight decay if any."""
    opt = spec.optimizer.optimizer
    gradient = named("∂E/∂w")
    if spec.weight_decay:
        gradient = named("∂E/∂w + λ·w") + " on weights (L2 weight decay)"
    return f"the {opt.title} update, with g = {gradient}, is {opt.rule()}"


@dataclass(frozen=True, slots=True, eq=False)
class LayerRecord:
    """The JSON contract's per-layer arrays for one sample."""

    net: Array
    out: Array
    delta: Array | None  # None at inference
    weights_before: Array
    weights_after: Array | None
    biases_before: Array | None
    biases_after: Array | None
    mask: Array | None = None
    out_after_dropout: Array | None = None  # õ = m·o/(1 − rate), what the next layer gets


@dataclass(frozen=True, slots=True, eq=False)
class Step:
    """One sample's pass: what it computed, and its sections of equations."""

    epoch: int
    sample: int  # 1-based
    inputs: Array
    targets: Array
    loss: float
    layers: tuple[LayerRecord, ...]
    sections: tuple[Section, ...]
    heading: str
    input_mask: Array | None = None  # dropout on the inputs: 1 kept, 0 dropped
    optimizer: OptimizerRecord | None = None  # the step that makes an optimizer's update
    penalty: float | None = None  # L2 weight decay: (λ/2)·Σw² before the update

    def equations(self) -> tuple[tuple[Section, Equation], ...]:
        """The step's equations in the order the trace shows them, each with its section
        (the JSON's `equations`, and the questions `quiz` asks)."""
        return tuple(
            (section, row)
            for section in self.sections
            for row in section.rows
            if isinstance(row, Equation)
        )


@dataclass(frozen=True, slots=True, eq=False)
class OptimizerRecord:
    """An optimizer's state around one update, per layer, in the network's shapes."""

    t: int  # this update's count
    weights_before: tuple[dict[str, Array], ...]  # per layer: state name → weight-shaped
    weights_after: tuple[dict[str, Array], ...]
    biases_before: tuple[dict[str, Array] | None, ...]  # None: no trained biases there
    biases_after: tuple[dict[str, Array] | None, ...]


@dataclass(frozen=True, slots=True)
class Change:
    """One parameter before and after the epoch."""

    symbol: str
    before: float
    after: float


@dataclass(frozen=True, slots=True)
class EpochRecord:
    epoch: int
    loss: float
    loss_after: float


@dataclass(frozen=True, slots=True, eq=False)
class View:
    """What a layer kind's row builders read for one sample: the network, what the update
    computed, the values named so far (filled as rows are written), and how much to show."""

    spec: Spec
    done: Update
    s: int  # the sample's row in the update
    values: dict[str, float] | None  # None: a batch update's rows (every sample at once)
    full: bool = False  # every unit and term, none elided
    gradients: bool = False  # the chain rule's factors on their own rows
    jacobian: bool = False  # softmax with cross-entropy: δ the long way, through its Jacobian
    stack: tuple[tuple[Any, int], ...] = ()  # the network's layers bottom up: (kind, position)

    def between(self, k: int) -> list[tuple[Any, int]]:
        """The layers on layer k's outputs before the next layer of new units (dropout's): each
        passes the same units on, and multiplies its own factor into their δ on the way down."""
        return [(kind, p) for kind, p in self.stack if p == k and not kind.new_units]

    def above(self, k: int) -> tuple[Any, int]:
        """The layer of new units fed by layer k's (a dense layer k + 1)."""
        return next((kind, p) for kind, p in self.stack if p > k and kind.new_units)


def is_question(row: Equation, gradients: bool = False) -> bool:
    """A quantity a student finds by hand (and an exercise asks for): every equation of the
    step but the chain rule's factors, which are asked only with `gradients` (an optimizer's
    g = ∂E/∂w is a quantity of its step, not a factor: `Equation.factor`)."""
    return gradients or not row.factor


Names = tuple[str, ...]
Symbols = tuple[tuple[Names, ...], tuple[Names, ...], tuple[Names, ...], Names]


def unit_symbols(spec: Spec) -> Symbols:
    """Per layer (inputs first): output symbols (x1 / o3), net symbols, δ symbols; targets."""
    return _unit_symbols(tuple(spec.layers))


@lru_cache(maxsize=16)
def _unit_symbols(layers: tuple[int, ...]) -> Symbols:
    # made once per shape: each hidden unit's δ row asks for them (a wide layer's 256 times)
    numbering = Numbering(layers)
    outs, nets, deltas = [], [], []
    for k, width in enumerate(layers):
        units = [numbering.unit(k, i) for i in range(width)]
        outs.append(tuple(("x" if k == 0 else "o") + str(u) for u in units))
        nets.append(tuple(f"net{u}" for u in units))
        deltas.append(tuple(f"δ{u}" for u in units))
    targets = tuple(f"t{numbering.unit(len(layers) - 1, i)}" for i in range(layers[-1]))
    return tuple(outs), tuple(nets), tuple(deltas), targets


def received(view: View, k: int) -> Sequence[str]:
    """What layer k is fed: the names of layer k − 1's outputs, as each layer between renames
    them (dropout's õ3 / x̃1)."""
    names = unit_symbols(view.spec)[0][k - 1]
    for kind, p in view.between(k - 1):
        names = kind.passed_on(p, names)
    return names


def sample_mask(done: Update, position: int, s: int) -> Array | None:
    if position >= len(done.masks) or done.masks[position] is None:
        return None
    return done.masks[position][s]


def layer_kind(spec: Spec, k: int) -> str:
    return "output layer" if k == len(spec.layers) - 1 else f"hidden layer {k}"


def slot(name: str) -> str:
    return "{" + name + "}"


def num(value: float) -> str:
    return f"{value:g}"


def shown_units(count: int, full: bool = False) -> list[int]:
    """Which units of a layer are written out (tables, equations, the diagram): all, or the
    first few and the last."""
    if full or count <= ROWS_SHOWN + 1:
        return list(range(count))
    return [*list(range(ROWS_SHOWN - 1)), count - 1]


def unit_rows(count: int, full: bool, make, units: list[int]) -> list[Equation | Elided]:
    """make(i) → equations of unit i; an Elided row stands for the units left out."""
    rows: list[Equation | Elided] = []
    shown = shown_units(count, full)
    for position, i in enumerate(shown):
        if position and i != shown[position - 1] + 1:
            first, last = units[shown[position - 1] + 1], units[i - 1]
            rows.append(Elided(last - first + 1, f"units {first}–{last}"))
        rows.extend(make(i))
    return rows


def every_weight(units: int, below: int, full: bool) -> bool:
    """Whether a layer's updates write every weight into it: when its forward pass writes
    each of its units and each term of their sums (a layer of up to four units, output or
    hidden, fed by a hand-sized one), or when there are few; a wide layer's are summarised."""
    whole = len(shown_units(units, full)) == units and len(used_terms(below, full)) == below
    return whole or units * below <= ROWS_SHOWN + 1
