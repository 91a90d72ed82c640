"""A computational graph as the tool holds it once validated: `GraphSpec`, its nodes and
constants. Read from a config by `graph`, computed by `graph_engine`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

from ..definitions import optimizers
from ..definitions.operations import OPS, Op

Carry = Callable[[float], float]


def exact(value: float) -> float:
    return value


@dataclass(frozen=True, slots=True)
class Const:
    """A constant operand, written as in the expression."""

    value: float
    text: str


Arg = str | Const  # an input's or node's name, or a constant


@dataclass(frozen=True, slots=True)
class Node:
    """One operation: `op` applied to `args`; `line`/`column` locate it in the config."""

    name: str
    op: str  # key of operations.OPS
    args: tuple[Arg, ...]
    line: int | None
    column: int | None
    field: str  # "nodes.f" or "expression"
    named: bool  # named by the user (a `nodes:` key or the output), not by the tool

    @property
    def operation(self) -> Op:
        return OPS[self.op]

    def variables(self) -> list[tuple[int, str]]:
        """(argument index, name) of the arguments that are not constants."""
        return [(k, a) for k, a in enumerate(self.args) if isinstance(a, str)]


@dataclass(frozen=True, slots=True)
class GraphSpec:
    """A validated graph: inputs with their values, nodes in forward order, the output."""

    name: str
    source: str
    inputs: tuple[tuple[str, float], ...]
    nodes: tuple[Node, ...]
    output: str
    parameters: tuple[str, ...] = ()
    learning_rate: float | None = None
    description: str = ""
    written: tuple[tuple[str, str], ...] = ()  # (node or "expression", text) as written
    form: str = "nodes"  # "nodes" or "expression"
    optimizer: optimizers.Settings = field(default_factory=optimizers.Settings)  # plain GD
    weight_decay: float = 0.0  # L2 on every parameter: g ← ∂f/∂w + λ·w

    @property
    def plain(self) -> bool:
        """Plain gradient descent, w ← w − η·∂f/∂w, written as one line."""
        return self.optimizer.name == "sgd" and not self.weight_decay

    @property
    def input_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.inputs)

    def with_inputs(self, values: Mapping[str, float]) -> GraphSpec:
        return replace(self, inputs=tuple((n, float(values.get(n, v))) for n, v in self.inputs))
