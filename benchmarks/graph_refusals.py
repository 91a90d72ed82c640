"""How long `backtrace run` takes to refuse hostile or absurd graph expressions (target: under
a second each, start-up included), and to trace the largest graph it accepts.

    python benchmarks/graph_refusals.py    # each case: best of 3 runs of the command, and
                                           # best of 3 inside one process

Each case is a config file with one `expression:`; the command is run as a user runs it, in a
fresh process, and must exit 2 (refusals) or 0 (the largest accepted graph).
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time

CASES = {
    "__import__('os').system('true')": 2,
    "x.__class__.__mro__": 2,
    "(" * 100_000 + "x" + ")" * 100_000: 2,  # 200,001 characters of nesting
    "-" * 9_000 + "x": 2,
    "+".join(["x"] * 1_000): 2,  # 999 operations: over the limit of 500
    "exp(exp(exp(x)))": 2,  # overflow
    "log(x - x)": 2,  # log 0
    "1/(x - x)": 2,
    "+".join(["sigmoid(x*x)"] * 160): 0,  # 479 operations: near the limit, accepted
}


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        worst = worst_inside = 0.0
        print("command  in-process  status  expression                                 message")
        for text, status in CASES.items():
            path = os.path.join(folder, "graph.yaml")
            with open(path, "w", encoding="utf-8") as stream:
                stream.write(f"expression: {json.dumps(text)}\ninputs: {{x: 3}}\n")
            times = []
            for _ in range(3):
                started = time.perf_counter()
                done = subprocess.run(
                    [sys.executable, "-m", "backtrace_cli", "run", path, "--format", "json"],
                    capture_output=True,
                    text=True,
                    check=False,
                )
                times.append(time.perf_counter() - started)
                if done.returncode != status:
                    sys.exit(f"{text[:40]!r}: exit {done.returncode}, expected {status}")
            best = min(times)
            worst = max(worst, best)
            inside = _in_process(path)
            worst_inside = max(worst_inside, inside)
            shown = text if len(text) <= 40 else text[:37] + "..."
            message = done.stderr.strip().split(": ", 2)[-1][:60]
            print(f"{best:6.3f} s  {inside * 1000:7.1f} ms  exit {status}  {shown:<42} {message}")
        print(
            f"slowest: {worst:.3f} s as a command (process start-up included), "
            f"{worst_inside * 1000:.1f} ms inside the process; target: under 1 s"
        )
        sys.exit(0 if worst < 1.0 else 1)


def _in_process(path: str) -> float:
    """Loading and tracing the config inside one process: the refusal itself (best of 3)."""
    from backtrace_cli import ConfigError, api

    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        with contextlib.suppress(ConfigError):
            api.trace(path).json()
        best = min(best, time.perf_counter() - started)
    return best


if __name__ == "__main__":
    main()
