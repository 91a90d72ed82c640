"""The model protocol answers what teaching asks of a kind: nothing in teach/ tells the kinds
apart itself (STYLE.md, "The house")."""

import itertools
from dataclasses import replace

import pytest

from backtrace_cli import models, solution, tracing
from backtrace_cli.cli import cli
from backtrace_cli.core.errors import ConfigError
from backtrace_cli.sheet import Question
from backtrace_cli.teach import answers, mistakes


def test_a_book_renames_a_networks_and_a_models_rows_not_a_graphs():
    network, graph, model = models.load("xor"), models.load("circuit"), models.load("cnn")
    tracing.model(network).refuse_notation("nielsen")  # every book names a network's rows
    tracing.model(network).refuse_notation(None)
    tracing.model(model).refuse_notation("hagan")  # and a model's tensors
    assert tracing.model(model).renamer(replace(model, notation="hagan")).symbol("y0[0,1,2]") == (
        "n^1[0,1,2]"
    )
    assert tracing.model(graph).renamer(graph).symbol("q") == "q"
    tracing.model(graph).refuse_notation(None)
    with pytest.raises(ConfigError, match="names are its own"):
        tracing.model(graph).refuse_notation("nielsen")


def test_answers_are_read_by_the_models_own_reading():
    assert answers.reading(models.load("xor")) is answers.NETWORK
    assert answers.reading(models.load("circuit")) is answers.GRAPH


def test_a_graphs_slips_come_on_its_rows_a_networks_from_teach():
    assert mistakes.mistakes(models.load("circuit")) == []
    names = [m.name for m in mistakes.mistakes(models.load("xor"))]
    assert "the learning rate η left out" in names


def test_a_quiz_says_what_it_asks_and_refuses_a_sample_the_model_has_not():
    xor, circuit = models.load("xor"), models.load("circuit")  # XOR's truth table: 4 samples
    assert tracing.model(xor).quizzed(xor, None) == "epoch 1 · 4 samples, an update after each"
    assert tracing.model(xor).quizzed(xor, 2) == "epoch 1 · sample 2 of 4"
    with pytest.raises(ConfigError, match="samples 1 to 4"):
        tracing.model(xor).quizzed(xor, 5)
    assert tracing.model(circuit).quizzed(circuit, None) == "forward, then backward"
    assert tracing.model(circuit).quizzed(circuit, 1) == "forward, then backward"
    with pytest.raises(ConfigError, match="one pass"):
        tracing.model(circuit).quizzed(circuit, 2)


def test_every_line_of_a_solution_says_its_section_and_its_steps_heading():
    lecture = {line.key[2]: line for line in solution.solve(models.load("lecture")).lines}
    assert (lecture["o3"].section.kind, lecture["δ5"].section.kind) == ("forward", "delta")
    assert lecture["new w45"].section.kind == "update"
    assert {line.heading for line in lecture.values()} == {"Epoch 1 · sample 1 of 1"}
    circuit = {line.key[2]: line for line in solution.solve(models.load("circuit")).lines}
    assert (circuit["q"].section.kind, circuit["∂f/∂q"].section.kind) == ("forward", "backward")
    assert {line.heading for line in circuit.values()} == {""}  # one pass: no step heading


@pytest.mark.parametrize("example", ["lecture", "mazur", "softmax", "momentum", "circuit"])
def test_a_symbol_is_named_as_its_models_answers_file_reads_it_back(example):
    spec = models.load(example)
    how = answers.reading(spec)
    for line in solution.solve(spec, rounding="3sf").lines:
        assert how.symbol_of(how.name_of(line.key[2])) == line.key[2]


def test_a_graphs_names_are_its_own_a_networks_the_lectures():
    assert answers.NETWORK.name_of("δ5") == "delta5"
    assert answers.NETWORK.name_of("new w45") == "w45"
    assert answers.GRAPH.name_of("∂f/∂x") == "df/dx"


def test_a_teachers_question_is_read_by_the_models_own_names():
    assert answers.NETWORK.question(Question.parse("s2.delta5")) == Question(2, "delta5", "δ5")
    # a graph's label, df/dx, is its ∂f/∂x; its column is named as its verdict (∂f/∂x)
    assert answers.GRAPH.question(Question.parse("df/dx")) == Question(1, "∂f/∂x", "∂f/∂x")
    assert answers.GRAPH.question(Question.parse("q")) == Question(1, "q", "q")


