"""An rnn model's step worked by hand with numpy — torch's nn.RNN as its documentation writes
it, h_t = f(W_ih·x_t + b_ih + W_hh·h_(t−1) + b_hh), layer by layer, the reverse direction from
the last step to the first, then backpropagation through time written out a step at a time —
for the tests of stacked layers, two directions and a given h0 (test_rnn_stacked.py,
test_model_slips_rnn.py). Never reads the program's trace: only the config's numbers.

The model is `rnn → [last | flatten] → linear`, the loss half_sse, sse or mse; every answer is
named as an answers file types it (`deltanet0_l1[1,0]`, `dE/dw_hh0_l0_reverse[0,1]`; the δ of
a given h0, `deltah0_l0[-1,0]`, `deltah0_l0_reverse[T,0]`; through a fixed dropout mask between
stacked layers, `htilde0_l0[1,0]` and `deltahtilde0_l0[1,0]`)."""

from __future__ import annotations

from typing import Any

import numpy as np


def _suffix(layers: int, directions: int, layer: int, reverse: int) -> str:
    if layers == 1 and directions == 1:
        return ""
    return f"_l{layer}" + ("_reverse" if reverse else "")


def _entries(name: str, array: Any) -> dict[str, float]:
    array = np.asarray(array, dtype=float)
    return {
        f"{name}[{','.join(map(str, index))}]": float(array[index])
        for index in np.ndindex(*array.shape)
    }


def masks(config: dict) -> Any:
    """The rnn's dropout masks between its stacked layers, [num_layers − 1][T][directions ×
    hidden]: its `dropout_mask` (one layer's [T][…] alone read as one); None without."""
    mask = config["model"][0]["rnn"].get("dropout_mask")
    if mask is None:
        return None
    mask = np.array(mask, dtype=float)
    return mask[None] if mask.ndim == 2 else mask


def forward(config: dict, parameters: dict[str, Any] | None = None) -> dict[str, Any]:
    """The forward pass: each (layer, direction)'s net and h, the model's output y and E —
    layer l's states, where the rnn has dropout, times the mask/(1 − p) before l + 1 reads
    them (torch's dropout between stacked layers)."""
    rnn = config["model"][0]["rnn"]
    keep = masks(config)
    p = {k: np.array(v, dtype=float) for k, v in (parameters or config["parameters"]).items()}
    layers, directions = rnn.get("num_layers", 1), 2 if rnn.get("bidirectional") else 1
    hidden, relu = rnn["hidden_size"], rnn.get("nonlinearity", "tanh") == "relu"
    x = np.array(config["inputs"], dtype=float)
    steps = len(x)
    h0 = (
        np.array(rnn["h0"], dtype=float).reshape(layers * directions, hidden)
        if "h0" in rnn
        else None
    )
    cells: dict[tuple[int, int], dict[str, Any]] = {}
    below = x
    for layer in range(layers):
        outs = []
        for reverse in range(directions):
            tail = f"_l{layer}" + ("_reverse" if reverse else "")
            w_ih, w_hh = p[f"0.weight_ih{tail}"], p[f"0.weight_hh{tail}"]
            b = p.get(f"0.bias_ih{tail}", np.zeros(hidden)) + p.get(
                f"0.bias_hh{tail}", np.zeros(hidden)
            )
            first = np.zeros(hidden) if h0 is None else h0[layer * directions + reverse]
            net, h = np.zeros((steps, hidden)), np.zeros((steps, hidden))
            previous = first
            for t in reversed(range(steps)) if reverse else range(steps):
                net[t] = w_ih @ below[t] + w_hh @ previous + b
                h[t] = np.maximum(net[t], 0.0) if relu else np.tanh(net[t])
                previous = h[t]
            cells[(layer, reverse)] = {"net": net, "h": h, "x": below, "h0": first}
            outs.append(h)
        below = np.concatenate(outs, axis=1)
        if keep is not None and layer < layers - 1:
            below = below * keep[layer] / (1 - rnn["dropout"])
    top = config["model"][1] if len(config["model"]) > 2 else None
    n = len(config["model"]) - 1
    w, bias = p[f"{n}.weight"], p[f"{n}.bias"]
    if top == "last":
        y = w @ below[-1] + bias
    elif top == "flatten":
        y = w @ below.reshape(-1) + bias
    else:  # the linear on every step
        y = below @ w.T + bias
    t = np.array(config["targets"], dtype=float)
    loss = config.get("loss", "half_sse")
    scale = {"half_sse": 0.5, "sse": 1.0, "mse": 1.0 / y.size}[loss]
    return {"cells": cells, "out": below, "y": y, "E": scale * float(((t - y) ** 2).sum()), "t": t}


