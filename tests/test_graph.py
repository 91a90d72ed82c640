"""Computational graphs: `expression:` / `nodes:` configs traced node by node.

Expectations come from outside the program: CS231n's published figures, derivations written
here, and central finite differences of a forward pass this test computes itself."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from backtrace_cli import api
from backtrace_cli.cli import cli

ROOT = Path(__file__).resolve().parent.parent


def graph_json(runner, *args: str) -> dict:
    result = runner.invoke(cli, ["run", *args, "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["format"] == "backtrace-graph" and data["version"] == 1
    return data


def write(tmp_path: Path, text: str, name: str = "graph.yaml") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def gradients_of(expression: str, **inputs: float) -> tuple[float, dict[str, float]]:
    done = api.trace({"expression": expression, "inputs": inputs}).records
    return done.value, dict(done.gradients)


# ---------------------------------------------------------------- the published figures


def test_cs231n_circuit_x_plus_y_times_z(runner):
    """CS231n's first circuit: q = x + y = 3, f = q·z = −12; ∂f/∂x = ∂f/∂y = z = −4,
    ∂f/∂z = q = 3."""
    data = graph_json(runner, "circuit")
    assert data["output"] == "f" and data["value"] == -12
    assert data["gradients"] == {"x": -4, "y": -4, "z": 3}
    nodes = {n["name"]: n for n in data["nodes"]}
    assert [n["name"] for n in data["nodes"]] == ["q", "f"]
    assert nodes["q"] == {
        "name": "q",
        "op": "add",
        "inputs": ["x", "y"],
        "value": 3,
        "grad": -4,
        "named": True,
    }
    assert nodes["f"]["op"] == "mul" and nodes["f"]["grad"] == 1


def test_cs231n_sigmoid_neuron_circuit(runner):
    """CS231n's 2-D neuron: f = 0.73; dw0 = −0.20, dx0 = 0.39, dw1 = −0.39, dx1 = −0.59,
    dw2 = 0.20 (the notes print two decimals)."""
    data = graph_json(runner, "neuron_circuit")
    assert round(data["value"], 2) == 0.73
    rounded = {k: round(v, 2) for k, v in data["gradients"].items()}
    assert rounded == {"w0": -0.2, "x0": 0.39, "w1": -0.39, "x1": -0.59, "w2": 0.2}
    # and exactly: σ(1)·(1 − σ(1)) times the wires' other values
    s = 1 / (1 + math.exp(-1.0))
    ds = s * (1 - s)
    expected = {"w0": ds * -1, "x0": ds * 2, "w1": ds * -2, "x1": ds * -3, "w2": ds}
    assert data["gradients"] == pytest.approx(expected, rel=1e-14)


def test_the_notes_chain_rule_unit_as_a_graph_agrees_with_the_network_example(runner):
    """x → wx + b → ŷ → (ŷ − y)²: ∂loss/∂w = 2(ŷ − y)·x, ∂loss/∂b = 2(ŷ − y); one update
    with η = 0.05 gives the same w and b as the `chain_rule` network's step."""
    data = graph_json(runner, "chain_rule_graph")
    x, w, b, y, eta = 2.0, 0.5, 0.1, 1.5, 0.05
    yhat = w * x + b
    assert data["value"] == pytest.approx((yhat - y) ** 2)
    assert data["gradients"]["w"] == pytest.approx(2 * (yhat - y) * x)
    assert data["gradients"]["b"] == pytest.approx(2 * (yhat - y))
    assert data["update"]["w"]["after"] == pytest.approx(w - eta * 2 * (yhat - y) * x)
    network = api.trace("chain_rule").records.changes
    after = {c.symbol: c.after for c in network}
    assert data["update"]["w"]["after"] == pytest.approx(after["w12"], rel=1e-12)
    assert data["update"]["b"]["after"] == pytest.approx(after["b2"], rel=1e-12)


