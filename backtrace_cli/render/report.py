"""A check's report as a rich table, markdown or JSON. Formats only."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from rich import box
from rich.console import Group
from rich.table import Table
from rich.text import Text

from ..core.errors import visible
from . import escape
from .numbers import NumberFormat

if TYPE_CHECKING:  # teach's records, read here: render imports nothing of teach's
    from ..teach.verdicts import Report, Verdict

STYLES = {
    "right": "green",
    "coarse": "yellow",
    "follows": "cyan",
    "wrong": "bold red",
    "unanswered": "dim",
}
UNANSWERED_SHOWN = 24  # names listed in the terminal (markdown: four times as many)
MARKS = {"right": "✅", "coarse": "☑️", "follows": "↪️", "wrong": "❌", "unanswered": "·"}


def label(v: Verdict) -> str:
    where = []
    if v.epoch != 1:
        where.append(f"epoch {v.epoch}")
    if v.sample != 1:
        where.append(f"sample {v.sample}")
    return v.name + (f" ({', '.join(where)})" if where else "")


def _row(v: Verdict, fmt: NumberFormat) -> tuple[str, str, str, str]:
    yours = v.answer.shown.replace("-", "−") if v.answer else "—"
    return label(v), yours, fmt(v.expected), v.verdict


def _unanswered_line(report: Report, shown: int) -> str:
    """The questions left out, the first `shown` by name (JSON lists them all)."""
    names = [label(v) for v in report.unanswered]
    listed = ", ".join(names[:shown])
    if len(names) > shown:
        listed += f", … and {len(names) - shown} more"
    return f"Unanswered ({len(names)}): {listed}"


def renderable(report: Report, fmt: NumberFormat) -> Any:
    """The terminal: every answer in a table; the first wrong one in full, the others'
    named mistakes; unanswered questions listed under the table."""

    table = Table(box=box.SIMPLE_HEAD)
    table.add_column("quantity", style="bold cyan", no_wrap=True)
    table.add_column("yours", justify="right")
    table.add_column("expected", justify="right")
    table.add_column("verdict")
    for v in report.answered:
        name, yours, expected, verdict = _row(v, fmt)
        table.add_row(Text(name), yours, expected, Text(verdict, style=STYLES[v.kind]))
    parts: list[Any] = [Text(visible(report.title), style="bold"), table]
    parts.append(Text(report.summary(), style="bold"))
    if report.unanswered:
        parts.append(Text(_unanswered_line(report, UNANSWERED_SHOWN), style="dim"))
    parts += [Text(f"Note: {visible(note)}", style="yellow") for note in report.notes]
    parts += [Text(f"Note: {visible(note)}", style="yellow") for note in report.read]
    wrong = [v for v in report.answered if v.kind == "wrong"]
    for n, v in enumerate(wrong):
        if n == 0:
            parts.append(Text(f"\nFirst wrong answer: {label(v)}", style="bold red"))
            parts += [Text("  " + line) for line in v.diagnosis]
        else:
            if n == 1:
                parts.append(Text("\nOther wrong answers:", style="bold red"))
            said = "; ".join(v.mistakes) if v.mistakes else "none of the known mistakes"
            parts.append(Text(f"  {label(v)}: {said}"))
    return Group(*parts)


def markdown(report: Report, fmt: NumberFormat) -> str:
    out = [
        f"# {escape.markdown(report.title)}",
        "",
        "| quantity | yours | expected | verdict |",
        "| --- | ---: | ---: | --- |",
    ]
    for v in report.answered:
        name, yours, expected, verdict = _row(v, fmt)
        out.append(f"| `{name}` | {yours} | {expected} | {MARKS[v.kind]} {verdict} |")
    out += ["", f"**{report.summary()}.**", ""]
    if report.unanswered:
        out += [_unanswered_line(report, 4 * UNANSWERED_SHOWN) + ".", ""]
    if report.notes or report.read:
        said = (*report.notes, *report.read)
        out += [f"- Note: {escape.markdown(note)}" for note in said] + [""]
    for v in report.answered:
        if v.kind == "wrong":
            out += [f"## Wrong: `{label(v)}`", ""]
            out += [f"- {line}" for line in v.diagnosis]
            out.append("")
    return "\n".join(out).rstrip() + "\n"


def as_json(data: dict[str, Any]) -> str:
    """A report as JSON, from its dict (`teach.verdicts.as_dict`, the API's `check`)."""
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
