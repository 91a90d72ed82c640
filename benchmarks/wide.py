"""A wide network costs what it shows: 784-256-10 (seeded weights, one sample) against the
lecture's 2-2-1, each command in its own process, on this machine, in one run.

    python benchmarks/wide.py              # 5 interleaved rounds, the best of each
    python benchmarks/wide.py --runs 3 --skip-full

Uses the `backtrace` script installed next to the Python it runs under; output goes to a pipe
(no terminal), as a script or a redirect would take it. Targets (issue 12), as multiples of
`backtrace run` on the lecture example: summarised `run` ≤ 2.5×, `--format json` ≤ 8×,
`--full` ≤ 40×. Wall-clock time is what the targets judge; CPU time (user + system, of the
process) is printed beside it, as it moves less when the machine is shared.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGETS = {"run": 2.5, "run --format json": 8.0, "run --full": 40.0}


def wide_config(folder: Path) -> Path:
    """784 inputs in [0, 1] (an MNIST-sized image), 256 sigmoid hidden units, 10 outputs."""
    inputs = [round((i * 37 % 101) / 100, 2) for i in range(784)]  # fixed, no RNG needed
    targets = [1.0 if j == 3 else 0.0 for j in range(10)]
    path = folder / "wide.yaml"
    path.write_text(
        "name: 784-256-10, seeded\n"
        "layers: [784, 256, 10]\n"
        "activation: sigmoid\n"
        "loss: half_sse\n"
        "learning_rate: 0.1\n"
        f"inputs: {inputs}\n"
        f"targets: {targets}\n"
        "weights: {init: glorot_uniform, seed: 0}\n",
        encoding="utf-8",
    )
    return path


def once(command: list[str]) -> tuple[float, float, int]:
    """Wall-clock seconds, CPU seconds (user + system) and bytes written to stdout."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, len(done.stdout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="rounds (default 5)")
    parser.add_argument("--skip-full", action="store_true", help="leave out --full")
    args = parser.parse_args()
    script = Path(sys.executable).parent / "backtrace"
    if not script.exists():
        sys.exit(f"no backtrace script next to {sys.executable}: pip install . first")
    with tempfile.TemporaryDirectory() as tmp:
        wide = str(wide_config(Path(tmp)))
        todo = {
            "lecture run": [str(script), "run"],
            "run": [str(script), "run", wide],
            "run --format json": [str(script), "run", wide, "--format", "json"],
            "run --full": [str(script), "run", wide, "--full"],
        }
        if args.skip_full:
            del todo["run --full"]
        env_columns = os.environ.get("COLUMNS")
        os.environ["COLUMNS"] = "120"
        try:
            best: dict[str, tuple[float, float, int]] = {}
            for _ in range(args.runs):  # interleaved, so drift hits every command alike
                for name, command in todo.items():
                    wall, cpu, size = once(command)
                    if name in best:
                        wall, cpu = min(wall, best[name][0]), min(cpu, best[name][1])
                    best[name] = (wall, cpu, size)
        finally:
            if env_columns is None:
                os.environ.pop("COLUMNS")
            else:
                os.environ["COLUMNS"] = env_columns

    base_wall, base_cpu, _ = best["lecture run"]
    print(
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, load {os.getloadavg()[0]:.1f}; "
        f"best of {args.runs}, output to a pipe"
    )
    print(
        f"{'command':20} {'wall s':>7} {'× lecture':>9} {'CPU s':>7} {'× lecture':>9} "
        f"{'output':>8}  target (wall)"
    )
    failed = False
    for name, (wall, cpu, size) in best.items():
        ratio = wall / base_wall
        target = TARGETS.get(name)
        verdict = ""
        if target is not None:
            ok = ratio <= target
            failed |= not ok
            verdict = f"≤ {target:g}× {'ok' if ok else 'MISSED'}"
        print(
            f"{name:20} {wall:7.2f} {ratio:8.2f}× {cpu:7.2f} {cpu / base_cpu:8.2f}× "
            f"{size / 1e6:7.2f}M  {verdict}"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