def test_descent_minimises_theta_minus_3_squared(runner):
    """θ ← θ − η·2(θ − 3) shrinks θ − 3 by (1 − 2η) per epoch: θ_N = 3 − 3·(1 − 2η)^N."""
    result = runner.invoke(cli, ["step", "descent", "-n", "30", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert len(data["epochs"]) == 30
    for row in data["epochs"]:
        n = row["epoch"]
        assert row["parameters"]["theta"] == pytest.approx(3 - 3 * 0.8**n, rel=1e-12)
        assert row["loss"] == pytest.approx((3 * 0.8 ** (n - 1)) ** 2, rel=1e-12)
        assert row["loss_after"] == pytest.approx((3 * 0.8**n) ** 2, rel=1e-12)


def test_step_shows_the_table_and_the_curve(runner):
    result = runner.invoke(cli, ["step", "descent", "-n", "30"])
    assert result.exit_code == 0, result.output
    assert "f after each epoch" in result.output and "█" in result.output
    assert "new theta" in result.output


def test_step_without_parameters_says_what_to_add(runner):
    result = runner.invoke(cli, ["step", "circuit", "-n", "3"])
    assert result.exit_code == 2
    assert "parameters: missing" in result.output and "learning_rate" in result.output


# ---------------------------------------------------------------- the gate patterns


def test_add_distributes_the_upstream_gradient_unchanged():
    # f = (a + b)·c: upstream ∂f/∂q = c, and the add gate's local gradients are 1 and 1
    f, g = gradients_of("(a + b) * c", a=1.5, b=-0.25, c=-3.0)
    assert f == (1.5 - 0.25) * -3.0
    assert g == {"a": -3.0, "b": -3.0, "c": 1.25}


def test_multiply_swaps_the_inputs():
    # f = a·b: ∂f/∂a = b, ∂f/∂b = a
    worked = api.trace({"expression": "a * b", "inputs": {"a": 4.0, "b": -0.5}})
    assert dict(worked.records.gradients) == {"a": -0.5, "b": 4.0}
    text = str(worked)
    assert "multiply swaps" in text
    local = {row.symbol: row.value for b in worked.records.blocks for row in b.rows}
    assert local["∂f/∂a"] == -0.5 and local["∂f/∂b"] == 4.0


def test_max_routes_the_gradient_to_the_larger_input():
    # f = max(a, b)·c with a > b: all of ∂f/∂m = c goes to a, none to b
    worked = api.trace({"expression": "max(a, b) * c", "inputs": {"a": 2.0, "b": 1.0, "c": 5}})
    assert dict(worked.records.gradients) == {"a": 5.0, "b": 0.0, "c": 2.0}
    assert "max routes" in str(worked)
    # min routes to the smaller
    assert gradients_of("min(a, b)", a=2.0, b=1.0)[1] == {"a": 0.0, "b": 1.0}
    # a tie splits it equally (PyTorch's maximum)
    assert gradients_of("max(a, b)", a=1.0, b=1.0)[1] == {"a": 0.5, "b": 0.5}


def test_a_copy_sums_its_branches():
    # f = x·y + x: x feeds two nodes; ∂f/∂x = y (through the product) + 1 (through the sum)
    worked = api.trace({"expression": "x * y + x", "inputs": {"x": 3.0, "y": -2.0}})
    assert dict(worked.records.gradients) == {"x": -2.0 + 1.0, "y": 3.0}
    assert "a copy sums: x feeds 2 nodes" in str(worked)
    # a value used twice by one node: x·x, 2x
    assert gradients_of("x * x", x=3.0)[1] == {"x": 6.0}
    # an inner node used twice: q = x + 1, f = q·q + q → ∂f/∂x = 2q + 1
    done = api.trace({"nodes": {"q": "x + 1", "f": "q * q + q"}, "inputs": {"x": 2.0}})
    assert dict(done.records.gradients) == {"x": 2 * 3.0 + 1}


def test_the_outputs_own_branch_is_not_named_as_the_whole_gradient():
    """f = x·y + x: at the output f = n1 + x, the local ∂f/∂x = 1 is one branch of ∂f/∂x = y + 1.
    Named ∂f/∂x it took the whole gradient's name, and the right answer y + 1 was marked
    wrong against it."""
    graph = {"expression": "x * y + x", "inputs": {"x": 3.0, "y": -2.0}}
    rows = [r.symbol for b in api.trace(graph).records.blocks for r in b.rows]
    assert rows.count("∂f/∂x") == 1 and "∂f/∂x via f" in rows
    report = api.check_report({"df/dx": -2.0 + 1.0, "df/dy": 3.0}, graph)
    assert {v.symbol: v.kind for v in report.answered} == {"∂f/∂x": "right", "∂f/∂y": "right"}


def test_the_backward_pass_shows_upstream_local_and_their_product():
    worked = api.trace("circuit").records
    rows = {r.symbol: r for block in worked.blocks for r in block.rows}
    # ∂f/∂x = ∂f/∂q · ∂q/∂x = (−4)·1
    product = [r for b in worked.blocks if b.title == "Backward · q" for r in b.rows]
    assert [r.symbol for r in product] == ["∂q/∂x", "∂f/∂x", "∂q/∂y", "∂f/∂y"]
    assert [o.value for o in rows["∂f/∂x"].structure.operands] == [-4.0, 1.0]
    assert rows["∂f/∂x"].structure.writer == "product"


# ---------------------------------------------------------------- syntax and precedence


@pytest.mark.parametrize(
    ("text", "x", "expected"),
    [
        ("-x^2", 3.0, -9.0),  # power binds tighter than the unary minus on its left
        ("-x**2", 3.0, -9.0),
        ("(-x)^2", 3.0, 9.0),
        ("2^3^2 + 0*x", 1.0, 512.0),  # right-associative, as in maths and Python
        ("x^-1", 4.0, 0.25),
        ("x * -2", 3.0, -6.0),
        ("1 - -x", 2.0, 3.0),
        ("x − 1", 2.0, 1.0),  # the tool's own minus sign
        ("2·x", 2.0, 4.0),
        ("x / 2 / 4", 16.0, 2.0),  # left to right
        ("x - 2 - 4", 16.0, 10.0),
        ("sqrt(x) + abs(-x) + log(exp(x))", 4.0, 2.0 + 4.0 + 4.0),
        ("relu(-x) + relu(x) + tanh(0*x) + sigmoid(0*x)", 2.0, 2.5),
        ("1e-3 * x + .5", 1000.0, 1.5),
    ],
)
def test_operators_bind_as_in_maths(text, x, expected):
    f, _ = gradients_of(text, x=x)
    assert f == pytest.approx(expected, rel=1e-15)


# ---------------------------------------------------------------- random expressions


@st.composite
def expressions(draw: st.DrawFn, depth: int = 0) -> tuple[str, object]:
    """An expression's text and an independent evaluator of it: env → (value, margin),
    margin being the smallest distance of a kink's argument (abs, relu, max, min) from it."""
    names = ("a", "b", "c")
    if depth >= 4 or draw(st.integers(0, 3)) == 0:
        if draw(st.booleans()):
            name = draw(st.sampled_from(names))
            return name, lambda env, n=name: (env[n], math.inf)
        k = draw(st.sampled_from([0.5, 2.0, 3.0, 1.5]))
        return str(k), lambda env, k=k: (k, math.inf)
    kind = draw(
        st.sampled_from(
            [
                *("+", "-", "*", "/", "^2", "^3", "pow", "neg", "exp", "log", "sqrt", "abs"),
                *("sigmoid", "tanh", "relu", "max", "min"),
            ]
        )
    )
    a_text, a = draw(expressions(depth + 1))
    if kind in ("+", "-", "*", "/", "max", "min", "pow"):
        b_text, b = draw(expressions(depth + 1))

        def two(env, kind=kind, a=a, b=b):
            (x, m1), (y, m2) = a(env), b(env)
            m = min(m1, m2)
            if kind == "+":
                return x + y, m
            if kind == "-":
                return x - y, m
            if kind == "*":
                return x * y, m
            if kind == "/":
                return x / (1 + y * y), m
            if kind == "pow":
                return (1 + x * x) ** math.tanh(y), m
            if kind == "max":
                return max(x, y), min(m, abs(x - y))
            return min(x, y), min(m, abs(x - y))

        text = {
            "+": f"({a_text} + {b_text})",
            "-": f"({a_text} - {b_text})",
            "*": f"({a_text} * {b_text})",
            "/": f"({a_text} / (1 + ({b_text})^2))",
            "pow": f"((1 + ({a_text})^2) ** tanh({b_text}))",
            "max": f"max({a_text}, {b_text})",
            "min": f"min({a_text}, {b_text})",
        }[kind]
        return text, two

    def one(env, kind=kind, a=a):
        x, m = a(env)
        if kind == "^2":
            return x**2, m
        if kind == "^3":
            return x**3, m
        if kind == "neg":
            return -x, m
        if kind == "exp":
            return math.exp(math.tanh(x)), m
        if kind == "log":
            return math.log(1 + x * x), m
        if kind == "sqrt":
            return math.sqrt(1 + x * x), m
        if kind == "abs":
            return abs(x), min(m, abs(x))
        if kind == "sigmoid":
            return 1 / (1 + math.exp(-x)) if x > -700 else 0.0, m
        if kind == "tanh":
            return math.tanh(x), m
        return max(x, 0.0), min(m, abs(x))

    text = {
        "^2": f"{a_text}^2",
        "^3": f"{a_text}**3",
        "neg": f"-{a_text}",
        "exp": f"exp(tanh({a_text}))",
        "log": f"log(1 + ({a_text})^2)",
        "sqrt": f"sqrt(1 + ({a_text})^2)",
        "abs": f"abs({a_text})",
        "sigmoid": f"sigmoid({a_text})",
        "tanh": f"tanh({a_text})",
        "relu": f"relu({a_text})",
    }[kind]
    # ^ binds tighter than a unary minus on its left: parenthesise what a power raises
    if kind in ("^2", "^3") and not re.fullmatch(r"[\w.]+", a_text):
        text = f"({a_text}){'^2' if kind == '^2' else '**3'}"
    if kind == "neg":
        text = f"(-{a_text})"
    return text, one


values = st.floats(-2, 2, allow_nan=False).map(lambda v: round(v, 3))
H = 1e-6


# 150 random expressions a run (each run draws new ones): 300 cost 2.8 s of a suite held to 60 s
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expressions(), values, values, values)
def test_gradients_equal_central_finite_differences(case, a, b, c):
    text, fn = case
    env = {"a": a, "b": b, "c": c}
    try:
        value, margin = fn(env)
    except (OverflowError, ZeroDivisionError, ValueError):
        assume(False)
    assume(math.isfinite(value) and abs(value) < 1e6 and margin > 1e-3)
    used = set(re.findall(r"\b[abc]\b", text))
    inputs = {k: v for k, v in env.items() if k in used} or {"a": a}
    done = api.trace({"expression": text, "inputs": inputs}).records
    assert done.value == pytest.approx(value, rel=1e-12, abs=1e-12), text
    for name, grad in done.gradients:
        up = fn({**env, name: env[name] + H})[0]
        down = fn({**env, name: env[name] - H})[0]
        numeric = (up - down) / (2 * H)
        assert grad == pytest.approx(numeric, rel=1e-5, abs=1e-6 * (1 + abs(value))), (
            text,
            name,
        )


# ---------------------------------------------------------------- hostile and bad input


HOSTILE = [
    ("__import__('os')", "'__import__' is not a function here"),
    ("x.__class__", "attribute access"),
    ("().__class__", "unexpected ')'"),
    ("eval('1')", "'eval' is not a function here"),
    ("open(x)", "'open' is not a function here"),
    ("x[0]", "brackets have no meaning"),
    ("lambda: x", "unexpected ':'"),
    ("lambda", "unknown name 'lambda'"),
    ("x if x else x", "write * between factors"),
    ("exp(x, x)", "exp takes one argument, found 2"),
    ("max(x)", "max takes 2 arguments, found 1"),
    ("x = 1", "an expression has no `=`"),
    ("2 x", "write * between factors"),
    ("x +", "the expression ends where"),
    ("(x", "a closing )"),
    ("xx + 1", "unknown name 'xx': not an input or a node; did you mean 'x'?"),
    ("log(0)", "log of 0: log is defined for values > 0"),
    ("sqrt(-1)", "sqrt of a negative number"),
    ("x / 0", "division by 0"),
    ("exp(1000)", "overflow"),
    ("(" * 1000 + "x" + ")" * 1000, "nested more than 60 levels"),
    ("-" * 1000 + "x", "nested more than 60 levels"),
    ("x" + "+x" * 2500, "more than 500 operations"),
    ("x" + " " * 20_000, "an expression may have at most 10,000"),
    ("", "empty"),
]


@pytest.mark.parametrize(("expression", "message"), HOSTILE)
def test_hostile_or_broken_expressions_are_refused_with_their_place(
    runner, tmp_path, expression, message
):
    line = f"expression: {json.dumps(expression)}"
    path = write(tmp_path, f"name: hostile\n{line}\ninputs: {{x: 1}}\n")
    result = runner.invoke(cli, ["run", path])
    assert result.exit_code == 2, result.output
    assert message in result.output, result.output
    assert result.output.startswith(f"Error: {path}, line 2")
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert len(result.output) < 400  # one message, not the expression echoed back


def test_the_column_is_the_character_in_the_yaml_line(runner, tmp_path):
    text = "nodes:\n  q: x + y\n  f: q * zz\ninputs: {x: -2, y: 5, z: -4}\n"
    result = runner.invoke(cli, ["run", write(tmp_path, text)])
    column = text.splitlines()[2].index("zz") + 1
    assert result.exit_code == 2
    assert result.output.startswith(
        f"Error: {tmp_path / 'graph.yaml'}, line 3, column {column}, nodes.f: unknown name 'zz'"
    )
    # in a quoted scalar, after the quote
    text = 'expression: "x + __import__(1)"\ninputs: {x: 1}\n'
    result = runner.invoke(cli, ["run", write(tmp_path, text, "q.yaml")])
    assert f"line 1, column {text.index('__import__') + 1}, expression:" in result.output


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("nodes: {q: f + 1, f: q * 2}\ninputs: {}\n", "a cycle: q → f → q"),
        ("nodes: {q: q + 1}\ninputs: {}\n", "a cycle"),
        ("nodes: {x: 1}\ninputs: {x: 2}\n", "'x' is an input already"),
        ("nodes: {exp: 1}\ninputs: {}\n", "'exp' cannot be a node's name: is a function's name"),
        ("expression: log(x)\ninputs: {x: 0}\n", "log of 0"),
        ("expression: 1 / (x - y)\ninputs: {x: 2, y: 2}\n", "division by 0"),
        ("expression: sqrt(x)\ninputs: {x: -4}\n", "sqrt of a negative number (−4)"),
        ("expression: sqrt(x)\ninputs: {x: 0}\n", "infinite at 0"),
        ("expression: exp(x)\ninputs: {x: 1000}\n", "overflow"),
        ("expression: x ^ 0.5\ninputs: {x: -1}\n", "not whole has no real value"),
        ("expression: x ^ y\ninputs: {x: -2, y: 2}\n", "needs a > 0"),
        ("expression: x\nnodes: {q: x}\ninputs: {x: 1}\n", "not both"),
        ("expression: x\ninputs: {x: 1}\nlayers: [1, 1]\n", "unknown key (a graph config"),
        ("expression: x\ninputs: {x: one}\n", "'one' is not a number"),
        ("expression: x\ninputs: {x: 1}\nparameters: [y]\nlearning_rate: 1\n", "not an input"),
        ("expression: x\ninputs: {x: 1}\nparameters: [x]\n", "learning_rate: missing"),
        ("nodes: {q: x}\noutput: r\ninputs: {x: 1}\n", "'r' is not a node"),
        ("expression: [x]\ninputs: {x: 1}\n", "is not an expression"),
    ],
)
def test_bad_graphs_exit_2_with_one_located_message(runner, tmp_path, text, message):
    path = write(tmp_path, text)
    result = runner.invoke(cli, ["run", path])
    assert result.exit_code == 2, result.output
    assert message in result.output, result.output
    assert result.output.startswith(f"Error: {path}, line ")
    assert result.output.count("\n") == 1


