"""Synthetic students: one training step of a sigmoid network done by hand, written here from the
lecture's formulas (not from backtrace's engine), carrying a rounding as a student does, with one
named mistake made at one place and everything after it worked from the student's own values.

Used by test_marking.py: `backtrace check` must find each mistake and invent none."""

from __future__ import annotations

import math
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

# the mistakes a student makes, by the name `check` gives them
UPDATED = "hidden δ with the updated weights"
NO_SLOPE = "the derivative o(1 − o) left out"
FLIPPED = "the sign of (t − o) flipped"
NET_FOR_O = "net for o (net used where o belongs)"
NO_ETA = "the learning rate η left out"
SUBTRACTED = "Δw subtracted"
MISTAKES = (UPDATED, NO_SLOPE, FLIPPED, NET_FOR_O, NO_ETA, SUBTRACTED)


def sig_figs(value: float, figures: int) -> float:
    """A calculator's rounding to `figures` significant figures."""
    return float(f"{value:.{figures}g}")


@dataclass
class Network:
    layers: tuple[int, ...]  # inputs, hidden, outputs: three layers
    eta: float
    inputs: list[float]
    targets: list[float]
    weights: dict[tuple[int, int], float]  # (from unit, to unit) → w

    def units(self, layer: int) -> list[int]:
        start = 1 + sum(self.layers[:layer])
        return list(range(start, start + self.layers[layer]))

    def config(self) -> dict:
        def name(i: int, j: int) -> str:
            return f"w{i}{j}" if i < 10 and j < 10 else f"w{i}_{j}"

        return {
            "name": "synthetic student's network",
            "layers": list(self.layers),
            "activation": "sigmoid",
            "loss": "half_sse",
            "learning_rate": self.eta,
            "inputs": self.inputs,
            "targets": self.targets,
            "weights": {name(i, j): w for (i, j), w in self.weights.items()},
        }


def network(rng: random.Random) -> Network:
    """A random 3-layer network with one-decimal weights and inputs (never 0)."""
    layers = (rng.randint(1, 3), rng.randint(1, 3), rng.randint(1, 2))

    def nice() -> float:
        return rng.choice([-1, 1]) * rng.randint(1, 9) / 10

    net = Network(layers, rng.choice([0.1, 0.5, 2.0, 1.0]), [], [], {})
    net.inputs = [nice() for _ in range(layers[0])]
    net.targets = [rng.randint(0, 10) / 10 for _ in range(layers[2])]
    for k in (1, 2):
        for j in net.units(k):
            for i in net.units(k - 1):
                net.weights[(i, j)] = nice()
    return net


@dataclass
class Student:
    """One student's sheet: answers by name, as written, and the slip they made (if any)."""

    values: dict[str, float] = field(default_factory=dict)  # name → value carried
    slip: str | None = None  # the name of the answer where the mistake was made
    right_there: float | None = None  # what the slipped value would have been without it,
    # before the student rounds it


SLIP = "a slip of the pen"  # not a named mistake: o of the first hidden unit written 0.1 too high


def work(
    net: Network,
    figures: int | None,
    mistake: str | None,
    rng: random.Random,
    at: str | None = None,
) -> Student:
    """One step by hand, each carried value rounded to `figures` (None: kept exact); `mistake`
    made once — at `at`, or at a place drawn where it applies — and carried on from."""
    carry = (lambda v: v) if figures is None else (lambda v: sig_figs(v, figures))
    student = Student()
    values = student.values
    hidden, output = net.units(1), net.units(2)
    sig = lambda z: 1 / (1 + math.exp(-z))  # noqa: E731

    # where the mistake is made: one unit or weight it applies to
    if at is not None or mistake is None:
        pass
    elif mistake == SLIP:
        at = f"o{hidden[0]}"
    elif mistake in (UPDATED,):
        at = f"delta{rng.choice(hidden)}"
    elif mistake == NO_SLOPE:
        at = f"delta{rng.choice(hidden + output)}"
    elif mistake == FLIPPED:
        at = f"delta{rng.choice(output)}"
    elif mistake == NET_FOR_O:
        at = f"dw{rng.choice(hidden)}{rng.choice(output)}"
    else:
        k = rng.choice((1, 2))
        i, j = rng.choice(net.units(k - 1)), rng.choice(net.units(k))
        at = ("dw" if mistake == NO_ETA else "w") + f"{i}{j}"

    def put(name: str, right: float, wrong: float | None = None) -> float:
        if name == at and wrong is not None:
            student.slip, student.right_there = name, right
            values[name] = carry(wrong)
        else:
            values[name] = carry(right)
        return values[name]

    o = {i: x for i, x in zip(net.units(0), net.inputs)}
    nets: dict[int, float] = {}
    for k in (1, 2):
        for j in net.units(k):
            nets[j] = put(f"net{j}", sum(net.weights[(i, j)] * o[i] for i in net.units(k - 1)))
            o[j] = put(f"o{j}", sig(nets[j]), sig(nets[j]) + 0.1)
    errors = {}
    for j, t in zip(output, net.targets):
        errors[j] = put(f"e{j}", t - o[j])
    put("E", 0.5 * sum(e * e for e in errors.values()))
    delta = {}
    for j, t in zip(output, net.targets):
        right = o[j] * (1 - o[j]) * (t - o[j])
        wrong = (t - o[j]) if mistake == NO_SLOPE else o[j] * (1 - o[j]) * (o[j] - t)
        delta[j] = put(f"delta{j}", right, wrong)
    # the output layer's new weights: a student making UPDATED has them before the hidden δ
    new = {
        (i, j): carry(net.weights[(i, j)] + carry(net.eta * delta[j] * o[i]))
        for i in hidden
        for j in output
    }
    for i in hidden:
        total = sum(net.weights[(i, j)] * delta[j] for j in output)
        right = o[i] * (1 - o[i]) * total
        if mistake == UPDATED:
            wrong = o[i] * (1 - o[i]) * sum(new[(i, j)] * delta[j] for j in output)
        else:
            wrong = total
        delta[i] = put(f"delta{i}", right, wrong)
    for k in (2, 1):
        for j in net.units(k):
            for i in net.units(k - 1):
                source = nets[i] if mistake == NET_FOR_O and k == 2 else o[i]
                change = put(
                    f"dw{i}{j}",
                    net.eta * delta[j] * o[i],
                    delta[j] * o[i] if mistake == NO_ETA else net.eta * delta[j] * source,
                )
                w = net.weights[(i, j)]
                put(f"w{i}{j}", w + change, w - change)
    return student


