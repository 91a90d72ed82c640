"""Limits that cost time are checked before the work (issue 24): a --trace range, a model's
size and depth, samples; an update that overflows is exit 2; --until-loss is a positive
finite number. Each refusal is made before the engine runs: the engine is replaced by one
that fails the test if called."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from backtrace_cli.cli import cli
from backtrace_cli.network import engine, training

LECTURE = (
    "layers: [2, 2, 1]\nactivation: sigmoid\nlearning_rate: 1\ninputs: [0.35, 0.9]\n"
    "targets: [0.5]\nweights: {w13: 0.1, w23: 0.8, w14: 0.4, w24: 0.6, w35: 0.3, w45: 0.9}\n"
)


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def no_engine(monkeypatch):
    """Any training or tracing fails the test: the refusal must come first."""

    def called(*args, **kwargs):
        raise AssertionError("the engine ran before the limit was checked")

    for name in ("epoch", "backprop", "evaluate", "update"):
        monkeypatch.setattr(engine, name, called)
    monkeypatch.setattr(training, "train", called)


def last_line(result) -> str:
    return result.output.strip().splitlines()[-1]


@pytest.mark.parametrize(
    ("trace", "message"),
    [
        (
            "1-999999999999",
            "1-999999999999 goes past epoch 100, the last one; trace epochs from 1 to 100 "
            "(--epochs)",
        ),
        ("101", "101 goes past epoch 100, the last one; trace epochs from 1 to 100 (--epochs)"),
        (
            "9" * 5000,
            "9" * 59 + "… goes past epoch 100, the last one; trace epochs from 1 to 100 (--epochs)",
        ),
        (
            "²",
            "'²' is not an epoch; use numbers from 1 and ranges (1,2,50 or 1-3), first, "
            "last or all",
        ),
    ],
)
def test_a_trace_range_is_checked_against_epochs_before_training(runner, no_engine, trace, message):
    result = runner.invoke(cli, ["step", "--trace", trace])
    assert result.exit_code == 2
    assert last_line(result) == f"Error: Invalid value for '--trace': {message}"


def test_trace_all_is_at_most_100_epochs_in_full(runner, no_engine):
    result = runner.invoke(cli, ["step", "-n", "1000", "--trace", "all"])
    assert result.exit_code == 2
    assert last_line(result) == (
        "Error: Invalid value for '--trace': all is 1,000 epochs in full; at most 100 are "
        "traced — pick some (1,2,50 or 1-3, first, last); the table has a row for the others"
    )


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "0", "-1", "1e400", "x"])
def test_until_loss_must_be_a_positive_finite_number(runner, no_engine, value):
    result = runner.invoke(cli, ["step", f"--until-loss={value}"])
    assert result.exit_code == 2
    assert last_line(result) == (
        f"Error: Invalid value for '--until-loss': '{value}' is not a positive finite number; "
        "give the loss to stop below, e.g. 0.001"
    )


def config(tmp_path, text: str):
    path = tmp_path / "net.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("layers", "message"),
    [
        (
            "[" + ", ".join(["1"] * 1000) + "]",
            "1,000 layers; at most 64, inputs included "
            "(this tool is for networks a person can follow)",
        ),
        (
            "[4000, 4000, 990]",
            "19,964,990 parameters; at most 1,000,000 are traced "
            "(this tool is for networks a person can follow)",
        ),
    ],
)
def test_a_model_too_deep_or_too_big_is_refused_by_validation(
    runner, no_engine, tmp_path, layers, message
):
    text = LECTURE.replace("[2, 2, 1]", layers).replace(
        "{w13: 0.1, w23: 0.8, w14: 0.4, w24: 0.6, w35: 0.3, w45: 0.9}",
        "{init: glorot_uniform, seed: 0}",
    )
    path = config(tmp_path, text)
    result = runner.invoke(cli, ["run", str(path)])
    assert result.exit_code == 2
    assert result.output == f"Error: {path}, line 1, column 1, layers: {message}\n"


def test_an_inline_config_in_an_answers_file_meets_the_same_limits(runner, no_engine, tmp_path):
    ones = ", ".join(["1"] * 1500)
    answers = tmp_path / "answers.yaml"
    answers.write_text(
        f"config:\n  layers: [{ones}]\n  activation: linear\n  learning_rate: 1\n"
        "  inputs: [1]\n  targets: [1]\n  weights: {init: glorot_uniform, seed: 0}\n"
        "answers:\n  o2: 0.5\n",
        encoding="utf-8",
    )
    result = runner.invoke(cli, ["check", str(answers)])
    assert result.exit_code == 2
    assert "layers: 1,500 layers; at most 64, inputs included" in result.output


def test_more_samples_than_a_step_can_show_are_refused_before_tracing(runner, no_engine, tmp_path):
    samples = "samples: [" + ", ".join(["{inputs: [0.35, 0.9], targets: [0.5]}"] * 101) + "]\n"
    text = LECTURE.replace("inputs: [0.35, 0.9]\ntargets: [0.5]\n", samples)
    path = config(tmp_path, text)
    result = runner.invoke(cli, ["run", str(path)])
    assert result.exit_code == 2
    assert result.output == (
        f"Error: {path}, samples: 101 samples; a traced step shows each one's equations, at "
        "most 100 — `backtrace step` trains on them all with a table per epoch\n"
    )


def test_more_samples_than_training_allows_are_refused_by_validation(runner, no_engine, tmp_path):
    text = LECTURE.replace(
        "inputs: [0.35, 0.9]\ntargets: [0.5]\n",
        "samples: [&s {inputs: [0.35, 0.9], targets: [0.5]}, " + ", ".join(["*s"] * 10_000) + "]\n",
    )
    path = config(tmp_path, text)
    result = runner.invoke(cli, ["step", str(path)])
    assert result.exit_code == 2
    assert result.output == (
        f"Error: {path}, line 4, column 1, samples: 10,001 samples; at most 10,000 (every "
        "epoch trains on each one)\n"
    )


CHAIN = (
    "layers: [1, 1]\nactivation: linear\nloss: sse\nlearning_rate: 1e300\ninputs: [2.0]\n"
    "targets: [1.5]\nweights: {w12: 0.5}\nbiases: {b2: 0.1}\n"
)


def test_an_update_that_overflows_is_exit_2_in_run(runner, tmp_path):
    # w12 ← 0.5 − 1e300·2(ŷ − y)·x = 0.5 − 1e300·2·(−0.4)·2 = 1.6e300: finite, but
    # E after = (1.6e300·2 + …)² is beyond float64
    path = config(tmp_path, CHAIN)
    result = runner.invoke(cli, ["run", str(path)])
    assert result.exit_code == 2
    assert result.output == (
        f"Error: {path}: the numbers overflow: E = inf after the update in epoch 1: the new "
        "network's numbers leave float64 (largest parameter w12 = 1.6e+300); the step "
        "diverges — use a smaller learning_rate, weights or inputs\n"
    )


def test_an_update_that_overflows_is_exit_2_in_step_and_nothing_is_saved(runner, tmp_path):
    path = config(tmp_path, CHAIN)
    saved = tmp_path / "saved.yaml"
    out = tmp_path / "out.md"
    result = runner.invoke(
        cli, ["step", str(path), "-n", "5", "--save", str(saved), "-o", str(out)]
    )
    assert result.exit_code == 2
    assert result.output == (
        f"Error: {path}: the numbers overflow: E = inf after the update in epoch 1; training "
        "diverges at once — use a smaller learning_rate, weights or inputs\n"
    )
    assert not saved.exists() and not out.exists()


def test_a_graph_whose_first_update_overflows_is_exit_2_in_step(runner, tmp_path):
    path = config(
        tmp_path,
        "expression: theta ** 2\ninputs: {theta: 3}\nparameters: [theta]\nlearning_rate: 1e300\n",
    )
    result = runner.invoke(cli, ["step", str(path), "-n", "3"])
    assert result.exit_code == 2
    assert result.output.startswith(f"Error: {path}: the numbers overflow: ")
    assert result.output.endswith("(the update in epoch 1); use a smaller learning_rate\n")


def test_an_answers_file_cannot_ask_for_more_working_than_the_limit(runner, tmp_path, monkeypatch):
    """`check` traces every epoch up to the last one answered, in full, with each rounding:
    a file answering the softmax example's epoch 100 (half a minute of tracing) is refused
    at its `epochs:` before the solution is traced, with the last epoch it may answer; in a
    class it is that file's error row, and the others are marked."""
    import re

    from backtrace_cli.teach import check

    traced = []
    real = check.solve
    monkeypatch.setattr(
        check,
        "solve",
        lambda spec, epochs, *a, **k: traced.append(epochs) or real(spec, epochs, *a, **k),
    )
    greedy = tmp_path / "greedy.yaml"
    greedy.write_text("exercise: softmax\nepochs:\n  100: {o3: 0.5}\n", encoding="utf-8")
    result = runner.invoke(cli, ["check", str(greedy)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    found = re.search(
        r"greedy\.yaml, line 3, column 3, epochs\.100: check traces every epoch up to the last "
        r"one answered, in full: 100 epochs of this network are ([\d,]+) rows of working, past "
        r"the 2,500 one file may ask; answer epochs up to (\d+)",
        " ".join(result.output.split()),
    )
    assert found, result.output
    rows = int(found.group(1).replace(",", "")) // 100
    allowed = int(found.group(2))
    assert allowed * rows <= 2_500 < (allowed + 1) * rows
    assert traced == []  # refused before the trace
    fine = tmp_path / "fine.yaml"
    fine.write_text(f"exercise: softmax\nepochs:\n  {allowed}: {{o3: 0.5}}\n", encoding="utf-8")
    assert runner.invoke(cli, ["check", str(fine)]).exit_code == 1  # marked: o3 is wrong
    assert traced == [allowed]
    lecture = tmp_path / "lecture.yaml"  # 25 rows an epoch: epoch 100 is within the limit
    lecture.write_text("exercise: lecture\nepochs:\n  100: {o3: 0.5}\n", encoding="utf-8")
    assert runner.invoke(cli, ["check", str(lecture)]).exit_code == 1
    book = tmp_path / "grades.csv"
    args = ["check", str(greedy), str(fine), "--exercise", "softmax", "--gradebook", str(book)]
    result = runner.invoke(cli, args)
    assert result.exit_code == 2
    rows_written = book.read_text(encoding="utf-8-sig").splitlines()
    assert "past the 2,500 one file may ask" in rows_written[1]
    assert rows_written[2].startswith(str(fine))
