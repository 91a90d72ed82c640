"""`backtrace quiz --ask`: some of the step's quantities — by section, by kind or by name, read
as `exercise --ask` reads them — for networks and graphs; the session file and `check` of it
count what was asked. And every command's `--help` in an 80-column terminal keeps its examples
on one line. Expected values are derived here from the notes' network and CS231n's circuit."""

from __future__ import annotations

import inspect
import re

import click
import pytest
from click.testing import CliRunner
from test_quiz import ASKED, _check, lecture, quiz, score, typed

import backtrace_cli
from backtrace_cli.cli import cli

PROMPT = re.compile(r"^\[\d+/\d+\] (.+?)(?: = |$)", re.M)


def asked_in(output: str) -> list[str]:
    return PROMPT.findall(output)


def test_ask_kinds_asks_only_those_in_the_traces_order():
    """o and δ of the notes' 2-2-1 step: o3, o4, o5 forward, then δ5 before the hidden δ."""
    wanted = ["o3", "o4", "o5", "δ5", "δ3", "δ4"]
    right = lecture()
    done = quiz("--ask", "o,delta", answers=typed({n: right[n] for n in wanted}))
    assert asked_in(done.stdout) == wanted
    assert score(done.stdout) == f"{len(wanted)} of {len(wanted)}"
    assert f"\nAsking {len(wanted)} of its {len(ASKED)} equations: --ask o, delta\n" in done.stdout
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize(
    ("example", "ask", "lines"),
    [
        (  # XOR with Adam, 4 samples: net and o of units 3–5 and δ5, δ3, δ4, a sample each
            "adam",
            "forward,delta",
            (
                "Quiz: XOR with Adam (2-2-1, sigmoid, biases)",
                "Epoch 1 · 4 samples, an update after each",
                # of the step's: net, o (6), e5, E, 3 δ and 7 Adam rows for each of the 9
                # parameters, a sample each
                f"Asking {4 * (6 + 3)} of its {4 * (6 + 2 + 3 + 7 * 9)} equations: --ask "
                "forward, delta",
            ),
        ),
        (  # the longest built-in name: 61 columns
            "mazur",
            "o",
            (
                "Quiz: Mazur's step-by-step example (2-2-2, sigmoid, fixed biases)",
                "Epoch 1 · sample 1 of 1",
                # net, o (8), 2 e and E, 4 δ, Δw and new w of 8 weights, 4 fixed new b
                f"Asking 4 of its {8 + 3 + 4 + 2 * 8 + 4} equations: --ask o",
            ),
        ),
    ],
)
def test_an_asked_quizs_header_fits_an_80_column_terminal(example, ask, lines):
    """The title, the step and what is asked each on a line of their own, none wrapped."""
    import io

    from rich.console import Console

    from backtrace_cli.render import number_format
    from backtrace_cli.teach import quiz as session

    screen = io.StringIO()
    console = Console(file=screen, width=80, color_system=None, highlight=False)
    asked = session.build(backtrace_cli.load(example), ask=tuple(ask.split(",")))
    session.play(asked, session.Dialogue(console, lambda prompt: None), number_format(None, None))
    shown = screen.getvalue().splitlines()
    assert tuple(shown[:3]) == lines, shown[:4]
    assert shown[3].startswith("Type each value.")


def test_ask_sections_asks_each_sections_rows():
    """forward (net and o of units 3–5) and delta (δ5, δ3, δ4): no error, no update."""
    right = lecture()
    wanted = ["net3", "o3", "net4", "o4", "net5", "o5", "δ5", "δ3", "δ4"]
    done = quiz("--ask", "forward, delta", answers=typed({n: right[n] for n in wanted}))
    assert asked_in(done.stdout) == wanted
    assert done.returncode == 0, done.stdout


def test_ask_single_names_and_a_graphs_names():
    right = lecture()
    done = quiz("--ask", "delta3,w45", answers=typed({n: right[n] for n in ("δ3", "new w45")}))
    assert asked_in(done.stdout) == ["δ3", "new w45"]
    # f = (x + y)·z at x = −2, y = 5, z = −4: q = 3, ∂f/∂x = ∂f/∂q·∂q/∂x = z·1
    done = quiz("circuit", "--ask", "q,df/dx", answers=["3", "-4"])
    assert asked_in(done.stdout) == ["q", "∂f/∂x"]
    assert score(done.stdout) == "2 of 2"
    done = quiz("circuit", "--ask", "backward", answers=["-4", "3", "-4", "-4"])
    assert asked_in(done.stdout) == ["∂f/∂q", "∂f/∂z", "∂f/∂x", "∂f/∂y"]
    assert score(done.stdout) == "4 of 4"


