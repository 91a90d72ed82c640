"""The homework export: real parsers for its math and diagrams, consistent tables, the same
numbers as the JSON, safe files, and a committed example that is up to date."""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path

import numpy as np
import pytest
from conftest import GRAPHS, MODELS, NETWORKS
from markdown_it import MarkdownIt
from node_parsers import check, pieces

import backtrace_cli as bt
from backtrace_cli.cli import cli
from backtrace_cli.network.config import example_text
from backtrace_cli.render import number_format

ROOT = Path(__file__).parent.parent


def exports() -> dict[str, str]:
    """Every built-in example's markdown: run, run --round 3sf, run --eval, and step with
    traced epochs — through the CLI, as a student gets them."""
    from click.testing import CliRunner

    runner = CliRunner()
    out = {}
    for name in GRAPHS:
        labels = {
            "run": ["run", name],
            "run 3sf": ["run", name, "--round", "3sf"],
            "run eval": ["run", name, "--eval"],
            "run verify": ["run", name, "--verify"],
        }
        if "parameters:" in example_text(name):
            labels["step"] = ["step", name, "-n", "12", "--trace", "1,last"]
            labels["step 4dp"] = ["step", name, "-n", "3", "--trace", "2", "--round", "4dp"]
        for label, args in labels.items():
            result = runner.invoke(cli, [*args, "--format", "markdown"])
            assert result.exit_code == 0, result.output
            out[f"{name} {label}"] = result.output
    for name in NETWORKS:
        for label, args in {
            "run": ["run", name],
            "run 3sf": ["run", name, "--round", "3sf"],
            "run eval": ["run", name, "--eval"],
            "step": ["step", name, "-n", "12", "--trace", "1,last"],
            "step 4dp": ["step", name, "-n", "3", "--trace", "2", "--round", "4dp"],
        }.items():
            result = runner.invoke(cli, [*args, "--format", "markdown"])
            assert result.exit_code == 0, result.output
            out[f"{name} {label}"] = result.output
    # the committed exports too: exercise sheets, answer keys, the lecture export (the other
    # pages of docs/ are written by hand, and tests/test_docs.py runs their examples)
    exported = [ROOT / "docs" / "lecture.md", *(ROOT / "docs" / "exercise-lecture").rglob("*.md")]
    for path in sorted(exported):
        out[str(path.relative_to(ROOT))] = path.read_text(encoding="utf-8")
    return out


@pytest.fixture(scope="module")
def documents() -> dict[str, str]:
    return exports()


def test_every_math_expression_and_diagram_parses(documents):
    math, diagrams, origin = [], [], []
    for name, text in documents.items():
        m, d = pieces(text)
        math += m
        diagrams += d
        origin += [name] * len(m)
    assert len(math) > 500 and len(diagrams) > 50  # the extraction found them
    report = check(math, diagrams)
    assert report["counts"] == {"math": len(math), "mermaid": len(diagrams)}
    assert report["math"] == [], report["math"][:3]
    assert report["mermaid"] == [], report["mermaid"][:3]


@pytest.mark.parametrize("name", MODELS)
def test_a_negative_argument_of_a_function_gets_one_pair_of_brackets(runner, name):
    """tanh (−0.4), not tanh ((−0.4)): a negative number's brackets are the call's."""
    text = runner.invoke(cli, ["run", name, "--format", "markdown"]).output
    calls = re.findall(r"(?:\\tanh|\\sigma|\\operatorname\{\w+\}) ?\((\(?)-", text)
    assert calls and "(" not in calls  # some call of a negative number, none bracketed twice


def test_the_checker_rejects_what_is_broken():
    """The judges are real: a broken expression and a broken diagram are caught."""
    report = check([("\\frac{a", True), ("x_{1}", False)], ["flowchart LR\n  a --> ((\n"])
    assert [e["tex"] for e in report["math"]] == ["\\frac{a"]
    assert len(report["mermaid"]) == 1


def test_markdown_parses_and_tables_have_consistent_columns(documents):
    # the checks read block tokens only: inline parsing (most of the time, on 1 MB of
    # math) changes none of them
    md = MarkdownIt("commonmark").enable("table").disable("inline")
    for name, text in documents.items():
        tokens = md.parse(text)
        tables = 0
        row: list[str] = []
        widths: list[int] = []
        for token in tokens:
            if token.type == "table_open":
                tables += 1
                widths = []
            elif token.type == "tr_open":
                row = []
            elif token.type in ("th_open", "td_open"):
                row.append(token.type)
            elif token.type == "tr_close":
                widths.append(len(row))
            elif token.type == "table_close":
                assert len(set(widths)) == 1, (name, widths)
        if not name.endswith("eval") and "question" not in name:  # no update: no summary
            assert tables >= 1, name
        assert text.startswith("# "), name