GRAPH_KEYS = (
    "valid keys: name, description, expression, nodes, output, inputs, parameters, "
    "learning_rate, optimizer, weight_decay"
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "node:\n  q: x + y\n  f: q * z\ninputs: {x: -2, y: 5, z: -4}\n",
            f"line 1, column 1, node: unknown key; did you mean 'nodes'? {GRAPH_KEYS}",
        ),
        (
            "expresion: (x + y) * z\ninputs: {x: -2, y: 5, z: -4}\n",
            f"line 1, column 1, expresion: unknown key; did you mean 'expression'? {GRAPH_KEYS}",
        ),
        (
            "name: f\nexpresion: x * 2\n",  # no inputs: the misspelling alone tells
            f"line 2, column 1, expresion: unknown key; did you mean 'expression'? {GRAPH_KEYS}",
        ),
        (
            "inputs: {x: -2, y: 5}\n",  # inputs by name: a graph's, which has no expression
            "line 1, column 1, expression: missing; a computational graph gives "
            "`expression: (x + y) * z` (one line) or `nodes: {q: x + y, f: q * z}` "
            "(named steps)",
        ),
        (
            # a network's misspelling stays a network's
            "layers: [2, 1]\nnode: online\n",
            "line 2, column 1, node: unknown key; did you mean 'mode'?",
        ),
    ],
    ids=["node", "expresion", "expresion alone", "inputs by name", "network's mode"],
)
def test_a_misspelt_key_is_told_from_the_keys_of_its_kind(runner, tmp_path, text, expected):
    path = write(tmp_path, text)
    result = runner.invoke(cli, ["run", path])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert result.output.startswith(f"Error: {path}, {expected}")
    assert result.output.count("\n") == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "expression: 1e400 * x\ninputs: {x: 2}\n",
            "line 1, column 13, expression: '1e400' is too large for float64",
        ),
        ("expression: 1e400\n", "line 1, column 13, expression: '1e400' is too large for float64"),
        (
            "expression: x * -1e400\ninputs: {x: 2}\n",
            "line 1, column 18, expression: '1e400' is too large",
        ),
        # a value computed past float64: the operation as the trace writes it, with its numbers
        (
            "expression: x * y\ninputs: {x: 1e300, y: -1e300}\n",
            "line 1, column 15, expression: node f: overflow: 1e+300·(−1e+300) is beyond what "
            "float64 holds (about 1.8e308)",
        ),
        (
            "expression: 2 ^ x\ninputs: {x: 2000}\n",
            "line 1, column 15, expression: node f: overflow: 2^2000 is beyond",
        ),
    ],
)
def test_numbers_past_float64_are_pointed_at_never_an_internal_name(
    runner, tmp_path, text, expected
):
    path = write(tmp_path, text)
    result = runner.invoke(cli, ["run", path])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert result.output.startswith(f"Error: {path}, {expected}")
    for internal in ("id of", "mul of", "pow of", " inf"):
        assert internal not in result.output


