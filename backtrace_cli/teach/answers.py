"""The answers file: what a student wrote, read and checked before anything is marked.

`read` and `from_document` turn a file (or a mapping given to the API) into an `AnswerSheet` of
`Answer`s: each value as written (its figures and places say the precision it stands for), its
name read as the trace's symbol, its place in the file for messages. A class is marked only
against what the teacher gives (`TEACHERS_ONLY`).
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from .. import models, tracing
from ..core import numerals, safefile
from ..core.errors import ConfigError, cut, quote
from ..core.examples import example_names, names_a_file
from ..core.rounding import parse as parse_rounding
from ..core.yamlsource import Document, field_path, parse
from ..definitions import notation, notations
from ..graph import sheet as graph_sheet
from ..network import model_names
from ..sheet import PLACEHOLDER, Question
from ..solution import UNRESOLVED, Key

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
ANSWERS_FILE = "an answers file"  # what a message calls one ("is a folder, not …")
MAX_EPOCHS = 100  # check traces every epoch up to the last one answered, in full


@dataclass(frozen=True, slots=True)
class Reading:
    """How a model's answers file is read: the keys it may have, how its names become the
    trace's symbols, and what messages call it."""

    model: str  # what its exercise is, as messages say it: "network"
    keys: tuple[str, ...]
    symbol_of: Callable[[str], str | None]
    what: str  # "an answers file"
    example: str  # answers as a message shows them: "`answers: {o5: 0.69, delta5: -0.0407}`"
    no_such: Callable[[str, list[str]], str] | None = None  # "this graph has no …; it has …"
    # (name, the solution's symbols); None: the network's, in its notation (check._not_here)
    name_of: Callable[[str], str] = notation.answer_name  # a symbol as a file names it: δ5 →
    # delta5 (what `quiz -o` writes)
    question: Callable[[Question], Question] = lambda asked: asked  # a teacher's question,
    # read from its label with a network's names (`Question.parse`), as this model reads it
    typed: Callable[[str], str] = notation.ascii_name  # a symbol as any keyboard types it:
    # m̂_w36 → mhat_w36, ∂E/∂w36 → dE/dw36 (what suggestions and `check --names` say)
    meaning: Callable[[str], str | None] = notation.meaning  # a symbol in words, or None
    spelt: bool = False  # a book's names are also read as `symbol_of` reads them (a model's
    # sum_delta^3[0] is Σδ^3[0]); a network's lecture names in a book's file are not its


def _graph_question(asked: Question) -> Question:
    """A graph sheet's question: its label read as the graph's name (df/dx is ∂f/∂x), and
    named as a report names its verdict (∂f/∂x)."""
    symbol = graph_sheet.symbol_of(asked.name)
    return Question(1, notation.answer_name(symbol), symbol)


NETWORK = Reading(
    "network", KEYS, notation.symbol_of, ANSWERS_FILE, "`answers: {o5: 0.69, delta5: -0.0407}`"
)
GRAPH = Reading(  # a computational graph's names are its own (q, df/dx, new w): no book's
    "graph",
    ("exercise", "config", "variant", "student", "round", "answers"),
    graph_sheet.symbol_of,
    "a graph's answers file",
    "`answers: {q: 3, df/dx: -4}`",
    graph_sheet.no_such,
    graph_sheet.ascii_name,
    _graph_question,
    notation.ascii_spelling,
    graph_sheet.meaning,
)


def _model_no_such(name: str, symbols: list[str]) -> str:
    names = [model_names.typed(s) for s in dict.fromkeys(symbols)]
    return f"this model has no {name}; it has {', '.join(names[:14])}" + (
        ", …" if len(names) > 14 else ""
    )


MODEL = Reading(  # a graph's keys, a batch's later samples (a network's `samples:`), a book,
    # later epochs
    "model",
    (*GRAPH.keys, "notation", "samples", "epochs"),
    model_names.symbol_of,
    "a model's answers file",
    '`answers: {"y0[0,1]": 0.35, "delta1[0,3]": -0.048}`',  # quoted: [ ] are YAML's in { }
    _model_no_such,
    model_names.typed,
    lambda asked: Question(asked.sample, asked.name, model_names.symbol_of(asked.name)),
    model_names.typed,
    lambda symbol: None,
    spelt=True,
)
READINGS = {"network": NETWORK, "graph": GRAPH, "model": MODEL}  # by the model's `answers`


def reading(model: Any) -> Reading:
    """How answers to this model (a network's or a graph's spec) are read."""
    return READINGS[tracing.model(model).answers]


