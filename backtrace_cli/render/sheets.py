"""Question sheets (a network's, a graph's), how to hand in, and a homework set's indexes.

A sheet shows the problem and what to find, never a number from its solution.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from .. import tracing
from ..graph.trace import GraphTrace
from ..network.layers.model_kinds import MODEL_KINDS
from ..network.model_trace import ModelTrace
from ..network.records import Trace
from ..sheet import PLACEHOLDER
from ..statement import Diagram
from . import escape
from .graph_formula import latex_name
from .latex import latex_symbol, math_inline
from .mermaid import flowchart
from .numbers import NumberFormat
from .problem import notes, problem
from .rules import conventions

if TYPE_CHECKING:
    from ..sheet import Question


# ---------------------------------------------------------------- question sheets


# A sheet for a learning platform's quiz (`teach.quizbank`) draws its diagram as HTML and
# puts a blank where the sheet leaves a cell empty; it has no hand-in (the platform takes the
# answers). `Blank`: the cell a question gets; `Draw`: a diagram's drawer, as `flowchart`.
Blank = Callable[["Question"], str]
Draw = Callable[[Diagram, NumberFormat, str], str]


def question(
    trace: Trace,
    fmt: NumberFormat,
    ident: str,
    asked: Sequence[Question],
    blank: Blank | None = None,
    draw: Draw = flowchart,
) -> str:
    """An exercise sheet: the problem, the network, and a table of what to find — no answers,
    and no number from any solution (the hint's values are placeholders)."""
    spec = trace.spec
    model = tracing.model(spec)
    statement = model.problem(spec)
    parts = [f"# Exercise {ident}", "", problem(statement, fmt), "", *notes(statement, fmt)]
    parts += [draw(model.diagram(spec), fmt, f"Exercise {ident}"), ""]
    parts += ["## Conventions", "", *conventions(trace.notes), ""]
    parts += _answers(trace.steps, asked, blank, latex_symbol)
    if blank is None:
        parts += ["## Hand in", "", *hand_in(ident, asked)]
    return "\n".join(parts).rstrip() + "\n"


def graph_question(
    trace: GraphTrace,
    fmt: NumberFormat,
    ident: str,
    asked: Sequence[Question],
    blank: Blank | None = None,
    draw: Draw = flowchart,
) -> str:
    """A question sheet: the problem and the circuit without its numbers, a table of what to
    find by the names `check` reads, and how to hand in — `variant: <id>`, as a network's sheet
    says (the student has the id, never the teacher's configs/)."""
    spec = trace.spec
    model = tracing.model(spec)
    parts = [
        f"# {escape.markdown(spec.name)}",
        "",
        f"Variant `{ident}`.",
        "",
        problem(model.problem(spec, trace), fmt),
        "",
    ]
    parts += [draw(model.diagram(spec, trace, solved=False), fmt, "The circuit"), ""]
    parts += ["| quantity | answers-file name | your value |", "| --- | --- | ---: |"]
    parts += [
        f"| {math_inline(latex_name(q.symbol))} | `{q.name}` |{_cell(q, blank)}|" for q in asked
    ]
    parts += ["", *(hand_in(ident, asked) if blank is None else []), ""]
    return "\n".join(parts)


def model_question(
    trace: ModelTrace,
    fmt: NumberFormat,
    ident: str,
    asked: Sequence[Question],
    blank: Blank | None = None,
    draw: Draw = flowchart,
) -> str:
    """A `model:`'s question sheet: the problem, its layers and the shapes they give, a table
    of what to find by the names `check` reads (torch's: `y0[0,1]`), sample by sample, and how
    to hand in — no number from its solution."""
    from .model_table import convention, layers_markdown  # start-up: only a model's sheet

    spec = trace.spec
    model = tracing.model(spec)
    parts = [f"# Exercise {ident}", "", problem(model.problem(spec), fmt), ""]
    parts += [f"*{escape.markdown(convention(spec))}.*", ""]
    parts += layers_markdown(spec)
    parts += ["", draw(model.diagram(spec), fmt, f"Exercise {ident}"), ""]
    parts += ["## Given", "", *_tensors(spec, fmt), ""]
    parts += _answers(trace.steps, asked, blank, latex_name)
    if blank is None:
        parts += ["## Hand in", "", *hand_in(ident, asked)]
    return "\n".join(parts).rstrip() + "\n"


def _tensors(spec: Any, fmt: NumberFormat) -> list[str]:
    """A model's given tensors — its parameters and buffers under their state-dict names, each
    sample's input and target — as nested lists, as its config writes them."""

    def nested(value: Any) -> str:
        if getattr(value, "ndim", 0) == 0:
            return fmt(float(value))
        return "[" + ", ".join(nested(v) for v in value) + "]"

    given = (*spec.parameters, *spec.buffers)  # batch norm's running statistics too
    rows = [(f"`{name}`", nested(value)) for name, value in given]
    for layer in spec.layers:  # what a layer is given besides them: an rnn's h0, its masks
        own = getattr(MODEL_KINDS[layer.kind][0], "given", None)
        rows += [(what, nested(value)) for what, value in (own(layer, spec) if own else ())]
    from ..network.model_notation import word  # start-up: only a model's sheet

    x, t = word(spec, "x"), word(spec, "t")  # in a textbook's notation, its own (a^1, y)
    for number, sample in enumerate(spec.samples, start=1):
        which = f" (sample {number})" if len(spec.samples) > 1 else ""
        rows += [(f"input {x}{which}", nested(sample.inputs))]
        rows += [(f"target {t}{which}", nested(sample.targets))]
    return ["| tensor | value |", "| --- | --- |", *(f"| {a} | {b} |" for a, b in rows)]


def _answers(
    steps: Sequence[Any], asked: Sequence[Question], blank: Blank | None, latex: Callable
) -> list[str]:
    """What to find, sample by sample (a heading each where the step has several): each
    quantity as `latex` writes its symbol, the name an answers file gives it, its cell."""
    count = len(asked)
    parts = ["## Your answers", ""]
    parts += [f"Find {'this quantity' if count == 1 else f'these {count} quantities'}.", ""]
    headings = {step.sample: step.heading for step in steps}
    for sample in dict.fromkeys(q.sample for q in asked):
        if len(steps) > 1:
            parts += [f"### {headings[sample]}", ""]
        parts += ["| quantity | name in your answers file | your answer |", "| --- | --- | --- |"]
        parts += [
            f"| {math_inline(latex(q.symbol))} | `{q.name}` |{_cell(q, blank)}|"
            for q in asked
            if q.sample == sample
        ]
        parts.append("")
    return parts


def _cell(q: Question, blank: Blank | None) -> str:
    """The answer's cell: empty on a sheet, a platform's blank in its quiz."""
    return f" {blank(q)} " if blank else " "


def hand_in(ident: str, asked: Sequence[Question]) -> list[str]:
    """How to write the answers file: this variant's id and names, placeholder values."""
    first = [q for q in asked if q.sample == 1][:2] or list(asked[:1])
    later = next((q for q in asked if q.sample > 1), None)
    lines = [f"variant: {ident}", "student: your name", "answers:"]
    lines += [f"  {q.name}: {PLACEHOLDER}" for q in first]
    if later is not None:
        lines += ["samples:", f"  {later.sample}:", f"    {later.name}: {PLACEHOLDER}"]
    return [
        "Write your answers in a YAML file by the names in the table, with the variant's id, "
        f"and hand it in. Replace each {PLACEHOLDER} with your value; leave out what you did "
        "not find.",
        "",
        "```yaml",
        *lines,
        "```",
    ]


# ---------------------------------------------------------------- a homework set's indexes


def _variants(count: int) -> str:
    return f"{count} variant{'s' if count != 1 else ''}"


def folder_index(title: str, lead: str, column: str, files: Sequence[tuple[str, str]]) -> str:
    """The index of one folder of a homework set: (id, file) links inside that folder only,
    so that the folder can be published on its own."""
    parts = [
        f"# {escape.markdown(title)}",
        "",
        lead,
        "",
        f"| variant | {column} |",
        "| --- | --- |",
    ]
    parts += [f"| {ident} | [{name}]({name}) |" for ident, name in files]
    return "\n".join(parts) + "\n"


def students_index(sheets: Sequence[tuple[str, str]], title: str) -> str:
    """The students' index: (id, sheet file) links, and how to hand in. Nothing else — it is
    published, so it names no key and no config."""
    lead = (
        f"{_variants(len(sheets))}: do the one you were given. Its id is at the top of the "
        "sheet; write it in your answers file as the sheet shows."
    )
    return folder_index(title, lead, "sheet", sheets)


def keys_index(keys: Sequence[tuple[str, str]], title: str) -> str:
    """The answer keys' index, for publishing the solutions once the work is marked."""
    lead = f"The worked solution of each of the {_variants(len(keys))}, step by step."
    return folder_index(f"{title}: answer keys", lead, "answer key", keys)


def teachers_index(
    entries: Sequence[tuple[str, str, str, str, str]],
    about: Sequence[str],
    mark: str,
    column: str = "E",
) -> str:
    """The teacher's index: (id, sheet, key, config, E) per variant, what was drawn and how
    (`about`), and the command that marks a class (`mark`). `column`: what the last column
    shows (a graph's output, f: it has no loss E)."""
    parts = [
        "# Exercise variants: the teacher's index",
        "",
        *about,
        "",
        "Publish [questions/](questions/index.md) (the sheets and the students' index); "
        "[keys/](keys/index.md) holds the solutions, to publish once the work is marked, and "
        "`configs/` what `backtrace` marks against.",
        "",
        f"| variant | sheet | answer key | config | {column} |",
        "| --- | --- | --- | --- | ---: |",
    ]
    parts += [f"| {i} | [{q}]({q}) | [{k}]({k}) | [{c}]({c}) | {e} |" for i, q, k, c, e in entries]
    parts += ["", "Mark a class's answers files, a row each in a spreadsheet:", ""]
    parts += ["```bash", mark, "```"]
    return "\n".join(parts) + "\n"
