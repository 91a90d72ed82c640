"""A class marked in one command against one `check`, on this machine.

    python benchmarks/gradebook.py              # 200 files, 5 interleaved rounds
    python benchmarks/gradebook.py --files 200 --runs 9

Writes a homework set (`backtrace exercise lecture --variants 10`) and FILES answers files in a
temporary folder — each answering every question of a variant: a third right at full precision,
a third carried at 3 significant figures, a third with a slip in δ3 carried on to the weights
it changes — then times, as separate processes,

    backtrace check --exercises DIR SUBMISSIONS --gradebook grades.csv     (all FILES)
    backtrace check ONE.yaml                                                (one of them)

Target (issue #18): the first within 3 × the second. Both CPU time and wall-clock time are
reported; the verdict uses CPU time, which waiting for a busy machine's cores does not inflate.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET = 3.0
# a third of the class flips δ3's sign and carries the slip on: Δw = η·δ3·x changes sign and
# the new weight moves the other way (new w = w + Δw, so the new value less 2·Δw)
SLIP = {
    "δ3": lambda k: -k["δ3"],
    "Δw13": lambda k: -k["Δw13"],
    "new w13": lambda k: k["new w13"] - 2 * k["Δw13"],
    "Δw23": lambda k: -k["Δw23"],
    "new w23": lambda k: k["new w23"] - 2 * k["Δw23"],
}


def backtrace() -> str:
    script = Path(sys.executable).parent / "backtrace"
    if not script.exists():
        sys.exit(f"no backtrace script next to {sys.executable}: pip install . first")
    return str(script)


def sig(value: float, figures: int) -> float:
    return float(f"{value:.{figures - 1}e}")


def build(root: Path, files: int) -> tuple[Path, Path, Path]:
    folder, submissions = root / "set", root / "answers"
    subprocess.run(
        [backtrace(), "exercise", "lecture", "--variants", "10", "--seed", "3", "-o", str(folder)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    manifest = json.loads((folder / "exercise.json").read_text())
    keys = {}
    for ident in manifest["variants"]:
        doc = subprocess.run(
            [backtrace(), "run", str(folder / "configs" / f"{ident}.yaml"), "--format", "json"],
            check=True,
            capture_output=True,
            text=True,
        )
        equations = json.loads(doc.stdout)["steps"][0]["equations"]
        keys[ident] = {e["symbol"]: e["value"] for e in equations}
    submissions.mkdir()
    idents = list(keys)
    # every question of the sheet, by the name an answers file uses
    names = {
        e: e.replace("new ", "").replace("δ", "delta").replace("Δw", "dw")
        for e in keys[idents[0]]
        if not e.startswith("∂")  # chain-rule factors are shown, not asked
    }
    for n in range(files):
        ident = idents[n % len(idents)]
        kind = n % 3
        lines = [f"variant: {ident}", f"student: student {n:03d}"]
        if kind == 1:
            lines.append("round: 3sf")
        lines.append("answers:")
        for symbol, name in names.items():
            value = keys[ident][symbol]
            if kind == 1:
                value = sig(value, 3)
            if kind == 2 and symbol in SLIP:  # δ3 with its sign flipped, carried on
                value = SLIP[symbol](keys[ident])
            lines.append(f"  {name}: {value!r}")
        (submissions / f"s{n:03d}.yaml").write_text("\n".join(lines) + "\n")
    one = root / "one.yaml"
    text = (submissions / "s001.yaml").read_text()
    one.write_text(
        text.replace(f"variant: {idents[1]}", f"exercise: {folder}/configs/{idents[1]}.yaml")
    )
    return folder, submissions, one


def once(command: list[str], ok: tuple[int, ...] = (0, 1)) -> tuple[float, float]:
    """(wall-clock seconds, CPU seconds of the process): on a shared machine the CPU time
    is the steadier figure, since waiting for a core is not counted in it."""
    start = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode not in ok:
        sys.exit(f"{' '.join(command)} failed with status {child.returncode}")
    return elapsed, usage.ru_utime + usage.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=200, help="answers files (default 200)")
    parser.add_argument("--runs", type=int, default=5, help="rounds (default 5)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        folder, submissions, one = build(root, args.files)
        grades = root / "grades.csv"
        batch = [backtrace(), "check", "--exercises", str(folder), str(submissions),
                 "--gradebook", str(grades), "--force"]  # fmt: skip
        single = [backtrace(), "check", str(one)]
        once(batch)
        once(single)
        times: dict[str, list[tuple[float, float]]] = {"batch": [], "single": []}
        for _ in range(args.runs):
            times["batch"].append(once(batch))
            times["single"].append(once(single))
        rows = grades.read_text().count("\n") - 1
    wall = {k: statistics.median(t[0] for t in v) for k, v in times.items()}
    cpu = {k: statistics.median(t[1] for t in v) for k, v in times.items()}
    ratio = cpu["batch"] / cpu["single"]
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, median of {args.runs} runs")  # fmt: skip
    print("                              CPU     wall")
    print(f"  check of 1 file:          {cpu['single']:6.2f} s {wall['single']:6.2f} s")
    print(f"  gradebook of {rows} files:   {cpu['batch']:6.2f} s {wall['batch']:6.2f} s")
    print(
        f"  ratio: {ratio:.2f} × in CPU time, {wall['batch'] / wall['single']:.2f} × wall-clock "
        f"(target ≤ {TARGET:g} ×)"
    )
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