# ---------------------------------------------------------------- its problem statement and diagram

NETWORK = {  # the lecture's 2-2-1, biases on the output only
    "name": "two-two-one",
    "layers": [2, 2, 1],
    "activation": "tanh",
    "loss": "half_sse",
    "learning_rate": 0.25,
    "inputs": [0.35, 0.9],
    "targets": [0.5],
    "weights": {"w13": 0.1, "w23": 0.8, "w14": 0.4, "w24": 0.6, "w35": 0.3, "w45": 0.9},
    "biases": {"b5": 0.2},
}
GRAPH = {
    "name": "a circuit",
    "nodes": {"q": "x + y", "f": "q * z"},
    "inputs": {"x": -2.0, "y": 5.0, "z": -4.0},
    "parameters": ["z"],
    "learning_rate": 0.5,
}


def _words(statement) -> str:
    return " ".join(p for s in statement.sentences for p in s if isinstance(p, str))


@pytest.mark.parametrize("name", models.example_names())
def test_every_model_gives_a_problem_and_a_diagram(name):
    spec = models.load(name)
    model = tracing.model(spec)
    statement, drawn = model.problem(spec), model.diagram(spec)
    assert statement.sentences and all(statement.sentences)
    assert _words(statement).strip()
    idents = [box.ident for box in drawn.all_boxes]
    assert idents and len(set(idents)) == len(idents)  # each box once, by its own name
    assert drawn.edges
    assert {e.source for e in drawn.edges} | {e.target for e in drawn.edges} <= set(idents)


def test_a_networks_problem_gives_its_configs_inputs_targets_and_rate():
    spec = models.from_dict(NETWORK)
    statement = tracing.model(spec).problem(spec)
    given = {g.name: g.value for g in statement.givens}
    inputs = {f"x{u}": v for u, v in enumerate(NETWORK["inputs"], start=1)}
    first_output = sum(NETWORK["layers"][:-1]) + 1  # units numbered inputs first: 1 … 5
    targets = {f"t{u}": v for u, v in enumerate(NETWORK["targets"], start=first_output)}
    assert given == {**inputs, **targets, "η": NETWORK["learning_rate"]}
    words = _words(statement)
    assert "layers 2-2-1" in words and f"{NETWORK['activation']} activation" in words
    assert "one training step" in words and "updated weight and bias" in words
    trained = tracing.model(spec).problem(spec, epochs=7)
    assert _words(trained).endswith("Train for 7 epochs.")


def test_a_networks_diagram_draws_its_layers_and_labels_each_weight():
    spec = models.from_dict(NETWORK)
    drawn = tracing.model(spec).diagram(spec)
    assert [len(g.boxes) for g in drawn.groups] == NETWORK["layers"]
    widths = NETWORK["layers"]
    assert len(drawn.edges) == sum(a * b for a, b in itertools.pairwise(widths))
    labels = {e.label[0].removesuffix(" = "): e.label[1] for e in drawn.edges}
    assert labels == NETWORK["weights"]
    assert [e.source + e.target for e in drawn.edges if e.label[0] == "w35 = "] == ["u3u5"]
    output = drawn.groups[-1].boxes[0]
    assert output.lines[1] == ("b5 = ", NETWORK["biases"]["b5"])
    inputs = [box.lines[0][-1] for box in drawn.groups[0].boxes]
    assert inputs == NETWORK["inputs"]
    assert not any(box.faded for box in drawn.all_boxes) and not drawn.legend


def test_a_networks_diagram_fades_the_units_its_step_drops():
    spec = models.load("lecture_dropout")
    traced = tracing.model(spec).trace(spec)
    dropped = {
        spec.numbering.unit(k + 1, i)
        for k, layer in enumerate(traced.steps[0].layers)
        if layer.mask is not None
        for i, m in enumerate(layer.mask)
        if m == 0
    }
    drawn = tracing.model(spec).diagram(spec, traced)
    assert {box.ident for box in drawn.all_boxes if box.faded} == {f"u{u}" for u in dropped}
    assert bool(drawn.legend) == bool(dropped)


