"""torch's side of `torch_layers.py` (a file of its own: that one is long): a config's model
built as a torch nn.Sequential from the same state dict (an rnn giving every h_t, `last`, a
dropout multiplying by the config's masks), one training step (SGD or Adam) or eval mode's
backward, and how the two sides' numbers are compared (the largest relative difference of
each quantity, Adam's ill-conditioned steps shown apart)."""

from __future__ import annotations

import numpy as np
import torch

from backtrace_cli import models
from backtrace_cli.network.dropout import DROPOUT_STREAM

BUFFERS = ("running_mean", "running_var", "num_batches_tracked")


class _Outputs(torch.nn.RNN):
    """nn.RNN in a Sequential: its every h_t (torch returns them with the last state), from
    the initial state `h0` where the config gives one (torch's forward takes it, not its
    constructor; it requires grad, so that h0.grad is torch's ∂E/∂h0). With `masks` (one
    (num_layers − 1, T, directions × hidden) a sample, in the order the samples are run), its
    dropout between stacked layers multiplies by them, by hand: each layer is torch's own
    single-layer RNN run on this module's parameters (torch.func.functional_call), its output
    times the sample's mask/(1 − p) before the next layer reads it."""

    h0: torch.Tensor | None = None
    masks: torch.Tensor | None = None
    calls: int = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        if self.masks is None:
            return super().forward(x, self.h0)[0]
        mask = self.masks[self.calls % len(self.masks)]
        self.calls += 1
        two = 2 if self.bidirectional else 1
        below = x
        for layer in range(self.num_layers):
            one = torch.nn.RNN(
                below.shape[-1],
                self.hidden_size,
                1,
                self.nonlinearity,
                self.bias,
                bidirectional=self.bidirectional,
            ).double()
            own = {
                name.replace(f"_l{layer}", "_l0"): value
                for name, value in self.named_parameters()
                if f"_l{layer}" in name
            }
            h0 = None if self.h0 is None else self.h0[layer * two : (layer + 1) * two]
            below = torch.func.functional_call(one, own, (below, h0))[0]
            if layer < self.num_layers - 1:
                below = below * mask[layer] / (1 - self.dropout)
        return below


