"""torch's `nn.Linear` in a `model:`: y_j = Σ_i w[j,i]·x_i + b_j, weight [out][in].

A model of linear layers and activations alone is traced as a network (`Dense`: net, o, δ,
the lecture's names); this is the layer of a model with tensor layers around it."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from ...worked import Section
from ..hand import added_up
from .tensor import RULES, Letters, ModelView, products, row, summed, weight_and_bias

if TYPE_CHECKING:
    import numpy.typing as npt

    from ..model_spec import LayerSpec

    Array = npt.NDArray[np.float64]
    Carry = Callable[[Array], Array]

# (key, default): None is required
ARGUMENTS: tuple[tuple[str, Any], ...] = (
    ("in_features", None),
    ("out_features", None),
    ("bias", True),
)


def shape(arguments: dict[str, Any], shape_in: tuple[int, ...]) -> tuple[int, ...] | str:
    """Its output's shape for an input of `shape_in`, or what is wrong: on a sequence
    (steps × features, an rnn's), each step's, as torch applies it to the last dimension."""
    n = arguments["in_features"]
    if len(shape_in) == 2 and shape_in[1] == n:
        return (shape_in[0], arguments["out_features"])
    if shape_in != (n,):
        return f"takes {n} features (in_features), and gets {_shape(shape_in)}"
    return (arguments["out_features"],)


def parameter_shapes(arguments: dict[str, Any]) -> dict[str, tuple[int, ...]]:
    out = {"weight": (arguments["out_features"], arguments["in_features"])}
    if arguments["bias"]:
        out["bias"] = (arguments["out_features"],)
    return out


def written(arguments: dict[str, Any]) -> str:
    """Its arguments as a line of the layers' table says them: "4→1", "4→1, no bias"."""
    text = f"{arguments['in_features']}→{arguments['out_features']}"
    return text + ("" if arguments["bias"] else ", no bias")


def _entries(a: Array) -> list[tuple[tuple[int, ...], int]]:
    """Each entry of a vector, (), j; or of a sequence, (t,), j: step by step."""
    if a.ndim == 1:
        return [((), j) for j in range(len(a))]
    return [((t,), j) for t, j in np.ndindex(*a.shape)]


def _shape(shape_in: tuple[int, ...]) -> str:
    return f"a {'×'.join(map(str, shape_in))} tensor" if len(shape_in) > 1 else f"{shape_in[0]}"


class Linear(NamedTuple):
    spec: LayerSpec
    weight: Array
    bias: Array | None
    kind = "linear"
    # its output a weighted input (z^l); its rules' δ_i is its input's δ, δ_j its output's
    LETTERS = Letters(rules={**RULES, "δ_i": "δin"})

    parameters = property(weight_and_bias)

    def forward(self, x: Array, carry: Carry) -> tuple[Array, Array]:
        if getattr(carry, "hand", False):  # added up from the row's numbers, as it writes them
            steps = [x] if x.ndim == 1 else list(x)
            y = np.array([added_up(self.weight, step, self.bias) for step in steps])
            return carry(y[0] if x.ndim == 1 else y), x
        y = self.weight @ x if x.ndim == 1 else np.array([self.weight @ step for step in x])
        if self.bias is not None:
            y = y + self.bias
        return carry(y), x

    def backward(
        self, cache: Array, upstream: Array, carry: Carry, below: bool = True
    ) -> tuple[Array | None, dict[str, Array]]:
        """δ of its input Σ_j w[j,i]·δ_j; −∂E/∂w[j,i] = δ_j·x_i, −∂E/∂b_j = δ_j (on a
        sequence, each a sum over the steps), not carried: the engine carries a sample's or
        a batch's (`model_engine.combined`)."""
        if cache.ndim == 2:
            grads = {"weight": upstream.T @ cache}
            if self.bias is not None:
                grads["bias"] = upstream.sum(axis=0)
            return (carry(upstream @ self.weight) if below else None), grads
        grads = {"weight": np.outer(upstream, cache)}
        if self.bias is not None:
            grads["bias"] = upstream.copy()
        return (carry(self.weight.T @ upstream) if below else None), grads

    @staticmethod
    def forward_rows(view: ModelView, p: int) -> list[Section]:
        layer: Linear = view.layers[p]
        x, y = view.inputs[p], view.outputs[p]
        xs, ys = view.name(p - 1), view.name(p)
        w, b = view.parameter(p, "w"), view.parameter(p, "b")
        rows = []
        for t, j in _entries(y):
            pairs = [
                ((w((j, i)), layer.weight[j, i]), (xs((*t, i)), x[(*t, i)]))
                for i in range(x.shape[-1])
            ]
            pieces = products(pairs)
            if layer.bias is not None:
                pieces += [" + ", (b((j,)), layer.bias[j])]
            rows.append(row(ys((*t, j)), pieces, y[(*t, j)]))
        rule = "each output y_j = Σ_i w[j,i]·x_i" + (" + b_j" if layer.bias is not None else "")
        if y.ndim == 2:
            rule += " at each step t (torch's linear on the last dimension)"
        return [
            Section(
                "forward", f"Forward · layer {view.spec.layers[p].name} (linear)", rule, tuple(rows)
            )
        ]

    GRADIENT_RULE = "each weight w[j,i]'s gradient −δ_j·x_i, each bias b_j's −δ_j"

    @staticmethod
    def gradient_terms(view: ModelView, p: int) -> list[tuple[str, tuple[int, ...], list[Any]]]:
        """Each parameter entry's −∂E/∂θ as its row writes it: w[j,i]: δ_j·x_i; b_j: δ_j."""
        layer: Linear = view.layers[p]
        x, d = view.inputs[p], view.deltas[p]
        xs, ds = view.name(p - 1), view.delta(p)
        if d.ndim == 2:  # on a sequence: a sum over the steps
            steps = range(len(d))
            out = [
                (
                    "weight",
                    (j, i),
                    products([((ds((t, j)), d[t, j]), (xs((t, i)), x[t, i])) for t in steps]),
                )
                for j in range(d.shape[1])
                for i in range(x.shape[1])
            ]
            if layer.bias is not None:
                out += [
                    ("bias", (j,), summed([(ds((t, j)), d[t, j]) for t in steps]))
                    for j in range(d.shape[1])
                ]
            return out
        out = [
            ("weight", (j, i), [(ds((j,)), d[j]), "·", (xs((i,)), x[i])])
            for j in range(len(d))
            for i in range(len(x))
        ]
        if layer.bias is not None:
            out += [("bias", (j,), [(ds((j,)), d[j])]) for j in range(len(d))]
        return out

    @staticmethod
    def delta_rows(view: ModelView, p: int) -> list[Section]:
        layer: Linear = view.layers[p]
        x, d = view.inputs[p], view.deltas[p]
        ds, below = view.delta(p), view.delta(p - 1)
        w = view.parameter(p, "w")
        name = view.spec.layers[p].name
        sections = []
        sent = view.sent[p]
        if sent is not None:
            rows = [
                row(
                    below((*t, i)),
                    products(
                        [
                            ((w((j, i)), layer.weight[j, i]), (ds((*t, j)), d[(*t, j)]))
                            for j in range(d.shape[-1])
                        ]
                    ),
                    sent[(*t, i)],
                )
                for t, i in _entries(x)
            ]
            sections.append(
                Section(
                    "delta",
                    f"δ · into layer {name} (linear)",
                    "each input's δ_i = Σ_j w[j,i]·δ_j, the weights before the update",
                    tuple(rows),
                )
            )
        return sections
