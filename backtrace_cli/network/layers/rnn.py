"""torch's `nn.RNN` in a `model:` (one layer, one direction, one sequence without a batch
dimension, as torch's unbatched input (L, H_in)): for each time step t, from the state 0,

    net[t,j] = Σ_i w_ih[j,i]·x[t,i] + b_ih[j] + Σ_k w_hh[j,k]·h[t−1,k] + b_hh[j]
    h[t,j]   = f(net[t,j])                       (f: tanh or relu, torch's nonlinearity)

and it gives every h_t, [T][hidden_size]. Parameters under torch's state-dict names:
weight_ih_l0 [hidden][input], weight_hh_l0 [hidden][hidden], bias_ih_l0, bias_hh_l0.

Backward through time, from the last step down: the δ of h_t is what the layer above sends at
step t plus what comes back from step t+1 through w_hh,

    δh[t,j] = δ[t,j] + Σ_k w_hh[k,j]·δnet[t+1,k],      δnet[t,j] = f′·δh[t,j]

and each weight, shared by every step, has its gradient summed over the steps."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from ...definitions import activations
from ...worked import Section
from ..hand import worked
from .activation import written_pieces
from .tensor import TORCH_NAMES, ModelView, entry, head, products, row, summed, template_pieces

if TYPE_CHECKING:
    import numpy.typing as npt

    from ..model_spec import LayerSpec

    Array = npt.NDArray[np.float64]
    Carry = Callable[[Array], Array]

ARGUMENTS: tuple[tuple[str, Any], ...] = (
    ("input_size", None),
    ("hidden_size", None),
    ("nonlinearity", "tanh"),
    ("bias", True),
)
CHOICES = {"nonlinearity": ("tanh", "relu")}  # an argument that is a word: its valid words
# the trace's letter of each parameter (its state-dict key): w_ih0[j,i], b_hh0[j]
LETTERS = {
    "weight_ih_l0": "w_ih",
    "weight_hh_l0": "w_hh",
    "bias_ih_l0": "b_ih",
    "bias_hh_l0": "b_hh",
}


def shape(arguments: dict[str, Any], shape_in: tuple[int, ...]) -> tuple[int, ...] | str:
    n = arguments["input_size"]
    if len(shape_in) != 2 or shape_in[1] != n:
        got = "×".join(map(str, shape_in)) if len(shape_in) > 1 else f"a vector of {shape_in[0]}"
        return f"takes a sequence, steps × {n} (input_size), and gets {got}"
    return (shape_in[0], arguments["hidden_size"])


def parameter_shapes(arguments: dict[str, Any]) -> dict[str, tuple[int, ...]]:
    hidden, given = arguments["hidden_size"], arguments["input_size"]
    out = {"weight_ih_l0": (hidden, given), "weight_hh_l0": (hidden, hidden)}
    if arguments["bias"]:
        out |= {"bias_ih_l0": (hidden,), "bias_hh_l0": (hidden,)}
    return out


def written(arguments: dict[str, Any]) -> str:
    """ "1→2, tanh", "2→3, relu, no bias"."""
    text = f"{arguments['input_size']}→{arguments['hidden_size']}, {arguments['nonlinearity']}"
    return text + ("" if arguments["bias"] else ", no bias")


# what a homework question asks of this layer: in the forward pass, going back, in the gradients
# (`model_statement`); "" where nothing more than "every layer" is asked
ASKED = (
    "an rnn step by step: each h_t from the input and the previous state",
    "an rnn back through time",
    "an rnn's shared weights summed over the steps",
)


class Rnn(NamedTuple):
    spec: LayerSpec
    weight_ih: Array
    weight_hh: Array
    bias_ih: Array | None
    bias_hh: Array | None
    kind = "rnn"
    letter = "h"  # its outputs are the hidden states h0[t,j]
    NAMES = TORCH_NAMES  # torch's names: no book renames a model's tensors

    @classmethod
    def built(cls, spec: LayerSpec, values: dict[str, Array], *_: Any) -> Rnn:
        """The layer from the model's parameters by state-dict name."""
        own = {key: values.get(f"{spec.name}.{key}") for key in LETTERS}
        return cls(spec, *own.values())  # type: ignore[arg-type]

    @property
    def parameters(self) -> dict[str, Array]:
        arrays = (self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return {key: a for key, a in zip(LETTERS, arrays) if a is not None}

    @property
    def function(self) -> activations.Activation:
        return activations.get(str(self.spec.argument("nonlinearity")))

    def forward(self, x: Array, carry: Carry) -> tuple[Array, dict[str, Array]]:
        """Each step's net and h, the state before the first step 0. The cache also takes
        what `backward` works out (δh, δnet), which the rows read."""
        steps, hidden = len(x), self.weight_hh.shape[0]
        nets, hs = np.zeros((steps, hidden)), np.zeros((steps, hidden))
        state = np.zeros(hidden)
        for t in range(steps):
            net = self.weight_ih @ x[t] + self.weight_hh @ state
            if self.bias_ih is not None and self.bias_hh is not None:
                net = net + self.bias_ih + self.bias_hh
            nets[t] = carry(net)
            out, _ = self.function.apply(nets[t].reshape(1, -1), carry)
            hs[t] = state = out.reshape(-1)
        return hs, {"x": x, "net": nets, "h": hs}

    def backward(
        self, cache: dict[str, Array], upstream: Array, carry: Carry, below: bool = True
    ) -> tuple[Array | None, dict[str, Array]]:
        """Back through time: δh[t] = δ[t] + w_hhᵀ·δnet[t+1], δnet[t] = f′·δh[t]; the
        gradients −∂E/∂θ each a sum over the steps; the δ of x[t] = w_ihᵀ·δnet[t]."""
        x, nets, hs = cache["x"], cache["net"], cache["h"]
        f = self.function
        if getattr(carry, "hand", False):  # f′ as its row writes it, each bracket rounded
            slopes = worked(carry, f.slope, True, o=hs, net=nets)  # type: ignore[arg-type]
        else:
            slopes = f.derivative(nets, hs)
        dh, dnet = np.zeros_like(hs), np.zeros_like(hs)
        for t in range(len(hs) - 1, -1, -1):
            back = self.weight_hh.T @ dnet[t + 1] if t + 1 < len(hs) else 0.0
            dh[t] = carry(upstream[t] + back)
            dnet[t] = carry(slopes[t] * dh[t])
        cache["δh"], cache["δnet"] = dh, dnet
        grads = {  # not carried: the engine carries a sample's or a batch's
            "weight_ih_l0": dnet.T @ x,
            "weight_hh_l0": dnet[1:].T @ hs[:-1],
        }
        if self.bias_ih is not None:
            total = dnet.sum(axis=0)
            grads |= {"bias_ih_l0": total, "bias_hh_l0": total.copy()}
        return (carry(dnet @ self.weight_ih) if below else None), grads

    # ------------------------------------------------------------ its rows

    @staticmethod
    def operands(view: ModelView, p: int) -> dict[str, Callable[..., tuple[str, float]]]:
        """Each quantity a row reads as (name, value) by its index: the input x[t,i], the
        state h0[t,j], the δ from above δ0[t,j], its own net0[t,j], δh0[t,j], δnet0[t,j] and
        parameters w_ih0[j,i], w_hh0[j,k], b_ih0[j], b_hh0[j]."""
        layer: Rnn = view.layers[p]
        name, cache = view.spec.layers[p].name, view.caches[p]

        def named(names: Callable[[tuple[int, ...]], str], values: Any) -> Any:
            return lambda *index: (names(index), values[index])

        def own(key: str) -> Callable[[tuple[int, ...]], str]:
            return lambda index: entry(head(key, name), index)

        out = {
            "x": named(view.name(p - 1), view.inputs[p]),
            "h": named(view.name(p), view.outputs[p]),
            "δ": named(view.delta(p), view.deltas[p]),
            **{key: named(own(key), cache[key]) for key in ("net", "δh", "δnet")},
        }
        for key, value in layer.parameters.items():
            out[LETTERS[key]] = named(view.parameter(p, LETTERS[key]), value)
        return out

    @staticmethod
    def forward_rows(view: ModelView, p: int) -> list[Section]:
        layer: Rnn = view.layers[p]
        steps, hidden = view.outputs[p].shape
        inputs = view.inputs[p].shape[1]
        o = Rnn.operands(view, p)
        f = layer.function
        name, biased = view.spec.layers[p].name, layer.bias_ih is not None
        sections = []
        for t in range(steps):
            rows = []
            for j in range(hidden):
                pieces = products([(o["w_ih"](j, i), o["x"](t, i)) for i in range(inputs)])
                if biased:
                    pieces += [" + ", o["b_ih"](j)]
                if t:
                    back = [(o["w_hh"](j, k), o["h"](t - 1, k)) for k in range(hidden)]
                    pieces += [" + ", *products(back)]
                if biased:
                    pieces += [" + ", o["b_hh"](j)]
                net = o["net"](t, j)
                rows.append(row(net[0], pieces, net[1]))
            for j in range(hidden):
                text, latex = written_pieces(f, o["net"](t, j))
                h = o["h"](t, j)
                rows.append(row(h[0], text, h[1], latex=latex))
            sections.append(
                Section(
                    "forward",
                    f"Forward · layer {name} (rnn, {f.name}) · step t = {t}",
                    _forward_rule(t, biased, f.output),
                    tuple(rows),
                )
            )
        return sections

    @staticmethod
    def delta_rows(view: ModelView, p: int) -> list[Section]:
        layer: Rnn = view.layers[p]
        steps, hidden = view.outputs[p].shape
        inputs = view.inputs[p].shape[1]
        o = Rnn.operands(view, p)
        f = layer.function
        name = view.spec.layers[p].name
        # above is `last`: only the last step gets a δ from it (the others' is 0, left out)
        only_last = p + 1 < len(view.layers) and getattr(view.layers[p + 1], "only_last", False)
        sent, below = view.sent[p], view.delta(p - 1)
        slope = f.slope.replace("{o}", "h").replace("{net}", "net")  # (1 − h²), [net > 0]
        sections = []
        for t in range(steps - 1, -1, -1):
            rows = []
            for j in range(hidden):
                pieces: list[Any] = [] if only_last and t < steps - 1 else [o["δ"](t, j)]
                if t + 1 < steps:
                    back = [(o["w_hh"](k, j), o["δnet"](t + 1, k)) for k in range(hidden)]
                    pieces += ([" + "] if pieces else []) + products(back)
                dh = o["δh"](t, j)
                rows.append(row(dh[0], pieces, dh[1]))
            for j in range(hidden):
                slots = {"o": o["h"](t, j), "net": o["net"](t, j)}
                dnet = o["δnet"](t, j)
                pieces = [*template_pieces(f.slope, slots), "·", o["δh"](t, j)]
                rows.append(row(dnet[0], pieces, dnet[1]))
            if sent is not None:
                for i in range(inputs):
                    pairs = [(o["w_ih"](j, i), o["δnet"](t, j)) for j in range(hidden)]
                    rows.append(row(below((t, i)), products(pairs), sent[t, i]))
            sections.append(
                Section(
                    "delta",
                    f"δ · back through time · layer {name} (rnn) · step t = {t}",
                    _delta_rule(t, steps, only_last, slope, sent is not None),
                    tuple(rows),
                )
            )
        return sections

    GRADIENT_RULE = (
        "each weight is shared by every step: its gradient is a sum over the steps, "
        "∂E/∂w_ih[j,i] = −Σ_t δnet[t,j]·x[t,i], ∂E/∂w_hh[j,k] = −Σ_t δnet[t,j]·h[t−1,k] "
        "(from t = 1: the state before t = 0 is 0), ∂E/∂b_ih[j] = ∂E/∂b_hh[j] = −Σ_t δnet[t,j]"
    )

    @staticmethod
    def gradient_terms(view: ModelView, p: int) -> list[tuple[Any, ...]]:
        """Each parameter entry's −∂E/∂θ as its row writes it: a sum over the steps."""
        layer: Rnn = view.layers[p]
        steps, hidden = view.outputs[p].shape
        o = Rnn.operands(view, p)
        d = o["δnet"]
        out = []
        last = steps - 1  # BPTT truncated: only the last step's term, δnet[T−1] unchanged

        def truncated(pairs: list[Any]) -> tuple[tuple[str, list[Any]], ...]:
            # a slip only where the sum has more than the last step's term
            return ((TRUNCATED, products(pairs[-1:])),) if len(pairs) > 1 else ()

        for j, i in np.ndindex(*layer.weight_ih.shape):
            pairs = [(d(t, j), o["x"](t, i)) for t in range(steps)]
            out.append(("weight_ih_l0", (j, i), products(pairs), truncated(pairs)))
        for j, k in np.ndindex(hidden, hidden):
            pairs = [(d(t, j), o["h"](t - 1, k)) for t in range(1, steps)]
            out.append(("weight_hh_l0", (j, k), products(pairs), truncated(pairs)))
        if layer.bias_ih is not None:
            for key in ("bias_ih_l0", "bias_hh_l0"):
                for j in range(hidden):
                    alone = ((TRUNCATED, summed([d(last, j)])),) if steps > 1 else ()
                    out.append((key, (j,), summed([d(t, j) for t in range(steps)]), alone))
        return out


TRUNCATED = (
    "backpropagation through time truncated to the last step (a shared weight's gradient with "
    "only step T's term, not summed over the steps)"
)


def _forward_rule(t: int, biased: bool, output: str) -> str:
    h = f"h[{t},j] = {output.replace('{net}', f'net[{t},j]')}"
    if not t:
        bias = " + b_ih[j] + b_hh[j]" if biased else ""
        return (
            f"net[0,j] = Σ_i w_ih[j,i]·x[0,i]{bias} (the state before the first step is 0: "
            f"no w_hh terms), {h}"
        )
    b_ih, b_hh = (" + b_ih[j]", " + b_hh[j]") if biased else ("", "")
    return f"net[{t},j] = Σ_i w_ih[j,i]·x[{t},i]{b_ih} + Σ_k w_hh[j,k]·h[{t - 1},k]{b_hh}, {h}"


def _delta_rule(t: int, steps: int, only_last: bool, slope: str, sent: bool) -> str:
    if t == steps - 1:
        came = "from the layer above (it keeps this step)" if only_last else "from above"
        rule = f"the last step: δh[{t},j] = δ[{t},j], {came}"
    else:
        above = "" if only_last else f"δ[{t},j] from above + "
        rule = f"δh[{t},j] = {above}Σ_k w_hh[k,j]·δnet[{t + 1},k], back from step {t + 1}"
    rule += f"; δnet[{t},j] = f′·δh[{t},j], f′ = {slope}"
    if sent:
        rule += f"; δx[{t},i] = Σ_j w_ih[j,i]·δnet[{t},j]"
    return rule
