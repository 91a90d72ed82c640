"""Every output of the tool, written to a folder, so a refactoring can prove it changed none of it.

    python benchmarks/snapshot.py write /work/snapshots/base       # before the redesign
    python benchmarks/snapshot.py write /tmp/after --configs-from /work/snapshots/base
    python benchmarks/snapshot.py compare /work/snapshots/base /tmp/after   # exit 1 if any differ
    python benchmarks/snapshot.py compare --partial BASE /tmp/some   # /tmp/some written --only

Issue 25 (one worked solution, code moved into subpackages) is accepted when every number, table,
markdown page and JSON document is byte-identical before and after. `write DIR` runs, in-process
(click's CliRunner on `backtrace_cli.cli:cli`, no colour, in DIR with relative paths), for every
built-in example and for 200 random networks and 50 random graphs drawn from a fixed seed (their
configs are written to DIR/configs/; `--configs-from` reuses another snapshot's, so both sides
trace the same inputs): `run` as a table at 80 and 120 columns, as markdown and as JSON; `run
--round 3sf`, `--gradients`, `--verify`, and `--notation nielsen|hagan|mazur` for networks; `step
--epochs 3` as a table, markdown and JSON, and with `--trace 1`; `quiz` with every answer revealed
(`!`), then fed those answers (`-o` its session file); `check` of that session file, of the key
(every value at full precision from check's own JSON) and of the key with one value perturbed, as
text and JSON; and for the built-in examples `examples NAME` and the folder `exercise NAME
--variants 2 --seed 1` writes. Each invocation runs in a forked child, with a fresh process's
state (the tool's caches would otherwise carry from one run to the next), and is one file
DIR/out/CASE/NAME.txt: the command line, the exit status, stdout and stderr (an exception
escaping the CLI is recorded by type and message).
Refused configs are fine: their message is the output. `compare` prints every differing file with
its first differing line, then the count. `--only 'builtin/*'` writes a subset, to try it.
"""

from __future__ import annotations

import argparse
import fnmatch
import itertools
import json
import multiprocessing
import os
import random
import re
import shutil
import sys
import time
from pathlib import Path

SEED = 25  # the number: the same random networks and graphs on every machine
NETWORKS = 200
GRAPHS = 50
NOTATIONS = ("nielsen", "hagan", "mazur")
REVEAL = "!\n" * 5000  # more than any example's questions (dropout256 has a few hundred)


# --- random configs -------------------------------------------------------------------------


def _value(rng: random.Random, low: float = -1.0, high: float = 1.0) -> float:
    """A hand-sized number, two decimals, never 0."""
    while True:
        v = round(rng.uniform(low, high), 2)
        if v != 0:
            return v


def _yaml(data: object, indent: int = 0) -> str:
    """A small, stable YAML writer (flow lists, block mappings) so configs read as a user's."""
    pad = "  " * indent
    if isinstance(data, dict):
        lines = []
        for key, value in data.items():
            if isinstance(value, dict) and value:
                lines.append(f"{pad}{key}:\n{_yaml(value, indent + 1)}")
            else:
                lines.append(f"{pad}{key}: {_flow(value)}")
        return "\n".join(lines)
    return pad + _flow(data)


def _flow(value: object) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False) if re.search(r"[:#{}\[\],]", value) else value
    return repr(value)


