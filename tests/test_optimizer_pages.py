"""What a student reads of an optimizer: the header and the problem name it with its
hyperparameters, and the conventions line states its update rule, not SGD's — in the terminal,
in the markdown hand-in (math KaTeX parses) and in the JSON (issue 27, finding 1).

The expected names and rules are written here from PRODUCT.md's "Optimizers" section, and the
hyperparameters' values from the config each test writes."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import yaml
from node_parsers import check, pieces

from backtrace_cli.cli import cli
from backtrace_cli.network.config import example_text

# each optimizer: what a page calls it, its hyperparameters (config key, symbol, a value that is
# not the default, as the config writes it) and its update, line by line, as PRODUCT.md has it
OPTIMIZERS: dict[str, tuple[str, list[tuple[str, str, str]], list[str]]] = {
    "momentum": (
        "SGD with momentum",
        [("momentum", "μ", "0.8")],
        ["v ← μ·v + g", "w ← w − η·v"],
    ),
    "nesterov": (
        "SGD with Nesterov momentum",
        [("momentum", "μ", "0.85")],
        ["v ← μ·v + g", "w ← w − η·(g + μ·v)"],
    ),
    "rmsprop": (
        "RMSprop",
        [("rho", "ρ", "0.95"), ("epsilon", "ε", "0.0001")],
        ["s ← ρ·s + (1 − ρ)·g²", "w ← w − η·g/(√s + ε)"],
    ),
    "adagrad": ("Adagrad", [("epsilon", "ε", "0.001")], ["s ← s + g²", "w ← w − η·g/(√s + ε)"]),
    "adam": (
        "Adam",
        [("beta1", "β1", "0.85"), ("beta2", "β2", "0.99"), ("epsilon", "ε", "0.0001")],
        [
            "m ← β1·m + (1 − β1)·g",
            "v ← β2·v + (1 − β2)·g²",
            "m̂ = m/(1 − β1^t)",
            "v̂ = v/(1 − β2^t)",
            "w ← w − η·m̂/(√v̂ + ε)",
        ],
    ),
    "adamw": (
        "AdamW",
        [
            ("beta1", "β1", "0.8"),
            ("beta2", "β2", "0.95"),
            ("epsilon", "ε", "0.001"),
            ("weight_decay", "λ", "0.02"),
        ],
        [
            "m ← β1·m + (1 − β1)·g",
            "v ← β2·v + (1 − β2)·g²",
            "m̂ = m/(1 − β1^t)",
            "v̂ = v/(1 − β2^t)",
            "w ← w − η·λ·w − η·m̂/(√v̂ + ε)",  # decoupled: w ← w − η·λ·w, then Adam's step
        ],
    ),
}
LECTURE_RULE = "w ← w + η·δ_j·o_i"  # plain SGD's, the lecture's


def _config(tmp_path, name: str, **extra: Any) -> str:
    """The lecture's network trained with optimizer `name` and its non-default settings."""
    data = yaml.safe_load(example_text("lecture"))
    _, settings, _ = OPTIMIZERS.get(name, ("", [], []))
    data["optimizer"] = {"name": name, **{key: float(value) for key, _, value in settings}}
    data.update(extra)
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return str(path)


def _named(name: str) -> str:
    title, settings, _ = OPTIMIZERS[name]
    return f"{title} ({', '.join(f'{symbol} = {value}' for _, symbol, value in settings)})"


def _flat(text: str) -> str:
    return " ".join(text.split())


