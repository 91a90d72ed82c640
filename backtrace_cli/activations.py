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
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # numpy.typing costs start-up time; annotations only
    import numpy.typing as npt

    Array = npt.NDArray[np.float64]
    Carry = Callable[[Array], Array]

LEAKY_SLOPE = 0.01  # PyTorch's default negative slope
ELU_ALPHA = 1.0


@dataclass(frozen=True, slots=True)
class Activation:
    """One activation function: its name, its numbers and how the trace writes it."""

    name: str  # as a config writes it: "sigmoid"
    symbol: str  # the function in the trace: o3 = σ(net3); "" when written out (o3 = net3)
    latex: str  # the function's name in LaTeX: "\\sigma", "\\operatorname{relu}"
    rule_name: str  # the function in a section's rule: o_j = σ(net_j), o_j = id(net_j)
    forward: Callable[[Array], Array]  # o = f(net), exact
    derivative: Callable[[Array, Array], Array]  # ∂o/∂net from (net, o)
    scalar: Callable[[float], float]  # f on one float: check evaluates the trace's formulas
    slope: str  # ∂o/∂net as the trace writes it, slots {o} and {net}: "{o}(1 − {o})"
    rule: str  # the conventions line: "σ(net) = 1/(1 + e^−net), σ′ = o(1 − o)"
    targets: tuple[float, float] | None = None  # targets the outputs can reach (σ: [0, 1])
    kinked: bool = False  # ∂o/∂net jumps at net = 0: an exercise redraws a net of exactly 0
    output_only: bool = False  # softmax: only on the output layer
    elementwise: bool = True  # o_j depends on net_j alone (softmax: on the whole layer)
    parts: tuple[str, ...] = field(default=())  # intermediate arrays `apply` carries (softmax)

    def apply(self, net: Array, carry: Carry) -> tuple[Array, dict[str, Array]]:
        """o = f(net), carried (rounded as a student does, or exact); and the carried parts."""
        return carry(self.forward(net)), {}

    def backward(self, net: Array, out: Array, slope: Array, g: Array) -> Array:
        """δ = ∂o/∂net · g for g = −∂E/∂o, unit by unit."""
        return g * slope

    def slope_formula(self, o: str, net: str) -> str:
        """∂o/∂net for unit names, as a template: "{o3}(1 − {o3})"."""
        return self.slope.replace("{o}", "{" + o + "}").replace("{net}", "{" + net + "}")

    def call(self, net: str) -> str:
        """o = f(net) as a template: "σ({net3})", or "{net3}" for the identity."""
        return self.output.replace("{net}", "{" + net + "}")

    @property
    def output(self) -> str:
        """o = f(net) with the slot {net}: "σ({net})"; "{net}" for the identity."""
        return f"{self.symbol}({{net}})" if self.symbol else "{net}"

    @property
    def slope_words(self) -> str:
        """∂o/∂net as a sentence writes it: "o(1 − o)"."""
        return self.slope.replace("{o}", "o").replace("{net}", "net")


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
        forward=sigmoid,
        derivative=lambda net, out: out * (1.0 - out),
        scalar=_scalar_sigmoid,
        slope="{o}(1 − {o})",
        rule="σ(net) = 1/(1 + e^−net), σ′ = o(1 − o)",
        targets=(0.0, 1.0),
    ),
    Activation(
        name="tanh",
        symbol="tanh",
        latex="\\tanh",
        rule_name="tanh",
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
        forward=lambda net: net.copy(),
        derivative=lambda net, out: np.ones_like(net),
        scalar=lambda x: x,
        slope="1",
        rule="o = net, ∂o/∂net = 1",
    ),
)

ACTIVATIONS: dict[str, Activation] = {a.name: a for a in _DEFINITIONS}
NAMES: tuple[str, ...] = tuple(ACTIVATIONS)


@lru_cache(maxsize=64)
def get(name: str, leaky_slope: float = LEAKY_SLOPE) -> Activation:
    """The definition for a config's name (validated by config: a KeyError is a bug);
    `leaky_slope`: leaky_relu's slope for net ≤ 0 (the config's `leaky_relu_slope`)."""
    return ACTIVATIONS[name]


def symbols() -> dict[str, Activation]:
    """Every function symbol the trace writes (σ, tanh, relu, …) → its definition."""
    return {a.symbol: a for a in _DEFINITIONS if a.symbol}