def random_network(rng: random.Random, number: int) -> str:
    """A random dense network config: layers, activations, loss, biases, dropout, optimizer."""
    n_in = rng.randint(1, 3)
    hidden = [rng.randint(1, 4) for _ in range(rng.randint(1, 3))]
    classify = rng.random() < 0.2
    n_out = rng.randint(2, 3) if classify else rng.randint(1, 3)
    layers = [n_in, *hidden, n_out]
    kinds = ["sigmoid", "tanh", "relu", "leaky_relu", "elu", "linear"]
    cfg: dict[str, object] = {"name": f"Random network {number}", "layers": layers}
    if classify:
        out_act, loss = "softmax", "cross_entropy"
    else:
        out_act = rng.choice(kinds)
        loss = rng.choice(
            ["half_sse", "sse", "mse", "bce"]
            if out_act == "sigmoid"
            else ["half_sse", "sse", "mse"]
        )
    hidden_acts = [rng.choice(kinds) for _ in hidden]
    if (
        not classify
        and len(set(hidden_acts)) == 1
        and hidden_acts[0] == out_act
        and rng.random() < 0.7
    ):
        cfg["activation"] = out_act
    elif rng.random() < 0.4 and not classify:
        cfg["activation"] = out_act
        hidden_acts = [out_act] * len(hidden)
    else:
        cfg["activations"] = [*hidden_acts, out_act]
    if "leaky_relu" in (*hidden_acts, out_act) and rng.random() < 0.4:
        cfg["leaky_relu_slope"] = rng.choice([0.1, 0.2])
    cfg["loss"] = loss
    cfg["learning_rate"] = rng.choice([0.05, 0.1, 0.5, 1])

    def target() -> list[float]:
        if classify:
            hot = [0] * n_out
            hot[rng.randrange(n_out)] = 1
            return hot
        if loss == "bce" or out_act == "sigmoid":
            return [round(rng.uniform(0.05, 0.95), 2) for _ in range(n_out)]
        return [_value(rng) for _ in range(n_out)]

    n_samples = rng.choice([1, 1, 2, 3])
    if n_samples == 1:
        cfg["inputs"] = [_value(rng) for _ in range(n_in)]
        cfg["targets"] = target()
    else:
        cfg["mode"] = rng.choice(["online", "batch"])
        if cfg["mode"] == "batch" and rng.random() < 0.5:
            cfg["batch_gradient"] = rng.choice(["mean", "sum"])
        cfg["samples"] = [
            {"inputs": [_value(rng) for _ in range(n_in)], "targets": target()}
            for _ in range(n_samples)
        ]
    cfg["weights"] = [
        [[_value(rng) for _ in range(before)] for _ in range(units)]
        for before, units in itertools.pairwise(layers)
    ]
    bias = rng.choice(["none", "all", "some"])
    if bias != "none":
        lists: list[object] = [[_value(rng) for _ in range(units)] for units in layers[1:]]
        if bias == "some":
            lists[rng.randrange(len(lists))] = None
        cfg["biases"] = lists
        if rng.random() < 0.2:
            cfg["train_biases"] = False
    if rng.random() < 0.25:
        dropout: dict[str, object] = {
            "rate": rng.choice([0.2, 0.25, 0.5]),
            "seed": rng.randint(0, 99),
        }
        if rng.random() < 0.5:
            masks = {}
            for i, units in enumerate(hidden, 1):
                mask = [rng.choice([0, 1]) for _ in range(units)]
                if not any(mask):
                    mask[0] = 1
                masks[f"hidden{i}"] = mask
            dropout["masks"] = masks
        cfg["dropout"] = dropout
    opt = rng.choice(["sgd", "sgd", "momentum", "nesterov", "rmsprop", "adagrad", "adam", "adamw"])
    if opt == "sgd":
        if rng.random() < 0.5:
            cfg["optimizer"] = "sgd"
    elif rng.random() < 0.4:
        cfg["optimizer"] = opt  # a bare name: every default
    else:
        params: dict[str, object] = {"name": opt}
        if opt in ("momentum", "nesterov"):
            params["momentum"] = rng.choice([0.5, 0.9])
        elif opt == "rmsprop":
            params.update(rho=rng.choice([0.9, 0.99]), epsilon=1.0e-8)
        elif opt == "adagrad":
            params["epsilon"] = 1.0e-10
        else:
            params.update(beta1=0.9, beta2=rng.choice([0.99, 0.999]), epsilon=1.0e-8)
            if opt == "adamw":
                params["weight_decay"] = rng.choice([0.01, 0.1])
        cfg["optimizer"] = params
    if opt != "adamw" and rng.random() < 0.2:
        cfg["weight_decay"] = rng.choice([0.001, 0.01])
    return _yaml(cfg) + "\n"


