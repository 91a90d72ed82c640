"""The gradebook as a learning platform imports it: Canvas's and Moodle's own CSV headers.

`csv` is the tool's own gradebook (`gradebook.to_csv`: a column per question). `canvas` and
`moodle` are one row a student with the score in points (`--points`), under the header the
platform's grade import reads:

- Canvas (Grades → Import): `Student, ID, SIS User ID, SIS Login ID, Section`, then the
  assignment's column, and a `Points Possible` row as Canvas's own export has it. The student's
  identifier goes in `Student` and `SIS Login ID`: what the answers file says in `student:`
  (else the file's name) — the login a class is told to write there.
- Moodle (Grades → Import → CSV file): `Student`, the grade item's column, and `Feedback`
  (the mark in words, the first wrong answer and its named mistake); on import `Student` is
  mapped to the username, email address or ID number, and the columns to the grade item and
  its feedback.

A file that could not be read has no row (its identifier is unread too; an unknown one would
stop the import), and neither have files naming the same student: one of them is not that
student's, and the teacher decides which. The terminal names them; no grade is changed.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Sequence

from ..core.errors import visible
from ..render.numbers import points_text
from .gradebook import Row, label, safe

CANVAS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
MOODLE = ("Student",)


def write(rows: Sequence[Row], fmt: str, assignment: str) -> tuple[str, tuple[str, ...]]:
    """The CSV text in `fmt` (canvas or moodle) and what the teacher must be told: the
    students named by more than one file."""
    marked = [row for row in rows if row.score is not None]  # the unreadable: named already
    counts = Counter(row.student for row in marked)
    twice = {student for student, n in counts.items() if n > 1}
    scored = [row for row in marked if row.student not in twice]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    column = safe(assignment)
    if fmt == "canvas":
        writer.writerow([*CANVAS, column])
        possible = max((row.score[1] for row in marked), default=0.0)
        writer.writerow(["Points Possible", "", "", "", "", points_text(possible)])
        for row in scored:
            who = safe(row.student)
            writer.writerow([who, "", "", who, "", points_text(row.score[0])])
    else:
        writer.writerow([*MOODLE, column, "Feedback"])
        for row in scored:
            writer.writerow([safe(row.student), points_text(row.score[0]), safe(_feedback(row))])
    said = tuple(
        f"{visible(student)}: named by {counts[student]} files "
        f"({', '.join(visible(row.file) for row in marked if row.student == student)}); "
        "none of them is in the file"
        for student in sorted(twice)
    )
    # a byte-order mark, as the tool's own gradebook: Excel reads Zoë, and both imports skip it
    return "\ufeff" + out.getvalue(), said


def _feedback(row: Row) -> str:
    """The mark in words and the first wrong answer with its named mistake."""
    if row.report is None:
        return ""
    said = row.report.summary()
    wrong = row.first_wrong
    if wrong is not None:
        said += f"; first wrong: {label(wrong)}"
        if wrong.mistakes:
            said += f" ({wrong.mistakes[0]})"
    return said
