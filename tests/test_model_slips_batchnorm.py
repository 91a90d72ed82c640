"""batchnorm1d's named slip on random models: its backward without the μ and σ² terms
(δx = γ·δ/√(σ² + ε), as if the batch's statistics were constants). Every value here — right or
slipped — is worked in this file with numpy, from the config's numbers: the δ into batch norm
step by step back through x̂, σ² and μ (the chain rule a student writes, not the program's
three-term formula), never read from the program's trace."""

from __future__ import annotations

import numpy as np
from slips import RandomModels, entries

from backtrace_cli.network.layers import batchnorm1d


def _config(seed: int) -> dict:
    """tanh → batchnorm1d → (flatten) → linear(2), half_sse, one batch of 3 or 4 samples: on
    even seeds each sample a vector of features, on odd ones channels × length (statistics
    over the samples and the positions); a random ε, and one seed without γ and β."""
    rng = np.random.default_rng(seed)
    count, features = int(rng.integers(3, 5)), int(rng.integers(2, 4))
    shape = (features,) if seed % 2 == 0 else (features, int(rng.integers(2, 4)))
    eps = float(rng.choice([1e-5, 1e-3, 0.1]))
    affine = seed != 2
    flat = int(np.prod(shape))
    norm = {"num_features": features, "eps": eps, "affine": affine}
    model = ["tanh", {"batchnorm1d": norm}, *(["flatten"] if len(shape) > 1 else [])]
    top = str(len(model))
    parameters = {
        f"{top}.weight": rng.normal(size=(2, flat)).round(2).tolist(),
        f"{top}.bias": rng.normal(size=2).round(2).tolist(),
    }
    if affine:
        parameters |= {"1.weight": (1 + rng.normal(size=features) / 2).round(2).tolist()}
        parameters |= {"1.bias": rng.normal(size=features).round(2).tolist()}
    draws = [(rng.normal(size=shape), rng.normal(size=2)) for _ in range(count)]
    samples = [{"inputs": x.round(2).tolist(), "targets": t.round(2).tolist()} for x, t in draws]
    return {
        "model": [*model, {"linear": {"in_features": flat, "out_features": 2}}],
        "parameters": parameters,
        "loss": "half_sse",
        "learning_rate": 0.1,
        "mode": "batch",
        "samples": samples,
    }


def _worked(config: dict, slip: str = "") -> dict[str, float]:
    """Sample 1's answers by hand, and the batch's μ, σ² and sums. `slip` "constant": the δ
    into batch norm as a student who treats μ and σ² as constants writes it, γ·δ/√(σ² + ε),
    from the right δ and σ²."""
    norm = config["model"][1]["batchnorm1d"]
    top = str(len(config["model"]) - 1)
    eps, p = norm["eps"], {k: np.array(v) for k, v in config["parameters"].items()}
    x = np.array([s["inputs"] for s in config["samples"]])  # (N, C) or (N, C, L)
    t = np.array([s["targets"] for s in config["samples"]])
    axes = (0, *range(2, x.ndim))  # each feature's values: over the samples (and positions)
    m = x.size // x.shape[1]
    per_feature = (1, -1) + (1,) * (x.ndim - 2)
    gamma = p.get("1.weight", np.ones(x.shape[1])).reshape(per_feature)
    beta = p.get("1.bias", np.zeros(x.shape[1])).reshape(per_feature)
    y0 = np.tanh(x)
    mu = y0.mean(axis=axes)
    centred = y0 - mu.reshape(per_feature)
    var = (centred**2).mean(axis=axes)  # biased, as training mode
    root = np.sqrt(var + eps).reshape(per_feature)
    xhat = centred / root
    y1 = gamma * xhat + beta
    out = y1.reshape(len(x), -1) @ p[f"{top}.weight"].T + p[f"{top}.bias"]
    d_out = t - out  # −∂E/∂y for E = ½Σ(t − y)², each sample's
    d1 = (d_out @ p[f"{top}.weight"]).reshape(y1.shape)
    # back through y = γ·x̂ + β, x̂ = (x − μ)/√(σ² + ε), σ² = Σ(x − μ)²/m, μ = Σx/m
    d_xhat = d1 * gamma
    d_var = (d_xhat * centred).sum(axis=axes, keepdims=True) * -0.5 * root**-3
    d_mu = -(d_xhat / root).sum(axis=axes, keepdims=True)  # the σ² path's Σ(x − μ) is 0
    d0 = d_xhat / root + d_var * 2 * centred / m + d_mu / m
    if slip == "constant":
        d0 = d_xhat / root  # only the path through x̂
    # a model's answers file answers sample 1's step: its values, and the batch's μ, σ², sums
    arrays = {"y0": y0[0], "xhat1": xhat[0], "y1": y1[0], f"y{top}": out[0]}
    arrays |= {f"delta{top}": d_out[0], "delta1": d1[0], "delta0": d0[0]}
    arrays |= {"mu1": mu, "var1": var, "sum_delta1": d1.sum(axis=axes)}
    arrays |= {"sum_delta_xhat1": (d1 * xhat).sum(axis=axes)}
    return entries(arrays)


class TestTheSlipOfBatchNorm(RandomModels):
    seeds = range(5)  # each marks a long answers file: five seeds, each slip made on 4+
    config = staticmethod(_config)
    worked = staticmethod(_worked)
    cases = (("constant", "delta0[", batchnorm1d.CONSTANT_STATISTICS),)
    elsewhere = (
        ("delta0[", "y1["),
        ("var1[", "sum_delta1[", "sum_delta_xhat1["),  # what δ0 reads
        ("mu1[", "delta1["),
    )