def test_a_runtime_domain_error_points_at_the_operation(runner, tmp_path):
    text = "nodes:\n  q: x - y\n  f: log(q)\ninputs: {x: 2, y: 2}\n"
    result = runner.invoke(cli, ["run", write(tmp_path, text)])
    assert result.exit_code == 2
    column = text.splitlines()[2].index("log") + 1
    assert f"line 3, column {column}, nodes.f: node f: log of 0" in result.output


# ---------------------------------------------------------------- options


def test_verify_puts_the_finite_difference_beside_each_gradient(runner):
    data = graph_json(runner, "neuron_circuit", "--verify")
    assert [c["input"] for c in data["verify"]] == ["w0", "x0", "w1", "x1", "w2"]
    for c in data["verify"]:
        assert c["agrees"] and c["finite_difference"] == pytest.approx(c["backprop"], rel=1e-6)
    table = runner.invoke(cli, ["run", "neuron_circuit", "--verify"]).output
    assert "finite difference" in table and "All 5 gradients agree" in table


def test_round_3sf_carries_rounded_values_as_a_student_does():
    """exp(−1) = 0.368 (3sf), 1 + 0.368 = 1.37 (3sf), 1/1.37 = 0.730 — where full
    precision gives 0.731."""
    done = api.trace("neuron_circuit", rounding="3sf").records
    values = {n.name: n.value for n in done.nodes}
    assert values["n6"] == 0.368 and values["n7"] == 1.37 and values["f"] == 0.73
    # ∂f/∂n7 = −1/1.37² = −0.5328… → −0.533
    assert {n.name: n.grad for n in done.nodes}["n7"] == -0.533


