"""The README and docs/ stay true: every `$ backtrace …` example in a ```console block runs as
the page shows it, and every link between the pages leads somewhere.

An example is run in-process (click's CliRunner), in an 80-column terminal, in a scratch folder
holding copies of docs/ and configs/, the examples of one page in order (so `quiz -o
session.yaml` and then `check session.yaml` work as a reader would type them). `> FILE` and
`< FILE` redirect as in a shell, and `COLUMNS=100 backtrace …` sets the terminal's width. A
```yaml block whose first line names a file (`# answers.yaml`) is that file, saved where the
reader would save it, before the examples after it.

The lines a page shows under a command must appear in what it prints, in order; a line `…`
stands for lines left out, a line ending in ` …` for the rest of that line. Exit status: 2
where the page shows an `Error:`, else 0 — or 1 for `check` and `quiz`, whose 1 means "not
every answer right"."""

from __future__ import annotations

import re
import shlex
import shutil
from dataclasses import dataclass
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from backtrace_cli.cli import cli

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)
UNSEEN = re.compile(rf"{FENCE.pattern}|<!--.*?-->", re.S | re.M)  # code and comments: no links


@dataclass(frozen=True)
class Example:
    command: str  # as the page writes it, after `$ `
    shown: tuple[str, ...]  # the lines the page shows under it


@dataclass(frozen=True)
class File:
    path: str  # where the page says to save it
    text: str


def examples(page: Path) -> list[Example | File]:
    """The page's console examples and named files, in the order a reader meets them."""
    found: list[Example | File] = []
    for language, body in FENCE.findall(page.read_text(encoding="utf-8")):
        named = re.match(r"# ([\w./-]+\.yaml)\n", body)
        if language == "yaml" and named:
            found.append(File(named.group(1), body))
        if language != "console":
            continue
        for line in body.splitlines():
            if line.startswith("$ "):
                found.append(Example(line[2:], ()))
            elif found:
                found[-1] = Example(found[-1].command, (*found[-1].shown, line.rstrip()))
    return found


def test_every_page_with_commands_writes_them_as_console_examples():
    """A command in a ```bash or ```text block would not be run by the test below."""
    stray = [
        f"{page.name}: {line}"
        for page in PAGES
        if page.name != "platforms.md"  # a recipe's shell steps: tests/test_platforms_doc.py
        # and tests/test_platforms.py run them in order, with the files they make
        for language, body in FENCE.findall(page.read_text(encoding="utf-8"))
        if language != "console"
        for line in body.splitlines()
        if re.match(r"\s*([A-Z]+=\S+ )*backtrace ", line)
    ]
    assert stray == []


def test_the_readme_is_a_front_door():
    """At most ~250 lines, and what a student looks for first is on it: copying an example to
    edit, an answers file, and where each guide is."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 250
    assert "$ backtrace examples softmax > my.yaml\n" in readme
    assert "# answers.yaml\nexercise: " in readme
    for page in ("student-guide", "teacher-guide", "config", "answers"):
        assert f"](docs/{page}.md)" in readme, page


def test_the_readme_has_an_example_of_every_command():
    commands = {
        example.command.split()[1]
        for example in examples(ROOT / "README.md")
        if isinstance(example, Example)
    }
    assert commands == set(cli.list_commands(click.Context(cli)))


def _run(example: Example, folder: Path) -> None:
    words = shlex.split(example.command, comments=True)
    env = {"COLUMNS": "80"}
    while "=" in words[0]:  # COLUMNS=100 backtrace …
        name, _, value = words.pop(0).partition("=")
        env[name] = value
    assert words[0] == "backtrace", example.command
    args, stdin, stdout = [], None, None
    words = iter(words[1:])
    for word in words:
        if word == "<":
            stdin = (folder / next(words)).read_text(encoding="utf-8")
        elif word == ">":
            stdout = folder / next(words)
        else:
            args.append(word)
    result = CliRunner().invoke(cli, args, input=stdin, env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        example.command,
        result.exception,
    )
    shown_error = any(line.startswith("Error:") for line in example.shown)
    allowed = {2} if shown_error else {0, 1} if args[0] in ("check", "quiz") else {0}
    assert result.exit_code in allowed, (example.command, result.exit_code, result.output[-2000:])
    if stdout is not None:
        stdout.write_text(result.stdout, encoding="utf-8")
    printed = "\n".join(line.rstrip() for line in result.output.splitlines())
    position = 0
    shown = re.split(r"(?: …|^…)$", "\n".join(example.shown), flags=re.M)
    for part in filter(None, (piece.strip("\n") for piece in shown)):
        found = printed.find(part, position)
        assert found >= 0, f"{example.command}: the page shows what it does not print:\n{part}"
        position = found + len(part)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_example_runs_as_the_page_shows_it(page, tmp_path, monkeypatch):
    for folder in ("docs", "configs"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    monkeypatch.chdir(tmp_path)
    for example in examples(page):
        if isinstance(example, File):
            (tmp_path / example.path).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / example.path).write_text(example.text, encoding="utf-8")
        else:
            _run(example, tmp_path)


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    text = UNSEEN.sub("", page.read_text(encoding="utf-8"))
    return {_slug(h) for h in re.findall(r"^#+ (.*)$", text, re.M)}


def broken_links(pages: list[Path]) -> list[str]:
    broken = []
    for page in pages:
        text = UNSEEN.sub("", page.read_text(encoding="utf-8"))
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"[a-z]+:", target):
                continue  # a web address
            path, _, anchor = target.partition("#")
            linked = (page.parent / path).resolve() if path else page
            if not linked.exists():
                broken.append(f"{page.name}: {target} (no such file)")
            elif anchor and (linked.suffix != ".md" or anchor not in _anchors(linked)):
                broken.append(f"{page.name}: {target} (no such heading)")
    return broken


def test_every_link_between_the_pages_resolves():
    assert broken_links(PAGES) == []


def test_the_link_checker_sees_a_missing_file_and_a_missing_heading(tmp_path):
    (tmp_path / "a.md").write_text(
        "# A\n\n## `check --names`: every name\n\n[ok](#check---names-every-name) "
        "[ok](b.md#b-c) [no](c.md) [no](b.md#b) [no](#a-b) <!-- [unseen](d.md) -->\n",
        encoding="utf-8",
    )
    (tmp_path / "b.md").write_text("# B, c\n\n```\n# B\n```\n", encoding="utf-8")
    assert broken_links([tmp_path / "a.md"]) == [
        "a.md: c.md (no such file)",
        "a.md: b.md#b (no such heading)",
        "a.md: #a-b (no such heading)",
    ]


def table_widths(text: str) -> list[list[int]]:
    """Each table's rows as their cell counts: GFM splits a row at every `|` not escaped as
    `\\|`, inside a code span too."""
    tables: list[list[int]] = []
    previous = ""
    for line in UNSEEN.sub("", text).splitlines():
        if line.startswith("|"):
            if not previous.startswith("|"):
                tables.append([])
            tables[-1].append(len(re.findall(r"(?<!\\)\|", line.strip())) - 1)
        previous = line
    return tables


def test_a_cell_too_many_is_seen():
    text = "| a | b |\n| --- | --- |\n| `x\\|y` | 2 |\n\n| a |\n| --- |\n| `x|y` |\n"
    assert table_widths(text) == [[2, 2, 2], [1, 1, 2]]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_page_has_a_title_and_whole_tables(page):
    """A row with a cell too many (an unescaped `|`) renders as a broken table."""
    text = page.read_text(encoding="utf-8")
    assert text.startswith("# ")
    assert [widths for widths in table_widths(text) if len(set(widths)) > 1] == []
