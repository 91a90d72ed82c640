"""`backtrace check`: a student's answers against the traced solution, marked as a fair marker does.

Each answer gets one verdict (`KINDS`):

- **right** — the right value at the precision the student used: the declared `round:` (whatever
  digits were typed: −0.6 is −0.600), else the digits written or a common rounding carried by hand
  (2–4 significant figures or decimal places), recognised and said; or the step's formula done
  right from the student's own right values as they wrote them.
- **coarse** — a right value written with one significant figure: too coarse to tell.
- **follows** — the step's formula evaluated with the student's own earlier values (a wrong one
  among them) gives it, however far down the step: error carried forward. A wrong value the
  student wrote, 0.561, stands for what they may have had in hand, [0.5605, 0.5615].
- **wrong** — otherwise; a named mistake (`MISTAKES`) is named when recomputing the step with that
  mistake, with the student's operands and the rounding they carried, gives their value.
- **unanswered** — a question of the exercise with no answer.

Everything is computed by evaluating the trace's own formulas with other operands — never by
matching numbers. `mark` marks answers against a `Solution` (`solve`); `mark_sheet` marks an
answers file into a `Report`; the CLI, the Python API, the quiz and the gradebook call these.
"""

from __future__ import annotations

import math
import os
import re
import sys
import types
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from functools import cached_property, lru_cache
from typing import Any

from . import activations, formula, notation, numerals, optimizers, safefile
from .config import Spec
from .errors import ConfigError, quote
from .losses import get as get_loss
from .records import Equation, Trace, is_question
from .yamlsource import Document, parse

ROUNDINGS = ("3sf", "4sf", "2sf", "4dp", "3dp", "2dp")  # recognised when none is declared
KEYS = (
    "exercise",
    "config",
    "variant",
    "student",
    "round",
    "notation",
    "gradients",
    "answers",
    "samples",
    "epochs",
)
KINDS = ("right", "coarse", "follows", "wrong", "unanswered")
CREDITED = ("right", "coarse", "follows")  # count toward the mark
ANSWERS_FILE = "an answers file"  # what a message calls one ("is a folder, not …")
MAX_EPOCHS = 100  # check traces every epoch up to the last one answered, in full

Key = tuple[int, int, str]  # (epoch, sample, trace symbol)


# ---------------------------------------------------------------- the answers file


@dataclass(frozen=True, slots=True)
class Answer:
    """One value a student wrote."""

    name: str  # as the student wrote it: "delta5"
    symbol: str  # the trace's symbol: "δ5"
    value: float
    written: str  # as written: "0.680"
    epoch: int = 1
    sample: int = 1  # which sample's step (online: each sample has its own)
    where: tuple[Any, ...] = ()  # its place in the answers file: ("answers", "delta5")

    @property
    def key(self) -> Key:
        return (self.epoch, self.sample, self.symbol)

    @property
    def figures(self) -> int:
        """Significant figures written: "0.680" → 3, "-0.6" → 1."""
        number = _decimal(self.written)
        if number is None:
            return 12
        digits = number.as_tuple().digits
        while len(digits) > 1 and digits[0] == 0:
            digits = digits[1:]
        return max(1, len(digits))

    @property
    def places(self) -> int:
        """Decimal places written: "−0.0407" → 4."""
        number = _decimal(self.written)
        exponent = number.as_tuple().exponent if number is not None else -12
        return max(0, -int(exponent)) if isinstance(exponent, int) else 12


def _decimal(text: str) -> Decimal | None:
    """A number as written, if float64 can hold it (the text is checked before Decimal
    sees it: formatting 0.49e-999999999999 would take gigabytes)."""
    cleaned = numerals.plain(text)
    if cleaned is None or numerals.problem(text) is not None:
        return None
    try:
        return Decimal(cleaned)
    except InvalidOperation:  # pragma: no cover - plain() lets through only numerals
        return None


@dataclass(frozen=True, slots=True)
class AnswerSheet:
    source: str  # the answers file
    exercise: Any  # a name, a path or a config mapping, for api.load
    rounding: str | None
    answers: tuple[Answer, ...]
    document: Document | None = None  # where each answer stands, for errors
    against_exercise: bool = True  # `exercise:` names one: marked as "x of N questions"
    variant: str | None = None  # `variant:` — the exercise variant's id (net232-s42-v07)
    student: str | None = None  # `student:` — who wrote it
    notation: str | None = None  # `notation:` — the textbook whose names the answers use
    gradients: bool | None = None  # `gradients:` — marked with the chain-rule rows (run's)


def read(
    path: str,
    base_dir: str | None = None,
    named: bool = True,
    root: str | None = None,
    teacher: bool = False,
) -> AnswerSheet:
    """Parse and validate an answers file (errors as ConfigError, like configs). `named`:
    the file must name its exercise (False: the caller gives the config); `root`: the
    folder the file was found in, which no link in it may lead out of; `teacher`: a class
    is marked, where only a built-in example's name may be followed."""
    text = safefile.read_text(path, root, ANSWERS_FILE)
    base = base_dir if base_dir is not None else os.path.dirname(os.path.abspath(path))
    return from_document(parse(text, path, ANSWERS_FILE), base, named, teacher)


TEACHERS_ONLY = (
    "a class is marked against what the teacher gives (--exercises DIR, --exercise CONFIG)"
)


