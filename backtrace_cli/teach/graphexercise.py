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

from ..definitions.operations import OPS
from ..graph import config as graph
from ..graph.config import GraphSpec
from ..graph.sheet import ascii_name, asked, symbol_of
from .exercise import ATTEMPTS, NoFairVariant, Question, Values, labelled

KINKED = {"relu": 0, "abs": 0}  # one argument at 0: the derivative jumps there


@dataclass(frozen=True, slots=True)
class Variant:
    ident: str
    number: int
    spec: GraphSpec
    value: float  # the output's value: the last column of the teacher's index


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
    spec: GraphSpec,
    count: int,
    seed: int,
    values: Values,
    min_magnitude: float,
    base: str,
    band: tuple[float, float] | None = None,
) -> list[Variant]:
    """`count` fair variants: every input drawn again (parameters too), nothing else changed.
    `band`: the output's value kept in [low, high] (a graph has no loss: --loss-band bands f)."""
    ticks = values.ticks()
    if not len(ticks):
        raise NoFairVariant("no non-zero value in --range at --places; widen it")
    outside = f"{spec.output} outside --loss-band"
    out = []
    for number in range(1, count + 1):
        rng = np.random.default_rng([seed, number])
        reasons: dict[str, int] = {}
        for _ in range(ATTEMPTS):
            drawn = values.draw(rng, (len(spec.inputs),), ticks)
            candidate = spec.with_inputs(dict(zip(spec.input_names, map(float, drawn))))
            why = _fair(candidate, min_magnitude)
            if why is None:
                value = graph.forward(candidate)[spec.output]
                if band is None or band[0] <= value <= band[1]:
                    ident, named = labelled(candidate, spec.name, base, seed, number)
                    out.append(Variant(ident, number, named, value))
                    break
                why = outside
            reasons[why] = reasons.get(why, 0) + 1
        else:
            common = max(reasons, key=reasons.__getitem__)
            if common == outside and band is not None:
                raise NoFairVariant(
                    f"variant {number}: no fair draw in {ATTEMPTS} has {spec.output} in "
                    f"[{band[0]:g}, {band[1]:g}]; widen --loss-band"
                )
            raise NoFairVariant(
                f"variant {number}: no fair draw in {ATTEMPTS}; most had {common}: widen "
                "--range or lower --min-magnitude"
            )
    return out


def questions(spec: GraphSpec, ask: tuple[str, ...] = ()) -> tuple[Question, ...]:
    """What a graph's sheet asks (`graph.sheet.asked`), named as an answers file writes them
    (q, df/dx, new w); or only those `ask` names, in either spelling (df/dx or ∂f/∂x). Raises
    ValueError for a name this graph has not, listing the ones it has."""
    every = [Question(1, ascii_name(s), s) for s in asked(spec)]
    if not ask:
        return tuple(every)
    known = {q.symbol for q in every}
    unknown = [a for a in ask if symbol_of(a) not in known]
    if unknown:
        raise ValueError(
            f"{unknown[0]!r} is not a quantity of this graph; ask for any of "
            + ", ".join(q.name for q in every)
        )
    wanted = {symbol_of(a) for a in ask}
    return tuple(q for q in every if q.symbol in wanted)


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
    spec: GraphSpec,
    drawn: list[Variant],
    seed: int,
    min_magnitude: float,
    ask: tuple[str, ...] = (),
    band: tuple[float, float] | None = None,
) -> list[tuple[str, str]]:
    """Every file of the set, as (path inside DIR, text), nothing written yet — exercise.json
    too, so that `check --exercises DIR` marks a class of graph answers as it does networks'.

    Raises ValueError when `ask` names a quantity the graph has not."""
    from .. import api
    from ..render import graph as render
    from ..render import markdown, number_format
    from .homework import CONFIGS, KEYS, MARK, QUESTIONS, manifest

    asked = questions(spec, ask)
    number = number_format(None, None)
    out: list[tuple[str, str]] = []
    entries, sheets, listed = [], [], {}
    for v in drawn:
        worked = api.trace(v.spec)
        sheet, cfg = f"{v.ident}.md", f"{v.ident}.yaml"
        out += [
            (f"{QUESTIONS}/{sheet}", render.question(worked.records, number, v.ident, asked)),
            (f"{KEYS}/{sheet}", worked.markdown()),
            (f"{CONFIGS}/{cfg}", to_config(v.spec, f"Exercise variant {v.ident} (seed {seed})")),
        ]
        value = number(worked.records.value)
        entries.append(
            (v.ident, f"{QUESTIONS}/{sheet}", f"{KEYS}/{sheet}", f"{CONFIGS}/{cfg}", value)
        )
        sheets.append((v.ident, sheet))
        listed[v.ident] = {
            "config": f"{CONFIGS}/{cfg}",
            "value": v.value,
            "questions": [q.name for q in asked],
        }
    banded = "" if band is None else f"; {spec.output} lies in [{band[0]:g}, {band[1]:g}]"
    about = [
        f"- {len(drawn)} variants of {spec.source}, drawn with seed {seed}: the same seed gives "
        "the same files.",
        "- No input is 0 or ±1, no gate sits at a kink, no node's value or gradient is 0 (but "
        "what a routing gate, relu, max or min, makes 0), and every gradient is at least "
        f"{min_magnitude:g} in size{banded}. The last column is {spec.output}, not a loss.",
        "- Asked: " + (", ".join(ask) if ask else "every value and gradient") + ".",
    ]
    out.append(("index.md", markdown.teachers_index(entries, about, MARK, spec.output)))
    title = f"Exercise: {spec.name}"
    out.append((f"{QUESTIONS}/index.md", markdown.students_index(sheets, title)))
    out.append((f"{KEYS}/index.md", markdown.keys_index(sheets, title)))
    # a graph has no loss: its output's value, and the band it was kept in, say what E says
    bands = {"output": spec.output, "value_band": None if band is None else list(band)}
    out.append(manifest(spec.source, seed, ask, bands, min_magnitude, listed))
    return out
