"""Cross-check by hand against `torch.optim`: every optimizer (and L2 weight decay) for 25
epochs on random networks not in this repository, float64, PyTorch's autograd for the
gradients and its own optimizers for the updates (biases in a parameter group without weight
decay, as the contract says). Also resumes: 10 epochs, `step --save`'s file, then 15 more.

    pip install torch==2.13.0     # never a runtime or test dependency
    python benchmarks/torch_optimizers.py --networks 40
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from torch_agreement import groups, random_network, torch_loss

from backtrace_cli import api
from backtrace_cli.definitions import optimizers
from backtrace_cli.network import config, save


def torch_optimizer(name: str, values: dict, weights: list, biases: list, eta: float, l2: float):
    import torch

    decay = values.get("weight_decay", l2)
    params = [{"params": weights, "weight_decay": decay}]
    if biases:
        params.append({"params": biases, "weight_decay": 0.0})
    if name in ("sgd", "momentum", "nesterov"):
        mu = values.get("momentum", 0.0)
        return torch.optim.SGD(params, lr=eta, momentum=mu, nesterov=name == "nesterov")
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=eta, alpha=values["rho"], eps=values["epsilon"])
    if name == "adagrad":
        return torch.optim.Adagrad(params, lr=eta, eps=values["epsilon"])
    betas = (values["beta1"], values["beta2"])
    kind = torch.optim.AdamW if name == "adamw" else torch.optim.Adam
    return kind(params, lr=eta, betas=betas, eps=values["epsilon"])


def torch_train(data: dict, epochs: int) -> list[np.ndarray]:
    import torch

    weights = [torch.tensor(w, dtype=torch.float64, requires_grad=True) for w in data["weights"]]
    biases = [
        torch.tensor(b, dtype=torch.float64, requires_grad=True) for b in data.get("biases", [])
    ]
    settings = config.from_dict(data).optimizer
    opt = torch_optimizer(
        settings.name,
        dict(settings.values),
        weights,
        biases,
        data["learning_rate"],
        data.get("weight_decay", 0.0),
    )
    for _ in range(epochs):
        for group in groups(data):
            opt.zero_grad()
            torch_loss(data, weights, biases, group).backward()
            opt.step()
    return [p.detach().numpy() for p in [*weights, *biases]]


def difference(ours: list[np.ndarray], theirs: list[np.ndarray]) -> float:
    worst = 0.0
    for a, b in zip(ours, theirs):
        worst = max(worst, float(np.max(np.abs(a - b) / np.maximum(1.0, np.abs(b)))))
    return worst


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--networks", type=int, default=40, help="per optimizer")
    parser.add_argument("--epochs", type=int, default=25)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    worst_all, failed = 0.0, 0
    for name in optimizers.NAMES:
        worst, resumed = 0.0, 0.0
        for _ in range(args.networks):
            data = random_network(rng)
            data["learning_rate"] = float(rng.choice([0.01, 0.05, 0.1]))
            data["optimizer"] = name
            if rng.random() < 0.5:
                data["weight_decay"] = float(rng.choice([0.001, 0.01, 0.1]))
            spec = config.from_dict(data)
            final = api.train(spec, args.epochs).records.final
            ours = [*final.weights, *(final.biases or ())]
            worst = max(worst, difference(ours, torch_train(data, args.epochs)))
            # resume: 10 epochs, saved and read back, then the rest — bit for bit
            first = api.train(spec, 10).records.final
            again = config.from_text(save.to_config(first), "saved.yaml")
            rest = api.train(again, args.epochs - 10).records.final
            resumed = max(
                resumed,
                difference([*rest.weights, *(rest.biases or ())], ours),
            )
        print(
            f"{name:9} {args.networks} networks × {args.epochs} epochs: largest difference "
            f"from torch.optim {worst:.2e}; resumed after 10 epochs vs in one go {resumed:.1e}"
        )
        worst_all = max(worst_all, worst)
        failed += resumed != 0.0
    print(f"largest difference from torch.optim over every optimizer: {worst_all:.2e}")
    return 0 if worst_all < 1e-9 and not failed else 1


if __name__ == "__main__":
    sys.exit(main())
