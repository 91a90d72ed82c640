"""A computational graph's trace as terminal tables, markdown (LaTeX, Mermaid) and JSON.

Like every renderer it only formats: each formula is written by its operation's own writer
(`operations`), each number is a value the records hold, written by `NumberFormat`.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from ..errors import visible
from ..graphformula import terms as _terms
from ..graphformula import write as _write
from ..graphtrace import Block, Formula, GraphTrace, Operand, Row
from ..operations import OPS
from . import escape
from .markdown import hand_in
from .numbers import MINUS, NumberFormat

if TYPE_CHECKING:
    from rich.console import RenderableType

    from ..exercise import Question
    from ..graphtrace import GraphTraining


# ---------------------------------------------------------------- formulas


def _constant(operand: Operand, latex: bool) -> str:
    text = operand.text.replace(MINUS, "-") if latex else operand.text
    return f"({text})" if text.startswith(("-", MINUS)) else text


def _text_name(o: Operand) -> str:
    return o.name if o.name is not None else _constant(o, False)


def _text_number(o: Operand, fmt: NumberFormat) -> str:
    return fmt.operand(o.value) if o.name is not None else _constant(o, False)


def text_formula(formula: Formula) -> str:
    return _write(formula, _text_name, latex=False)


def text_working(formula: Formula, fmt: NumberFormat) -> str:
    return _write(formula, lambda o: _text_number(o, fmt), latex=False)


_GREEK = {
    "alpha": "\\alpha",
    "beta": "\\beta",
    "gamma": "\\gamma",
    "delta": "\\delta",
    "epsilon": "\\epsilon",
    "eta": "\\eta",
    "theta": "\\theta",
    "lambda": "\\lambda",
    "mu": "\\mu",
    "rho": "\\rho",
    "sigma": "\\sigma",
    "tau": "\\tau",
    "phi": "\\phi",
    "omega": "\\omega",
    "α": "\\alpha",
    "β": "\\beta",
    "γ": "\\gamma",
    "δ": "\\delta",
    "ε": "\\epsilon",
    "η": "\\eta",
    "θ": "\\theta",
    "λ": "\\lambda",
    "μ": "\\mu",
    "ρ": "\\rho",
    "σ": "\\sigma",
    "τ": "\\tau",
    "φ": "\\phi",
    "ω": "\\omega",
    "Δ": "\\Delta",
}
_SLOT = re.compile(r"\{([^{}]+)\}")
LATEX_SOURCE_NODES = 60  # larger expressions are quoted as written, not rebuilt in LaTeX
_NAME = re.compile(r"([^\W\d_]+?)(hat)?_?(\d*)")


def latex_name(name: str) -> str:
    """A graph's name in LaTeX: x0 → x_{0}, theta → \\theta, yhat → \\hat{y}, q → q."""
    if name.startswith("new "):
        return latex_name(name[4:]) + "^{\\text{new}}"
    if name.startswith("∂"):
        return _latex_gradient(name)
    match = _NAME.fullmatch(name)
    if match is None:
        base, _, sub = name.partition("_")
        head = _word(base) if base else "\\_"
        return f"{head}_{{{_word(sub)}}}" if sub else head
    base, hat, digits = match.groups()
    head = _word(base)
    if hat:
        head = f"\\hat{{{head}}}"
    return f"{head}_{{{digits}}}" if digits else head


def _word(text: str) -> str:
    from ..optimizers import LATEX

    if text in _GREEK:
        return _GREEK[text]
    if text in LATEX:
        return LATEX[text]
    if len(text) == 1 and text.isascii():
        return text
    safe = re.sub(r"[^A-Za-z0-9]", "", text) or "v"
    if not text.isascii():
        return f"\\text{{{safe}}}"
    return f"\\mathit{{{safe}}}"


def _latex_gradient(symbol: str) -> str:
    """∂f/∂q → \\frac{\\partial f}{\\partial q}; "∂f/∂x via q (1st)" marks the branch."""
    main, _, via = symbol.partition(" via ")
    suffix = ""
    match = re.fullmatch(r"(.*) \((\d)\w\w\)", main)
    if match:
        main, suffix = match.group(1), f"^{{({match.group(2)})}}"
    top, _, bottom = main.partition("/")
    frac = f"\\frac{{\\partial {latex_name(top[1:])}}}{{\\partial {latex_name(bottom[1:])}}}"
    if via:
        node, _, which = via.partition(" (")
        mark = f",\\,{which[0]}" if which else ""
        return f"\\left.{frac}\\right|_{{\\text{{via }} {latex_name(node)}{mark}}}"
    return frac + suffix


