"""A config's own words (`name:`, `description:`) made safe for a markdown page.

Mermaid labels need nothing more than their quotes escaped: they hold the tool's own text
and node names, which are identifiers."""

from __future__ import annotations

import html

from ..core.errors import visible


def markdown(text: str, lines: bool = False) -> str:
    """Text a markdown page shows as written: no HTML of its own (<script> is &lt;script&gt;),
    no control characters; `lines`: keep its line breaks (a description)."""
    if lines:
        return "\n".join(markdown(line) for line in text.split("\n"))
    return html.escape(visible(text), quote=False)
