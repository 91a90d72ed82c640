"""The markdown this tool writes (a question sheet, an answer key) as the HTML a learning
platform shows: its math as \\( \\) and \\[ \\] (what Moodle's MathJax or KaTeX filter and
Canvas's math handling read), its tables as tables, a model's diagram as a table of its layers
and a list of its connections — Mermaid needs a script no quiz page runs.

Only the markdown the tool itself writes is read: headings, paragraphs, lists, tables, fenced
blocks, display math ($$ … $$), inline math, code and emphasis. A config's own words reach the
page escaped once, whatever the markdown held (escape.markdown writes &lt; already).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

from ..statement import Box, Diagram
from .mermaid import label_text
from .numbers import NumberFormat

RAW = "<div"  # a line the tool wrote as HTML (a diagram drawn by `diagram`): passed through
_TOKEN = re.compile(r"`[^`]*`|\$[^$]+\$")  # inline code, inline math
_EMPHASIS = ((re.compile(r"\*\*([^*]+)\*\*"), "strong"), (re.compile(r"\*([^*\s][^*]*)\*"), "em"))
_LINK = re.compile(r"\[([^\]]+)\]\([^)\s]+\)")


def text(words: str) -> str:
    """Words as HTML shows them: escaped once, whether or not the markdown had escaped them."""
    return html.escape(html.unescape(words), quote=False)


def math(tex: str, display: bool = False) -> str:
    """TeX between the delimiters MathJax and KaTeX read: \\( \\) inline, \\[ \\] on its own."""
    left, right = ("\\[", "\\]") if display else ("\\(", "\\)")
    return f"{left}{html.escape(tex, quote=False)}{right}"


def inline(line: str) -> str:
    """One line of markdown's inline text: math, code, emphasis; links keep their words."""
    out, at = [], 0
    for found in _TOKEN.finditer(line):
        out.append(_words(line[at : found.start()]))
        token = found.group(0)
        if token.startswith("`"):
            out.append(f"<code>{text(token[1:-1])}</code>")
        else:
            out.append(math(token[1:-1]))
        at = found.end()
    out.append(_words(line[at:]))
    return "".join(out)


def _words(part: str) -> str:
    escaped = text(_LINK.sub(r"\1", part))
    for pattern, tag in _EMPHASIS:
        escaped = pattern.sub(rf"<{tag}>\1</{tag}>", escaped)
    return escaped


def cells(row: str) -> list[str]:
    """A table row's cells: split at | outside math and code."""
    parts, current, inside = [], [], ""
    for char in row.strip().strip("|"):
        if char in "$`" and (not inside or inside == char):
            inside = "" if inside else char
        if char == "|" and not inside:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    parts.append("".join(current).strip())
    return parts


def page(markdown: str, heading: int = 2) -> str:
    """The markdown as HTML; `heading`: the level its # becomes (a quiz's page has its own
    title). Mermaid blocks are left out: draw the model with `diagram`."""
    return "\n".join(_blocks(markdown.split("\n"), heading))


def _blocks(lines: list[str], heading: int) -> Iterator[str]:
    n = 0
    paragraph: list[str] = []

    def flush() -> Iterator[str]:
        if paragraph:
            yield f"<p>{' '.join(inline(line) for line in paragraph)}</p>"
            paragraph.clear()

    while n < len(lines):
        line = lines[n]
        stripped = line.strip()
        if not stripped:
            yield from flush()
            n += 1
        elif stripped.startswith("```"):
            yield from flush()
            end = _closing(lines, n + 1, "```")
            if stripped[3:].strip() != "mermaid":
                body = "\n".join(lines[n + 1 : end])
                yield f"<pre><code>{text(body)}</code></pre>"
            n = end + 1
        elif stripped == "$$":
            yield from flush()
            end = _closing(lines, n + 1, "$$")
            yield f"<p>{math(chr(10).join(lines[n + 1 : end]), display=True)}</p>"
            n = end + 1
        elif stripped.startswith(RAW):
            yield from flush()
            yield stripped
            n += 1
        elif re.match(r"#{1,6} ", stripped):
            yield from flush()
            marks = len(stripped) - len(stripped.lstrip("#"))
            level = min(6, marks + heading - 1)
            yield f"<h{level}>{inline(stripped[marks:].strip())}</h{level}>"
            n += 1
        elif stripped.startswith("|"):
            yield from flush()
            end = n
            while end < len(lines) and lines[end].strip().startswith("|"):
                end += 1
            yield _table([cells(row) for row in lines[n:end]])
            n = end
        elif stripped.startswith("- "):
            yield from flush()
            items = []
            while n < len(lines) and lines[n].strip().startswith("- "):
                items.append(f"<li>{inline(lines[n].strip()[2:])}</li>")
                n += 1
            yield "<ul>" + "".join(items) + "</ul>"
        else:
            paragraph.append(stripped)
            n += 1
    yield from flush()


def _closing(lines: list[str], start: int, fence: str) -> int:
    for n in range(start, len(lines)):
        if lines[n].strip() == fence:
            return n
    return len(lines)


def _table(rows: list[list[str]]) -> str:
    """A markdown table (header, rule, body) as an HTML table."""
    head, body = rows[0], [r for r in rows[2:]] if len(rows) > 1 else []
    out = ['<table border="1" cellpadding="4" style="border-collapse: collapse">']
    out.append("<tr>" + "".join(f"<th>{inline(c)}</th>" for c in head) + "</tr>")
    out += ["<tr>" + "".join(f"<td>{inline(c)}</td>" for c in row) + "</tr>" for row in body]
    return "".join(out) + "</table>"


def diagram(drawn: Diagram, fmt: NumberFormat, title: str) -> str:
    """A model's diagram (`statement.Diagram`) as one line of HTML: its groups (a network's
    layers) side by side, each box a line, then every connection with its label (a weight).
    The same signature as `mermaid.flowchart`, so that a sheet draws with either."""
    named = {box.ident: _box(box, fmt) for box in drawn.all_boxes}
    out = [f'{RAW} class="backtrace-diagram"><p><strong>{text(title)}</strong></p>']
    if drawn.groups:
        out.append('<table border="1" cellpadding="4" style="border-collapse: collapse"><tr>')
        out += [f"<th>{text(group.title)}</th>" for group in drawn.groups]
        out.append("</tr><tr>")
        out += [
            "<td>" + "<br>".join(named[box.ident] for box in group.boxes) + "</td>"
            for group in drawn.groups
        ]
        out.append("</tr></table>")
    loose = [named[box.ident] for box in drawn.boxes]
    if loose:
        out.append("<p>" + "<br>".join(loose) + "</p>")
    if drawn.edges:
        out.append("<p>Connections:</p><ul>")
        for edge in drawn.edges:
            joined = f"{named[edge.source]} → {named[edge.target]}"
            if edge.label:
                joined += f": {text(label_text(edge.label, fmt))}"
            out.append(f"<li>{joined}</li>")
        out.append("</ul>")
    return "".join(out) + "</div>"


def _box(box: Box, fmt: NumberFormat) -> str:
    words = "; ".join(label_text(line, fmt) for line in box.lines)
    return text(words) + (" (dropped)" if box.faded else "")
