"""The trace as a markdown document for homework: LaTeX math, markdown tables, Mermaid diagrams.

Renders on GitHub, GitLab, in Jupyter, VS Code and Obsidian. Like every renderer it only
formats: each number is a value the records hold, written by `NumberFormat`. The pieces live
beside it: `latex` (names, numbers, equations), `rules`, `mermaid`, `problem`, `sheets`.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from .. import tracing
from ..network.config import Spec
from ..network.history import EpochRow, loss_meanings, output_heading
from ..network.records import Elided, Equation, Section, Step, Trace
from ..network.statement import LABELLED_EDGES
from . import escape
from .latex import equation_lines, latex_number, latex_symbol, math_block, math_inline
from .mermaid import flowchart, loss_chart
from .numbers import NumberFormat, accuracy_caption, loss_change, percent
from .problem import notes, problem
from .rules import conventions, latex_rule_markdown, rule_markdown
from .sheets import folder_index, hand_in, keys_index, question, students_index, teachers_index

if TYPE_CHECKING:
    from ..network.history import TrainingTrace

__all__ = [  # importers of this module's names before the split: homework, tests
    "folder_index",
    "hand_in",
    "keys_index",
    "latex_number",
    "question",
    "render",
    "render_training",
    "students_index",
    "teachers_index",
]


# ---------------------------------------------------------------- sections


def section_markdown(
    section: Section, fmt: NumberFormat, first_sigma: list[bool] | None = None
) -> str:
    latex = section.rule_latex
    rule = latex_rule_markdown(latex) if latex else rule_markdown(section.rule)
    out = [f"#### {section.title}", "", f"Rule: {rule}", ""]
    if section.kind == "verify":
        return "\n".join([*out, *_verify_table(section, fmt), ""])
    equations: list[list[str]] = []
    for row in section.rows:
        if isinstance(row, Elided):
            if equations:
                out += [math_block(equations), ""]
                equations = []
            out += [f"*… {row.count} more: {row.what} (`--full` shows them)*", ""]
            continue
        equations.append(equation_lines(row, fmt, first_sigma))
    if equations:
        out += [math_block(equations), ""]
    for line in section.note.splitlines():  # its formulas as math, each kept whole
        out += [f"*{rule_markdown(line, whole=True)}*", ""]
    return "\n".join(out)


def _verify_table(section: Section, fmt: NumberFormat) -> list[str]:
    out = [
        "| gradient | finite difference | backprop | relative difference | |",
        "| --- | ---: | ---: | ---: | --- |",
    ]
    for row in section.rows:
        if isinstance(row, Equation):
            values = row.values()
            out.append(
                f"| {math_inline(latex_symbol(row.symbol))} | {fmt(row.value)} | "
                f"{fmt(values['backprop'])} | {values['relative difference']:.1e} | "
                f"{row.note or 'agrees'} |"
            )
    return [*out, "", f"*{section.note}*"]


def _step_sections(step: Step, fmt: NumberFormat, first_sigma: list[bool]) -> list[str]:
    out = [f"### {step.heading}", ""]
    for section in step.sections:
        out.append(section_markdown(section, fmt, first_sigma))
    return out


def _summary(trace: Trace, fmt: NumberFormat) -> list[str]:
    out = ["| parameter | old | new |", "| --- | ---: | ---: |"]
    for change in trace.changes:
        symbol = math_inline(latex_symbol(change.symbol))
        out.append(f"| {symbol} | {fmt(change.before)} | {fmt(change.after)} |")
    hidden = trace.parameter_count - len(trace.changes)
    if hidden:
        out.append(f"| … | {hidden} more that moved less | (`--full` shows all) |")
    before = trace.loss_before_inference
    before = trace.loss_before if before is None else before
    out.append(f"| $E$ | {fmt(before)} | {fmt(trace.loss_after)} |")
    out.append("")
    line = f"The loss before the update is {fmt(before)}; after it, {fmt(trace.loss_after)}."
    if trace.loss_before_inference is not None:
        line += (
            f" Both are measured without dropout, as at inference; through this step's "
            f"dropout masks the loss was {fmt(trace.loss_before)}."
        )
    out.append(line)
    return out


# ---------------------------------------------------------------- run: one step


def render(trace: Trace, fmt: NumberFormat) -> str:
    """`run`: the whole worked step as one markdown document."""
    spec = trace.spec
    parts = [f"# {escape.markdown(spec.name)}", ""]
    if spec.description:
        parts += [escape.markdown(spec.description.strip(), lines=True), ""]
    model = tracing.model(spec)
    statement = model.problem(spec, trace)
    parts += [problem(statement, fmt), "", *notes(statement, fmt)]
    before = model.diagram(spec, trace)
    parts += [flowchart(before, fmt, "The network before the update"), ""]
    if before.legend:
        parts += [f"*{before.legend}*", ""]
    parts += ["## Conventions", "", *conventions(trace.notes), ""]
    parts += ["## Solution", ""]
    first_sigma = [True]
    for step in trace.steps:
        parts += _step_sections(step, fmt, first_sigma)
    if trace.inference:
        count = len(trace.steps)
        mean = "" if count == 1 else f", the mean over the {count} samples"
        parts += [f"**Loss:** $E$ = {fmt(trace.loss_before)}{mean} (inference: no update).", ""]
        return "\n".join(parts).rstrip() + "\n"
    parts += ["## Summary", "", *_summary(trace, fmt), ""]
    if sum(w.size for w in spec.weights) <= LABELLED_EDGES:
        after = model.diagram(_after(trace))
        parts += [flowchart(after, fmt, "The network after the update"), ""]
    return "\n".join(parts).rstrip() + "\n"


def _after(trace: Trace) -> Spec:
    """The network after the step, read from the records' new values (nothing recomputed)."""

    layers = trace.steps[-1].layers
    weights = tuple(layer.weights_after for layer in layers)
    biases = None
    if trace.spec.biases is not None:
        biases = tuple(layer.biases_after for layer in layers)  # None: a layer without
    return replace(trace.spec, weights=weights, biases=biases)


