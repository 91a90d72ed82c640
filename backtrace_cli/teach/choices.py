"""What a platform calls its options, named once and cheap to import (`--help` reads them)."""

from __future__ import annotations

# when Gradescope shows a test's feedback to students (its autograder specification)
VISIBILITIES = ("visible", "after_due_date", "after_published", "hidden")
# --gradebook-format: the tool's own CSV, or a platform's grade import
GRADEBOOKS = ("csv", "canvas", "moodle")
# `exercise --format`: the folder of sheets and keys, or one file a platform imports (a
# question bank, `render.bank`)
QUIZ_FORMATS = ("folder", "moodle", "qti")
DEFAULT_ROUNDING = "3sf"  # what a platform quiz asks answers to when no --round is given