def refuse_gradients(model: Any, gradients: bool | None) -> None:
    """ConfigError for `--gradients` on a model whose answers have no `gradients:` to say it
    (a computational graph: its local gradients are the factors its questions show)."""
    if gradients and "gradients" not in reading(model).keys:
        raise ConfigError(
            "--gradients",
            None,
            None,
            "a computational graph's questions are each node's value and gradient ∂f/∂node; "
            "its local gradients (∂q/∂x) are the factors a question shows, asked by name "
            "(--ask dq/dx): leave --gradients out",
        )


def reading_of(doc: Document, base_dir: str = ".") -> Reading:
    """How this answers document is read, by the exercise it names: a graph's (its `config:`
    a graph, or its `exercise:` a graph's config or name) or, failing that, a network's."""
    data = doc.value
    if not isinstance(data, dict):
        return NETWORK
    if isinstance(data.get("config"), dict):
        if "model" in data["config"]:
            return reading(models.from_dict(data["config"]))  # a model's layers tell
        return GRAPH if models.is_graph(data["config"]) else NETWORK
    exercise = data.get("exercise")
    if not isinstance(exercise, str):
        return NETWORK
    candidate = os.path.join(base_dir, exercise)
    try:
        return reading(models.load(candidate if os.path.isfile(candidate) else exercise))
    except ConfigError:
        return NETWORK


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
    def shown(self) -> str:
        """As written, as a report echoes it: at most 60 characters ("1071508…")."""
        return cut(self.written)

    @property
    def blank(self) -> bool:
        """Given no value: a question left out (`e5:`, or the sheet's placeholder `…`)."""
        return math.isnan(self.value)

    @property
    def whole(self) -> bool:
        """Written as a whole number ("4", "−12"): exact, unless `round:` says otherwise."""
        cleaned = numerals.plain(self.written)
        return cleaned is not None and not any(c in cleaned for c in ".eE")

    @property
    def places(self) -> int:
        """Decimal places written: "−0.0407" → 4."""
        number = _decimal(self.written)
        exponent = number.as_tuple().exponent if number is not None else -12
        return max(0, -int(exponent)) if isinstance(exponent, int) else 12


def _decimal(text: str) -> Decimal | None:
    """A number as written, if float64 can hold it (the text is checked before Decimal
    sees it: formatting 0.49e-999999999999 would take gigabytes). Marking asks it of each
    answer many times (its places, its figures, in each rounding): a short one is read once."""
    if len(text) <= SHORT:
        return _short_decimal(text)
    return _read_decimal(text)


SHORT = 40  # characters: a number as students write it; a longer one is never kept


@lru_cache(maxsize=4096)
def _short_decimal(text: str) -> Decimal | None:
    return _read_decimal(text)


def _read_decimal(text: str) -> Decimal | None:
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
    blanks: tuple[Answer, ...] = ()  # names given no value (`e5:`, the sheet's `…`): unanswered

    @property
    def epochs(self) -> int:
        """The last epoch the file answers (a blank one too)."""
        return max((a.epoch for a in (*self.answers, *self.blanks)), default=1)


def read(
    path: str,
    base_dir: str | None = None,
    named: bool = True,
    root: str | None = None,
    teacher: bool = False,
    reading: Reading = NETWORK,
) -> AnswerSheet:
    """Parse and validate an answers file (errors as ConfigError, like configs). `named`:
    the file must name its exercise (False: the caller gives the config); `root`: the
    folder the file was found in, which no link in it may lead out of; `teacher`: a class
    is marked, where only a built-in example's name may be followed; `reading`: the model's
    keys and names (a graph's: `GRAPH`)."""
    base = base_dir if base_dir is not None else os.path.dirname(os.path.abspath(path))
    return from_document(document(path, root), base, named, teacher, reading)


def document(path: str, root: str | None = None) -> Document:
    """An answers file parsed, not yet read (ConfigError when it cannot be parsed)."""
    return parse(safefile.read_text(path, root, ANSWERS_FILE), path, ANSWERS_FILE)


def identity(doc: Document) -> tuple[str | None, str | None]:
    """Who wrote a parsed file and which variant it answers, as far as it says (a file
    that is then not read still keeps its row's name and variant)."""
    data = doc.value if isinstance(doc.value, dict) else {}

    def text(key: str) -> str | None:
        value = data.get(key)
        return str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) else None

    return text("student"), text("variant")