# ---------------------------------------------------------------- step: epochs


PARAMETERS_PER_TABLE = 8  # parameter columns per markdown table: fits a 900-pixel page


def epoch_table(trace: TrainingTrace, fmt: NumberFormat) -> list[str]:
    """The per-epoch table: loss and outputs, then the parameters (hand-sized networks) in
    tables of their own, at most eight columns each, each starting with the epoch."""

    rows = [row for row in trace.rows if isinstance(row, EpochRow)]
    header = ["epoch", "loss", *(_header_cell(name) for name in trace.output_names)]
    columns = [[str(r.epoch) for r in rows], [fmt(r.loss) for r in rows]]
    if trace.accuracy is not None:
        header.insert(2, "accuracy")
        columns.append([percent(r.accuracy or 0.0) for r in rows])
    columns += [[fmt(r.outputs[n]) for r in rows] for n in range(len(trace.output_names))]
    if not trace.parameter_names and any(row.moved for row in rows):
        header.append("changed most")
        columns.append(
            [
                f"{math_inline(latex_symbol(r.moved))} = {fmt(r.moved_value)} "
                f"({fmt.signed(r.moved_change)})"
                for r in rows
            ]
        )
    if trace.dropped is not None:
        header.append("dropped")
        columns.append([f"{r.dropped}/{trace.maskable}" for r in rows])
    out = _markdown_table(header, columns)
    names = trace.parameter_names
    tables = -(-len(names) // PARAMETERS_PER_TABLE)
    each = -(-len(names) // tables) if tables else 1  # balanced: 9 → 5 and 4, not 8 and 1
    for start in range(0, len(names), each):
        part = range(start, min(start + each, len(names)))
        out += [
            "",
            *_markdown_table(
                ["epoch", *(math_inline(latex_symbol(names[n])) for n in part)],
                [columns[0], *([fmt(r.parameters[n]) for r in rows] for n in part)],
            ),
        ]
    return out


def _markdown_table(header: list[str], columns: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "| " + " | ".join("---:" for _ in header) + " |"]
    out += ["| " + " | ".join(cells) + " |" for cells in zip(*columns)]
    return out


def _header_cell(name: str) -> str:

    symbol, sample = output_heading(name)
    text = math_inline(latex_symbol(symbol))
    return f"{text} ({sample})" if sample else text


def render_training(trace: TrainingTrace, fmt: NumberFormat) -> str:
    """`step`: the problem, the network before and after, the per-epoch table, the loss chart,
    and the full equations of the traced epochs."""

    spec = trace.spec
    run = len(trace.losses)
    parts = [f"# {escape.markdown(spec.name)}", ""]
    if spec.description:
        parts += [escape.markdown(spec.description.strip(), lines=True), ""]
    model = tracing.model(spec)
    statement = model.problem(spec, epochs=trace.epochs_asked)
    parts += [problem(statement, fmt), "", *notes(statement, fmt)]
    parts += [flowchart(model.diagram(spec), fmt, "The network before training"), ""]
    parts += ["## Epochs", ""]
    parts += [
        f"{run} of {trace.epochs_asked} epochs ran"
        + (f": {trace.stop_reason}." if trace.stop_reason else ".")
        + f" Rows: {trace.rows_note}. Loss: {loss_meanings(spec)[0]}; outputs"
        + (" and parameters" if trace.parameter_names else "")
        + ": after the epoch."
        + (
            " Accuracy: the share of samples right, each before its own update."
            if trace.accuracy is not None
            else ""
        ),
        "",
    ]
    parts += [*epoch_table(trace, fmt), ""]
    meaning = loss_meanings(spec)[1]
    parts += [f"The loss chart shows {meaning}.", "", loss_chart(trace, fmt), ""]
    parts += [
        f"The same loss before training is {fmt(trace.loss_start)}; after epoch {run} it is "
        f"{fmt(float(trace.losses_after[-1]))}: {loss_change(trace.relative_drop)}"
        + (f"; {accuracy_caption(trace.accuracy)}." if trace.accuracy is not None else "."),
        "",
    ]
    if sum(w.size for w in spec.weights) <= LABELLED_EDGES:
        final = model.diagram(trace.final)
        parts += [flowchart(final, fmt, f"The network after epoch {run}"), ""]
    first_sigma = [True]
    for traced in trace.traces:
        epoch = traced.epochs[0].epoch
        parts += [f"## Epoch {epoch} in full", ""]
        for step in traced.steps:
            parts += _step_sections(step, fmt, first_sigma)
        parts += [f"### Summary of epoch {epoch}", "", *_summary(traced, fmt), ""]
    return "\n".join(parts).rstrip() + "\n"
