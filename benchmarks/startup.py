"""Start-up time of the CLI against importing its dependencies, on this machine, in one run.

    python benchmarks/startup.py            # 30 interleaved rounds
    python benchmarks/startup.py --runs 50

Uses the Python it runs under and the `backtrace` script installed next to it. Targets (from
the tracer issue): `backtrace --help` ≤ 1.3 × `python -c "import click"`, and `backtrace run`
≤ 1.25 × `python -c "import numpy, yaml, click, rich.console, rich.table"`.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

TARGETS = {"help": 1.3, "run": 1.25}


def commands() -> dict[str, list[str]]:
    script = Path(sys.executable).parent / "backtrace"
    if not script.exists():
        sys.exit(f"no backtrace script next to {sys.executable}: pip install . first")
    python = sys.executable
    return {
        "import click": [python, "-c", "import click"],
        "backtrace --help": [str(script), "--help"],
        "import numpy, yaml, click, rich": [
            python,
            "-c",
            "import numpy, yaml, click, rich.console, rich.table",
        ],
        "backtrace run": [str(script), "run"],
    }


def once(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30, help="rounds (default 30)")
    args = parser.parse_args()
    todo = commands()
    times: dict[str, list[float]] = {name: [] for name in todo}
    for command in todo.values():  # warm the file cache once
        once(command)
    for _ in range(args.runs):  # interleaved, so drift hits every command alike
        for name, command in todo.items():
            times[name].append(once(command))

    print(
        f"machine: {platform.platform()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()} ({sys.executable})"
    )
    print(f"{args.runs} runs each, interleaved\n")
    print(f"{'command':34} {'median':>9} {'min':>9}")
    for name, values in times.items():
        print(f"{name:34} {statistics.median(values) * 1000:7.1f}ms {min(values) * 1000:7.1f}ms")
    median = {name: statistics.median(values) for name, values in times.items()}
    ratios = {
        "help": median["backtrace --help"] / median["import click"],
        "run": median["backtrace run"] / median["import numpy, yaml, click, rich"],
    }
    print()
    failed = False
    for key, label in [
        ("help", "backtrace --help / import click"),
        ("run", "backtrace run / import numpy, yaml, click, rich"),
    ]:
        ok = ratios[key] <= TARGETS[key]
        failed |= not ok
        print(
            f"{label:48} {ratios[key]:5.2f}×  target ≤ {TARGETS[key]}×  {'PASS' if ok else 'FAIL'}"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
