"""torch's `nn.BatchNorm1d` in a `model:`, in training mode: it works over the batch (`BATCH`),
so the engine gives it every sample's input at once. For each feature c, over the batch's m
values (N samples, times the length L of a (C, L) input):

    μ[c] = Σ x / m      σ²[c] = Σ (x − μ)² / m  (biased)      x̂ = (x − μ)/√(σ² + ε)
    y = γ·x̂ + β        (γ = weight, β = bias: torch's `N.weight`, `N.bias`)

Backward, δ = −∂E/∂y (the lecture's sign): −∂E/∂γ = Σ δ·x̂, −∂E/∂β = Σ δ, and the δ of an
input the three terms of x's paths through x̂, μ and σ²,

    δx = γ/(m·√(σ² + ε))·(m·δ − Σδ − x̂·Σ(δ·x̂)).

Each training pass moves the running statistics (torch's buffers, never trained): running_mean
← (1 − momentum)·running_mean + momentum·μ, running_var likewise with the unbiased variance
σ²·m/(m − 1), num_batches_tracked + 1."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from ...worked import Section
from .tensor import RULES, Letters, ModelView, entry, head, joined, row, summed, tagged

if TYPE_CHECKING:
    import numpy.typing as npt

    from ..model_spec import LayerSpec

    Array = npt.NDArray[np.float64]
    Carry = Callable[[Array], Array]

ARGUMENTS: tuple[tuple[str, Any], ...] = (
    ("num_features", None),
    ("eps", 1e-5),
    ("momentum", 0.1),
    ("affine", True),
    ("track_running_stats", True),
)


def shape(arguments: dict[str, Any], shape_in: tuple[int, ...]) -> tuple[int, ...] | str:
    n = arguments["num_features"]
    if len(shape_in) > 2 or shape_in[0] != n:
        got = "×".join(map(str, shape_in)) if len(shape_in) > 1 else f"{shape_in[0]} features"
        return f"takes {n} features (num_features), or {n} channels × length, and gets {got}"
    return shape_in


def parameter_shapes(arguments: dict[str, Any]) -> dict[str, tuple[int, ...]]:
    n = arguments["num_features"]
    return {"weight": (n,), "bias": (n,)} if arguments["affine"] else {}


def buffers(arguments: dict[str, Any]) -> dict[str, Array]:
    """Its buffers by key with torch's starting values: a config may leave them out."""
    if not arguments["track_running_stats"]:
        return {}
    n = arguments["num_features"]
    return {
        "running_mean": np.zeros(n),
        "running_var": np.ones(n),
        "num_batches_tracked": np.array(0, dtype=np.int64),
    }


def argument_problem(key: str, value: float) -> str | None:
    """What is wrong with a number it takes, or None."""
    if key == "eps" and not value > 0:
        return f"{value} is not > 0; ε keeps √(σ² + ε) from 0 (torch's default 1e-5)"
    if key == "momentum" and not 0 <= value <= 1:
        return f"{value} is not between 0 and 1 (torch's default 0.1)"
    return None


def written(arguments: dict[str, Any]) -> str:
    """ "3 features", with ε, the momentum and the flags where not torch's defaults."""
    text = f"{arguments['num_features']} features"
    for key, default in ARGUMENTS[1:]:
        if arguments[key] != default:
            text += f", {key} {arguments[key]}"
    return text


def refused(count: int, shape_in: tuple[int, ...]) -> str | None:
    """Why a batch of `count` samples cannot be normalised, as torch refuses it, or None."""
    if count * int(np.prod(shape_in[1:], dtype=np.int64)) <= 1:
        return (
            "batchnorm1d needs more than one value per feature to normalise over (torch: "
            '"Expected more than 1 value per channel when training"); give two or more samples'
        )
    return None


def alone_in_eval(arguments: dict[str, Any]) -> bool:
    """Whether torch's eval mode normalises a sample alone: with its running statistics
    (without them, eval mode uses the batch's, as training does)."""
    return bool(arguments["track_running_stats"])


def asked_in_eval(arguments: dict[str, Any]) -> tuple[str, str, str]:
    """What a question in eval mode (`--eval`) asks of it, as `ASKED` (`model_statement`)."""
    if alone_in_eval(arguments):
        return (
            "batch norm in eval mode: x̂ and y from its running statistics",
            "batch norm's a fixed affine map's, γ·δ/√(running_var + ε)",
            "",
        )
    return (
        "batch norm without running statistics: the batch's μ and σ², then x̂ and y",
        ASKED[1],
        ASKED[2],
    )