def test_the_markdown_shows_the_lecture_as_the_notes_write_it():
    """As the course notes do: the formula, then "= " the numbers on the next line, then
    "= " the value (Y3 = (W13 * X1) + (W23 * X2) / = (0.1 * 0.35) + (0.8 * 0.9) / = 0.755)."""
    text = bt.trace("lecture").markdown()
    assert (
        "\\mathit{net}_{3} &= w_{13} \\cdot x_{1} + w_{23} \\cdot x_{2} \\\\\n"
        "&= 0.1 \\cdot 0.35 + 0.8 \\cdot 0.9 \\\\\n"
        "&= 0.755 \\\\[6pt]\n" in text
    )
    # σ written out where it is first used, and only there
    assert (
        "o_{3} &= \\sigma(\\mathit{net}_{3}) \\\\\n"
        "&= \\sigma(0.755) = \\frac{1}{1 + e^{-0.755}} \\\\\n"
        "&= 0.680267 \\\\[6pt]\n" in text
    )
    assert "o_{4} &= \\sigma(\\mathit{net}_{4}) \\\\\n&= \\sigma(0.68) \\\\\n&= 0.663739\n" in text
    assert (
        "w_{45}^{\\text{new}} &= w_{45} + \\Delta w_{45} \\\\\n"
        "&= 0.9 + (-0.027002) \\\\\n&= 0.872998" in text
    )
    assert "```mermaid" in text and '-->|"w13 = 0.1"| u3' in text
    rounded = bt.trace("lecture", rounding="3sf").markdown()
    assert "\\delta_{5} &=" in rounded and "= -0.0406" in rounded  # the notes' own value


# ---------------------------------------------------------------- one trace, three formats


def random_config(seed: int) -> dict:
    rng = np.random.default_rng(seed)
    layers = [int(n) for n in rng.integers(1, 4, size=rng.integers(2, 5))]
    acts = ["sigmoid", "tanh", "relu", "linear"]
    data = {
        "layers": layers,
        "activations": [acts[i] for i in rng.integers(0, 4, len(layers) - 1)],
        "loss": ["half_sse", "sse", "mse"][int(rng.integers(0, 3))],
        "learning_rate": float(rng.choice([0.1, 0.5, 1.0])),
        "inputs": np.round(rng.uniform(-1, 1, layers[0]), 3).tolist(),
        "targets": np.round(rng.uniform(-1, 1, layers[-1]), 3).tolist(),
        "weights": [
            np.round(rng.uniform(-1, 1, (b, a)), 3).tolist() for a, b in itertools.pairwise(layers)
        ],
    }
    if rng.random() < 0.5:
        data["biases"] = [np.round(rng.uniform(-1, 1, n), 3).tolist() for n in layers[1:]]
    if len(layers) > 2 and rng.random() < 0.5:
        data["dropout"] = {"rate": 0.5, "seed": int(seed)}
    return data


@pytest.mark.parametrize("seed", range(25))
def test_markdown_terminal_and_json_show_the_same_numbers(seed):
    """Each equation's value in the JSON, formatted, is the value the markdown and the
    terminal table print for it, in the same order: one trace, three renderings."""
    worked = bt.trace(random_config(seed))
    fmt = number_format(None, None)
    doc = worked.json()
    expected = [fmt(e["value"]) for step in doc["steps"] for e in step["equations"]]
    from backtrace_cli.render.markdown import latex_number

    in_json = [latex_number(e["value"], fmt) for s in doc["steps"] for e in s["equations"]]
    # each equation: "symbol &= formula \\ &= numbers \\ &= value \quad note", one after
    # another with \\[6pt] between: the value is the last term of its last line
    blocks = re.findall(r"\\begin\{aligned\}\n(.*?)\n\\end\{aligned\}", worked.markdown(), re.S)
    last_lines = [eq.rsplit("\n", 1)[-1] for block in blocks for eq in block.split(" \\\\[6pt]\n")]
    cores = [line.split("\\quad ")[0].removesuffix(" \\\\") for line in last_lines]
    markdown = [core.rsplit("= ", 1)[-1].strip() for core in cores]
    assert markdown == in_json
    # the table: each equation row's last cell; rows never wrap at this width
    from rich.console import Console

    from backtrace_cli.render import renderable

    console = Console(width=400, color_system=None, record=True)
    with console.capture() as captured:
        console.print(renderable(worked.records, fmt))
    symbols = {e["symbol"] for s in doc["steps"] for e in s["equations"]}
    steps = captured.get().split("Summary ─")[0]  # the old → new table has an "E" row too
    table = [
        line.split()[-1]
        for line in steps.splitlines()
        if line.strip() and _row_symbol(line) in symbols
    ]
    assert table == expected