def latex_number(value: float, fmt: NumberFormat) -> str:
    from .markdown import latex_number as number

    return number(value, fmt)


def _latex_operand(o: Operand, fmt: NumberFormat) -> str:
    if o.name is None:
        return _constant(o, True)
    text = latex_number(o.value, fmt)
    return f"({text})" if text.startswith("-") else text


def _latex_name(o: Operand) -> str:
    return latex_name(o.name) if o.name is not None else _constant(o, True)


def latex_formula(formula: Formula) -> str:
    return _write(formula, _latex_name, latex=True)


def latex_working(formula: Formula, fmt: NumberFormat) -> str:
    return _write(formula, lambda o: _latex_operand(o, fmt), latex=True)


# ---------------------------------------------------------------- terminal


def _describe(trace: GraphTrace) -> str:
    spec = trace.spec
    n_in, n_nodes = len(spec.inputs), len(spec.nodes)
    parts = [
        "computational graph",
        f"{n_in} input{'s' if n_in != 1 else ''}",
        f"{n_nodes} node{'s' if n_nodes != 1 else ''}",
        f"output {spec.output}",
    ]
    if spec.parameters:
        parts.append(f"parameters {', '.join(spec.parameters)}, η = {spec.learning_rate:g}")
    return " · ".join(parts)


def _written(trace: GraphTrace) -> list[str]:
    spec = trace.spec
    if spec.form == "expression":
        return [f"{spec.output} = {spec.written[0][1]}"]
    return [f"{name} = {text}" for name, text in spec.written]


def _given(trace: GraphTrace, fmt: NumberFormat) -> str:
    if not trace.inputs:
        return "no inputs"
    return "inputs " + ", ".join(f"{n} = {fmt(v)}" for n, v in trace.inputs)


def block_table(block: Block, fmt: NumberFormat) -> RenderableType:
    from rich import box
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    heading = Text.assemble((block.title, "bold"), "   ", (block.rule, "dim"))
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=0)
    table.add_column("", style="bold cyan", no_wrap=True)
    table.add_column("formula", style="magenta", overflow="fold")
    table.add_column("with numbers", overflow="fold")
    table.add_column("value", justify="right", style="bold", no_wrap=True)
    notes = []
    for row in block.rows:
        formula = text_formula(row.formula)
        working = text_working(row.formula, fmt)
        table.add_row(
            Text(row.symbol + " "),
            Text(formula),
            Text("" if working == formula else working),
            fmt(row.value),
        )
        if row.note:  # under the table, where it has the width to be read
            notes.append(f"{row.symbol}: {row.note}")
    parts: list[Any] = [heading, table]
    parts += [Text(note, style="italic yellow") for note in notes]
    if block.note:
        parts.append(Text(block.note, style="italic"))
    return Group(*parts)


def _verify_table(trace: GraphTrace, fmt: NumberFormat) -> RenderableType:
    from rich import box
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    table.add_column("gradient", style="bold cyan", no_wrap=True)
    table.add_column("backprop", justify="right")
    table.add_column("finite difference", justify="right")
    table.add_column("relative difference", justify="right")
    table.add_column("")
    for check in trace.checks or ():
        table.add_row(
            f"∂{trace.spec.output}/∂{check.name}",
            fmt(check.backprop),
            "undefined" if check.numeric is None else fmt(check.numeric),
            f"{check.difference:.1e}",
            "agrees" if check.agrees else "DISAGREES",
        )
    return Group(
        Text.assemble(
            ("Gradient check · central finite differences", "bold"),
            "   ",
            (_verify_rule(trace), "dim"),
        ),
        table,
        Text(_verify_note(trace), style="italic"),
    )


