"""KaTeX and Mermaid, the real parsers from npm, run under node: the markdown tests' judges.

The packages pinned in tests/node/ are installed once into a cache folder (by `npm ci`, from
the committed lock file); only a machine without node skips, saying so. One node process
serves the session (tests/node/server.mjs): the files importing this module go to one test
worker together (tests/conftest.py), and their documents go to it.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import os
import re
import select
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).parent / "node"
PACKAGES = ("package.json", "package-lock.json")  # what `npm ci` installs: the folder's digest
SCRIPTS = ("server.mjs", "check.mjs", "width.mjs")  # copied in each session, never reinstalled


def _folder() -> Path:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None:
        # CI must run these checks: there a missing node is a failure, not a skip
        assert not os.environ.get("CI"), "CI needs node for the KaTeX and Mermaid checks"
        pytest.skip("node is not installed: the KaTeX and Mermaid checks run under node")
    assert npm is not None, "node is installed but npm is not: install npm to run these checks"
    digest = hashlib.sha256(b"".join((HERE / f).read_bytes() for f in PACKAGES)).hexdigest()[:12]
    root = Path(os.environ.get("BACKTRACE_NODE_CACHE", Path.home() / ".cache" / "backtrace-tests"))
    folder = root / f"node-{digest}"
    if not (folder / "node_modules" / ".installed").exists():
        folder.mkdir(parents=True, exist_ok=True)
        for name in PACKAGES:
            shutil.copy(HERE / name, folder / name)
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=folder,
            check=True,
            timeout=900,
        )
        (folder / "node_modules" / ".installed").touch()
    return folder


class _Server:
    """One node process for the session (tests/node/server.mjs): jsdom, KaTeX and Mermaid
    load once; each request is a JSON line on its stdin, each answer a JSON line on its
    stdout."""

    def __init__(self) -> None:
        folder = _folder()
        # the scripts, in a folder of the packages' folder named by their digest (so they
        # import its node_modules; sessions with other scripts use another folder)
        digest = hashlib.sha256(b"".join((HERE / f).read_bytes() for f in SCRIPTS)).hexdigest()
        scripts = folder / f"scripts-{digest[:12]}"
        if not (scripts / SCRIPTS[0]).exists():
            scripts.mkdir(exist_ok=True)
            for name in reversed(SCRIPTS):  # server.mjs last: its presence means all are there
                partial = scripts / f"{name}.{os.getpid()}"
                shutil.copy(HERE / name, partial)
                partial.replace(scripts / name)
        # open for the server's life; close() closes it
        self.errors = tempfile.TemporaryFile(mode="w+", encoding="utf-8")  # noqa: SIM115
        self.process = subprocess.Popen(
            ["node", str(scripts / "server.mjs")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.errors,
            text=True,
            encoding="utf-8",
            cwd=scripts,
        )
        atexit.register(self.close)

    def ask(self, op: str, payload: object) -> Any:
        process = self.process
        assert process.poll() is None, f"node exited: {self._stderr()}"
        process.stdin.write(json.dumps({"op": op, "payload": payload}) + "\n")
        process.stdin.flush()
        ready, _, _ = select.select([process.stdout], [], [], 600)
        assert ready, f"node gave no answer to {op} in 600 s: {self._stderr()}"
        line = process.stdout.readline()
        assert line, f"node exited: {self._stderr()}"
        reply = json.loads(line)
        assert "error" not in reply, reply["error"]  # node's own message
        return reply["ok"]

    def _stderr(self) -> str:
        self.errors.seek(0)
        return self.errors.read()

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.close()  # the server's loop ends with its input
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.errors.close()


_server: _Server | None = None


def _node(op: str, payload: object) -> Any:
    """`op` of tests/node/server.mjs on `payload`, in the session's node process (started
    by the first call)."""
    global _server
    if _server is None:
        _server = _Server()
    return _server.ask(op, payload)


_parsed: dict[tuple[str, object], str | None] = {}  # (kind, text) → KaTeX's/Mermaid's error


def check(math: list[tuple[str, bool]], mermaid: list[str]) -> dict:
    """Parse every (tex, display) with KaTeX (throwOnError, strict) and every diagram with
    mermaid.parse; returns the failures, one per failing item given, and the counts checked.
    Each distinct expression is parsed once a session (the pages share most of theirs)."""
    items = [("math", m) for m in math] + [("mermaid", d) for d in mermaid]
    new = list(dict.fromkeys(item for item in items if item not in _parsed))
    if new:
        texs = [m for kind, m in new if kind == "math"]
        diagrams = [d for kind, d in new if kind == "mermaid"]
        payload = {"math": [{"tex": t, "display": d} for t, d in texs], "mermaid": diagrams}
        report = _node("check", payload)
        assert report["counts"] == {"math": len(texs), "mermaid": len(diagrams)}
        failed = {(e["tex"], e["display"]): e["error"] for e in report["math"]}
        failed_diagrams = {e["text"]: e["error"] for e in report["mermaid"]}
        for kind, item in new:
            _parsed[kind, item] = (failed if kind == "math" else failed_diagrams).get(item)  # type: ignore[call-overload]
    return {
        "math": [
            {"tex": t, "error": _parsed["math", (t, d)]}
            for t, d in math
            if _parsed["math", (t, d)] is not None
        ],
        "mermaid": [
            {"text": d, "error": _parsed["mermaid", d]}
            for d in mermaid
            if _parsed["mermaid", d] is not None
        ],
        "counts": {"math": len(math), "mermaid": len(mermaid)},
    }


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
    return [em * EM_PX for em in _node("widths", texs)]