def from_document(
    doc: Document, base_dir: str = ".", named: bool = True, teacher: bool = False
) -> AnswerSheet:
    """An answers document (parsed YAML, or a mapping given to the API) → AnswerSheet.
    `named`: the document must name its exercise (the API may give it instead). `teacher`:
    neither a path nor an inline network from the file is followed, only a built-in name."""
    path = doc.file
    data = doc.value
    if not isinstance(data, dict):
        raise ConfigError(
            path, doc.line(()), None, "an answers file is a mapping with `exercise` and `answers`"
        )
    if data and not any(key in KEYS for key in data):  # some other file: never echo its lines
        raise doc.error((), f"none of the keys is one an answers file has ({', '.join(KEYS)})")
    for key in data:
        if key not in KEYS:
            raise doc.error((key,), f"unknown key; an answers file has {', '.join(KEYS)}")
    if "exercise" in data and "config" in data:
        raise doc.error(("config",), "give `exercise:` or `config:`, not both")
    exercise: Any = None
    variant = _text(doc, data, "variant")
    student = _text(doc, data, "student")
    if named and variant and "exercise" not in data and "config" not in data:
        raise doc.missing(
            "exercise",
            f"this file answers variant {variant}; add `exercise:` with its config's path "
            f"(e.g. `exercise: configs/{variant}.yaml`)",
        )
    if named and "exercise" not in data and "config" not in data:
        raise doc.missing(
            "exercise",
            "give the exercise: `exercise: lecture` (a built-in name or a config path) "
            "or `config:` with the config inline",
        )
    if teacher and ("config" in data or (named and "exercise" in data)):
        _teachers_only(doc, data)
    against = "config" not in data
    if "config" in data:
        exercise = data["config"]
        if isinstance(exercise, dict):
            # the config inline: validated with this file's lines (fields as in a config file)
            from .models import from_document as config_from_document

            inline = Document(path, exercise)
            for where, line in doc.lines.items():
                if where[:1] == ("config",):
                    inline.lines[where[1:]] = line
                    inline.columns[where[1:]] = doc.columns.get(where, 1)
                    if where in doc.texts:
                        inline.texts[where[1:]] = doc.texts[where]
            exercise = config_from_document(inline)
    elif "exercise" in data:
        exercise = data["exercise"]
    if isinstance(exercise, str) and not os.path.isabs(exercise) and not teacher:
        candidate = os.path.join(base_dir, exercise)
        if os.path.isfile(candidate):
            exercise = candidate
    rounding = read_rounding(doc, data)
    book = _text(doc, data, "notation")
    if book is not None:
        from . import notations

        if book not in notations.NAMES:
            raise doc.error(
                ("notation",),
                f"{quote(book)} is not a notation; use one of {', '.join(notations.NAMES)}",
            )
    gradients = data.get("gradients")
    if gradients is not None and not isinstance(gradients, bool):
        raise doc.error(
            ("gradients",),
            f"{quote(gradients)} is not true or false (true: the chain-rule rows ∂E/∂w, "
            "as `run --gradients` traces them)",
        )
    answers: list[Answer] = []
    if "answers" in data:
        answers += _answers(doc, ("answers",), data["answers"], 1, 1)
    for n, value in _numbered(doc, data, "samples", "sample", "`2: {o5: 0.61}`"):
        answers += _answers(doc, ("samples", n), value, 1, int(n))
    for n, value in _numbered(doc, data, "epochs", "epoch", "`2: {w45: 0.85}`"):
        if int(n) > MAX_EPOCHS:
            raise doc.error(
                ("epochs", n), f"check traces epochs 1 to {MAX_EPOCHS}; {n} is past that"
            )
        answers += _answers(doc, ("epochs", n), value, int(n), 1)
    if not answers:
        raise doc.missing(
            "answers", "missing; give your values, e.g. `answers: {o5: 0.69, delta5: -0.0407}`"
        )
    seen: dict[Key, Answer] = {}
    for answer in answers:
        if answer.key in seen:
            first = yaml_place(seen[answer.key].where)
            raise doc.error(answer.where, f"the same quantity as {first}; give it once")
        seen[answer.key] = answer
    return AnswerSheet(
        path, exercise, rounding, tuple(answers), doc, against, variant, student, book, gradients
    )


def _teachers_only(doc: Document, data: dict[str, Any]) -> None:
    """Refuse, before anything is opened or validated, an exercise the teacher did not give:
    the words never depend on whether a named path exists (no oracle for the teacher's files)."""
    if "config" in data:
        raise doc.error(
            ("config",), f"a network written in the file is not marked: {TEACHERS_ONLY}"
        )
    from .config import example_names

    name = data.get("exercise")
    if name not in example_names():
        raise doc.error(
            ("exercise",),
            f"only a built-in example's name is followed ({', '.join(example_names())}); "
            f"{TEACHERS_ONLY}",
        )


def _text(doc: Document, data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, (dict, list)):
        raise doc.error((key,), f"expected a short text, e.g. `{key}: …`")
    return str(value)


def yaml_place(where: tuple[Any, ...]) -> str:
    from .yamlsource import field_path

    return field_path(where)


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


def read_rounding(doc: Document, data: dict[str, Any]) -> str | None:
    """The answers file's `round:` (3sf, 4dp, …), or None."""
    rounding = data.get("round")
    if rounding is None:
        return None
    from .rounding import parse as parse_rounding

    parsed = parse_rounding(str(rounding))
    if parsed is None:
        raise doc.error(("round",), f"{quote(rounding)} is not a rounding; use e.g. 3sf or 4dp")
    return f"{parsed[0]}{parsed[1]}"


UNRESOLVED = "?"  # an answer's symbol before its name is read in the notation it is marked in
NOT_A_QUANTITY = (
    "not a quantity of the trace; write net3, o3, e5, E, delta5 (or δ5), dw45 "
    "(Δw45), w45 (the new weight), db3, b3 (the new bias)"
)


def _answers(
    doc: Document,
    path: tuple,
    value: Any,
    epoch: int,
    sample: int,
    symbol_of: Callable[[str], str | None] = notation.symbol_of,
) -> list[Answer]:
    """The values of one mapping of an answers file; `symbol_of` reads their names (a
    computational graph's are its own: graphcheck.symbol_of)."""
    if not isinstance(value, dict):
        raise doc.error(path, "expected a mapping of quantities to your values: `o5: 0.69`")
    out = []
    for name, v in value.items():
        where = (*path, name)
        symbol = symbol_of(str(name))
        if symbol is None:  # perhaps a textbook's name: resolved once the notation is known
            symbol = UNRESOLVED + str(name)
        text = doc.texts.get(where)
        trouble = numerals.problem(v if text is None else text) or numerals.problem(v)
        if trouble:  # before any Decimal or float() of it
            raise doc.error(where, trouble)
        number = v
        if isinstance(v, str) and _decimal(v) is not None:
            text, number = v, float(_decimal(v))  # type: ignore[arg-type]
        if (
            isinstance(number, bool)
            or not isinstance(number, (int, float))
            or not math.isfinite(number)
        ):
            raise doc.error(where, f"{quote(v)} is not a number")
        if text is None or _decimal(text) is None:
            text = repr(number) if isinstance(number, float) else str(number)
        out.append(Answer(str(name), symbol, float(number), text, epoch, sample, where))
    return out


# ---------------------------------------------------------------- evaluating a formula


def evaluate(template: str, values: Mapping[str, float]) -> float | None:
    """The formula's value for these operands, through each operation's own definition
    (formula.py): only our own templates are read, and nothing is ever executed."""
    parsed = formula.parse(template)
    return None if parsed is None else formula.evaluate(parsed, values)


def slots(template: str) -> list[str]:
    return re.findall(r"\{([^{}]+)\}", template)


