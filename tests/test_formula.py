"""A trace formula is read as structure — operations from the registries over named operands —
and evaluated through each operation's own definition: no eval, and an operation added to the
registry is traced, marked, quizzed and exported with no other file touched."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import backtrace_cli
from backtrace_cli import api, formula, models
from backtrace_cli.formula import Apply, Num, Ref
from backtrace_cli.network.config import example_names, examples_dir


@pytest.mark.parametrize(
    ("template", "values", "expected"),
    [
        (
            "{o3}(1 − {o3})·{w35}·{δ5}",
            {"o3": 0.6, "w35": 0.3, "δ5": -0.04},
            0.6 * 0.4 * 0.3 * -0.04,
        ),
        ("−{e}²", {"e": 3.0}, -9.0),  # the square binds tighter than the minus on its left
        ("½·{e5}²", {"e5": -0.2}, 0.5 * 0.04),
        ("2({o} − {t})", {"o": 0.7, "t": 0.5}, 2 * (0.7 - 0.5)),
        ("{a}^{b}^{c}", {"a": 2.0, "b": 3.0, "c": 2.0}, 2.0**9),  # right-associative
        ("{m}/(√{v} + {ε})", {"m": 0.1, "v": 0.04, "ε": 1e-8}, 0.1 / (0.2 + 1e-8)),
        (
            "{w} − {η}·{m}/(1 − {β1}^{t})",
            {"w": 1, "η": 0.1, "m": 2, "β1": 0.9, "t": 2},
            1 - 0.2 / 0.19,
        ),
        ("e^{n6}/({e6} + {e7})", {"n6": 0.0, "e6": 1.0, "e7": 3.0}, 0.25),
        ("e^({a} − {b})", {"a": 1.0, "b": 1.0}, 1.0),
        ("−{t}·ln {o}", {"t": 1.0, "o": math.e}, -1.0),
        ("log₁₀ {o}", {"o": 1000.0}, 3.0),
        ("[{net} > 0]·{g}", {"net": -1.0, "g": 5.0}, 0.0),
        ("[{net} ≤ 0]", {"net": 0.0}, 1.0),
        ("σ({net})", {"net": 0.755}, 1 / (1 + math.exp(-0.755))),
        ("tanh({a})·(1 − {o}²)", {"a": 0.5, "o": 0.2}, math.tanh(0.5) * 0.96),
        ("max({a}, {b}) + min({a}, {b})", {"a": 2.0, "b": -1.0}, 1.0),
        ("exp({x}) + log({x}) + sqrt({x})", {"x": 4.0}, math.exp(4) + math.log(4) + 2.0),
        ("{x}·0.7 + 1e-05", {"x": 1.0}, 0.7 + 1e-05),
    ],
)
def test_a_template_evaluates_as_its_maths(template, values, expected):
    parsed = formula.parse(template)
    assert parsed is not None
    assert formula.evaluate(parsed, values) == pytest.approx(expected, rel=1e-12)


def test_the_structure_is_operations_over_operands():
    assert formula.parse("{o3}(1 − {o3})") == Apply(
        "mul", (Ref("o3"), Apply("sub", (Num(1.0), Ref("o3"))))
    )
    assert formula.names(formula.parse("{a}·{b} + {a}")) == ("a", "b")


@pytest.mark.parametrize(
    "template",
    [
        "{w3_259}·{õ3} + … (256 terms) + {w258_259}·{õ258}",  # a sum the trace elides
        "Σ_k {w}·{δ}",
        "cos({x})",  # no operation of that name in any registry
        "__import__('os')",
        "{a} +",
    ],
)
def test_what_is_not_a_formula_of_its_operands_is_none(template):
    assert formula.parse(template) is None


def test_a_value_outside_a_domain_or_a_missing_operand_is_none():
    assert formula.evaluate(formula.parse("ln {o}"), {"o": 0.0}) is None
    assert formula.evaluate(formula.parse("{a}/{b}"), {"a": 1.0, "b": 0.0}) is None
    assert formula.evaluate(formula.parse("e^{a}"), {"a": 1e4}) is None
    assert formula.evaluate(formula.parse("{a}·{b}"), {"a": 1.0}) is None


@pytest.mark.parametrize("name", example_names())
def test_every_traced_row_is_its_formula_of_its_operands(name):
    """What the marker relies on: each row's formula (or its working, for batch sums) gives
    the engine's value from the row's operands — the rows of every built-in example, with the
    chain-rule rows and in a textbook's notation (a model's in each book: its δ's sign
    negates its δ rows and their operands, and writes its output's δ and its gradients anew).
    Only sums elided with "…" have none."""
    worked = [api.trace(name)]
    kind = models.kind(models.load(name))
    if kind == "network":  # a graph's names are its own
        worked += [api.trace(name, gradients=True), api.trace(name, notation="nielsen")]
    if kind == "model":
        worked += [api.trace(name, notation=book) for book in ("nielsen", "hagan", "mazur")]
    for w in worked:
        for step in getattr(w.records, "steps", ()):
            for _section, row in step.equations():
                values = [
                    formula.evaluate(parsed, row.values())
                    for template in (row.formula, row.working)
                    if template is not None and (parsed := formula.parse(template)) is not None
                ]
                if "…" in row.formula:
                    assert values == []
                    continue
                assert any(
                    v is not None and math.isclose(v, row.value, rel_tol=1e-9, abs_tol=1e-12)
                    for v in values
                ), (row.symbol, row.formula, row.working, values, row.value)


SIN = """
_function(
    "sin",
    math.sin,
    lambda a, out: math.cos(a),
    lambda a: _fn("sin", a),
    lambda a: f"\\\\sin({_bare(a)})",
    lambda a, out: f"cos({_bare(a)})",
    lambda a, out: f"\\\\cos({_bare(a)})",
)
"""


RUN_EACH = """\
import json, sys
from click.testing import CliRunner
import backtrace_cli
from backtrace_cli.cli import cli
results = [backtrace_cli.__file__]
for args, stdin in json.loads(sys.argv[1]):
    done = CliRunner().invoke(cli, args, input=stdin)
    escaped = "" if done.exception is None else repr(done.exception)
    results.append([done.exit_code, done.stdout, done.stderr + escaped])
