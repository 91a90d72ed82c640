"""An activation as a layer of a `model:` (torch's `nn.ReLU()`, `nn.Sigmoid()`, …): one layer
for every function of `definitions.activations`, read from the registry — y = f(x) entry by
entry, δ_x = f′·δ_y; softmax (over a vector) through its Jacobian."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from ...definitions import activations
from ...draws import NEAR_ZERO
from ...worked import Section
from ..hand import worked
from .tensor import RULES, Letters, ModelView, Plus, products, row
from .tensor import template_pieces as _pieces

if TYPE_CHECKING:
    import numpy.typing as npt

    from ..model_spec import LayerSpec

    Array = npt.NDArray[np.float64]
    Carry = Callable[[Array], Array]

ARGUMENTS: tuple[tuple[str, Any], ...] = ()


def shape(arguments: dict[str, Any], shape_in: tuple[int, ...]) -> tuple[int, ...] | str:
    return shape_in


def parameter_shapes(arguments: dict[str, Any]) -> dict[str, tuple[int, ...]]:
    return {}


def written(arguments: dict[str, Any]) -> str:
    return ""


def unfair(layer: LayerSpec, x: Array, y: Array) -> str | None:
    """Why an exercise variant should not ask this layer at input `x`: an input within
    `draws.NEAR_ZERO` of 0, where relu's derivative jumps and σ's output is 0.5 to 3 s.f.
    (softmax has no such point)."""
    if activations.get(layer.kind).elementwise and (np.abs(x) <= NEAR_ZERO + 1e-9).any():
        return f"an activation's input within {NEAR_ZERO:g} of 0"
    return None


def written_pieces(
    f: activations.Activation, net: tuple[str, float]
) -> tuple[list[Any], list[Any]]:
    """f(net) as row pieces, text and LaTeX (where the function is its definition's:
    \\operatorname{relu}, \\sigma), the operand `net` (its name, its value)."""
    before, _, after = f.output.partition("{net}")
    tex_before = before.replace(f.symbol, f.latex + " ", 1) if f.symbol else before
    return _pieces(f.output, {"net": net}), [tex_before, net, after]


class Activation(NamedTuple):
    spec: LayerSpec
    function: activations.Activation
    kind = "activation"
    # its output the activation of the layer below when that one's is a weighted input:
    # a^l = f(z^l); its slope's words name its input net and its output o, softmax's δ_j
    # its input's δ
    LETTERS = Letters(
        output="o",
        joins="net",
        rules={**RULES, "net": "in", "o": "out", "δ_j": "δin"},
    )

    @property
    def parameters(self) -> dict[str, Array]:
        return {}

    def forward(self, x: Array, carry: Carry) -> tuple[Array, tuple[Array, Array]]:
        if getattr(carry, "hand", False) and not self.function.elementwise:
            # softmax as its row writes it, e^x_k/(e^x_0 + …): the sum a bracket written down
            numerators = np.exp(x)
            y = carry(numerators / carry.written(numerators.sum()))  # type: ignore[attr-defined]
            return y, (x, y)
        out, _ = self.function.apply(x.reshape(1, -1), carry)
        y = out.reshape(x.shape)
        return y, (x, y)

    def backward(
        self, cache: tuple[Array, Array], upstream: Array, carry: Carry, below: bool = True
    ) -> tuple[Array | None, dict[str, Array]]:
        x, y = cache
        flat = (x.reshape(1, -1), y.reshape(1, -1))
        if getattr(carry, "hand", False) and self.function.elementwise:
            # f′ as its row writes it, each bracket rounded as a student writes it: (1 − y²)
            slope = worked(carry, self.function.slope, True, o=flat[1], net=flat[0])
        else:
            slope = self.function.derivative(*flat)
        sent, _ = self.function.backward(flat[1], slope, upstream.reshape(1, -1), carry)
        return carry(sent.reshape(x.shape)), {}

    @staticmethod
    def forward_rows(view: ModelView, p: int) -> list[Section]:
        layer: Activation = view.layers[p]
        f = layer.function
        x, y = view.inputs[p], view.outputs[p]
        xs, ys = view.name(p - 1), view.name(p)
        rows = []
        for index in np.ndindex(*x.shape):
            slots = {"net": (xs(index), x[index])}
            if f.elementwise:
                pieces, latex = written_pieces(f, slots["net"])
            else:  # softmax: e^x_k over the sum of every e^x_j, as a student writes it
                plus = Plus()  # one sum, in text and in LaTeX: a long one is elided in both
                below: list[Any] = []
                below_tex: list[Any] = []
                for j in range(len(x)):
                    below += [plus if j else "", "e^", (xs((j,)), x[j])]
                    below_tex += [plus if j else "", "e^{", (xs((j,)), x[j]), "}"]
                pieces = ["e^", slots["net"], "/(", *below, ")"]
                latex = ["e^{", slots["net"], "}/(", *below_tex, ")"]
            rows.append(row(ys(index), pieces, y[index], latex=latex))
        rule = (
            f"each entry y = {f.output.replace('{net}', 'x')}"
            if f.elementwise
            else "each entry y_k = e^x_k/Σ_j e^x_j"
        )
        return [
            Section(
                "forward",
                f"Forward · layer {view.spec.layers[p].name} ({f.name})",
                rule,
                tuple(rows),
            )
        ]

    @staticmethod
    def delta_rows(view: ModelView, p: int) -> list[Section]:
        sent = view.sent[p]
        if sent is None:
            return []
        layer: Activation = view.layers[p]
        f = layer.function
        x, y, d = view.inputs[p], view.outputs[p], view.deltas[p]
        xs, ys, ds, below = view.name(p - 1), view.name(p), view.delta(p), view.delta(p - 1)
        rows = []
        if f.elementwise:
            for index in np.ndindex(*x.shape):
                slots = {"o": (ys(index), y[index]), "net": (xs(index), x[index])}
                pieces = [*_pieces(f.slope, slots), "·", (ds(index), d[index])]
                rows.append(row(below(index), pieces, sent[index]))
            rule = f"each input's δ_x = f′·δ_y, f′ = {f.slope_words}"
        else:  # softmax: δ_j = y_j·(δ_j − Σ_k δ_k·y_k), the Jacobian's terms
            for j in range(len(x)):
                pairs = [((ds((k,)), d[k]), (ys((k,)), y[k])) for k in range(len(x))]
                pieces = [(ys((j,)), y[j]), "·(", (ds((j,)), d[j]), " − (", *products(pairs)]
                rows.append(row(below((j,)), [*pieces, "))"], sent[j]))
            rule = "each input's δ_j = y_j·(δ_y_j − Σ_k δ_y_k·y_k), softmax's Jacobian"
        name = view.spec.layers[p].name
        return [Section("delta", f"δ · into layer {name} ({f.name})", rule, tuple(rows))]