@lru_cache(maxsize=4096)
def _slots(template: str) -> tuple[str, ...]:
    """The distinct operand names of a template, in order (cached: marking a class evaluates
    the same templates many thousand times)."""
    return tuple(dict.fromkeys(re.findall(r"\{([^{}]+)\}", template)))


# ---------------------------------------------------------------- the solution


@dataclass(frozen=True, slots=True)
class Line:
    """One equation of the solution, in every rounding it is solved with."""

    key: Key
    template: str  # the formula (or its working) that evaluates to the value
    rows: Mapping[str | None, Equation]  # rounding (None: exact) → the equation

    @property
    def exact(self) -> Equation:
        return self.rows[None]


@dataclass(frozen=True)
class Solution:
    """The traced solution of an exercise, exact and with each rounding a student may carry."""

    spec: Spec
    epochs: int
    modes: tuple[str | None, ...]  # None (exact) first, then roundings
    lines: tuple[Line, ...]  # in the order the solution finds them
    index: Mapping[Key, int]
    samples: int

    @property
    def translation(self) -> Any:
        """The solution's notation applied to its network (`translation.Translation`)."""
        from .records import translation

        return translation(self.spec)

    @cached_property
    def _spellings(self) -> dict[str, str]:
        from . import notations

        return notations.lookup(list(dict.fromkeys(line.key[2] for line in self.lines)))

    def named(self, name: str) -> str | None:
        """The solution's symbol an answer's name stands for, in any spelling of the
        solution's notation (z^2_1, z2_1 and z²₁ are one name), or None."""
        from . import notations

        return self._spellings.get(notations.canonical(name))

    def resolve(self, key: Key) -> Key:
        """The key as the solution has it: a batch update's rows (Δw, new w) stand in the
        epoch's last step, whichever sample an answer puts them under."""
        if key in self.index or not 1 <= key[1] <= self.samples:
            return key
        for sample in range(self.samples, 0, -1):
            if (key[0], sample, key[2]) in self.index:
                return (key[0], sample, key[2])
        return key

    def line(self, key: Key) -> Line | None:
        n = self.index.get(self.resolve(key))
        return None if n is None else self.lines[n]

    def questions(self, epochs: Iterable[int] | None = None) -> tuple[Key, ...]:
        """What an exercise asks, in order: every quantity of the epochs' steps but ∂ rows."""
        wanted = set(epochs) if epochs is not None else {1}
        return tuple(
            line.key for line in self.lines if line.key[0] in wanted and is_question(line.exact)
        )


def solve(
    spec: Spec, epochs: int = 1, rounding: str | None = None, gradients: bool | None = None
) -> Solution:
    """Trace `epochs` epochs of `spec` in full: exactly, and with the declared `rounding`
    carried (None: with each of `ROUNDINGS`, to recognise the one a student carried).
    `gradients`: with the ∂E/∂w rows (as `run --gradients`; default as `run`)."""
    from . import api

    modes: tuple[str | None, ...] = (None, rounding) if rounding else (None, *ROUNDINGS)

    def traces(mode: str | None) -> list[Trace]:
        if epochs == 1:
            return [api.trace(spec, rounding=mode, full=True, gradients=gradients).records]
        done = api.train(spec, epochs, trace=["all"], rounding=mode, full=True, gradients=gradients)
        return list(done.records.traces)

    by_mode = {mode: traces(mode) for mode in modes}
    lines: list[Line] = []
    index: dict[Key, int] = {}
    for number, trace in enumerate(by_mode[None]):
        others = {mode: by_mode[mode][number] for mode in modes}
        for s, step in enumerate(trace.steps):
            for c, section in enumerate(step.sections):
                if section.kind == "verify":
                    continue
                for r, row in enumerate(section.rows):
                    if not isinstance(row, Equation):
                        continue
                    rows = {mode: others[mode].steps[s].sections[c].rows[r] for mode in modes}
                    key = (step.epoch, step.sample, row.symbol)
                    if key in index:
                        continue
                    index[key] = len(lines)
                    lines.append(Line(key, _template(row), rows))  # type: ignore[arg-type]
    return Solution(spec, epochs, modes, tuple(lines), index, len(spec.samples))


def _template(row: Equation) -> str:
    """The row's formula if it evaluates to its value, else its working (batch sums)."""
    for template in (row.formula, row.working):
        if template is None:
            continue
        value = evaluate(template, row.values())
        if value is not None and math.isclose(value, row.value, rel_tol=1e-9, abs_tol=1e-12):
            return template
    return row.formula


# ---------------------------------------------------------------- named mistakes


@dataclass(frozen=True, slots=True)
class Mistake:
    """A way to get a step wrong: the step's formula rewritten as the student who makes the
    mistake computes it (a template over the trace's names), or None where it does not apply.
    Later definitions (softmax, optimizers, notations) add theirs to `MISTAKES`."""

    name: str  # "the derivative o(1 − o) left out"
    rewrite: Callable[[Equation, Spec], str | None]


def _updated_weights(row: Equation, spec: Spec) -> str | None:
    if not row.symbol.startswith("δ"):
        return None
    out = re.sub(r"\{(w\d+(?:_\d+)?)\}", r"{new \1}", row.formula)
    return out if out != row.formula else None


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


def _no_derivative(activation: activations.Activation) -> Mistake:
    """δ without the activation's ∂o/∂net: o(1 − o) for σ, (1 − o²) for tanh, …"""
    pattern = re.compile(_slots_pattern(activation.slope) + "·?")

    def rewrite(row: Equation, spec: Spec) -> str | None:
        if not row.symbol.startswith("δ"):
            return None
        out = pattern.sub("", row.formula)
        return out if out != row.formula and out.strip() else None

    return Mistake(f"the derivative {activation.slope_words} left out", rewrite)


def _flipped_sign(row: Equation, spec: Spec) -> str | None:
    out = re.sub(r"\{(t\d+)\} − \{(o\d+)\}", r"{\2} − {\1}", row.formula)
    return out if out != row.formula else None


def _net_for_o(row: Equation, spec: Spec) -> str | None:
    out = re.sub(r"\{[oõ](\d+(?:_\d+)?)\}", r"{net\1}", row.formula)
    return out if out != row.formula else None


def _no_learning_rate(row: Equation, spec: Spec) -> str | None:
    """Δw = δ·o without η; new w = w + that Δw."""
    if spec.learning_rate == 1:
        return None
    if row.symbol.startswith("Δ") and "{η}" in row.formula:
        return row.formula.replace("{η}", "1")
    if row.symbol.startswith("new "):
        change = "{Δ" + row.symbol[4:] + "}"
        if change in row.formula:
            return row.formula.replace(change, f"{change}/{{η}}")
    return None