def _row_symbol(line: str) -> str:
    """The symbol cell of a table row: "new w13  w13 + …" → "new w13"."""
    head = line.split("  ")[0].strip()
    return head


# ---------------------------------------------------------------- files


def test_output_file_format_follows_the_extension(runner, tmp_path):
    for name, check_text in {
        "trace.md": lambda t: t.startswith("# Lecture example"),
        "trace.json": lambda t: json.loads(t)["format"] == "backtrace-trace",
        "trace.txt": lambda t: "Forward pass" in t and "\x1b[" not in t,
    }.items():
        path = tmp_path / name
        result = runner.invoke(cli, ["run", "-o", str(path)])
        assert result.exit_code == 0, result.output
        assert check_text(path.read_text(encoding="utf-8")), name
    forced = tmp_path / "trace.txt"
    result = runner.invoke(cli, ["run", "-o", str(forced), "--format", "json", "--force"])
    assert result.exit_code == 0 and json.loads(forced.read_text())["version"] == 1


def test_output_never_overwrites_without_force_and_never_leaves_a_partial_file(
    runner, tmp_path, monkeypatch
):
    path = tmp_path / "homework.md"
    path.write_text("my own work\n")
    result = runner.invoke(cli, ["step", "-n", "3", "-o", str(path)])
    assert result.exit_code == 2
    assert "exists already; use --force" in result.output
    assert path.read_text() == "my own work\n"

    import os

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    result = runner.invoke(cli, ["run", "-o", str(tmp_path / "new.md")])
    assert result.exit_code != 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["homework.md"]  # no temp file left


def test_output_to_a_missing_folder_or_read_only_target(runner, tmp_path):
    result = runner.invoke(cli, ["run", "-o", str(tmp_path / "no" / "such" / "x.md")])
    assert result.exit_code == 2 and "does not exist; create it first" in result.output
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        result = runner.invoke(cli, ["run", "-o", str(folder / "x.md")])
        import os

        if os.geteuid() != 0:  # root writes anywhere; the message is tested in test_output
            assert result.exit_code == 2 and "cannot write" in result.output
    finally:
        folder.chmod(0o700)


def test_dash_is_standard_output(runner):
    result = runner.invoke(cli, ["run", "-o", "-", "--format", "markdown"])
    assert result.exit_code == 0 and result.output.startswith("# Lecture example")


# ---------------------------------------------------------------- notebook and docs


def test_a_notebook_shows_the_same_markdown_as_the_cli(runner):
    result = runner.invoke(cli, ["run", "lecture", "--format", "markdown"])
    assert bt.trace("lecture")._repr_markdown_() == result.output
    trained = runner.invoke(cli, ["step", "xor", "-n", "20", "--format", "markdown"])
    assert bt.train("xor", 20)._repr_markdown_() == trained.output


def test_the_committed_example_is_up_to_date():
    committed = (ROOT / "docs" / "lecture.md").read_text(encoding="utf-8")
    assert committed == bt.trace("lecture").markdown(), (
        "docs/lecture.md is stale: backtrace run lecture -o docs/lecture.md --force"
    )


# ---------------------------------------------------------------- the JSON's schema


def test_every_json_the_tool_writes_validates_against_the_shipped_schema(runner, tmp_path):
    from importlib.resources import files

    import jsonschema
    import yaml

    schema = json.loads(files("backtrace_cli").joinpath("trace.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    # dropout256 itself is 1 MB of JSON (2.5 s to validate) with nothing in its shape that the
    # same config 10 units wide lacks: a drawn mask (masks: null), glorot weights, unit
    # numbers of two digits (w3_12)
    narrow = yaml.safe_load(example_text("dropout256"))
    narrow["layers"] = [2, 10, 1]
    (tmp_path / "dropout10.yaml").write_text(yaml.safe_dump(narrow), encoding="utf-8")
    sources = [name for name in NETWORKS if name != "dropout256"]
    for name in [*sources, str(tmp_path / "dropout10.yaml")]:
        forms = [
            ["run", name],
            ["run", name, "--eval"],
            ["run", name, "--round", "3sf"],
            ["step", name, "-n", "5", "--trace", "1,last"],
        ]
        for args in forms:
            result = runner.invoke(cli, [*args, "--format", "json"])
            assert result.exit_code == 0, result.output
            errors = list(validator.iter_errors(json.loads(result.output)))
            assert errors == [], (args, errors[0].message if errors else "")
            if "dropout10" in name:
                assert json.loads(result.output)["network"]["dropout"]["masks"] is None
    # and it is a real constraint: a renamed field fails
    broken = json.loads(runner.invoke(cli, ["run", "--format", "json"]).output)
    broken["steps"][0]["layers"][0]["deltas"] = broken["steps"][0]["layers"][0].pop("delta")
    assert list(validator.iter_errors(broken))