def test_a_graphs_problem_gives_its_inputs_rate_and_asks_each_gradient():
    spec = models.from_dict(GRAPH)
    statement = tracing.model(spec).problem(spec)
    assert {g.name: g.value for g in statement.givens} == {
        **GRAPH["inputs"],
        "η": GRAPH["learning_rate"],
    }
    asked = [p.name for s in statement.sentences for p in s if type(p).__name__ == "Symbol"]
    assert asked == [f"∂f/∂{n}" for n in GRAPH["inputs"]] + GRAPH["parameters"]
    nodes = [p for s in statement.sentences for p in s if type(p).__name__ == "Node"]
    assert [n.name for n in nodes] == list(GRAPH["nodes"])
    trained = tracing.model(spec).problem(spec, epochs=4)
    assert _words(trained).endswith(" for 4 epochs.")


def test_a_graphs_diagram_holds_its_values_and_gradients_a_sheets_only_its_inputs():
    spec = models.from_dict(GRAPH)
    x, y, z = GRAPH["inputs"].values()
    q, f = x + y, (x + y) * z  # f = (x + y)·z: ∂f/∂x = ∂f/∂y = z, ∂f/∂z = q
    model = tracing.model(spec)
    solved = {box.ident: box.lines for box in model.diagram(spec).all_boxes}
    assert solved["node0"][1:] == (("= ", q), ("∂f/∂q = ", z))
    assert solved["node1"][1:] == (("= ", f), ("∂f/∂f = ", 1.0))
    assert solved["v0"] == (("x = ", x), ("∂f/∂x = ", z))
    assert solved["v2"] == (("z = ", z), ("∂f/∂z = ", q))
    sheet = {box.ident: box.lines for box in model.diagram(spec, solved=False).all_boxes}
    assert sheet["v0"] == (("x = ", x),)
    assert all(len(lines) == 1 for lines in sheet.values())  # no value, no gradient
    edges = {(e.source, e.target) for e in model.diagram(spec).edges}
    assert edges == {("v0", "node0"), ("v1", "node0"), ("node0", "node1"), ("v2", "node1")}


def test_the_statement_and_diagram_renderers_ask_no_model():
    """They draw the model's structure: no import of a model's types (type hints aside)."""
    import ast
    from pathlib import Path

    import backtrace_cli.render as render

    def imported(tree: ast.AST) -> list[str]:
        out = []
        for node in ast.iter_child_nodes(tree):
            if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
                continue
            if isinstance(node, ast.ImportFrom):
                out.append(node.module or "")
            out += imported(node)
        return out

    for name in ("problem.py", "mermaid.py"):
        tree = ast.parse((Path(render.__file__).parent / name).read_text(encoding="utf-8"))
        assert not [m for m in imported(tree) if m.split(".")[0] in ("network", "graph")], name


@pytest.mark.parametrize("layers", [[2, 256, 1], [300, 3, 2], [2, 40, 50, 3]])
def test_a_diagrams_layers_are_titled_by_place_even_when_a_wide_one_is_cut_short(layers):
    # a wide layer drawn as "… n more" once renamed the layers after it hidden layers
    data = {
        "layers": layers,
        "activation": "sigmoid",
        "learning_rate": 1,
        "weights": {"init": "glorot_uniform", "seed": 1},
    }
    spec = models.from_dict({**data, "inputs": [0.5] * layers[0], "targets": [0.5] * layers[-1]})
    titles = [group.title for group in tracing.model(spec).diagram(spec).groups]
    hidden = [f"hidden layer {k} (sigmoid)" for k in range(1, len(layers) - 1)]
    assert titles == ["inputs", *hidden, "output layer (sigmoid)"]


@pytest.mark.parametrize(
    ("name", "asked", "not_asked"),
    [
        ("batchnorm", ["the batch's μ and σ²", "through μ and σ² too"], ["window", "h_t"]),
        ("cnn", ["sum of products", "each window's maximum", "each window kept"], ["μ", "h_t"]),
        ("rnn", ["each h_t", "back through time", "summed over the steps"], ["window", "μ"]),
    ],
)
def test_a_models_question_asks_what_its_own_layers_do(runner, name, asked, not_asked):
    """The homework statement asks of the layers the model has, and of no other kind."""
    text = runner.invoke(cli, ["run", name, "--format", "markdown"]).output
    statement = next(line for line in text.splitlines() if "Do the forward pass" in line)
    assert all(phrase in statement for phrase in asked), statement
    assert not any(phrase in statement for phrase in not_asked), statement