def _subtracted(row: Equation, spec: Spec) -> str | None:
    if not row.symbol.startswith("new ") or " + {Δ" not in row.formula:
        return None
    return row.formula.replace(" + {Δ", " − {Δ")


def _no_dropout_scaling(row: Equation, spec: Spec) -> str | None:
    if spec.dropout is None:
        return None
    if row.symbol.startswith(("õ", "x̃")):
        # õ = m·o·2 (or m·o/0.7) computed without its scaling factor
        out = re.sub(r"(·\d+|/[\d.]+)$", "", row.formula)
        return out if out != row.formula else None

    def unscaled(match: re.Match[str]) -> str:
        name = match.group(0)[1:-1]
        unit = int(name[1:].split("_")[0]) if name[0] == "õ" else int(name[2:])
        layer = spec.numbering.locate(unit)
        if layer is None or spec.dropout is None:
            return match.group(0)
        return f"({match.group(0)}·{1 - spec.dropout.rates[layer[0]]!r})"

    out = re.sub(r"\{(?:õ|x̃)\d+(?:_\d+)?\}", unscaled, row.formula)
    return out if out != row.formula else None


MISTAKES: list[Mistake] = [
    Mistake(
        "hidden δ with the updated weights (use the weights before the update)",
        _updated_weights,
    ),
    Mistake("the sign of (t − o) flipped", _flipped_sign),
    Mistake("net for o (net used where o belongs)", _net_for_o),
    Mistake("the learning rate η left out", _no_learning_rate),
    Mistake("Δw subtracted (w − Δw instead of w + Δw)", _subtracted),
    Mistake(
        "dropout's scale forgotten (kept outputs not multiplied by 1/(1 − rate))",
        _no_dropout_scaling,
    ),
]


def mistakes(spec: Spec) -> list[Mistake]:
    """The mistakes `check` knows for this network: each activation's own (its derivative
    left out, its classic slips), the loss's, the optimizer's, then the general ones."""
    if not isinstance(spec, Spec):
        return []  # a computational graph: its rows are the operations' own, none of these
    functions = dict.fromkeys(spec.functions)
    own = [_no_derivative(a) for a in functions if a.slope != "1"]
    own += [_optimizer_mistake(m) for m in spec.optimizer.optimizer.mistakes]
    slips = [slip for a in functions for slip in a.slips]
    slips += get_loss(spec.loss).slips
    named = [*own, *(_slip(slip) for slip in slips), *MISTAKES]
    # a textbook's reader who writes the lecture's δ made the sign-convention mistake first
    # of all; in the lecture's notation (t − o) flipped is named first, the convention after
    sign = _sign_convention(spec)
    return [sign, *named] if spec.notation != "lecture" else [*named, sign]


def _sign_convention(spec: Spec) -> Mistake:
    """δ with the other sign convention's sign: −∂E/∂net where the book's δ is ∂E/∂net, or
    the other way round (named in the notation the answers are marked in)."""
    from . import notations

    def rewrite(row: Equation, spec: Spec) -> str | None:
        return f"−({row.formula})" if re.fullmatch(r"δ\d+(?:_\d+)?", row.symbol) else None

    return Mistake(notations.get(spec.notation).sign_mistake, rewrite)


def _slip(slip: activations.Slip) -> Mistake:
    """An activation's or a loss's own classic mistake, on the steps it applies to."""

    def rewrite(row: Equation, spec: Spec) -> str | None:
        return slip.rewrite(row.formula) if row.symbol.startswith(slip.symbol) else None

    return Mistake(slip.name, rewrite)


def _optimizer_mistake(mistake: optimizers.Mistake) -> Mistake:
    """One of the optimizer's own slips (optimizers.py), as a rewrite of the traced formula."""
    pattern = re.compile(mistake.pattern)

    def rewrite(row: Equation, spec: Spec) -> str | None:
        out = pattern.sub(mistake.replacement, row.formula)
        return out if out != row.formula else None

    return Mistake(mistake.name, rewrite)


# ---------------------------------------------------------------- verdicts


@dataclass(frozen=True, slots=True)
class Verdict:
    """How one question was answered."""

    key: Key
    kind: str  # one of KINDS
    verdict: str  # in words: "right for 3sf carried", "follows from your o3", …
    expected: float  # the right value, full precision
    answer: Answer | None = None  # None: unanswered
    working: str = ""  # "δ5 = o5(1 − o5)(t5 − o5) = 0.690283·… = −0.040681"
    mistakes: tuple[str, ...] = ()  # named mistakes that give the value, best first
    diagnosis: tuple[str, ...] = ()  # a wrong answer's lines: the working, yours, the mistakes
    carried: str | None = None  # the rounding the value was recognised in

    @property
    def ok(self) -> bool:
        return self.kind in CREDITED

    @property
    def symbol(self) -> str:
        return self.key[2]

    @property
    def name(self) -> str:
        """The name in answers files and reports: delta5, dw45, w45."""
        return notation.answer_name(self.key[2])

    @property
    def epoch(self) -> int:
        return self.key[0]

    @property
    def sample(self) -> int:
        return self.key[1]


@dataclass(frozen=True, slots=True)
class _Span:
    """A value as the student may have had it: centre ± radius, and the wrong answers of
    theirs it rests on."""

    value: float
    radius: float = 0.0
    roots: frozenset[Key] = frozenset()


_NO_ROOTS: frozenset[Key] = frozenset()
_PARAMETER = re.compile(r"[wb]\d+(?:_\d+)?")
_SAMPLE_OF = re.compile(r"(.+)⁽(\d+)⁾")
_TINY = 1e-12


def half_unit(answer: Answer, mode: str | None, rounding: str | None) -> float | None:
    """± what a written value stands for to a student carrying `mode` (None: exact).

    With a rounding declared, half a unit of it, whatever digits were typed (−0.6 is −0.600).
    Else, kept exact: half a unit of the last digit written — 0 for one figure (too coarse to
    tell: only the value itself); carrying a rounding: half a unit of it, when the value has no
    more digits than it keeps (0.01 is 0.010 carried to 2 figures, its zero dropped) and it
    leaves two figures at least (−0.008 is not −0.00817 "carried to 3 decimal places");
    None when a student carrying `mode` could not have written it."""
    from .rounding import unit

    if answer.value == 0:  # no significant figure at all: the decimals written say how close
        return 0.5 * 10.0**-answer.places if answer.places else 0.0
    if rounding:
        return 0.5 * unit(answer.value, rounding)
    if mode is None:
        return 0.5 * 10.0**-answer.places if answer.figures >= 2 else 0.0
    digits, kind = int(mode[:-2]), mode[-2:]
    if kind == "sf":
        fits = answer.figures <= digits
    else:
        fits = answer.places <= digits and abs(answer.value) >= 10.0 ** (1 - digits)
    return 0.5 * unit(answer.value, mode) if fits else None


