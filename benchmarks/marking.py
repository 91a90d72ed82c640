"""How fairly `backtrace check` marks synthetic students, on random networks, in one run.

    python benchmarks/marking.py                  # 300 students each way
    python benchmarks/marking.py --students 1000 --seed 5

Each student (tests/students.py: the step worked by hand from the lecture's formulas, not by
backtrace) carries 2, 3 or 4 significant figures, types some values with their trailing zeros
dropped, and makes one named mistake, carried on from. Counted: mistakes that change the value at
the precision written, how many of those check names, diagnoses invented on other answers,
other answers not credited (right or following), and right answers typed at 1–4 figures marked
wrong — with `round:` declared and without it. Also the time per answers file.
"""

from __future__ import annotations

import argparse
import platform
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import students as hand


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
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


if __name__ == "__main__":
    main()
