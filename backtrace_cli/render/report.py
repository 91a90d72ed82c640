"""A check's verdicts as a rich table, markdown or JSON. Formats only."""

from __future__ import annotations

import json
from typing import Any

from ..check import Verdict
from .numbers import NumberFormat


def _label(v: Verdict) -> str:
    where = []
    if v.answer.epoch != 1:
        where.append(f"epoch {v.answer.epoch}")
    if v.answer.sample != 1:
        where.append(f"sample {v.answer.sample}")
    return v.answer.name + (f" ({', '.join(where)})" if where else "")


def _row(v: Verdict, fmt: NumberFormat) -> tuple[str, str, str, str]:
    expected = fmt(v.expected) if v.expected is not None else "—"
    return _label(v), v.answer.written.replace("-", "−"), expected, v.verdict


def summary(verdicts: list[Verdict]) -> str:
    right = sum(v.ok for v in verdicts)
    return f"{right} of {len(verdicts)} answers correct"


def renderable(verdicts: list[Verdict], fmt: NumberFormat, title: str) -> Any:
    from rich import box
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    table = Table(box=box.SIMPLE_HEAD)
    table.add_column("quantity", style="bold cyan", no_wrap=True)
    table.add_column("yours", justify="right")
    table.add_column("expected", justify="right")
    table.add_column("verdict")
    for v in verdicts:
        name, yours, expected, verdict = _row(v, fmt)
        style = "green" if v.ok else "bold red"
        table.add_row(Text(name), yours, expected, Text(verdict, style=style))
    parts: list[Any] = [Text(title, style="bold"), table, Text(summary(verdicts), style="bold")]
    for v in verdicts:
        if v.diagnosis:
            parts.append(Text(f"\nFirst wrong answer: {_label(v)}", style="bold red"))
            parts += [Text("  " + line) for line in v.diagnosis]
    return Group(*parts)


def markdown(verdicts: list[Verdict], fmt: NumberFormat, title: str) -> str:
    out = [
        f"# {title}",
        "",
        "| quantity | yours | expected | verdict |",
        "| --- | ---: | ---: | --- |",
    ]
    for v in verdicts:
        name, yours, expected, verdict = _row(v, fmt)
        out.append(f"| `{name}` | {yours} | {expected} | {'✅' if v.ok else '❌'} {verdict} |")
    out += ["", f"**{summary(verdicts)}.**", ""]
    for v in verdicts:
        if v.diagnosis:
            out += [f"## First wrong answer: `{_label(v)}`", ""]
            out += [f"- {line}" for line in v.diagnosis]
            out.append("")
    return "\n".join(out).rstrip() + "\n"


def as_json(verdicts: list[Verdict], title: str) -> str:
    data = {
        "format": "backtrace-check",
        "version": 1,
        "title": title,
        "correct": sum(v.ok for v in verdicts),
        "total": len(verdicts),
        "answers": [
            {
                "name": v.answer.name,
                "symbol": v.answer.symbol,
                "epoch": v.answer.epoch,
                "sample": v.answer.sample,
                "yours": v.answer.value,
                "expected": v.expected,
                "verdict": v.verdict,
                "ok": v.ok,
                "diagnosis": list(v.diagnosis) or None,
            }
            for v in verdicts
        ],
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