@pytest.mark.parametrize(
    ("config", "ask", "listed"),
    [
        (None, "o,sigma", ("net, o, e, E, delta, dw, w", "forward, error, delta, update")),
        ("circuit", "q,dq/dw", ("q, f, df/dq, df/dz, df/dx, df/dy", "forward, backward")),
    ],
)
def test_an_unknown_name_is_bad_usage_listing_the_valid_ones(config, ask, listed):
    done = quiz(*([config] if config else []), "--ask", ask, answers=["0.7"])
    assert done.returncode == 2
    bad = ask.split(",")[1]
    assert f"--ask: {bad!r} is not a quantity" in done.stderr
    for names in listed:
        assert names in done.stderr
    assert "[1/" not in done.stdout  # refused before the first question


def test_an_asked_session_is_checked_on_what_it_asked(tmp_path):
    """The session file lists every question asked — a blank where the quiz ended before it —
    under `config:`, so check counts those (not the step's 23) and marks the same."""
    right = lecture()
    session = tmp_path / "s.yaml"
    # o3 right, o4 wrong twice, then the input ends: o5 and the three δ not answered
    done = quiz("--ask", "o,delta", "-o", str(session), answers=[f"{right['o3']:.6f}", "1", "2"])
    assert score(done.stdout) == "1 of 6"
    text = session.read_text()
    assert "config: lecture\n" in text and "exercise:" not in text
    assert re.findall(r"^  (\w+):", text, re.M) == ["o3", "o4", "o5", "delta5", "delta3", "delta4"]
    report = _check(session)
    assert (report["correct"], report["total"]) == (1, 6)
    assert [(a["symbol"], a["ok"]) for a in report["answers"]] == [("o3", True), ("o4", False)]
    assert [a["symbol"] for a in report["unanswered"]] == ["o5", "δ5", "δ3", "δ4"]


def test_an_asked_graph_session_is_checked_on_what_it_asked(tmp_path):
    session = tmp_path / "s.yaml"
    quiz("circuit", "--ask", "f,df/dz", "-o", str(session), answers=["-12", "4"])
    report = _check(session)
    assert (report["correct"], report["total"]) == (1, 2)  # ∂f/∂z = q = 3, not 4


def test_gradients_on_a_graph_is_refused_saying_why():
    done = quiz("circuit", "--gradients", answers=["3"])
    assert done.returncode == 2
    assert "--gradients" in done.stderr and "computational graph" in done.stderr
    assert "[1/" not in done.stdout


# ---------------------------------------------------------------- help in 80 columns


def commands(group: click.Group, path: tuple[str, ...] = ()):
    context = click.Context(group)
    for name in group.list_commands(context):  # the lazy ones too
        command = group.get_command(context, name)
        yield (*path, name), command
        if isinstance(command, click.Group):
            yield from commands(command, (*path, name))


ALL = list(commands(cli))


@pytest.mark.parametrize(("path", "command"), ALL, ids=[" ".join(p) for p, _ in ALL])
def test_help_keeps_each_example_on_one_line_in_80_columns(path, command):
    """Every line of a docstring's `\\b` block comes out whole and alone, and the prose has no
    stray runs of spaces (a `\\n` in a docstring breaks click's dedent)."""
    done = CliRunner().invoke(cli, [*path, "--help"], terminal_width=80, env={"COLUMNS": "80"})
    assert done.exit_code == 0, done.output
    shown = done.output.splitlines()
    doc = inspect.cleandoc(command.help or "")
    blocks = re.findall(r"^\x08\n((?:.+\n?)+)", doc, re.M)
    for block in blocks:
        for line in block.splitlines():
            assert any(s.strip() == line.strip() for s in shown), (line, done.output)
    prose = done.output.split("\nOptions:")[0].split("\n", 1)[1]
    for line in prose.splitlines():
        if line.strip() and not any(line.strip() in b for b in blocks):
            assert line.startswith("  ") and not line.startswith("   "), line
            assert not re.search(r"\S {3,}\S", line), line
        assert len(line) <= 80, line