def _verify_rule(trace: GraphTrace) -> str:
    from ..graph import FD_STEP

    out = trace.spec.output
    return f"∂{out}/∂x ≈ [{out}(x + h) − {out}(x − h)]/2h, h = {FD_STEP:g}"


def _verify_note(trace: GraphTrace) -> str:
    from ..graph import FD_TOLERANCE

    checks = trace.checks or ()
    bad = [c.name for c in checks if not c.agrees]
    tolerance = f"tolerance {FD_TOLERANCE:g} relative + 1e-8·(1 + |{trace.spec.output}|)"
    if bad:
        return f"{len(bad)} of {len(checks)} gradients DISAGREE ({', '.join(bad)}; {tolerance})"
    return (
        f"All {len(checks)} gradients agree with central finite differences of "
        f"{trace.spec.output} through the forward pass ({tolerance})."
    )


def renderable(trace: GraphTrace, fmt: NumberFormat, title: bool = True) -> RenderableType:
    """The whole trace of one pass, as one renderable; the caller prints it once."""
    from rich.console import Group
    from rich.rule import Rule
    from rich.text import Text

    from .table import title_lines

    spec = trace.spec
    parts: list[Any] = []
    if title:
        parts += title_lines(spec.name, _describe(trace), spec.description, _written(trace))
    parts.append(Text(""))
    heading = "Forward pass only (--eval)" if trace.inference else "Forward, then backward"
    if trace.epoch is not None:
        heading = f"Epoch {trace.epoch} · {heading[0].lower()}{heading[1:]}"
    parts.append(Rule(heading, align="left"))
    parts.append(Text(_given(trace, fmt), style="dim"))
    for block in trace.blocks:
        parts.append(Text(""))
        parts.append(block_table(block, fmt))
    if trace.checks is not None:
        parts.append(Text(""))
        parts.append(_verify_table(trace, fmt))
    parts.append(Text(""))
    parts.append(Text(_closing(trace, fmt)))
    return Group(*parts)


def _closing(trace: GraphTrace, fmt: NumberFormat) -> str:
    out = trace.spec.output
    if trace.inference:
        return f"{out} = {fmt(trace.value)} (forward pass only: no gradients)"
    grads = ", ".join(f"∂{out}/∂{n} = {fmt(g)}" for n, g in trace.gradients)
    line = f"{out} = {fmt(trace.value)}" + (f"; {grads}" if grads else "")
    if trace.value_after is not None:
        line += f". After the update {out} = {fmt(trace.value_after)} (before: {fmt(trace.value)})"
    return line


# ---------------------------------------------------------------- markdown


def _math(text: str) -> str:
    return f"${text}$"


EQUATION_GAP, LINE_GAP = "12pt", "9pt"  # a graph's rows are tall fractions: space between
# one equation and the next, and where a fraction meets a line of its own equation


def equation_lines(row: Row, fmt: NumberFormat) -> list[str]:
    """An equation as the course notes write it, in the layered network's layout: the
    formula, then "= " the numbers, then "= " the value, a line each; a sum too long for the
    page goes on at a +."""
    from .markdown import aligned_equation, continued

    def lines(text: Callable[[Operand], str], latex: Callable[[Operand], str]) -> list[str]:
        terms = zip(_terms(row.formula, text, False), _terms(row.formula, latex, True))
        return continued(list(terms))

    formula = lines(_text_name, _latex_name)
    numbers = lines(lambda o: _text_number(o, fmt), lambda o: _latex_operand(o, fmt))
    note = f"\\quad \\text{{{_text(row.note)}}}" if row.note else ""
    value = latex_number(row.value, fmt)
    return aligned_equation(latex_name(row.symbol), formula, numbers, value, note)


def _text(note: str) -> str:
    """Prose inside \\text{}: nothing KaTeX would read as a command."""
    return re.sub(r"[\\{}$&#^_%~]", "", note).replace("∂", "d")


def _rule(rule: str) -> str:
    """A block's rule: prose, with its gradient symbols as inline math."""
    return re.sub(r"∂[^\s/,;:]+/∂[^\s,;:]+", lambda m: _math(latex_name(m.group(0))), rule).replace(
        "η", "$\\eta$"
    )


_FORMULA_TOKENS = {"←": "\\leftarrow", "−": "-", "=": "=", "·": "\\cdot"}


