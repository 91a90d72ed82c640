"""Training in eval mode against torch (`step --eval`; `torch_layers.py`'s "eval step" form):
torch's fine-tuning with frozen batch-norm statistics — `model.eval()`, then for each update
`loss.backward()` and `optimizer.step()` (SGD or Adam) — on `torch_layers`' random batch-norm
models in eval mode (`_eval_model`: online or batch, one to five samples, running statistics
mostly given, without them at times, a dropout among them at times). Online, torch takes each
sample alone (a batch of one: its batch norm reads its running statistics), an update after
each; in batch mode one update from the batch's mean or summed loss. Compared: every sample's
output and loss before its own update, each update's gradients, and the state dict after the
epoch — the parameters after the optimizer's steps, the running statistics and
num_batches_tracked as they were."""

from __future__ import annotations

import numpy as np
import torch
import torch_side  # beside this file: run as a script

from backtrace_cli import api
from backtrace_cli.core.errors import ConfigError
from backtrace_cli.network import model_engine


def _per_update(grads: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Each parameter's gradients, one an update, stacked."""
    return {name: np.stack([g[name] for g in grads]) for name in grads[0]}


def theirs(layers: list, params: dict, given: dict, optimizer: str, eta: float) -> dict:
    """torch: model.eval(), then one epoch of the optimizer's steps."""
    model = torch_side.torch_model(layers, params, batched=True)
    model.eval()
    opt = (
        torch.optim.SGD(model.parameters(), lr=eta)
        if optimizer == "sgd"
        else torch.optim.Adam(model.parameters(), lr=eta)
    )
    samples = given.get("samples") or [given]
    groups = [samples] if given.get("mode") == "batch" else [[s] for s in samples]
    ys, each, grads = [], [], []
    for group in groups:
        opt.zero_grad()
        outputs, losses = torch_side.torch_forward(model, {**given, "samples": group}, batched=True)
        loss = sum(losses) / (len(losses) if given.get("batch_gradient") == "mean" else 1)
        loss.backward()
        grads.append({n: p.grad.detach().numpy().copy() for n, p in model.named_parameters()})
        opt.step()
        ys += outputs
        each += [float(v.detach()) for v in losses]
    after = {n: p.detach().numpy().copy() for n, p in model.state_dict().items()}
    return {"y": np.array(ys), "loss": each, "grads": _per_update(grads), "after": after}


def ours(config: dict, theirs: dict, seen: dict[str, int]) -> dict | None:
    """`step --eval -n 1 --trace 1`: the epoch's steps and the model after it; None where the
    steps diverge (refused, exit 2) — and torch's too, its loss past 1e6 or not finite, which
    `seen` counts (eval mode's batch norm does not rein in a large step as training's does)."""
    try:
        records = api.train(config, 1, trace=[1], inference=True).records
    except ConfigError as error:
        assert "diverges" in error.problem, error
        after = np.concatenate([np.ravel(v) for v in theirs["after"].values()])
        blown = not np.all(np.isfinite(after)) or max(theirs["loss"]) > 1e6
        assert blown, f"ours diverges, torch's does not: {theirs['loss']}"
        seen["…eval step, diverges in both (skipped)"] = (
            seen.get("…eval step, diverges in both (skipped)", 0) + 1
        )
        return None
    traced = records.traces[0]
    steps = traced.steps
    if config.get("mode") == "batch":  # one update: the samples' gradients combined
        grads = [model_engine.combined(traced.spec, [s.gradients for s in steps])]
    else:
        grads = [s.gradients for s in steps]
    final = records.final
    return {
        "y": np.array([np.asarray(s.outputs) for s in steps]),
        "loss": [s.loss for s in steps],
        "grads": _per_update(grads),
        "after": {n: np.asarray(v) for n, v in (*final.parameters, *final.buffers)},
    }