def _within(answer: Answer, target: float, half: float, spread: float, carried: str | None) -> bool:
    """Is the written value `target` (± `spread`) at the precision `half` — and, for a count
    of significant figures, at the target's own (0.1 is not 0.0984 to 2 figures: 0.098)?"""
    if carried and carried.endswith("sf") and half:
        from .rounding import unit

        half = min(half, 0.5 * unit(target, carried))
    return _close(answer.value, target, half + spread)


def _radius(answer: Answer, mode: str | None, rounding: str | None) -> float:
    """What a value the student wrote may have been in their hands, carrying `mode`."""
    return half_unit(answer, mode, rounding) or 0.5 * 10.0**-answer.places


class _World:
    """The step as one student could have worked it: carrying `mode`, with their answers in
    place of the solution's values. `written`: right answers enter as written (0.66) — else
    as the solution has them (0.663739), for a student who kept more digits than they wrote."""

    def __init__(
        self, solution: Solution, mode: str | None, written: bool, rounding: str | None
    ) -> None:
        self.solution = solution
        self.mode = mode
        self.written = written
        self.rounding = rounding  # declared
        self.values: dict[Key, _Span] = {}
        self.parameters: dict[str, _Span] = {}  # the latest new w / new b, by name
        self.pending: Mapping[Key, Answer] = {}
        # the keys looked up before their line was walked, while `watching`: answering one of
        # them later changes what this world carried on (Marker walks again from the start)
        self.ahead: set[Key] = set()
        self.watching = True

    def half(self, answer: Answer) -> float | None:
        return half_unit(answer, self.mode, self.rounding)

    def radius(self, answer: Answer) -> float:
        return _radius(answer, self.mode, self.rounding)

    def operand(self, line: Line, name: str) -> _Span:
        epoch, sample, _ = line.key
        match = _SAMPLE_OF.fullmatch(name) if "⁽" in name else None
        key = (epoch, int(match.group(2)), match.group(1)) if match else (epoch, sample, name)
        span = self.values.get(key)
        if span is not None:
            return span
        if self.watching:
            self.ahead.add(key)
        if key in self.pending:  # a later quantity (updated weights in δ): as answered
            answer = self.pending[key]
            return _Span(answer.value, self.radius(answer), frozenset({key}))
        if not match:
            later = self.solution.line(key)
            if later is not None:
                return _Span(later.rows[self.mode].value)
        if name in self.parameters:
            return self.parameters[name]
        given = line.rows[self.mode].values()
        return _Span(given[name]) if name in given else _Span(math.nan)

    def compute(self, line: Line, template: str) -> _Span | None:
        """The template evaluated with this world's operands (not rounded), ± their spread."""
        spans = {name: self.operand(line, name) for name in _slots(template)}
        centre = {name: span.value for name, span in spans.items()}
        value = evaluate(template, centre)
        if value is None:
            return None
        spread = 0.0
        for name, span in spans.items():
            if span.radius <= 0:
                continue
            for step in (span.radius, -span.radius):
                moved = evaluate(template, centre | {name: span.value + step})
                if moved is None:
                    return None
                spread += abs(moved - value) / 2
        roots = _NO_ROOTS
        for span in spans.values():
            if span.roots:
                roots = roots | span.roots
        return _Span(value, spread, roots)

    def carried(self, line: Line, span: _Span | None) -> _Span:
        """What the student carries on: rounded as the world carries (∂ factors are not)."""
        if span is None:
            return _Span(line.rows[self.mode].value)
        if self.mode is None or line.key[2].startswith("∂"):
            return span
        from .rounding import round_value

        return _Span(round_value(span.value, self.mode), span.radius, span.roots)

    def adopt(self, line: Line, span: _Span) -> None:
        self.values[line.key] = span
        symbol = line.key[2]
        if line.exact.origin is not None:  # a textbook's w5⁺: later steps name it w5
            if line.exact.origin.symbol.startswith("new "):
                self.parameters[line.exact.operands[0][0]] = span
        elif symbol.startswith("new "):
            self.parameters[symbol[4:]] = span


def _close(value: float, target: float, tolerance: float) -> bool:
    if not (math.isfinite(value) and math.isfinite(target)):
        return False
    return abs(value - target) <= tolerance * (1 + 1e-9) + _TINY * max(1.0, abs(target))


def mark(
    solution: Solution, answers: Sequence[Answer], rounding: str | None = None
) -> tuple[Verdict, ...]:
    """Each answer's verdict, in the order given. Answers must name quantities of the
    solution (`validate` says which do not). A later answer may use earlier ones; the quiz
    marks a value typed now as this marks it with the values typed before it (`Marker`)."""
    marker = Marker(solution, rounding)
    return marker.extend(answers)