def _formula_tex(text: str) -> str:
    """A rule's formula in LaTeX, token by token: w ← w − η·∂f/∂w → w \\leftarrow w - \\eta
    \\cdot \\frac{\\partial f}{\\partial w}; names as the graph writes them, numbers as they are."""
    tokens = [t for t in re.split(r"( |·)", text) if t.strip()]
    return " ".join(
        _FORMULA_TOKENS.get(t) or (t if re.fullmatch(r"[\d.e+-]+", t) else latex_name(t))
        for t in tokens
    )


def block_markdown(block: Block, fmt: NumberFormat) -> str:
    from .markdown import math_block

    if block.rule_latex:
        rule = f"${block.rule_latex}$"
    elif "←" in block.rule:  # gradient descent's "w ← w − η·∂f/∂w, η = 0.1": all maths
        rule = ", ".join(_math(_formula_tex(part)) for part in block.rule.split(", "))
    else:
        rule = _rule(block.rule)
        rule = rule[:1].upper() + rule[1:]
    out = [f"#### {block.title}", "", rule + ".", ""]
    equations = [equation_lines(row, fmt) for row in block.rows]
    out += [math_block(equations, gap=EQUATION_GAP, jot=LINE_GAP), ""]
    if block.note:
        out += [f"*{_rule(block.note)}.*", ""]
    return "\n".join(out)


def _label(text: str) -> str:
    """Text inside a quoted Mermaid label."""
    return text.replace('"', "#quot;")


def diagram(trace: GraphTrace, fmt: NumberFormat, title: str, blank: bool = False) -> str:
    """The circuit as a Mermaid flowchart, inputs on the left, each node with its formula,
    its value and (after the backward pass) its gradient, as lecture slides annotate them."""
    spec = trace.spec
    out = spec.output
    ident = {name: f"v{k}" for k, (name, _) in enumerate(trace.inputs)}
    for k, node in enumerate(trace.nodes):
        ident[node.name] = f"node{k}"
    grads = dict(trace.gradients)
    lines = ["```mermaid", "---", f'title: "{_label(title)}"', "---", "flowchart LR"]
    for name, value in trace.inputs:
        label = f"{name} = {fmt(value)}"
        if not trace.inference and not blank:
            label += f"<br/>∂{out}/∂{name} = {fmt(grads[name])}"
        lines.append(f'  {ident[name]}(["{_label(label)}"])')
    rows = {row.symbol: row for row in trace.blocks[0].rows}
    for node in trace.nodes:
        formula = text_formula(rows[node.name].formula)
        label = f"{node.name} = {formula}" + ("" if blank else f"<br/>= {fmt(node.value)}")
        if not trace.inference and not blank:
            label += f"<br/>∂{out}/∂{node.name} = {fmt(node.grad)}"
        shape = ('(("', '"))') if node.name == out else ('["', '"]')
        lines.append(f"  {ident[node.name]}{shape[0]}{_label(label)}{shape[1]}")
    for node in trace.nodes:
        for arg in dict.fromkeys(a for a in node.inputs if isinstance(a, str)):
            lines.append(f"  {ident[arg]} --> {ident[node.name]}")
    lines.append("```")
    return "\n".join(lines)


def _problem(trace: GraphTrace, fmt: NumberFormat, epochs: int | None = None) -> str:
    spec = trace.spec
    if spec.form == "expression" and len(trace.nodes) > LATEX_SOURCE_NODES:
        what = f"the expression `{spec.output} = {spec.written[0][1][:60]}…`"
    elif spec.form == "expression":
        what = f"the expression ${latex_name(spec.output)} = {_latex_source(trace)}$"
    else:
        what = "the graph of nodes " + ", ".join(
            f"${latex_name(row.symbol)} = {latex_formula(row.formula)}$"
            for row in trace.blocks[0].rows
            if next(n for n in trace.nodes if n.name == row.symbol).named
        )
    given = ", ".join(f"${latex_name(n)} = {latex_number(v, fmt)}$" for n, v in trace.inputs)
    text = f"Evaluate {what}" + (f" at {given}" if given else "") + ". "
    if trace.inference:
        return text + "Do the forward pass, node by node."
    text += (
        "Do the forward pass node by node, then the backward pass in reverse order — for each "
        "node the upstream gradient times the local gradient — and give "
        + ", ".join(_math(latex_name(f"∂{spec.output}/∂{n}")) for n, _ in trace.inputs)
        + "."
    )
    if spec.parameters:
        eta = latex_number(spec.learning_rate or 0.0, fmt)
        names = ", ".join(_math(latex_name(p)) for p in spec.parameters)
        how = "gradient descent"
        if not spec.plain:  # Adam, momentum, weight decay: named, with their settings
            from ..optimizers import describe

            how = describe(spec.optimizer, spec.weight_decay)
        text += f" Then update {names} by {how} with $\\eta = {eta}$"
        text += f" for {epochs} epochs." if epochs else "."
    return text


