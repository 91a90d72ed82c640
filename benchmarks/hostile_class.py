"""A class of 200 answers files, 20 of them hostile, marked in one command under a memory cap.

    python benchmarks/hostile_class.py                 # 200 files, 2 GiB address space
    python benchmarks/hostile_class.py --files 200 --limit-gib 2 --keep /tmp/class

Writes a homework set (`backtrace exercise lecture --variants 10`) and a class folder: honest
answers files, and one file for each hostile case a tester brought (issue #24) — numbers no
float holds, links to /dev/zero, /etc/passwd and out of the folder, a FIFO, a sparse 1.5 GB
file, 2 MB of numbers, alias bombs, deep nesting, inline networks too big to build, terminal
escapes and rich markup in names, formula-looking names, a folder named like a file. Then runs

    backtrace check --exercises SET CLASS --gradebook grades.csv

as a separate process with RLIMIT_AS set (the teacher's machine), and prints its wall time,
peak memory (max RSS), exit status, and whether every file got a row, the gradebook was written,
no traceback was printed and nothing of /etc/passwd reached any output.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HOSTILE = {
    "tiny_exponent.yaml": "answers: {o3: 0.49e-999999999999}\n",
    "huge_exponent.yaml": "answers: {o3: 0.49e-2000000000}\n",
    "slow_exponent.yaml": "answers: {o3: 0.49e-1000000000}\n",
    "long_integer.yaml": "answers: {o3: " + "7" * 400 + "}\n",
    "long_digits.yaml": "answers: {o3: 0." + "6" * 100_000 + "}\n",
    "path_variant.yaml": "answers: {o3: 0.68}\n",  # variant: a path, below
    "inline_deep.yaml": "config: {layers: [" + ", ".join(["1"] * 1500) + "]}\nanswers: {o2: 1}\n",
    "inline_wide.yaml": "config: {layers: [4000, 4000, 990]}\nanswers: {o2: 1}\n",
    "markup_name.yaml": "student: '[bold red]Mallory[/bold red]'\nanswers: {o3: 0.68}\n",
    "escape_name.yaml": 'student: "Eve\\e]52;c;aGk=\\a\\r"\nanswers: {o3: 0.68}\n',
    "formula_name.yaml": "student: ' =HYPERLINK(\"http://x\")'\nanswers: {o3: 0.68}\n",
    "fullwidth_name.yaml": "student: '＝1+1'\nanswers: {o3: 0.68}\n",
    "alias_bomb.yaml": (
        "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
        "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
        "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
    ),
    "deep.yaml": "answers: " + "[" * 5000 + "]" * 5000 + "\n",
}


def backtrace() -> str:
    script = Path(sys.executable).parent / "backtrace"
    if not script.exists():
        sys.exit(f"no backtrace script next to {sys.executable}: pip install . first")
    return str(script)


def build(root: Path, files: int) -> tuple[Path, Path, int]:
    """The teacher's set and a class folder; returns them and how many hostile files."""
    folder, klass = root / "set", root / "class"
    subprocess.run(
        [backtrace(), "exercise", "lecture", "--variants", "10", "--seed", "3", "-o", str(folder)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    klass.mkdir()
    idents = sorted(p.stem for p in (folder / "configs").glob("*.yaml"))
    for name, text in HOSTILE.items():
        head = f"variant: {idents[0]}\n" if not text.startswith("config:") else ""
        if name == "path_variant.yaml":
            head = "variant: ../../../../etc/passwd\n"
        (klass / name).write_text(head + text, encoding="utf-8")
    outside = root / "teachers_key.yaml"
    outside.write_text((folder / "configs" / f"{idents[0]}.yaml").read_text())
    (klass / "to_zero.yaml").symlink_to("/dev/zero")
    (klass / "to_passwd.yaml").symlink_to("/etc/passwd")
    (klass / "to_key.yaml").symlink_to(outside)
    os.mkfifo(klass / "fifo.yaml")
    with open(klass / "sparse.yaml", "wb") as stream:
        stream.truncate(1_500_000_000)
    (klass / "numbers.yaml").write_text("[" + ", ".join(["1.5"] * 390_000) + "]\n")
    (klass / "folder.yaml").mkdir()
    (klass / "binary.yaml").write_bytes(bytes(range(256)) * 64)
    hostile = sum(1 for _ in klass.iterdir())
    for n in range(files - hostile):
        ident = idents[n % len(idents)]
        text = f"variant: {ident}\nstudent: Student {n:03d}\nanswers:\n  net3: 0.755\n  o3: 0.68\n"
        (klass / f"s{n:03d}.yaml").write_text(text, encoding="utf-8")
    return folder, klass, hostile


def limit(gib: float):
    def apply() -> None:
        size = int(gib * 1024**3)
        resource.setrlimit(resource.RLIMIT_AS, (size, size))

    return apply


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--limit-gib", type=float, default=2.0)
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--keep", metavar="DIR", help="build the class here and keep it")
    args = parser.parse_args()
    root = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="hostile-"))
    root.mkdir(parents=True, exist_ok=True)
    folder, klass, hostile = build(root, args.files)
    grades = root / "grades.csv"
    command = [backtrace(), "check", "--exercises", str(folder), str(klass)]
    command += ["--gradebook", str(grades)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        errors="replace",
        preexec_fn=limit(args.limit_gib),
        timeout=args.timeout,
        env={**os.environ, "COLUMNS": "100"},
        check=False,
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    peak_mib = after.ru_maxrss / 1024  # the largest child so far: `exercise` or `check`
    rows = []
    if grades.exists():
        with grades.open(encoding="utf-8-sig", newline="") as stream:
            rows = list(csv.DictReader(stream))
    files = sorted(p.name for p in klass.iterdir())
    named = sorted(os.path.basename(r["file"]) for r in rows)
    everything = done.stdout + done.stderr + (grades.read_text("utf-8") if grades.exists() else "")
    python = platform.python_version()
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {python}")
    print(f"class: {len(files)} files, {hostile} hostile; address space limit {args.limit_gib} GiB")
    print(f"wall time: {wall:.2f} s; CPU time: {cpu:.2f} s; peak memory: {peak_mib:.0f} MiB")
    print(f"exit status: {done.returncode}")
    print(f"gradebook written: {grades.exists()}; rows: {len(rows)}")
    print(f"a row per file: {named == files}")
    print(f"error rows: {sum(1 for r in rows if r['error'])}")
    print(f"traceback printed: {'Traceback' in done.stderr}")
    print(f"/etc/passwd in any output: {'root:x:0:0' in everything}")
    print(f"raw ESC in any output: {chr(27) in done.stdout + done.stderr}")
    ok = (
        grades.exists()
        and named == files
        and "Traceback" not in done.stderr
        and "root:x:0:0" not in everything
        and done.returncode == 2
    )
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