class _Expr:
    """Random expression text with its value, built so every operation is in its domain."""

    def __init__(self, rng: random.Random, names: dict[str, float]):
        self.rng, self.names = rng, names

    def leaf(self) -> tuple[str, float]:
        if self.rng.random() < 0.8 or not self.names:
            name = self.rng.choice(sorted(self.names))
            return name, self.names[name]
        c = self.rng.choice([1, 2, 3, 0.5])
        return repr(c), float(c)

    def build(self, depth: int) -> tuple[str, float]:
        for _ in range(50):
            got = self._try(depth)
            if got is not None and abs(got[1]) < 1e4 and abs(got[1]) > 1e-6:
                return got
        return self.leaf()

    def _try(self, depth: int) -> tuple[str, float] | None:
        import math

        if depth <= 0:
            return self.leaf()
        rng = self.rng
        kind = rng.choice(["bin", "bin", "bin", "fn", "fn", "pow", "neg"])
        if kind == "neg":
            a, va = self.build(depth - 1)
            return f"-({a})", -va
        if kind == "pow":
            a, va = self.build(depth - 1)
            e = 0.5 if rng.random() < 0.3 and va > 0.05 else rng.choice([2, 3])
            if abs(va) > 20:
                return None
            op = rng.choice(["^", "**"])
            return f"({a}){op}{e}", va**e
        if kind == "bin":
            op = rng.choice(["+", "-", "*", "/"])
            a, va = self.build(depth - 1)
            b, vb = self.build(depth - 1)
            if op == "/" and abs(vb) < 0.1:
                return None
            v = {"+": va + vb, "-": va - vb, "*": va * vb, "/": va / vb if vb else 0.0}[op]
            return f"({a} {op} {b})", v
        fn = rng.choice(["exp", "log", "sqrt", "abs", "sigmoid", "tanh", "relu", "max", "min"])
        a, va = self.build(depth - 1)
        if fn in ("max", "min"):
            b, vb = self.build(depth - 1)
            if abs(va - vb) < 0.01:
                return None
            return f"{fn}({a}, {b})", (max if fn == "max" else min)(va, vb)
        if fn == "exp":
            return (f"exp({a})", math.exp(va)) if va < 8 else None
        if fn in ("log", "sqrt"):
            if va < 0.05:
                return None
            return f"{fn}({a})", math.log(va) if fn == "log" else math.sqrt(va)
        if fn in ("abs", "relu") and abs(va) < 0.01:
            return None
        value = {
            "abs": abs(va),
            "sigmoid": 1 / (1 + math.exp(-va)) if va > -700 else 0.0,
            "tanh": math.tanh(va),
            "relu": max(va, 0.0),
        }[fn]
        return f"{fn}({a})", value


def random_graph(rng: random.Random, number: int) -> str:
    """A random scalar graph, as `nodes:` or `expression:`, with inputs that keep it in-domain."""
    letters = ["x", "y", "z", "w", "b", "u", "v"]
    names = rng.sample(letters, rng.randint(1, 4))
    inputs = {n: _value(rng, -2, 2) for n in names}
    gen = _Expr(rng, dict(inputs))
    lines = [f"name: Random graph {number}"]
    if rng.random() < 0.5:
        text, _ = gen.build(rng.randint(1, 3))
        lines.append(f"expression: {text}")
    else:
        lines.append("nodes:")
        for i in range(rng.randint(2, 4)):
            text, value = gen.build(rng.randint(1, 2))
            node = f"n{i + 1}" if rng.random() < 0.5 else f"q{i + 1}"
            lines.append(f"  {node}: {text}")
            gen.names[node] = value
    lines.append("inputs: " + _flow(inputs))
    if rng.random() < 0.4:
        lines.append("parameters: " + _flow(rng.sample(names, rng.randint(1, len(names)))))
        lines.append(f"learning_rate: {rng.choice([0.01, 0.05, 0.1])}")
        if rng.random() < 0.3:
            lines.append(f"optimizer: {rng.choice(['momentum', 'adam', 'rmsprop', 'adagrad'])}")
    return "\n".join(lines) + "\n"