def _latex_source(trace: GraphTrace) -> str:
    """The one-line expression, rebuilt from its nodes in LaTeX (nothing recomputed)."""
    rows = {row.symbol: row for row in trace.blocks[0].rows}
    named = {n.name for n in trace.nodes if n.named}

    def expand(name: str) -> str:
        row = rows[name]
        formula = row.formula

        def operand(o: Operand) -> str:
            if o.name is None:
                return _constant(o, True)
            if o.name in rows and o.name not in named:
                inner = expand(o.name)
                simple = OPS[rows[o.name].formula.writer].is_function or OPS[
                    rows[o.name].formula.writer
                ].name in ("pow", "id")
                return inner if simple or _wrapped(formula.writer) else f"\\left({inner}\\right)"
            return latex_name(o.name)

        return _write(formula, operand, latex=True)

    return expand(trace.spec.output)


def _wrapped(writer: str) -> bool:
    """Operations whose LaTeX groups each operand already (functions, fractions)."""
    return OPS[writer].is_function or writer in ("div", "id", "add")


def render_markdown(trace: GraphTrace, fmt: NumberFormat) -> str:
    """`run` on a graph: the problem, the circuit, the passes, ∂f/∂input, as markdown."""
    spec = trace.spec
    parts = [f"# {escape.markdown(spec.name)}", ""]
    if spec.description:
        parts += [escape.markdown(spec.description.strip(), lines=True), ""]
    parts += [_problem(trace, fmt), ""]
    parts += _pass_markdown(trace, fmt, "##")
    return "\n".join(parts).rstrip() + "\n"


def _pass_markdown(trace: GraphTrace, fmt: NumberFormat, level: str) -> list[str]:
    out = trace.spec.output
    title = "The circuit" + ("" if trace.inference else ", values and gradients")
    parts = [diagram(trace, fmt, title), ""]
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
                f"| {_math(latex_name(f'∂{out}/∂{c.name}'))} | {fmt(c.backprop)} | {numeric} "
                f"| {c.difference:.1e} | {'agrees' if c.agrees else 'DISAGREES'} |"
            )
        parts += ["", f"*{_verify_note(trace)}*", ""]
    parts += [*_summary_table(trace, fmt), "", _closing_markdown(trace, fmt), ""]
    return parts


def _summary_table(trace: GraphTrace, fmt: NumberFormat) -> list[str]:
    """Every input: its value, its gradient and, for a parameter, its new value."""
    out = trace.spec.output
    header = ["input", "value"]
    if not trace.inference:
        header.append(_math(f"\\frac{{\\partial {latex_name(out)}}}{{\\partial \\text{{input}}}}"))
    new = {u.name: u.after for u in trace.updates}
    if new:
        header.append("after the update")
    lines = ["| " + " | ".join(header) + " |", "| --- |" + " ---: |" * (len(header) - 1)]
    grads = dict(trace.gradients)
    for name, value in trace.inputs:
        cells = [_math(latex_name(name)), fmt(value)]
        if not trace.inference:
            cells.append(fmt(grads[name]))
        if new:
            cells.append(fmt(new[name]) if name in new else "")
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _rounding(spec: str) -> str:
    from ..rounding import describe

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


# ---------------------------------------------------------------- JSON


