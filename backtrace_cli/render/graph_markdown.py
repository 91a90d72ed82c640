"""A computational graph's trace and training as markdown: LaTeX equations, Mermaid diagrams."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from .. import tracing
from ..core.rounding import describe
from ..graph.trace import GraphTrace
from ..worked import Equation, Operand, Section
from . import escape
from .graph_formula import (
    formula_terms,
    latex_name,
    latex_operand_name,
    latex_operand_number,
    text_name,
    text_number,
)
from .graph_table import shown_rows, training_summary, verify_note
from .latex import aligned_equation, continued, latex_number, math_block, math_inline
from .mermaid import flowchart, plain, quoted
from .numbers import NumberFormat
from .problem import problem
from .rules import latex_rule_markdown

if TYPE_CHECKING:
    from ..graph.trace import GraphTraining


EQUATION_GAP, LINE_GAP = "12pt", "9pt"  # a graph's rows are tall fractions: space between
# one equation and the next, and where a fraction meets a line of its own equation


def equation_lines(row: Equation, fmt: NumberFormat) -> list[str]:
    """An equation as the course notes write it, in the layered network's layout: the
    formula, then "= " the numbers, then "= " the value, a line each; a sum too long for the
    page goes on at a +."""

    def lines(
        text: Callable[[Operand], str], latex: Callable[[Operand], str], longest: int
    ) -> list[str]:
        terms = zip(
            formula_terms(row.structure, text, False), formula_terms(row.structure, latex, True)
        )
        return continued([piece for term in terms for piece in _cut(*term, longest)])

    formula = lines(text_name, latex_operand_name, LONG_NAMES)
    numbers = lines(
        lambda o: text_number(o, fmt), lambda o: latex_operand_number(o, fmt), LONG_NUMBERS
    )
    note = f"\\quad \\text{{{_text(row.note)}}}" if row.note else ""
    value = latex_number(row.value, fmt)
    return aligned_equation(latex_name(row.symbol), formula, numbers, value, note)


# a single term longer than this as plain text nears a 900-px page, and is cut inside its
# bracket: names (their indices small, as subscripts) at 88 characters, numbers at 72
LONG_NAMES, LONG_NUMBERS = 88, 72


def _cut(plain: str, written: str, longest: int) -> list[tuple[str, str]]:
    """A term too long for the page — a conv2d weight's gradient, −(a sum of nine products) —
    as the pieces of the sum inside its bracket, each after the first with its " + ", so
    `continued` lines them up; a term of ordinary length stays whole."""
    if len(plain) > longest:
        pieces = _sum_pieces(plain), _sum_pieces(written)
        if len(pieces[0]) == len(pieces[1]) > 1:
            return list(zip(*pieces))
    return [(plain, written)]


def _sum_pieces(text: str) -> list[str]:
    """ "−(a + b + c)" → ["−(a", " + b", " + c)"]: cut at each " + " outside brackets or in
    the outermost one."""
    pieces, depth, start = [], 0, 0
    for n, character in enumerate(text):
        depth += {"(": 1, ")": -1}.get(character, 0)
        if depth <= 1 and text.startswith(" + ", n):
            pieces.append(text[start:n])
            start = n
    return [*pieces, text[start:]]


_TEXT_ESCAPES = {
    "\\": "\\textbackslash{}",
    "^": "\\textasciicircum{}",
    "~": "\\textasciitilde{}",
    **{c: "\\" + c for c in "{}$&#_%"},
}


def _text(note: str) -> str:
    """Prose inside \\text{}: a book's layer number raised (Nielsen's a^2[0,1] as a², in math
    inside the text), what KaTeX would read as a command escaped (Mazur's out_h1 stays out_h1),
    a minus sign and ∞ (a max pool's padding, −1, −∞) as KaTeX's text mode writes them."""
    pieces = re.split(r"\^(\w+)", note)  # text, raised, text, …
    text = "".join(
        f"$^{{{piece}}}$" if n % 2 else re.sub(r"[\\{}$&#^_%~]", _escaped, piece)
        for n, piece in enumerate(pieces)
    )
    text = text.replace("∂", "d").replace("−", "-")
    return text.replace("∞", "$\\infty$")


def _escaped(match: re.Match[str]) -> str:
    return _TEXT_ESCAPES[match.group(0)]


def _rule(rule: str) -> str:
    """A block's rule: prose, with its gradient symbols as inline math (an entry's index
    with them: ∂E/∂w_ih[j,i])."""
    return _GRADIENT.sub(lambda m: math_inline(latex_name(m.group(0))), rule).replace(
        "η", "$\\eta$"
    )


_GRADIENT = re.compile(r"∂[^\s/,;:\[]+(?:\[[^\[\]\s]*\])?/∂[^\s,;:\[]+(?:\[[^\[\]\s]*\])?")


_FORMULA_TOKENS = {"←": "\\leftarrow", "−": "-", "=": "=", "·": "\\cdot"}


def _formula_tex(text: str) -> str:
    """A rule's formula in LaTeX, token by token: w ← w − η·∂f/∂w → w \\leftarrow w - \\eta
    \\cdot \\frac{\\partial f}{\\partial w}; names as the graph writes them, numbers as they are."""
    tokens = [t for t in re.split(r"( |·)", text) if t.strip()]
    return " ".join(
        _FORMULA_TOKENS.get(t) or (t if re.fullmatch(r"[\d.e+-]+", t) else latex_name(t))
        for t in tokens
    )


def block_markdown(block: Section, fmt: NumberFormat) -> str:
    if block.rule_latex:
        rule = latex_rule_markdown(block.rule_latex)
    elif "←" in block.rule:  # gradient descent's "w ← w − η·∂f/∂w, η = 0.1": all maths
        rule = ", ".join(math_inline(_formula_tex(part)) for part in block.rule.split(", "))
    else:
        rule = _rule(block.rule)
        # a rule that begins with a symbol keeps it: δh[1,j] is not Δh[1,j], net[0,j] not
        # Net[0,j], o = σ(net) not O; only a word of prose begins with a capital
        first, _, rest = rule.partition(" ")
        prose = first.isascii() and first.isalpha() and not rest.startswith(("=", "←"))
        rule = rule[:1].upper() + rule[1:] if block.capital and prose else rule
    out = [f"#### {block.title}", "", rule + ".", ""]
    equations = [equation_lines(row, fmt) for row in block.rows]
    out += [math_block(equations, gap=EQUATION_GAP, jot=LINE_GAP), ""]
    if block.note:
        out += [f"*{_rule(block.note)}.*", ""]
    return "\n".join(out)


def render_markdown(trace: GraphTrace, fmt: NumberFormat) -> str:
    """`run` on a graph: the problem, the circuit, the passes, ∂f/∂input, as markdown."""
    spec = trace.spec
    parts = [f"# {escape.markdown(spec.name)}", ""]
    if spec.description:
        parts += [escape.markdown(spec.description.strip(), lines=True), ""]
    parts += [problem(tracing.model(spec).problem(spec, trace), fmt), ""]
    parts += _pass_markdown(trace, fmt, "##")
    return "\n".join(parts).rstrip() + "\n"


def _pass_markdown(trace: GraphTrace, fmt: NumberFormat, level: str) -> list[str]:
    out = trace.spec.output
    title = "The circuit" + ("" if trace.inference else ", values and gradients")
    parts = [flowchart(tracing.model(trace.spec).diagram(trace.spec, trace), fmt, title), ""]
    if trace.rounding:
        parts += [f"*Every carried value rounded to {_rounding(trace.rounding)}.*", ""]
    for block in trace.blocks:
        parts.append(block_markdown(block, fmt))
    if trace.checks is not None:
        parts += [f"{level}# Gradient check · central finite differences", ""]
        parts += [
            "| gradient | backprop | finite difference | relative difference | |",
            "| --- | ---: | ---: | ---: | --- |",
        ]
        for c in trace.checks:
            numeric = "undefined" if c.numeric is None else fmt(c.numeric)
            parts.append(
                f"| {math_inline(latex_name(f'∂{out}/∂{c.name}'))} | {fmt(c.backprop)} | {numeric} "
                f"| {c.difference:.1e} | {'agrees' if c.agrees else 'DISAGREES'} |"
            )
        parts += ["", f"*{verify_note(trace)}*", ""]
    parts += [*_summary_table(trace, fmt), "", _closing_markdown(trace, fmt), ""]
    return parts


def _summary_table(trace: GraphTrace, fmt: NumberFormat) -> list[str]:
    """Every input: its value, its gradient and, for a parameter, its new value."""
    out = trace.spec.output
    header = ["input", "value"]
    if not trace.inference:
        header.append(
            math_inline(f"\\frac{{\\partial {latex_name(out)}}}{{\\partial \\text{{input}}}}")
        )
    new = {u.name: u.after for u in trace.updates}
    if new:
        header.append("after the update")
    lines = ["| " + " | ".join(header) + " |", "| --- |" + " ---: |" * (len(header) - 1)]
    grads = dict(trace.gradients)
    for name, value in trace.inputs:
        cells = [math_inline(latex_name(name)), fmt(value)]
        if not trace.inference:
            cells.append(fmt(grads[name]))
        if new:
            cells.append(fmt(new[name]) if name in new else "")
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _rounding(spec: str) -> str:

    return describe(spec)


def _closing_markdown(trace: GraphTrace, fmt: NumberFormat) -> str:
    out = trace.spec.output
    value = f"${latex_name(out)} = {latex_number(trace.value, fmt)}$"
    if trace.inference:
        return f"{value} (forward pass only)."
    grads = ", ".join(
        f"${latex_name(f'∂{out}/∂{n}')} = {latex_number(g, fmt)}$" for n, g in trace.gradients
    )
    line = value + (f"; {grads}" if grads else "") + "."
    if trace.value_after is not None:
        line += f" After the update ${latex_name(out)} = {latex_number(trace.value_after, fmt)}$."
    return line


# ---------------------------------------------------------------- training


def training_markdown(trace: GraphTraining, fmt: NumberFormat) -> str:
    spec = trace.spec
    out = spec.output
    parts = [f"# {escape.markdown(spec.name)}", ""]
    if spec.description:
        parts += [escape.markdown(spec.description.strip(), lines=True), ""]
    parts += [problem(tracing.model(spec).problem(spec, trace.first, trace.epochs_asked), fmt), ""]
    parts += [
        "## Epochs",
        "",
        f"Rows: {trace.rows_note}. ${latex_name(out)}$ before the epoch's "
        "update; parameters after it.",
        "",
    ]
    header = ["epoch", math_inline(latex_name(out))]
    for name in spec.parameters:
        header += [
            math_inline(latex_name(f"∂{out}/∂{name}")),
            math_inline(latex_name(f"new {name}")),
        ]
    parts += ["| " + " | ".join(header) + " |", "| " + " | ".join("---:" for _ in header) + " |"]
    for row in shown_rows(trace):
        cells = [str(row.epoch), fmt(row.value)]
        grads = dict(row.gradients)
        for name, value in row.parameters:
            cells += [fmt(grads[name]), fmt(value)]
        parts.append("| " + " | ".join(cells) + " |")
    parts.append("")
    step = max(1, math.ceil(len(trace.rows) / 40))
    picked = list(range(step - 1, len(trace.rows), step))
    if picked[-1] != len(trace.rows) - 1:
        picked.append(len(trace.rows) - 1)
    values = [trace.rows[i].value_after for i in picked]
    finite = [v for v in values if math.isfinite(v)]
    if finite:
        low, high = min(0.0, *finite), max(finite)
        parts += [
            "```mermaid",
            "xychart-beta",
            f'  title "{quoted(out)} after each epoch"',
            "  x-axis [" + ", ".join(str(trace.rows[i].epoch) for i in picked) + "]",
            f'  y-axis "{quoted(out)}" {plain(low)} --> {plain(high * 1.05 if high > 0 else 1)}',
            "  line [" + ", ".join(plain(v) if math.isfinite(v) else "0" for v in values) + "]",
            "```",
            "",
        ]
    parts += [training_summary(trace, fmt, lambda n: math_inline(latex_name(n))), ""]
    for traced in trace.traces:
        parts += [f"## Epoch {traced.epoch} in full", ""]
        parts += _pass_markdown(traced, fmt, "###")
    return "\n".join(parts).rstrip() + "\n"