def random_configs(seed: int, networks: int, graphs: int) -> dict[str, str]:
    """File name → config text, the same for the same seed."""
    rng = random.Random(seed)
    out = {f"net{i:03d}.yaml": random_network(rng, i) for i in range(1, networks + 1)}
    out.update({f"graph{i:03d}.yaml": random_graph(rng, i) for i in range(1, graphs + 1)})
    return out


# --- running the CLI ------------------------------------------------------------------------


def _invoke_here(
    args: list[str], columns: int = 80, stdin: str | None = None
) -> tuple[str, int, str]:
    """One run in this process: (a record of it, exit status, stdout)."""
    from click.testing import CliRunner

    from backtrace_cli.cli import cli

    runner = CliRunner(env={"COLUMNS": str(columns), "LINES": "50", "NO_COLOR": "1"})
    result = runner.invoke(cli, args, input=stdin, color=False, catch_exceptions=True)
    error = ""
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        error = f"exception: {type(result.exception).__name__}: {result.exception}\n"
    record = (
        f"$ backtrace {' '.join(args)}   # COLUMNS={columns}\n"
        f"exit: {result.exit_code}\n{error}"
        f"--- stdout ---\n{result.stdout}"
        f"--- stderr ---\n{result.stderr}"
    )
    return record, result.exit_code, result.stdout


def _invoke(args: list[str], columns: int = 80, stdin: str | None = None) -> tuple[str, int, str]:
    """One run in a forked child, which starts from the state a fresh `backtrace` process has.

    Why not in this process: the tool's caches are per process, and `functools.lru_cache` holds
    0.0 and -0.0 as one key (rounding.round_value), so a value's sign of zero in `--round` JSON
    depended on what had run before it in the same process.
    """
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: run, hand the result back, leave without any clean-up of the parent's
        os.close(read)
        try:
            payload = json.dumps(_invoke_here(args, columns, stdin))
        except BaseException as err:  # recorded: a crash is a difference too
            payload = json.dumps([f"snapshot: {err!r}\n", -1, ""])
        with os.fdopen(write, "w", encoding="utf-8") as pipe:
            pipe.write(payload)
        os._exit(0)
    os.close(write)
    with os.fdopen(read, encoding="utf-8") as pipe:
        data = pipe.read()
    os.waitpid(pid, 0)
    record, code, stdout = json.loads(data)
    return record, code, stdout


def _preload() -> None:
    """Import the tool and what it loads once, so each forked run does not import it again."""
    import importlib
    import pkgutil

    import click.testing  # noqa: F401

    import backtrace_cli

    for module in pkgutil.walk_packages(backtrace_cli.__path__, "backtrace_cli."):
        if not module.name.endswith("__main__"):
            importlib.import_module(module.name)


def _revealed(quiz_output: str) -> list[str]:
    """The answers a quiz revealed, in the order it asked them, as a student would type them."""
    tail = quiz_output.split("Mistakes made:", 1)[-1] if "Mistakes made:" in quiz_output else ""
    return [
        m.group(1).replace("−", "-")
        for m in re.finditer(r"^  .*?: revealed: (\S+)$", tail, flags=re.MULTILINE)
    ]


def _answer_lines(session: str) -> list[int]:
    """Indexes of the `  name: value` lines under `answers:` in an answers file."""
    lines = session.splitlines()
    if "answers:" not in lines:
        return []
    start = lines.index("answers:") + 1
    return [i for i in range(start, len(lines)) if re.match(r"^  \S.*: \S+$", lines[i])]


def _with_values(session: str, values: list[float]) -> str:
    """The answers file with its answers' values replaced, in order."""
    lines = session.splitlines()
    for i, v in zip(_answer_lines(session), values):
        head = lines[i].rsplit(": ", 1)[0]
        lines[i] = f"{head}: {v!r}"
    return "\n".join(lines) + "\n"


