"""KaTeX and Mermaid, the real parsers from npm, run under node: the markdown tests' judges.

The packages pinned in tests/node/ are installed once into a cache folder (by `npm ci`, from
the committed lock file); only a machine without node skips, saying so.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).parent / "node"
FILES = ("package.json", "package-lock.json", "check.mjs")


def _folder() -> Path:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None:
        # CI must run these checks: there a missing node is a failure, not a skip
        assert not os.environ.get("CI"), "CI needs node for the KaTeX and Mermaid checks"
        pytest.skip("node is not installed: the KaTeX and Mermaid checks run under node")
    assert npm is not None, "node is installed but npm is not: install npm to run these checks"
    digest = hashlib.sha256(b"".join((HERE / f).read_bytes() for f in FILES)).hexdigest()[:12]
    root = Path(os.environ.get("BACKTRACE_NODE_CACHE", Path.home() / ".cache" / "backtrace-tests"))
    folder = root / f"node-{digest}"
    if not (folder / "node_modules" / ".installed").exists():
        folder.mkdir(parents=True, exist_ok=True)
        for name in FILES:
            shutil.copy(HERE / name, folder / name)
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=folder,
            check=True,
            timeout=900,
        )
        (folder / "node_modules" / ".installed").touch()
    return folder


def check(math: list[tuple[str, bool]], mermaid: list[str]) -> dict:
    """Parse every (tex, display) with KaTeX (throwOnError, strict) and every diagram with
    mermaid.parse; returns the failures and the counts checked."""
    payload = {"math": [{"tex": t, "display": d} for t, d in math], "mermaid": mermaid}
    return _node("check.mjs", payload)


def _node(script: str, payload: object) -> Any:
    """Run a script of tests/node/ in the cache folder (where its packages are) on `payload`
    as JSON; its JSON answer."""
    folder = _folder()
    if script not in FILES:  # a script outside the lock's digest: copied, never reinstalled
        shutil.copy(HERE / script, folder / script)
    done = subprocess.run(
        ["node", str(folder / script)],
        check=False,  # a failure is reported below, with node's own message
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        cwd=folder,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


_FENCE = re.compile(r"^```(\w*)\n(.*?)^```\s*$", re.S | re.M)
_DISPLAY = re.compile(r"\$\$\n(.*?)\n\$\$", re.S)
_CODE = re.compile(r"`[^`\n]*`")
_INLINE = re.compile(r"(?<![\\$])\$([^$\n]+?)\$")


def pieces(markdown: str) -> tuple[list[tuple[str, bool]], list[str]]:
    """The math expressions (tex, display?) and the Mermaid diagrams of a document."""
    diagrams = [body for lang, body in _FENCE.findall(markdown) if lang == "mermaid"]
    prose = _FENCE.sub("", markdown)
    math = [(tex, True) for tex in _DISPLAY.findall(prose)]
    prose = _CODE.sub("", _DISPLAY.sub("", prose))
    math += [(tex, False) for tex in _INLINE.findall(prose)]
    return math, diagrams


EM_PX = 16 * 1.21  # KaTeX's CSS sets math at 1.21em: on a 16-pixel page, 19.36 px per em


def widths(texs: list[str]) -> list[float]:
    """Display-math widths in pixels on a 16-pixel page, as KaTeX lays them out
    (tests/node/width.mjs reads KaTeX's own build tree and font metrics)."""
    return [em * EM_PX for em in _node("width.mjs", texs)]
