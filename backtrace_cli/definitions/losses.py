"""Loss functions, each one definition that every stage reads.

A definition holds the name a config writes, the numbers (each sample's E, and ∂E/∂o), the
formulas as the trace writes them (templates with the slots `{t}`, `{o}`, `{e}`; `{n}` stands
for the number of output units), which output activations it needs, and where δ at the output
has a shorter form than −∂E/∂o·∂o/∂net (bce on a sigmoid: o(1 − o) cancels). config validates
against `NAMES`, the engine calls `value` / `gradient` / `shortcut`, records fill the templates.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .activations import Slip, sigmoid

if TYPE_CHECKING:  # numpy.typing costs start-up time; annotations only
    import numpy.typing as npt

    Array = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Shortcut:
    """δ at an output where the chain rule's factors cancel (bce on sigmoid: o(1 − o))."""

    delta: Callable[[Array], Array]  # δ from the error e = t − o (rows: samples)
    formula: Callable[[int], str]  # δ as the trace writes it, for n outputs: "({t} − {o})/2"
    note: str  # the one line that says why: "o(1 − o) cancels"


@dataclass(frozen=True, slots=True)
class Loss:
    """One loss: its name, its numbers and how the trace writes it."""

    name: str  # as a config writes it: "half_sse"
    rule: str  # the conventions line: "E = ½ Σ (t − o)²"
    value: Callable[[Array, Array, Array, Array], Array]  # each sample's E from (e, net, o, t)
    gradient: Callable[[Array, Array, Array], Array]  # ∂E/∂o from (e = t − o, o, t)
    term: str  # one output's share of E: "{e}²"; "{t}·ln {o} + (1 − {t})·ln(1 − {o})"
    total: Callable[[str, int], str]  # E from the joined terms and the count of outputs
    derivative: str  # ∂E/∂o as the trace writes it: "−({t} − {o})"
    factor: str  # what multiplies (t − o) in δ = ∂o/∂net·factor·(t − o): "", "2", "(2/{n})"
    targets: tuple[float, float] | None = None  # the targets it accepts (bce: [0, 1])
    distribution: bool = False  # each sample's targets are ≥ 0 and sum to 1 (cross-entropy)
    outputs: tuple[str, ...] = ()  # output activations it needs (empty: any)
    needs: str = ""  # why, when the output activation is another one
    shortcuts: tuple[tuple[str, Shortcut], ...] = ()  # output activation → shorter δ
    # classification losses: each sample's share of right answers, from (o, t); None: none
    correct: Callable[[Array, Array], Array] | None = None
    accuracy_rule: str = ""  # how `correct` decides, for the notes
    slips: tuple[Slip, ...] = ()  # classic mistakes in its formulas, for `check`

    def formula(self, names: list[tuple[str, str, str]]) -> str:
        """E as the trace writes it for outputs named (e, t, o) each: "½({e4}² + {e5}²)"."""
        n = len(names)
        terms = [fill(self.term, n, e=e, t=t, o=o) for e, t, o in names]
        return self.total(" + ".join(terms), n)

    def shortcut(self, activation: str) -> Shortcut | None:
        """The shorter δ for this output activation, if the factors cancel."""
        for name, found in self.shortcuts:
            if name == activation:
                return found
        return None


def fill(template: str, n: int, **names: str) -> str:
    """A loss template with unit names in its slots ({t} → {t5}) and the output count."""
    for slot, name in names.items():
        template = template.replace("{" + slot + "}", "{" + name + "}")
    return template.replace("{n}", str(n))


def _squares(error: Array) -> Array:
    return (error * error).sum(axis=1)


def _bce(error: Array, net: Array, out: Array, t: Array) -> Array:
    # with a sigmoid output, from net: softplus(net) − t·net, stable for large |net|
    target = error + sigmoid(net)
    return (np.logaddexp(0.0, net) - target * net).sum(axis=1) / error.shape[1]


def _bce_gradient(error: Array, out: Array, t: Array) -> Array:
    with np.errstate(divide="ignore", invalid="ignore"):
        return -error / (error.shape[1] * out * (1.0 - out))