class Marker:
    """Answers marked as they come, each as `mark` marks it with the answers before it.

    The marking worlds walk the solution's lines once, in order, and keep their state between
    answers: an answer further down the solution is marked by walking on from where the last
    one stopped, so each costs the lines between them, not the whole step again. Should an
    answer come out of the solution's order, answer a question twice, or answer a quantity
    the lines walked already looked ahead to (a named mistake's updated weight, …), the walk
    starts again from the first line with every answer so far — what `mark` does."""

    def __init__(self, solution: Solution, rounding: str | None = None) -> None:
        from .render.numbers import NumberFormat

        if rounding and rounding not in solution.modes:
            raise ValueError(f"the solution was not traced with {rounding} carried")
        self.solution = solution
        self.rounding = rounding
        self.fmt = NumberFormat(6)
        self.modes = solution.modes if rounding is None else (None, rounding)
        self.answers: dict[Key, Answer] = {}  # every answer so far, by key: the worlds' pending
        self.end = 0  # the lines up to the last answered one: what is walked
        self._restart()

    def _restart(self) -> None:
        self.worlds = [
            _World(self.solution, mode, written, self.rounding)
            for mode in self.modes
            for written in (True, False)
        ]
        for world in self.worlds:
            world.pending = self.answers
        self.walked = 0  # the lines walked, solution.lines[:walked]
        self.found: dict[Key, Verdict] = {}

    def add(self, answer: Answer) -> Verdict:
        """The verdict of one more answer, given the ones added before it; kept for the
        answers after it."""
        return self.extend((answer,))[-1]

    def judge(self, answer: Answer) -> Verdict:
        """The verdict `add` would give this answer, without keeping it (the quiz's tries: a
        wrong one may be typed again)."""
        answer = self._resolved((answer,))[0]
        key, at = answer.key, self.solution.index[answer.key]
        if key in self.answers or at < self.walked or self._looked_at(key):
            return mark(self.solution, [*self.answers.values(), answer], self.rounding)[-1]
        self._walk(at)
        line = self.solution.lines[at]
        self.answers[key] = answer
        try:
            return self._verdict(line, answer, _Spans(self.worlds, line), keep=False)
        finally:
            del self.answers[key]

    def extend(self, answers: Sequence[Answer]) -> tuple[Verdict, ...]:
        """The verdicts of more answers, in the order given (as `mark` gives them)."""
        answers = self._resolved(answers)
        restart = False
        for answer in answers:
            key = answer.key
            restart = restart or (
                key in self.answers
                or self.solution.index[key] < self.walked
                or self._looked_at(key)
            )
            self.answers[key] = answer
            self.end = max(self.end, self.solution.index[key] + 1)
        if restart:
            self._restart()
        self._walk(self.end)
        return tuple(self.found[answer.key] for answer in answers)

    def _resolved(self, answers: Sequence[Answer]) -> list[Answer]:
        solution = self.solution
        missing = [a for a in answers if solution.line(a.key) is None]
        if missing:
            raise ValueError(f"not in this solution: {missing[0].name}")
        return [replace(a, sample=solution.resolve(a.key)[1]) for a in answers]

    def _watch(self, on: bool) -> None:
        for world in self.worlds:
            world.watching = on

    def _looked_at(self, key: Key) -> bool:
        """Did a line walked already use this quantity before its answer came?"""
        return any(key in world.ahead for world in self.worlds)

    def _walk(self, end: int) -> None:
        """Mark the lines up to `end`: the answered ones judged, every one carried on."""
        for line in self.solution.lines[self.walked : end]:
            answer = self.answers.get(line.key)
            spans = _Spans(self.worlds, line)
            if answer is None:
                for world in self.worlds:
                    world.adopt(line, world.carried(line, spans[id(world)]))
                continue
            verdict = self.found[line.key] = self._verdict(line, answer, spans, keep=True)
            mine = frozenset({line.key})
            for world in self.worlds:
                if verdict.kind == "right" and world.written:
                    # used as written: where it differs from the right value, what follows is
                    # theirs
                    same = abs(answer.value - line.exact.value) <= _TINY * max(
                        1.0, abs(answer.value)
                    )
                    world.adopt(line, _Span(answer.value, 0.0, _NO_ROOTS if same else mine))
                elif verdict.kind in ("right", "coarse") and not world.written:
                    world.adopt(line, _Span(line.rows[world.mode].value))
                else:  # follows, wrong, or coarse as written: what follows from it follows
                    # from this value of theirs (the report names the nearest of their values)
                    world.adopt(line, _Span(answer.value, world.radius(answer), mine))
        self.walked = max(self.walked, end)

    def _verdict(self, line: Line, answer: Answer, spans: _Spans, keep: bool) -> Verdict:
        """One answer's verdict, the lines before it walked. `keep`: what it is carried on
        (else a try: what it looks ahead to is not noted)."""
        rounding, worlds = self.rounding, self.worlds
        self._watch(keep)
        verdict = _judge(line, answer, rounding, worlds, spans, self.fmt)
        if verdict.kind == "wrong":
            # a diagnosis changes what is carried on only when it can make the value coarse
            # (below): else what it looks ahead to cannot change a later verdict
            self._watch(keep and bool(rounding))
            verdict = _diagnose(verdict, line, answer, rounding, worlds, self.solution)
        self._watch(True)
        if verdict.kind == "wrong" and rounding and not verdict.mistakes:
            # declared: −0.008 is −0.00800 — unless no mistake explains it, a right value
            # written too coarsely
            verdict = _coarse(line, answer, _recast(verdict)) or verdict
        return verdict


class _Spans(dict):  # type: ignore[type-arg]
    """Each world's span of one line (by the world's id), computed when first asked for:
    an answer right as the solution has it needs none, and most answers are right."""

    def __init__(self, worlds: Sequence[_World], line: Line) -> None:
        super().__init__()
        self.worlds = {id(world): world for world in worlds}
        self.line = line

    def __missing__(self, key: int) -> _Span | None:
        span = self[key] = self.worlds[key].compute(self.line, self.line.template)
        return span


def _judge(
    line: Line,
    answer: Answer,
    rounding: str | None,
    worlds: list[_World],
    spans: Mapping[int, _Span | None],
    fmt: Callable[[float], str],
) -> Verdict:
    exact = line.exact.value
    v = answer.value
    working = _working(line.exact, fmt)

    def verdict(kind: str, words: str, carried: str | None = None) -> Verdict:
        return Verdict(line.key, kind, words, exact, answer, working, carried=carried)

    if abs(v - exact) <= 1e-9 * max(1.0, abs(exact)):
        return verdict("right", "right")
    for mode in line.rows:
        if mode is not None and rounding and mode != rounding:
            continue
        half = half_unit(answer, mode, rounding)
        carried = rounding or mode
        if half is not None and _within(answer, line.rows[mode].value, half, 0.0, carried):
            if mode is None or (rounding and _within(answer, exact, half, 0.0, carried)):
                return verdict("right", "right")
            return verdict("right", f"right for {mode} carried", mode)
    coarse = None if rounding else _coarse(line, answer, verdict)
    if coarse is not None:  # one figure, right at it: too coarse to tell what it follows from
        return coarse
    follows: _Span | None = None
    for world in worlds:
        span = spans[id(world)]
        half = world.half(answer)
        if span is None or half is None:
            continue
        if _within(answer, span.value, half, span.radius, rounding or world.mode):
            if not span.roots:
                return verdict("right", "right", world.mode)
            if follows is None or len(span.roots) < len(follows.roots):
                follows = span
    if follows is not None:
        yours = ", ".join(f"your {notation.answer_name(k[2])}" for k in sorted(follows.roots))
        return verdict("follows", f"follows from {yours}")
    return verdict("wrong", "wrong")


def _recast(wrong: Verdict) -> Callable[..., Verdict]:
    """Makes another verdict of the same answer: (kind, words, carried) → Verdict."""

    def again(kind: str, words: str, carried: str | None = None) -> Verdict:
        return replace(wrong, kind=kind, verdict=words, carried=carried, diagnosis=())

    return again


