"""A computational graph's engine: the forward pass node by node, the backward pass in reverse,
finite differences, and gradient-descent training of its parameters.

Every carried number passes through `carry` — the identity, or `--round`'s rounding — so hand
mode is the same path. Pure Python floats (float64).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from ..core.errors import ConfigError
from ..definitions import optimizers
from ..definitions.operations import OPS, Op
from .spec import Arg, Carry, Const, GraphSpec, Node, exact


class GraphError(Exception):
    """A number that cannot be computed: out of a function's domain, or overflow."""

    def __init__(self, node: Node, problem: str) -> None:
        self.node = node
        self.problem = problem
        super().__init__(problem)

    def config_error(self, spec: GraphSpec, when: str = "") -> ConfigError:
        node = self.node
        place = f"node {node.name}" if node.named else f"inner node {node.name}"
        return ConfigError(
            spec.source, node.line, node.field, f"{when}{place}: {self.problem}", node.column
        )


def compute(op: Op, values: Sequence[float], fail: Callable[[str], Exception]) -> float:
    """`op` at `values`, or `fail(problem)` raised outside its domain or on overflow."""
    problem = op.domain(*values)
    if problem:
        raise fail(problem)
    try:
        value = op.forward(*values)
    except OverflowError:
        value = math.inf
    except (ValueError, ZeroDivisionError):
        raise fail(f"{_written(op, values)} is not defined") from None
    if not math.isfinite(value):
        raise fail(f"overflow: {_written(op, values)} is beyond what float64 holds (about 1.8e308)")
    return float(value)


def _written(op: Op, values: Sequence[float]) -> str:
    """The operation with its numbers, as the trace writes it (2·1e+308, exp(1000)): never
    the tool's internal name of the operation."""
    return op.text(*(_plain(v) if v >= 0 else f"({_plain(v)})" for v in values))


def _plain(value: float) -> str:
    return f"{value:.6g}".replace("-", "−")


@dataclass(frozen=True, slots=True)
class Pass:
    """One forward and backward pass: every value, local gradient, branch and gradient."""

    values: Mapping[str, float]  # inputs and nodes
    locals: Mapping[tuple[str, int], float]  # (node, argument) → ∂node/∂argument
    branches: Mapping[tuple[str, int], float]  # (node, argument) → ∂f/∂node · ∂node/∂arg
    grads: Mapping[str, float]  # ∂f/∂v for the output, every node and every input
    users: Mapping[str, tuple[tuple[str, int], ...]]  # v → the (node, argument) that use it


def arg_value(values: Mapping[str, float], arg: Arg) -> float:
    return arg.value if isinstance(arg, Const) else values[arg]


def forward(spec: GraphSpec, carry: Carry = exact) -> dict[str, float]:
    """Every input's and node's value, node by node; raises GraphError."""
    values = {name: carry(value) for name, value in spec.inputs}
    for node in spec.nodes:
        op = OPS[node.op]
        args = [arg_value(values, a) for a in node.args]
        values[node.name] = carry(compute(op, args, lambda p, n=node: GraphError(n, p)))
    return values


def run(spec: GraphSpec, carry: Carry = exact) -> Pass:
    """The forward pass, then the backward pass in reverse order: upstream × local, each
    branch, and where a value is used more than once the sum of its branches."""
    values = forward(spec, carry)
    users: dict[str, list[tuple[str, int]]] = {name: [] for name in values}
    for node in spec.nodes:
        for k, name in node.variables():
            users[name].append((node.name, k))
    locals_: dict[tuple[str, int], float] = {}
    branches: dict[tuple[str, int], float] = {}
    grads: dict[str, float] = {}

    def total(name: str) -> float:
        parts = [branches[use] for use in users[name]]
        if name == spec.output:
            return 1.0
        if not parts:
            return 0.0
        if len(parts) == 1:
            return parts[0]
        exact_sum = math.fsum(parts) if all(map(math.isfinite, parts)) else sum(parts)
        return carry(exact_sum)

    # IEEE arithmetic throughout, as autograd's: an infinite local gradient (sqrt at 0) makes
    # its branch infinite or nan, unless a routing gate downstream of it (relu, max, min)
    # passes that gradient nowhere — those gates select, they do not multiply. Only a
    # non-finite ∂f/∂input is refused, blamed on the first node where a number broke.
    broken: list[tuple[Node, str]] = []
    for node in reversed(spec.nodes):
        upstream = grads[node.name] = total(node.name)
        op = OPS[node.op]
        args = [arg_value(values, a) for a in node.args]
        for k, name in node.variables():
            local = locals_[(node.name, k)] = carry(float(op.local[k](*args, values[node.name])))
            routed_away = op.routes and local == 0
            branch = 0.0 if routed_away else upstream * local
            if not math.isfinite(local) and math.isfinite(upstream):
                broken.append((node, _local_problem(node, k, args)))
            elif not math.isfinite(branch) and math.isfinite(upstream):
                broken.append((node, f"overflow in the backward pass: ∂f/∂{name} via {node.name}"))
            branches[(node.name, k)] = carry(branch)
    for name in spec.input_names:
        grads[name] = total(name)
    if broken and not all(math.isfinite(grads[name]) for name in spec.input_names):
        raise GraphError(*broken[0])
    order = [*spec.input_names, *(n.name for n in spec.nodes)]
    return Pass(
        values,
        locals_,
        branches,
        {name: grads[name] for name in order},
        {name: tuple(users[name]) for name in order},
    )