def test_eval_is_the_forward_pass_only(runner):
    data = graph_json(runner, "circuit", "--eval")
    assert data["value"] == -12 and data["gradients"] is None
    assert all(n["grad"] is None for n in data["nodes"])


def test_every_graph_json_validates_against_its_shipped_schema(runner):
    from importlib.resources import files

    import jsonschema
    from conftest import GRAPHS

    schema = json.loads(files("backtrace_cli").joinpath("graph.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    for name in GRAPHS:
        runs = [["run", name], ["run", name, "--eval"], ["run", name, "--round", "3sf"]]
        runs.append(["run", name, "--verify"])
        if "parameters" in api.load(name).__slots__ and api.load(name).parameters:
            runs.append(["step", name, "-n", "5", "--trace", "1,last"])
        for args in runs:
            result = runner.invoke(cli, [*args, "--format", "json"])
            assert result.exit_code == 0, result.output
            errors = list(validator.iter_errors(json.loads(result.output)))
            assert errors == [], (args, errors[0].message if errors else "")
    broken = graph_json(runner, "circuit")
    broken["nodes"][0]["gradient"] = broken["nodes"][0].pop("grad")
    assert list(validator.iter_errors(broken))


def test_markdown_has_the_circuit_with_values_and_gradients(runner):
    result = runner.invoke(cli, ["run", "circuit", "--format", "markdown"])
    assert result.exit_code == 0
    text = result.output
    assert "```mermaid" in text and "flowchart TB" in text  # stage by stage, down the page
    assert "q = x + y<br/>= 3<br/>∂f/∂q = −4" in text
    assert "\\frac{\\partial f}{\\partial x} &= " in text


def test_the_graph_pages_sample_is_the_current_output(runner):
    page = (ROOT / "docs" / "graphs.md").read_text(encoding="utf-8")
    sample = re.search(r"```console\n\$ backtrace run circuit\n(.*?)\n```", page, re.S).group(1)
    result = runner.invoke(cli, ["run", "circuit"], env={"COLUMNS": "80"})
    assert [line.rstrip() for line in result.output.rstrip("\n").splitlines()] == [
        line.rstrip() for line in sample.splitlines()
    ], "docs/graphs.md's sample is stale: regenerate it with `COLUMNS=80 backtrace run circuit`"


def test_a_routing_gate_discards_an_infinite_branch_as_autograd_does():
    # f = max(1, sqrt(relu(x))) at x = −1: relu(x) = 0 and √0 has an infinite slope, but the
    # max routes nothing into that branch: f is 1 all around x = −1, so ∂f/∂x = 0
    f, g = gradients_of("max(1, sqrt(relu(x)))", x=-1.0)
    assert (f, g) == (1.0, {"x": 0.0})
    # where the infinite slope reaches an input, it is refused: √x at 0
    with pytest.raises(api.ConfigError, match="infinite at 0"):
        gradients_of("sqrt(x) + 1", x=0.0)


# ---------------------------------------------------------------- optimizers


def _theta_after(runner, tmp_path, optimizer: str, epochs: int, extra: str = "") -> list[float]:
    text = (
        f"expression: theta^2\ninputs: {{theta: 1.5}}\nparameters: [theta]\n"
        f"learning_rate: 0.1\noptimizer: {optimizer}\n{extra}"
    )
    path = write(tmp_path, text)
    result = runner.invoke(cli, ["step", path, "-n", str(epochs), "--format", "json"])
    assert result.exit_code == 0, result.output
    return [e["parameters"]["theta"] for e in json.loads(result.output)["epochs"]]


def test_adam_minimises_a_graph_with_torch_optims_formulas(runner, tmp_path):
    """f = θ², g = 2θ; Adam as torch.optim writes it, computed here step by step."""
    b1, b2, eps, eta = 0.9, 0.999, 1e-8, 0.1
    theta, m, v, expected = 1.5, 0.0, 0.0, []
    for t in range(1, 4):
        g = 2 * theta
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        theta -= eta * (m / (1 - b1**t)) / (math.sqrt(v / (1 - b2**t)) + eps)
        expected.append(theta)
    assert _theta_after(runner, tmp_path, "adam", 3) == pytest.approx(expected, rel=1e-14)


def test_momentum_and_weight_decay_on_a_graph(runner, tmp_path):
    """v ← μ·v + g with g = 2θ + λ·θ (L2), θ ← θ − η·v."""
    mu, lam, eta = 0.9, 0.01, 0.1
    theta, v, expected = 1.5, 0.0, []
    for _ in range(3):
        g = 2 * theta + lam * theta
        v = mu * v + g
        theta -= eta * v
        expected.append(theta)
    got = _theta_after(runner, tmp_path, "momentum", 3, "weight_decay: 0.01\n")
    assert got == pytest.approx(expected, rel=1e-14)


def test_the_optimizers_lines_are_traced_with_their_numbers(runner, tmp_path):
    text = "expression: theta^2\ninputs: {theta: 1.5}\nparameters: [theta]\nlearning_rate: 0.1\n"
    result = runner.invoke(cli, ["run", write(tmp_path, text + "optimizer: adam\n")])
    assert result.exit_code == 0
    # m = 0.9·0 + (1 − 0.9)·3 = 0.3, v̂ = 0.009/(1 − 0.999) = 9
    assert "0.9·0 + (1 − 0.9)·3" in result.output and "0.009/(1 − 0.999^1)" in result.output
    bad = runner.invoke(cli, ["run", write(tmp_path, text + "optimizer: adamm\n", "b.yaml")])
    assert bad.exit_code == 2 and "did you mean 'adam'" in bad.output


# ---------------------------------------------------------------- check


def _check(runner, tmp_path, body: str) -> tuple[int, str]:
    path = write(tmp_path, body, "answers.yaml")
    result = runner.invoke(cli, ["check", path])
    return result.exit_code, result.output


def test_check_marks_a_circuit_by_its_names(runner, tmp_path):
    # q = x + y = 3, f = q·z = −12, ∂f/∂q = z = −4, ∂f/∂x = ∂f/∂y = −4, ∂f/∂z = q = 3
    body = "exercise: circuit\nanswers:\n  q: 3\n  f: -12\n  df/dq: -4\n  df/dx: -4\n"
    body += "  ∂f/∂y: −4\n  df/dz: 3\n"
    status, output = _check(runner, tmp_path, body)
    assert status == 0, output
    assert "6 of 6 questions right" in output  # the 5 questions and ∂f/∂q


def test_check_names_the_first_wrong_answer_with_its_working(runner, tmp_path):
    status, output = _check(runner, tmp_path, "exercise: circuit\nanswers:\n  df/dy: 4\n")
    assert status == 1
    assert "First wrong answer: ∂f/∂y" in output
    assert "∂f/∂y = ∂f/∂q·∂q/∂y = (−4)·1 = −4" in output


def test_check_credits_a_value_that_follows_from_a_wrong_one(runner, tmp_path):
    # q written as 4 (wrong: 3); f = q·z = 4·(−4) = −16 follows from it, as does ∂f/∂z = q = 4
    body = "exercise: circuit\nanswers:\n  q: 4\n  f: -16\n  df/dz: 4\n"
    status, output = _check(runner, tmp_path, body)
    assert status == 1
    assert re.search(r"f\s+−16\s+−12\s+follows from your q", output)
    assert re.search(r"∂f/∂z\s+4\s+3\s+follows from your q", output)


def test_check_recognises_the_rounding_carried(runner, tmp_path):
    # 3sf carried: e^−1 = 0.368, 1 + 0.368 = 1.37, 1/1.37 = 0.730 (full precision: 0.731)
    body = "exercise: neuron_circuit\nround: 3sf\nanswers:\n  n7: 1.37\n  f: 0.730\n"
    _, output = _check(runner, tmp_path, body)
    assert "right for 3sf carried" in output


def test_check_refuses_a_name_the_graph_does_not_have(runner, tmp_path):
    status, output = _check(runner, tmp_path, "exercise: circuit\nanswers:\n  dz: 1\n")
    assert status == 2
    assert "line 3, column 3, answers.dz: this graph has no dz; it has q, f" in output


def test_check_from_python_with_a_mapping():
    report = api.check_report({"q": 3, "df/dx": -4}, "circuit")
    assert [(v.symbol, v.kind) for v in report.answered] == [("q", "right"), ("∂f/∂x", "right")]


TOKENS = [
    *("x", "y", "2", "0", "0.5", "1e400", "-", "−", "+", "*", "/", "^", "**", "(", ")", ","),
    *("exp(", "log(", "sqrt(", "abs(", "max(", "min(", "relu(", "sigmoid(", "tanh(", "·"),
    *(".", "'", "[", "]", "__import__", "=", ";", "lambda", "@", "\\", "{", "}", " "),
]


# 150 soups a run, new ones each run: tests/test_fuzz.py mutates the graph examples too
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(TOKENS), min_size=1, max_size=25), st.integers(-3, 3))
def test_any_token_soup_runs_or_exits_2_without_a_traceback(tokens, x):
    from click.testing import CliRunner

    text = "".join(tokens)
    path = Path(__import__("tempfile").mkdtemp()) / "soup.yaml"
    path.write_text(f"expression: {json.dumps(text)}\ninputs: {{x: {x}, y: 2}}\n")
    result = CliRunner().invoke(cli, ["run", str(path), "--format", "json"])
    assert result.exit_code in (0, 2), (text, result.output, result.exception)
    if result.exit_code == 2:
        assert result.output.startswith(f"Error: {path}, line "), (text, result.output)
        assert result.output.count("\n") == 1