TEACHERS_ONLY = (
    "a class is marked against what the teacher gives (--exercises DIR, --exercise CONFIG)"
)


def from_document(
    doc: Document,
    base_dir: str = ".",
    named: bool = True,
    teacher: bool = False,
    reading: Reading = NETWORK,
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
    if data and not any(key in reading.keys for key in data):  # never echo another file's lines
        raise doc.error(
            (), f"none of the keys is one {reading.what} has ({', '.join(reading.keys)})"
        )
    _known_keys(doc, data, reading)
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
        _teachers_only(doc, data, reading)
    against = "config" not in data
    if "config" in data:
        exercise = data["config"]
        if isinstance(exercise, dict):
            # the config inline: validated with this file's lines (fields as in a config file)
            inline = Document(path, exercise)
            for where, line in doc.lines.items():
                if where[:1] == ("config",):
                    inline.lines[where[1:]] = line
                    inline.columns[where[1:]] = doc.columns.get(where, 1)
                    if where in doc.texts:
                        inline.texts[where[1:]] = doc.texts[where]
            exercise = models.from_document(inline)
        else:  # a name or a path, as a quiz session writes it (`config: lecture`)
            exercise = _exercise_name(doc, exercise, "config")
    elif "exercise" in data:
        exercise = _exercise_name(doc, data["exercise"], "exercise")
    if isinstance(exercise, str) and not os.path.isabs(exercise) and not teacher:
        candidate = os.path.join(base_dir, exercise)
        if os.path.isfile(candidate):
            exercise = candidate
    rounding = read_rounding(doc, data)
    book = _text(doc, data, "notation")
    if book is not None and book not in notations.NAMES:
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
    one = re.match(r"`answers: \{(.+?: [^,}]+)", reading.example)  # its first answer
    example = f"`{one.group(1) if one else 'o5: 0.69'}`"
    if "answers" in data:
        answers += answers_in(doc, ("answers",), data["answers"], 1, 1, reading.symbol_of, example)
    later = "`2: {o5: 0.61}`" if reading is NETWORK else f"`2: {{{example.strip('`')}}}`"
    for n, value in _numbered(doc, data, "samples", "sample", later):
        answers += answers_in(doc, ("samples", n), value, 1, int(n), reading.symbol_of, example)
    epoch = "`2: {w45: 0.85}`" if reading is NETWORK else later
    for n, value in _numbered(doc, data, "epochs", "epoch", epoch):
        if int(n) > MAX_EPOCHS:
            raise doc.error(
                ("epochs", n), f"check traces epochs 1 to {MAX_EPOCHS}; {n} is past that"
            )
        answers += answers_in(doc, ("epochs", n), value, int(n), 1, reading.symbol_of, example)
    blanks = [answer for answer in answers if answer.blank]
    answers = [answer for answer in answers if not answer.blank]
    if not answers and not blanks:
        raise doc.missing("answers", f"missing; give your values, e.g. {reading.example}")
    seen: dict[Key, Answer] = {}
    for answer in answers:
        if answer.key in seen:
            first = yaml_place(seen[answer.key].where)
            raise doc.error(answer.where, f"the same quantity as {first}; give it once")
        seen[answer.key] = answer
    blanks = [blank for blank in blanks if blank.key not in seen]
    return AnswerSheet(
        path,
        exercise,
        rounding,
        tuple(answers),
        doc,
        against,
        variant,
        student,
        book,
        gradients,
        tuple(dict((b.key, b) for b in blanks).values()),
    )


def read_as(sheet: AnswerSheet, reading: Reading) -> AnswerSheet:
    """A sheet read as one model's with its names read as another's: for a file whose
    exercise turned out to be a graph (`config: circuit`), df/dx → ∂f/∂x, w_new → new w."""
    if sheet.document is not None and isinstance(sheet.document.value, dict):
        _known_keys(sheet.document, sheet.document.value, reading)  # a graph's has no notation:

    def read(given: tuple[Answer, ...]) -> tuple[Answer, ...]:
        return tuple(replace(a, symbol=reading.symbol_of(a.name) or a.symbol) for a in given)

    return replace(sheet, answers=read(sheet.answers), blanks=read(sheet.blanks))


def _known_keys(doc: Document, data: dict[str, Any], reading: Reading) -> None:
    for key in data:
        if key not in reading.keys:
            raise doc.error((key,), f"unknown key; {reading.what} has {', '.join(reading.keys)}")


def _teachers_only(doc: Document, data: dict[str, Any], reading: Reading) -> None:
    """Refuse, before anything is opened or validated, an exercise the teacher did not give:
    the words never depend on whether a named path exists (no oracle for the teacher's files)."""
    if "config" in data:
        raise doc.error(
            ("config",), f"a {reading.model} written in the file is not marked: {TEACHERS_ONLY}"
        )
    name = data.get("exercise")
    if name not in example_names():
        raise doc.error(
            ("exercise",),
            f"only a built-in example's name is followed ({', '.join(example_names())}); "
            f"{TEACHERS_ONLY}",
        )


def exercise_of(sheet: AnswerSheet, root: str | None = None) -> Any:
    """The model a sheet's `exercise:` names (or its `config:`, already read). `root`: in a
    class, the folder the file was found in; a path the file names is followed only inside
    it, so no student's file reads another file of the marker's machine. A name that is
    neither a file nor a built-in example is the answers file's error, at its line."""
    name = sheet.exercise
    if not isinstance(name, str):
        return tracing.load(name)
    doc = sheet.document or Document(sheet.source, {})
    if names_a_file(name) and root is not None and not safefile.inside(name, root):
        written = doc.value.get("exercise", name) if isinstance(doc.value, dict) else name
        raise doc.error(
            ("exercise",),
            f"{quote(cut(str(written)))} is not in the folder {root}; in a class a file's "
            "exercise is a built-in example or a config in that folder (check the file on "
            "its own to follow another path)",
        )
    try:
        return tracing.load(name)
    except ConfigError as err:
        if err.file == name and err.line is None:  # the name itself: no such file or example
            raise doc.error(("exercise",), f"{quote(cut(name))}: {err.problem}") from None
        raise


def _exercise_name(doc: Document, value: Any, key: str) -> str:
    """`exercise:` (or `config:`) naming a built-in example or a config's path; only
    `config:` may write the config out, as a mapping."""
    if isinstance(value, dict):
        raise doc.error(
            (key,),
            "names a built-in example or a config's path (`exercise: lecture`); a config "
            "written in the file goes under `config:` instead",
        )
    if isinstance(value, list) or value is None or value == "":
        also = ", or the config written out (`config: {layers: [2, 2, 1], …}`)"
        raise doc.error(
            (key,),
            f"expected a built-in example's name or a config's path, e.g. `{key}: lecture`"
            + (also if key == "config" else ""),
        )
    return str(value)


def _text(doc: Document, data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, (dict, list)):
        raise doc.error((key,), f"expected a short text, e.g. `{key}: …`")
    return str(value)


def yaml_place(where: tuple[Any, ...]) -> str:
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
            article = "an" if noun[0] in "aeiou" else "a"
            raise doc.error((key, n), f"not {article} {noun} number (1, 2, …)")
    return list(value.items())


def read_rounding(doc: Document, data: dict[str, Any]) -> str | None:
    """The answers file's `round:` (3sf, 4dp, …), or None."""
    rounding = data.get("round")
    if rounding is None:
        return None
    parsed = parse_rounding(str(rounding))
    if parsed is None:
        raise doc.error(("round",), f"{quote(rounding)} is not a rounding; use e.g. 3sf or 4dp")
    return f"{parsed[0]}{parsed[1]}"


# what a sheet writes where a value goes (render.sheets.hand_in), and its ASCII spelling
PLACEHOLDERS = (PLACEHOLDER, "...", "")


def is_blank(value: Any) -> bool:
    """A value left out: nothing (`e5:`), or the sheet's placeholder left in (`e5: …`)."""
    return value is None or (isinstance(value, str) and value.strip() in PLACEHOLDERS)


def answers_in(
    doc: Document,
    path: tuple,
    value: Any,
    epoch: int,
    sample: int,
    symbol_of: Callable[[str], str | None] = notation.symbol_of,
    example: str = "`o5: 0.69`",
) -> list[Answer]:
    """The values of one mapping of an answers file; `symbol_of` reads their names (a
    computational graph's are its own: `GRAPH`), `example` shows one in a message."""
    if not isinstance(value, dict):
        raise doc.error(path, f"expected a mapping of quantities to your values: {example}")
    out = []
    for name, v in value.items():
        where = (*path, name)
        symbol = symbol_of(str(name))
        if symbol is None:  # perhaps a textbook's name: resolved once the notation is known
            symbol = UNRESOLVED + str(name)
        if is_blank(v):  # unanswered: the question is counted as left out, never an error
            out.append(Answer(str(name), symbol, math.nan, "", epoch, sample, where))
            continue
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