def _local_problem(node: Node, k: int, args: Sequence[float]) -> str:
    where = ", ".join(map(_plain, args))
    if node.op == "sqrt":
        return "the gradient of sqrt, 1/(2√x), is infinite at 0"
    if node.op == "pow" and k == 1:
        return (
            f"∂(a^b)/∂b = a^b·ln a needs a > 0, and a = {_plain(args[0])} (a constant "
            "exponent has no such term)"
        )
    if node.op == "pow":
        return f"the gradient of a^b at {where} is infinite (0 to a power below 1)"
    return f"the local gradient of {node.op} at {where} is not finite"


def evaluate(spec: GraphSpec, values: Mapping[str, float]) -> float:
    """f at other input values (finite differences); raises GraphError."""
    return forward(spec.with_inputs(values))[spec.output]


def traced(spec: GraphSpec, carry: Carry = exact, when: str = "") -> Pass:
    """`run`, with a failure as the located ConfigError the CLI reports."""
    try:
        return run(spec, carry)
    except GraphError as err:
        raise err.config_error(spec, when) from None


# ---------------------------------------------------------------- checking and updating

FD_STEP = 1e-6
FD_TOLERANCE = 1e-5


@dataclass(frozen=True, slots=True)
class GradientCheck:
    """∂f/∂input from the backward pass beside the central finite difference."""

    name: str
    backprop: float
    numeric: float | None  # None: f is not defined a step away
    value: float  # f itself: rounding in the difference scales with it

    @property
    def difference(self) -> float:
        if self.numeric is None:
            return math.inf
        scale = max(abs(self.backprop), abs(self.numeric))
        return abs(self.backprop - self.numeric) / scale if scale else 0.0

    @property
    def agrees(self) -> bool:
        if self.numeric is None:
            return False
        scale = max(abs(self.backprop), abs(self.numeric))
        return abs(self.backprop - self.numeric) <= FD_TOLERANCE * scale + 1e-8 * (
            1.0 + abs(self.value)
        )


def check_gradients(spec: GraphSpec, done: Pass) -> list[GradientCheck]:
    """Every ∂f/∂input against (f(x + h) − f(x − h))/2h through the same forward pass."""
    base = dict(spec.inputs)
    checks = []
    for name, value in spec.inputs:
        try:
            up = evaluate(spec, {**base, name: value + FD_STEP})
            down = evaluate(spec, {**base, name: value - FD_STEP})
            numeric: float | None = (up - down) / (2 * FD_STEP)
        except GraphError:
            numeric = None
        checks.append(GradientCheck(name, done.grads[name], numeric, done.values[spec.output]))
    return checks


@dataclass(frozen=True, slots=True)
class Moment:
    """The optimizer's state between updates: t, and each parameter's state values."""

    t: int = 0
    values: tuple[tuple[str, tuple[tuple[str, float], ...]], ...] = ()

    def of(self, parameter: str) -> dict[str, float]:
        return dict(dict(self.values).get(parameter, ()))


