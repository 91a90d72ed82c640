"""A class marked in one command: many answers files, each against its variant, one spreadsheet.

Each file is marked exactly as `check` marks one file (`check.mark_sheet`), against the config
of the variant it names — looked up by id in the teacher's folder, never by a path from the
student's file — or against the one config given. Each variant is solved once per rounding
and reused for every file that answers it. A file that cannot be read becomes a row with its
error; it never stops the batch.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from .. import models, tracing
from ..core.errors import ConfigError, cut, quote, visible
from ..sheet import Question, variant_of
from . import check, homework, points

VERDICT_WORDS = {"right": "right", "coarse": "right", "follows": "follows", "wrong": "wrong"}
COLUMNS = ("file", "student", "variant", "mark", "total", "first_wrong", "mistake")
LAST = ("error", "note")  # after the questions: why a file was not read; what was not marked


@dataclass(frozen=True, slots=True)
class Row:
    """One answers file in the gradebook."""

    file: str  # as given, or as found in a folder given
    student: str  # the file's `student:`, else its name without .yaml
    variant: str  # the file's `variant:` ("" when it names none)
    report: Any = None  # check.Report; None when the file could not be read
    questions: tuple[Question, ...] = ()  # the columns this file is marked on
    error: str = ""  # why the file could not be read
    weight: Callable[..., float] = points.one  # what each question is worth

    @property
    def score(self) -> tuple[float, float] | None:
        """(points earned, points possible); None when the file could not be read."""
        return None if self.report is None else points.score(self.report, self.weight)

    @property
    def cells(self) -> dict[str, str]:
        """The question columns: right / follows / wrong / unanswered."""
        if self.report is None:
            return {}
        # a question's verdict by its key (a model's dE/dw0[0,1] is marked as ∂E/∂w0[0,1]),
        # else by its column's label
        by_key = {v.key: v.kind for v in self.report.verdicts}
        by_label = {label(v): v.kind for v in self.report.verdicts}
        return {
            q.label: VERDICT_WORDS.get(by_key.get(q.key) or by_label.get(q.label, ""), "unanswered")
            for q in self.questions
        }

    @property
    def first_wrong(self) -> Any:
        if self.report is None:
            return None
        return next((v for v in self.report.verdicts if v.kind == "wrong"), None)

    @property
    def status(self) -> int:
        """0 all right, 1 any wrong or unanswered, 2 unreadable."""
        if self.report is None:
            return 2
        return 0 if self.report.all_right else 1


def label(verdict: Any) -> str:
    """A verdict's column: "delta5", "s2.o5"; a later epoch's (never a question) "e2.w45"."""
    column = Question(verdict.sample, verdict.name, verdict.symbol).label
    return column if verdict.epoch == 1 else f"e{verdict.epoch}.{column}"


def expand(paths: Iterable[str]) -> list[tuple[str, str]]:
    """Each file with the folder no link of it may lead out of: the folder it was found in,
    or for a file given as it is (a shell's `class/*.yaml`) its own folder. A folder stands
    for its .yaml and .yml files, in name order, whatever they turn out to be — a link,
    a FIFO or a folder among them is marked as an unreadable file, never skipped."""
    out: list[tuple[str, str]] = []
    for path in paths:
        if os.path.isdir(path):
            try:
                names = sorted(n for n in os.listdir(path) if n.endswith((".yaml", ".yml")))
            except OSError as err:
                raise ConfigError(path, None, None, f"cannot be read: {err.strerror}") from None
            # a hidden file is an editor's or a system's (macOS's ._a.yaml), not a student's
            names = [n for n in names if not n.startswith(".")]
            if not names:
                raise ConfigError(
                    path,
                    None,
                    None,
                    f"no answers files in {path} (a folder stands for its .yaml and .yml files)",
                )
            out += [(os.path.join(path, n), path) for n in names]
        else:
            out.append((path, os.path.dirname(os.path.abspath(path))))
    return out


@dataclass
class Marker:
    """Marks answers files against a teacher's set (`folder`), one config (`config`), or —
    with neither — each against the exercise it names, as `check FILE` does."""

    folder: homework.Set | None = None
    config: Any = None  # a loaded Spec
    given: str = ""  # --exercise CONFIG, as given: what a note names
    notation: str | None = None  # --notation: the textbook every file's names are read in
    solved: dict[tuple[str, int, str | None, str, bool | None], Any] = field(default_factory=dict)
    specs: dict[str, Any] = field(default_factory=dict)  # own exercises, by name or path
    teacher: bool = False  # a gradebook: a file's `exercise:` may be a built-in name only
    points: points.Points = points.EVERY  # --points: what each question is worth
    weighed: dict[Any, Callable[..., float]] = field(default_factory=dict)  # by solution

    def mark(self, path: str, root: str | None = None) -> Row:
        """`path`'s row; `root`: the folder it was found in, which no link may lead out of."""
        name = os.path.splitext(os.path.basename(path))[0]
        try:
            # with a folder or a config, the file's own `exercise:` is never followed
            named = self.folder is None and self.config is None
            # a class: nothing the file names or writes inline is followed or built
            teacher = self.teacher or not named
            how = check.NETWORK if self.config is None else check.reading(self.config)
            doc = check.document(path, root)
        except ConfigError as err:
            return Row(path, name, "", error=str(err))
        student, variant = check.identity(doc)  # kept in the row even if the file is not read
        student, variant = student or name, variant or ""
        try:
            base = os.path.dirname(os.path.abspath(path))
            sheet = check.from_document(doc, base, named, teacher, how)
            spec, questions, ident = self._exercise(sheet, root)
            mine = check.reading(spec)
            if mine is not how:  # a built-in graph's name where a network's goes: its names
                sheet = check.read_as(sheet, mine)  # read as the graph's (df/dx is ∂f/∂x)
            if questions is not None:  # the sheet's labels, as this model reads them
                questions = tuple(mine.question(q) for q in questions)
            # the book the file's names are read in: in a set, a file's own `notation:` (its
            # sheet's book otherwise); else --notation first. None: the exercise's own
            if self.folder is not None:
                book = sheet.notation or self.notation
            else:
                book = self.notation or sheet.notation
            tracing.model(spec).refuse_notation(book)
            asked = spec  # a set's variant, in the book its sheet was drawn in
            if book is not None and book != spec.notation:
                spec = replace(spec, notation=book)
            epochs = sheet.epochs
            # each variant traced once: the solution without a declared rounding carries
            # every common one, so it serves a file that declares one of them too
            rounding = None if sheet.rounding in check.ROUNDINGS else sheet.rounding
            key = (ident, epochs, rounding, book, sheet.gradients)
            solution = self._solved(key, sheet, spec)
            if questions is not None and asked is not spec:  # a sheet in another book
                drawn_key = (ident, epochs, rounding, asked.notation, sheet.gradients)
                drawn = self._solved(drawn_key, sheet, asked)
                questions = _by_quantity(_in_notation(questions, drawn), drawn, solution)
            elif questions is not None and solution.notation != "lecture":
                questions = _in_notation(questions, solution)
            report = check.mark_sheet(
                sheet,
                spec,
                solution=solution,
                questions=None if questions is None else tuple(q.key for q in questions),
            )
        except ConfigError as err:
            return Row(path, student, variant, error=str(err))
        if self.config is not None and sheet.variant:
            report = replace(report, notes=(*report.notes, *self._other_variant(sheet)))
        if questions is None:
            questions = _columns(report)
        weight = self.weighed.get(key) if ident is not None else None
        if weight is None:  # a PointsError is the teacher's: it stops the run, unlike a file's
            weight = self.points.weights(spec, solution)
            if ident is not None:
                self.weighed[key] = weight
        return Row(path, student, variant, report, questions, weight=weight)

    def _solved(self, key: tuple[Any, ...], sheet: Any, spec: Any) -> Any:
        """`spec` solved for `sheet` (its epochs, rounding and gradients), once per `key`:
        (variant id, epochs, rounding, book, gradients); an id of None (a config written
        inline in the file) is solved for that file alone."""
        ident, epochs, rounding, _, gradients = key
        solution = self.solved.get(key) if ident is not None else None
        if solution is None:
            check.affordable(sheet, spec)
            solution = check.solve(spec, epochs, rounding, gradients=gradients)
            if ident is not None:
                self.solved[key] = solution
        return solution

    def _other_variant(self, sheet: Any) -> tuple[str, ...]:
        """With --exercise CONFIG, a file that says it answers another variant: said, both
        named (it is marked against CONFIG, as asked)."""
        ours = variant_of(self.config.name)
        if sheet.variant == ours:
            return ()
        doc = sheet.document
        line = doc.line(("variant",)) if doc is not None else None
        place = f"line {line}, " if line is not None else ""
        given = f"--exercise {self.given}"  # the teacher's own words: not cut
        against = f"{ours} ({given})" if ours else given
        mine = cut(sheet.variant)
        return (f"{place}variant: this file answers {mine}, but was marked against {against}",)

    def _exercise(
        self, sheet: Any, root: str | None = None
    ) -> tuple[Any, tuple[Question, ...] | None, str | None]:
        """The config a file is marked against, the questions asked, and a cache key (None:
        a config written inline in the file, solved for it alone)."""
        if self.config is not None:
            return self.config, None, ""
        if self.folder is None:
            if not isinstance(sheet.exercise, str):
                return sheet.exercise, None, None
            # a path is followed only inside the folder the file was found in: each its own
            name = f"own:{sheet.exercise}" if self.teacher else f"own:{root}:{sheet.exercise}"
            if name not in self.specs and self.teacher:  # a built-in name, never a path
                from ..models import example_text, from_text

                text = example_text(sheet.exercise)
                self.specs[name] = from_text(text, f"built-in example {sheet.exercise!r}")
            elif name not in self.specs:
                self.specs[name] = check.exercise_of(sheet, root)
            return self.specs[name], None, name
        ident = sheet.variant
        if ident is None:
            raise ConfigError(
                sheet.source,
                None,
                "variant",
                f"missing; write the id on your sheet, e.g. `variant: {self.folder.first}`",
            )
        entry = self.folder.entry(ident)
        if entry is None:
            doc = sheet.document
            where = doc.line(("variant",)) if doc is not None else None
            raise ConfigError(
                sheet.source,
                where,
                "variant",
                f"{quote(ident)} is not a variant of this set; ids look like "
                f"{self.folder.first} (the top of the sheet)",
            )
        return self.folder.spec(entry), entry.questions, ident


def _columns(report: Any) -> tuple[Question, ...]:
    """The columns of a file marked without a sheet's list: what its report marked."""
    return tuple(Question(v.sample, v.name, v.symbol) for v in report.verdicts if v.epoch == 1)


def _in_notation(questions: tuple[Question, ...], solution: Any) -> tuple[Question, ...]:
    """An exercise's questions named in the solution's textbook notation: a lecture name
    (delta5) renamed, a book's own (delta^3_1) read by its spellings; a symbol the book
    writes already (Mazur's ∂E_total/∂out_o1, a sheet's factor) kept."""
    rename = solution.translation.symbol
    known = {key[2] for key in solution.index}
    out = []
    for q in questions:
        if q.symbol.startswith(check.UNRESOLVED):
            symbol = solution.named(q.name) or q.symbol
        elif q.symbol in known:
            symbol = q.symbol
        else:
            symbol = rename(q.symbol)
        out.append(replace(q, symbol=symbol))
    return tuple(out)


def _by_quantity(
    questions: tuple[Question, ...], drawn: Any, solution: Any
) -> tuple[Question, ...]:
    """A set's questions, resolved in the book its sheets were drawn in (`drawn`), as the
    same quantities of `solution`, the same step worked in another book: the same line."""
    if len(drawn.lines) != len(solution.lines):  # not the same steps: left as they are
        return questions
    out = []
    for q in questions:
        n = drawn.index.get(drawn.resolve(q.key))
        out.append(q if n is None else replace(q, symbol=solution.lines[n].key[2]))
    return tuple(out)


def marker(
    folder: str | None,
    config: str | None,
    notation: str | None = None,
    teacher: bool = False,
    weights: points.Points = points.EVERY,
) -> Marker:
    """A Marker for the teacher's folder, or for one config (ConfigError if unreadable).
    `teacher`: neither, into a gradebook — each file's exercise must be a built-in name;
    `weights`: --points."""
    if folder is not None:
        found = homework.read(folder)
        if notation is not None:  # a set's variants are all of one kind, in one book
            drawn = found.spec(found.entries[found.first])
            tracing.model(drawn).refuse_notation(notation)
            if notation != drawn.notation:  # its sheets gave the students its names
                raise ConfigError(
                    folder,
                    None,
                    "--notation",
                    f"{notation}, but this set's sheets name their quantities in the "
                    f"{drawn.notation} notation, and its answers files are read in it; leave "
                    "--notation out (a file that says its own `notation:` is read in that)",
                )
        return Marker(folder=found, notation=notation, points=weights)
    if config is None:
        return Marker(notation=notation, teacher=teacher, points=weights)
    loaded = models.load(config)
    tracing.model(loaded).refuse_notation(notation)
    return Marker(config=loaded, given=config, notation=notation, points=weights)


def mark_all(paths: Sequence[str], marker: Marker) -> list[Row]:
    """A row per file (ConfigError only for a folder that holds no answers files)."""
    return [marker.mark(path, root) for path, root in expand(paths)]


def mark_one(paths: Sequence[str], marker: Marker) -> Row:
    """One submission (an autograder's folder): its one answers file's row; no answers file,
    or several, is the row's error — a submission never stops the marking."""
    try:
        found = expand(paths)
    except ConfigError as err:
        return Row(paths[0] if paths else "", "", "", error=str(err))
    if len(found) != 1:
        names = ", ".join(visible(os.path.basename(path)) for path, _ in found[:5])
        more = ", …" if len(found) > 5 else ""
        return Row(
            paths[0],
            "",
            "",
            error=f"{len(found)} answers files ({names}{more}); hand in one .yaml file",
        )
    return marker.mark(*found[0])


def summary(rows: Sequence[Row], gradebook: str | None) -> str:
    """What the terminal shows: with a gradebook, one line; without, a line per file."""
    right = sum(row.status == 0 for row in rows)
    unreadable = sum(row.status == 2 for row in rows)
    counts = (
        f"{len(rows)} file{'s' if len(rows) != 1 else ''}: {right} all right, "
        f"{len(rows) - right - unreadable} with a wrong or missing answer, "
        f"{unreadable} unreadable"
    )
    if gradebook:
        if unreadable:  # named here: the teacher looks for them, not for their row
            counts += f" ({', '.join(row.file for row in rows if row.status == 2)})"
        return f"Wrote {gradebook}: {counts}."
    lines = []
    for row in rows:
        if row.report is None:
            lines.append(visible(row.error))  # it names the file
            continue
        wrong = row.first_wrong
        first = "" if wrong is None else f"; first wrong: {label(wrong)}"
        if wrong is not None and wrong.mistakes:
            first += f" ({wrong.mistakes[0]})"
        # names from the students' files: escaped (a name may hold a terminal's ESC ]52)
        who = f"{cut(row.student)}, {cut(row.variant)}" if row.variant else cut(row.student)
        mark = f"{row.report.credited} of {row.report.total}"
        lines.append(f"{visible(row.file)} ({who}): {mark}{first}")
        lines += [f"  note: {visible(note)}" for note in row.report.notes]
    return "\n".join([*lines, counts])


def status(rows: Sequence[Row]) -> int:
    """Exit status of a batch: 2 if any file is unreadable, else 1 if any is wrong, else 0."""
    return max((row.status for row in rows), default=0)


# what starts a formula, also after spaces (" =HYPERLINK(…)" runs in Excel), in its ASCII
# and fullwidth forms (＝ is read as =), and the tool's own minus sign
_FORMULA_START = ("=", "+", "-", "@", "\uff1d", "\uff0b", "\uff0d", "\uff20", "\u2212")


def safe(text: str) -> str:
    """A cell a spreadsheet shows as text, never runs as a formula (a name like =HYPERLINK(…)
    in `student:` stays a name), with its control characters escaped: a lone carriage return
    would split the row for a CSV reader, and an escape sequence would reach a terminal."""
    text = visible(text)
    if text[:1].isspace() or text.startswith(_FORMULA_START):
        return "'" + text  # a leading tab or CR also hides a formula start from a reader
    return text


def _cell(value: object) -> object:
    return safe(value) if isinstance(value, str) else value


def to_csv(rows: Sequence[Row]) -> str:
    """The gradebook: a row per file; a column per question, in the order of the sheets."""
    labels: dict[str, None] = {}
    for row in rows:
        for q in row.questions:
            labels.setdefault(q.label, None)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*COLUMNS, *map(safe, labels), *LAST])
    for row in rows:
        wrong = row.first_wrong
        report = row.report
        verdicts = row.cells
        cells = [
            row.file,
            row.student,
            row.variant,
            "" if report is None else report.credited,
            "" if report is None else report.total,
            "" if wrong is None else label(wrong),
            "" if wrong is None or not wrong.mistakes else wrong.mistakes[0],
            *(verdicts.get(label, "") for label in labels),
            row.error,
            "" if report is None else "; ".join(report.notes),
        ]
        writer.writerow(map(_cell, cells))
    # a byte-order mark: without it Excel reads UTF-8 as its own code page (Zoë as ZoÃ«)
    return "\ufeff" + out.getvalue()