def _cpu() -> float:
    """CPU seconds of this process and of the runs it forked and waited for."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def run_case(job: tuple[str, str, str, bool]) -> tuple[str, int, float, float]:
    """Every output for one config; returns (case, files written, wall seconds, CPU seconds)."""
    case, target, kind, builtin = job  # target: a built-in name or configs/….yaml
    start, cpu = time.perf_counter(), _cpu()
    out = Path("out") / case
    out.mkdir(parents=True, exist_ok=True)
    files = 0

    def save(name: str, args: list[str], columns: int = 80, stdin: str | None = None) -> str:
        nonlocal files
        record, _, stdout = _invoke(args, columns, stdin)
        (out / f"{name}.txt").write_text(record, encoding="utf-8")
        files += 1
        return stdout

    if builtin:
        save("examples", ["examples", target])
    save("run.table80", ["run", target])
    save("run.table120", ["run", target], columns=120)
    save("run.markdown", ["run", target, "--format", "markdown"])
    save("run.json", ["run", target, "--format", "json"])
    save("run.round3sf", ["run", target, "--round", "3sf"])
    save("run.round3sf.json", ["run", target, "--round", "3sf", "--format", "json"])
    save("run.gradients", ["run", target, "--gradients"])
    save("run.verify", ["run", target, "--verify"])
    if kind == "network":
        for book in NOTATIONS:
            save(f"run.notation-{book}", ["run", target, "--notation", book])
            save(
                f"run.notation-{book}.markdown",
                ["run", target, "--notation", book, "--format", "markdown"],
            )
    save("step3.table", ["step", target, "--epochs", "3"])
    save("step3.markdown", ["step", target, "--epochs", "3", "--format", "markdown"])
    save("step3.json", ["step", target, "--epochs", "3", "--format", "json"])
    save("step3.trace1", ["step", target, "--epochs", "3", "--trace", "1"])
    save("step3.trace1.json", ["step", target, "--epochs", "3", "--trace", "1", "--format", "json"])

    # quiz: reveal every answer, then type them back; its session file is check's input
    revealed = _revealed(save("quiz.reveal", ["quiz", target], stdin=REVEAL))
    session_path = out / "quiz.session.yaml"
    save(
        "quiz.answers", ["quiz", target, "-o", str(session_path)], stdin="\n".join(revealed) + "\n"
    )
    if session_path.exists():
        files += 1
        session = session_path.read_text(encoding="utf-8")
        save("check.session", ["check", str(session_path)])
        report = save("check.session.json", ["check", str(session_path), "--format", "json"])
        try:
            expected = [a["expected"] for a in json.loads(report)["answers"]]
        except (ValueError, KeyError, TypeError):
            expected = []
        if expected and len(expected) == len(_answer_lines(session)):
            key = out / "check.key.yaml"
            key.write_text(_with_values(session, expected), encoding="utf-8")
            save("check.key", ["check", str(key)])
            save("check.key.json", ["check", str(key), "--format", "json"])
            wrong = list(expected)
            middle = len(wrong) // 2
            wrong[middle] = wrong[middle] * 1.1 + 0.01  # one slip, mid-way: what follows from it
            perturbed = out / "check.perturbed.yaml"
            perturbed.write_text(_with_values(session, wrong), encoding="utf-8")
            save("check.perturbed", ["check", str(perturbed)])
            save("check.perturbed.json", ["check", str(perturbed), "--format", "json"])
            files += 2
    if builtin:
        folder = out / "exercise"
        save("exercise", ["exercise", target, "--variants", "2", "--seed", "1", "-o", str(folder)])
        if folder.exists():
            files += sum(1 for p in folder.rglob("*") if p.is_file())
    return case, files, time.perf_counter() - start, _cpu() - cpu


def builtin_examples() -> list[tuple[str, str]]:
    """(name, kind) of every built-in example, from `backtrace examples`."""
    _record, _, stdout = _invoke(["examples"])
    names = re.findall(r"^([a-z0-9_]+) {2,}\S", stdout, flags=re.MULTILINE)  # "lecture   Lecture …"
    kinds = []
    for name in names:
        _, _, text = _invoke(["examples", name])
        kinds.append(
            (name, "graph" if re.search(r"^(nodes|expression):", text, re.M) else "network")
        )
    return kinds


def write(directory: Path, configs_from: Path | None, seed: int, jobs: int, only: list[str]) -> int:
    if directory.exists() and any(directory.iterdir()):
        sys.exit(f"{directory} is not empty: write into a new folder")
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "configs").mkdir()
    if configs_from is not None:
        for path in sorted((configs_from / "configs").glob("*.yaml")):
            shutil.copyfile(path, directory / "configs" / path.name)
    else:
        for name, text in random_configs(seed, NETWORKS, GRAPHS).items():
            (directory / "configs" / name).write_text(text, encoding="utf-8")
    os.chdir(directory)  # relative paths only: messages name configs/…, never a tmp path
    _preload()
    start = time.perf_counter()
    work = [(f"builtin/{name}", name, kind, True) for name, kind in builtin_examples()]
    for path in sorted(Path("configs").glob("*.yaml")):
        kind = "graph" if path.name.startswith("graph") else "network"
        work.append((f"{kind}/{path.stem}", str(path), kind, False))
    if only:
        work = [w for w in work if any(fnmatch.fnmatch(w[0], pattern) for pattern in only)]
    with multiprocessing.get_context("fork").Pool(jobs) as pool:
        done = list(pool.imap_unordered(run_case, work, chunksize=1))
    total = sum(d[1] for d in done) + len(list(Path("configs").glob("*.yaml")))
    slowest = sorted(done, key=lambda d: -d[3])[:3]
    print(
        f"wrote {total} files for {len(work)} configs into {directory} in "
        f"{time.perf_counter() - start:.1f} s wall, {sum(d[3] for d in done):.1f} s CPU "
        f"({jobs} processes)"
    )
    print("most CPU: " + ", ".join(f"{d[0]} {d[3]:.1f} s" for d in slowest))
    return 0


def _files(root: Path) -> dict[str, Path]:
    return {str(p.relative_to(root)): p for p in sorted(root.rglob("*")) if p.is_file()}


def compare(before: Path, after: Path, partial: bool = False) -> int:
    """Every file of both; with `partial`, only those `after` has (it was written `--only`)."""
    a, b = _files(before), _files(after)
    names = set(b) if partial else set(a) | set(b)
    differing = 0
    for name in sorted(names):
        if name not in a or name not in b:
            differing += 1
            print(f"{name}: only in {before if name in a else after}")
            continue
        x, y = a[name].read_bytes(), b[name].read_bytes()
        if x == y:
            continue
        differing += 1
        xl, yl = (
            x.decode("utf-8", "replace").splitlines(),
            y.decode("utf-8", "replace").splitlines(),
        )
        line = next((i for i, (p, q) in enumerate(zip(xl, yl)) if p != q), min(len(xl), len(yl)))
        print(f"{name}: line {line + 1}")
        print(f"  - {xl[line] if line < len(xl) else '<end of file>'}")
        print(f"  + {yl[line] if line < len(yl) else '<end of file>'}")
    print(f"{differing} of {len(names)} files differ")
    return 1 if differing else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    w = sub.add_parser("write", help="write every output into DIR (a new folder)")
    w.add_argument("dir", type=Path)
    w.add_argument("--configs-from", type=Path, help="reuse this snapshot's random configs")
    w.add_argument("--seed", type=int, default=SEED)
    w.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    w.add_argument("--only", action="append", default=[], help="cases matching, e.g. 'builtin/*'")
    c = sub.add_parser("compare", help="list the files that differ; exit 1 if any")
    c.add_argument("before", type=Path)
    c.add_argument("after", type=Path)
    c.add_argument("--partial", action="store_true", help="only the files AFTER has (--only)")
    args = parser.parse_args()
    if args.command == "write":
        src = args.configs_from.resolve() if args.configs_from else None
        return write(args.dir.resolve(), src, args.seed, args.jobs, args.only)
    return compare(args.before, args.after, args.partial)


if __name__ == "__main__":
    sys.exit(main())