# ---------------------------------------------------------------- exercise


def test_exercise_variants_of_a_circuit_are_fair_reproducible_and_checkable(runner, tmp_path):
    from node_parsers import check as parse_with_katex_and_mermaid
    from node_parsers import pieces

    args = ["exercise", "neuron_circuit", "--variants", "3", "--seed", "7"]
    first = runner.invoke(cli, [*args, "-o", str(tmp_path / "a")])
    again = runner.invoke(cli, [*args, "-o", str(tmp_path / "b")])
    assert first.exit_code == 0 and again.exit_code == 0, first.output
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*.*"))
    assert len(files) == 3 * 3 + 3 + 1  # sheets, keys, configs; three indexes; exercise.json
    for name in files:  # the same seed gives the same files
        assert (tmp_path / "a" / name).read_text() == (tmp_path / "b" / name).read_text()
    math_, diagrams = [], []
    for config in sorted((tmp_path / "a" / "configs").glob("*.yaml")):
        data = graph_json(runner, str(config))
        assert all(v != 0 for v in data["inputs"].values())  # nothing drawn is 0
        # the key's ∂f/∂w2 is σ(net)(1 − σ(net)), net from the drawn values
        i = data["inputs"]
        s = 1 / (1 + math.exp(-(i["w0"] * i["x0"] + i["w1"] * i["x1"] + i["w2"])))
        assert data["gradients"]["w2"] == pytest.approx(s * (1 - s), rel=1e-12)
        sheet = (tmp_path / "a" / "questions" / f"{config.stem}.md").read_text()
        assert "`df/dx0`" in sheet and f"{s:.6f}"[:6] not in sheet  # asks, never answers
        for text in (sheet, (tmp_path / "a" / "keys" / f"{config.stem}.md").read_text()):
            m, d = pieces(text)
            math_ += m
            diagrams += d
        answers = tmp_path / f"{config.stem}-answers.yaml"
        answers.write_text(f"exercise: {config}\nanswers:\n  df/dw2: {s * (1 - s):.4f}\n")
        assert "right" in runner.invoke(cli, ["check", str(answers)]).output
    report = parse_with_katex_and_mermaid(math_, diagrams)
    assert report["math"] == [] and report["mermaid"] == []


