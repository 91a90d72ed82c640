"""Exercise variants of a computational graph: the same circuit with new "nice" input values.

Each variant is drawn from numpy's Generator seeded with (seed, variant number), so the same
seed gives the same variants on every machine. A draw is kept when it is fair to hand out: no
input is 0 or ±1, every value is in the functions' domains, no gate sits at a kink (relu or abs
at 0, a tie in max or min), no node's value or gradient is 0 (a 0 hides a slip: after q = 0,
f = q·z and ∂f/∂z are 0 whatever the student multiplied) — save what a routing gate makes 0 by
design (relu off, max's loser) — and every gradient is at least `min_magnitude` in size.
The files are those of a network's exercise: `questions/` (sheets, and the students' index),
`keys/` (worked solutions) and `configs/` (the variants' configs, which `run` and `check` read).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import numpy as np

from . import graph
from .exercise import ATTEMPTS, NoFairVariant, Values, labelled
from .graph import GraphSpec
from .operations import OPS

KINKED = {"relu": 0, "abs": 0}  # one argument at 0: the derivative jumps there


@dataclass(frozen=True, slots=True)
class Variant:
    ident: str
    number: int
    spec: GraphSpec


def _by_design(spec: GraphSpec, done: graph.Pass) -> set[str]:
    """Values whose ∂f/∂· is 0 whatever is drawn: a routing gate sends them nothing (relu off,
    max's loser) on every path to the output — what those gates teach — or, like an input the
    config never uses, they have no path at all."""
    routed: set[str] = set()
    ops = {node.name: OPS[node.op] for node in spec.nodes}
    for name in [*(n.name for n in reversed(spec.nodes)), *spec.input_names]:
        uses = done.users[name]
        if all(
            user in routed or (ops[user].routes and done.locals[(user, k)] == 0) for user, k in uses
        ):
            routed.add(name)
    return routed


def _fair(spec: GraphSpec, min_magnitude: float) -> str | None:
    """Why this draw is not fair to hand out, or None."""
    if any(abs(value) in (0, 1) for _, value in spec.inputs):
        return "an input of 0 or ±1"
    try:
        done = graph.run(spec)
    except graph.GraphError:
        return "a value outside a function's domain"
    values = done.values
    for node in spec.nodes:
        args = [graph.arg_value(values, a) for a in node.args]
        if node.op in KINKED and args[0] == 0:
            return f"{node.op} at its kink"
        if node.op in ("max", "min") and args[0] == args[1]:
            return f"a tie in {node.op}"
    numbers = [*values.values(), *done.grads.values()]
    if not all(math.isfinite(v) and abs(v) < 1e6 for v in numbers):
        return "a value too large to write by hand"
    # relu off is 0 by design, as a network's unit switched off
    if any(values[n.name] == 0 and not OPS[n.op].routes for n in spec.nodes):
        return "a node whose value is 0"
    routed = _by_design(spec, done)
    if any(g == 0 and name not in routed for name, g in done.grads.items()):
        return "a gradient of 0"
    if any(0 < abs(g) < min_magnitude for g in done.grads.values()):
        return f"a gradient below {min_magnitude:g} in size"
    return None


def variants(
    spec: GraphSpec, count: int, seed: int, values: Values, min_magnitude: float, base: str
) -> list[Variant]:
    """`count` fair variants: every input drawn again (parameters too), nothing else changed."""
    ticks = values.ticks()
    if not len(ticks):
        raise NoFairVariant("no non-zero value in --range at --places; widen it")
    out = []
    for number in range(1, count + 1):
        rng = np.random.default_rng([seed, number])
        reasons: dict[str, int] = {}
        for _ in range(ATTEMPTS):
            drawn = values.draw(rng, (len(spec.inputs),), ticks)
            candidate = spec.with_inputs(dict(zip(spec.input_names, map(float, drawn))))
            why = _fair(candidate, min_magnitude)
            if why is None:
                ident, named = labelled(candidate, spec.name, base, seed, number)
                out.append(Variant(ident, number, named))
                break
            reasons[why] = reasons.get(why, 0) + 1
        else:
            common = max(reasons, key=reasons.__getitem__)
            raise NoFairVariant(
                f"variant {number}: no fair draw in {ATTEMPTS}; most had {common}: widen "
                "--range or lower --min-magnitude"
            )
    return out


def to_config(spec: GraphSpec, header: str) -> str:
    """The variant as a config `run` and `check` read: the graph as written, its inputs."""
    lines = [f"# {line}" for line in header.splitlines()]
    lines.append(f"name: {json.dumps(spec.name, ensure_ascii=False)}")
    if spec.description:
        lines.append(f"description: {json.dumps(spec.description, ensure_ascii=False)}")
    if spec.form == "expression":
        lines.append(f"expression: {json.dumps(spec.written[0][1], ensure_ascii=False)}")
        if spec.output != "f":
            lines.append(f"output: {spec.output}")
    else:
        lines.append("nodes:")
        lines += [
            f"  {name}: {json.dumps(text, ensure_ascii=False)}" for name, text in spec.written
        ]
        lines.append(f"output: {spec.output}")
    inputs = ", ".join(f"{name}: {value!r}" for name, value in spec.inputs)
    lines.append(f"inputs: {{{inputs}}}")
    if spec.parameters:
        lines.append(f"parameters: [{', '.join(spec.parameters)}]")
        lines.append(f"learning_rate: {spec.learning_rate!r}")
        settings = spec.optimizer
        if settings.name != "sgd" or settings.values:
            given = ", ".join(f"{k}: {v!r}" for k, v in settings.values)
            lines.append(f"optimizer: {{name: {settings.name}{', ' + given if given else ''}}}")
        if spec.weight_decay:
            lines.append(f"weight_decay: {spec.weight_decay!r}")
    return "\n".join(lines) + "\n"


def files(
    spec: GraphSpec, drawn: list[Variant], seed: int, min_magnitude: float
) -> list[tuple[str, str]]:
    """Every file of the set, as (path inside DIR, text), nothing written yet."""
    from . import api
    from .homework import CONFIGS, KEYS, QUESTIONS
    from .render import graph as render
    from .render import markdown, number_format

    number = number_format(None, None)
    out: list[tuple[str, str]] = []
    entries, sheets = [], []
    for v in drawn:
        worked = api.trace(v.spec)
        sheet, cfg = f"{v.ident}.md", f"{v.ident}.yaml"
        out += [
            (f"{QUESTIONS}/{sheet}", render.question(worked.records, number, v.ident)),
            (f"{KEYS}/{sheet}", worked.markdown()),
            (f"{CONFIGS}/{cfg}", to_config(v.spec, f"Exercise variant {v.ident} (seed {seed})")),
        ]
        value = number(worked.records.value)
        entries.append(
            (v.ident, f"{QUESTIONS}/{sheet}", f"{KEYS}/{sheet}", f"{CONFIGS}/{cfg}", value)
        )
        sheets.append((v.ident, sheet))
    about = [
        f"- {len(drawn)} variants of {spec.source}, drawn with seed {seed}: the same seed gives "
        "the same files.",
        "- No input is 0 or ±1, no gate sits at a kink, no node's value or gradient is 0 (but "
        "what a routing gate, relu, max or min, makes 0), and every gradient is at least "
        f"{min_magnitude:g} in size. The last column is {spec.output}, not a loss.",
    ]
    mark = "backtrace check ANSWERS (with `exercise: THIS_FOLDER/configs/ID.yaml`)"
    out.append(("index.md", markdown.teachers_index(entries, about, mark)))
    title = f"Exercise: {spec.name}"
    out.append((f"{QUESTIONS}/index.md", markdown.students_index(sheets, title)))
    out.append((f"{KEYS}/index.md", markdown.keys_index(sheets, title)))
    return out
