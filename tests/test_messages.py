"""Messages that help: configs written as homework states them get a pointer to the right key,
and in an 80-column terminal an error never has a word broken across lines."""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios

from backtrace_cli.cli import cli

LECTURE = """layers: [2, 2, 1]
{activation}
learning_rate: 1
inputs: [0.35, 0.9]
targets: [0.5]
weights: [[[0.1, 0.8], [0.4, 0.6]], [[0.3, 0.9]]]
"""


def _config(tmp_path, activation: str) -> str:
    path = tmp_path / "net.yaml"
    path.write_text(LECTURE.format(activation=activation), encoding="utf-8")
    return str(path)


def test_a_list_under_activation_suggests_activations(runner, tmp_path):
    result = runner.invoke(cli, ["run", _config(tmp_path, "activation: [tanh, sigmoid]")])
    assert result.exit_code == 2
    assert result.output == (
        f"Error: {tmp_path / 'net.yaml'}, line 2, column 1, activation: a list under "
        "`activation`; did you mean `activations` (one per non-input layer, here 2)? "
        "`activation` takes one name for every layer\n"
    )


def test_a_softmax_output_of_one_unit_is_refused_with_the_binary_alternative(runner, tmp_path):
    result = runner.invoke(cli, ["run", _config(tmp_path, "activations: [sigmoid, softmax]")])
    assert result.exit_code == 2
    assert "layers[2]: softmax needs at least 2 output units, one per class" in result.output
    assert "use sigmoid and bce" in result.output


def _in_terminal(args: list[str], columns: int, cwd) -> str:
    """Run the real console script with stderr a terminal `columns` wide; what it showed."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    process = subprocess.Popen(
        [sys.executable, "-c", "from backtrace_cli.cli import main; main()", *args],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        cwd=cwd,
        env=env,
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    process.wait(timeout=60)
    os.close(leader)
    return b"".join(chunks).decode("utf-8").replace("\r\n", "\n")


def test_errors_in_an_80_column_terminal_wrap_at_spaces(tmp_path):
    typo = tmp_path / "typo.yaml"
    typo.write_text(LECTURE.format(activation="activation: sigmoid") + "learning_rat: 1\n")
    shown = _in_terminal(["run", "typo.yaml"], 80, tmp_path)
    lines = shown.rstrip("\n").split("\n")
    assert len(lines) > 1, shown  # the message is longer than a line
    assert all(len(line) <= 80 for line in lines), shown
    # every word of the message is whole on some line: none is cut at the margin
    message = " ".join(line.strip() for line in lines)
    assert "did you mean 'learning_rate'?" in message
    assert "unknown key;" in message
    no_connection = tmp_path / "w.yaml"
    no_connection.write_text(
        LECTURE.format(activation="activation: sigmoid").replace(
            "weights: [[[0.1, 0.8], [0.4, 0.6]], [[0.3, 0.9]]]",
            "weights: {w13: 0.1, w23: 0.8, w14: 0.4, w24: 0.6, w35: 0.3, w15: 0.9}",
        )
    )
    shown = _in_terminal(["run", "w.yaml"], 80, tmp_path)
    assert all(len(line) <= 80 for line in shown.rstrip("\n").split("\n")), shown
    assert "there is no connection from unit 1 to unit 5" in " ".join(
        line.strip() for line in shown.split("\n")
    )
