"""Activation functions, each one definition that every stage reads.

A definition holds the name a config writes, the numbers (forward and ∂o/∂net, written from the
output where the notes do: σ′ = o(1 − o)), the formulas as the trace writes them — text and LaTeX
templates with the same `{net}` / `{o}` slots — and what `check` needs to evaluate them. config
validates against `NAMES`, the engine calls `apply` / `backward`, records fill the templates,
the markdown renderer reads `latex`, check reads `scalar` and `slope`. Adding an activation is one
entry in `_DEFINITIONS` (or a factory, for one with a parameter) plus its tests.

Sign convention (the lecture's): `backward` receives g = −∂E/∂o and returns δ = −∂E/∂net.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, ClassVar

import numpy as np

if TYPE_CHECKING:  # numpy.typing costs start-up time; annotations only
    import numpy.typing as npt

    Array = npt.NDArray[np.float64]
    Carry = Callable[[Array], Array]

LEAKY_SLOPE = 0.01  # PyTorch's default negative slope
ELU_ALPHA = 1.0


_NO_PARTS: dict[str, Array] = {}  # an elementwise activation carries nothing else (never mutated)


@dataclass(frozen=True, slots=True)
class Slip:
    """A classic mistake `check` names: the right formula of a step (a template over the
    trace's names) rewritten as the student who slips computes it; None where it does not apply.
    """

    name: str  # "softmax's δ computed unit by unit, o(1 − o)(t − o)"
    symbol: str  # the steps it applies to: their symbols start with this ("δ", "E")
    rewrite: Callable[[str], str | None]


@dataclass(frozen=True, slots=True)
class Activation:
    """One activation function: its name, its numbers and how the trace writes it."""

    name: str  # as a config writes it: "sigmoid"
    symbol: str  # the function in the trace: o3 = σ(net3); "" when written out (o3 = net3)
    latex: str  # the function's name in LaTeX: "\\sigma", "\\operatorname{relu}"
    rule_name: str  # the function in a section's rule: o_j = σ(net_j), o_j = id(net_j)
    output: str  # o as the trace writes it, slot {net}: "σ({net})", "{net}"
    forward: Callable[[Array], Array]  # o = f(net), exact
    derivative: Callable[[Array, Array], Array]  # ∂o/∂net from (net, o)
    scalar: Callable[[float], float]  # f on one float: check evaluates the trace's formulas
    slope: str  # ∂o/∂net as the trace writes it, slots {o} and {net}: "{o}(1 − {o})"
    rule: str  # the conventions line: "σ(net) = 1/(1 + e^−net), σ′ = o(1 − o)"
    targets: tuple[float, float] | None = None  # targets the outputs can reach (σ: [0, 1])
    kinked: bool = False  # ∂o/∂net jumps at net = 0: an exercise redraws a net of exactly 0
    output_only: bool = False  # softmax: only on the output layer
    elementwise: bool = True  # o_j depends on net_j alone (softmax: on the whole layer)
    slips: tuple[Slip, ...] = ()  # its own classic mistakes, beyond leaving ∂o/∂net out
    setting: str = ""  # the top-level config key that sets its parameter (leaky_relu_slope)
    # f written out in arithmetic, slot {net}, for code that inlines it (`network/scalar.py`);
    # "": that code calls `scalar`
    written_out: str = ""
    # a whole layer at once on floats, (net_1, …) → (o_1, …), as `apply` computes it: for one
    # that is not elementwise (softmax), where `scalar` cannot say it; None: none
    scalar_layer: Callable[[tuple[float, ...]], tuple[float, ...]] | None = None

    def apply(self, net: Array, carry: Carry) -> tuple[Array, dict[str, Array]]:
        """o = f(net), carried (rounded as a student does, or exact); and the carried parts."""
        return carry(self.forward(net)), _NO_PARTS

    def backward(
        self, out: Array, slope: Array, g: Array, carry: Carry
    ) -> tuple[Array, dict[str, Array]]:
        """δ = ∂o/∂net · g for g = −∂E/∂o, unit by unit; and the carried parts (none)."""
        return g * slope, _NO_PARTS

    def slope_formula(self, o: str, net: str) -> str:
        """∂o/∂net for unit names, as a template: "{o3}(1 − {o3})"."""
        return self.slope.replace("{o}", "{" + o + "}").replace("{net}", "{" + net + "}")

    def call(self, net: str) -> str:
        """o = f(net) as a template: "σ({net3})", or "{net3}" for the identity."""
        return self.output.replace("{net}", "{" + net + "}")

    @property
    def slope_words(self) -> str:
        """∂o/∂net as a sentence writes it: "o(1 − o)"."""
        return self.slope.replace("{o}", "o").replace("{net}", "net")


SHIFT_ABOVE = 50.0  # softmax shifts the nets by their largest when it is beyond ±this


@dataclass(frozen=True, slots=True)
class Softmax(Activation):
    """o_k = e^{net_k}/Σ_j e^{net_j}: the whole layer at once, so `apply` and `backward` see
    every unit. As a student computes it: each numerator, their sum, each quotient, each carried.
    When the largest net is beyond ±SHIFT_ABOVE, every net is first shifted by it (e^{net − m}:
    o unchanged, no overflow); hand-sized nets are not shifted, as on paper."""

    # how the trace writes the parts: each numerator, the shared denominator, each quotient
    numerator: ClassVar[str] = "e^{net}"  # slot {net}
    shifted: ClassVar[str] = "e^({net} − {m})"  # m: the largest net of the layer
    numerator_name: ClassVar[str] = "e^{net}"  # e^net6: a name, not a slot
    denominator_name: ClassVar[str] = "Σe^net"
    shift_name: ClassVar[str] = "m"
    quotient: ClassVar[str] = "{numerator}/{denominator}"
    collapse: ClassVar[str] = (
        "softmax with cross-entropy: the Jacobian's terms collapse, "
        "Σ_j (t_j/o_j)·o_j(1[j = k] − o_k) = t_k − o_k·Σ_j t_j = t_k − o_k"
    )

    def apply(self, net: Array, carry: Carry) -> tuple[Array, dict[str, Array]]:
        top = net.max(axis=1, keepdims=True)
        shift = np.where(np.abs(top) > SHIFT_ABOVE, top, 0.0)
        numerator = carry(np.exp(net - shift))
        denominator = carry(numerator.sum(axis=1, keepdims=True))
        out = carry(numerator / denominator)
        return out, {"numerator": numerator, "denominator": denominator, "shift": shift}

    def backward(
        self, out: Array, slope: Array, g: Array, carry: Carry
    ) -> tuple[Array, dict[str, Array]]:
        """The full Jacobian ∂o_k/∂net_j = o_k(1[k = j] − o_j): δ_j = o_j·(g_j − Σ_k g_k·o_k)."""
        weighted = carry((g * out).sum(axis=1, keepdims=True))
        # (g_j − ḡ) is a bracket: written down rounded in hand mode (`Carrier.written`)
        return out * carry.written(g - weighted), {"weighted": weighted}


def _unit_by_unit(formula: str) -> str | None:
    """δ_k = t_k − o_k as if softmax acted on each unit alone, like σ: o(1 − o)(t − o)."""
    match = re.fullmatch(r"\{(t[\d_]+)\} − \{(o[\d_]+)\}", formula)
    if not match:
        return None
    t, o = match.groups()
    return f"{{{o}}}(1 − {{{o}}})({{{t}}} − {{{o}}})"


def _scalar_softmax(nets: tuple[float, ...]) -> tuple[float, ...]:
    """Softmax's `apply` on floats: each e^(net − m) (m shifted only past ±SHIFT_ABOVE, as on
    paper), their sum, each quotient."""
    top = max(nets)
    shift = top if abs(top) > SHIFT_ABOVE else 0.0
    numerators = [math.exp(v - shift) for v in nets]
    total = sum(numerators)
    return tuple(v / total for v in numerators)


def softmax(net: Array) -> Array:
    """o_k = e^{net_k − m}/Σ_j e^{net_j − m}, m the row's largest net: never overflows."""
    shifted = np.exp(net - net.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def sigmoid(net: Array) -> Array:
    """σ(net) = 1/(1 + e^−net): no warning and no nan for large |net|, and exact to float64."""
    if net.size <= 512:
        # exp(−log(1 + e^−net)): the fewest numpy calls, which is what costs on tiny arrays
        return np.exp(-np.logaddexp(0.0, -net))
    # wide layers, where σ is a real share of the time: 1/(1 + e^−net) in four passes in
    # place. For net < −709, e^−net overflows to inf and σ comes out 0, where the true value
    # is below 1e−308: exact to float64, so the overflow is expected and not reported.
    with np.errstate(over="ignore"):
        out = np.negative(net)
        np.exp(out, out=out)
    out += 1.0
    np.reciprocal(out, out=out)
    return out


def _scalar_sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x >= -700 else 0.0


_DEFINITIONS = (
    Activation(
        name="sigmoid",
        symbol="σ",
        latex="\\sigma",
        rule_name="σ",
        output="σ({net})",
        forward=sigmoid,
        derivative=lambda net, out: out * (1.0 - out),
        scalar=_scalar_sigmoid,
        written_out="1/(1 + e^(−{net}))",
        slope="{o}(1 − {o})",
        rule="σ(net) = 1/(1 + e^−net), σ′ = o(1 − o)",
        targets=(0.0, 1.0),
    ),
    Activation(
        name="tanh",
        symbol="tanh",
        latex="\\tanh",
        rule_name="tanh",
        output="tanh({net})",
        forward=np.tanh,
        derivative=lambda net, out: 1.0 - out * out,
        scalar=math.tanh,
        slope="(1 − {o}²)",
        rule="tanh′ = 1 − o²",
    ),
    Activation(
        name="relu",
        symbol="relu",
        latex="\\operatorname{relu}",
        rule_name="relu",
        output="relu({net})",
        forward=lambda net: np.maximum(net, 0.0),
        derivative=lambda net, out: (net > 0).astype(np.float64),  # 0 at the kink, as PyTorch
        scalar=lambda x: max(x, 0.0),
        slope="[{net} > 0]",
        rule="relu(net) = max(0, net), relu′ = 1 if net > 0 else 0",
        kinked=True,
    ),
    Activation(
        name="linear",
        symbol="",
        latex="\\operatorname{id}",
        rule_name="id",
        output="{net}",
        forward=lambda net: net.copy(),
        derivative=lambda net, out: np.ones_like(net),
        scalar=lambda x: x,
        written_out="{net}",
        slope="1",
        rule="o = net, ∂o/∂net = 1",
    ),
)


def _number(value: float) -> str:
    return f"{value:g}"


def leaky_relu(slope: float = LEAKY_SLOPE) -> Activation:
    """lrelu(net) = net for net > 0, slope·net otherwise (PyTorch's LeakyReLU)."""
    a = _number(slope)
    # max(a·net, net) for a ≤ 1 (the usual), min for a steeper slope: either is
    # net > 0 ? net : a·net
    pick = "max" if slope <= 1 else "min"
    return Activation(
        name="leaky_relu",
        symbol="",
        latex="\\operatorname{lrelu}",
        rule_name="lrelu",
        output=f"{pick}({a}·{{net}}, {{net}})",
        forward=lambda net: np.where(net > 0, net, slope * net),
        derivative=lambda net, out: np.where(net > 0, 1.0, slope),  # slope at 0, as PyTorch
        scalar=lambda x: x if x > 0 else slope * x,
        slope=f"([{{net}} > 0] + {a}·[{{net}} ≤ 0])",
        rule=f"lrelu(net) = net if net > 0 else {a}·net, lrelu′ = 1 if net > 0 else {a}",
        kinked=True,
        setting="leaky_relu_slope",
    )


_ELU = Activation(
    name="elu",
    symbol="elu",
    latex="\\operatorname{elu}",
    rule_name="elu",
    output="elu({net})",
    # e^net − 1 as expm1, on net ≤ 0 only: no overflow from the branch np.where discards
    forward=lambda net: np.where(net > 0, net, np.expm1(np.minimum(net, 0.0))),
    # e^net = o + 1 where net ≤ 0 (α = 1): written from the output, as σ′ = o(1 − o)
    derivative=lambda net, out: np.where(net > 0, 1.0, out + 1.0),
    scalar=lambda x: x if x > 0 else math.expm1(x),
    slope="([{net} > 0] + ({o} + 1)·[{net} ≤ 0])",
    rule="elu(net) = net if net > 0 else e^net − 1, elu′ = 1 if net > 0 else o + 1",
)

_SOFTMAX = Softmax(
    name="softmax",
    symbol="",
    latex="\\operatorname{softmax}",
    rule_name="softmax",
    output="e^{net}/Σ",
    forward=softmax,
    # the Jacobian's diagonal o_k(1 − o_k); δ goes through the whole Jacobian (`backward`)
    derivative=lambda net, out: out * (1.0 - out),
    scalar=lambda x: x,  # never evaluated alone: o_k is the quotient of two carried values
    slope="{o}(1 − {o})",
    rule="softmax: o_k = e^net_k / Σ_j e^net_j, ∂o_k/∂net_j = o_k(1[k = j] − o_j)",
    targets=(0.0, 1.0),
    output_only=True,
    elementwise=False,
    scalar_layer=_scalar_softmax,
    slips=(Slip("softmax's δ computed unit by unit, o(1 − o)(t − o)", "δ", _unit_by_unit),),
)

_ALL = (*_DEFINITIONS, leaky_relu(), _ELU, _SOFTMAX)
ACTIVATIONS: dict[str, Activation] = {a.name: a for a in _ALL}
NAMES: tuple[str, ...] = tuple(ACTIVATIONS)


@lru_cache(maxsize=64)
def get(name: str, leaky_slope: float = LEAKY_SLOPE) -> Activation:
    """The definition for a config's name (validated by config: a KeyError is a bug);
    `leaky_slope`: leaky_relu's slope for net ≤ 0 (the config's `leaky_relu_slope`)."""
    if name == "leaky_relu" and leaky_slope != LEAKY_SLOPE:
        return leaky_relu(leaky_slope)  # the one definition with a parameter
    return ACTIVATIONS[name]


def symbols() -> dict[str, Activation]:
    """Every function symbol the trace writes (σ, tanh, relu, …) → its definition."""
    return {a.symbol: a for a in _ALL if a.symbol}
