"""torch's `nn.BatchNorm1d` in eval mode (`run --eval`, `step --eval`: torch's `model.eval()`,
then its training steps): each feature
is normalised with the running statistics the model holds (`N.running_mean`, `N.running_var`:
given, never the batch's), so every sample passes on its own:

    x̂ = (x − running_mean)/√(running_var + ε)        y = γ·x̂ + β

It is then a fixed affine map of each feature: δx = γ·δ/√(running_var + ε), −∂E/∂γ = Σ δ·x̂,
−∂E/∂β = Σ δ (over a signal's positions), and nothing moves the running statistics. Without
running statistics (track_running_stats false) torch's eval mode normalises over the batch as
training does: `evaluated` keeps that layer as it is (`batchnorm1d.BatchNorm1d`).

Its rows: each sample's x̂ and y from the running statistics; back, each input's δx from γ and
the running variance alone (no sums over the batch: its statistics are constants); γ's and β's
gradients each sample's δ·x̂ and δ, summed or averaged over a batch as every parameter's."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from ...worked import Section
from .batchnorm1d import (
    LETTERS,
    BatchNorm1d,
    Names,
    brackets,
    gradient_entries,
    sqrt_latex,
)
from .tensor import ModelView, row

if TYPE_CHECKING:
    import numpy.typing as npt

    Array = npt.NDArray[np.float64]
    Carry = Callable[[Array], Array]


def evaluated(layer: BatchNorm1d) -> BatchNorm1d | Evaluated:
    """The layer as torch's eval mode computes it: with its running statistics, or over the
    batch where it tracks none."""
    return Evaluated(layer) if layer.running else layer


class Evaluated(NamedTuple):
    trained: BatchNorm1d  # the layer as training builds it: γ, β, ε, the running statistics
    kind = "batchnorm1d"
    LETTERS = LETTERS  # training mode's names

    @property
    def parameters(self) -> dict[str, Array]:
        return self.trained.parameters

    @property
    def eps(self) -> float:
        return self.trained.eps

    def _per_feature(self, key: str, ndim: int) -> Array:
        """A running statistic shaped to broadcast against one sample's (C,) or (C, L)."""
        return self.trained.running[key].reshape((-1,) + (1,) * (ndim - 1))

    def _scale(self, ndim: int) -> Array:
        """√(running_var + ε) per feature, shaped as `_per_feature`."""
        return np.sqrt(self._per_feature("running_var", ndim) + self.eps)

    def forward(self, x: Array, carry: Carry) -> tuple[Array, Array]:
        """One sample's input, (C,) or (C, L), normalised per feature: its output and x̂."""
        nd = x.ndim
        centred = brackets(carry)(x - self._per_feature("running_mean", nd))
        xhat = carry(centred / self._scale(nd))
        weight, bias = self.trained.weight, self.trained.bias
        if weight is None or bias is None:
            return xhat, xhat
        gamma, beta = (value.reshape((-1,) + (1,) * (nd - 1)) for value in (weight, bias))
        return carry(gamma * xhat + beta), xhat

    def backward(
        self, xhat: Array, upstream: Array, carry: Carry, below: bool = True
    ) -> tuple[Array | None, dict[str, Array]]:
        """δx = γ·δ/√(running_var + ε) (None unless `below`); −∂E/∂γ = Σ δ·x̂ and −∂E/∂β =
        Σ δ over a signal's positions, not carried (the engine carries a sample's, or a
        batch's sum once, as the gradient's row writes it)."""
        nd, rest = upstream.ndim, tuple(range(1, upstream.ndim))
        grads: dict[str, Array] = {}
        gamma: Array | float = 1.0
        if self.trained.weight is not None:
            grads = {"weight": (upstream * xhat).sum(axis=rest), "bias": upstream.sum(axis=rest)}
            gamma = self.trained.weight.reshape((-1,) + (1,) * (nd - 1))
        sent = carry(gamma * upstream / self._scale(nd)) if below else None
        return sent, grads

    # ------------------------------------------------------------ its rows

    @staticmethod
    def forward_rows(view: ModelView, p: int) -> list[Section]:
        """This sample's x̂ from the running statistics, then y."""
        layer: BatchNorm1d = view.layers[p].trained
        x, xhat, y = view.inputs[p], view.caches[p], view.outputs[p]
        names = Names(view, p)
        eps = ("ε", layer.eps)
        rows = []
        for index in np.ndindex(*x.shape):
            c = index[0]
            mean = (names.buffer("running_mean", c), layer.running["running_mean"][c])
            var = (names.buffer("running_var", c), layer.running["running_var"][c])
            pieces: list[Any] = ["(", (names.x(index), x[index]), " − ", mean, ")/√(", var]
            pieces += [" + ", eps, ")"]
            own = (names.xhat(index), xhat[index])
            rows.append(row(own[0], pieces, own[1], latex=sqrt_latex(pieces)))
            if layer.weight is None or layer.bias is None:
                rows.append(row(names.y(index), [own], y[index]))
                continue
            gamma, beta = (names.gamma(c), layer.weight[c]), (names.beta(c), layer.bias[c])
            rows.append(row(names.y(index), [gamma, "·", own, " + ", beta], y[index]))
        rule = (
            "eval mode: each value normalised with the running statistics, not the batch's, "
            "x̂ = (x − running_mean)/√(running_var + ε), then "
            + ("y = γ·x̂ + β (γ: weight, β: bias)" if layer.weight is not None else "y = x̂")
        )
        title = f"Forward · layer {layer.spec.name} (batchnorm1d in eval mode, ε = {layer.eps:g})"
        return [Section("forward", title, rule, tuple(rows))]

    GRADIENT_RULE = (
        "each weight γ[c]'s gradient −Σ δ[c]·x̂[c], each bias β[c]'s −Σ δ[c] (over a signal's "
        "positions), x̂ from the running statistics"
    )

    @staticmethod
    def gradient_terms(view: ModelView, p: int) -> list[tuple[str, tuple[int, ...], list[Any]]]:
        """This sample's term of each entry's −∂E/∂θ: γ[c]: δ·x̂ (over its positions); β[c]: δ.
        A batch's gradient is their sum or mean (`model_trace.gradient_sections`)."""
        layer: BatchNorm1d = view.layers[p].trained
        if layer.weight is None:
            return []
        return gradient_entries(Names(view, p), view.deltas[p], view.caches[p])

    @staticmethod
    def delta_rows(view: ModelView, p: int) -> list[Section]:
        """Each input's δ through the fixed affine map: γ·δ/√(running_var + ε)."""
        sent = view.sent[p]
        if sent is None:
            return []
        layer: BatchNorm1d = view.layers[p].trained
        names = Names(view, p)
        eps = ("ε", layer.eps)
        rows = []
        for index in np.ndindex(*sent.shape):
            c = index[0]
            gamma: list[Any] = [] if layer.weight is None else [(names.gamma(c), layer.weight[c])]
            var = (names.buffer("running_var", c), layer.running["running_var"][c])
            pieces: list[Any] = [
                *gamma,
                "·" if gamma else "",
                (names.delta(index), view.deltas[p][index]),
            ]
            pieces += ["/√(", var, " + ", eps, ")"]
            pieces = [piece for piece in pieces if piece != ""]
            rows.append(
                row(view.delta(p - 1)(index), pieces, sent[index], latex=sqrt_latex(pieces))
            )
        rule = (
            "eval mode: the running statistics are constants, so each input's δx = "
            + ("γ·δ/√(running_var + ε)" if layer.weight is not None else "δ/√(running_var + ε)")
            + ", feature by feature (no sums over the batch)"
        )
        title = f"δ · into layer {layer.spec.name} (batchnorm1d in eval mode)"
        return [Section("delta", title, rule, tuple(rows))]
