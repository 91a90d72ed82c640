"""The trace as rich tables for the terminal."""

from __future__ import annotations

import re

from rich import box
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.measure import Measurement
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from ..records import Elided, Equation, Section, Trace, biases_text
from .numbers import NumberFormat, substituted, symbolic


def network_line(trace: Trace) -> str:
    return network_line_for(trace.spec)


def network_line_for(spec) -> str:
    """One line saying what network this is: layers, activations, loss, η, samples."""
    acts = ", ".join(dict.fromkeys(spec.activations))
    samples = len(spec.samples)
    parts = [
        "layers " + "-".join(str(n) for n in spec.layers),
        acts,
        f"loss {spec.loss}",
        f"η = {spec.learning_rate:g}",
        f"{samples} sample{'s' if samples != 1 else ''}",
    ]
    if samples > 1:
        parts.append(spec.mode if spec.mode == "online" else f"batch ({spec.batch_gradient})")
    biases = biases_text(spec)
    if biases != "biases":
        parts.append(biases)
    return " · ".join(parts)


_SIGMA = re.compile(r"σ\(\{(net\d+(?:_\d+)?)\}\)")


class Wrapped:
    """A formula or its working in a table cell, wrapped between terms so that a number is
    never split: at a space outside parentheses by preference, then after a product's "·" or
    between factors "(…)(…)", then inside parentheses; a trailing note (from `note_at`) moves
    to a line of its own before it is broken."""

    def __init__(self, text: Text, note_at: int | None = None) -> None:
        self.text = text
        self.note_at = note_at
        plain = text.plain
        self.breaks: list[tuple[int, float]] = []  # (offset a line may end at, how deep)
        depth = 0
        for offset, char in enumerate(plain, start=1):
            depth += {"(": 1, ")": -1, "[": 1, "]": -1}.get(char, 0)
            after = plain[offset] if offset < len(plain) else " "
            if after == " ":
                continue  # a break goes after the last of the spaces
            if note_at is not None and offset > note_at:
                if char == " " and depth == 0:  # "(passes 0)" stays whole
                    self.breaks.append((offset, 99))  # inside the note: the last resort
            elif char == " ":
                self.breaks.append((offset, depth))
            elif char == "·" or (char == ")" and after == "("):
                self.breaks.append((offset, depth + 0.5))
        ends = [b for b, _ in self.breaks]
        self.shortest = max((b - a for a, b in zip([0, *ends], [*ends, len(plain)])), default=0)

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement(min(self.shortest, options.max_width), len(self.text.plain))

    def lines(self, width: int) -> list[Text]:
        plain = self.text.plain
        offsets, start = [], 0
        while len(plain) - start > width:
            fits = [
                (b, d) for b, d in self.breaks if start < b and len(plain[start:b].rstrip()) <= width
            ]
            note = self.note_at
            if note is not None and start < note and len(plain) - note <= width and fits:
                # the note whole on a line of its own, rather than broken
                cut = max(b for b, _ in fits if b <= note)
            elif not fits:  # a term wider than the column: only then is it cut
                following = [b for b, _ in self.breaks if b > start]
                cut = following[0] if following else len(plain)
                if cut >= len(plain):
                    break
            else:
                # the shallowest break that still fills half the line; else the last that fits
                full = [(b, d) for b, d in fits if b - start >= width // 2] or fits
                depth = min(d for _, d in full)
                cut = [b for b, d in full if d == depth][-1]
            offsets.append(cut)
            start = cut
        lines = []
        for line in self.text.divide(offsets):
            line.rstrip()
            line.overflow = "fold"
            lines.append(line)
        return lines

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield from self.lines(options.max_width)


class Heading:
    """A section's title and its rule on one line; when they do not fit, the rule goes on the
    next line, indented, wrapped between terms."""

    def __init__(self, title: str, rule: str) -> None:
        self.title, self.rule = title, rule

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = options.max_width
        if len(self.title) + 3 + len(self.rule) <= width:
            yield Text.assemble((self.title, "bold"), "   ", (self.rule, "dim"))
            return
        yield Text(self.title, style="bold")
        for line in Wrapped(Text(self.rule, style="dim")).lines(width - 2):
            yield Text.assemble("  ", line)


def section_table(
    section: Section, fmt: NumberFormat, first_sigma: list[bool] | None = None
) -> RenderableType:
    """One phase as a table. `first_sigma`: [True] until σ has been written out once."""
    heading = Heading(section.title, section.rule)
    table = Table(
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        padding=0,  # the box's divider is the one space between columns: fits 80 columns
    )
    table.add_column("", style="bold cyan", no_wrap=True)
    table.add_column("formula", style="magenta")
    table.add_column("with numbers")
    table.add_column("value", justify="right", style="bold", no_wrap=True)
    for row in section.rows:
        if isinstance(row, Elided):
            table.add_row(
                "…",
                "",
                Text(f"{row.count} more: {row.what} (--full shows them)", style="dim italic"),
                "",
            )
            continue
        assert isinstance(row, Equation)
        values = row.values()
        numbers = substituted(row.working or row.formula, values, fmt)
        sigma = _SIGMA.fullmatch(row.formula)
        if sigma and first_sigma and first_sigma[0]:
            first_sigma[0] = False
            net = values[sigma.group(1)]
            power = fmt(abs(net)) if net < 0 else fmt(-net)
            numbers += f" = 1/(1 + e^{power})"
        value = fmt(row.value)
        cell = Text(numbers)
        if row.note:
            cell.append(f"  {row.note}", style="italic yellow")
        note_at = len(numbers) + 2 if row.note else None
        # Text, never markup: formulas hold brackets, e.g. relu′ = [net3 > 0]
        table.add_row(
            Text(row.symbol + " "), Wrapped(Text(symbolic(row.formula))), Wrapped(cell, note_at), value
        )
    if section.note:
        return Group(heading, table, Text(section.note, style="italic"))
    return Group(heading, table)


def summary_table(trace: Trace, fmt: NumberFormat) -> Table:
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    table.add_column("old → new", style="bold cyan", no_wrap=True)
    table.add_column("old", justify="right")
    table.add_column("new", justify="right", style="bold")
    for n in trace.shown:
        change = trace.changes[n]
        table.add_row(change.symbol, fmt(change.before), fmt(change.after))
    if len(trace.shown) < len(trace.changes):
        hidden = len(trace.changes) - len(trace.shown)
        table.add_row(
            "…", Text(f"{hidden} more that moved less (--full shows all)", style="dim italic"), ""
        )
    table.add_section()
    # like for like: with dropout, the loss before is shown without it too, as the one after
    before = trace.loss_before_inference
    table.add_row("E", fmt(trace.loss_before if before is None else before), fmt(trace.loss_after))
    return table


def render(trace: Trace, fmt: NumberFormat, title: bool = True) -> RenderableType:
    """The whole trace, as one renderable; the caller prints it once.

    `title`: start with the network's name and notes (off when `step` shows several epochs).
    """
    spec = trace.spec
    parts: list[RenderableType] = []
    if title:
        parts += [Text(spec.name, style="bold underline"), Text(network_line(trace), style="dim")]
        if spec.description:
            parts.append(Text(spec.description.strip()))
        for note in trace.notes:
            parts.append(Text("• " + note, style="dim"))
    first_sigma = [title]  # σ written out once per document, where it is first used
    for step in trace.steps:
        parts.append(Text(""))
        parts.append(Rule(step.heading, align="left"))
        parts.append(Text(_given(trace, step, fmt), style="dim"))
        for section in step.sections:
            parts.append(Text(""))
            parts.append(section_table(section, fmt, first_sigma))
    parts.append(Text(""))
    if trace.inference:
        count = len(trace.steps)
        mean = "" if count == 1 else f", the mean over the {count} samples"
        parts.append(Text(f"E = {fmt(trace.loss_before)}{mean} (inference: no dropout, no update)"))
        return Group(*parts)
    epoch = trace.epochs[0].epoch
    parts.append(Rule("Summary" if title else f"Summary of epoch {epoch}", align="left"))
    parts.append(summary_table(trace, fmt))
    line = f"E before the update = {fmt(trace.loss_before)}, after = {fmt(trace.loss_after)}"
    if trace.loss_before_inference is not None:
        line = (
            f"E before the update = {fmt(trace.loss_before_inference)}, after = "
            f"{fmt(trace.loss_after)}, both without dropout (as at inference); through "
            f"this step's dropout masks E was {fmt(trace.loss_before)}"
        )
    parts.append(Text(line))
    outputs = _outputs(trace, fmt)
    if outputs:
        parts.append(Text(outputs))
    return Group(*parts)


def _given(trace: Trace, step, fmt: NumberFormat) -> str:
    numbering = trace.spec.numbering
    last = len(trace.spec.layers) - 1
    xs = [f"x{numbering.unit(0, i)} = {fmt(v)}" for i, v in enumerate(step.inputs[:6])]
    ts = [f"t{numbering.unit(last, i)} = {fmt(v)}" for i, v in enumerate(step.targets[:6])]
    more_x = " …" if len(step.inputs) > 6 else ""
    more_t = " …" if len(step.targets) > 6 else ""
    return f"inputs {', '.join(xs)}{more_x} · targets {', '.join(ts)}{more_t}"


def _outputs(trace: Trace, fmt: NumberFormat) -> str:
    if len(trace.spec.samples) != 1 or trace.outputs_after.shape[1] > 6:
        return ""
    numbering = trace.spec.numbering
    last = len(trace.spec.layers) - 1
    outs = ", ".join(
        f"o{numbering.unit(last, i)} = {fmt(v)}" for i, v in enumerate(trace.outputs_after[0])
    )
    return f"Outputs after the update: {outs}"
