"""A `model:` of tensor layers, traced and trained, as terminal tables: each section's rows as
a graph's are drawn (`graph_table.block_table`), the model's layers and shapes above them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich import box
from rich.console import Group
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from ..core.errors import visible
from ..definitions.optimizers import describe
from ..network.layers.model_kinds import MODEL_KINDS
from ..network.model_engine import FD_STEP, FD_TOLERANCE
from ..network.model_notation import notation, word
from ..network.records import LECTURE
from . import escape
from .epochs import loss_curve
from .graph_table import block_table
from .numbers import NumberFormat
from .table import Bullet, title_lines

if TYPE_CHECKING:
    from rich.console import RenderableType

    from ..network.model_trace import ModelTrace, ModelTraining


def shapes(spec: Any) -> list[tuple[str, ...]]:
    """Each layer: its name, kind with arguments, input → output shape, its parameters; in a
    textbook's notation also its tensors' names there (z^2 · w^2, b^2). The first row: the
    columns' titles."""
    book = None if spec.notation == LECTURE else notation(spec)
    out: list[tuple[str, ...]] = [
        ("layer", "kind", "shape", "parameters")
        if book is None
        else ("layer", "kind", "shape", "parameters", f"in {book.book.name.title()}'s names")
    ]
    for p, layer in enumerate(spec.layers):
        arguments = MODEL_KINDS[layer.kind][0].written(dict(layer.arguments))
        kind = f"{layer.kind}({arguments})" if arguments else layer.kind
        own = [
            f"{n} {list(v.shape)}" for n, v in spec.parameters if n.rpartition(".")[0] == layer.name
        ]
        cells = (
            layer.name,
            kind,
            f"{_shape(layer.shape_in)} → {_shape(layer.shape_out)}",
            ", ".join(own),
        )
        out.append(cells if book is None else (*cells, book.names(p)))
    return out


def layers_markdown(spec: Any) -> list[str]:
    """The layers' table as markdown (`shapes`: its columns, a row a layer)."""
    titles, *rows = shapes(spec)
    return [
        "| " + " | ".join(titles) + " |",
        "|" + " --- |" * len(titles),
        *("| " + " | ".join(escape.markdown(c) for c in cells) + " |" for cells in rows),
    ]


def _shape(shape: tuple[int, ...]) -> str:
    return "×".join(map(str, shape))


def describe_line(spec: Any) -> str:
    samples = len(spec.samples)
    return (
        " → ".join(layer.kind for layer in spec.layers)
        + f" · loss {spec.loss} · η = {spec.learning_rate:g}"
        + f" · {samples} sample{'s' if samples != 1 else ''}"
        + f"\noptimizer {describe(spec.optimizer, spec.weight_decay)}"
    )


CONVENTION = (
    "δ = −∂E/∂y (the lecture's sign); entries indexed as torch's: y0[c,t] is layer 0's "
    "channel c, position t"
)


def convention(spec: Any) -> str:
    """The header's note on names: a convolution's channel and position (an image's [c,i,j]),
    or an rnn's step and unit (h0[t,j]); in a textbook's notation, the book's letters and
    sign first (`model_notation`)."""
    line = _torch_convention(spec)
    return line if spec.notation == LECTURE else notation(spec).convention(line)


def _torch_convention(spec: Any) -> str:
    for layer in spec.layers:
        if layer.kind == "rnn":
            h = f"h{layer.name}" if layer.name.isdigit() else f"h_{layer.name}"
            top = int(layer.argument("num_layers")) - 1  # type: ignore[arg-type]
            stacked = top > 0 or layer.argument("bidirectional")
            line = (
                f"δ = −∂E/∂y (the lecture's sign); entries indexed as torch's: "
                f"{h}{f'_l{top}' if stacked else ''}[t,j] is layer {layer.name}'s hidden state "
                f"at step t, unit j"
            )
            if stacked:
                line += f" of its stacked layer l{top} (torch's _l{top}; _reverse: backwards)"
            if layer.argument("h0") is not None:
                first = f"{h}_l0" if stacked else h
                line += f"; {first}[-1,j] is the initial state h0, given"
            return line
    if all(len(layer.shape_in) == len(layer.shape_out) == 1 for layer in spec.layers):
        return CONVENTION.replace("y0[c,t]", "y0[j]").replace("channel c, position t", "entry j")
    if any(len(layer.shape_in) == 3 for layer in spec.layers):
        return CONVENTION.replace("y0[c,t]", "y0[c,i,j]").replace("position t", "row i, column j")
    return CONVENTION


SHOWN_ROWS = 16  # a section longer than this shows its first SHOWN_HEAD rows (unless --full)
SHOWN_HEAD = 12


def shown_sections(sections: Any, full: bool) -> list[Any]:
    """Each section as it is drawn: a long one (a wide tensor's) cut to its first rows and a
    note of how many more — all of them with `--full`, and always in the JSON."""
    from dataclasses import replace

    out = []
    for section in sections:
        rows = section.rows
        if full or len(rows) <= SHOWN_ROWS:
            out.append(section)
            continue
        note = f"… {len(rows) - SHOWN_HEAD} more rows of {len(rows)} (`--full` shows them)"
        out.append(replace(section, rows=rows[:SHOWN_HEAD], note=note))
    return out


def layers_table(spec: Any) -> Table:
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    titles, *rows = shapes(spec)
    for column in titles:
        table.add_column(column, style="bold cyan" if column == "layer" else None)
    for cells in rows:
        table.add_row(*cells)
    return table


