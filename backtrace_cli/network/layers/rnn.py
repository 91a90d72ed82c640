"""torch's `nn.RNN` in a `model:` (one sequence without a batch dimension, as torch's unbatched
input (L, H_in)): for each time step t, from the state before the first step (0, or the given
`h0`),

    net[t,j] = Σ_i w_ih[j,i]·x[t,i] + b_ih[j] + Σ_k w_hh[j,k]·h[t−1,k] + b_hh[j]
    h[t,j]   = f(net[t,j])                       (f: tanh or relu, torch's nonlinearity)

and it gives every h_t, [T][hidden_size]. Parameters under torch's state-dict names:
weight_ih_l0 [hidden][input], weight_hh_l0 [hidden][hidden], bias_ih_l0, bias_hh_l0.

`num_layers` stacks layers (l > 0 reads layer l − 1's states as its x: `weight_ih_l1` is
[hidden][hidden]); `bidirectional` adds a second direction to each (`_reverse`: it runs from
the last step to the first, its state before step t is h[t+1]), the two directions' states
concatenated, forward then reverse. `h0` is torch's initial state, [layers × directions][hidden].

Backward through time, from the last step down: the δ of h_t is what comes from above at step t
(the layer above, or the next stacked layer through its w_ih) plus what comes back from step
t+1 through w_hh,

    δh[t,j] = δ[t,j] + Σ_k w_hh[k,j]·δnet[t+1,k],      δnet[t,j] = f′·δh[t,j]

and each weight, shared by every step, has its gradient summed over the steps. A given h0
gets its δ too, δh[−1,j] = Σ_k w_hh[k,j]·δnet[0,k] (−∂E/∂h0: torch's h0.grad with the lecture's
sign), but no update: it is an input, as torch's, not a parameter. Its rows are in
`rnn_rows.py`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from ...core.validate import counted, show
from ...definitions import activations
from ..hand import exact, worked
from . import rnn_dropout, rnn_rows
from .rnn_rows import TRUNCATED, Cell, cells, directions
from .tensor import Letters, ModelView, entry, head

if TYPE_CHECKING:
    import numpy.typing as npt

    from ...core.validate import Checker
    from ...worked import Section
    from ..model_spec import LayerSpec

    Array = npt.NDArray[np.float64]
    Carry = Callable[[Array], Array]

__all__ = ["TRUNCATED", "Rnn"]

MAX_LAYERS = 8  # torch's num_layers: a model to follow by hand

ARGUMENTS: tuple[tuple[str, Any], ...] = (
    ("input_size", None),
    ("hidden_size", None),
    ("nonlinearity", "tanh"),
    ("bias", True),
    ("num_layers", 1),
    ("bidirectional", False),
    ("h0", None),
    *rnn_dropout.ARGUMENTS,  # torch's dropout between stacked layers, its masks' seed or masks
)
# the JSON trace lists them where they are not torch's defaults (no dropout)
QUIET = rnn_dropout.ARGUMENTS
CHOICES = {"nonlinearity": ("tanh", "relu")}  # an argument that is a word: its valid words


def _layers(c: Checker, path: tuple[Any, ...], raw: Any, arguments: dict[str, Any]) -> int:
    what = f"a whole number of stacked layers from 1 to {MAX_LAYERS}"
    return c.integer(path, raw, 1, MAX_LAYERS, what)


def _h0(c: Checker, path: tuple[Any, ...], raw: Any, arguments: dict[str, Any]) -> Any:
    """torch's h0 (unbatched: num_layers × directions rows of hidden_size), as a tuple of
    rows; one layer's may be one list of hidden_size. None when it is not given (the 0)."""
    if raw is None:
        return None
    rows, hidden = arguments["num_layers"] * directions(arguments), arguments["hidden_size"]
    what = f"h0 is [num_layers × directions][hidden_size], [{rows}][{hidden}]"
    if rows == 1:
        what += f", or one list of {hidden} numbers"
    if rows == 1 and isinstance(raw, list) and raw and not isinstance(raw[0], list):
        return (tuple(c.vector(path, raw, hidden, what)),)
    if not isinstance(raw, list) or len(raw) != rows:
        found = counted(len(raw), "row") if isinstance(raw, list) else show(raw)
        raise c.fail(path, f"found {found} where {rnn_dropout.expected(rows)}: {what}")
    return tuple(tuple(c.vector((*path, n), v, hidden, what)) for n, v in enumerate(raw))


