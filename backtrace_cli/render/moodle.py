"""A question bank as Moodle XML: a category, then one Embedded answers (Cloze) question a
variant — `<question type="multianswer">` with its name, its text as HTML in CDATA with a
NUMERICAL sub-question in each blank ({1:NUMERICAL:=0.755:0.0005}), and its worked solution
as general feedback. Moodle's question XML format and Cloze syntax (docs.moodle.org): a
number is plain digits, `=` marks an answer worth full marks, `~` separates answers, the
tolerance follows a colon and is absolute."""

from __future__ import annotations

from collections.abc import Sequence
from xml.sax.saxutils import escape

from .bank import Blank, Item, fill, number

PENALTY = "0.3333333"  # Moodle's default: a third off for each wrong try in adaptive mode


def cloze(blank: Blank) -> str:
    """A blank as an embedded NUMERICAL sub-question worth 1 mark: every accepted number
    with its tolerance, each for full marks."""
    answers = "~".join(f"={number(a.value)}:{number(a.tolerance)}" for a in blank.accepted)
    return f"{{1:NUMERICAL:{answers}}}"


def cdata(html: str) -> str:
    """HTML inside CDATA, as Moodle's own export writes it (a `]]>` split across two)."""
    return "<![CDATA[" + html.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def question(item: Item) -> str:
    text = fill(item, lambda n, blank: cloze(blank))
    return "\n".join(
        [
            '  <question type="multianswer">',
            f"    <name><text>{escape(item.title)}</text></name>",
            f'    <questiontext format="html"><text>{cdata(text)}</text></questiontext>',
            f'    <generalfeedback format="html"><text>{cdata(item.feedback)}</text>'
            "</generalfeedback>",
            f"    <penalty>{PENALTY}</penalty>",
            "    <hidden>0</hidden>",
            f"    <idnumber>{escape(item.ident)}</idnumber>",
            "  </question>",
        ]
    )


def document(items: Sequence[Item], category: str) -> str:
    """The whole file: its questions under `category` (created in the course's question
    bank when "Get category from file" is ticked on import)."""
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        "<quiz>",
        '  <question type="category">',
        f"    <category><text>$course$/top/{escape(category)}</text></category>",
        "  </question>",
        *(question(item) for item in items),
        "</quiz>",
    ]
    return "\n".join(parts) + "\n"
