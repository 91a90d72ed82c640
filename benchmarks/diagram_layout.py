"""How the circuits are drawn, measured where a reader sees them: Mermaid in headless Chromium.

    python benchmarks/diagram_layout.py                 # the built-in graphs + 50 random ones
    python benchmarks/diagram_layout.py --graphs 200 --show
    python benchmarks/diagram_layout.py --mermaid /path/to/mermaid.min.js   # another version

Writes each circuit (`run CONFIG --format markdown`, in-process) into one page with Mermaid
from npm (the version tests/node/package.json pins, installed as the tests install it), lets
Chromium draw it at 900 px wide, and counts in the drawn SVG (benchmarks/diagram_layout.js):
the edges that cross a box other than their ends, the boxes whose text leaves their shape, the
edges that run over the text of their ends; and the smallest scale a diagram was drawn at
(below 1 the page shrank it to fit). The random graphs are benchmarks/snapshot.py's, from its
seed. Needs node, npm and chromium; prints the counts, exit 1 if any problem was found.
Where a box lands is Mermaid's (dagre's) choice; tests/test_drawing.py checks what the
diagram tells it.
"""

from __future__ import annotations

import argparse
import html
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from click.testing import CliRunner

HERE = Path(__file__).parent
sys.path[:0] = [str(HERE), str(HERE.parent / "tests")]

import snapshot  # noqa: E402  (benchmarks/: the random graphs)

from backtrace_cli.cli import cli  # noqa: E402
from backtrace_cli.network.config import example_names, example_text  # noqa: E402

_FENCE = re.compile(r"^```mermaid\n(.*?)^```\s*$", re.S | re.M)


def circuits(count: int) -> list[tuple[str, str]]:
    """(where from, Mermaid text) for the built-in graphs and `count` random ones."""
    configs = [
        n for n in example_names() if re.search(r"^(nodes|expression):", example_text(n), re.M)
    ]
    folder = Path(tempfile.mkdtemp(prefix="diagram-layout-"))
    for name, text in snapshot.random_configs(snapshot.SEED, 0, count).items():
        (folder / name).write_text(text, encoding="utf-8")
        configs.append(str(folder / name))
    runner, out = CliRunner(), []
    for config in configs:
        result = runner.invoke(cli, ["run", config, "--format", "markdown"])
        if result.exit_code == 0:  # a refused random graph has no diagram
            out += [
                (Path(config).name, d) for d in _FENCE.findall(result.output) if "flowchart" in d
            ]
    shutil.rmtree(folder)
    return out


def mermaid_script() -> Path:
    """Mermaid as the markdown tests use it (tests/node_parsers.py installs it once)."""
    import node_parsers

    return node_parsers._folder() / "node_modules" / "mermaid" / "dist" / "mermaid.min.js"


def measure(diagrams: list[str], mermaid: Path, chromium: str) -> list[dict]:
    """Each diagram's report from the drawn page."""
    blocks = "\n".join(f'<pre class="mermaid">{html.escape(d)}</pre>' for d in diagrams)
    page = f"""<!doctype html><html><head><meta charset="utf-8">
<style>body {{ font-family: sans-serif; font-size: 16px; max-width: 868px; margin: 0 16px }}</style>
<script src="{mermaid.as_uri()}"></script>
<script src="{(HERE / "diagram_layout.js").as_uri()}"></script></head><body>{blocks}
<script>
mermaid.initialize({{ startOnLoad: false }});
mermaid.run({{ querySelector: "pre.mermaid" }}).then(() => {{
  const report = document.createElement("pre");
  report.id = "layout-report";
  report.textContent = JSON.stringify(layoutReport());
  document.body.appendChild(report);
}});
</script></body></html>"""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "diagrams.html"
        path.write_text(page, encoding="utf-8")
        dom = subprocess.run(
            [
                chromium,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--allow-file-access-from-files",
                "--virtual-time-budget=60000",
                "--window-size=900,2000",
                "--dump-dom",
                path.as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=600,
            check=True,
        ).stdout
    found = re.search(r'<pre id="layout-report">(.*?)</pre>', dom, re.S)
    if found is None:
        raise SystemExit("Mermaid drew no report: is the Mermaid script at the path given?")
    return json.loads(html.unescape(found.group(1)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--graphs", type=int, default=50, help="random graphs (default 50)")
    parser.add_argument("--mermaid", type=Path, help="mermaid.min.js (default: the tests')")
    parser.add_argument("--chromium", default=shutil.which("chromium") or "chromium")
    parser.add_argument("--show", action="store_true", help="list every problem")
    args = parser.parse_args()
    drawn = circuits(args.graphs)
    reports = measure([d for _, d in drawn], args.mermaid or mermaid_script(), args.chromium)
    assert len(reports) == len(drawn), f"{len(reports)} drawn of {len(drawn)}"
    kinds = {"crosses the box": 0, "leaves its": 0, "runs over the text": 0}
    for (where, _), report in zip(drawn, reports):
        for problem in report["problems"]:
            kinds[next(k for k in kinds if k in problem)] += 1
            if args.show:
                print(f"  {where}: {problem}")
    bad = sum(1 for r in reports if r["problems"])
    print(
        f"{len(reports)} circuits drawn: {kinds['crosses the box']} edges cross a box, "
        f"{kinds['leaves its']} labels leave their shape, {kinds['runs over the text']} edges "
        f"run over text, in {bad} circuits; smallest scale "
        f"{min(r['scale'] for r in reports):.2f}, tallest {max(r['height'] for r in reports)} px"
    )
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