def test_a_class_is_marked_against_one_graph_into_a_gradebook(runner, tmp_path):
    ann = write(tmp_path, "student: ann\nanswers:\n  q: 3\n  df/dx: -4\n", "ann.yaml")
    bob = write(tmp_path, "student: bob\nanswers:\n  q: 4\n", "bob.yaml")  # q = x + y = 3
    book = tmp_path / "grades.csv"
    result = runner.invoke(
        cli, ["check", "--exercise", "circuit", ann, bob, "--gradebook", str(book)]
    )
    assert result.exit_code == 1, result.output  # bob has a wrong answer
    rows = book.read_text(encoding="utf-8-sig").splitlines()
    assert rows[0].startswith("file,student,variant,mark,total,first_wrong")
    # of circuit's questions: q, f, then ∂f/∂ of q, z, x and y (∂f/∂f and ∂q/∂x are factors)
    n = len(["q", "f", "∂f/∂q", "∂f/∂z", "∂f/∂x", "∂f/∂y"])
    assert rows[1].startswith(f"{ann},ann,,2,{n},") and rows[2].startswith(f"{bob},bob,,0,{n},q")


def test_the_markdown_problem_names_the_optimizer_and_the_summary_writes_names_as_math(runner):
    """configs/adam_parabola.yaml trains θ with Adam (β1 = 0.9, β2 = 0.999): the question says
    so, not "gradient descent"; descent.yaml is plain gradient descent and says that."""
    adam = runner.invoke(cli, ["step", "adam_parabola", "-n", "2", "--format", "markdown"])
    problem = adam.output.split("## Epochs")[0]
    assert "by Adam (β1 = 0.9, β2 = 0.999" in problem and "gradient descent" not in problem
    assert "; $\\theta$ = " in adam.output
    assert not re.search(r"(?<!\\)theta =", adam.output)  # the config's name, not the math
    plain = runner.invoke(cli, ["step", "descent", "-n", "2", "--format", "markdown"]).output
    assert "Then update $\\theta$ by gradient descent with $\\eta = 0.1$" in plain
    # its rule is maths, θ ← θ − η·∂f/∂θ, not the sentence-case "Theta ← theta …"
    rule = "$\\theta \\leftarrow \\theta - \\eta \\cdot \\frac{\\partial f}{\\partial \\theta}$"
    traced = runner.invoke(cli, ["run", "descent", "--format", "markdown"]).output
    assert f"{rule}, $\\eta = 0.1$." in traced