def _coarse(line: Line, answer: Answer, verdict: Callable[..., Verdict]) -> Verdict | None:
    """A right value typed with one significant figure: too coarse to tell, its own verdict."""
    if answer.figures != 1:
        return None
    for mode in line.rows:
        if _close(answer.value, line.rows[mode].value, 0.5 * 10.0**-answer.places):
            better = _two_figures(line.rows[mode].value if mode else line.exact.value)
            words = f"right, but write at least two significant figures: {better}"
            return verdict("coarse", words, mode)
    return None


def _two_figures(value: float) -> str:
    """The value to two significant figures, written out: −0.0082, 0.0000059, −0.00090."""
    if value == 0 or not math.isfinite(value):
        return "0"
    decimals = max(0, 1 - math.floor(math.log10(abs(float(f"{value:.2g}")))))
    return f"{value:.{decimals}f}".replace("-", "−")


def _diagnose(
    verdict: Verdict,
    line: Line,
    answer: Answer,
    rounding: str | None,
    worlds: list[_World],
    solution: Solution,
) -> Verdict:
    """The formula with the right numbers; with the student's where they differ; and each
    named mistake that, made with their operands and rounding, gives their value."""
    lines = [verdict.working]
    yours = _yours(line, worlds[0], answer, rounding)
    if yours:
        lines.append(yours)
    scores: dict[str, float] = {}
    values: dict[str, float] = {}
    for mistake in mistakes(solution.spec):
        row = line.exact.origin or line.exact  # the mistakes read the lecture's formulas
        template = mistake.rewrite(row, solution.spec)
        if template is None:
            continue
        if line.exact.origin is not None:  # …evaluated with the book's (signed) numbers
            template = solution.translation.signed_template(template, row.symbol)
        for world in worlds:
            half = world.half(answer)
            if half is None:
                continue
            span = world.compute(line, template)
            if span is None:
                continue
            tolerance = half + span.radius
            if _within(answer, span.value, half, span.radius, rounding or world.mode):
                score = abs(answer.value - span.value) / max(tolerance, _TINY)
                if score < scores.get(mistake.name, math.inf):
                    scores[mistake.name] = score
                    values[mistake.name] = span.value
    named = tuple(sorted(scores, key=scores.__getitem__))
    if line.exact.origin is not None:  # the lecture's mistakes in the book's letters
        book = solution.translation
        own = book.book.sign_mistake
        renamed = {n: n if n == own else book.rule(n, True, flip=False) for n in named}
        values = {renamed[n]: v for n, v in values.items() if n in renamed}
        named = tuple(renamed[n] for n in named)
    for name in named:
        head, _, reason = name.partition(": ")  # "δ with the sign of …: your notes use …"
        line = f"your value is what {head} gives: {_as_written(values[name], answer, rounding)}"
        lines.append(f"{line} ({reason})" if reason else line)
    if not named:
        lines.append("none of the known mistakes gives your value")
    return Verdict(
        verdict.key,
        "wrong",
        "wrong",
        verdict.expected,
        answer,
        verdict.working,
        named,
        tuple(lines),
    )


@lru_cache(maxsize=16384)  # a class marked at once shows the same rows' working many times
def _working(row: Equation, fmt: Callable[[float], str]) -> str:
    """ "δ5 = o5(1 − o5)(t5 − o5) = 0.690283·(1 − 0.690283)·… = −0.040681"."""
    from .render.numbers import NumberFormat, substituted, symbolic

    number = fmt if isinstance(fmt, NumberFormat) else NumberFormat(6)
    numbers = substituted(row.working or row.formula, row.values(), number)
    return f"{row.symbol} = {symbolic(row.formula)} = {numbers} = {number(row.value)}"


def _yours(line: Line, world: _World, answer: Answer, rounding: str | None) -> str:
    """The formula with the student's own values, where they answered its operands."""
    from .render.numbers import NumberFormat, substituted, symbolic

    row = line.exact
    names = list(dict.fromkeys(slots(line.template)))
    values = {name: world.operand(line, name).value for name in names}
    own = {
        name
        for name in names
        if (line.key[0], line.key[1], name) in world.pending
        and values[name] != row.values().get(name)
    }
    if not own:
        return ""
    result = evaluate(line.template, values)
    if result is None:
        return ""
    written = {
        name: world.pending[(line.key[0], line.key[1], name)].written.replace("-", "−")
        for name in own
    }
    number = NumberFormat(6)
    text = line.template
    for name in own:
        shown = written[name]
        text = text.replace("{" + name + "}", f"({shown})" if shown.startswith("−") else shown)
    numbers = substituted(text, values, number)
    shown = _as_written(result, answer, rounding)
    if shown == _as_written(row.value, answer, rounding):
        return ""  # the same at the precision written: nothing to show
    return f"with your values: {symbolic(row.formula)} = {numbers} = {shown}"


def _as_written(value: float, answer: Answer, rounding: str | None) -> str:
    """A value at the precision the student wrote (or declared)."""
    from .render.numbers import NumberFormat

    if rounding:
        from .rounding import round_value

        return NumberFormat(6, rounding)(round_value(value, rounding))
    return f"{value:.{answer.places}f}".replace("-", "−")


# ---------------------------------------------------------------- a marked answers file


@dataclass(frozen=True)
class Report:
    """A marked answers file: a verdict per answer and per unanswered question."""

    title: str
    verdicts: tuple[Verdict, ...]  # in the solution's order; unanswered questions included
    questions: int | None  # N when marked against an exercise (answers beyond its questions,
    # ∂ factors, count in); None: only the answers given are marked
    rounding: str | None = None
    source: str = ""

    def count(self, *kinds: str) -> int:
        return sum(v.kind in kinds for v in self.verdicts)

    @property
    def credited(self) -> int:
        return self.count(*CREDITED)

    @property
    def total(self) -> int:
        return len(self.verdicts)

    @property
    def answered(self) -> tuple[Verdict, ...]:
        return tuple(v for v in self.verdicts if v.kind != "unanswered")

    @property
    def unanswered(self) -> tuple[Verdict, ...]:
        return tuple(v for v in self.verdicts if v.kind == "unanswered")

    @property
    def all_right(self) -> bool:
        return all(v.ok for v in self.verdicts)

    def summary(self) -> str:
        """ "12 of 23 questions: 10 right, 1 follows …; 1 wrong; 10 unanswered"."""
        noun = "question" if self.questions is not None else "answer"
        head = f"{self.credited} of {_count(self.total, noun)}"
        parts = []
        for kind, words in (
            ("right", "right"),
            ("coarse", "right but too coarse"),
            ("follows", "following from your own values"),
            ("wrong", "wrong"),
            ("unanswered", "unanswered"),
        ):
            n = self.count(kind)
            if n and not (kind == "right" and n == self.total):
                parts.append(f"{n} {words}")
        return head + (" — " + ", ".join(parts) if parts else " right")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def resolve(sheet: AnswerSheet, solution: Solution) -> AnswerSheet:
    """The sheet with each answer's name read in the notation the solution is in: z^2_1,
    z2_1 and z²₁ all name Nielsen's z^2_1 (ConfigError for one quantity given twice)."""
    from . import notations

    book = solution.spec.notation
    if book == notations.DEFAULT:
        return sheet
    answers = []
    seen: dict[Key, Answer] = {}
    doc = sheet.document or Document(sheet.source, None)
    for given in sheet.answers:
        symbol = solution.named(given.name)
        answer = replace(given, symbol=symbol or UNRESOLVED + given.name)
        if symbol is not None:
            if answer.key in seen:
                first = yaml_place(seen[answer.key].where)
                raise doc.error(answer.where, f"the same quantity as {first}; give it once")
            seen[answer.key] = answer
        answers.append(answer)
    return replace(sheet, answers=tuple(answers))


