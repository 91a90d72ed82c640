"""A wide network costs what it shows: 784-256-10 (seeded weights, one sample) against the
lecture's 2-2-1, each command in its own process, on this machine, in one run.

    python benchmarks/wide.py              # 5 interleaved rounds: the median and best of each
    python benchmarks/wide.py --runs 3 --skip-full
    python benchmarks/wide.py --runs 9 --only "run --full"     # and the lecture's, always

Uses the `backtrace` script installed next to the Python it runs under (with PYTHONPATH, the
checkout it names); output goes to a pipe (no terminal), as a script or a redirect would take
it. Targets (issues 12 and 29), as multiples of `backtrace run` on the lecture example, start-up
included: summarised `run` ≤ 2.5×, `--format json` ≤ 8×, `--full` ≤ 40×. Wall-clock time is
what the targets judge, the median of the rounds (each round runs every command once, in turn,
so drift on a shared machine hits them alike); the best round and CPU time (user + system, of
the process) are printed beside it, as they move less when the machine is shared. Run it
with .pyc files written (PYTHONDONTWRITEBYTECODE unset), as users have them.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shlex
import statistics
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
    parser.add_argument(
        "--only",
        metavar="NAMES",
        help=f"comma-separated, of: {', '.join(TARGETS)} (the lecture's run is always measured)",
    )
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
        if args.only:
            wanted = {name.strip() for name in args.only.split(",")}
            unknown = wanted - set(TARGETS)
            if unknown:
                sys.exit(f"--only: {', '.join(sorted(unknown))}; use of: {', '.join(TARGETS)}")
            todo = {name: c for name, c in todo.items() if name == "lecture run" or name in wanted}
        env_columns = os.environ.get("COLUMNS")
        os.environ["COLUMNS"] = "120"
        loads = [os.getloadavg()[0]]
        try:
            rounds: dict[str, list[tuple[float, float, int]]] = {name: [] for name in todo}
            for _ in range(args.runs):  # interleaved, so drift hits every command alike
                for name, command in todo.items():
                    rounds[name].append(once(command))
                loads.append(os.getloadavg()[0])
        finally:
            if env_columns is None:
                os.environ.pop("COLUMNS")
            else:
                os.environ["COLUMNS"] = env_columns

    median = {name: statistics.median(r[0] for r in runs) for name, runs in rounds.items()}
    best = {name: min(r[0] for r in runs) for name, runs in rounds.items()}
    cpu = {name: statistics.median(r[1] for r in runs) for name, runs in rounds.items()}
    print(
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, load (1 min) {min(loads):.1f}–{max(loads):.1f}; "
        f"{args.runs} interleaved rounds, output to a pipe, COLUMNS=120"
    )
    print(
        f"{'command':20} {'median s':>8} {'× lecture':>9} {'best s':>7} {'× lecture':>9} "
        f"{'CPU s':>6} {'× lecture':>9} {'output':>8}  target (median wall)"
    )
    failed = False
    for name in rounds:
        ratio = median[name] / median["lecture run"]
        target = TARGETS.get(name)
        verdict = ""
        if target is not None:
            ok = ratio <= target
            failed |= not ok
            verdict = f"≤ {target:g}× {'ok' if ok else 'MISSED'}"
        print(
            f"{name:20} {median[name]:8.2f} {ratio:8.2f}× {best[name]:7.2f} "
            f"{best[name] / best['lecture run']:8.2f}× {cpu[name]:6.2f} "
            f"{cpu[name] / cpu['lecture run']:8.2f}× {rounds[name][0][2] / 1e6:7.2f}M  {verdict}"
        )
    print("commands (wide.yaml: 784-256-10, in a temporary folder):")
    for name, command in todo.items():
        print(f"  {name:20} {shlex.join(command)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