# arguments read by their own reader (`model_config`): the value given (None if left out) and
# the arguments read before it
READERS = {
    "num_layers": _layers,
    "h0": _h0,
    "dropout": rnn_dropout.read_dropout,
    "dropout_seed": rnn_dropout.read_seed,
    "dropout_mask": rnn_dropout.read_mask,
}
masks = rnn_dropout.masks  # each sample's dropout masks between its layers (`model_engine`)

# the trace's letter of each parameter by its state-dict key's start: w_ih0[j,i], b_hh0[j]
PARAMETERS = {"weight_ih": "w_ih", "weight_hh": "w_hh", "bias_ih": "b_ih", "bias_hh": "b_hh"}


def suffixes(arguments: Mapping[str, Any]) -> tuple[str, ...]:
    """Its heads' suffixes, one per stacked layer and direction: "" for one of each; _l0,
    _l0_reverse, _l1, … (torch's)."""
    return tuple(cell.suffix for cell in cells(dict(arguments)))


# Its net and state the book's weighted input and activation of a layer of its own
# (z^l[t,j], a^l[t,j] = tanh(z^l[t,j])), δnet the book's δ (δ^l = ∂C/∂z^l); δh, the δ of a
# state through time, keeps its letters (δh^l); a state through the dropout between stacked
# layers, h̃, the activation's letter with a tilde (ã^l), its mask m (m^l); each stacked layer
# and direction its suffix.
OWN = ("net", "h", "δnet", "δh", "h̃", "δh̃", "m")  # its own heads: h0[t,j], m0_l0[t,j], …
LETTERS = Letters(
    output="o",
    own={"net": "net", "h": "o", "δnet": "δ", "δh": "=δh", "h̃": "õ", "δh̃": "=δh̃", "m": "=m"},
    parameters=PARAMETERS,
    rules={"x": "in", "δ": "δout", **{letter: letter for letter in (*OWN, *PARAMETERS.values())}},
    cells=suffixes,
)


def shape(arguments: dict[str, Any], shape_in: tuple[int, ...]) -> tuple[int, ...] | str:
    n = arguments["input_size"]
    if len(shape_in) != 2 or shape_in[1] != n:
        got = "×".join(map(str, shape_in)) if len(shape_in) > 1 else f"a vector of {shape_in[0]}"
        return f"takes a sequence, steps × {n} (input_size), and gets {got}"
    problem = rnn_dropout.shape_problem(arguments, shape_in[0])
    if problem is not None:
        return problem
    return (shape_in[0], directions(arguments) * arguments["hidden_size"])


def parameter_shapes(arguments: dict[str, Any]) -> dict[str, tuple[int, ...]]:
    """torch's state dict: each layer's, each direction's, w_ih, w_hh, then b_ih, b_hh."""
    hidden = arguments["hidden_size"]
    out = {}
    for cell in cells(arguments):
        given = arguments["input_size"] if cell.layer == 0 else directions(arguments) * hidden
        out |= {cell.key("weight_ih"): (hidden, given), cell.key("weight_hh"): (hidden, hidden)}
        if arguments["bias"]:
            out |= {cell.key("bias_ih"): (hidden,), cell.key("bias_hh"): (hidden,)}
    return out


def parameter_head(arguments: dict[str, Any], key: str, layer: str) -> str:
    """A parameter's name in the trace, without its index: weight_hh_l0 of layer 0 → "w_hh0"
    (one layer, one direction); of two layers "w_hh0_l0", "w_hh0_l1_reverse"."""
    start, _, _ = key.partition("_l")
    cell = next(c for c in cells(arguments) if c.key(start) == key)
    return head(PARAMETERS[start], layer) + cell.suffix