_DEFINITIONS = (
    Loss(
        name="half_sse",
        rule="E = ½ Σ (t − o)²",
        value=lambda error, net, out, t: 0.5 * _squares(error),
        gradient=lambda error, out, t: -error,
        term="{e}²",
        total=lambda inner, n: f"½({inner})" if n > 1 else f"½·{inner}",
        derivative="−({t} − {o})",
        factor="",
    ),
    Loss(
        name="sse",
        rule="E = Σ (o − t)²",
        value=lambda error, net, out, t: _squares(error),
        gradient=lambda error, out, t: -2.0 * error,
        term="{e}²",
        total=lambda inner, n: inner,
        derivative="2({o} − {t})",
        factor="2",
    ),
    Loss(
        name="mse",
        rule="E = (1/n) Σ (o − t)²",
        value=lambda error, net, out, t: _squares(error) / error.shape[1],
        gradient=lambda error, out, t: -2.0 * error / error.shape[1],
        term="{e}²",
        total=lambda inner, n: f"({inner})/{n}",
        derivative="(2/{n})({o} − {t})",
        factor="(2/{n})",
    ),
    Loss(
        name="bce",
        rule="E = −(1/n) Σ [t·ln o + (1 − t)·ln(1 − o)]",
        value=_bce,
        gradient=_bce_gradient,
        term="{t}·ln {o} + (1 − {t})·ln(1 − {o})",
        total=lambda inner, n: f"−({inner})" + (f"/{n}" if n > 1 else ""),
        derivative="({o} − {t})/({n}·{o}(1 − {o}))",
        factor="",
        targets=(0.0, 1.0),
        outputs=("sigmoid",),
        needs="bce needs outputs in (0, 1): use `sigmoid` on the output layer, or another loss "
        "(cross_entropy for a softmax output)",
        correct=lambda out, t: ((out > 0.5) == (t > 0.5)).mean(axis=1),
        accuracy_rule="accuracy: an output is right when o > 0.5 exactly where t > 0.5",
        shortcuts=(
            (
                "sigmoid",
                Shortcut(
                    delta=lambda error: error / error.shape[1],
                    formula=lambda n: "({t} − {o})" + ("/{n}" if n > 1 else ""),
                    note="o(1 − o) cancels",
                ),
            ),
        ),
    ),
)


def _cross_entropy(error: Array, net: Array, out: Array, t: Array) -> Array:
    """−Σ_k t_k·ln o_k from the outputs, as a student does; where an o_k is 0 (a net far below
    the largest, or rounded to 0), ln o_k from the nets instead: net_k − ln Σ_j e^net_j."""
    with np.errstate(divide="ignore"):
        logs = np.log(out)
    finite = np.isfinite(logs)
    if not finite.all():
        top = net.max(axis=1, keepdims=True)
        exact = net - top - np.log(np.exp(net - top).sum(axis=1, keepdims=True))
        logs = np.where(finite, logs, exact)
    return -(t * logs).sum(axis=1)


def _log10(formula: str) -> str | None:
    """E with log base 10 where the natural log belongs."""
    return formula.replace("ln ", "log₁₀ ") if "ln " in formula else None


def _swapped(formula: str) -> str | None:
    """−Σ o_k·ln t_k: targets and outputs trading places."""
    out = re.sub(r"\{(t[\d_]+)\}·ln \{(o[\d_]+)\}", r"{\2}·ln {\1}", formula)
    return out if out != formula else None


def _cross_entropy_gradient(error: Array, out: Array, t: Array) -> Array:
    with np.errstate(divide="ignore", invalid="ignore"):
        return -t / out


_DEFINITIONS = (
    *_DEFINITIONS,
    Loss(
        name="cross_entropy",
        rule="E = −Σ_k t_k·ln o_k",
        value=_cross_entropy,
        gradient=_cross_entropy_gradient,
        term="{t}·ln {o}",
        total=lambda inner, n: f"−({inner})",
        derivative="−{t}/{o}",
        factor="",
        targets=(0.0, 1.0),
        distribution=True,
        outputs=("softmax",),
        needs="cross_entropy needs a softmax output layer (its o_k sum to 1): write `softmax` "
        "as the last activation; with sigmoid outputs the loss is bce",
        correct=lambda out, t: (out.argmax(axis=1) == t.argmax(axis=1)).astype(np.float64),
        accuracy_rule="accuracy: a sample is right when its largest o_k is its target's class",
        slips=(
            Slip("the loss with log base 10 instead of the natural log ln", "E", _log10),
            Slip("t and o swapped in the loss (−Σ o·ln t)", "E", _swapped),
        ),
        shortcuts=(
            (
                "softmax",
                Shortcut(
                    delta=lambda error: error,
                    formula=lambda n: "{t} − {o}",
                    note="",
                ),
            ),
        ),
    ),
)

LOSSES: dict[str, Loss] = {loss.name: loss for loss in _DEFINITIONS}
NAMES: tuple[str, ...] = tuple(LOSSES)


def get(name: str) -> Loss:
    """The definition for a config's name (validated by config: a KeyError is a bug)."""
    return LOSSES[name]
