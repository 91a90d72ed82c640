"""How a number is written: one place, shared by every renderer. Display only."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field

_SLOT = re.compile(r"\{([^{}]+)\}")
_WRAPPED = re.compile(r"\(\{([^{}]+)\}\)")  # "({net3})": already in parentheses
MINUS = "−"


@dataclass(frozen=True, slots=True)
class NumberFormat:
    """`decimals`: decimal places shown (trailing zeros dropped); `rounding`: "3sf"/"4dp"
    shows numbers as a student carrying that rounding writes them (0.680, not 0.68)."""

    decimals: int = 6
    rounding: str | None = None
    explicit: bool = False  # --decimals was given: it wins over the rounding's own style
    # worked out once: a --full trace formats a million numbers
    spec: str = field(init=False, repr=False, compare=False)  # ".6f"
    small: float = field(init=False, repr=False, compare=False)  # below: three figures

    def __post_init__(self) -> None:
        object.__setattr__(self, "spec", f".{self.decimals}f")
        # too small for the decimals to show three figures (Adam's v is often 1e−06), unless
        # the decimals were asked for
        object.__setattr__(self, "small", -1.0 if self.explicit else 10.0 ** (2 - self.decimals))

    def __call__(self, value: float) -> str:
        if not -1e15 < value < 1e15:  # nan, ±∞, or beyond what positional digits show readably
            if math.isnan(value):
                return "nan"
            if math.isinf(value):
                return "∞" if value > 0 else f"{MINUS}∞"
            text = f"{value:.6g}"
        elif value == int(value):
            text = str(int(value))
        elif self.rounding and not self.explicit:
            digits, kind = int(self.rounding[:-2]), self.rounding[-2:]
            text = f"{value:#.{digits}g}" if kind == "sf" else f"{value:.{digits}f}"
            if "e" in text:
                text = f"{value:.{digits - 1}e}"
        else:
            text = format(value, self.spec)
            if "." in text:
                text = text.rstrip("0").rstrip(".")
            if text in ("0", "-0") or abs(value) < self.small:
                text = f"{value:.3g}"  # keep it readable
        return text.replace("-", MINUS)

    def signed(self, value: float) -> str:
        """A change: always with its sign, +0.012 or −0.03."""
        text = self(value)
        return text if text.startswith(MINUS) else "+" + text

    def operand(self, value: float) -> str:
        """A number substituted into a formula: negatives in parentheses."""
        text = self(value)
        return f"({text})" if text.startswith(MINUS) else text


class _Made(dict):  # type: ignore[type-arg]
    """value → text, each made on first use (a hit is a plain dict lookup, no Python call)."""

    def __init__(self, make: Callable[[float], str]) -> None:
        super().__init__()
        self.make = make

    def __missing__(self, value: float) -> str:
        text = self[value] = self.make(value)
        return text


class Memo:
    """A NumberFormat that formats each distinct value once: a wide network's --full trace
    writes x1 … x784 in every unit's sum, and each weight in its update and its summary."""

    def __init__(self, fmt: NumberFormat) -> None:
        self.fmt = fmt
        self.texts = _Made(fmt)
        self.operand: Callable[[float], str] = _Made(self._operand).__getitem__

    def __call__(self, value: float) -> str:
        return self.texts[value]  # type: ignore[no-any-return]

    def _operand(self, value: float) -> str:
        text: str = self.texts[value]  # NumberFormat.operand, from the text already made
        return f"({text})" if text.startswith(MINUS) else text

    def signed(self, value: float) -> str:
        return self.fmt.signed(value)


def symbolic(template: str) -> str:
    """The formula with names: "{w13}·{x1}" → "w13·x1"."""
    return "".join(_SLOT.split(template))  # text, name, text, …: the names left in place


def substituted(template: str, values: dict[str, float], fmt: NumberFormat | Memo) -> str:
    """The formula with numbers: "{w13}·{x1}" → "0.1·0.35"; negatives get parentheses once."""
    return _filled(template, _SLOT.split(template), values, fmt)


def written(template: str, values: dict[str, float], fmt: NumberFormat | Memo) -> tuple[str, str]:
    """`symbolic` and `substituted` of one template, read once (a --full trace has 400,000)."""
    parts = _SLOT.split(template)
    return "".join(parts), _filled(template, parts, values, fmt)


def _filled(
    template: str, parts: list[str], values: dict[str, float], fmt: NumberFormat | Memo
) -> str:
    """The template's slots filled with numbers; `parts`: its text, name, text, …, text
    (filled in place)."""
    count = len(parts)  # 2·slots + 1
    if template.count("{") * 2 + 1 != count or template.count("}") * 2 + 1 != count:
        # a brace that is no slot's: read as the patterns read it, slot by slot
        template = _WRAPPED.sub(lambda m: "(" + fmt(values[m.group(1)]) + ")", template)
        return _SLOT.sub(lambda m: fmt.operand(values[m.group(1)]), template)
    operand = fmt.operand
    if "({" not in template:  # as most are: every slot an operand
        for n in range(1, count, 2):
            parts[n] = operand(values[parts[n]])
        return "".join(parts)
    for n in range(1, count, 2):
        value = values[parts[n]]
        if parts[n - 1].endswith("(") and parts[n + 1].startswith(")"):
            parts[n] = fmt(value)  # "({net3})": in parentheses already
        else:
            parts[n] = operand(value)
    return "".join(parts)


def percent(share: float) -> str:
    """A share of right answers as a percentage: 1 → "100%", 2/3 → "66.7%"."""
    text = f"{100 * share:.1f}".removesuffix(".0")
    return f"{text}%"


def loss_change(relative_drop: float) -> str:
    """How the loss moved over training: "42.1% lower", "3.5% higher"; a loss that grew past
    ten times its start as a factor ("4.2e+20 times as high"), never as a 40-digit percentage."""
    if not math.isfinite(relative_drop):
        return "not a finite change"
    if relative_drop >= 0:
        return f"{relative_drop:.1%} lower"
    if relative_drop > -9:
        return f"{-relative_drop:.1%} higher"
    return f"{1 - relative_drop:.3g} times as high".replace("-", MINUS)


def accuracy_caption(accuracy) -> str:  # an array; numpy stays unimported here
    """ "accuracy 33.3% in epoch 1, 100% in epoch 300", or "" without an accuracy."""
    if accuracy is None or not len(accuracy):
        return ""
    run = len(accuracy)
    last = f"{percent(float(accuracy[-1]))} in epoch {run}"
    return (
        f"accuracy {percent(float(accuracy[0]))} in epoch 1, {last}"
        if run > 1
        else f"accuracy {last}"
    )


def points_text(value: float) -> str:
    """Points as a gradebook cell: 12, 7.5, 0.333 (never 12.0 or 0.30000000000000004)."""
    return f"{round(value, 4):.4f}".rstrip("0").rstrip(".")