def written(arguments: dict[str, Any]) -> str:
    """ "1→2, tanh", "2→3, relu, 2 layers, bidirectional, h0 given, no bias"."""
    text = f"{arguments['input_size']}→{arguments['hidden_size']}, {arguments['nonlinearity']}"
    if arguments["num_layers"] > 1:
        text += f", {arguments['num_layers']} layers"
    if arguments["bidirectional"]:
        text += ", bidirectional"
    if arguments["h0"] is not None:
        text += ", h0 given"
    text += rnn_dropout.written(arguments)
    return text + ("" if arguments["bias"] else ", no bias")


def stages(layer: LayerSpec) -> list[tuple[str, str, tuple[int, ...]]]:
    """Its boxes in the model's diagram where it stacks layers: one per layer, with the
    sizes it maps and the shape it gives (none: the one box of every layer)."""
    arguments = dict(layer.arguments)
    if arguments["num_layers"] == 1:
        return []
    hidden, two = arguments["hidden_size"], directions(arguments)
    out = []
    for stacked in range(arguments["num_layers"]):
        text = f"{arguments['input_size'] if stacked == 0 else two * hidden}→{hidden}, "
        text += arguments["nonlinearity"] + (", both directions" if two == 2 else "")
        text += ", h0 given" if arguments["h0"] is not None else ""
        if arguments["dropout"] and stacked < arguments["num_layers"] - 1:
            text += f", then dropout {arguments['dropout']:g}"
        out.append((f"{layer.name}: rnn l{stacked}", text, layer.shape_out))
    return out


def given(layer: LayerSpec, spec: Any) -> list[tuple[str, Any]]:
    """What a sheet gives of this layer besides its parameters: its initial state h0, its
    dropout masks (`rnn_dropout.given`)."""
    h0 = layer.argument("h0")
    dropped = rnn_dropout.given(layer, spec)
    if h0 is None:
        return dropped
    state = np.array(h0, dtype=np.float64)
    return [(f"h0 of layer {layer.name} (its initial state)", state), *dropped]


def redrawn(layer: LayerSpec, draw: Callable[[tuple[int, ...]], Array]) -> LayerSpec:
    """The layer with its given initial state drawn again (an exercise's variant), as the
    inputs are; none given stays none."""
    from dataclasses import replace

    h0 = layer.argument("h0")
    if h0 is None:
        return layer
    rows = tuple(tuple(float(v) for v in r) for r in draw(np.shape(h0)))
    arguments = tuple((k, rows if k == "h0" else v) for k, v in layer.arguments)
    return replace(layer, arguments=arguments)


# what a homework question asks of this layer: in the forward pass, going back, in the gradients
# (`model_statement`); "" where nothing more than "every layer" is asked
ASKED = (
    "an rnn step by step: each h_t from the input and the previous state",
    "an rnn back through time",
    "an rnn's shared weights summed over the steps",
)


