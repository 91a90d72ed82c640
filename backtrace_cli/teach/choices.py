"""What a platform calls its options, named once and cheap to import (`--help` reads them)."""

from __future__ import annotations

# when Gradescope shows a test's feedback to students (its autograder specification)
VISIBILITIES = ("visible", "after_due_date", "after_published", "hidden")
# --gradebook-format: the tool's own CSV, or a platform's grade import
GRADEBOOKS = ("csv", "canvas", "moodle")
