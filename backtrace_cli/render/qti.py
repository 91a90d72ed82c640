"""A question bank as an IMS QTI 1.2 package, as Canvas imports it: a zip holding
imsmanifest.xml and one assessment a variant (`<ident>/<ident>.xml`), each a quiz on import.

Canvas keeps a quiz's questions apart — a question group draws single questions, never a
variant's set — so a variant is a quiz of its own: a text-only question with the problem,
the diagram and the table of what to find, then a `numerical_question` per quantity that
takes each accepted number ± its tolerance (the number, or `vargte`/`varlte` around it: what
Canvas's importer reads as an exact answer with a margin), the worked solution as the last
one's general feedback. Instructure's QTIMigrationTool converts such a package with every
range kept."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Sequence
from decimal import Decimal
from xml.etree import ElementTree as ET

from .bank import Accepted, Blank, Item, fill, number

QTI = "http://www.imsglobal.org/xsd/ims_qtiasiv1p2"
CP = "http://www.imsglobal.org/xsd/imsccv1p1/imscp_v1p1"
MANIFEST = "imsmanifest.xml"
STAMP = (1980, 1, 1, 0, 0, 0)  # every member's date: the same set gives the same bytes


def path(item: Item) -> str:
    """Where a variant's assessment lies in the zip."""
    return f"{item.ident}/{item.ident}.xml"


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attrs)
    element.text = text
    return element


def _metadata(item: ET.Element, kind: str, points: str) -> None:
    fields = _sub(_sub(item, "itemmetadata"), "qtimetadata")
    for label, entry in (("question_type", kind), ("points_possible", points)):
        field = _sub(fields, "qtimetadatafield")
        _sub(field, "fieldlabel", label)
        _sub(field, "fieldentry", entry)


def _material(parent: ET.Element, html: str) -> None:
    _sub(_sub(parent, "material"), "mattext", html, texttype="text/html")


def _feedback(item: ET.Element, ident: str, html: str) -> None:
    flow = _sub(_sub(item, "itemfeedback", ident=ident), "flow_mat")
    _material(flow, html)


def _range(condition: ET.Element, accepted: Accepted) -> None:
    """The number itself, or anything within its tolerance (both ends included)."""
    either = _sub(condition, "or")
    _sub(either, "varequal", number(accepted.value), respident="response1")
    both = _sub(either, "and")
    centre, margin = Decimal(number(accepted.value)), Decimal(number(accepted.tolerance))
    _sub(both, "vargte", str(centre - margin), respident="response1")
    _sub(both, "varlte", str(centre + margin), respident="response1")


def numerical(section: ET.Element, ident: str, n: int, blank: Blank, key: str | None) -> None:
    """One quantity as a numerical question; `key`: the worked solution, as general feedback."""
    item = _sub(section, "item", ident=f"{ident}-q{n + 1}", title=blank.name)
    _metadata(item, "numerical_question", "1")
    shown = _sub(item, "presentation")
    _material(shown, f"<p>{n + 1}. \\({blank.symbol}\\) (<code>{blank.name}</code>)</p>")
    response = _sub(shown, "response_str", ident="response1", rcardinality="Single")
    _sub(_sub(response, "render_fib", fibtype="Decimal"), "response_label", ident="answer1")
    processing = _sub(item, "resprocessing")
    outcomes = _sub(processing, "outcomes")
    _sub(outcomes, "decvar", maxvalue="100", minvalue="0", varname="SCORE", vartype="Decimal")
    if key is not None:
        shows = _sub(processing, "respcondition", **{"continue": "Yes"})
        _sub(_sub(shows, "conditionvar"), "other")
        _sub(shows, "displayfeedback", feedbacktype="Response", linkrefid="general_fb")
    for accepted in blank.accepted:
        right = _sub(processing, "respcondition", **{"continue": "No"})
        _range(_sub(right, "conditionvar"), accepted)
        _sub(right, "setvar", "100", action="Set", varname="SCORE")
    if key is not None:
        _feedback(item, "general_fb", key)


def assessment(item: Item) -> str:
    """A variant's quiz: its question as text, then a numerical question per blank."""
    root = ET.Element("questestinterop", xmlns=QTI)
    quiz = _sub(root, "assessment", ident=item.ident, title=item.title)
    section = _sub(quiz, "section", ident="root_section")
    text = _sub(section, "item", ident=f"{item.ident}-text", title=item.ident)
    _metadata(text, "text_only_question", "0")
    _material(_sub(text, "presentation"), fill(item, lambda n, blank: f"question {n + 1}"))
    last = len(item.blanks) - 1
    for n, blank in enumerate(item.blanks):
        numerical(section, item.ident, n, blank, item.feedback if n == last else None)
    return _xml(root)


def manifest(items: Sequence[Item], name: str) -> str:
    """imsmanifest.xml: a resource of type imsqti_xmlv1p2 per variant's assessment."""
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-") or "set"
    root = ET.Element("manifest", identifier=f"backtrace-{slug}", xmlns=CP)
    metadata = _sub(root, "metadata")
    _sub(metadata, "schema", "IMS Content")
    _sub(metadata, "schemaversion", "1.1.3")
    _sub(root, "organizations")
    resources = _sub(root, "resources")
    for item in items:
        resource = _sub(resources, "resource", identifier=item.ident, type="imsqti_xmlv1p2")
        _sub(resource, "file", href=path(item))
    return _xml(root)


def _xml(root: ET.Element) -> str:
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, "unicode") + "\n"


def package(items: Sequence[Item], name: str) -> bytes:
    """The zip: the manifest first, then each variant's assessment."""
    members = [(MANIFEST, manifest(items, name))] + [(path(i), assessment(i)) for i in items]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for member, text in members:
            archive.writestr(
                zipfile.ZipInfo(member, STAMP), text.encode("utf-8"), zipfile.ZIP_DEFLATED
            )
    return buffer.getvalue()
