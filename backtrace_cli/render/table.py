"""The trace as rich tables for the terminal."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from rich import box
from rich.cells import cell_len
from rich.console import Group, RenderableType
from rich.rule import Rule
from rich.text import Text

from ..core.errors import visible
from ..definitions.optimizers import describe
from ..network import layout
from ..network.optimize import plain_sgd
from ..network.records import Elided, Equation, Section, Trace, biases_text
from ..network.spec import Spec
from .lines import (
    COMBINING,
    Heading,
    Streamed,
    Wrapped,
    bullet_lines,
    lit,
    shown_width,
    wrap_terms,
)
from .numbers import Memo, NumberFormat, substituted, symbolic, written


def network_line(trace: Trace) -> str:
    return network_line_for(trace.spec)


def network_line_for(spec) -> str:
    """One line saying what network this is: layers, activations, loss, η, samples; and a
    second naming the optimizer with its hyperparameters, unless it is the lecture's SGD."""
    acts = ", ".join(dict.fromkeys(spec.activations))
    samples = len(spec.samples)
    parts = [
        "layers " + "-".join(str(n) for n in spec.layers),
        acts,
        f"loss {spec.loss}",
        f"{_rate(spec)} = {spec.learning_rate:g}",
        f"{samples} sample{'s' if samples != 1 else ''}",
    ]
    if samples > 1:
        parts.append(spec.mode if spec.mode == "online" else f"batch ({spec.batch_gradient})")
    biases = biases_text(spec)
    if biases != "biases":
        parts.append(biases)
    line = " · ".join(parts)
    if not plain_sgd(spec):
        line += "\noptimizer " + describe(spec.optimizer, spec.weight_decay)
    return line


def _rate(spec) -> str:
    """The learning rate's letter in the spec's notation: η, or Hagan's α."""
    book = getattr(spec, "notation", "lecture")
    if book == "lecture":
        return "η"
    from ..definitions import notations  # only for another book: start-up time

    return notations.get(book).rate


_SIGMA = re.compile(r"σ\(\{([^{}]+)\}\)")


def _cells(
    row: Equation, fmt: NumberFormat | Memo, first_sigma: list[bool] | None
) -> tuple[str, str, str, str, str]:
    """A row's symbol, formula, working with numbers, note and value, as the table shows them."""
    values = row.values()
    if row.working:
        formula, numbers = symbolic(row.formula), substituted(row.working, values, fmt)
    else:
        formula, numbers = written(row.formula, values, fmt)
    if first_sigma and first_sigma[0]:  # looked for only until it has been written out
        sigma = _SIGMA.fullmatch(row.formula)
        if sigma:
            first_sigma[0] = False
            net = values[sigma.group(1)]
            power = fmt(abs(net)) if net < 0 else fmt(-net)
            numbers += f" = 1/(1 + e^{power})"
    return row.symbol, formula, numbers, row.note, fmt(row.value)


def _elided(row: Elided) -> str:
    return f"{row.count} more: {row.what} (--full shows them)"


LONG_TABLE = 100  # rows: past this, a section is laid out by LongTable, not rich's Table


def section_table(
    section: Section, fmt: NumberFormat | Memo, first_sigma: list[bool] | None = None
) -> RenderableType:
    """One phase as a table. `first_sigma`: [True] until σ has been written out once."""
    heading = Heading(section.title, section.rule)
    # laid out line by line: a long section always, a short one where its columns fit the
    # console as they are (rich's Table then lays it out the same, at ten times the cost)
    parts = [heading, LongTable(section, fmt, first_sigma, short=len(section.rows) <= LONG_TABLE)]
    return Group(*parts, Text(section.note, style="italic")) if section.note else Group(*parts)