# what a homework question asks of this layer: in the forward pass, going back, in the gradients
# (`model_statement`); "" where nothing more than "every layer" is asked
ASKED = (
    "batch norm: the batch's μ and σ², then x̂ and y",
    "batch norm's through μ and σ² too",
    "",
)


class Stats(NamedTuple):
    """The forward pass over the batch, each carried: stacked inputs, per feature μ and σ²
    (biased), x̂; m the values per feature."""

    x: Array
    mean: Array
    var: Array
    xhat: Array
    count: int


class Record(NamedTuple):
    """What its rows read of the batch: the forward's stats, every sample's δ of its output,
    and the two sums over the batch the δ of its input needs."""

    stats: Stats
    deltas: Array
    sum_delta: Array  # Σδ per feature
    sum_delta_xhat: Array  # Σ(δ·x̂) per feature


def brackets(carry: Carry) -> Carry:
    """A bracket as a student writes it down in hand mode (`--round`): rounded, as its row's
    formula is read (`formula._factor`); exact otherwise."""
    return carry.written if getattr(carry, "hand", False) else (lambda a: a)  # type: ignore[attr-defined]


def _axes(x: Array) -> tuple[int, ...]:
    """The axes a feature's statistics run over: the batch's and the length's."""
    return (0, *range(2, x.ndim))


def _per_feature(value: Array, ndim: int) -> Array:
    """A per-feature array shaped to broadcast against (N, C, …)."""
    return value.reshape((1, -1) + (1,) * (ndim - 2))


CONSTANT_STATISTICS = (
    "batch norm's backward without the μ and σ² terms (δx = γ·δ/√(σ² + ε), as if the batch's "
    "statistics were constants)"
)


# Its output a weighted input of a layer of its own (y = γ·x̂ + β: Nielsen's z^l), its statistics
# and buffers its own letters in every book (μ^l, x̂^l), its batch's sums of δ the book's δ
# (Hagan's Σs^m); γ and β are its weight and bias, w^l and b^l.
_KEPT = ("μ", "σ²", "x̂", "running_mean", "running_var", "num_batches_tracked")
LETTERS = Letters(
    own={
        **{letter: "=" + letter for letter in _KEPT},
        "Σδ": "=Σ{δ}",
        "Σδx̂": "=Σ{δ}x̂",
    },
    rules={**RULES, **{letter: letter for letter in (*_KEPT, "Σδ")}},
)


