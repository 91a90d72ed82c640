"""XOR trained by a hand-written pure-Python loop: what `backtrace step xor` is measured against.

    python benchmarks/plain_xor.py 100000     # epochs; prints the weights and the last loss

configs/xor.yaml's network (2-2-1, sigmoid, biases, η = 1, online over the four samples in
order), its updates written out from the lecture's equations on plain floats, as a student
would write them: no numpy, no imports beyond math, so its start-up is Python's own.
"""

import math
import sys


def train(epochs: int) -> tuple[tuple[float, ...], float]:
    w13, w23, w14, w24, w35, w45 = 0.2, -0.4, 0.7, 0.1, 0.6, -0.3
    b3, b4, b5 = 0.1, -0.2, 0.3
    eta = 1.0
    samples = [(0.0, 0.0, 0.0), (0.0, 1.0, 1.0), (1.0, 0.0, 1.0), (1.0, 1.0, 0.0)]
    exp = math.exp
    loss = math.nan
    for _ in range(epochs):
        total = 0.0
        for x1, x2, t in samples:
            o3 = 1.0 / (1.0 + exp(-(w13 * x1 + w23 * x2 + b3)))
            o4 = 1.0 / (1.0 + exp(-(w14 * x1 + w24 * x2 + b4)))
            o5 = 1.0 / (1.0 + exp(-(w35 * o3 + w45 * o4 + b5)))
            e = t - o5
            total += 0.5 * e * e
            d5 = o5 * (1.0 - o5) * e
            d3 = o3 * (1.0 - o3) * (w35 * d5)
            d4 = o4 * (1.0 - o4) * (w45 * d5)
            w35 += eta * d5 * o3
            w45 += eta * d5 * o4
            b5 += eta * d5
            w13 += eta * d3 * x1
            w23 += eta * d3 * x2
            b3 += eta * d3
            w14 += eta * d4 * x1
            w24 += eta * d4 * x2
            b4 += eta * d4
        loss = total / 4
    return (w13, w23, w14, w24, w35, w45, b3, b4, b5), loss


if __name__ == "__main__":
    weights, loss = train(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
    print(" ".join(f"{w:.6f}" for w in weights), f"loss {loss:.6g}")
