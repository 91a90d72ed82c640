"""An rnn's rows (`rnn.py` computes them): each step's net and h forward, layer by layer and
direction by direction; backwards in time the δ of each state, from above and from the step
after; each shared weight's gradient as its sum over the steps.

Its tensors are named as torch's state dict names them: one layer, one direction writes
`h0[t,j]`, `w_hh0[j,k]`; stacked layers and directions add torch's suffix, `h0_l1[t,j]`,
`w_ih0_l0_reverse[j,i]` (a `cell`: one direction of one layer). The state before the first step,
when `h0` gives it, is `h0[−1,k]` (`h0_l0_reverse[T,k]` in reverse: its first step is the last)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from ...worked import Section
from .activation import written_pieces
from .dropout_rows import dropout_factor
from .tensor import ModelView, entry, head, products, row, summed, template_pieces
from .tensor_dropout import UNSCALED

TRUNCATED = (
    "backpropagation through time truncated to the last step (a shared weight's gradient with "
    "only step T's term, not summed over the steps)"
)


class Cell(NamedTuple):
    """One direction of one of torch's stacked layers."""

    layer: int  # torch's l: weight_ih_l1
    reverse: bool  # torch's _reverse: from the last step to the first
    count: int  # its place in torch's order: its row of h0
    suffix: str  # its names' suffix: "" (one layer, one direction), "_l1", "_l0_reverse"

    def key(self, start: str) -> str:
        """Its parameter's state-dict key: "weight_ih" → "weight_ih_l1_reverse"."""
        return f"{start}_l{self.layer}" + ("_reverse" if self.reverse else "")

    def order(self, steps: int) -> range:
        """Its steps in the order it runs them."""
        return range(steps - 1, -1, -1) if self.reverse else range(steps)

    def before(self, t: int) -> int:
        """The step whose state step t reads (−1 or T: the state before the first, h0)."""
        return t + 1 if self.reverse else t - 1

    def after(self, t: int) -> int:
        """The step that reads step t's state."""
        return t - 1 if self.reverse else t + 1

    @property
    def label(self) -> str:
        return f"l{self.layer}" + (" reverse" if self.reverse else "")


def directions(arguments: dict[str, Any]) -> int:
    return 2 if arguments.get("bidirectional") else 1


def cells(arguments: dict[str, Any]) -> tuple[Cell, ...]:
    """Its cells in torch's order: l0, l0_reverse, l1, …"""
    layers, two = int(arguments.get("num_layers", 1)), directions(arguments) == 2
    out: list[Cell] = []
    for layer in range(layers):
        for reverse in (False, True) if two else (False,):
            alone = layers == 1 and not two
            suffix = "" if alone else f"_l{layer}" + ("_reverse" if reverse else "")
            out.append(Cell(layer, reverse, len(out), suffix))
    return tuple(out)


def named(letter: str, layer: str, cell: Cell) -> str:
    """A cell's tensor's name without its index: "h", layer "0", l1 → "h0_l1"."""
    return head(letter, layer) + cell.suffix


