"""How a number is written: one place, shared by every renderer. Display only."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

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

    def __call__(self, value: float) -> str:
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "∞" if value > 0 else f"{MINUS}∞"
        if abs(value) >= 1e15:  # beyond what positional digits show readably
            text = f"{value:.6g}"
        elif value == int(value):
            text = str(int(value))
        elif self.rounding and not self.explicit:
            digits, kind = int(self.rounding[:-2]), self.rounding[-2:]
            text = f"{value:#.{digits}g}" if kind == "sf" else f"{value:.{digits}f}"
            if "e" in text:
                text = f"{value:.{digits - 1}e}"
        else:
            text = f"{value:.{self.decimals}f}"
            if "." in text:
                text = text.rstrip("0").rstrip(".")
            if text in ("0", "-0") or (
                not self.explicit and abs(value) < 10.0 ** (2 - self.decimals)
            ):
                # too small for the decimals to show three figures (Adam's v is often 1e−06):
                # keep it readable
                text = f"{value:.3g}"
        return text.replace("-", MINUS)

    def signed(self, value: float) -> str:
        """A change: always with its sign, +0.012 or −0.03."""
        text = self(value)
        return text if text.startswith(MINUS) else "+" + text

    def operand(self, value: float) -> str:
        """A number substituted into a formula: negatives in parentheses."""
        text = self(value)
        return f"({text})" if text.startswith(MINUS) else text


def symbolic(template: str) -> str:
    """The formula with names: "{w13}·{x1}" → "w13·x1"."""
    return _SLOT.sub(lambda m: m.group(1), template)


def substituted(template: str, values: dict[str, float], fmt: NumberFormat) -> str:
    """The formula with numbers: "{w13}·{x1}" → "0.1·0.35"; negatives get parentheses once."""
    template = _WRAPPED.sub(lambda m: "(" + fmt(values[m.group(1)]) + ")", template)
    return _SLOT.sub(lambda m: fmt.operand(values[m.group(1)]), template)


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