def validate(sheet: AnswerSheet, solution: Solution) -> None:
    """Every answer names a sample, epoch and quantity this exercise has, or ConfigError
    with the answers file's line, the valid range and this network's names."""
    doc = sheet.document or Document(sheet.source, None)
    for answer in sheet.answers:
        if answer.sample > solution.samples:
            where = answer.where[:2] if answer.where[:1] == ("samples",) else answer.where
            raise doc.error(
                where,
                f"this exercise has {_count(solution.samples, 'sample')}; "
                + (
                    "answer sample 1 only (or leave `samples:` out)"
                    if solution.samples == 1
                    else f"give samples 1 to {solution.samples}"
                ),
            )
        if answer.symbol.startswith(UNRESOLVED) and solution.spec.notation == "lecture":
            raise doc.error(answer.where, NOT_A_QUANTITY)
        if solution.line(answer.key) is None:
            raise doc.error(answer.where, _not_here(answer, solution))


def _not_here(answer: Answer, solution: Solution) -> str:
    """What this network has instead of the answer's name: its names of the same kind."""

    def head(name: str) -> str:
        return re.sub(r"[\d_]+$", "", name)

    names = [notation.answer_name(line.key[2]) for line in solution.lines]
    names = [n for n in dict.fromkeys(names) if not n.startswith("∂")]
    same = [n for n in names if head(n) == head(notation.answer_name(answer.symbol))]
    shown = same or names
    listing = ", ".join(shown[:12]) + (", …" if len(shown) > 12 else "")
    shape = "-".join(map(str, solution.spec.layers))
    book = solution.spec.notation
    where = "" if book == "lecture" else f" in {book}'s notation"
    return f"this network ({shape}) has no {answer.name}{where}; it has {listing}"


def mark_sheet(
    sheet: AnswerSheet,
    spec: Spec,
    title: str | None = None,
    *,
    solution: Solution | None = None,
    questions: tuple[Key, ...] | None = None,
    notation_book: str | None = None,
) -> Report:
    """Mark an answers file against `spec`: its answers, and (against an exercise) every
    question of the epochs it answers, unanswered ones included. `solution`: `spec` already
    solved for this sheet's epochs and rounding (the gradebook solves each variant once);
    `questions`: only these are asked (a sheet written with `exercise --ask`), and answers
    to anything else are not marked."""
    epochs = max(answer.epoch for answer in sheet.answers)
    book = notation_book or sheet.notation
    if book is not None and book != spec.notation:
        spec = replace(spec, notation=book)
        if solution is not None and solution.spec.notation != book:
            solution = None
    if solution is None:
        solution = solve(spec, epochs, sheet.rounding, gradients=sheet.gradients)
    sheet = resolve(sheet, solution)
    validate(sheet, solution)
    marked = {v.key: v for v in mark(solution, sheet.answers, sheet.rounding)}
    asked = questions is not None or sheet.against_exercise
    if questions is not None:
        marked = {key: marked[key] for key in questions if key in marked}
    elif sheet.against_exercise:
        questions = solution.questions({answer.epoch for answer in sheet.answers})
    else:
        questions = ()
    keys = set(marked) | set(questions)
    ordered = sorted(keys, key=solution.index.__getitem__)
    verdicts = tuple(marked.get(key) or _unanswered(solution, key) for key in ordered)
    return Report(
        title or f"Check of {sheet.source} against {spec.name}",
        verdicts,
        len(verdicts) if asked else None,
        sheet.rounding,
        sheet.source,
    )


def _unanswered(solution: Solution, key: Key) -> Verdict:
    from .render.numbers import NumberFormat

    row = solution.line(key).exact  # type: ignore[union-attr]
    return Verdict(key, "unanswered", "unanswered", row.value, None, _working(row, NumberFormat(6)))


# ---------------------------------------------------------------- the report as data


def as_dict(report: Report) -> dict[str, Any]:
    """The report as the JSON document `check --format json` prints (backtrace-check v1)."""

    def entry(v: Verdict) -> dict[str, Any]:
        return {
            "name": v.name,
            "symbol": v.symbol,
            "epoch": v.epoch,
            "sample": v.sample,
            "yours": v.answer.value if v.answer else None,
            "written": v.answer.written if v.answer else None,
            "expected": v.expected,
            "kind": v.kind,
            "verdict": v.verdict,
            "ok": v.ok,
            "working": v.working,
            "mistakes": list(v.mistakes),
            "diagnosis": list(v.diagnosis) or None,
        }

    return {
        "format": "backtrace-check",
        "version": 1,
        "title": report.title,
        "rounding": report.rounding,
        "correct": report.credited,
        "total": report.total,
        "questions": report.questions,
        "summary": report.summary(),
        "counts": {kind: report.count(kind) for kind in KINDS},
        "answers": [entry(v) for v in report.answered],
        "unanswered": [
            {"name": v.name, "symbol": v.symbol, "epoch": v.epoch, "sample": v.sample}
            for v in report.unanswered
        ],
    }


class _CallableModule(types.ModuleType):
    """`backtrace_cli.check(answers, config)` is the Python API's call (`api.check`); the
    module of the same name holds the marking it runs."""

    def __call__(
        self,
        answers: Any,
        config: Any = None,
        *,
        rounding: str | None = None,
        notation: str | None = None,
    ) -> dict[str, Any]:
        from .api import check

        return check(answers, config, rounding=rounding, notation=notation)


sys.modules[__name__].__class__ = _CallableModule
