"""The command line, used as a user would: every command, its help, and the installed script."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import numpy as np
import pytest
from click.testing import CliRunner
from conftest import run_json

from backtrace_cli import __version__
from backtrace_cli.cli import cli
from backtrace_cli.network import config, engine

ROOT = Path(__file__).resolve().parent.parent


def test_version(runner):
    result = runner.invoke(cli, ["--version"])
    assert (result.exit_code, result.output) == (0, f"backtrace, version {__version__}\n")


COMMANDS = cli.list_commands(click.Context(cli))  # the lazily imported ones too


@pytest.mark.parametrize("command", [[], *([name] for name in COMMANDS)])
def test_every_command_has_help_with_an_example(runner, command):
    result = runner.invoke(cli, [*command, "--help"], prog_name="backtrace")
    assert result.exit_code == 0
    assert "Usage: backtrace" in result.output
    assert "backtrace " + (command[0] if command else "run") in result.output.split("Options")[0]


def test_examples_lists_every_shipped_config(runner):
    result = runner.invoke(cli, ["examples"])
    assert result.exit_code == 0
    listed = [line.split()[0] for line in result.output.splitlines()[:-2] if line.strip()]
    assert listed == sorted(p.stem for p in (ROOT / "configs").glob("*.yaml"))
    # the titles form one column, however long the longest name
    lines = [line for line in result.output.splitlines()[:-2] if line.strip()]
    starts = {len(line) - len(line.split(maxsplit=1)[1]) for line in lines}
    assert len(starts) == 1


def test_examples_name_prints_the_file_itself(runner):
    result = runner.invoke(cli, ["examples", "lecture"])
    assert result.exit_code == 0
    assert result.output == (ROOT / "configs" / "lecture.yaml").read_text(encoding="utf-8")


def test_examples_unknown_name(runner):
    result = runner.invoke(cli, ["examples", "xorr"])
    assert result.exit_code == 2
    assert "did you mean 'xor'?" in result.output


def test_no_config_a_name_and_a_path_trace_the_same_network(runner):
    documents = [
        run_json(runner),
        run_json(runner, "lecture"),
        run_json(runner, str(ROOT / "configs" / "lecture.yaml")),
    ]
    for doc in documents:
        doc["network"].pop("source")
    assert documents[0] == documents[1] == documents[2]


def test_json_follows_the_contract_and_floats_round_trip(runner):
    doc = run_json(runner)
    assert (doc["format"], doc["version"]) == ("backtrace-trace", 1)
    assert {"layers", "activations", "loss", "learning_rate", "dropout"} <= set(doc["network"])
    step = doc["steps"][0]
    assert {"epoch", "sample", "inputs", "targets", "loss", "layers"} <= set(step)
    keys = {
        "net",
        "out",
        "delta",
        "mask",
        "weights_before",
        "weights_after",
        "biases_before",
        "biases_after",
    }
    assert all(keys <= set(layer) for layer in step["layers"])
    assert set(doc["epochs"][0]) >= {"epoch", "loss", "loss_after"}
    # every float is the engine's float64, exactly
    update = engine.epoch(config.load("lecture")).updates[0]
    for layer, mine in zip(step["layers"], update.layers):
        for key, array in [
            ("net", mine.net[0]),
            ("out", mine.out[0]),
            ("delta", mine.delta[0]),
            ("weights_after", mine.weights_after),
        ]:
            assert np.array_equal(np.array(layer[key]), array), key


def test_table_shows_the_lecture_rows_in_80_columns(runner):
    result = runner.invoke(cli, ["run"], env={"COLUMNS": "80"})
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert max(len(line) for line in lines) <= 80
    row = next(line for line in lines if line.startswith("net3 "))
    assert row.split() == ["net3", "w13·x1", "+", "w23·x2", "0.1·0.35", "+", "0.8·0.9", "0.755"]
    assert any(line.startswith("δ5 ") and line.endswith("−0.040681") for line in lines)


def test_chain_rule_shows_each_factor_with_numbers(runner):
    # x = 2, w = 0.5, b = 0.1, y = 1.5: ŷ = 1.1, ∂loss/∂ŷ = 2(ŷ − y) = −0.8,
    # ∂loss/∂w = −0.8·x = −1.6, ∂loss/∂b = −0.8·1; η = 0.05: w → 0.58, b → 0.14
    result = runner.invoke(cli, ["run", "chain_rule"], env={"COLUMNS": "80"})
    rows = {line.split()[0]: line for line in result.output.splitlines() if line.strip()}
    assert "2(1.1 − 1.5)" in rows["∂E/∂o2"] and rows["∂E/∂o2"].endswith("−0.8")
    assert "(−0.8)·1·2" in rows["∂E/∂w12"] and rows["∂E/∂w12"].endswith("−1.6")
    assert "(−0.8)·1·1" in rows["∂E/∂b2"] and rows["∂E/∂b2"].endswith("−0.8")
    # ∂ŷ/∂w = x and ∂ŷ/∂b = 1 on rows of their own (ŷ = o2 = net2 for a linear unit)
    assert rows["∂net2/∂w12"].split()[1:] == ["x1", "2", "2"]
    assert rows["∂net2/∂b2"].split()[1:] == ["1", "1", "1"]
    eq = {e["symbol"]: e["value"] for e in run_json(runner, "chain_rule")["steps"][0]["equations"]}
    assert eq["∂E/∂w12"] == pytest.approx(-1.6)
    assert eq["new w12"] == pytest.approx(0.58)
    assert eq["new b2"] == pytest.approx(0.14)


def backtrace_script() -> Path:
    script = Path(sys.executable).parent / "backtrace"
    assert script.exists(), f"the console script is not installed next to {sys.executable}"
    return script


def test_installed_console_script_runs_and_fails_cleanly(tmp_path):
    done = subprocess.run(
        [backtrace_script(), "run"], capture_output=True, check=False, text=True, timeout=60
    )
    assert done.returncode == 0
    assert "δ5" in done.stdout and "0.872998" in done.stdout
    # every byte, to the summary's last line: the script leaves without the interpreter's
    # teardown, which would otherwise flush whatever is still buffered
    assert done.stdout == CliRunner().invoke(cli, ["run"]).output
    bad = tmp_path / "bad.yaml"
    bad.write_text("layers: [2, 1]\nactivation: sigmoid\nlearning_rate: -1\n", encoding="utf-8")
    done = subprocess.run(
        [backtrace_script(), "run", str(bad)],
        capture_output=True,
        check=False,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith(f"Error: {bad}")


def test_help_imports_neither_numpy_nor_rich_nor_yaml():
    code = (
        "import sys\nfrom click.testing import CliRunner\nfrom backtrace_cli.cli import cli\n"
        "assert CliRunner().invoke(cli, ['--help']).exit_code == 0\n"
        "print(sorted(m for m in ('numpy', 'rich', 'yaml') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, check=False, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


# what a network's `run` never needs: the other models' code, training, the problem statement,
# hand rounding's formulas, the other books, the quiz bank (start-up time, benchmarks/startup.py)
NOT_FOR_A_NETWORK_RUN = (
    "backtrace_cli.graph.config",
    "backtrace_cli.graph.engine",
    "backtrace_cli.network.model_config",
    "backtrace_cli.network.layers.model_kinds",
    "backtrace_cli.network.training",
    "backtrace_cli.statement",
    "backtrace_cli.formula",
    "backtrace_cli.definitions.notations.nielsen",
    "backtrace_cli.render.bank",
    "backtrace_cli.cli.teach",
    "backtrace_cli.cli.exercise",
    "rich.table",  # a short table is written line by line (tests/test_table_layout.py)
)


def test_run_on_a_network_loads_no_other_models_code():
    code = (
        "import sys\nfrom click.testing import CliRunner\nfrom backtrace_cli.cli import cli\n"
        "assert CliRunner().invoke(cli, ['run', 'lecture']).exit_code == 0\n"
        f"print(sorted(m for m in {NOT_FOR_A_NETWORK_RUN!r} if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, check=False, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize("columns", ["40", "60", "79", "100", "200", "0", "wide", None])
def test_help_width_is_clicks_without_shutil(monkeypatch, columns):
    import shutil

    from backtrace_cli.cli import _help_width

    if columns is None:
        monkeypatch.delenv("COLUMNS", raising=False)
    else:
        monkeypatch.setenv("COLUMNS", columns)
    # click's own: HelpFormatter's width when none is given (click/formatting.py)
    assert _help_width() == max(min(shutil.get_terminal_size().columns, 80) - 2, 50)


def test_decimals_changes_display_only(runner):
    wide = run_json(runner, "--decimals", "10")
    assert wide == run_json(runner, "--decimals", "2")
    result = runner.invoke(cli, ["run", "--decimals", "3"], env={"COLUMNS": "80"})
    assert any(
        line.startswith("δ5 ") and line.endswith("−0.041") for line in result.output.splitlines()
    )
    assert json.dumps(wide)  # still valid JSON


def test_ctrl_c_during_a_long_step_exits_130_and_writes_nothing(tmp_path):
    import signal
    import time

    target = tmp_path / "homework.md"
    process = subprocess.Popen(
        [backtrace_script(), "step", "xor", "-n", "10000000", "-o", str(target)],
        # Ctrl-C as a terminal delivers it, even when the tests run in a background job
        # (which starts every child with SIGINT ignored)
        preexec_fn=_default_sigint,  # noqa: PLW1509 (the test starts no threads)
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(2.0)  # well into training: 10 million epochs take far longer
    assert process.poll() is None
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 130
    assert "Traceback" not in err and "Interrupted" in err
    assert list(tmp_path.iterdir()) == []  # no file, no temporary file


def test_sigma_is_written_out_where_it_is_first_used(runner):
    out = runner.invoke(cli, ["run"], env={"COLUMNS": "80"}).output
    assert "σ(0.755) = 1/(1 + e^−0.755)" in out  # o3 = 1/(1 + e^−net3), the notes' form
    assert "σ(0.68) = 1/" not in out  # once is enough


@pytest.mark.parametrize("width", [60, 80, 120])
def test_the_trace_fits_the_terminal_and_keeps_every_value_whole(width):
    """Rendered at several widths, as rich's own tests do: no line overflows, and the values
    a student copies (the notes' numbers) are never cut or wrapped."""
    import io

    from rich.console import Console

    import backtrace_cli as bt
    from backtrace_cli.render import number_format, renderable

    buffer = io.StringIO()
    console = Console(file=buffer, width=width, color_system=None)
    console.print(renderable(bt.trace("lecture").records, number_format(None, None)))
    text = buffer.getvalue()
    assert max(len(line) for line in text.splitlines()) <= width
    for value in ("0.680267", "−0.040681", "−0.002654", "0.872998", "0.272326", "0.016565"):
        assert value in text, (width, value)


def _default_sigint() -> None:
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)
