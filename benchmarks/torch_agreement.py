"""Cross-check by hand against an independent autograd: backtrace's new weights after one step
equal PyTorch's (float64, autograd for the gradient, SGD written out) on random networks that
are not in this repository — every activation, loss, mode, with and without biases and dropout
(the same fixed masks given to both). Then classification networks: a softmax output with
cross-entropy (PyTorch's F.cross_entropy on the logits, probability targets) or a squared loss,
leaky_relu and elu among the hidden activations.

    pip install torch==2.13.0     # never a runtime or test dependency
    python benchmarks/torch_agreement.py --networks 300 --classification 300
"""

from __future__ import annotations

import argparse
import itertools
import sys

import numpy as np

from backtrace_cli import api
from backtrace_cli.network import config

ACTIVATIONS = ("sigmoid", "tanh", "relu", "linear")
LOSSES = ("half_sse", "sse", "mse", "bce")


def random_network(rng: np.random.Generator) -> dict:
    layers = [int(n) for n in rng.integers(1, 6, size=rng.integers(2, 5))]
    loss = LOSSES[rng.integers(0, 4)]
    acts = [ACTIVATIONS[i] for i in rng.integers(0, 4, len(layers) - 1)]
    if loss == "bce":
        acts[-1] = "sigmoid"
    samples = []
    for _ in range(int(rng.integers(1, 4))):
        targets = (
            rng.uniform(0.05, 0.95, layers[-1]) if loss == "bce" else rng.normal(size=layers[-1])
        )
        samples.append({"inputs": rng.normal(size=layers[0]).tolist(), "targets": targets.tolist()})
    data = {
        "layers": layers,
        "activations": acts,
        "loss": loss,
        "learning_rate": float(rng.choice([0.05, 0.5, 1.0])),
        "samples": samples,
        "mode": str(rng.choice(["online", "batch"])),
        "batch_gradient": str(rng.choice(["mean", "sum"])),
        "weights": [rng.normal(size=(b, a)).tolist() for a, b in itertools.pairwise(layers)],
    }
    if rng.random() < 0.5:
        data["biases"] = [rng.normal(size=n).tolist() for n in layers[1:]]
    if len(layers) > 2 and rng.random() < 0.5:
        masks = {
            f"hidden{k}": rng.integers(0, 2, layers[k]).tolist() for k in range(1, len(layers) - 1)
        }
        data["dropout"] = {"rate": 0.5, "masks": masks}
    return data


HIDDEN = ("sigmoid", "tanh", "relu", "linear", "leaky_relu", "elu")


def classification_network(rng: np.random.Generator) -> dict:
    """A random network with a softmax output: cross-entropy (one-hot or smoothed targets) or
    a squared loss through softmax's whole Jacobian; any hidden activation."""
    data = random_network(rng)
    layers = data["layers"]
    layers[-1] = int(rng.integers(2, 6))
    loss = str(rng.choice(["cross_entropy", "cross_entropy", "half_sse", "sse", "mse"]))
    hidden = [str(h) for h in rng.choice(HIDDEN, len(layers) - 2)]
    for sample in data["samples"]:
        if loss == "cross_entropy" and rng.random() < 0.5:
            targets = np.eye(layers[-1])[rng.integers(0, layers[-1])]
        elif loss == "cross_entropy":
            targets = rng.dirichlet(np.ones(layers[-1]))
        else:
            targets = rng.normal(size=layers[-1])
        sample["targets"] = targets.tolist()
    data.update(
        activations=[*hidden, "softmax"],
        loss=loss,
        leaky_relu_slope=float(rng.choice([0.01, 0.2])),
        weights=[rng.normal(size=(b, a)).tolist() for a, b in itertools.pairwise(layers)],
    )
    if "biases" in data:
        data["biases"] = [rng.normal(size=n).tolist() for n in layers[1:]]
    return data


def torch_loss(data: dict, weights: list, biases: list, group: list[dict]):
    """The update's loss in PyTorch: forward with the masks, summed (or averaged) per sample."""
    import torch

    functional = torch.nn.functional
    slope = data.get("leaky_relu_slope", 0.01)
    act = {
        "sigmoid": torch.sigmoid,
        "tanh": torch.tanh,
        "relu": torch.relu,
        "linear": lambda z: z,
        "leaky_relu": lambda z: functional.leaky_relu(z, slope),
        "elu": functional.elu,
        "softmax": lambda z: torch.softmax(z, dim=1),
    }
    masks = data.get("dropout", {}).get("masks", {})
    x = torch.tensor([s["inputs"] for s in group], dtype=torch.float64)
    t = torch.tensor([s["targets"] for s in group], dtype=torch.float64)
    out = x
    for k, w in enumerate(weights):
        if k > 0 and f"hidden{k}" in masks:
            out = out * torch.tensor(masks[f"hidden{k}"], dtype=torch.float64) / 0.5
        logits = out @ w.T + (biases[k] if biases else 0.0)
        out = act[data["activations"][k]](logits)
    n = t.shape[1]
    if data["loss"] == "cross_entropy":  # PyTorch's own, on the logits, probability targets
        per = functional.cross_entropy(logits, t, reduction="none")
    elif data["loss"] == "half_sse":
        per = 0.5 * ((t - out) ** 2).sum(1)
    elif data["loss"] == "sse":
        per = ((out - t) ** 2).sum(1)
    elif data["loss"] == "mse":
        per = ((out - t) ** 2).sum(1) / n
    else:
        per = -(t * torch.log(out) + (1 - t) * torch.log(1 - out)).sum(1) / n
    mean = data["mode"] == "batch" and data["batch_gradient"] == "mean"
    return per.sum() / (len(group) if mean else 1)


def groups(data: dict) -> list[list[dict]]:
    """The samples of each update: all at once (batch) or one at a time (online)."""
    samples = data["samples"]
    return [samples] if data["mode"] == "batch" else [[s] for s in samples]


def torch_step(data: dict) -> list[np.ndarray]:
    """One epoch in PyTorch: forward with the masks, autograd, w ← w − η·∂E/∂w."""
    import torch

    weights = [torch.tensor(w, dtype=torch.float64, requires_grad=True) for w in data["weights"]]
    biases = [
        torch.tensor(b, dtype=torch.float64, requires_grad=True) for b in data.get("biases", [])
    ]
    for group in groups(data):
        loss = torch_loss(data, weights, biases, group)
        for p in [*weights, *biases]:
            p.grad = None
        loss.backward()
        with torch.no_grad():
            for p in [*weights, *biases]:
                p.sub_(data["learning_rate"] * p.grad)
    return [p.detach().numpy() for p in [*weights, *biases]]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--networks", type=int, default=300)
    parser.add_argument("--classification", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    worst, compared = 0.0, 0
    makers = [random_network] * args.networks + [classification_network] * args.classification
    for make in makers:
        data = make(rng)
        spec = config.from_dict(data)
        final = api.train(spec, 1).records.final
        ours = [*final.weights, *(final.biases or ())]
        theirs = torch_step(data)
        for a, b in zip(ours, theirs):
            scale = np.maximum(1.0, np.abs(b))
            worst = max(worst, float(np.max(np.abs(a - b) / scale)))
            compared += a.size
    print(
        f"{args.networks} random networks and {args.classification} with a softmax output, "
        f"{compared} parameters after one epoch: largest "
        f"difference from PyTorch autograd {worst:.2e} (relative, or absolute below 1)"
    )
    return 0 if worst < 1e-9 else 1


if __name__ == "__main__":
    sys.exit(main())