def central_differences(config: dict, h: float = 1e-6) -> dict[str, Any]:
    """Each parameter's ∂E/∂θ by central differences of `forward`: [E(θ + h) − E(θ − h)]/2h."""
    base = {k: np.array(v, dtype=float) for k, v in config["parameters"].items()}
    out = {}
    for name, value in base.items():
        out[name] = np.zeros_like(value)
        for index in np.ndindex(*value.shape):
            ends = []
            for shift in (h, -h):
                moved = {k: v.copy() for k, v in base.items()}
                moved[name][index] += shift
                ends.append(forward(config, moved)["E"])
            out[name][index] = (ends[0] - ends[1]) / (2 * h)
    return out


def worked(config: dict, slip: str = "") -> dict[str, float]:
    """Every answer of the step, by hand. `slip` "truncated": each shared weight's and bias's
    gradient with the last step's term alone (the last its direction runs: t = T−1 forward,
    t = 0 in reverse), from the right δnet, x and h."""
    rnn = config["model"][0]["rnn"]
    layers, directions = rnn.get("num_layers", 1), 2 if rnn.get("bidirectional") else 1
    hidden, relu = rnn["hidden_size"], rnn.get("nonlinearity", "tanh") == "relu"
    p = {k: np.array(v, dtype=float) for k, v in config["parameters"].items()}
    done = forward(config)
    cells, out, y, t = done["cells"], done["out"], done["y"], done["t"]
    steps = len(out)
    top = config["model"][1] if len(config["model"]) > 2 else None
    n = len(config["model"]) - 1
    w = p[f"{n}.weight"]
    loss = config.get("loss", "half_sse")
    delta_y = {"half_sse": 1.0, "sse": 2.0, "mse": 2.0 / y.size}[loss] * (t - y)  # −∂E/∂y
    if top == "last":
        above = np.zeros_like(out)
        above[-1] = w.T @ delta_y
    elif top == "flatten":
        above = (w.T @ delta_y).reshape(out.shape)
    else:
        above = delta_y @ w
    values = _entries(f"y{n}", y) | _entries(f"delta{n}", delta_y)
    if top == "last":  # through `last`, step T's δ alone is sent down: the others have no row
        values |= _entries("delta0", above)
        values = {
            k: v
            for k, v in values.items()
            if not k.startswith("delta0[") or k.startswith(f"delta0[{steps - 1},")
        }
    else:
        values |= _entries("delta0", above)
    keep = masks(config)
    for layer in range(layers - 1, -1, -1):
        sent = np.zeros_like(cells[(layer, 0)]["x"])
        for reverse in range(directions):
            cell = cells[(layer, reverse)]
            tail = f"_l{layer}" + ("_reverse" if reverse else "")
            named = "0" + _suffix(layers, directions, layer, reverse)
            w_ih, w_hh = p[f"0.weight_ih{tail}"], p[f"0.weight_hh{tail}"]
            net, h = cell["net"], cell["h"]
            slope = (net > 0).astype(float) if relu else 1.0 - h**2
            dh, dnet = np.zeros_like(h), np.zeros_like(h)
            # back through time: the reverse of the order the direction ran
            for s in range(steps) if reverse else reversed(range(steps)):
                later = s - 1 if reverse else s + 1  # the step that read h[s]
                back = w_hh.T @ dnet[later] if 0 <= later < steps else 0.0
                dh[s] = above[s, reverse * hidden : (reverse + 1) * hidden] + back
                dnet[s] = slope[s] * dh[s]

            def before(s: int, cell: dict = cell, reverse: int = reverse) -> Any:
                earlier = s + 1 if reverse else s - 1
                return cell["h"][earlier] if 0 <= earlier < steps else cell["h0"]

            if "h0" in rnn:  # the given h0 reaches step `first` through w_hh: −∂E/∂h0
                first, start = (steps - 1, steps) if reverse else (0, -1)
                given = w_hh.T @ dnet[first]
                values |= {f"deltah{named}[{start},{j}]": float(v) for j, v in enumerate(given)}
            last = 0 if reverse else steps - 1
            terms = [last] if slip == "truncated" else range(steps)
            g_ih = -sum(np.outer(dnet[s], cell["x"][s]) for s in terms)
            g_hh = -sum(np.outer(dnet[s], before(s)) for s in terms)
            g_b = -sum(dnet[s] for s in terms)
            values |= _entries(f"net{named}", net) | _entries(f"h{named}", h)
            values |= _entries(f"deltah{named}", dh) | _entries(f"deltanet{named}", dnet)
            values |= _entries(f"dE/dw_ih{named}", g_ih) | _entries(f"dE/dw_hh{named}", g_hh)
            if rnn.get("bias", True):
                values |= _entries(f"dE/db_ih{named}", g_b) | _entries(f"dE/db_hh{named}", g_b)
            sent += dnet @ w_ih
        above = sent
        if keep is not None and layer > 0:  # through the dropout below this layer
            for reverse in range(directions):
                named = "0" + _suffix(layers, directions, layer - 1, reverse)
                own = slice(reverse * hidden, (reverse + 1) * hidden)
                values |= _entries(f"htilde{named}", cells[(layer, 0)]["x"][:, own])
                values |= _entries(f"deltahtilde{named}", sent[:, own])
            above = sent * keep[layer - 1] / (1 - rnn["dropout"])
    return values
