"""How fairly `backtrace check` marks synthetic students, on random networks, in one run.

    python benchmarks/marking.py                  # 300 students each way
    python benchmarks/marking.py --students 1000 --seed 5

Each student (tests/students.py: the step worked by hand from the lecture's formulas, not by
backtrace) carries 2, 3 or 4 significant figures, types some values with their trailing zeros
dropped, and makes one named mistake, carried on from. Counted: mistakes that change the value at
the precision written, how many of those check names, diagnoses invented on other answers,
other answers not credited (right or following), and right answers typed at 1–4 figures marked
wrong — with `round:` declared and without it. Also the time per answers file.

Then the kinds the trials of #26 used — tanh and relu hidden layers, softmax with
cross-entropy, biases, Adam and momentum steps: fair variants each worked at 2, 3 and 4 figures
(the tool's carried trace), one Δ's sign flipped and the new weight added up from it; and the
graphs of benchmarks/graph_slips.py, each named slip made from the engine's carried numbers.
Per kind: slips named, right answers marked wrong (0), diagnoses invented (0), values after a
slip not credited (0).
"""

from __future__ import annotations

import argparse
import platform
import random
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import graph_slips
import students as hand

# ---------------------------------------------------------------- every kind of the trials

KINDS = {
    "tanh hidden, biases": {"activations": ["tanh", "sigmoid"], "loss": "half_sse"},
    "relu hidden, biases": {"activations": ["relu", "sigmoid"], "loss": "half_sse"},
    "softmax, cross-entropy": {
        "layers": [2, 3, 3],
        "activations": ["tanh", "softmax"],
        "loss": "cross_entropy",
        "targets": [0, 1, 0],
    },
    "Adam (tanh → softmax)": {
        "layers": [2, 3, 3],
        "activations": ["tanh", "softmax"],
        "loss": "cross_entropy",
        "targets": [0, 1, 0],
        "optimizer": "adam",
        "learning_rate": 0.1,
    },
    "momentum": {"activations": ["sigmoid", "sigmoid"], "optimizer": "momentum"},
}


def _network(kind: dict) -> dict:
    layers = kind.get("layers", [2, 3, 1])
    base = {
        "layers": layers,
        "learning_rate": 0.5,
        "inputs": [0.5, -0.3],
        "targets": [0.3],
        "weights": {"init": "uniform", "seed": 0},
        "biases": [[0.1] * n for n in layers[1:]],
    }
    return base | {k: v for k, v in kind.items() if k != "layers"}


def _positional(value: float, figures: int) -> str:
    return hand.positional(value, figures)


def mark_kinds(per_kind: int, seed: int) -> dict[str, Counter]:
    """For each kind: fair variants (as `exercise` draws them), each worked by a student who
    carries 2, 3 or 4 figures — the tool's own carried trace, every question answered — and
    flips the sign of one Δ (Δw = −η·δ·o), then adds that Δ to w as the rule says. Counted:
    slips named, right answers marked wrong, diagnoses invented on them, and the new weight
    after the slip not credited as following."""
    from backtrace_cli import tracing
    from backtrace_cli.network import config
    from backtrace_cli.solution import solve
    from backtrace_cli.teach.exercise import Rules, variants

    rng = random.Random(seed)
    out: dict[str, Counter] = {}
    for label, kind in KINDS.items():
        seen: Counter = Counter()
        exercise = config.from_dict(_network(kind))
        for v in variants(exercise, per_kind, seed, Rules(), "bench").variants:
            text = tracing.model(v.spec).to_config(v.spec, "# benchmark")
            for figures in (2, 3, 4):
                mode = f"{figures}sf"
                solved = solve(v.spec, rounding=mode)
                asked = [solved.line(k) for k in solved.questions()]
                changes = [line for line in asked if line.key[2].startswith("Δ")]
                slip = rng.choice(changes)
                after = "new " + slip.key[2][1:]
                answers = {}
                for line in asked:
                    value = line.rows[mode].value
                    if line is slip:
                        value = -value
                    elif line.key[2] == after:
                        w = line.rows[mode].values()[line.exact.operands[0][0]]
                        value = w - slip.rows[mode].value
                    answers[line.key[2]] = _positional(value, figures)
                report = hand_check(answers, text)
                for verdict in report.answered:
                    symbol = verdict.symbol
                    if symbol == slip.key[2]:
                        seen["slips"] += 1
                        seen["named"] += any("sign flipped" in m for m in verdict.mistakes)
                    elif symbol == after:
                        seen["after a slip"] += 1
                        seen["after, not credited"] += not verdict.ok
                    else:
                        seen["right"] += 1
                        seen["right, marked wrong"] += not verdict.ok
                        seen["right, diagnosed"] += bool(verdict.mistakes)
        out[label] = seen
    return out


def hand_check(answers: dict[str, str], config_text: str):
    """check's report on an answers file that carries its network inline."""
    import yaml

    from backtrace_cli import api

    return api.check_report({"config": yaml.safe_load(config_text), "answers": answers})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--per-kind", type=int, default=8, help="variants of each network kind")
    parser.add_argument("--draws", type=int, default=10, help="draws of each graph")
    args = parser.parse_args()
    print(f"{platform.python_implementation()} {platform.python_version()}, {platform.machine()}")
    for declare in (False, True):
        seen = hand.mark_students(args.students, args.seed, declare)
        label = "round: declared" if declare else "rounding recognised"
        per = 1000 * seen["seconds"] / args.students
        print(f"\n{args.students} students, {label} ({per:.0f} ms per answers file):")
        print(f"  mistakes that change the value at the precision written: {seen['slips']}")
        print(f"  named by check: {seen['found']}")
        print(f"  other answers: {seen['others']}, not credited: {seen['not credited']}, given an")
        print(f"    invented diagnosis: {seen['invented']}")
    kinds = hand.mark_right_answers(args.students // 3, args.seed)
    print(f"\n{args.students // 3} students typing right values at 1–4 figures:")
    print(
        f"  {sum(kinds[k] for k in ('right', 'coarse', 'follows', 'wrong'))} answers: "
        f"{kinds['right']} right, {kinds['coarse']} too coarse (one figure), "
        f"{kinds['wrong']} wrong, {kinds['diagnosed']} given a diagnosis"
    )

    print(f"\nEach kind, {args.per_kind} fair variants × 2/3/4 figures, one Δ's sign flipped:")
    for label, seen in mark_kinds(args.per_kind, args.seed).items():
        print(
            f"  {label}: slips named {seen['named']} of {seen['slips']}; right answers marked "
            f"wrong {seen['right, marked wrong']} of {seen['right']}; diagnoses invented "
            f"{seen['right, diagnosed']}; values after a slip not credited "
            f"{seen['after, not credited']} of {seen['after a slip']}"
        )
    counts, graphs, _ = graph_slips.count(args.draws, args.seed)
    print(f"\nGraphs, {args.draws} draws each × 2/3/4 figures, each slip made on one gradient:")
    for slip, name in graph_slips.NAMES.items():
        made = sum(counts[(slip, o)] for o in ("named", "other name only", "none", "credited"))
        print(f"  {name}: named {counts[(slip, 'named')]} of {made}")
    for label in graphs:
        print(
            f"  {label}: right answers marked wrong {counts[(label, 'right, marked wrong')]} of "
            f"{counts[(label, 'right')]}; diagnoses invented "
            f"{counts[(label, 'right, named')] + counts[(label, 'simply wrong, named')]}"
        )


if __name__ == "__main__":
    main()