def operands(view: ModelView, p: int, n: int) -> dict[str, Callable[..., tuple[str, float]]]:
    """Each quantity cell n's rows read as (name, value) by its index: its input x[t,i] (the
    layer below's states h0_l0[t,i] above l0), its state h0[t,j] (the given h0 before its
    first step), the δ from above δ0[t,j], its own net, δh, δnet and parameters w_ih0[j,i],
    w_hh0[j,k], b_ih0[j], b_hh0[j]."""
    layer = view.layers[p]
    cell = layer.cells[n]
    name, kept = view.spec.layers[p].name, view.caches[p]["cells"][n]
    hidden, steps = layer.hidden, len(view.inputs[p])
    h0 = layer.initial(cell)

    def own(letter: str, values: Any) -> Callable[..., tuple[str, float]]:
        return lambda *index: (entry(named(letter, name, cell), index), values[index])

    def state(t: int, k: int) -> tuple[str, float]:
        value = kept["h"][t, k] if 0 <= t < steps else h0[k]  # type: ignore[index]
        return (entry(named("h", name, cell), (t, k)), value)

    out = {
        "h": state,
        **{key: own(key, kept[key]) for key in ("net", "δh", "δnet")},
        **{letter: own(letter, layer.arrays[cell.key(start)]) for start, letter in _PARAMETERS},
    }
    if layer.biased:
        out |= {letter: own(letter, layer.arrays[cell.key(start)]) for start, letter in _BIASES}
    if cell.layer == 0:
        out["x"] = lambda *index: (view.name(p - 1)(index), view.inputs[p][index])
    else:
        below = [m for m, c in enumerate(layer.cells) if c.layer == cell.layer - 1]

        letter = "h" if layer.keep is None else "h̃"  # through the dropout between the layers

        def x(t: int, i: int) -> tuple[str, float]:
            m = below[i // hidden]
            value = kept["x"][t, i]
            return (entry(named(letter, name, layer.cells[m]), (t, i % hidden)), value)

        out["x"] = x
    shift = hidden if cell.reverse else 0  # the reverse direction's outputs follow the forward's
    out["δ"] = lambda t, j: (view.delta(p)((t, shift + j)), view.deltas[p][t, shift + j])
    if layer.keep is not None and cell.layer < layer.cells[-1].layer:  # its dropout mask
        mask = layer.keep[cell.layer][:, shift : shift + hidden]
        out["m"] = own("m", mask)
        if "δh̃" in kept:  # the δ of what the layer above read (a backward's view)
            out["δh̃"] = own("δh̃", kept["δh̃"])
    return out


_PARAMETERS = (("weight_ih", "w_ih"), ("weight_hh", "w_hh"))
_BIASES = (("bias_ih", "b_ih"), ("bias_hh", "b_hh"))


def _title(view: ModelView, p: int, what: str, cell: Cell, t: int) -> str:
    alone = len(view.layers[p].cells) == 1
    return f"{what}{'' if alone else f' · {cell.label}'} · step t = {t}"


def _inputs(view: ModelView, p: int, cell: Cell) -> tuple[int, str, str]:
    """How many inputs the cell reads at a step, their name in its rules, and a note on them
    (above a bidirectional layer: both its directions' states, one after the other)."""
    layer = view.layers[p]
    if cell.layer == 0:
        return view.inputs[p].shape[1], "x", ""
    below = ("h" if layer.keep is None else "h̃") + f"_l{cell.layer - 1}"
    if layer.spec.argument("bidirectional"):
        note = f" (i from {layer.hidden}: {below}_reverse[{{t}},i − {layer.hidden}])"
        return 2 * layer.hidden, below, note
    return layer.hidden, below, ""


def forward_rows(view: ModelView, p: int) -> list[Section]:
    layer = view.layers[p]
    hidden, steps = layer.hidden, len(view.inputs[p])
    f, name = layer.function, view.spec.layers[p].name
    sections = []
    for n, cell in enumerate(layer.cells):
        o = operands(view, p, n)
        inputs, x, note = _inputs(view, p, cell)
        given = layer.initial(cell) is not None
        for t in cell.order(steps):
            rows = []
            before = cell.before(t)
            for j in range(hidden):
                pieces = products([(o["w_ih"](j, i), o["x"](t, i)) for i in range(inputs)])
                if layer.biased:
                    pieces += [" + ", o["b_ih"](j)]
                if given or 0 <= before < steps:
                    back = [(o["w_hh"](j, k), o["h"](before, k)) for k in range(hidden)]
                    pieces += [" + ", *products(back)]
                if layer.biased:
                    pieces += [" + ", o["b_hh"](j)]
                net = o["net"](t, j)
                rows.append(row(net[0], pieces, net[1]))
            for j in range(hidden):
                text, latex = written_pieces(f, o["net"](t, j))
                h = o["h"](t, j)
                rows.append(row(h[0], text, h[1], latex=latex))
            what = f"Forward · layer {name} (rnn, {f.name})"
            inputs_rule = f"{x}[{t},i]" + note.replace("{t}", str(t))
            rule = _forward_rule(cell, t, steps, given, layer.biased, f.output, inputs_rule)
            sections.append(Section("forward", _title(view, p, what, cell, t), rule, tuple(rows)))
        last_of_its_layer = n + 1 == len(layer.cells) or layer.cells[n + 1].layer != cell.layer
        if layer.keep is not None and last_of_its_layer and cell.layer < layer.cells[-1].layer:
            sections.append(_dropped_section(view, p, cell.layer))
    return sections


def _dropped_section(view: ModelView, p: int, stacked: int) -> Section:
    """Layer `stacked`'s states through the dropout mask before the layer above reads them:
    h̃[t,j] = m[t,j]·h[t,j]/(1 − p), both directions', a step at a time."""
    layer = view.layers[p]
    rate, name = float(layer.spec.argument("dropout")), view.spec.layers[p].name
    factor = dropout_factor(rate)
    own = [n for n, c in enumerate(layer.cells) if c.layer == stacked]
    above = next(n for n, c in enumerate(layer.cells) if c.layer == stacked + 1)
    dropped_values = view.caches[p]["cells"][above]["x"]  # what the layer above reads
    rows = []
    for d, n in enumerate(own):
        cell, o = layer.cells[n], operands(view, p, n)
        for t in cell.order(len(view.inputs[p])):
            for j in range(layer.hidden):
                mask, h = o["m"](t, j), o["h"](t, j)
                dropped = (
                    entry(named("h̃", name, cell), (t, j)),
                    dropped_values[t, d * layer.hidden + j],
                )
                unscaled = ((UNSCALED, [mask, "·", h]),)
                note = "" if mask[1] else "dropped"
                rows.append(
                    row(dropped[0], [mask, "·", h, factor], dropped[1], note, slips=unscaled)
                )
    keep = layer.keep[stacked]
    s = f"_l{stacked}"
    rule = (
        f"each state l{stacked + 1} reads, h̃{s}[t,j] = m{s}[t,j]·h{s}[t,j]{factor}, the mask 1 "
        f"to keep it, 0 to drop it (torch's dropout p = {rate:g} between stacked layers; the "
        "kept scaled by 1/(1 − p))"
    )
    note = f"{int(np.sum(keep == 0))} of {keep.size} states dropped"
    title = f"Dropout · layer {name} (rnn) · l{stacked} → l{stacked + 1}, p = {rate:g}"
    return Section("forward", title, rule, tuple(rows), note=note)


def delta_rows(view: ModelView, p: int) -> list[Section]:
    layer = view.layers[p]
    hidden, steps = layer.hidden, len(view.inputs[p])
    f, name = layer.function, view.spec.layers[p].name
    rate = float(layer.spec.argument("dropout"))
    # above is `last`: only the last step gets a δ from it (the others' is 0, left out)
    only_last = p + 1 < len(view.layers) and getattr(view.layers[p + 1], "only_last", False)
    sent, below = view.sent[p], view.delta(p - 1)
    slope = f.slope.replace("{o}", "h").replace("{net}", "net")  # (1 − h²), [net > 0]
    top = layer.cells[-1].layer
    bottom = [n for n, c in enumerate(layer.cells) if c.layer == 0]
    firsts = [operands(view, p, m) for m in bottom]  # what δx reads: l0's, both directions
    sections = []
    for stacked in range(top, -1, -1):
        own = [n for n, c in enumerate(layer.cells) if c.layer == stacked]
        ups = [operands(view, p, m) for m, c in enumerate(layer.cells) if c.layer == stacked + 1]
        for d, n in enumerate(own):
            cell, o = layer.cells[n], operands(view, p, n)
            for t in reversed(cell.order(steps)):
                rows, received = [], []  # received: the δ of what the layer above read
                after = cell.after(t)
                from_above = stacked < top or not (only_last and t < steps - 1)
                for j in range(hidden):
                    pieces: list[Any] = []
                    if stacked == top and from_above:
                        pieces = [o["δ"](t, j)]
                    for u in ups:  # the next layer's inputs: this one's states, both directions
                        pairs = [
                            (u["w_ih"](k, d * hidden + j), u["δnet"](t, k)) for k in range(hidden)
                        ]
                        pieces += ([" + "] if pieces else []) + products(pairs)
                    note = ""
                    if ups and "m" in o:  # through the dropout mask between the layers
                        dropped = o["δh̃"](t, j)
                        received.append(row(dropped[0], pieces, dropped[1]))
                        pieces = [o["m"](t, j), "·", dropped, dropout_factor(rate)]
                        note = "" if o["m"](t, j)[1] else "dropped: nothing from above"
                    if 0 <= after < steps:
                        back = [(o["w_hh"](k, j), o["δnet"](after, k)) for k in range(hidden)]
                        pieces += ([" + "] if pieces else []) + products(back)
                    dh = o["δh"](t, j)
                    rows.append(row(dh[0], pieces or ["0"], dh[1], note))
                rows = [*received, *rows]
                for j in range(hidden):
                    slots = {"o": o["h"](t, j), "net": o["net"](t, j)}
                    dnet = o["δnet"](t, j)
                    pieces = [*template_pieces(f.slope, slots), "·", o["δh"](t, j)]
                    rows.append(row(dnet[0], pieces, dnet[1]))
                sends = sent is not None and n == bottom[-1]  # δx once both directions have it
                if sends:
                    for i in range(view.inputs[p].shape[1]):
                        pairs = [
                            (q["w_ih"](j, i), q["δnet"](t, j))
                            for q in firsts
                            for j in range(hidden)
                        ]
                        rows.append(row(below((t, i)), products(pairs), sent[t, i]))  # type: ignore[index]
                came = _from_above(layer, cell, t, stacked == top, from_above, only_last)
                rule = _delta_rule(
                    cell, t, steps, came, slope, _sent_rule(layer, t) if sends else ""
                )
                what = f"δ · back through time · layer {name} (rnn)"
                sections.append(Section("delta", _title(view, p, what, cell, t), rule, tuple(rows)))
            if layer.initial(cell) is not None:
                sections.append(_initial_section(view, p, n, o))
    return sections


def _initial_section(view: ModelView, p: int, n: int, o: dict[str, Any]) -> Section:
    """The δ of cell n's given initial state: what reaches it through w_hh at the cell's first
    step, δh[−1,j] = Σ_k w_hh[k,j]·δnet[0,k] (in reverse h[T,j], from step T − 1) — torch's
    h0.grad with the lecture's sign. No update: h0 is an input, as torch's."""
    layer = view.layers[p]
    cell, hidden, steps = layer.cells[n], layer.hidden, len(view.inputs[p])
    first, before = cell.order(steps)[0], cell.before(cell.order(steps)[0])
    name = view.spec.layers[p].name
    values = view.caches[p]["cells"][n]["δh0"]
    rows = []
    for j in range(hidden):
        back = [(o["w_hh"](k, j), o["δnet"](first, k)) for k in range(hidden)]
        rows.append(row(entry(named("δh", name, cell), (before, j)), products(back), values[j]))
    s = cell.suffix
    rule = (
        f"δh{s}[{before},j] = Σ_k w_hh{s}[k,j]·δnet{s}[{first},k]: what reaches the given h0 "
        f"through w_hh{s} at step {first}, the first (torch's h0.grad = −δh{s}[{before},j]); h0 is "
        "an input, not a parameter: no update"
    )
    alone = len(layer.cells) == 1
    title = f"δ · the initial state h0 · layer {name} (rnn){'' if alone else f' · {cell.label}'}"
    return Section("delta", title, rule, tuple(rows))


GRADIENT_RULE = (
    "each weight is shared by every step: its gradient is a sum over the steps, "
    "∂E/∂w_ih[j,i] = −Σ_t δnet[t,j]·x[t,i], ∂E/∂w_hh[j,k] = −Σ_t δnet[t,j]·h[t−1,k] "
    "(from t = 1: the state before t = 0 is 0), ∂E/∂b_ih[j] = ∂E/∂b_hh[j] = −Σ_t δnet[t,j]"
)


def gradient_rule(layer: Any) -> str:
    """The rule of its gradients' section: GRADIENT_RULE for one layer, one direction, from
    the state 0; with stacked layers, a reverse direction or a given h0, said so."""
    given = layer.spec.argument("h0") is not None
    if len(layer.cells) == 1 and not given:
        return GRADIENT_RULE
    state = (
        "h[−1,k] is h0, given, at the first step"
        if given
        else "from t = 1: the state before t = 0 is 0"
    )
    if layer.spec.argument("bidirectional"):
        state += "; in reverse h[t+1,k], the first step the last"
    rule = GRADIENT_RULE.replace("(from t = 1: the state before t = 0 is 0)", f"({state})")
    if layer.cells[-1].layer > 0:
        rule = rule.replace("·x[t,i],", "·x[t,i] (above l0, x is the states of the layer below),")
    if len(layer.cells) > 1:
        rule += "; each of torch's layers (_l0, _l1, …) and directions (_reverse) has its own"
    return rule


def gradient_terms(view: ModelView, p: int) -> list[tuple[Any, ...]]:
    """Each parameter entry's −∂E/∂θ as its row writes it: a sum over the steps, with the
    slip of keeping only the last step's term (the last the cell runs)."""
    layer = view.layers[p]
    hidden, steps = layer.hidden, len(view.inputs[p])
    out = []
    for n, cell in enumerate(layer.cells):
        o = operands(view, p, n)
        d = o["δnet"]
        inputs, _, _ = _inputs(view, p, cell)
        last = cell.order(steps)[-1]  # BPTT truncated: only its term, δnet[last] unchanged
        given = layer.initial(cell) is not None
        used = [t for t in range(steps) if given or 0 <= cell.before(t) < steps]

        def truncated(terms: dict[int, Any], last: int = last) -> tuple[tuple[str, list[Any]], ...]:
            # a slip only where the sum has more than the last step's term
            return ((TRUNCATED, products([terms[last]])),) if len(terms) > 1 else ()

        for j, i in ((j, i) for j in range(hidden) for i in range(inputs)):
            terms = {t: (d(t, j), o["x"](t, i)) for t in range(steps)}
            out.append(
                (cell.key("weight_ih"), (j, i), products([*terms.values()]), truncated(terms))
            )
        for j, k in ((j, k) for j in range(hidden) for k in range(hidden)):
            terms = {t: (d(t, j), o["h"](cell.before(t), k)) for t in used}
            out.append(
                (cell.key("weight_hh"), (j, k), products([*terms.values()]), truncated(terms))
            )
        if layer.biased:
            for start in ("bias_ih", "bias_hh"):
                for j in range(hidden):
                    alone = ((TRUNCATED, summed([d(last, j)])),) if steps > 1 else ()
                    out.append(
                        (cell.key(start), (j,), summed([d(t, j) for t in range(steps)]), alone)
                    )
    return out


def _forward_rule(
    cell: Cell, t: int, steps: int, given: bool, biased: bool, output: str, x: str
) -> str:
    s = cell.suffix
    h = f"h{s}[{t},j] = {output.replace('{net}', f'net{s}[{t},j]')}"
    before = cell.before(t)
    first = not 0 <= before < steps
    inputs = f"Σ_i w_ih{s}[j,i]·{x}"
    b_ih, b_hh = (f" + b_ih{s}[j]", f" + b_hh{s}[j]") if biased else ("", "")
    if first and not given:
        return (
            f"net{s}[{t},j] = {inputs}{b_ih}{b_hh} (the state before the first step is 0: "
            f"no w_hh terms), {h}"
        )
    rule = f"net{s}[{t},j] = {inputs}{b_ih} + Σ_k w_hh{s}[j,k]·h{s}[{before},k]{b_hh}, {h}"
    return rule + (f"; h{s}[{before},k] is the initial state h0, given" if first else "")


def _from_above(
    layer: Any, cell: Cell, t: int, top: bool, from_above: bool, only_last: bool
) -> tuple[str, str, str] | None:
    """What step t's δh takes from above, written as its rule writes it, whence, and the rule
    of the δ it reads through the dropout between stacked layers ("" without)."""
    if not from_above:
        return None
    if top:
        j = f"{layer.hidden}+j" if cell.reverse else "j"
        came = "from the layer above (it keeps this step)" if only_last else "from above"
        return f"δ[{t},{j}]", came, ""
    j = f"{layer.hidden}+j" if cell.reverse else "j"
    up = [c for c in layer.cells if c.layer == cell.layer + 1]
    terms = " + ".join(f"Σ_k w_ih{c.suffix}[k,{j}]·δnet{c.suffix}[{t},k]" for c in up)
    if layer.keep is None:
        return terms, f"from l{cell.layer + 1} above", ""
    factor, s = dropout_factor(float(layer.spec.argument("dropout"))), cell.suffix
    dropped = f"δh̃{s}[{t},j] = {terms}, back from l{cell.layer + 1} to the states it read; "
    through = f"m{s}[{t},j]·δh̃{s}[{t},j]{factor}"
    return through, f"from l{cell.layer + 1} above through the dropout mask", dropped


def _delta_rule(
    cell: Cell, t: int, steps: int, came: tuple[str, str, str] | None, slope: str, sent: str
) -> str:
    s, after = cell.suffix, cell.after(t)
    dropped = "" if came is None else came[2]
    if not 0 <= after < steps:  # the last step the cell runs: nothing comes back to it
        if came is None:
            rule = f"the last step: δh{s}[{t},j] = 0, the layer above keeps step {steps - 1} alone"
        else:
            rule = f"the last step: {dropped}δh{s}[{t},j] = {came[0]}, {came[1]}"
    else:
        above = "" if came is None else f"{came[0]} {came[1]} + "
        back = f"Σ_k w_hh{s}[k,j]·δnet{s}[{after},k], back from step {after}"
        rule = f"{dropped}δh{s}[{t},j] = {above}{back}"
    rule += f"; δnet{s}[{t},j] = f′·δh{s}[{t},j], f′ = {slope}"
    return rule + (f"; {sent}" if sent else "")


def _sent_rule(layer: Any, t: int) -> str:
    terms = [f"Σ_j w_ih{c.suffix}[j,i]·δnet{c.suffix}[{t},j]" for c in layer.cells if c.layer == 0]
    return f"δx[{t},i] = " + " + ".join(terms)
