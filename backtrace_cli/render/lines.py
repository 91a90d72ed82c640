"""Lines written as rich writes them, without rich's pipeline where it costs start-up time:
a formula wrapped between its terms, a section's heading, the escape codes of a style, and
tables and one-line texts streamed straight to the console's file, byte for byte."""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterator
from itertools import islice

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.measure import Measurement
from rich.rule import Rule
from rich.text import Text

from ..definitions.optimizers import RULE_JOIN


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
        ends = self.ends = [b for b, _ in self.breaks]
        self.shortest = max((b - a for a, b in zip([0, *ends], [*ends, len(plain)])), default=0)

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement(min(self.shortest, options.max_width), len(self.text.plain))

    def lines(self, width: int) -> list[Text]:
        plain = self.text.plain
        offsets, start = [], 0
        while len(plain) - start > width:
            # only the breaks within reach of this line (a 784-term sum has thousands)
            reach = bisect.bisect_right(self.ends, start + width + 16)
            near = self.breaks[bisect.bisect_right(self.ends, start) : reach]
            fits = [(b, d) for b, d in near if len(plain[start:b].rstrip()) <= width]
            note = self.note_at
            if note is not None and start < note and len(plain) - note <= width and fits:
                # the note whole on a line of its own, rather than broken
                cut = max(b for b, _ in fits if b <= note)
            elif not fits:  # a term wider than the column: only then is it cut
                after = bisect.bisect_right(self.ends, start)
                cut = self.ends[after] if after < len(self.ends) else len(plain)
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
    next lines, indented: as many of its equations a line as fit, broken between equations
    (an equation wider than a line wrapped between its terms)."""

    def __init__(self, title: str, rule: str) -> None:
        self.title, self.rule = title, rule

    def line(self, console: Console) -> str | None:
        """The heading as `console.print` writes it where it fits one line, else None."""
        if cell_len(self.title) + 3 + cell_len(self.rule) > console.width:
            return None
        (bold_on, bold_off), (dim_on, dim_off) = (
            style_codes(console, "bold"),
            style_codes(console, "dim"),
        )
        return f"{bold_on}{self.title}{bold_off}   {dim_on}{self.rule}{dim_off}\n"

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = options.max_width
        if len(self.title) + 3 + len(self.rule) <= width:
            yield Text.assemble((self.title, "bold"), "   ", (self.rule, "dim"))
            return
        yield Text(self.title, style="bold")
        for line in rule_lines(self.rule, width - 2):
            yield Text.assemble("  ", line)


OPERATORS = frozenset("=−+←·→≈")  # a bullet's line never ends on one, nor begins with one


def bullet_lines(text: str, width: int) -> list[str]:
    """A bullet's prose and equations in lines of `width`: greedily, at a space, but never
    beside an operator ("w5⁺ = w5 − η·g" stays whole); a stretch with no such space longer
    than the line is cut between its terms (`Wrapped`)."""
    parts = re.split(r"( +)", text)
    groups, gaps = [parts[0]], []
    for gap, word in zip(parts[1::2], parts[2::2]):
        if groups[-1].rsplit(" ", 1)[-1] in OPERATORS or word in OPERATORS:
            groups[-1] += gap + word
        else:
            groups.append(word)
            gaps.append(gap)
    lines: list[str] = []
    for gap, group in zip(["", *gaps], groups):
        if lines and len(lines[-1]) + len(gap) + len(group) <= width:
            lines[-1] += gap + group
        elif len(group) <= width:
            lines.append(group)
        else:
            lines += [line.plain for line in Wrapped(Text(group)).lines(width)]
    return lines


def rule_lines(rule: str, width: int) -> list[Text]:
    """A rule in lines of `width`, each holding whole equations where they fit."""
    parts = rule.split(RULE_JOIN)
    texts = [part + ("," if n < len(parts) - 1 else "") for n, part in enumerate(parts)]
    lines: list[str] = []
    for text in texts:
        if lines and len(lines[-1]) + 2 + len(text) <= width:
            lines[-1] += "  " + text
        else:
            lines.append(text)
    out: list[Text] = []
    for line in lines:
        out += Wrapped(Text(line, style="dim")).lines(width)
    return out


class Streamed:
    """A table too long for rich's Table, laid out line by line: `lines(width, codes)` yields
    them with each style's (start, end) escape codes, in the order of STYLES."""

    STYLES: tuple[str, ...] = ()
    keeps_spaces = False  # a line's trailing spaces written, as rich's Table writes them

    def lines(self, width: int, codes: tuple[tuple[str, str], ...]) -> Iterator[str]:
        raise NotImplementedError

    def instead(self, width: int) -> RenderableType | None:
        """What rich lays out in its place at `width`, if not this."""
        return None

    def write(self, console: Console, progress: Callable[[int], None] | None = None) -> None:
        """Straight to the console's file, in chunks: the console's colours, no buffering of
        the whole table."""
        instead = self.instead(console.width)
        if instead is not None:
            console.print(instead)
            return
        codes = tuple(style_codes(console, style) for style in self.STYLES)
        lines = self.lines(console.width, codes)
        while chunk := list(islice(lines, 4096)):
            if not codes[0][0] and not self.keeps_spaces:  # without colour: no trailing spaces
                chunk = [line.rstrip() for line in chunk]
            console.file.write("\n".join(chunk) + "\n")
            if progress is not None:
                progress(len(chunk))

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        instead = self.instead(options.max_width)
        if instead is not None:
            yield instead
            return
        codes = tuple(("", "") for _ in self.STYLES)  # plain: rich styles nothing here
        for line in self.lines(options.max_width, codes):
            yield Text(line.rstrip())