def _conventions(terminal: str) -> str:
    """The terminal's conventions line, its wrapped lines joined."""
    head = terminal.split("\n\n")[0]
    return _flat(head.split("• ")[1])


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_the_terminal_names_the_optimizer_and_states_its_rule(runner, tmp_path, name):
    result = runner.invoke(cli, ["run", _config(tmp_path, name)], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[2] == f"optimizer {_named(name)}"  # the header, under the network's line
    line = _conventions(result.output)
    assert LECTURE_RULE not in line
    assert "δ_j = −∂E/∂net_j" in line and "∂E/∂w_ij = −δ_j·o_i" in line  # the lecture's sign
    title, _, rule = OPTIMIZERS[name]
    assert f"the {title} update, with g = ∂E/∂w, is" in line
    for equation in rule:
        assert _flat(equation) in line, equation


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_the_markdown_names_the_optimizer_and_writes_its_rule_as_math(runner, tmp_path, name):
    result = runner.invoke(cli, ["run", _config(tmp_path, name), "--format", "markdown"])
    assert result.exit_code == 0, result.output
    document = result.output
    problem = document.split("\n\n")[1]
    assert problem.startswith("A fully connected network")
    assert f"and the optimizer {_named(name)}." in problem
    conventions = document.split("## Conventions\n\n")[1].split("\n")[0]
    assert "\\leftarrow w + \\eta \\cdot \\delta" not in conventions  # not SGD's rule
    title, _, rule = OPTIMIZERS[name]
    assert f"the {title} update" in conventions
    math, _ = pieces(conventions)
    # δ's sign, ∂E/∂w, g, then every equation of the rule: math of its own (no Unicode symbol
    # left in it), each parsed by KaTeX
    assert len(math) == 3 + len(rule)
    for tex, _ in math:
        assert not re.search("[βρμλεη√̂←·−]", tex), tex
    report = check(math + pieces(problem)[0], [])
    assert report["math"] == [], report["math"]


def test_adams_defaults_are_spelt_as_the_contract_writes_them(runner):
    """PRODUCT.md: "Adam (β1 = 0.9, β2 = 0.999, ε = 1e-8)" — ε as 1e-8, not 1e-08."""
    named = "Adam (β1 = 0.9, β2 = 0.999, ε = 1e-8)"
    terminal = runner.invoke(cli, ["run", "adam"], env={"COLUMNS": "80"}).output
    assert f"\noptimizer {named}\n" in terminal
    markdown = runner.invoke(cli, ["run", "adam", "--format", "markdown"]).output
    assert f"and the optimizer {named}." in markdown
    graph = runner.invoke(cli, ["run", "adam_parabola"], env={"COLUMNS": "80"}).output
    assert f"\noptimizer {named}\n" in graph  # a graph's header, as a network's


def test_weight_decay_is_named_and_its_gradient_stated(runner, tmp_path):
    path = _config(tmp_path, "sgd", weight_decay=0.002)
    terminal = runner.invoke(cli, ["run", path], env={"COLUMNS": "80"}).output
    assert "\noptimizer SGD, L2 weight decay λ = 0.002 on weights\n" in terminal
    line = _conventions(terminal)
    assert LECTURE_RULE not in line
    assert (
        "the SGD update, with g = ∂E/∂w + λ·w on weights (L2 weight decay), is w ← w − η·g" in line
    )
    markdown = runner.invoke(cli, ["run", path, "--format", "markdown"]).output
    conventions = markdown.split("## Conventions\n\n")[1].split("\n")[0]
    math = [tex for tex, _ in pieces(conventions)[0]]
    assert [tex for tex in math if "\\lambda" in tex and tex.startswith("g =")]
    assert check(pieces(conventions)[0], [])["math"] == []


def test_a_book_states_the_optimizers_update_instead_of_its_plain_step(runner, tmp_path):
    path = _config(tmp_path, "adam", notation="nielsen")
    line = _conventions(runner.invoke(cli, ["run", path], env={"COLUMNS": "80"}).output)
    assert line.startswith("Nielsen's notation: δ^l_j = ∂C/∂z^l_j")
    assert "instead of that plain step, the Adam update, with g = ∂C/∂w, is" in line
    for equation in OPTIMIZERS["adam"][2]:
        assert equation in line  # the optimizer's own symbols: t is its count, not a target
    markdown = runner.invoke(cli, ["run", path, "--format", "markdown"]).output
    conventions = markdown.split("## Conventions\n\n")[1].split("\n")[0]
    assert check(pieces(conventions)[0], [])["math"] == []


def test_the_json_says_which_update_the_steps_made(runner, tmp_path):
    document = json.loads(
        runner.invoke(cli, ["run", _config(tmp_path, "adam"), "--format", "json"]).output
    )
    network = document["network"]
    _, settings, rule = OPTIMIZERS["adam"]
    assert network["optimizer"] == {"name": "adam", **{k: float(v) for k, _, v in settings}}
    assert [part.strip() for part in network["update_rule"].split(",  ")] == rule
    assert "learning_rate * delta_j" not in network["sign_convention"]
    assert "the Adam update" in network["notation_convention"]
    assert LECTURE_RULE not in network["notation_convention"]
    plain = json.loads(runner.invoke(cli, ["run", "--format", "json"]).output)["network"]
    assert plain["sign_convention"] == "delta = -dE/dnet; w <- w + learning_rate * delta_j * o_i"
    assert plain["update_rule"] == "w ← w − η·g"
