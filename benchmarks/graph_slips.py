"""How fairly `backtrace check` names a computational graph's slips, on random inputs.

    python benchmarks/graph_slips.py                 # 20 draws of each graph
    python benchmarks/graph_slips.py --draws 100 --seed 3

Graphs: the built-in circuit, neuron_circuit and chain_rule_graph, and one with a value used
twice. Inputs are drawn from ±(0.1 … 2.0), never 0 or ±1. Each slip is made on one gradient
∂f/∂v from the engine's numbers carried at 2, 3 or 4 significant figures — not from check's
rewrites: the local gradient left out (∂f/∂node alone; 1 where the node is the output), the
upstream gradient left out (∂node/∂v alone), a multiply gate not swapped (∂f/∂node times v's
own value), one branch alone of a value used twice. Each answers file answers that one
question. Counted per slip made so that it changes the value at the precision written: named
by check, given only another slip's name, given none, credited (right as another rounding
carried has it); and, per graph, right values and values simply wrong (the right one ×1.37 +
0.11, unless a slip gives that too, exact or carried at any rounding check recognises) given a
slip's name — invented diagnoses, which should be 0.
"""

from __future__ import annotations

import argparse
import platform
import random
import time
from collections import Counter
from dataclasses import replace

from backtrace_cli import api, models, solution
from backtrace_cli.graph import config as graph
from backtrace_cli.graph import protocol
from backtrace_cli.graph import slips as graphmistakes

NAMES = {
    "local": graphmistakes.LOCAL,
    "upstream": graphmistakes.UPSTREAM,
    "swap": graphmistakes.SWAP,
    "branch": graphmistakes.BRANCH,
}
BRANCHED = {
    "name": "x used twice",
    "nodes": {"a": "x * y", "b": "x + z", "f": "a * b"},
    "inputs": {"x": 1.3, "y": -2.1, "z": 0.46},
}


def _draw(rng: random.Random) -> float:
    while True:
        value = round(rng.uniform(-2, 2), 1)
        if value not in (0.0, 1.0, -1.0):
            return value


def _written(value: float, figures: int) -> str:
    return f"{value:#.{figures}g}".rstrip(".")


def _slips(spec, done) -> list[tuple[str, str, float]]:
    """(slip, the variable whose ∂f/∂v it is made on, the value it gives) in this pass."""
    out = []
    nodes = {node.name: node for node in spec.nodes}
    for v in [*spec.input_names, *(n.name for n in spec.nodes)]:
        uses = done.users.get(v, ())
        if len(uses) > 1:
            out += [("branch", v, done.branches[use]) for use in uses]
            continue
        if not uses:
            continue
        node, k = uses[0]
        mul = nodes[node].op == "mul"
        if node == spec.output:
            out.append(("local", v, 1.0))
            if mul:
                out.append(("swap", v, done.values[v]))
            continue
        out.append(("local", v, done.grads[node]))
        out.append(("upstream", v, done.locals[(node, k)]))
        if mul:
            out.append(("swap", v, done.grads[node] * done.values[v]))
    return out


def _verdict(spec, name: str, text: str):
    return api.check_report({name: text}, spec).answered[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print(f"{platform.python_implementation()} {platform.python_version()}, {platform.machine()}")
    counts, graphs, seconds = count(args.draws, args.seed)
    files = sum(n for (_, outcome), n in counts.items() if outcome != "unchanged")
    files -= sum(n for (_, outcome), n in counts.items() if outcome.endswith(", named"))
    print(
        f"{args.draws} draws of each graph, 2/3/4 figures: {files} answers files, "
        f"{1000 * seconds / max(files, 1):.0f} ms each"
    )
    for slip, name in NAMES.items():
        made = sum(counts[(slip, o)] for o in ("named", "other name only", "none", "credited"))
        print(
            f"  {name}: made {made}, named {counts[(slip, 'named')]}, another slip's name "
            f"only {counts[(slip, 'other name only')]}, none {counts[(slip, 'none')]}, right "
            f"at another rounding {counts[(slip, 'credited')]}"
        )
    for label in graphs:
        print(
            f"  {label}: right values {counts[(label, 'right')]}, given a slip's name "
            f"{counts[(label, 'right, named')]}; simply wrong {counts[(label, 'simply wrong')]}, "
            f"given a slip's name {counts[(label, 'simply wrong, named')]}"
        )


def count(draws: int, seed: int) -> tuple[Counter, dict, float]:
    """Each slip made on each graph's draws at 2, 3 and 4 figures, and right and simply wrong
    values: the outcomes counted, the graphs, and the seconds it took."""
    rng = random.Random(seed)
    graphs = {n: models.load(n) for n in ("circuit", "neuron_circuit", "chain_rule_graph")}
    graphs["branched"] = models.from_dict(BRANCHED)
    counts: Counter[tuple[str, str]] = Counter()
    started = time.perf_counter()
    for label, base in graphs.items():
        for _ in range(draws):
            spec = base.with_inputs({name: _draw(rng) for name in base.input_names})
            spec = replace(spec, parameters=())
            exact = graph.traced(spec, graph.exact)
            # what each slip gives to a student carrying any rounding check recognises: a
            # value one of them gives is a slip's, not simply wrong (check may rightly name it)
            carried = [graph.traced(spec, protocol.graph_carry(r)) for r in solution.ROUNDINGS]
            elsewhere = [s for done in (exact, *carried) for s in _slips(spec, done)]
            for figures in (2, 3, 4):
                done = graph.traced(spec, protocol.graph_carry(f"{figures}sf"))
                made = _slips(spec, done)
                for slip, v, value in made:
                    counts[(slip, _slip_verdict(spec, exact, done, v, value, slip, figures))] += 1
                for v in {v for _, v, _ in made}:
                    slipped = {
                        _written(value, figures) for _, u, value in [*made, *elsewhere] if u == v
                    }
                    right = _written(done.grads[v], figures)
                    wrong = _written(exact.grads[v] * 1.37 + 0.11, figures)
                    for kind, text in (("right", right), ("simply wrong", wrong)):
                        if kind == "simply wrong" and text in slipped:
                            continue  # what a slip gives, by chance: not simply wrong
                        verdict = _verdict(spec, f"d{spec.output}/d{v}", text)
                        counts[(label, kind)] += 1
                        if kind == "right" and not verdict.ok:
                            counts[(label, "right, marked wrong")] += 1
                        if any(m in NAMES.values() for m in verdict.mistakes):
                            counts[(label, f"{kind}, named")] += 1
    return counts, graphs, time.perf_counter() - started


def _slip_verdict(spec, exact, done, v: str, value: float, slip: str, figures: int) -> str:
    """How check marks one slip made on ∂f/∂v: "unchanged" (the slip gives the right value
    at the precision written), "named", "other name only", "none", or "credited"."""
    text = _written(value, figures)
    if text in {_written(exact.grads[v], figures), _written(done.grads[v], figures)}:
        return "unchanged"
    if float(text) == 0:
        return "unchanged"
    verdict = _verdict(spec, f"d{spec.output}/d{v}", text)
    if verdict.kind != "wrong":  # right as another rounding carried has it
        return "credited"
    if NAMES[slip] in verdict.mistakes:
        return "named"
    if any(m in NAMES.values() for m in verdict.mistakes):
        return "other name only"
    return "none"


if __name__ == "__main__":
    main()
