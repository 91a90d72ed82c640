"""The rnn forms of `torch_layers.py` (a file of its own: that one is long): random rnn models —
one or two stacked layers, one or two directions, from 0 or a given h0; and two or three
stacked layers with torch's dropout between them (`rnn_dropout_model`), its masks given or
drawn — and torch's h0.grad read from our trace (`h0_gradient`), the δ of the given h0."""

from __future__ import annotations

import numpy as np


def rnn_model(rng: np.random.Generator, dropout: bool = False) -> tuple[list, dict, dict]:
    """A random rnn (tanh or relu, with or without bias; one or two stacked layers, one or two
    directions, from the state 0 or a given h0) [→ last] → linear [→ activation] model over a
    sequence of 2–5 steps; without `last` the linear acts on every step and the targets are
    one per step. `dropout`: two or three stacked layers with torch's dropout between them,
    its masks given (`dropout_mask`) or drawn from a seed (the `rnn dropout` form's own
    stream: the rnn form's models stay those of every earlier run)."""
    steps, given, hidden = int(rng.integers(2, 6)), int(rng.integers(1, 4)), int(rng.integers(1, 5))
    bias, keep_last = bool(rng.random() < 0.6), bool(rng.random() < 0.5)
    nonlinearity = str(rng.choice(["tanh", "relu"]))
    layers_, two = int(rng.choice([2, 3] if dropout else [1, 2])), bool(rng.random() < 0.3)
    rnn: dict = {"input_size": given, "hidden_size": hidden, "nonlinearity": nonlinearity}
    rnn["bias"] = bias
    if layers_ > 1:
        rnn["num_layers"] = layers_
    if two:
        rnn["bidirectional"] = True
    directions = 2 if two else 1
    if rng.random() < 0.6:  # torch's h0: [num_layers × directions][hidden]
        rnn["h0"] = rng.normal(size=(layers_ * directions, hidden)).tolist()
    if dropout:  # p, and the masks given or their seed
        rnn["dropout"] = float(rng.choice([0.2, 0.4, 0.5]))
        if rng.random() < 0.5:
            shape = (layers_ - 1, steps, directions * hidden)
            rnn["dropout_mask"] = (rng.random(shape) >= rnn["dropout"]).astype(int).tolist()
        else:
            rnn["dropout_seed"] = int(rng.integers(0, 1000))
    layers: list = [{"rnn": rnn}, *(["last"] if keep_last else [])]
    outputs = int(rng.integers(1, 4))
    features = directions * hidden
    layers.append({"linear": {"in_features": features, "out_features": outputs}})
    if rng.random() < 0.3:
        layers.append(str(rng.choice(["tanh", "sigmoid"])))
    params = {}
    for layer in range(layers_):
        for suffix in ("", "_reverse")[:directions]:
            width = given if layer == 0 else features
            params[f"0.weight_ih_l{layer}{suffix}"] = rng.normal(size=(hidden, width)).tolist()
            hh = rng.normal(size=(hidden, hidden)) * 0.6
            params[f"0.weight_hh_l{layer}{suffix}"] = hh.tolist()
            if bias:
                params[f"0.bias_ih_l{layer}{suffix}"] = rng.normal(size=hidden).tolist()
                params[f"0.bias_hh_l{layer}{suffix}"] = rng.normal(size=hidden).tolist()
    n = 2 if keep_last else 1
    params[f"{n}.weight"] = (rng.normal(size=(outputs, features)) * 0.5).tolist()
    params[f"{n}.bias"] = rng.normal(size=outputs).tolist()
    loss = str(rng.choice(("mse", "sse", "half_sse")))
    shape = (outputs,) if keep_last else (steps, outputs)
    samples = [
        {
            "inputs": rng.normal(size=(steps, given)).tolist(),
            "targets": rng.normal(size=shape).tolist(),
        }
        for _ in range(int(rng.integers(1, 4)))
    ]
    return layers, params, given_of(samples, loss, rng)


def given_of(samples: list[dict], loss: str, rng: np.random.Generator) -> dict:
    """A random model's data: one sample as it is; several, one update from their mean or
    summed loss (torch: the loss of the batch), which `rng` draws."""
    if len(samples) == 1:
        return {**samples[0], "loss": loss}
    how = str(rng.choice(["mean", "sum"]))
    return {"samples": samples, "mode": "batch", "batch_gradient": how, "loss": loss}


def rnn_dropout_model(rng: np.random.Generator) -> tuple[list, dict, dict]:
    return rnn_model(rng, dropout=True)


def h0_gradient(records: object, layers: list, given: dict) -> np.ndarray | None:
    """torch's h0.grad from our trace: each layer's and direction's rows of the δ of the given
    h0 (δh0[-1,j], δh0_l1_reverse[T,j]: −∂E_s/∂h0 of each sample), minus their mean or sum
    over the samples, as the batch's loss takes them."""
    rnn = layers[0].get("rnn", {}) if isinstance(layers[0], dict) else {}
    if "h0" not in rnn:
        return None
    stacked, two = rnn.get("num_layers", 1), rnn.get("bidirectional", False)
    steps, hidden = len((given.get("samples") or [given])[0]["inputs"]), rnn["hidden_size"]
    names = [
        ("" if stacked == 1 and not two else f"_l{layer}" + ("_reverse" if reverse else ""))
        + (f"[{steps}," if reverse else "[-1,")
        for layer in range(stacked)
        for reverse in ((False, True) if two else (False,))
    ]
    each = []
    for step in records.steps:  # type: ignore[attr-defined]
        rows = {r.symbol: r.value for _, r in step.equations()}
        each.append([[rows[f"δh0{name}{j}]"] for j in range(hidden)] for name in names])
    total = -np.sum(each, axis=0)
    return total / len(each) if given.get("batch_gradient") == "mean" else total