def step(
    spec: GraphSpec, done: Pass, carry: Carry = exact, moment: Moment | None = None
) -> tuple[GraphSpec, Moment, dict[str, dict[str, float]]]:
    """One update of the parameters by the spec's optimizer (PyTorch's torch.optim formulas;
    plain gradient descent w ← w − η·∂f/∂w by default). Returns the graph with the new
    values, the optimizer's state after it, and per parameter every line's value by name
    ("g", "m", …, "step", "new") with the state before it under "before <name>"."""
    moment = moment or Moment()
    settings = spec.optimizer
    state_names = settings.optimizer.state
    t = moment.t + 1
    eta = spec.learning_rate or 0.0
    values = dict(spec.inputs)
    lines: dict[str, dict[str, float]] = {}
    kept = []
    for name in spec.parameters:
        before = {s: moment.of(name).get(s, 0.0) for s in state_names}
        n = optimizers.update(
            settings,
            eta,
            t,
            values[name],
            done.grads[name],
            before,
            l2=spec.weight_decay,
            carry=carry,
        )
        numbers = {
            k: float(v) for k, v in n.items() if isinstance(v, (int, float)) or hasattr(v, "dtype")
        }
        numbers.update({f"before {s}": v for s, v in before.items()})
        lines[name] = numbers
        values[name] = numbers["new"]
        kept.append((name, tuple((s, numbers[s]) for s in state_names)))
    return spec.with_inputs(values), Moment(t, tuple(kept)), lines


@dataclass(frozen=True, slots=True)
class Epoch:
    """One epoch of `step` on a graph: f before the update, the gradients, the new values."""

    epoch: int
    value: float
    value_after: float
    parameters: tuple[tuple[str, float], ...]  # after the update
    gradients: tuple[tuple[str, float], ...]  # ∂f/∂parameter, before the update


@dataclass(frozen=True, slots=True)
class Training:
    """What `train` did: the kept epochs, every epoch's f after it, the traced passes."""

    start: GraphSpec
    final: GraphSpec
    epochs: tuple[Epoch, ...]  # the kept ones, and always the last
    values_after: tuple[float, ...]  # f after every epoch
    # (epoch, before, pass, after, f after, the update's lines per parameter)
    traced: tuple[tuple[int, GraphSpec, Pass, GraphSpec, float, dict], ...]
    stop_reason: str = ""


DIVERGENCE_FACTOR = 1e6


def train(
    spec: GraphSpec,
    epochs: int,
    carry: Carry = exact,
    traced: Callable[[int], bool] = lambda epoch: False,
    keep: Callable[[int], bool] = lambda epoch: True,
    trace_last: bool = False,
    progress: Callable[[int], None] | None = None,
) -> Training:
    """Gradient descent on the parameters, `epochs` times: one forward and backward pass and
    one update per epoch. Stops, saying why, where f leaves a function's domain or
    overflows; the first epoch failing is an error."""
    current = spec
    kept: list[Epoch] = []
    values_after: list[float] = []
    passes = []
    stop = ""
    try:
        done = run(current, carry)
    except GraphError as err:
        raise err.config_error(spec, "epoch 1, ") from None
    first = done.values[spec.output]
    moment = Moment()
    for epoch in range(1, epochs + 1):
        new, moment, moved = step(current, done, carry, moment)
        try:
            following = run(new, carry)
            after = following.values[spec.output]
        except GraphError as err:
            stop = f"after epoch {epoch} the graph cannot be evaluated: {err.problem}"
            following, after = None, math.nan
        if not math.isfinite(after) or abs(after) > DIVERGENCE_FACTOR * max(1.0, abs(first)):
            stop = stop or f"{spec.output} grew to {after:.6g} at epoch {epoch}: it diverges"
        if epoch == 1 and (following is None or not math.isfinite(after)):
            # the first update cannot be shown at all: an error, as in `run`
            raise ConfigError(
                spec.source,
                None,
                None,
                f"the numbers overflow: {stop or f'{spec.output} = {after}'} (the update in "
                "epoch 1); use a smaller learning_rate",
            )
        grads = tuple((n, done.grads[n]) for n in spec.parameters)
        row = Epoch(
            epoch,
            done.values[spec.output],
            after,
            tuple((n, v) for n, v in new.inputs if n in spec.parameters),
            grads,
        )
        values_after.append(after)
        last = epoch == epochs or bool(stop) or following is None
        if keep(epoch) or last:
            kept.append(row)
        if traced(epoch) or (trace_last and last):
            passes.append((epoch, current, done, new, after, moved))
        if progress is not None:
            progress(epoch)
        current = new
        if following is None or stop:
            break
        done = following
    return Training(spec, current, tuple(kept), tuple(values_after), tuple(passes), stop)
