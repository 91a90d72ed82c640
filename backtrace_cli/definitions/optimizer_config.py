"""The `optimizer:` and `weight_decay:` keys of a config, read the same way for every model."""

from __future__ import annotations

from typing import Any

from ..core.validate import Checker, closest
from ..core.yamlsource import Path
from . import optimizers


def read(c: Checker, data: dict[str, Any]) -> tuple[optimizers.Settings, float]:
    """`optimizer:` (a name, or a mapping with `name` and hyperparameters) and `weight_decay:`."""
    raw = data.get("optimizer", "sgd")
    given: dict[str, Any] = {}
    if isinstance(raw, dict):
        if "name" not in raw:
            raise c.fail(
                ("optimizer",),
                f"missing `name`: e.g. `optimizer: {{name: adam, beta1: 0.9}}`; "
                f"one of: {', '.join(optimizers.NAMES)}",
            )
        name = c.choice(("optimizer", "name"), raw["name"], optimizers.NAMES)
        given = {k: v for k, v in raw.items() if k != "name"}
    else:
        name = c.choice(("optimizer",), raw, optimizers.NAMES)
    opt = optimizers.OPTIMIZERS[name]
    values: dict[str, float] = {}
    # `weight_decay` in the mapping of an optimizer without its own decay is the L2 decay, as
    # torch.optim.SGD/Adam/…(weight_decay=λ) means it: the same as the top-level key
    where: Path = ("weight_decay",)
    raw_decay = data.get("weight_decay")
    if "weight_decay" in given and opt.decoupled is None:
        if raw_decay is not None:
            raise c.fail(
                ("optimizer", "weight_decay"),
                "the L2 weight decay is given twice (here and at the top level); keep one",
            )
        where, raw_decay = ("optimizer", "weight_decay"), given.pop("weight_decay")
    for key, value in given.items():
        if key not in opt.keys:
            raise c.fail(("optimizer", key), _unknown_hyperparameter(str(key), opt))
        path = ("optimizer", key)
        hyper = next(h for h in opt.hyperparameters if h.key == key)
        number = c.number(path, value, f"{hyper.symbol} {hyper.valid} ({hyper.what})")
        problem = hyper.problem(number)
        if problem:
            raise c.fail(path, problem)
        values[key] = number
    weight_decay = 0.0
    if raw_decay is not None:
        path = where
        weight_decay = c.number(path, raw_decay, "the L2 weight decay λ ≥ 0")
        if weight_decay < 0:
            raise c.fail(path, f"{weight_decay:g} is negative; the weight decay λ must be ≥ 0")
        if opt.decoupled is not None:
            # adamw has only its own, decoupled decay (as torch.optim.AdamW): the top-level
            # key sets it, unless the optimizer's mapping does
            if opt.decoupled in values:
                raise c.fail(
                    path,
                    f"{name} decays weights itself (`optimizer.{opt.decoupled}`); give the "
                    "decay in one place, not both",
                )
            values[opt.decoupled] = weight_decay
            weight_decay = 0.0
    return optimizers.settings(name, values), weight_decay


def _unknown_hyperparameter(key: str, opt: optimizers.Optimizer) -> str:
    takes = f"{opt.name} takes " + (", ".join(opt.keys) if opt.keys else "no hyperparameters")
    if key in ("lr", "learning_rate", "eta"):
        return f"unknown key; the learning rate is the top-level `learning_rate`; {takes}"
    close = closest(key, opt.keys)
    if close:
        return f"unknown key; did you mean {close!r}? {takes}"
    owners = [o.name for o in optimizers.OPTIMIZERS.values() if key in o.keys]
    if owners:
        return f"unknown key for {opt.name}; `{key}` belongs to {', '.join(owners)}; {takes}"
    return f"unknown key; {takes}"
