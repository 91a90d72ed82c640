"""A computational graph's exercise variants: the same circuit with new "nice" input values —
what the model protocol's `variants` and `notes` do for a graph.

Each variant is drawn from numpy's Generator seeded with (seed, variant number), so the same
seed gives the same variants on every machine. A draw is kept when it is fair to hand out: no
input is 0 or ±1, every value is in the functions' domains, no gate sits at a kink (relu or abs
at 0, a tie in max or min), no node's value or gradient is 0 (a 0 hides a slip: after q = 0,
f = q·z and ∂f/∂z are 0 whatever the student multiplied) — save what a routing gate makes 0 by
design (relu off, max's loser) — every gradient is at least `min_magnitude` in size, and every
named slip changes some answer (`rules.hides`: after q = z, ∂f/∂q = z and ∂f/∂z = q are right
with the multiply gate not swapped).
The files are a network's: `teach.homework` writes them for every model.
"""

from __future__ import annotations

import math

import numpy as np

from .. import draws
from ..definitions.operations import OPS
from ..draws import ExerciseSet, NoFairVariant, Notes, Rules, Variant, labelled
from . import config as graph
from .spec import GraphSpec

KINKED = {"relu": 0, "abs": 0}  # one argument at 0: the derivative jumps there


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


def variants(spec: GraphSpec, count: int, seed: int, rules: Rules, base: str) -> ExerciseSet:
    """`count` fair variants: every input drawn again (parameters too), nothing else changed.
    `rules.loss_band`: the output's value kept in [low, high] (a graph has no loss: --loss-band
    bands f); None, no band."""
    values, band = rules.values, rules.loss_band
    ticks = values.ticks()
    if not len(ticks):
        raise NoFairVariant("no value but 0 and ±1 in --range at --places; widen it")
    outside = f"{spec.output} outside --loss-band"
    out = []
    for number in range(1, count + 1):
        rng = np.random.default_rng([seed, number])
        reasons: dict[str, int] = {}
        for _ in range(draws.ATTEMPTS):
            drawn = values.draw(rng, (len(spec.inputs),), ticks)
            candidate = spec.with_inputs(dict(zip(spec.input_names, map(float, drawn))))
            why = _fair(candidate, rules.min_magnitude)
            if why is None:
                value = graph.forward(candidate)[spec.output]
                why = outside if band is not None and not band[0] <= value <= band[1] else None
                if why is None and rules.hides is not None:  # last: it solves the step
                    why = rules.hides(candidate)
                if why is None:
                    ident, named = labelled(candidate, spec.name, base, seed, number)
                    out.append(Variant(ident, number, named, value))
                    break
            reasons[why] = reasons.get(why, 0) + 1
        else:
            common = max(reasons, key=reasons.__getitem__)
            if common == outside and band is not None:
                raise NoFairVariant(
                    f"variant {number}: no fair draw in {draws.ATTEMPTS} has {spec.output} in "
                    f"[{band[0]:g}, {band[1]:g}]; widen --loss-band"
                )
            raise NoFairVariant(
                f"variant {number}: no fair draw in {draws.ATTEMPTS}; most had {common}: widen "
                "--range or lower --min-magnitude"
            )
    return ExerciseSet(tuple(out), band, False)


def notes(
    spec: GraphSpec, drawn: ExerciseSet, seed: int, rules: Rules, ask: tuple[str, ...]
) -> Notes:
    """What the teacher's index and exercise.json say of a graph's set: it has no loss, so its
    output's value, and the band it was kept in, say what E says of a network's."""
    band = drawn.band
    banded = "" if band is None else f"; {spec.output} lies in [{band[0]:g}, {band[1]:g}]"
    about = (
        f"- {len(drawn.variants)} variants of {spec.source}, drawn with seed {seed}: the same "
        "seed gives the same files.",
        "- No input is 0 or ±1, no gate sits at a kink, no node's value or gradient is 0 (but "
        "what a routing gate, relu, max or min, makes 0), every named slip changes some "
        f"answer, and every gradient is at least {rules.min_magnitude:g} in size{banded}. "
        f"The last column is {spec.output}, not a loss.",
        "- Asked: " + (", ".join(ask) if ask else "every value and gradient") + ".",
    )
    bands = {"output": spec.output, "value_band": None if band is None else list(band)}
    return Notes(about, spec.output, "value", bands, "")
