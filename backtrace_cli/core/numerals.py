"""Numbers as a user writes them, checked from the text alone before any big-number work.

`Decimal("0.49e-999999999999")` is cheap, but formatting it, or quantizing it, costs memory in
proportion to its exponent; a 400-digit integer does not fit in a float. So every number read
from a user's text (answers files, quiz input, configs) passes `problem` first: a regex reads
its digits and exponent, and only a number float64 can hold goes on to Decimal or float.
"""

from __future__ import annotations

import re

from .errors import quote

VALID = "a number float64 can hold, like 0.0407 or 4.07e-2"
MAX_DIGITS = 40  # float64 keeps about 17 significant digits; more are a paste, not a value
MAX_LENGTH = 60  # characters: 40 digits, a sign, a point and an exponent fit
MAX_EXPONENT = 400  # a zero's exponent (0e-400): past float64's range either way
MAX_BITS = 1024  # a whole number of 2^1024 or more is past float64's largest

_FORM = re.compile(r"([+-]?)([0-9][0-9_]*)?(?:\.([0-9_]*))?(?:[eE]([+-]?)([0-9][0-9_]*))?")


def plain(text: str) -> str | None:
    """`text` as a plain ASCII numeral ("−1_000.5" → "-1000.5") when it is a decimal number;
    None otherwise. It says nothing of its size: `problem` does."""
    cleaned = text.strip().replace("\u2212", "-")
    match = _FORM.fullmatch(cleaned)
    if match is None or not (match.group(2) or match.group(3)):
        return None
    if "__" in cleaned or "_." in cleaned or "._" in cleaned or cleaned.endswith("_"):
        return None  # underscores stand between digits only, as in Python and YAML
    return cleaned.replace("_", "")


def problem(value: object) -> str | None:
    """Why `value` — a number as written, or a whole number YAML already read — is not one
    float64 can hold (too large, read as 0, too many digits), decided without big-number
    work; None when it can be read, or is no number at all (the caller says what it wants)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        if value.bit_length() <= MAX_BITS:
            return None
        digits = int(value.bit_length() * 0.30103) + 1  # log10(2): no str() of a huge int
        return f"a whole number of about {digits:,} digits is too large for float64; write {VALID}"
    if not isinstance(value, str):
        return None
    cleaned = plain(value)
    if cleaned is None:
        return None
    if len(cleaned) <= 30 and "e" not in cleaned and "E" not in cleaned:
        return None  # no exponent, at most 30 digits: float64 holds it, past 1e-30, not 0
    shown = quote(value.strip())
    match = _FORM.fullmatch(cleaned)
    assert match is not None
    whole, fraction = match.group(2) or "", match.group(3) or ""
    digits = whole.lstrip("0") + fraction if whole.lstrip("0") else fraction
    significant = (whole + fraction).lstrip("0")
    exponent_digits = (match.group(5) or "0").lstrip("0") or "0"
    if len(exponent_digits) > 6:  # never int() of a long exponent: its sign decides
        exponent = 10**7 * (-1 if match.group(4) == "-" else 1)
    else:
        exponent = int(exponent_digits) * (-1 if match.group(4) == "-" else 1)
    if not significant:  # zero: only the exponent can be out of range
        if abs(exponent) > MAX_EXPONENT:
            return f"{shown} has an exponent float64 cannot hold (e−324 to e308); write {VALID}"
    else:
        # the power of ten of the first significant digit: 0.049e2 → 0
        first = len(whole + fraction) - len(significant)
        magnitude = exponent + len(whole) - 1 - first
        if magnitude > 308:  # 1e309 and up: past 1.8e308 whatever the digits
            return _too_large(shown)
        if magnitude < -324:  # below 1e-324: under 4.9e-324, float64's smallest
            return _too_small(shown)
    if len(digits) > MAX_DIGITS:
        return (
            f"{shown} has {len(digits):,} digits; float64 keeps about 17: write a number "
            f"float64 can hold (at most {MAX_DIGITS} digits), like 0.0407 or 4.07e-2"
        )
    if len(cleaned) > MAX_LENGTH:
        return f"{shown} is {len(cleaned):,} characters long; write {VALID}"
    number = float(cleaned)  # now cheap: at most 40 digits and a bounded exponent
    if number in (float("inf"), float("-inf")):
        return _too_large(shown)
    if number == 0 and significant:
        return _too_small(shown)
    return None


def _too_large(shown: str) -> str:
    return f"{shown} is too large for float64 (the largest is about 1.8e308); write {VALID}"


def _too_small(shown: str) -> str:
    return (
        f"{shown} is too close to 0 for float64: it would be read as 0 "
        f"(the smallest is about 4.9e-324); write {VALID}"
    )