class Rnn(NamedTuple):
    spec: LayerSpec
    arrays: dict[str, Array]  # its parameters by state-dict key, in torch's order
    # its dropout's keep-masks (num_layers − 1, T, directions × hidden), 1 keeps a state of
    # layer l for layer l + 1; None: no dropout, or at inference
    keep: Array | None = None
    kind = "rnn"
    LETTERS = LETTERS  # its names in each book

    @classmethod
    def built(cls, spec: LayerSpec, values: dict[str, Array], *_: Any) -> Rnn:
        """The layer from the model's parameters by state-dict name."""
        keys = parameter_shapes(dict(spec.arguments))
        return cls(spec, {key: values[f"{spec.name}.{key}"] for key in keys})

    def dropping(self, keep: Array) -> Rnn:
        """The layer in training with this sample's dropout masks (`model_engine.build`)."""
        return self._replace(keep=keep)

    @property
    def scale(self) -> float:
        """Inverted dropout's 1/(1 − p): the kept states' scale."""
        return 1.0 / (1.0 - float(self.spec.argument("dropout")))

    @property
    def parameters(self) -> dict[str, Array]:
        return self.arrays

    @property
    def cells(self) -> tuple[Cell, ...]:
        return cells(dict(self.spec.arguments))

    @property
    def biased(self) -> bool:
        return bool(self.spec.argument("bias"))

    @property
    def hidden(self) -> int:
        return int(self.spec.argument("hidden_size"))

    def initial(self, cell: Cell) -> Array | None:
        """The cell's state before its first step: its row of the given h0, or None (0)."""
        h0 = self.spec.argument("h0")
        return None if h0 is None else np.array(h0[cell.count], dtype=np.float64)  # type: ignore[index]

    @property
    def function(self) -> activations.Activation:
        return activations.get(str(self.spec.argument("nonlinearity")))

    def output_names(self, name: str) -> Callable[[tuple[int, ...]], str]:
        """Its output entries' names: its top layer's states, h0[t,j] (h0_l1[t,j]; past
        hidden_size, the reverse direction's, h0_l1_reverse[t,j − hidden_size])."""
        top = [c for c in self.cells if c.layer == self.cells[-1].layer]

        def named(index: tuple[int, ...]) -> str:
            t, j = index
            cell = top[j // self.hidden]
            return entry(head("h", name) + cell.suffix, (t, j % self.hidden))

        return named

    def forward(self, x: Array, carry: Carry) -> tuple[Array, dict[str, Any]]:
        """Each cell's net and h at every step, layer by layer. The cache also takes what
        `backward` works out (δh, δnet), which the rows read."""
        steps, hidden = len(x), self.hidden
        cache: dict[str, Any] = {"cells": []}  # a cell's input, net and h, in torch's order
        below = x
        for layer in range(self.cells[-1].layer + 1):
            outs = []
            for cell in (c for c in self.cells if c.layer == layer):
                w_ih, w_hh = self.arrays[cell.key("weight_ih")], self.arrays[cell.key("weight_hh")]
                nets, hs = np.zeros((steps, hidden)), np.zeros((steps, hidden))
                h0 = self.initial(cell)
                state = np.zeros(hidden) if h0 is None else h0
                biases = (
                    (self.arrays[cell.key("bias_ih")], self.arrays[cell.key("bias_hh")])
                    if self.biased
                    else ()
                )
                for t in cell.order(steps):
                    if getattr(carry, "hand", False):  # added up from the row's numbers
                        net = np.array(
                            [
                                exact(
                                    [*zip(w_ih[j], below[t]), *zip(w_hh[j], state)],
                                    [b[j] for b in biases],
                                )
                                for j in range(hidden)
                            ]
                        )
                    else:
                        net = w_ih @ below[t] + w_hh @ state
                        for b in biases:
                            net = net + b
                    nets[t] = carry(net)
                    out, _ = self.function.apply(nets[t].reshape(1, -1), carry)
                    hs[t] = state = out.reshape(-1)
                cache["cells"].append({"x": below, "net": nets, "h": hs})
                outs.append(hs)
            below = np.concatenate(outs, axis=1) if len(outs) > 1 else outs[0]
            if self.keep is not None and layer < self.cells[-1].layer:  # what l + 1 reads
                below = carry(below * self.keep[layer] * self.scale)
        return below, cache

    def backward(
        self, cache: dict[str, Any], upstream: Array, carry: Carry, below: bool = True
    ) -> tuple[Array | None, dict[str, Array]]:
        """Back through time, the top layer first: δh[t] = δ[t] + w_hhᵀ·δnet[t+1] (δ[t]: what
        comes from above, the next layer's Σ w_ihᵀ·δnet[t], through its dropout mask
        m·δh̃[t]/(1 − p) where it has one), δnet[t] = f′·δh[t]; the gradients −∂E/∂θ each a
        sum over the steps; the δ of x[t] = Σ w_ihᵀ·δnet[t]."""
        f, hidden, steps = self.function, self.hidden, len(upstream)
        grads: dict[str, Array] = {}
        above = upstream  # the top layer's δ from above: the layer above the rnn's
        for layer in range(self.cells[-1].layer, -1, -1):
            own = [(n, c) for n, c in enumerate(self.cells) if c.layer == layer]
            sent = np.zeros_like(cache["cells"][own[0][0]]["x"])  # the δ of this layer's x
            for d, (n, cell) in enumerate(own):
                kept = cache["cells"][n]
                nets, hs = kept["net"], kept["h"]
                if getattr(carry, "hand", False):  # f′ as its row writes it, brackets rounded
                    slopes = worked(carry, f.slope, True, o=hs, net=nets)  # type: ignore[arg-type]
                else:
                    slopes = f.derivative(nets, hs)
                w_ih, w_hh = self.arrays[cell.key("weight_ih")], self.arrays[cell.key("weight_hh")]
                dh, dnet = np.zeros_like(hs), np.zeros_like(hs)
                for t in reversed(cell.order(steps)):
                    after = cell.after(t)
                    back = w_hh.T @ dnet[after] if 0 <= after < steps else 0.0
                    dh[t] = carry(above[t, d * hidden : (d + 1) * hidden] + back)
                    dnet[t] = carry(slopes[t] * dh[t])
                kept["δh"], kept["δnet"] = dh, dnet
                h0 = self.initial(cell)
                if h0 is not None:  # what reaches the given h0 at the first step: −h0.grad
                    kept["δh0"] = carry(w_hh.T @ dnet[cell.order(steps)[0]])
                # not carried: the engine carries a sample's or a batch's
                grads[cell.key("weight_ih")] = dnet.T @ kept["x"]
                grads[cell.key("weight_hh")] = _recurrent(cell, dnet, hs, h0)
                if self.biased:
                    total = dnet.sum(axis=0)
                    grads |= {cell.key("bias_ih"): total, cell.key("bias_hh"): total.copy()}
                sent = sent + dnet @ w_ih
            # the layer below's δ from above: its row sums it, unrounded here; through the
            # dropout between them, m·δh̃/(1 − p), δh̃ (the δ of what this layer read) a row
            above = sent
            if self.keep is not None and layer:
                dropped = carry(sent)
                lower = [n for n, c in enumerate(self.cells) if c.layer == layer - 1]
                for d, n in enumerate(lower):  # each direction's columns, its rows read them
                    cache["cells"][n]["δh̃"] = dropped[:, d * hidden : (d + 1) * hidden]
                above = dropped * self.keep[layer - 1] * self.scale
        ordered = {key: grads[key] for key in self.arrays}
        return (carry(sent) if below else None), ordered

    # ------------------------------------------------------------ its rows (rnn_rows.py)

    def forward_rows(self, view: ModelView, p: int) -> list[Section]:
        return rnn_rows.forward_rows(view, p)

    def delta_rows(self, view: ModelView, p: int) -> list[Section]:
        return rnn_rows.delta_rows(view, p)

    def gradient_terms(self, view: ModelView, p: int) -> list[tuple[Any, ...]]:
        return rnn_rows.gradient_terms(view, p)

    GRADIENT_RULE = rnn_rows.GRADIENT_RULE

    def gradient_rule(self) -> str:
        """GRADIENT_RULE, or, with stacked layers, two directions or a given h0, its own."""
        return rnn_rows.gradient_rule(self)


def _recurrent(cell: Cell, dnet: Array, hs: Array, h0: Array | None) -> Array:
    """Σ_t δnet[t] ⊗ h[before t], w_hh's gradient: the first step's term only where the
    state before it is given (otherwise it is 0, and not written)."""
    if cell.reverse:  # the state before step t is h[t+1]; the first step is the last
        grad, first = dnet[:-1].T @ hs[1:], -1
    else:
        grad, first = dnet[1:].T @ hs[:-1], 0
    return grad if h0 is None else grad + np.outer(dnet[first], h0)