print(json.dumps(results))
"""


def test_an_operation_added_to_the_registry_is_traced_marked_quizzed_and_exported(tmp_path):
    """`sin` appended to operations.py in a copy of the package, and nothing else changed:
    a graph using it is traced, a value that follows from a wrong sin is credited as following,
    the quiz asks it, and the markdown writes it."""
    package = tmp_path / "backtrace_cli"
    shutil.copytree(Path(backtrace_cli.__file__).parent, package)
    if not (package / "configs").is_dir():  # a checkout: the examples sit beside the package
        shutil.copytree(examples_dir(), package / "configs")
    with (package / "definitions" / "operations.py").open("a", encoding="utf-8") as stream:
        stream.write(SIN)
    (tmp_path / "g.yaml").write_text(
        "name: f = sin(2x)·y\nnodes:\n  q: x * 2\n  s: sin(q)\n  f: s * y\n"
        "inputs: {x: 1.0, y: 3.0}\n"
    )
    x, y = 1.0, 3.0
    q = 2 * x
    s, ds_dq = math.sin(q), math.cos(q)
    theirs = 2.5  # the student's q, wrong; sin of it, and that times y, follow from it
    (tmp_path / "a.yaml").write_text(
        f"exercise: g.yaml\nanswers:\n  q: {theirs}\n  s: {math.sin(theirs):.6f}\n"
        f"  f: {3 * math.sin(theirs):.6f}\n"
    )

    # asked: each node's value, then ∂f/∂ of each node and input (∂f/∂s, ∂f/∂y, ∂f/∂q, ∂f/∂x);
    # the chain rule's factors (∂f/∂f = 1, ∂s/∂q = cos q, ∂q/∂x = 2) are given, not asked
    right = [q, s, s * y, y, s, y * ds_dq, y * ds_dq * 2]
    commands = [
        (["run", "g.yaml", "--format", "json"], ""),
        (["check", "a.yaml", "--format", "json"], ""),
        (["quiz", "g.yaml"], "".join(f"{v:.12g}\n" for v in right)),
        (["run", "g.yaml", "--format", "markdown"], ""),
    ]
    # the four commands in one process that imports the copy (one start, not four)
    done = subprocess.run(
        [sys.executable, "-c", RUN_EACH, json.dumps(commands)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin", "COLUMNS": "100"},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    imported, *results = json.loads(done.stdout)
    assert imported == str(package / "__init__.py")  # the copy with sin, not this checkout
    traced, marked, asked, exported = (
        subprocess.CompletedProcess(args, *result) for (args, _), result in zip(commands, results)
    )
    assert traced.returncode == 0, traced.stderr
    nodes = {n["name"]: n for n in json.loads(traced.stdout)["nodes"]}
    assert nodes["s"]["op"] == "sin"
    assert nodes["s"]["value"] == pytest.approx(s)
    assert nodes["s"]["grad"] == pytest.approx(y)
    assert json.loads(traced.stdout)["gradients"]["x"] == pytest.approx(y * ds_dq * 2)

    assert marked.returncode == 1, marked.stderr
    verdicts = {a["symbol"]: a["kind"] for a in json.loads(marked.stdout)["answers"]}
    assert verdicts == {"q": "wrong", "s": "follows", "f": "follows"}

    n = len(right)
    assert f"[2/{n}] s = sin(q)" in asked.stdout, asked.stdout
    assert f"∂f/∂q = ∂f/∂s·∂s/∂q\n      with ∂f/∂s = 3, ∂s/∂q = {ds_dq:.6f}".replace("-", "−") in (
        asked.stdout
    )  # sin's own derivative, cos q, from the operation added
    assert f"Score: {n} of {n}" in asked.stdout, asked.stdout
    assert asked.returncode == 0

    assert exported.returncode == 0, exported.stderr
    assert "\\sin(q)" in exported.stdout and "\\sin(2)" in exported.stdout