class _Last(torch.nn.Module):
    """`last`: the last step's h_T."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[-1]


class _Masked(torch.nn.Module):
    """A dropout with the given masks, one a sample (N, …): y = m·x/(1 − p)."""

    def __init__(self, masks: np.ndarray, p: float) -> None:
        super().__init__()
        self.masks, self.p = torch.tensor(masks, dtype=torch.float64), p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.masks / (1 - self.p)


def masks(config: dict, epoch: int = 1) -> dict[int, np.ndarray]:
    """Each dropout's masks for the samples (N, …) by its position: its fixed `mask:` for
    every sample, or drawn by the documented rule (docs/layers.md, "Dropout") — kept where
    a uniform draw from a Generator seeded with (seed, epoch, the dropout stream, the layer's
    position) is ≥ p, one for each sample over the shape of what reaches it."""
    samples = len(config.get("samples") or [config])
    out = {}
    for position, layer in enumerate(config["model"]):
        if isinstance(layer, dict) and layer.get("rnn", {}).get("dropout"):
            out[position] = _rnn_masks(config, position, epoch, samples)
            continue
        if not (isinstance(layer, dict) and "dropout" in layer):
            continue
        args = layer["dropout"]
        if "mask" in args:
            out[position] = np.array([args["mask"]] * samples, dtype=np.float64)
            continue
        shape = models.from_dict(config).layers[position].shape_in
        rng = np.random.default_rng([args["seed"], epoch, DROPOUT_STREAM, position])
        drawn = rng.random((samples, *shape)) >= args["p"]
        out[position] = drawn.astype(np.float64)
    return out


def _rnn_masks(config: dict, position: int, epoch: int, samples: int) -> np.ndarray:
    """An rnn's dropout masks between its stacked layers, (N, num_layers − 1, T, directions ×
    hidden): its fixed `dropout_mask` for every sample, or drawn by the documented rule
    (docs/layers.md, an rnn's dropout) — kept where a uniform draw from a Generator seeded
    with (dropout_seed, epoch, the dropout stream, the layer's position) is ≥ p."""
    args = config["model"][position]["rnn"]
    width = (2 if args.get("bidirectional") else 1) * args["hidden_size"]
    if "dropout_mask" in args:
        return np.array([args["dropout_mask"]] * samples, dtype=np.float64)
    steps = len((config.get("samples") or [config])[0]["inputs"])
    rng = np.random.default_rng([args.get("dropout_seed", 0), epoch, DROPOUT_STREAM, position])
    shape = (samples, args["num_layers"] - 1, steps, width)
    return (rng.random(shape) >= args["dropout"]).astype(np.float64)


def torch_model(
    layers: list, params: dict, batched: bool = False, masks: dict | None = None
) -> torch.nn.Sequential:
    """torch's model of the config; `batched`: it takes the batch stacked (N, …); a dropout
    multiplies by its `masks` (none: torch's nn.Dropout, for eval mode)."""
    modules: list[torch.nn.Module] = []
    for position, layer in enumerate(layers):
        kind, args = (layer, {}) if isinstance(layer, str) else next(iter(layer.items()))
        if kind == "dropout":
            p = args["p"]
            modules.append(torch.nn.Dropout(p) if masks is None else _Masked(masks[position], p))
        elif kind == "batchnorm1d":
            modules.append(torch.nn.BatchNorm1d(**args))
        elif kind == "flatten" and batched:
            modules.append(torch.nn.Flatten(start_dim=1))
        elif kind == "conv1d":
            modules.append(torch.nn.Conv1d(**args))
        elif kind == "maxpool1d":
            modules.append(torch.nn.MaxPool1d(**args))
        elif kind == "conv2d":
            modules.append(torch.nn.Conv2d(**args))
        elif kind == "maxpool2d":
            modules.append(torch.nn.MaxPool2d(**args))
        elif kind == "avgpool2d":
            modules.append(torch.nn.AvgPool2d(**args))
        elif kind == "linear":
            modules.append(torch.nn.Linear(**args))
        elif kind == "rnn":
            ours = ("h0", "dropout_seed", "dropout_mask")  # torch's forward's, or the masks'
            rnn = _Outputs(**{key: value for key, value in args.items() if key not in ours})
            if "h0" in args:
                rnn.h0 = torch.tensor(args["h0"], dtype=torch.float64, requires_grad=True)
            if masks is not None and position in masks:
                rnn.masks = torch.tensor(masks[position], dtype=torch.float64)
            modules.append(rnn)
        elif kind == "last":
            modules.append(_Last())
        elif kind == "flatten":
            modules.append(torch.nn.Flatten(start_dim=0))
        else:
            modules.append(
                {
                    "relu": torch.nn.ReLU(),
                    "sigmoid": torch.nn.Sigmoid(),
                    "tanh": torch.nn.Tanh(),
                    "leaky_relu": torch.nn.LeakyReLU(0.01),
                    "elu": torch.nn.ELU(),
                    "softmax": torch.nn.Softmax(dim=0),
                }[kind]
            )
    model = torch.nn.Sequential(*modules).double()
    state = model.state_dict()  # the running statistics a config leaves out: torch's defaults
    for name, value in params.items():
        state[name] = torch.tensor(value, dtype=state[name].dtype)
    model.load_state_dict(state)  # strict: every name and shape as the config has them
    return model


def _torch_loss(loss: str, y: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    if loss == "mse":
        return torch.nn.functional.mse_loss(y, t)
    if loss == "sse":
        return ((y - t) ** 2).sum()
    if loss == "half_sse":
        return 0.5 * ((y - t) ** 2).sum()
    return -(t * torch.log(y)).sum()  # cross-entropy of a softmax output


def step(layers: list, params: dict, given: dict, optimizer: str, eta: float, masks: dict) -> dict:
    batched = any(isinstance(layer, dict) and "batchnorm1d" in layer for layer in layers)
    model = torch_model(layers, params, batched, masks)
    opt = (
        torch.optim.SGD(model.parameters(), lr=eta)
        if optimizer == "sgd"
        else torch.optim.Adam(model.parameters(), lr=eta)
    )
    opt.zero_grad()
    ys, losses = torch_forward(model, given, batched)
    loss = sum(losses) / (len(losses) if given.get("batch_gradient") == "mean" else 1)
    loss.backward()
    grads = {n: p.grad.detach().numpy().copy() for n, p in model.named_parameters()}
    # an rnn's given h0, an input that requires grad: its ∂E/∂h0
    h0 = [m.h0.grad.numpy().copy() for m in model if isinstance(m, _Outputs) and m.h0 is not None]
    opt.step()
    after = {n: p.detach().numpy().copy() for n, p in model.state_dict().items()}
    each = [float(v.detach()) for v in losses]
    out = {"y": np.array(ys), "loss": each, "grads": grads, "after": after}
    return out | ({"h0": h0[0]} if h0 else {})


def torch_forward(
    model: torch.nn.Module, given: dict, batched: bool
) -> tuple[list[np.ndarray], list[torch.Tensor]]:
    """Every sample's output and loss: the batch stacked through a batch-norm model at once,
    a sample at a time through any other."""
    samples = given.get("samples") or [given]
    ys, losses = [], []
    if batched:
        stacked = model(torch.tensor([s["inputs"] for s in samples], dtype=torch.float64))
    for n, sample in enumerate(samples):
        y = stacked[n] if batched else model(torch.tensor(sample["inputs"], dtype=torch.float64))
        ys.append(y.detach().numpy())
        losses.append(
            _torch_loss(given["loss"], y, torch.tensor(sample["targets"], dtype=torch.float64))
        )
    return ys, losses


def evaluated(layers: list, params: dict, given: dict) -> dict:
    """torch's eval mode (`model.eval()`): every sample's output and loss, the gradients its
    backward gives then (the samples' mean or sum), its buffers after (untouched)."""
    model = torch_model(layers, params, batched=True)
    model.eval()
    ys, losses = torch_forward(model, given, batched=True)
    loss = sum(losses) / (len(losses) if given.get("batch_gradient") == "mean" else 1)
    loss.backward()
    grads = {n: p.grad.detach().numpy().copy() for n, p in model.named_parameters()}
    after = {n: p.detach().numpy().copy() for n, p in model.state_dict().items()}
    each = [float(v.detach()) for v in losses]
    return {"y": np.array(ys), "loss": each, "grads": grads, "after": after}


NEAR_EPSILON = 1e-6  # |g| below this: Adam's step is ill-conditioned in g (100·ε)


def _noise(ours: object, theirs: object, shape: tuple[int, ...]) -> np.ndarray:
    """The entries whose gradient is within 100·ε of 0 in both (ε = 1e-8, Adam's): there
    the first step η·g/(|g| + ε) moves by η·ε/(|g| + ε)² per unit of g — 10⁴·η and more —
    so the gradient's own last-bit rounding (any summation order's; a dead relu unit's, a
    bias batch norm takes away) decides the step's last digits. Their gradients are held to
    rtol like every other; their steps are shown apart. A network's Adam step reports no
    gradient of ours (its JSON gives the parameters after): there torch's decides alone.
    Gradients of several updates (`torch_eval`: online, stacked), the entries where any
    update's was."""
    if theirs is None:
        return np.zeros(shape, dtype=bool)
    small = NEAR_EPSILON
    near = np.abs(np.asarray(theirs)) < small
    near = near if ours is None else near & (np.abs(np.asarray(ours)) < small)
    return near.any(axis=0) if near.ndim > len(shape) else near


def _difference(a: object, b: object) -> float:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    assert a.shape == b.shape, (a.shape, b.shape)
    scale = np.maximum(np.abs(b), 1e-3)  # relative, and absolute near 0 (a gradient of 1e-17)
    return float(np.max(np.abs(a - b) / scale)) if a.size else 0.0


def compare(
    worst: dict[str, float], form: str, optimizer: str, ours: dict, theirs: dict, zero: float = 0
) -> None:
    """The largest difference so far of each quantity of `form`, in `worst`. `zero`: a
    gradient below it in both is 0 but for rounding (a bias ahead of batch norm over the
    batch: its terms cancel exactly), its absolute difference shown apart."""
    quantities = {"forward": (ours["y"], theirs["y"]), "loss": (ours["loss"], theirs["loss"])}
    for name, value in theirs["after"].items():
        buffer = name.rpartition(".")[2] in BUFFERS
        step = f"{form} {optimizer} step" if optimizer else f"{form} parameters (no update)"
        label = f"{form} running stats" if buffer else step
        noise = _noise(ours["grads"].get(name), theirs["grads"].get(name), value.shape)
        if optimizer == "adam" and noise.any():
            # |g| within 100·ε of 0 (`_noise`): the gradient's last-bit rounding
            # decides Adam's step there — shown, not held to rtol
            quiet = f"{form} adam step, |g| < 100·ε (ill-conditioned)"
            worst[quiet] = max(
                worst.get(quiet, 0.0),
                _difference(ours["after"][name][noise], value[noise]),
            )
            keep = ~noise
        else:
            keep = np.ones(value.shape, dtype=bool)
        mine = np.asarray(ours["after"][name])
        worst[label] = max(worst.get(label, 0.0), _difference(mine[keep], value[keep]))
        if name in ours["grads"]:
            a, b = np.asarray(ours["grads"][name]), np.asarray(theirs["grads"][name])
            rounding = (np.abs(a) < zero) & (np.abs(b) < zero)
            if rounding.any():
                apart = f"{form} gradient 0 but for rounding (|g| < {zero:g}, absolute)"
                worst[apart] = max(worst.get(apart, 0.0), float(np.max(np.abs(a - b)[rounding])))
            key = f"{form} gradient"
            worst[key] = max(worst.get(key, 0.0), _difference(a[~rounding], b[~rounding]))
    if "h0" in theirs:  # an rnn's given h0: its gradient, torch's h0.grad
        quantities["h0 gradient"] = (ours["h0"], theirs["h0"])
    for key in quantities:
        label = f"{form} {key}"
        worst[label] = max(worst.get(label, 0.0), _difference(*quantities[key]))
