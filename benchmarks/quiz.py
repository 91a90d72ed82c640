"""How long `backtrace quiz` takes to mark each answer, early and late in a long quiz.

    python benchmarks/quiz.py                         # softmax and lecture
    python benchmarks/quiz.py --examples softmax,lecture,dropout256 --runs 3

For each built-in example, every question's right value (12 significant figures, as a student
with a calculator types it) — and then a mixed session: every value to 4 significant figures,
every tenth one wrong — is marked in the order the quiz asks them, twice over:

- as the quiz marks it (`check.Marker`, if this checkout has it: the worlds' state kept between
  answers; `judge` for the try, then `add` for the final value), and
- from scratch, `check.mark(solution, answers_so_far + [new])`, as the quiz did before.

Printed: the mean marking time per answer over the first and the last 50 answers (best of
`--runs`), and the wall time of the whole quiz as a user runs it — the installed `backtrace quiz
NAME` with every right answer piped in, output to a pipe (best of `--runs`). Run it with
`PYTHONPATH=/path/to/an/older/checkout` to time that checkout's quiz the same way.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Callable

from backtrace_cli import api
from backtrace_cli.teach import check, quiz

EDGE = 50  # answers timed at each end


def right_answers(q: quiz.Quiz) -> list[check.Answer]:
    """Every question's right value, as a student types it (12 significant figures)."""
    out = []
    for question in q.questions:
        written = quiz.number(f"{question.row.value:.12g}")
        assert written is not None
        answer = check.Answer(
            question.name, question.row.symbol, float(written), written, 1, question.sample
        )
        out.append(answer)
    return out


def mixed_answers(q: quiz.Quiz) -> list[check.Answer]:
    """Right values typed to 4 significant figures, and every tenth one wrong (1.5 times the
    right value and 0.01): later answers follow from it or not, and wrong ones are diagnosed."""
    out = []
    for n, answer in enumerate(right_answers(q)):
        value = 1.5 * answer.value + 0.01 if n % 10 == 9 else answer.value
        written = quiz.number(f"{value:.4g}")
        assert written is not None
        out.append(
            check.Answer(answer.name, answer.symbol, float(written), written, 1, answer.sample)
        )
    return out


def incremental(q: quiz.Quiz) -> Callable[[check.Answer], check.Verdict] | None:
    """The quiz's own marker, fresh for one session (None: this checkout has none)."""
    if not hasattr(check, "Marker"):
        return None
    marker = check.Marker(q.solution, q.rounding)

    def add(answer: check.Answer) -> check.Verdict:
        verdict = marker.judge(answer)  # as the quiz marks a try
        marker.add(answer)  # and keeps the question's final value
        return verdict

    return add


def from_scratch(q: quiz.Quiz) -> Callable[[check.Answer], check.Verdict]:
    """The answers so far re-marked from the first line for each new one."""
    earlier: list[check.Answer] = []

    def add(answer: check.Answer) -> check.Verdict:
        verdict = check.mark(q.solution, (*earlier, answer), q.rounding)[-1]
        earlier.append(answer)
        return verdict

    return add


def per_answer(
    q: quiz.Quiz, make: Callable, answers: list[check.Answer], runs: int, right: bool = True
):
    """Mean ms per answer over the first and the last EDGE answers, best of `runs`; None for
    the middle answers when marking each costs the whole walk (too slow to time them all)."""
    first = last = float("inf")
    for _ in range(runs):
        add = make(q)
        times = []
        for answer in answers:
            start = time.perf_counter()
            verdict = add(answer)
            times.append(time.perf_counter() - start)
            assert verdict.kind == "right" or not right, (answer.name, verdict.verdict)
        first = min(first, 1000 * sum(times[:EDGE]) / len(times[:EDGE]))
        last = min(last, 1000 * sum(times[-EDGE:]) / len(times[-EDGE:]))
    return first, last, sum(times)


def scratch_edges(q: quiz.Quiz, answers: list[check.Answer], runs: int, right: bool = True):
    """From scratch, only the first and the last EDGE answers (each re-walks all before it)."""
    first = last = float("inf")
    n = len(answers)
    for _ in range(runs):
        times = []
        for k in [*range(min(EDGE, n)), *range(max(0, n - EDGE), n)]:
            start = time.perf_counter()
            verdict = check.mark(q.solution, answers[: k + 1], q.rounding)[-1]
            times.append(time.perf_counter() - start)
            assert verdict.kind == "right" or not right, (answers[k].name, verdict.verdict)
        head, tail = times[: min(EDGE, n)], times[min(EDGE, n) :]
        first = min(first, 1000 * sum(head) / len(head))
        last = min(last, 1000 * sum(tail) / len(tail))
    return first, last


def whole_quiz(name: str, answers: list[check.Answer], runs: int) -> float:
    """Seconds for the installed `backtrace quiz NAME` with every right answer piped in."""
    script = shutil.which("backtrace") or os.path.join(os.path.dirname(sys.executable), "backtrace")
    stdin = "".join(a.written + "\n" for a in answers)
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(
            [script, "quiz", name], input=stdin, capture_output=True, text=True, check=False
        )
        best = min(best, time.perf_counter() - start)
        n = len(answers)
        assert done.returncode == 0 and f"Score: {n} of {n}" in done.stdout, done.stdout[-500:]
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", default="softmax,lecture")
    parser.add_argument("--runs", type=int, default=3, help="best of this many")
    parser.add_argument(
        "--scratch-total",
        action="store_true",
        help="also time every answer from scratch (quadratic: slow on dropout256)",
    )
    parser.add_argument("--no-cli", action="store_true", help="skip the whole-quiz timing")
    args = parser.parse_args()
    print(f"{platform.python_implementation()} {platform.python_version()}, {platform.machine()}")
    print(f"{os.cpu_count()} CPUs; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"backtrace_cli from {os.path.dirname(quiz.__file__)}")
    for name in args.examples.split(","):
        q = quiz.build(api.load(name))
        answers = right_answers(q)
        n = len(answers)
        edge = min(EDGE, n)
        print(f"\n{name}: {n} questions (ms per answer, mean of the first / last {edge})")
        for label, typed in (("right", answers), ("mixed", mixed_answers(q))):
            right = label == "right"
            print(f"  {'all right (12 figures)' if right else 'mixed (4 figures, 1 in 10 wrong)'}:")
            if incremental(q) is not None:
                first, last, total = per_answer(q, incremental, typed, args.runs, right)
                print(f"    quiz marker:   {first:8.2f} / {last:8.2f}   all {n}: {total:.2f} s")
            else:
                print("    quiz marker:   (none in this checkout)")
            if args.scratch_total:
                first, last, total = per_answer(q, from_scratch, typed, 1, right)
                print(f"    from scratch:  {first:8.2f} / {last:8.2f}   all {n}: {total:.2f} s")
            else:
                first, last = scratch_edges(q, typed, args.runs, right)
                print(f"    from scratch:  {first:8.2f} / {last:8.2f}")
        if not args.no_cli:
            seconds = whole_quiz(name, answers, args.runs)
            print(f"  `backtrace quiz {name}`, all {n} right answers piped: {seconds:.2f} s")
    print(f"\nload average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