def written(value: float, figures: int | None, rng: random.Random) -> str:
    """As the student types it: to `figures` significant figures, trailing zeros sometimes
    dropped (as YAML and programs drop them); exact values to 6 decimals."""
    if figures is None:
        return repr(round(value, 6))
    text = positional(value, figures)
    if rng.random() < 0.5 and "." in text:
        text = text.rstrip("0").rstrip(".") or "0"
    return text


def positional(value: float, figures: int) -> str:
    """`value` to `figures` significant figures, written out: 0.0000200, never 2e-05."""
    text = format(Decimal(f"{value:.{figures}g}"), "f")
    shown = len(text.lstrip("-").replace(".", "").lstrip("0"))
    if shown < figures:
        text += ("" if "." in text else ".") + "0" * (figures - shown)
    return text


def typed_figures(text: str) -> int:
    """Significant figures a typed value shows: "0.0450" → 3, "-0.6" → 1."""
    digits = text.lstrip("-").replace(".", "").lstrip("0")
    return max(1, len(digits))


def distinguishable(
    student: Student, rights: list[dict[str, float]], name: str, text: str, declared: int | None
) -> bool:
    """Can a marker tell the slipped value from a right one, at the precision it is written
    (the declared figures, else the figures typed)? Not when it is within half a unit of the
    right value worked from the student's own operands, or of a right value (`rights`: exact,
    or carried as a student writing that many figures would)."""
    mine = float(text)
    figures = declared or typed_figures(text)
    candidates = [student.right_there, *(right[name] for right in rights)]
    for value in candidates:
        assert value is not None
        unit = 10.0 ** (math.floor(math.log10(abs(mine))) - figures + 1) if mine else 0.0
        there = 10.0 ** (math.floor(math.log10(abs(value))) - figures + 1) if value else 0.0
        if abs(mine - value) <= 0.5 * max(unit, there) * 1.001:
            return False
    return True


# ---------------------------------------------------------------- marking a class of them


def mark_students(count: int, seed: int, declare: bool) -> Counter:
    """`count` students on random networks, each making one named mistake while carrying 2, 3
    or 4 significant figures (with `round:` declared, or left for check to recognise): how many
    mistakes change the value at the precision written (`slips`), how many check names
    (`found`), other answers not credited or given an invented diagnosis, and the seconds
    check took."""
    from backtrace_cli import api

    rng = random.Random(seed)
    seen: Counter = Counter()
    for _ in range(count):
        net = network(rng)
        figures = rng.choice([2, 3, 4])
        mistake = rng.choice(MISTAKES)
        if mistake == NO_ETA and net.eta == 1:
            mistake = SUBTRACTED  # η = 1: leaving it out changes nothing
        student = work(net, figures, mistake, rng)
        answers = {name: written(v, figures, rng) for name, v in student.values.items()}
        sheet: dict = {"answers": answers} | ({"round": f"{figures}sf"} if declare else {})
        start = time.perf_counter()
        report = api.check(sheet, net.config())
        seen["seconds"] += time.perf_counter() - start
        rights = [work(net, f, None, rng).values for f in (None, 2, 3, 4)]
        slip = student.slip
        assert slip is not None
        clear = distinguishable(student, rights, slip, answers[slip], figures if declare else None)
        for answer in report["answers"]:
            if answer["name"] == slip:
                named = any(mistake in m for m in answer["mistakes"])
                if clear:
                    seen["slips"] += 1
                    seen["found"] += answer["kind"] == "wrong" and named
                # too close to a right value to tell: credited, or the mistake itself named
                elif answer["kind"] == "wrong" and not named:
                    seen["misnamed"] += 1
            else:
                seen["others"] += 1
                seen["not credited"] += not answer["ok"]
                seen["invented"] += bool(answer["mistakes"])
    return seen


def mark_right_answers(count: int, seed: int) -> Counter:
    """Students typing the exact right values at 1–4 significant figures: check's verdicts."""
    from backtrace_cli import api

    rng = random.Random(seed)
    kinds: Counter = Counter()
    for _ in range(count):
        net = network(rng)
        exact = work(net, None, None, rng).values
        typed = {name: positional(v, rng.choice([1, 2, 3, 4])) for name, v in exact.items()}
        for answer in api.check({"answers": typed}, net.config())["answers"]:
            kinds[answer["kind"]] += 1
            kinds["diagnosed"] += bool(answer["mistakes"])
            figures = typed_figures(typed[answer["name"]])
            kinds["coarse at 2 figures or more"] += answer["kind"] == "coarse" and figures > 1
    return kinds