def _clean(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return value


def document(trace: GraphTrace) -> dict[str, Any]:
    """The JSON contract: format backtrace-graph, version 1."""
    spec = trace.spec
    data: dict[str, Any] = {
        "format": "backtrace-graph",
        "version": 1,
        "name": spec.name,
        "source": spec.source,
        "output": spec.output,
        "value": _clean(trace.value),
        "inputs": {n: _clean(v) for n, v in trace.inputs},
        "nodes": [
            {
                "name": node.name,
                "op": node.op,
                "inputs": [a if isinstance(a, str) else _clean(a) for a in node.inputs],
                "value": _clean(node.value),
                "grad": None if trace.inference else _clean(node.grad),
                "named": node.named,
            }
            for node in trace.nodes
        ],
        "gradients": None if trace.inference else {n: _clean(g) for n, g in trace.gradients},
        "rounding": trace.rounding,
        "inference": trace.inference,
        "equations": [
            {
                "section": block.kind,
                "symbol": row.symbol,
                "formula": text_formula(row.formula),
                "value": _clean(row.value),
            }
            for block in trace.blocks
            for row in block.rows
        ],
    }
    if spec.parameters:
        data["parameters"] = list(spec.parameters)
        data["learning_rate"] = spec.learning_rate
    if trace.updates:
        data["update"] = {
            u.name: {"before": u.before, "grad": u.grad, "after": _clean(u.after)}
            for u in trace.updates
        }
        data["value_after"] = _clean(trace.value_after)
    if trace.checks is not None:
        data["verify"] = [
            {
                "input": c.name,
                "backprop": c.backprop,
                "finite_difference": None if c.numeric is None else _clean(c.numeric),
                "relative_difference": _clean(c.difference),
                "agrees": c.agrees,
            }
            for c in trace.checks
        ]
    return data


def render_json(trace: GraphTrace | GraphTraining) -> str:
    data = document_training(trace) if hasattr(trace, "rows") else document(trace)
    return json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


# ---------------------------------------------------------------- training


def document_training(trace: GraphTraining) -> dict[str, Any]:
    data = document(trace.first)
    data["epochs"] = [
        {
            "epoch": row.epoch,
            "loss": _clean(row.value),
            "loss_after": _clean(row.value_after),
            "parameters": {n: _clean(v) for n, v in row.parameters},
            "gradients": {n: _clean(v) for n, v in row.gradients},
        }
        for row in trace.rows
    ]
    data["traced"] = [document(t) for t in trace.traces]
    data["summary"] = {
        "epochs_asked": trace.epochs_asked,
        "epochs_run": len(trace.rows),
        "stop_reason": trace.stop_reason or None,
        "parameters": {
            n: {"before": _clean(a), "after": _clean(b)}
            for (n, a), (_, b) in zip(trace.start, trace.rows[-1].parameters)
        },
        "value_before": _clean(trace.rows[0].value),
        "value_after": _clean(trace.rows[-1].value_after),
    }
    return data


def _shown_rows(trace: GraphTraining) -> list[Any]:
    return [row for row in trace.rows if row.epoch in trace.shown]


def training_renderable(trace: GraphTraining, fmt: NumberFormat) -> RenderableType:
    from rich import box
    from rich.console import Group
    from rich.rule import Rule
    from rich.table import Table
    from rich.text import Text

    from .epochs import loss_curve

    spec = trace.spec
    out = spec.output
    parts: list[Any] = [
        Text(visible(spec.name), style="bold underline"),
        Text(_describe(trace.first), style="dim"),
        Text(f"{len(trace.rows)} of {trace.epochs_asked} epochs", style="dim"),
    ]
    for line in _written(trace.first):
        parts.append(Text("• " + line, style="dim"))
    for traced in trace.traces:
        parts.append(renderable(traced, fmt, title=False))
    parts += [Text(""), Rule("Epochs", align="left")]
    parts.append(
        Text(
            f"rows: {trace.rows_note}. {out}: before the epoch's update; parameters: after it.",
            style="dim",
        )
    )
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    table.add_column("epoch", justify="right", style="bold cyan")
    table.add_column(out, justify="right")
    for name in spec.parameters:
        table.add_column(f"∂{out}/∂{name}", justify="right")
        table.add_column(f"new {name}", justify="right")
    for row in _shown_rows(trace):
        cells = [str(row.epoch), fmt(row.value)]
        grads = dict(row.gradients)
        for name, value in row.parameters:
            cells += [fmt(grads[name]), fmt(value)]
        table.add_row(*cells)
    parts.append(table)
    values = [row.value_after for row in trace.rows]
    rows, log = loss_curve(values)
    parts.append(Text(""))
    if rows:
        finite = [v for v in values if math.isfinite(v)]
        top, bottom = fmt(max(finite)), fmt(min(finite))
        pad = max(len(top), len(bottom))
        parts.append(Text(f"{out} after each epoch{', log scale' if log else ''}", style="bold"))
        for r, line in enumerate(rows):
            label = top if r == 0 else bottom if r == len(rows) - 1 else ""
            parts.append(Text.assemble((label.rjust(pad), "dim"), " │", (line, "green")))
        parts.append(Text(" " * pad + " └" + "─" * len(rows[0]), style="dim"))
    parts.append(Text(_training_summary(trace, fmt)))
    return Group(*parts)


def _training_summary(
    trace: GraphTraining, fmt: NumberFormat, name: Callable[[str], str] = str
) -> str:
    """How training went; `name` writes a name (markdown: as math, θ for theta)."""
    out = name(trace.spec.output)
    last = trace.rows[-1]
    params = ", ".join(f"{name(n)} = {fmt(v)}" for n, v in last.parameters)
    text = (
        f"{out} = {fmt(trace.rows[0].value)} before training, {fmt(last.value_after)} after "
        f"epoch {last.epoch}; {params}"
    )
    if trace.stop_reason:
        text += f". Stopped: {trace.stop_reason}"
    return text + "."


def training_markdown(trace: GraphTraining, fmt: NumberFormat) -> str:
    from .markdown import _plain

    spec = trace.spec
    out = spec.output
    parts = [f"# {escape.markdown(spec.name)}", ""]
    if spec.description:
        parts += [escape.markdown(spec.description.strip(), lines=True), ""]
    parts += [_problem(trace.first, fmt, trace.epochs_asked), ""]
    parts += [
        "## Epochs",
        "",
        f"Rows: {trace.rows_note}. ${latex_name(out)}$ before the epoch's "
        "update; parameters after it.",
        "",
    ]
    header = ["epoch", _math(latex_name(out))]
    for name in spec.parameters:
        header += [_math(latex_name(f"∂{out}/∂{name}")), _math(latex_name(f"new {name}"))]
    parts += ["| " + " | ".join(header) + " |", "| " + " | ".join("---:" for _ in header) + " |"]
    for row in _shown_rows(trace):
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
            f'  title "{_label(out)} after each epoch"',
            "  x-axis [" + ", ".join(str(trace.rows[i].epoch) for i in picked) + "]",
            f'  y-axis "{_label(out)}" {_plain(low)} --> {_plain(high * 1.05 if high > 0 else 1)}',
            "  line [" + ", ".join(_plain(v) if math.isfinite(v) else "0" for v in values) + "]",
            "```",
            "",
        ]
    parts += [_training_summary(trace, fmt, lambda n: _math(latex_name(n))), ""]
    for traced in trace.traces:
        parts += [f"## Epoch {traced.epoch} in full", ""]
        parts += _pass_markdown(traced, fmt, "###")
    return "\n".join(parts).rstrip() + "\n"


def question(trace: GraphTrace, fmt: NumberFormat, ident: str, asked: Sequence[Question]) -> str:
    """A question sheet: the problem and the circuit without its numbers, a table of what to
    find by the names `check` reads, and how to hand in — `variant: <id>`, as a network's sheet
    says (the student has the id, never the teacher's configs/)."""
    spec = trace.spec
    parts = [
        f"# {escape.markdown(spec.name)}",
        "",
        f"Variant `{ident}`.",
        "",
        _problem(trace, fmt),
        "",
    ]
    parts += [diagram(trace, fmt, "The circuit", blank=True), ""]
    parts += ["| quantity | answers-file name | your value |", "| --- | --- | ---: |"]
    parts += [f"| {_math(latex_name(q.symbol))} | `{q.name}` | |" for q in asked]
    parts += ["", *hand_in(ident, asked), ""]
    return "\n".join(parts)