COMBINING = re.compile("[\u0300-\u036f]")  # marks a terminal draws over the letter before


def shown_width(text: str) -> int:
    """The columns `text` takes on screen: its combining marks take none."""
    return len(text) - len(COMBINING.findall(text))


def lit(code: str) -> str:
    """An escape code as lit text of a %-format."""
    return code.replace("%", "%%")


def style_codes(console: Console, style: str) -> tuple[str, str]:
    """The escape codes that start and end `style` on this console ("" without colour)."""
    if not style or console.no_color or console.color_system is None:
        return "", ""
    key = (console.color_system, style)
    if key not in _CODES:  # a console's print costs as much as a short table's lines
        with console.capture() as captured:
            console.print(Text("\0", style=style), end="")
        start, _, end = captured.get().partition("\0")
        _CODES[key] = (start, end)
    return _CODES[key]


_CODES: dict[tuple[str, str], tuple[str, str]] = {}


def written_line(part: object, console: Console) -> str | None:
    """What `console.print(part)` writes, where `part` is one line this module writes
    without rich's pipeline — a one-style Text, a Heading, a left-aligned Rule that fit the
    console — byte for byte as rich would, colour or not (rich's print of each costs as much
    as a short table's lines: start-up). None for anything else: rich prints it."""
    if isinstance(part, Heading):
        return part.line(console)
    if type(part) is Text:
        plain, style = part.plain, part.style
        simple = not part.spans and part.end == "\n" and isinstance(style, str)
        defaults = part.justify is None and part.overflow is None and part.no_wrap is None
        if not (simple and defaults) or "\n" in plain or "\t" in plain:
            return None
        if cell_len(plain) > console.width:
            return None  # rich wraps it
        on, off = style_codes(console, style) if plain else ("", "")
        return f"{on}{plain}{off}\n"
    if type(part) is Rule and part.align == "left" and isinstance(part.title, str):
        title, width = part.title, console.width
        plain_title = "[" not in title and "\n" not in title and "\t" not in title
        utf = console.encoding.lower().startswith("utf")  # else rich draws it with "-"
        if not (plain_title and utf and part.characters == "─" and part.end == "\n"):
            return None
        if cell_len(title) > width - 2 or not isinstance(part.style, str):
            return None  # rich truncates it
        (t_on, t_off), (l_on, l_off) = (
            style_codes(console, "rule.text"),
            style_codes(console, part.style),
        )
        return f"{t_on}{title}{t_off} {l_on}{'─' * (width - cell_len(title) - 1)}{l_off}\n"
    return None


def wrap_terms(text: str, width: int, note_at: int | None = None) -> list[str]:
    """`text` in lines of at most `width`, broken between terms as Wrapped breaks them; a sum
    of hundreds of terms (a 784-input unit's net), more simply: at its spaces, greedily."""
    if len(text) <= width:
        return [text]
    if len(text) > 8 * width and note_at is None:
        lines, line = [], ""
        for word in text.split(" "):
            if line and len(line) + 1 + len(word) > width:
                lines.append(line)
                line = word
            else:
                line = f"{line} {word}" if line else word
        return [*lines, line]
    return [line.plain for line in Wrapped(Text(text), note_at).lines(width)]