def verify_note(checks: Any) -> str:
    bad = [c.name for c in checks if not c.agrees]
    tolerance = f"h = {FD_STEP:g}, tolerance {FD_TOLERANCE:g} relative + 1e-8"
    if bad:
        return f"{len(bad)} of {len(checks)} gradients DISAGREE ({', '.join(bad)}; {tolerance})"
    return f"All {len(checks)} gradients agree with central finite differences of E ({tolerance})."


def _verify(trace: ModelTrace, fmt: NumberFormat) -> RenderableType:
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for column in ("gradient", "backprop", "finite difference", "relative difference", ""):
        table.add_column(column, justify="left" if column in ("gradient", "") else "right")
    for c in trace.checks or ():
        table.add_row(
            f"∂{word(trace.spec, 'E')}/∂{c.name}",
            fmt(c.backprop),
            fmt(c.numeric),
            f"{c.difference:.1e}",
            "agrees" if c.agrees else "DISAGREES",
        )
    heading = Text.assemble(
        ("Gradient check · central finite differences", "bold"),
        "   ",
        ("∂E/∂θ ≈ [E(θ + h) − E(θ − h)]/2h, sample 1", "dim"),
    )
    return Group(heading, table, Text(verify_note(trace.checks), style="italic"))


EVAL_MODE = (
    "eval mode (torch's model.eval()): dropout drops nothing, batch norm normalises with its "
    "running statistics and does not move them"
)


def notes(spec: Any, traced: Any) -> list[str]:
    """The header's notes: the names' convention, and eval mode where `traced` is in it."""
    return [convention(spec), *([EVAL_MODE] if traced.inference else [])]


def render(trace: ModelTrace, fmt: NumberFormat, title: bool = True) -> RenderableType:
    spec = trace.spec
    parts: list[Any] = []
    if title:
        parts += title_lines(spec.name, describe_line(spec), spec.description, notes(spec, trace))
        parts += [Text(""), layers_table(spec)]
    for step in trace.steps:
        parts += [Text(""), Rule(step.heading, align="left")]
        x = ", ".join(fmt(v) for v in step.inputs.ravel())
        t = ", ".join(fmt(v) for v in step.targets.ravel())
        # one target per step (an rnn without `last`): its shape too, as the inputs'
        shape = f" ({_shape(step.targets.shape)})" if step.targets.ndim > 1 else ""
        inputs, targets = word(spec, "x"), word(spec, "t")
        parts.append(
            Text(
                f"inputs {inputs} = [{x}] ({_shape(step.inputs.shape)}) · targets {targets} = "
                f"[{t}]{shape}",
                style="dim",
            )
        )
        for section in shown_sections(step.sections, trace.full):
            parts += [Text(""), block_table(section, fmt)]
    if trace.checks is not None:
        parts += [Text(""), _verify(trace, fmt)]
    parts += [Text(""), Text(closing(trace, fmt))]
    return Group(*parts)


def closing(trace: ModelTrace, fmt: NumberFormat) -> str:
    losses = [s.loss for s in trace.steps]
    before = fmt(sum(losses) / len(losses))
    loss = word(trace.spec, "E")
    if not trace.updated:
        return f"{loss} = {before} (eval mode: the gradients, no update)"
    updates = "s" if len(losses) > 1 else ""
    return f"{loss} = {before} before the update{updates}; after: {fmt(trace.loss_after)}."


def training(trace: ModelTraining, fmt: NumberFormat) -> RenderableType:
    spec = trace.spec
    parts: list[Any] = [
        Text(visible(spec.name), style="bold underline"),
        Text(describe_line(spec), style="dim"),
        *([Bullet(EVAL_MODE)] if trace.inference else []),
        Text(f"{len(trace.rows)} of {trace.epochs_asked} epochs", style="dim"),
        Text(""),
        layers_table(spec),
    ]
    for traced in trace.traces:
        parts += [
            Text(""),
            Rule(f"Epoch {traced.epoch} in full", align="left"),
            render(traced, fmt, title=False),
        ]
    parts += [Text(""), Rule("Epochs", align="left")]
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for column in ("epoch", "loss", "loss after"):
        table.add_column(column, justify="right")
    for row in shown(trace):
        table.add_row(str(row.epoch), fmt(row.loss), fmt(row.loss_after))
    parts.append(table)
    rows, log = loss_curve(trace.losses_after)
    if rows:
        parts.append(Text(f"loss after each epoch{', log scale' if log else ''}", style="bold"))
        parts += [Text(" │" + line, style="green") for line in rows]
    parts.append(Text(summary(trace, fmt)))
    return Group(*parts)


def shown(trace: ModelTraining) -> list[Any]:
    """The table's rows: the first ten epochs, then about 30 in all, and the last."""
    rows = trace.rows
    every = max(1, len(rows) // 30)
    return [r for r in rows if r.epoch <= 10 or r.epoch % every == 0 or r.epoch == rows[-1].epoch]


def summary(trace: ModelTraining, fmt: NumberFormat) -> str:
    last = trace.rows[-1]
    text = (
        f"Loss {fmt(trace.rows[0].loss)} before training, {fmt(last.loss_after)} after "
        f"epoch {last.epoch}"
    )
    if trace.stop_reason:
        text += f". Stopped: {trace.stop_reason}"
    return text + "."
