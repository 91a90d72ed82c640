"""`backtrace check`: a student's answers against the traced solution, graded as a marker does.

Verdicts, in order: correct (to full precision, or to the precision the student wrote);
correct for the rounding the student carried (`round:`, or recognised among common ones);
correct given the student's own earlier values (error carried forward); or wrong — and for the
first wrong value, the formula with the expected numbers and any known mistake that reproduces
the student's value. Every alternative is computed by evaluating the step's own formula with
other operands (the mistake made), never by matching numbers.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from . import activations
from .config import Spec
from .errors import ConfigError
from .records import Equation, Trace
from .yamlsource import Document, parse

ROUNDINGS = ("3sf", "4sf", "2sf", "4dp", "3dp", "2dp")
KEYS = ("exercise", "config", "round", "answers", "samples", "epochs")


# ---------------------------------------------------------------- the answers file


@dataclass(frozen=True, slots=True)
class Answer:
    name: str  # as the student wrote it: "delta5"
    symbol: str  # the trace's symbol: "δ5"
    value: float
    places: int  # decimal places written: "−0.0407" → 4
    epoch: int
    written: str  # as written: "0.680"
    figures: int  # significant figures written: "0.680" → 3
    sample: int = 1  # which sample's step (online: each sample has its own)


@dataclass(frozen=True, slots=True)
class AnswerSheet:
    source: str  # the answers file
    exercise: Any  # a name, a path or a config mapping, for api.load
    rounding: str | None
    answers: tuple[Answer, ...]


def symbol_for(name: str) -> str | None:
    """delta5/δ5 → δ5; dw45/Δw45 → Δw45; w45 → new w45 (the new value); net3, o3, e5, E …"""
    name = name.strip()
    if re.fullmatch(r"∂\w+/∂\w+", name):  # chain-rule factors, as the trace writes them
        return name
    match = re.fullmatch(r"(delta|δ|dw|Δw|db|Δb|w|b|net|o|e|õ|x̃|m)(\d+(?:_\d+)?)", name)
    if name == "E":
        return "E"
    if not match:
        return None
    head, index = match.groups()
    return {
        "delta": f"δ{index}",
        "δ": f"δ{index}",
        "dw": f"Δw{index}",
        "Δw": f"Δw{index}",
        "db": f"Δb{index}",
        "Δb": f"Δb{index}",
        "w": f"new w{index}",
        "b": f"new b{index}",
    }.get(head, f"{head}{index}")


def answer_name(symbol: str) -> str:
    """The name an answers file uses for a trace symbol: δ5 → delta5, Δw45 → dw45,
    new w45 → w45 (the inverse of `symbol_for`)."""
    for head, name in (("new ", ""), ("δ", "delta"), ("Δw", "dw"), ("Δb", "db")):
        if symbol.startswith(head):
            return name + symbol[len(head) :]
    return symbol


def _figures(text: str) -> int:
    try:
        digits = Decimal(text.strip().replace("−", "-")).normalize().as_tuple().digits
    except InvalidOperation:
        return 12
    return len(Decimal(text.strip()).as_tuple().digits) if digits else 1


def _places(text: str) -> int:
    try:
        exponent = Decimal(text.strip().replace("−", "-")).as_tuple().exponent
    except InvalidOperation:
        return 12
    return max(0, -int(exponent)) if isinstance(exponent, int) else 12


def read(path: str, base_dir: str) -> AnswerSheet:
    """Parse and validate an answers file (errors as ConfigError, like configs)."""
    import os

    try:
        with open(path, "rb") as stream:
            text = stream.read().decode("utf-8")
    except FileNotFoundError:
        raise ConfigError(path, None, None, "no such file") from None
    except UnicodeDecodeError:
        raise ConfigError(path, None, None, "not a text file (expected UTF-8 YAML)") from None
    except OSError as err:
        raise ConfigError(path, None, None, f"cannot be read: {err.strerror}") from None
    doc = parse(text, path)
    data = doc.value
    if not isinstance(data, dict):
        raise ConfigError(
            path, doc.line(()), None, "an answers file is a mapping with `exercise` and `answers`"
        )
    for key in data:
        if key not in KEYS:
            raise doc.error((key,), f"unknown key; an answers file has {', '.join(KEYS)}")
    if ("exercise" in data) == ("config" in data):
        raise doc.missing(
            "exercise",
            "give the exercise: `exercise: lecture` (a built-in name or a config path) "
            "or `config:` with the config inline",
        )
    exercise: Any = data.get("config") if "config" in data else data["exercise"]
    if isinstance(exercise, dict):
        # the config inline: validated with this file's lines (fields as in a config file)
        from .config import from_document

        inline = Document(path, exercise)
        for where, line in doc.lines.items():
            if where[:1] == ("config",):
                inline.lines[where[1:]] = line
                inline.columns[where[1:]] = doc.columns.get(where, 1)
        exercise = from_document(inline)
    if isinstance(exercise, str) and not os.path.isabs(exercise):
        candidate = os.path.join(base_dir, exercise)
        if os.path.isfile(candidate):
            exercise = candidate
    rounding = data.get("round")
    if rounding is not None:
        from .rounding import parse as parse_rounding

        parsed = parse_rounding(str(rounding))
        if parsed is None:
            raise doc.error(("round",), f"{rounding!r} is not a rounding; use e.g. 3sf or 4dp")
        rounding = f"{parsed[0]}{parsed[1]}"
    answers: list[Answer] = []
    if "answers" in data:
        answers += _answers(doc, ("answers",), data["answers"], 1)
    for n, value in _numbered(doc, data, "samples", "sample", "`2: {o5: 0.61}`"):
        answers += _answers(doc, ("samples", n), value, 1, int(n))
    for n, value in _numbered(doc, data, "epochs", "epoch", "`2: {w45: 0.85}`"):
        answers += _answers(doc, ("epochs", n), value, int(n))
    if not answers:
        raise doc.missing(
            "answers", "missing; give your values, e.g. `answers: {o5: 0.69, delta5: -0.0407}`"
        )
    return AnswerSheet(path, exercise, rounding, tuple(answers))


def _numbered(
    doc: Document, data: dict[str, Any], key: str, noun: str, example: str
) -> list[tuple[Any, Any]]:
    """`samples:` / `epochs:` — a mapping from 1, 2, … to answers."""
    if key not in data:
        return []
    value = data[key]
    if not isinstance(value, dict):
        raise doc.error((key,), f"expected a mapping of {noun} numbers to answers: {example}")
    for n in value:
        if not str(n).isdigit() or int(n) < 1:
            raise doc.error((key, n), f"not a {noun} number (1, 2, …)")
    return list(value.items())


def _answers(doc: Document, path: tuple, value: Any, epoch: int, sample: int = 1) -> list[Answer]:
    if not isinstance(value, dict):
        raise doc.error(path, "expected a mapping of quantities to your values: `o5: 0.69`")
    out = []
    for name, v in value.items():
        where = (*path, name)
        symbol = symbol_for(str(name))
        if symbol is None:
            raise doc.error(
                where,
                "not a quantity of the trace; write net3, o3, e5, E, delta5 (or δ5), dw45 "
                "(Δw45), w45 (the new weight), db3, b3 (the new bias)",
            )
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise doc.error(where, f"{v!r} is not a number")
        text = doc.texts.get(where, repr(v))
        out.append(
            Answer(str(name), symbol, float(v), _places(text), epoch, text, _figures(text), sample)
        )
    return out


# ---------------------------------------------------------------- evaluating a formula


def _python(template: str) -> tuple[str, list[str]] | None:
    """A trace formula as a Python expression over v[0], v[1], …; None if it cannot be."""
    if "…" in template or "Σ" in template:
        return None
    names: list[str] = []

    def slot(match: re.Match[str]) -> str:
        names.append(match.group(1))
        return f"v[{len(names) - 1}]"

    text = re.sub(r"\{([^{}]+)\}", slot, template)
    text = re.sub(r"\[(v\[\d+\]) > 0\]", r"(1.0 if \1 > 0 else 0.0)", text)
    text = re.sub(r"\[(v\[\d+\]) ≤ 0\]", r"(1.0 if \1 <= 0 else 0.0)", text)
    text = re.sub(r"ln (v\[\d+\])", r"log(\1)", text).replace("ln(", "log(")
    text = _CALL.sub(lambda m: f"fn_{_CALLS[m.group(1)].name}(", text)
    for a, b in (("·", "*"), ("−", "-"), ("½", "(0.5)"), ("²", "**2")):
        text = text.replace(a, b)
    text = re.sub(r"(\)|\]|\d)\s*\(", r"\1*(", text)  # implicit products: o(1 − o), 2(o − t)
    return text, names


# the activations' function names as the trace writes them (σ, tanh, relu), each evaluated by
# its own definition
_CALLS = activations.symbols()
_CALL = re.compile(
    r"(?<![A-Za-z_])(" + "|".join(sorted(map(re.escape, _CALLS), key=len, reverse=True)) + r")\("
)
_FUNCTIONS = {
    **{f"fn_{a.name}": a.scalar for a in _CALLS.values()},
    "log": lambda x: math.log(x) if x > 0 else float("nan"),
}


def evaluate(template: str, values: dict[str, float]) -> float | None:
    """The formula's value for these operands. Only our own templates are evaluated, over
    floats, with no builtins: nothing from an answers file is ever executed."""
    compiled = _python(template)
    if compiled is None:
        return None
    expression, names = compiled
    if any(name not in values for name in names):
        return None
    scope = {"__builtins__": {}, **_FUNCTIONS, "v": [float(values[n]) for n in names]}
    try:
        return float(eval(expression, scope))  # our template, floats only, no builtins
    except (ZeroDivisionError, OverflowError, ValueError, TypeError, SyntaxError, NameError):
        return None


# ---------------------------------------------------------------- grading


@dataclass(frozen=True, slots=True)
class Verdict:
    answer: Answer
    expected: float | None
    verdict: str  # "correct", "correct to the precision written", "correct for 3sf carried",
    # "follows from your o3", "wrong", "not in this trace"
    ok: bool
    diagnosis: tuple[str, ...] = ()


MIN_FIGURES = 2  # "0.7" for 0.680 is not an answer to the precision written, it is a guess


def _close(student: float, value: float | None, places: int) -> bool:
    if value is None or not math.isfinite(value):
        return False
    return abs(student - value) <= 0.5 * 10.0**-places * (1 + 1e-9) + 1e-12 * abs(value)


def _equations(trace: Trace, sample: int = 1) -> dict[str, Equation]:
    """The equations of one sample's step; then the epoch's others (a batch update's Δw and
    new w stand in its last step)."""
    out: dict[str, Equation] = {}
    steps = sorted(trace.steps, key=lambda step: step.sample != sample)
    for step in steps:
        for section in step.sections:
            for row in section.rows:
                if isinstance(row, Equation) and row.symbol not in out:
                    out[row.symbol] = row
    return out


Mistake = tuple[str, Callable[[Equation, dict[str, Equation]], float | None]]


def _mistakes(spec: Spec) -> list[Mistake]:
    """Known mistakes, each as a recomputation of the step with the mistake made."""

    def operands(row: Equation) -> dict[str, float]:
        return dict(row.operands)

    def updated_weights(row: Equation, eqs: dict[str, Equation]) -> float | None:
        if not row.symbol.startswith("δ") or "w" not in row.formula:
            return None
        values = operands(row)
        for name in list(values):
            new = eqs.get(f"new {name}")
            if name.startswith("w") and new is not None:
                values[name] = new.value
        return evaluate(row.formula, values)

    def no_derivative(slope: str) -> Callable[[Equation, dict[str, Equation]], float | None]:
        pattern = re.compile(_slots_pattern(slope) + "·?")

        def recompute(row: Equation, eqs: dict[str, Equation]) -> float | None:
            if not row.symbol.startswith("δ"):
                return None
            template = pattern.sub("", row.formula)
            return evaluate(template, operands(row)) if template != row.formula else None

        return recompute

    def flipped_sign(row: Equation, eqs: dict[str, Equation]) -> float | None:
        template = re.sub(r"\{(t\d+)\} − \{(o\d+)\}", r"{\2} − {\1}", row.formula)
        return evaluate(template, operands(row)) if template != row.formula else None

    def net_for_o(row: Equation, eqs: dict[str, Equation]) -> float | None:
        values = operands(row)
        swapped = False
        for name in list(values):
            if re.fullmatch(r"[oõ]\d+(?:_\d+)?", name) and f"net{name[1:]}" in eqs:
                values[name] = eqs[f"net{name[1:]}"].value
                swapped = True
        return evaluate(row.formula, values) if swapped else None

    def no_learning_rate(row: Equation, eqs: dict[str, Equation]) -> float | None:
        """Δw = δ·o without η (η set to 1 in Δw's formula); new w = w + that Δw."""
        if spec.learning_rate == 1:
            return None
        if row.symbol.startswith("Δ"):
            return evaluate(row.formula, operands(row) | {"η": 1.0})
        if row.symbol.startswith("new "):
            delta = eqs.get("Δ" + row.symbol[4:])
            old = operands(row).get(row.symbol[4:])
            if delta is not None and old is not None:
                change = evaluate(delta.formula, operands(delta) | {"η": 1.0})
                return None if change is None else old + change
        return None

    def wrong_sign_update(row: Equation, eqs: dict[str, Equation]) -> float | None:
        if not row.symbol.startswith("new "):
            return None
        delta = eqs.get("Δ" + row.symbol[4:])
        old = operands(row).get(row.symbol[4:])
        return old - delta.value if delta is not None and old is not None else None

    def no_dropout_scaling(row: Equation, eqs: dict[str, Equation]) -> float | None:
        if spec.dropout is None:
            return None
        values = operands(row)
        changed = False
        for name in list(values):
            if name.startswith(("õ", "x̃")):
                layer = spec.numbering.locate(
                    int(name[1:].split("_")[0]) if name[0] == "õ" else int(name[2:])
                )
                if layer is not None:
                    values[name] = values[name] * (1 - spec.dropout.rates[layer[0]])
                    changed = True
        if row.symbol.startswith(("õ", "x̃")):
            # õ = m·o·2 (or m·o/0.7) computed without its scaling factor
            unscaled = re.sub(r"(·\d+|/[\d.]+)$", "", row.formula)
            return evaluate(unscaled, values) if unscaled != row.formula else None
        return evaluate(row.formula, values) if changed else None

    return [
        (
            "the hidden δ computed with the updated weights (use the weights before the update)",
            updated_weights,
        ),
        *(
            (f"the derivative {a.slope_words} left out", no_derivative(a.slope))
            for a in dict.fromkeys(spec.functions)
            if a.slope != "1"
        ),
        ("the sign of (t − o) flipped", flipped_sign),
        ("net used where o belongs", net_for_o),
        ("the learning rate η left out", no_learning_rate),
        ("Δw added with the wrong sign (w − Δw instead of w + Δw)", wrong_sign_update),
        ("dropout's scaling 1/(1 − rate) forgotten", no_dropout_scaling),
    ]


def _slots_pattern(template: str) -> str:
    """A regex for a template filled with one unit's names: "{o}(1 − {o})" → {o3}(1 − {o3})."""
    pattern, seen = "", set()
    for piece in re.split(r"(\{\w+\})", template):
        slot = re.fullmatch(r"\{(\w+)\}", piece)
        if not slot:
            pattern += re.escape(piece)
        elif slot.group(1) in seen:
            pattern += f"\\{{(?P={slot.group(1)})\\}}"
        else:
            seen.add(slot.group(1))
            pattern += f"\\{{(?P<{slot.group(1)}>{slot.group(1)}\\d+(?:_\\d+)?)\\}}"
    return pattern


def grade(
    sheet: AnswerSheet,
    traces: dict[int, Trace],
    rounded: dict[str, dict[int, Trace]],
    spec: Spec,
    fmt: Callable[[float], str],
) -> list[Verdict]:
    """Each answer's verdict, in the order the solution finds the quantities."""
    from .render.numbers import substituted, symbolic

    verdicts = []
    diagnosed = False
    for answer in sheet.answers:
        eqs = _equations(traces[answer.epoch], answer.sample)
        row = eqs.get(answer.symbol)
        if row is None:
            verdicts.append(Verdict(answer, None, "not in this trace", False))
            continue
        student = answer.value
        if abs(student - row.value) <= 1e-9 * max(1.0, abs(row.value)):
            verdicts.append(Verdict(answer, row.value, "correct", True))
            continue
        precise = answer.figures >= MIN_FIGURES  # else only an exact value counts
        if precise and _close(student, row.value, answer.places):
            verdicts.append(
                Verdict(
                    answer,
                    row.value,
                    f"correct to the {answer.places} decimal places written",
                    True,
                )
            )
            continue
        carried = [
            r
            for r, by_epoch in rounded.items()
            if answer.symbol in (e := _equations(by_epoch[answer.epoch], answer.sample))
            and _close(student, e[answer.symbol].value, answer.places)
        ]
        if carried and precise:
            verdicts.append(Verdict(answer, row.value, f"correct for {carried[0]} carried", True))
            continue
        own = {
            a.symbol: a.value
            for a in sheet.answers
            if a.epoch == answer.epoch and a.sample == answer.sample
        }
        mine = {name: own[name] for name, _ in row.operands if name in own}
        if mine and precise:
            values = dict(row.operands) | mine
            follows = evaluate(row.formula, values)
            if _close(student, follows, answer.places):
                used = ", ".join(f"your {name}" for name in mine)
                verdicts.append(Verdict(answer, row.value, f"follows from {used}", True))
                continue
        diagnosis: tuple[str, ...] = ()
        if not diagnosed:
            diagnosed = True
            working = substituted(row.working or row.formula, row.values(), _Fmt(fmt))
            lines = [f"{row.symbol} = {symbolic(row.formula)} = {working} = {fmt(row.value)}"]
            for name, recompute in _mistakes(spec):
                alternative = recompute(row, eqs)
                if _close(student, alternative, answer.places):
                    lines.append(f"your value is what {name} gives: {fmt(alternative)}")
            if len(lines) == 1:
                lines.append("none of the known mistakes gives your value")
            diagnosis = tuple(lines)
        verdicts.append(Verdict(answer, row.value, "wrong", False, diagnosis))
    return verdicts


class _Fmt:
    """NumberFormat's interface over a plain function, for `substituted`."""

    def __init__(self, fmt: Callable[[float], str]) -> None:
        self.fmt = fmt

    def __call__(self, value: float) -> str:
        return self.fmt(value)

    def operand(self, value: float) -> str:
        text = self.fmt(value)
        return f"({text})" if text.startswith("−") else text