def _rich_table(rows: list[tuple[str, str, str, str, str] | str]) -> RenderableType:
    """A short section's cells as rich's Table, which narrows its columns to the console."""
    from rich.table import Table  # only where the columns must narrow: start-up time

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
    for row in rows:
        if isinstance(row, str):  # units left out
            table.add_row("…", "", Text(row, style="dim italic"), "")
            continue
        symbol, formula, numbers, note, value = row
        cell = Text(numbers)
        if note:
            cell.append(f"  {note}", style="italic yellow")
        note_at = len(numbers) + 2 if note else None
        # Text, never markup: formulas hold brackets, e.g. relu′ = [net3 > 0]
        table.add_row(Text(symbol + " "), Wrapped(Text(formula)), Wrapped(cell, note_at), value)
    return table


class LongTable(Streamed):
    """A section of hundreds of thousands of rows (`--full` on a wide layer), laid out as
    `section_table` lays out a short one — the same columns, styles and wrapping between
    terms — but line by line with str.ljust: rich's Table measures every cell of every row
    first, which took minutes for a 784-256-10 network. `write` streams to a console."""

    # the columns' styles as in section_table, then left-out rows', notes' and headers'
    STYLES = ("bold cyan", "magenta", "", "bold", "dim italic", "italic yellow", "bold")

    def __init__(
        self,
        section: Section,
        fmt: NumberFormat | Memo,
        first_sigma: list[bool] | None,
        short: bool = False,
    ) -> None:
        self.short = short  # rich's Table lays it out where its columns must narrow
        self.keeps_spaces = short  # byte for byte as rich's Table would write it
        memo = fmt if isinstance(fmt, Memo) else Memo(fmt)  # x1 … x784 in every unit's sum
        self.rows: list[tuple[str, str, str, str, str] | str] = [
            _cells(row, memo, first_sigma) if isinstance(row, Equation) else _elided(row)  # type: ignore[arg-type]
            for row in section.rows
        ]
        # a name with a combining mark (m̂_w13, v̂_w13: an optimizer's) is a column narrower on
        # screen than its length: such a section pads its names and formulas by their width
        named = "".join(row[0] + row[1] for row in self.rows if not isinstance(row, str))
        self.marked = COMBINING.search(named) is not None

    def instead(self, width: int) -> RenderableType | None:
        """A short section whose columns must narrow: rich's Table, which chooses how."""
        if not self.short:
            return None
        symbol, formula, numbers, value = self._natural()
        return None if symbol + formula + numbers + value + 3 <= width else self.by_rich()

    def by_rich(self) -> RenderableType:
        return _rich_table(self.rows)

    def _widths(self, width: int) -> tuple[int, int, int, int]:
        symbol, formula, numbers, value = self._natural()
        room = max(width - symbol - value - 3, 2)
        if formula + numbers > room:  # narrow the wider column first, then both alike
            formula = max(min(formula, room - min(numbers, room // 2)), 1)
            numbers = max(room - formula, 1)
        return symbol, formula, numbers, value

    def _natural(self) -> tuple[int, int, int, int]:
        """Each column's width with nothing wrapped (a short section's, as rich measures it:
        a left-out row's text too)."""
        cells = [row for row in self.rows if not isinstance(row, str)]
        # column by column, each measured by map: a section of 200,000 rows
        symbols, formulas, texts, notes, values = zip(*cells) if cells else ((),) * 5
        width_of = shown_width if self.marked else len
        symbol = max(map(width_of, symbols), default=0) + 1
        value = max(len("value"), max(map(len, values), default=0))
        formula = max(len("formula"), max(map(width_of, formulas), default=0))
        noted = (len(text) + 2 + len(note) for text, note in zip(texts, notes) if note)
        numbers = max(len("with numbers"), max(map(len, texts), default=0), max(noted, default=0))
        if self.short:
            left_out = [len(row) for row in self.rows if isinstance(row, str)]
            numbers = max(numbers, *left_out, 0)
        return symbol, formula, numbers, value

    def lines(self, width: int, styles: tuple[tuple[str, str], ...]) -> Iterator[str]:
        """The table's lines, each cell wrapped in its style's (start, end) codes."""
        symbol_w, formula_w, numbers_w, value_w = self._widths(width)
        (sym_on, sym_off), (f_on, f_off), _, (v_on, v_off) = styles[:4]
        dim_on, dim_off = styles[4]
        note_on, note_off = styles[5]
        head_on, head_off = styles[6]
        yield (
            f"{head_on}{'':<{symbol_w}}{head_off}"
            + f" {head_on}{'formula':<{formula_w}}{head_off} "
            + f"{head_on}{'with numbers':<{numbers_w}}{head_off} "
            + f"{head_on}{'value':>{value_w}}{head_off}"
        )
        yield "─" * (symbol_w + formula_w + numbers_w + value_w + 3)
        # a row on one line, as most are: one %-format (an f-string's nested widths cost
        # three times as much a line); the codes' own % escaped
        one_line = (
            f"{lit(sym_on)}%-{symbol_w}s{lit(sym_off)} {lit(f_on)}%-{formula_w}s{lit(f_off)} "
            f"%-{numbers_w}s {lit(v_on)}%{value_w}s{lit(v_off)}"
        )
        for row in self.rows:
            if isinstance(row, str):  # units left out
                lines = wrap_terms(row, numbers_w)
                if self.short:  # every cell written out, as rich's Table writes it
                    for n, line in enumerate(lines):
                        yield (
                            f"{sym_on}{('…' if n == 0 else ''):<{symbol_w}}{sym_off} "
                            f"{f_on}{'':<{formula_w}}{f_off} {dim_on}{line:<{numbers_w}}{dim_off} "
                            f"{v_on}{'':>{value_w}}{v_off}"
                        )
                    continue
                pieces = [f"{dim_on}{line}{dim_off}" for line in lines]
                yield f"{sym_on}{'…':<{symbol_w}}{sym_off} {'':<{formula_w}} " + pieces[0]
                for piece in pieces[1:]:
                    yield " " * (symbol_w + formula_w + 2) + piece
                continue
            symbol, formula, numbers, note, value = row
            marks = self.marked and COMBINING.search(symbol + formula) is not None
            if not note and not marks and len(formula) <= formula_w and len(numbers) <= numbers_w:
                yield one_line % (symbol + " ", formula, numbers, value)  # as the loop below
                continue
            left = wrap_terms(formula, formula_w)
            working = numbers + (f"  {note}" if note else "")
            right = wrap_terms(working, numbers_w, len(numbers) + 2 if note else None)
            for n in range(max(len(left), len(right))):
                f = left[n] if n < len(left) else ""
                w = right[n] if n < len(right) else ""
                pad = " " * (numbers_w - len(w))
                if note and n == len(right) - 1 and note in w:  # the note in its own colour
                    at = w.rindex(note)
                    at -= 2 if w[at - 2 : at] == "  " else 0  # with the spaces before it, as rich
                    w = w[:at] + note_on + w[at:] + note_off
                first = n == 0
                name = symbol + " " if first else ""
                if marks:  # padded to the width it takes on screen (its marks take none)
                    name += " " * (symbol_w - shown_width(name))
                    f += " " * (formula_w - shown_width(f))
                yield (
                    f"{sym_on}{name:<{symbol_w}}{sym_off} "
                    f"{f_on}{f:<{formula_w}}{f_off} {w}{pad} "
                    f"{v_on}{(value if first else ''):>{value_w}}{v_off}"
                )


class LongSummary(Streamed):
    """`summary_table` laid out line by line: for a network whose every parameter is shown
    (`--full`), and for a short one (`short`) byte for byte as rich's Table writes it where its
    columns fit the console (rich's Table costs ten times as much to start up)."""

    STYLES = ("bold cyan", "", "bold", "bold", "dim italic")

    def __init__(self, trace: Trace, fmt: NumberFormat | Memo, short: bool = False) -> None:
        self.short = self.keeps_spaces = short
        fmt = fmt if isinstance(fmt, Memo) else Memo(fmt)  # the weights' texts of the updates
        before = trace.loss_before_inference
        self.rows = [(c.symbol, fmt(c.before), fmt(c.after)) for c in trace.changes]
        self.loss = (
            trace.name("E"),
            fmt(trace.loss_before if before is None else before),
            fmt(trace.loss_after),
        )
        hidden = trace.parameter_count - len(trace.changes)
        self.hidden = f"{hidden} more that moved less (--full shows all)" if hidden else ""

    def _widths(self) -> tuple[int, int, int]:
        rows = [*self.rows, self.loss]
        a = max(len("old → new"), *(len(r[0]) for r in rows))
        b = max(len("old"), *(len(r[1]) for r in rows))
        c = max(len("new"), *(len(r[2]) for r in rows))
        return a, b, c

    def instead(self, width: int) -> RenderableType | None:
        """A short summary that rich's Table would lay out otherwise than its natural widths
        (columns narrowed, a name wider on screen than its length, a left-out row's note
        narrower than its column): rich's Table."""
        if not self.short:
            return None
        a, b, c = self._widths()
        names = "".join(row[0] for row in [*self.rows, self.loss])
        if a + max(b, len(self.hidden)) + c + 6 > width or cell_len(names) != len(names):
            return self.by_rich()
        if self.hidden and len(self.hidden) < b:
            return self.by_rich()
        return None

    def by_rich(self) -> RenderableType:
        """The summary as rich's Table, which narrows its columns to the console."""
        from rich.table import Table  # only where it must narrow: start-up time

        table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
        table.add_column("old → new", style="bold cyan", no_wrap=True)
        table.add_column("old", justify="right")
        table.add_column("new", justify="right", style="bold")
        for row in self.rows:
            table.add_row(*row)
        if self.hidden:
            table.add_row("…", Text(self.hidden, style="dim italic"), "")
        table.add_section()
        # like for like: with dropout, the loss before is shown without it too, as the one after
        table.add_row(*self.loss)
        return table

    def lines(self, width: int, codes: tuple[tuple[str, str], ...]) -> Iterator[str]:
        (s_on, s_off), _, (n_on, n_off), (h_on, h_off), (d_on, d_off) = codes
        a, b, c = self._widths()
        if not self.short:
            head = f"{h_on}{'old → new':<{a}}{h_off}   {h_on}{'old':>{b}}{h_off}   "
            yield head + f"{h_on}{'new':>{c}}{h_off}"
            yield "─" * (a + b + c + 6)
            line = f"{lit(s_on)}%-{a}s{lit(s_off)}   %{b}s   {lit(n_on)}%{c}s{lit(n_off)}"
            yield from (line % row for row in self.rows)
            yield ""
            yield line % self.loss
            return
        # as rich's Table writes each cell: its padding a segment of the column's style
        b = max(b, len(self.hidden))
        pad_h, pad_s, pad_n = f"{h_on} {h_off}", f"{s_on} {s_off}", f"{n_on} {n_off}"
        yield (
            f"{h_on}{'old → new':<{a}}{h_off}{pad_h} {pad_h}{h_on}{'old':>{b}}{h_off}{pad_h} "
            f"{pad_h}{h_on}{'new':>{c}}{h_off}"
        )
        yield "─" * (a + b + c + 6)
        line = (
            f"{lit(s_on)}%-{a}s{lit(s_off)}{lit(pad_s)}  %{b}s  "
            f"{lit(pad_n)}{lit(n_on)}%{c}s{lit(n_off)}"
        )
        yield from (line % row for row in self.rows)
        if self.hidden:
            yield (
                f"{s_on}{'…':<{a}}{s_off}{pad_s}  {d_on}{self.hidden}{d_off}  "
                f"{pad_n}{n_on}{'':>{c}}{n_off}"
            )
        yield " " * (a + b + c + 6)
        yield line % self.loss


def summary_table(trace: Trace, fmt: NumberFormat | Memo) -> LongSummary:
    return LongSummary(trace, fmt, short=len(trace.changes) <= LONG_TABLE)


class Bullet:
    """A convention's bullet: a line too long for the terminal wraps under its first word, not
    under the bullet (a hanging indent, without loading rich's Table at start-up), between
    words, never beside an operator (`bullet_lines`)."""

    def __init__(self, note: str) -> None:
        self.note = note

    def __rich_console__(self, console: Any, options: Any) -> Iterator[Text]:
        for n, line in enumerate(bullet_lines(self.note, max(options.max_width - 2, 1))):
            yield Text(("• " if n == 0 else "  ") + line, style="dim")


def title_lines(
    name: str, line: str, description: str | None, notes: Iterable[str]
) -> list[Text | Bullet]:
    """A trace's opening: its name, the one-line description of the model, the config's own
    description, and a bullet per convention it uses (a network's and a graph's alike)."""
    # the config's own words: never a terminal escape (Text is never read as markup)
    lines = [Text(visible(name), style="bold underline"), Text(line, style="dim")]
    if description:
        lines.append(Text("\n".join(map(visible, description.strip().split("\n")))))
    lines += [Bullet(note) for note in notes]
    return lines


def layout_note(spec: Spec) -> list[Text]:
    """The note on a square matrix read without a stated layout, where there is one."""
    note = layout.note_text(spec)
    return [Text(f"Note: {note}", style="yellow")] if note else []


def render(trace: Trace, fmt: NumberFormat | Memo, title: bool = True) -> RenderableType:
    """The whole trace, as one renderable; the caller prints it once.

    `title`: start with the network's name and notes (off when `step` shows several epochs).
    """
    spec = trace.spec
    fmt = fmt if isinstance(fmt, Memo) else Memo(fmt)  # a value in many rows: formatted once
    parts: list[RenderableType] = []
    if title:
        parts += title_lines(spec.name, network_line(trace), spec.description, trace.notes)
        parts += layout_note(spec)
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
        loss = f"{trace.name('E')} = {fmt(trace.loss_before)}{mean}"
        parts.append(Text(f"{loss} (inference: no dropout, no update)"))
        return Group(*parts)
    epoch = trace.epochs[0].epoch
    parts.append(Rule("Summary" if title else f"Summary of epoch {epoch}", align="left"))
    parts.append(summary_table(trace, fmt))
    loss = trace.name("E")
    line = f"{loss} before the update = {fmt(trace.loss_before)}, after = {fmt(trace.loss_after)}"
    if trace.loss_before_inference is not None:
        line = (
            f"{loss} before the update = {fmt(trace.loss_before_inference)}, after = "
            f"{fmt(trace.loss_after)}, both without dropout (as at inference); through "
            f"this step's dropout masks E was {fmt(trace.loss_before)}"
        )
    parts.append(Text(line))
    outputs = _outputs(trace, fmt)
    if outputs:
        parts.append(Text(outputs))
    return Group(*parts)


def _given(trace: Trace, step, fmt: NumberFormat | Memo) -> str:
    numbering = trace.spec.numbering
    last = len(trace.spec.layers) - 1
    name = trace.name
    xs = [f"{name(f'x{numbering.unit(0, i)}')} = {fmt(v)}" for i, v in enumerate(step.inputs[:6])]
    ts = [
        f"{name(f't{numbering.unit(last, i)}')} = {fmt(v)}" for i, v in enumerate(step.targets[:6])
    ]
    more_x = " …" if len(step.inputs) > 6 else ""
    more_t = " …" if len(step.targets) > 6 else ""
    return f"inputs {', '.join(xs)}{more_x} · targets {', '.join(ts)}{more_t}"


def _outputs(trace: Trace, fmt: NumberFormat | Memo) -> str:
    if len(trace.spec.samples) != 1 or trace.outputs_after.shape[1] > 6:
        return ""
    numbering = trace.spec.numbering
    last = len(trace.spec.layers) - 1
    outs = ", ".join(
        f"{trace.name(f'o{numbering.unit(last, i)}')} = {fmt(v)}"
        for i, v in enumerate(trace.outputs_after[0])
    )
    return f"Outputs after the update: {outs}"