class BatchNorm1d(NamedTuple):
    spec: LayerSpec
    weight: Array | None  # γ
    bias: Array | None  # β
    running: dict[str, Array]  # its buffers by key ({} without track_running_stats)
    kind = "batchnorm1d"
    BATCH = True  # the engine gives it every sample's input stacked, and every sample's δ
    LETTERS = LETTERS  # its names in each book

    @classmethod
    def built(
        cls, spec: LayerSpec, values: dict[str, Array], held: dict[str, Array]
    ) -> BatchNorm1d:
        """The layer with its parameters and buffers, from state-dict names."""
        name = spec.name
        own = {key: held[f"{name}.{key}"] for key in buffers(dict(spec.arguments))}
        return cls(spec, values.get(f"{name}.weight"), values.get(f"{name}.bias"), own)

    @property
    def parameters(self) -> dict[str, Array]:
        if self.weight is None or self.bias is None:
            return {}
        return {"weight": self.weight, "bias": self.bias}

    @property
    def eps(self) -> float:
        return float(self.spec.argument("eps"))

    def gamma(self, features: int) -> Array:
        return np.ones(features) if self.weight is None else self.weight

    def forward(self, x: Array, carry: Carry) -> tuple[Array, Stats]:
        """Every sample's input stacked, (N, C) or (N, C, L), normalised per feature."""
        axes, nd, bracket = _axes(x), x.ndim, brackets(carry)
        count = int(x.size // x.shape[1])
        mean = carry(bracket(x.sum(axis=axes)) / count)
        centred = bracket(x - _per_feature(mean, nd))
        var = carry(bracket((centred**2).sum(axis=axes)) / count)
        xhat = carry(centred / np.sqrt(_per_feature(var, nd) + self.eps))
        y = xhat
        if self.weight is not None and self.bias is not None:
            y = carry(_per_feature(self.weight, nd) * xhat + _per_feature(self.bias, nd))
        return y, Stats(x, mean, var, xhat, count)

    def backward(
        self, cache: Stats, upstream: Array, carry: Carry, below: bool = True
    ) -> tuple[Array | None, dict[str, Array], Record]:
        """Every sample's δ in, stacked: the δ of every sample's input (None unless `below`),
        each sample's term of −∂E/∂γ (δ·x̂) and −∂E/∂β (δ), (N, C), and its record."""
        x, nd, m = cache.xhat, upstream.ndim, cache.count
        rest = tuple(range(2, nd))  # a (C, L) input's length: summed into each sample's term
        sum_delta = carry(upstream.sum(axis=_axes(upstream)))
        sum_delta_xhat = carry((upstream * x).sum(axis=_axes(upstream)))
        grads: dict[str, Array] = {}
        if self.weight is not None:
            grads = {  # not carried: the engine carries a sample's or a batch's
                "weight": (upstream * x).sum(axis=rest),
                "bias": upstream.sum(axis=rest),
            }
        sent = None
        if below:
            gamma, bracket = _per_feature(self.gamma(x.shape[1]), nd), brackets(carry)
            scale = gamma / bracket(m * np.sqrt(_per_feature(cache.var, nd) + self.eps))
            inner = bracket(
                m * upstream - _per_feature(sum_delta, nd) - x * _per_feature(sum_delta_xhat, nd)
            )
            sent = carry(scale * inner)
        return sent, grads, Record(cache, upstream, sum_delta, sum_delta_xhat)

    def tracked(self, stats: Stats, carry: Carry) -> dict[str, Array]:
        """Its buffers after this training pass (torch's update, the unbiased variance)."""
        if not self.running:
            return {}
        momentum, m = float(self.spec.argument("momentum")), stats.count
        mean = carry((1 - momentum) * self.running["running_mean"] + momentum * stats.mean)
        unbiased = momentum * stats.var * m / (m - 1)
        var = carry((1 - momentum) * self.running["running_var"] + unbiased)
        return {
            "running_mean": mean,
            "running_var": var,
            "num_batches_tracked": self.running["num_batches_tracked"] + 1,
        }

    # ------------------------------------------------------------ its rows

    @staticmethod
    def forward_rows(view: ModelView, p: int) -> list[Section]:
        """The batch's μ and σ² (in the first sample's step), then this sample's x̂ and y."""
        layer: BatchNorm1d = view.layers[p]
        record: Record = view.batch[p]
        stats, s = record.stats, view.sample
        names = Names(view, p)
        sections = []
        if s == 0:
            rows = []
            for c in range(stats.mean.shape[0]):
                values = [
                    tagged((names.x(index), stats.x[(n, *index)]), view.number(n))
                    for n, index in _entries(stats.x, c)
                ]
                mu = (names.mu(c), stats.mean[c])
                rows.append(row(mu[0], ["(", *summed(values), f")/{stats.count}"], mu[1]))
                squares = joined(["(", value, " − ", mu, ")²"] for value in values)
                rows.append(row(names.var(c), ["(", *squares, f")/{stats.count}"], stats.var[c]))
            rule = (
                f"over the batch's {stats.count} values of each feature: its mean μ = Σx/"
                f"{stats.count} and biased variance σ² = Σ(x − μ)²/{stats.count} (the same "
                "for every sample)"
            )
            title = f"Forward · layer {layer.spec.name} (batchnorm1d): the batch's statistics"
            sections.append(Section("forward", title, rule, tuple(rows)))
        rows = []
        eps = ("ε", layer.eps)
        for index in np.ndindex(*stats.x.shape[1:]):
            c, at = index[0], (s, *index)
            xhat = (names.xhat(index), stats.xhat[at])
            pieces: list[Any] = ["(", (names.x(index), stats.x[at]), " − "]
            pieces += [(names.mu(c), stats.mean[c]), ")/√(", (names.var(c), stats.var[c])]
            pieces += [" + ", eps, ")"]
            rows.append(row(xhat[0], pieces, xhat[1], latex=sqrt_latex(pieces)))
            y = view.outputs[p][index]
            if layer.weight is None or layer.bias is None:
                rows.append(row(names.y(index), [xhat], y))
                continue
            gamma, beta = (names.gamma(c), layer.weight[c]), (names.beta(c), layer.bias[c])
            rows.append(row(names.y(index), [gamma, "·", xhat, " + ", beta], y))
        affine = layer.weight is not None
        rule = "each value normalised, x̂ = (x − μ)/√(σ² + ε), then " + (
            "y = γ·x̂ + β (γ: weight, β: bias)" if affine else "y = x̂ (affine false)"
        )
        title = f"Forward · layer {layer.spec.name} (batchnorm1d, ε = {layer.eps:g})"
        sections.append(Section("forward", title, rule, tuple(rows)))
        return sections

    GRADIENT_RULE = (
        "each weight γ[c]'s gradient −Σ δ[c]·x̂[c], each bias β[c]'s −Σ δ[c], sums over the "
        "batch (and a signal's positions)"
    )

    @staticmethod
    def gradient_terms(view: ModelView, p: int) -> list[tuple[str, tuple[int, ...], list[Any]]]:
        """This sample's term of each entry's −∂E/∂θ: γ[c]: δ·x̂ (over its positions); β[c]: δ.
        The batch's gradient is their sum or mean (`model_trace.gradient_sections`)."""
        layer: BatchNorm1d = view.layers[p]
        if layer.weight is None:
            return []
        record: Record = view.batch[p]
        return gradient_entries(Names(view, p), view.deltas[p], record.stats.xhat[view.sample])

    @staticmethod
    def delta_rows(view: ModelView, p: int) -> list[Section]:
        """The batch's Σδ and Σ(δ·x̂) (in the first sample's step), then the δ of this
        sample's inputs by the three-term formula."""
        sent = view.sent[p]
        if sent is None:
            return []
        layer: BatchNorm1d = view.layers[p]
        record: Record = view.batch[p]
        stats, s, m = record.stats, view.sample, record.stats.count
        names = Names(view, p)
        sections = []
        if s == 0:
            rows = []
            for c in range(stats.mean.shape[0]):
                deltas = [
                    tagged((names.delta(index), record.deltas[(n, *index)]), view.number(n))
                    for n, index in _entries(stats.x, c)
                ]
                rows.append(row(names.sum_delta(c), summed(deltas), record.sum_delta[c]))
                products = joined(
                    [deltas[k], "·", tagged((names.xhat(i), stats.xhat[(n, *i)]), view.number(n))]
                    for k, (n, i) in enumerate(_entries(stats.x, c))
                )
                rows.append(row(names.sum_delta_xhat(c), products, record.sum_delta_xhat[c]))
            rule = (
                "each feature's Σδ and Σ(δ·x̂) over the batch's values: what every sample's δ "
                "back through μ and σ² needs (summed, not averaged: β's and γ's gradients)"
            )
            title = f"δ · layer {layer.spec.name} (batchnorm1d): sums over the batch"
            sections.append(Section("delta", title, rule, tuple(rows)))
        rows = []
        eps = ("ε", layer.eps)
        for index in np.ndindex(*sent.shape):
            c = index[0]
            gamma: list[Any] = ["1"]
            if layer.weight is not None:
                gamma = [(names.gamma(c), layer.weight[c])]
            pieces = [
                *gamma,
                f"/({m}·√(",
                (names.var(c), stats.var[c]),
                " + ",
                eps,
                f"))·({m}·",
                (names.delta(index), view.deltas[p][index]),
                " − ",
                (names.sum_delta(c), record.sum_delta[c]),
                " − ",
                (names.xhat(index), stats.xhat[(s, *index)]),
                "·",
                (names.sum_delta_xhat(c), record.sum_delta_xhat[c]),
                ")",
            ]
            # the slip: only the path through x̂, as if μ and σ² were constants
            var = (names.var(c), stats.var[c])
            alone = [*gamma, "·", (names.delta(index), view.deltas[p][index]), "/√(", var]
            alone += [" + ", eps, ")"]
            rows.append(
                row(
                    view.delta(p - 1)(index),
                    pieces,
                    sent[index],
                    latex=sqrt_latex(pieces),
                    slips=((CONSTANT_STATISTICS, alone),),
                )
            )
        rule = (
            f"each input's δx = γ/(m·√(σ² + ε))·(m·δ − Σδ − x̂·Σ(δ·x̂)), m = {m}: its paths "
            "through x̂, μ and σ²"
        )
        sections.append(
            Section("delta", f"δ · into layer {layer.spec.name} (batchnorm1d)", rule, tuple(rows))
        )
        return sections

    @staticmethod
    def running_rows(view: ModelView, p: int, after: dict[str, Array]) -> list[Section]:
        """The running statistics' update, once for the batch: `after` its new buffers."""
        layer: BatchNorm1d = view.layers[p]
        if not layer.running:
            return []
        record: Record = view.batch[p]
        stats, m = record.stats, record.stats.count
        names = Names(view, p)
        momentum = ("momentum", float(layer.spec.argument("momentum")))
        rows = []
        for key, own, unbiased in (
            ("running_mean", names.mu, []),
            ("running_var", names.var, [f"·{m}/({m} − 1)"]),
        ):
            before, new = layer.running[key], after[key]
            stat = stats.mean if key == "running_mean" else stats.var
            for c in range(len(before)):
                running = (names.buffer(key, c), before[c])
                pieces = ["(1 − ", momentum, ")·", running, " + ", momentum, "·"]
                pieces += [(own(c), stat[c]), *unbiased]
                rows.append(row(f"new {running[0]}", pieces, new[c]))
        tracked = names.buffer("num_batches_tracked", None)
        count = int(layer.running["num_batches_tracked"])
        rows.append(row(f"new {tracked}", [(tracked, count), " + 1"], count + 1))
        rule = (
            "running ← (1 − momentum)·running + momentum·(the batch's statistic), the "
            f"variance unbiased (σ²·{m}/{m - 1}), as torch's training pass; never trained"
        )
        title = f"Running statistics · layer {layer.spec.name} (batchnorm1d)"
        return [Section("update", title, rule, tuple(rows))]


def gradient_entries(
    names: Names, d: Array, xhat: Array
) -> list[tuple[str, tuple[int, ...], list[Any]]]:
    """One sample's term of each entry's −∂E/∂θ, from its δ and x̂ (shaped alike): γ[c]:
    Σ δ·x̂, β[c]: Σ δ, over a signal's positions."""
    out: list[tuple[str, tuple[int, ...], list[Any]]] = []
    for key in ("weight", "bias"):
        for c in range(d.shape[0]):
            terms = []
            for rest in np.ndindex(*d.shape[1:]):
                index = (c, *rest)
                term: list[Any] = [(names.delta(index), d[index])]
                if key == "weight":
                    term += ["·", (names.xhat(index), xhat[index])]
                terms.append(term)
            out.append((key, (c,), joined(terms)))
    return out


def sqrt_latex(pieces: list[Any]) -> list[Any]:
    """A row's pieces in LaTeX: its one √(σ² + ε) as \\sqrt{σ² + ε}."""
    out, inside = [], False
    for piece in pieces:
        written = piece
        if isinstance(piece, str) and "√(" in piece:
            written, inside = piece.replace("√(", "\\sqrt{"), True
        elif inside and isinstance(piece, str) and piece.startswith(")"):
            written, inside = "}" + piece[1:], False
        out.append(written)
    return out


def _entries(x: Array, c: int) -> list[tuple[int, tuple[int, ...]]]:
    """Feature c's values over the batch: (sample, index within the sample)."""
    return [(n, (c, *rest)) for n in range(x.shape[0]) for rest in np.ndindex(*x.shape[2:])]


class Names:
    """Layer p's names: its input's entries, its own output, δ, statistics and buffers."""

    def __init__(self, view: ModelView, p: int) -> None:
        self.layer = view.spec.layers[p].name
        self.x, self.y, self.delta = view.name(p - 1), view.name(p), view.delta(p)
        self.gamma = lambda c: view.parameter(p, "w")((c,))
        self.beta = lambda c: view.parameter(p, "b")((c,))

    def own(self, letter: str, index: tuple[int, ...]) -> str:
        return entry(head(letter, self.layer), index)

    def mu(self, c: int) -> str:
        return self.own("μ", (c,))

    def var(self, c: int) -> str:
        return self.own("σ²", (c,))

    def xhat(self, index: tuple[int, ...]) -> str:
        return self.own("x̂", index)

    def sum_delta(self, c: int) -> str:
        return self.own("Σδ", (c,))

    def sum_delta_xhat(self, c: int) -> str:
        return self.own("Σδx̂", (c,))

    def buffer(self, key: str, c: int | None) -> str:
        return head(key, self.layer) if c is None else self.own(key, (c,))
