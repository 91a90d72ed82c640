"""Cross-check computational graphs against PyTorch autograd (float64), by hand.

    pip install torch==2.13.0      # benchmark-only; never a runtime or test dependency
    python benchmarks/graph_torch.py --expressions 5000 --seed 0

Draws random expressions over the graph's whole grammar (+ − * / ^ **, unary minus, exp, log,
sqrt, abs, sigmoid, tanh, relu, max, min, constants, inputs used more than once), evaluates each
with `backtrace_cli` (through the same config loader as `backtrace run`) and with PyTorch's
autograd, and reports the largest difference in f and in every ∂f/∂input. Expressions the tool
refuses (a value outside a function's domain, overflow) are counted, and PyTorch must give a
non-finite value or gradient for each of them: the tool refuses exactly where autograd breaks.
Inputs are drawn from a few decimals so that ties (max(a, a)) and kinks (relu(0)) occur too.
"""

from __future__ import annotations

import argparse
import math
import random
import re
import sys
import time

try:
    import torch
except ImportError:  # pragma: no cover - the script says what to install
    sys.exit("PyTorch is needed for this cross-check: pip install torch==2.13.0")

from backtrace_cli import ConfigError, api

NAMES = ("a", "b", "c", "d")
UNARY = ("neg", "exp", "log", "sqrt", "abs", "sigmoid", "tanh", "relu", "square")
BINARY = ("+", "-", "*", "/", "^", "**", "max", "min")


def draw(rng: random.Random, depth: int) -> str:
    """A random expression's text, fully parenthesised where precedence could matter."""
    if depth == 0 or rng.random() < 0.25:
        if rng.random() < 0.75:
            return rng.choice(NAMES)
        return rng.choice(["0.5", "2", "3", "1.5", "0.1"])
    if rng.random() < 0.45:
        op = rng.choice(UNARY)
        inner = draw(rng, depth - 1)
        if op == "neg":
            return f"(-{inner})"
        if op == "square":
            return f"({inner})^2"
        return f"{op}({inner})"
    op = rng.choice(BINARY)
    left, right = draw(rng, depth - 1), draw(rng, depth - 1)
    if op in ("max", "min"):
        return f"{op}({left}, {right})"
    if op in ("^", "**"):
        exponent = rng.choice(["2", "3", "0.5", "-1", right])
        return f"({left}){op}({exponent})"
    return f"({left} {op} {right})"


def torch_value(text: str, env: dict[str, torch.Tensor]) -> torch.Tensor:
    """PyTorch's value of the same expression, by its own Python parser (the benchmark's
    trusted reference, never the tool's code): ^ is Python's **."""
    scope = {
        **env,
        "exp": torch.exp,
        "log": torch.log,
        "sqrt": torch.sqrt,
        "abs": torch.abs,
        "sigmoid": torch.sigmoid,
        "tanh": torch.tanh,
        "relu": torch.relu,
        "max": torch.maximum,
        "min": torch.minimum,
    }
    scope["T"] = lambda v: torch.tensor(v, dtype=torch.float64)
    # constants as float64 tensors, so 1/0 is inf and exp(2) a tensor, as autograd sees them
    python = re.sub(r"(?<![\w.])(\d+\.?\d*)", r"T(\1)", text.replace("^", "**"))
    return eval(python, {"__builtins__": {}}, scope)  # the benchmark's own reference


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--expressions", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--depth", type=int, default=5)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    worst_value = worst_grad = 0.0
    worst_case = ""
    compared = refused = disagree_refusal = by_contract = 0
    started = time.perf_counter()
    for _ in range(args.expressions):
        text = draw(rng, args.depth)
        values = {n: round(rng.uniform(-2, 2), rng.choice([0, 1, 2])) for n in NAMES}
        used = [n for n in NAMES if re.search(rf"\b{n}\b", text)]
        if not used:
            continue
        env = {n: torch.tensor(values[n], dtype=torch.float64, requires_grad=True) for n in used}
        out = torch_value(text, env)
        out.backward()
        reference = float(out.detach())
        grads = {n: float(env[n].grad) if env[n].grad is not None else 0.0 for n in used}
        finite = math.isfinite(reference) and all(math.isfinite(g) for g in grads.values())
        try:
            done = api.trace({"expression": text, "inputs": {n: values[n] for n in used}})
        except ConfigError as err:
            refused += 1
            if finite and any(w in str(err) for w in ("division by 0", "log of 0")):
                # 1/0 or log 0 inside a branch a later max, min or relu discards: PyTorch
                # carries the inf and masks it; the tool refuses it, as its contract says
                by_contract += 1
            elif finite:
                disagree_refusal += 1
                print(f"refused, but PyTorch is finite: {text} at {values}")
            continue
        if not finite:
            disagree_refusal += 1
            print(f"PyTorch is not finite, the tool answered: {text} at {values}")
            continue
        compared += 1
        records = done.records
        scale = max(1.0, abs(reference))
        diff = abs(records.value - reference) / scale
        if diff > worst_value:
            worst_value = diff
        for name, grad in records.gradients:
            g_scale = max(1.0, abs(grads[name]))
            d = abs(grad - grads[name]) / g_scale
            if d > worst_grad:
                worst_grad, worst_case = d, f"∂f/∂{name} of {text} at {values}"
    seconds = time.perf_counter() - started
    print(f"torch {torch.__version__}, float64, seed {args.seed}, depth ≤ {args.depth}")
    print(f"{compared} expressions compared, {refused} refused by the tool ({seconds:.1f} s)")
    print(f"largest difference in f:          {worst_value:.1e} (relative, or absolute below 1)")
    print(f"largest difference in ∂f/∂input:  {worst_grad:.1e}  {worst_case}")
    print(
        f"refused as a division by 0 or log 0 that PyTorch carries as inf into a discarded "
        "branch: "
        f"{by_contract}"
    )
    print(f"refusals where PyTorch is finite, or answers where it is not: {disagree_refusal}")
    sys.exit(1 if worst_value > 1e-9 or worst_grad > 1e-9 or disagree_refusal else 0)


if __name__ == "__main__":
    main()
