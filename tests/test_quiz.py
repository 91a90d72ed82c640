"""`backtrace quiz`, driven as a student does: through a pipe (one answer per line; in this
process through click's runner, or the installed script where a signal is the point) and through
a pseudo-terminal (python's own pty module: rich prompts, Ctrl-C as the terminal sends it). Every
expected value is derived here from the course notes' network."""

from __future__ import annotations

import json
import math
import os
import random
import re
import select
import signal
import subprocess
import sys
import time
import traceback
from pathlib import Path

import pytest
from click.testing import CliRunner

from backtrace_cli.cli import cli
from backtrace_cli.teach.quiz import number

SCRIPT = Path(sys.executable).parent / "backtrace"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\r")


def sigmoid(v: float) -> float:
    return 1 / (1 + math.exp(-v))


def lecture(mask: tuple[float, float] = (1, 1), scale: float = 1.0) -> dict[str, float]:
    """The notes' 2-2-1 step, every quantity in the order a worked solution finds it;
    `mask`/`scale`: dropout on the hidden layer (õ = m·o·scale)."""
    x1, x2, t, eta = 0.35, 0.9, 0.5, 1.0
    w13, w23, w14, w24, w35, w45 = 0.1, 0.8, 0.4, 0.6, 0.3, 0.9
    v: dict[str, float] = {}
    v["net3"] = w13 * x1 + w23 * x2
    v["o3"] = sigmoid(v["net3"])
    v["net4"] = w14 * x1 + w24 * x2
    v["o4"] = sigmoid(v["net4"])
    dropout = mask != (1, 1) or scale != 1.0
    k3, k4 = v["o3"], v["o4"]
    if dropout:
        v["õ3"] = k3 = mask[0] * v["o3"] * scale
        v["õ4"] = k4 = mask[1] * v["o4"] * scale
    v["net5"] = w35 * k3 + w45 * k4
    v["o5"] = sigmoid(v["net5"])
    v["e5"] = t - v["o5"]
    v["E"] = 0.5 * v["e5"] ** 2
    v["∂E/∂o5"] = -(t - v["o5"])  # E = ½(t − o)²
    v["∂o5/∂net5"] = v["o5"] * (1 - v["o5"])
    d5 = v["δ5"] = v["o5"] * (1 - v["o5"]) * (t - v["o5"])
    # hidden δ: the weights before the update; a dropped unit's δ is 0, a kept one's carries
    # the scale
    v["δ3"] = v["o3"] * (1 - v["o3"]) * mask[0] * scale * w35 * d5
    v["δ4"] = v["o4"] * (1 - v["o4"]) * mask[1] * scale * w45 * d5
    for w, d, o, old in (
        ("w35", "δ5", k3, w35),
        ("w45", "δ5", k4, w45),
        ("w13", "δ3", x1, w13),
        ("w23", "δ3", x2, w23),
        ("w14", "δ4", x1, w14),
        ("w24", "δ4", x2, w24),
    ):
        v[f"Δ{w}"] = eta * v[d] * o
        v[f"new {w}"] = old + v[f"Δ{w}"]
    return v


def asked_of(values: dict[str, float]) -> dict[str, float]:
    """What a quiz asks of the notes' step, in order: every quantity but the chain rule's
    factors the trace writes beside δ5 to explain it, ∂E/∂o5 and ∂o5/∂net5 (δ5 = o5(1 − o5)(t5
    − o5) reads neither); `--gradients` asks them too."""
    return {name: v for name, v in values.items() if name not in ("∂E/∂o5", "∂o5/∂net5")}


RIGHT = lecture()  # every row the trace writes
ASKED = asked_of(RIGHT)  # the step's questions, what check counts of an answers file too
N = len(ASKED)


def typed(values: dict[str, float], **changed: str) -> list[str]:
    """Each value as a student with a calculator types it (12 significant figures)."""
    return [changed.get(name, f"{value:.12g}") for name, value in values.items()]


def backtrace(*args: str, stdin: str = "", cwd: Path | None = None) -> subprocess.CompletedProcess:
    """The command, in this process (click's runner: stdin a pipe, as for the script); the
    tests below that need the installed script itself — Ctrl-C, a terminal — start it."""
    here = os.getcwd()
    try:
        if cwd is not None:
            os.chdir(cwd)
        done = CliRunner().invoke(cli, list(args), input=stdin)
    finally:
        os.chdir(here)
    stderr = done.stderr
    if done.exception is not None and not isinstance(done.exception, SystemExit):
        # what a process would print: an escaped exception is a traceback on stderr
        stderr += "Traceback (most recent call last):\n" + "".join(
            traceback.format_exception(done.exception)
        )
    return subprocess.CompletedProcess(list(args), done.exit_code, done.stdout, stderr)


def quiz(*args: str, answers: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess:
    """`backtrace quiz` with answers on a pipe, one per line."""
    return backtrace("quiz", *args, stdin="".join(a + "\n" for a in answers), cwd=cwd)


def trace_equations(*args: str) -> list[dict]:
    """The first step's equations of `backtrace run ARGS --format json`."""
    done = backtrace("run", *args, "--format", "json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)["steps"][0]["equations"]


def score(output: str) -> str:
    found = re.findall(r"^Score: (\d+ of \d+)$", output, re.M)
    assert len(found) == 1, output
    return found[0]


# ---------------------------------------------------------------- through a pipe


def test_all_right_scores_every_question_and_exits_0():
    assert N == 2 * 3 + 2 + 3 + 2 * 6  # net and o of units 3–5, e5 and E, three δ, Δw and new w
    done = quiz(answers=typed(ASKED))
    assert done.returncode == 0, done.stdout + done.stderr
    assert score(done.stdout) == f"{N} of {N}"
    assert "Mistakes" not in done.stdout and done.stderr == ""


def test_questions_come_in_the_traces_order_and_never_show_the_answer():
    done = quiz(answers=typed(ASKED))
    prompts = re.findall(rf"^\[(\d+)/{N}\] (.+?) = (.+)$", done.stdout, re.M)
    assert [symbol for _, symbol, _ in prompts] == list(ASKED)
    prompts = dict((symbol, formula) for _, symbol, formula in prompts)
    assert prompts["δ3"] == "o3(1 − o3)·w35·δ5"
    assert prompts["new w45"] == "w45 + Δw45"
    # each prompt's "with" line gives the values it needs, never the value asked for
    blocks = re.split(rf"^\[\d+/{N}\] ", done.stdout, flags=re.M)[1:]
    for (symbol, value), block in zip(ASKED.items(), blocks):
        given = block.splitlines()[1]
        assert f"{value:.6f}".rstrip("0") not in given.replace("−", "-"), (symbol, given)
    assert "with w13 = 0.1, x1 = 0.35, w23 = 0.8, x2 = 0.9" in blocks[0]


def test_the_updated_weight_slip_is_named_and_can_be_tried_again():
    # δ3 from the updated w35 (0.272326, the notes' new w35) instead of 0.3
    slip = RIGHT["o3"] * (1 - RIGHT["o3"]) * RIGHT["new w35"] * RIGHT["δ5"]
    answers = typed(ASKED)
    answers.insert(list(ASKED).index("δ3"), f"{slip:.3g}")
    done = quiz(answers=answers)
    assert "hidden δ with the updated weights" in done.stdout
    assert "try again (1 try left)" in done.stdout
    assert score(done.stdout) == f"{N} of {N}"  # right at the second try counts
    assert re.search(r"^  δ3: −0.00241 — hidden δ .*; right at try 2$", done.stdout, re.M)
    assert done.returncode == 0


def test_after_the_last_try_the_working_is_shown_and_the_quiz_goes_on_with_the_right_value():
    right = typed(ASKED)
    answers = [right[0], "0.55", "0.6", "0.5", *right[2:]]  # o3: three wrong tries
    done = quiz("--tries", "3", answers=answers)
    o3 = RIGHT["o3"]
    assert "try again (2 tries left)" in done.stdout
    assert f"answer: o3 = σ(net3) = σ(0.755) = {o3:.6f}" in done.stdout
    net5 = re.search(rf"^\[5/{N}\] net5 = .*\n(.*)$", done.stdout, re.M).group(1)
    assert f"o3 = {o3:.6f}" in net5  # the right value, not the student's 0.5
    assert score(done.stdout) == f"{N - 1} of {N}"
    assert done.returncode == 1


def test_a_hint_shows_the_numbers_and_costs_no_try():
    answers = typed(ASKED)
    answers[0:0] = ["?", "0.7"]  # a hint, then one wrong try: the right one is still allowed
    done = quiz(answers=answers)
    assert "hint: net3 = 0.1·0.35 + 0.8·0.9" in done.stdout  # the notes' first line
    assert score(done.stdout) == f"{N} of {N}"
    assert "Hints used: net3" in done.stdout


def test_reveal_shows_the_answer_and_it_does_not_count():
    answers = typed(ASKED)
    answers[0] = "!"
    done = quiz(answers=answers)
    assert "answer: net3 = w13·x1 + w23·x2 = 0.1·0.35 + 0.8·0.9 = 0.755" in done.stdout
    assert score(done.stdout) == f"{N - 1} of {N}"
    assert "net3: revealed: 0.755" in done.stdout
    assert done.returncode == 1


def test_something_not_a_number_is_said_and_costs_no_try():
    answers = typed(ASKED)
    answers[0:0] = ["zero point seven", "0,755", "0.5"]
    done = quiz("--tries", "2", answers=answers)
    assert "'zero point seven' is not a number: type net3 as a number" in done.stdout
    assert "'0,755' is not a number: write a decimal point: 0.755" in done.stdout
    assert score(done.stdout) == f"{N} of {N}"


def test_input_ending_early_stops_cleanly_with_the_score_so_far(tmp_path):
    session = tmp_path / "session.yaml"
    done = quiz("-o", str(session), answers=typed(ASKED)[:3])
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert f"Input ended at question 4 of {N}: {N - 3} not answered." in done.stdout
    assert score(done.stdout) == f"3 of {N}"
    assert "net3: 0.755" in session.read_text(encoding="utf-8")


def test_the_notes_own_rounding_is_credited_as_carried_forward():
    """The notes write o3 = 0.68 and o4 = 0.66, then net5 = 0.3·0.68 + 0.9·0.66 = 0.798."""
    notes = ["0.755", "0.68", "0.68", "0.66", "0.798"]
    done = quiz(answers=notes)
    assert "follows from your o3, your o4" in done.stdout
    assert score(done.stdout) == f"5 of {N}"  # input ended after five


def test_ctrl_c_through_a_pipe_exits_130_with_the_score_so_far(tmp_path):
    session = tmp_path / "s.yaml"
    process = subprocess.Popen(
        [str(SCRIPT), "quiz", "-o", str(session)],
        # Ctrl-C as a terminal delivers it, even when the tests run in a background job
        # (which starts every child with SIGINT ignored)
        preexec_fn=_default_sigint,  # noqa: PLW1509 (the test starts no threads)
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write(b"0.755\n0.68\n")
    process.stdin.flush()
    seen = _read_until(process.stdout.fileno(), "\nnet4 = ")  # waiting for the third answer
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=30)
    text = seen + out.decode()
    assert process.returncode == 130
    assert "Traceback" not in err.decode()
    assert f"Interrupted at question 3 of {N}" in text
    assert score(text) == f"2 of {N}"
    # what was answered is kept, whole: an answers file check reads
    assert session.read_text(encoding="utf-8").endswith("answers:\n  net3: 0.755\n  o3: 0.68\n")
    assert [p.name for p in tmp_path.iterdir()] == ["s.yaml"]


def _read_until(fd: int, text: str, timeout: float = 60) -> str:
    seen = b""
    end = time.monotonic() + timeout
    while text not in ANSI.sub("", seen.decode(errors="replace")):
        assert time.monotonic() < end, f"no {text!r} in {seen!r}"
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            chunk = os.read(fd, 65536)
            assert chunk, f"output ended before {text!r}: {seen!r}"
            seen += chunk
    return ANSI.sub("", seen.decode(errors="replace"))


# ---------------------------------------------------------------- the session file


def _check(session: Path) -> dict:
    done = backtrace("check", str(session), "--format", "json")
    assert done.returncode in (0, 1), done.stderr
    return json.loads(done.stdout) | {"status": done.returncode}


@pytest.mark.parametrize("rounding", [None, "3sf"])
def test_the_session_file_is_marked_the_same_by_check(tmp_path, rounding):
    if rounding:  # carried to 3 significant figures: the notes' own numbers
        values = {name: float(f"{v:.3g}") for name, v in ASKED.items()}
        answers = [f"{v:.3g}" for v in values.values()]
    else:
        answers = typed(ASKED)
    slip = RIGHT["o4"] * (1 - RIGHT["o4"]) * RIGHT["new w45"] * RIGHT["δ5"]  # δ4, updated w45
    at = list(ASKED).index("δ4")
    answers[at : at + 1] = [f"{slip:.3g}", f"{slip:.3g}"]  # the slip twice: marked wrong
    session = tmp_path / "session.yaml"
    options = ["--round", rounding] if rounding else []
    done = quiz(*options, "-o", str(session), answers=answers)
    assert done.returncode == 1
    assert score(done.stdout) == f"{N - 1} of {N}"
    report = _check(session)
    assert report["status"] == 1
    assert (report["correct"], report["total"]) == (N - 1, N)
    wrong = [a["symbol"] for a in report["answers"] if not a["ok"]]
    assert wrong == ["δ4"]
    assert "hidden δ with the updated weights" in " ".join(report["answers"][at]["diagnosis"])
    text = session.read_text(encoding="utf-8")
    assert ("round: 3sf" in text) == bool(rounding)
    assert "exercise: lecture" in text


def test_a_session_for_a_config_file_names_it_relative_to_the_session(tmp_path):
    (tmp_path / "nets").mkdir()
    config = tmp_path / "nets" / "mine.yaml"
    config.write_text(
        backtrace("examples", "lecture").stdout,
        encoding="utf-8",
    )
    (tmp_path / "out").mkdir()
    session = tmp_path / "out" / "s.yaml"
    done = quiz(str(config), "-o", str(session), answers=typed(ASKED))
    assert done.returncode == 0
    assert "exercise: ../nets/mine.yaml" in session.read_text(encoding="utf-8")
    assert _check(session)["status"] == 0


def test_an_existing_session_file_is_refused_before_the_first_question(tmp_path):
    session = tmp_path / "s.yaml"
    session.write_text("mine\n", encoding="utf-8")
    done = quiz("-o", str(session), answers=typed(ASKED))
    assert done.returncode == 2
    assert done.stderr == f"Error: {session}, -o: exists already; use --force to overwrite it\n"
    assert done.stdout == ""
    assert session.read_text(encoding="utf-8") == "mine\n"


def test_a_sample_the_config_does_not_have_is_bad_usage():
    done = quiz("--sample", "2", answers=[])
    assert done.returncode == 2
    assert "--sample: 2 is not a sample of built-in example 'lecture'; it has one sample (1)" in (
        done.stderr
    )


# ---------------------------------------------------------------- dropout


def test_dropout_is_quizzed_through_the_same_equations():
    """lecture_dropout: unit 4 dropped, kept outputs doubled (rate 0.5)."""
    values = asked_of(lecture(mask=(1, 0), scale=2.0))
    done = quiz("lecture_dropout", answers=typed(values))
    asked = re.findall(r"^\[\d+/(\d+)\] (.+?)(?: = |$)", done.stdout, re.M)
    assert [s for _, s in asked] == list(values)
    assert score(done.stdout) == f"{len(values)} of {len(values)}"
    assert done.returncode == 0


def test_forgotten_dropout_scaling_is_named():
    values = asked_of(lecture(mask=(1, 0), scale=2.0))
    answers = typed(values, **{"õ3": f"{RIGHT['o3']:.6f}"})  # m3·o3, without the ·2
    done = quiz("lecture_dropout", "--tries", "1", answers=answers)
    assert "dropout's scale forgotten (kept outputs not multiplied by 1/(1 − rate))" in done.stdout


# ---------------------------------------------------------------- through a terminal


class Terminal:
    """The installed script on a pseudo-terminal (its controlling terminal, so ^C is SIGINT)."""

    def __init__(self, *args: str) -> None:
        import pty

        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: exec at once
            try:
                os.environ.update({"TERM": "xterm-256color", "COLUMNS": "100"})
                _default_sigint()
                os.execv(str(SCRIPT), [str(SCRIPT), *args])
            finally:
                os._exit(127)
        self.raw = b""
        self.used = 0  # how much of the (decoded) output earlier expects consumed

    def _shown(self) -> str:
        return ANSI.sub("", self.raw.decode(errors="replace"))

    def _more(self, wait: float) -> bool:
        ready, _, _ = select.select([self.fd], [], [], wait)
        if not ready:
            return True
        try:
            chunk = os.read(self.fd, 65536)
        except OSError:  # the child has gone and the terminal is closed
            chunk = b""
        self.raw += chunk
        return bool(chunk)

    def expect(self, text: str, timeout: float = 60) -> str:
        """What was shown since the last expect, up to and including `text`."""
        end = time.monotonic() + timeout
        while text not in self._shown()[self.used :]:
            assert time.monotonic() < end, f"no {text!r} in {self._shown()[self.used :]!r}"
            assert self._more(0.2), f"the quiz ended without {text!r}: {self._shown()!r}"
        shown = self._shown()
        at = shown.index(text, self.used) + len(text)
        part, self.used = shown[self.used : at], at
        return part

    def type(self, text: str) -> None:
        os.write(self.fd, text.encode())

    def interrupt(self) -> None:
        """Ctrl-C, as a person presses it: the terminal turns it into SIGINT. One that lands
        after Python last looked for signals and before readline starts waiting for a key is
        only seen at the next key (CPython's readline waits in select(), which that signal
        does not wake): typed the moment the prompt shows, under load, it can fall there. A
        person presses it again; so does this, once, if nothing was shown for two seconds."""
        self.type("\x03")
        end = time.monotonic() + 2
        while time.monotonic() < end:
            if self._shown()[self.used :].replace("^C", "").strip():
                return  # the program answered it
            if not self._more(0.2):
                return  # the program has ended
        self.type("\x03")

    def rest(self, timeout: float = 60) -> str:
        """Everything else shown, until the program ends; a program still running after
        `timeout` seconds is killed and the test fails (it never hangs the suite)."""
        end = time.monotonic() + timeout
        while self._more(0.5):
            if time.monotonic() > end:
                os.kill(self.pid, signal.SIGKILL)
                pytest.fail(f"still running after {timeout:g} s: {self._shown()[self.used :]!r}")
        return self._shown()[self.used :]

    def status(self) -> int:
        _, status = os.waitpid(self.pid, 0)
        os.close(self.fd)
        return os.waitstatus_to_exitcode(status)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="pseudo-terminals need fork (POSIX)")
def test_a_terminal_gets_the_same_quiz_all_right():
    term = Terminal("quiz")
    for name, answer in zip(ASKED, typed(ASKED)):
        term.expect(f"\n{name} = ")  # the prompt, on a line of its own after the question
        term.type(answer + "\r")
    rest = term.rest()
    assert term.status() == 0
    assert f"Score: {N} of {N}" in rest


@pytest.mark.skipif(not hasattr(os, "fork"), reason="pseudo-terminals need fork (POSIX)")
def test_ctrl_c_on_a_terminal_exits_130_with_the_score_so_far():
    term = Terminal("quiz")
    term.expect("net3 = w13·x1 + w23·x2")
    term.expect("\nnet3 = ")
    term.type("0.755\r")
    shown = term.expect("\no3 = ")
    assert "✓ right" in shown
    term.type("?\r")
    assert "hint: o3 = σ(0.755)" in term.expect("\no3 = ")
    term.interrupt()
    rest = term.rest()
    assert term.status() == 130
    assert f"Interrupted at question 2 of {N}: {N - 1} not answered." in rest
    assert f"Score: 1 of {N}" in rest
    assert "Traceback" not in rest


# ---------------------------------------------------------------- pieces


@pytest.mark.parametrize(
    ("text", "written"),
    [("0.68", "0.68"), ("−0.0406", "-0.0406"), ("-1.50e-3", "-0.00150"), (".5", "0.5")],
)
def test_a_number_keeps_the_digits_written(text, written):
    assert number(text) == written


@pytest.mark.parametrize("text", ["", "abc", "1,5", "nan", "inf", "1e", "0x10"])
def test_what_is_not_a_number(text):
    assert number(text) is None


# ---------------------------------------------------------------- the student's guide


def test_the_guides_excerpt_is_the_quiz_output_of_its_answers_file():
    """Through a real pipe, as the shell gives it (tests/test_docs.py runs it in-process)."""
    root = Path(__file__).resolve().parent.parent
    guide = (root / "docs" / "student-guide.md").read_text(encoding="utf-8")
    section = re.search(r"^## The quiz\n(.*?)(?=^## )", guide, re.S | re.M).group(1)
    command = re.search(
        r"```console\n\$ backtrace (quiz [^\n]*?) < (docs/\S+)\n…\n(.*?)\n```", section, re.S
    )
    args, answers, excerpt = command.group(1).split(), command.group(2), command.group(3)
    lines = (root / answers).read_text(encoding="utf-8").splitlines()
    done = quiz(*args[1:], answers=lines, cwd=root)
    for part in excerpt.split("\n…\n"):
        assert part in done.stdout, f"docs/student-guide.md's excerpt is stale: {part[:200]!r}"
    assert done.returncode == 1


# ---------------------------------------------------------------- the JSON equations


def test_json_equations_are_every_row_with_its_operands():
    equations = trace_equations()
    assert [e["symbol"] for e in equations] == list(RIGHT)
    for e in equations:
        assert e["value"] == pytest.approx(RIGHT[e["symbol"]], abs=1e-12)
        # the operands are exactly the names the formula writes
        names = set(re.findall(r"[A-Za-zηδΔ∂/õ]+\d+(?:_\d+)?|η", e["formula"]))
        assert set(e["operands"]) == names - {e["symbol"]}, e
    δ3 = next(e for e in equations if e["symbol"] == "δ3")
    assert δ3["operands"] == pytest.approx({"o3": RIGHT["o3"], "w35": 0.3, "δ5": RIGHT["δ5"]})


# ---------------------------------------------------------------- several samples

TWO_SAMPLES = """\
name: one weight, two samples
layers: [1, 1]
activation: linear
learning_rate: 0.5
weights: {w12: 0.5}
samples:
  - {inputs: [1], targets: [1]}
  - {inputs: [2], targets: [0]}
"""


def two_samples() -> list[tuple[str, float]]:
    """o = w·x, E = ½(t − o)², online: w ← w + η·(t − o)·x after each sample."""
    rows, w, eta = [], 0.5, 0.5
    for x, t in ((1.0, 1.0), (2.0, 0.0)):
        o = w * x
        delta = t - o
        rows += [
            ("net2", w * x),
            ("o2", o),
            ("e2", t - o),
            ("E", 0.5 * (t - o) ** 2),
            ("∂E/∂o2", -(t - o)),
            ("∂o2/∂net2", 1.0),
            ("δ2", delta),
            ("∂net2/∂w12", x),
            ("∂E/∂w12", -(t - o) * x),
            ("Δw12", eta * delta * x),
            ("new w12", w + eta * delta * x),
        ]
        w += eta * delta * x
    return rows


def two_samples_asked() -> list[tuple[str, float]]:
    """What a quiz asks of them: every ∂ row here is a factor of the chain rule, written to
    explain δ2 and ∂E/∂w12 — δ2 = t2 − o2 and Δw12 = η·δ2·x1 read none of them."""
    return [(name, v) for name, v in two_samples() if not name.startswith("∂")]


def test_an_online_epoch_is_asked_sample_after_sample_with_the_weights_found(tmp_path):
    config = tmp_path / "two.yaml"
    config.write_text(TWO_SAMPLES, encoding="utf-8")
    rows = two_samples_asked()
    n, each = len(rows), len(rows) // 2
    answers = [f"{v:.12g}" for _, v in rows]
    at = [name for name, _ in rows].index("new w12")
    answers[at : at + 1] = ["0.6", "0.65"]  # sample 1's new w12 (0.75), wrong twice
    session = tmp_path / "s.yaml"
    done = quiz(str(config), "-o", str(session), answers=answers)
    asked = re.findall(r"^\[\d+/(\d+)\] (.+?)(?: = |$)", done.stdout, re.M)
    assert [s for _, s in asked] == [name for name, _ in rows]
    assert "Epoch 1 · sample 2 of 2" in done.stdout
    # sample 2 starts from the new w12 — the right one, as the student's was wrong
    first = rf"^\[{each + 1}/{n}\] net2 = w12·x1\n      with w12 = 0.75, x1 = 2$"
    assert re.search(first, done.stdout, re.M)
    assert score(done.stdout) == f"{n - 1} of {n}"
    assert "samples:\n  2:\n    net2: 1.5\n" in session.read_text(encoding="utf-8")
    report = _check(session)
    assert (report["correct"], report["total"], report["status"]) == (n - 1, n, 1)


def test_a_later_sample_starts_from_the_weight_the_student_found(tmp_path):
    config = tmp_path / "two.yaml"
    config.write_text(TWO_SAMPLES, encoding="utf-8")
    rows = two_samples_asked()
    answers = [f"{v:.12g}" for _, v in rows]
    answers[[name for name, _ in rows].index("new w12")] = "0.750"  # sample 1's, to 3 places
    done = quiz(str(config), answers=answers)
    assert "with w12 = 0.750, x1 = 2" in done.stdout
    assert score(done.stdout) == f"{len(rows)} of {len(rows)}"


def test_one_sample_can_be_asked_alone(tmp_path):
    config = tmp_path / "two.yaml"
    config.write_text(TWO_SAMPLES, encoding="utf-8")
    both = two_samples_asked()
    rows = both[len(both) // 2 :]
    done = quiz(str(config), "--sample", "2", answers=[f"{v:.12g}" for _, v in rows])
    assert "epoch 1 · sample 2 of 2" in done.stdout
    assert score(done.stdout) == f"{len(rows)} of {len(rows)}"
    assert done.returncode == 0


def test_one_sample_of_a_batch_is_asked_with_the_epochs_one_update_after_it(tmp_path):
    """Batch mode: one update after both samples, from the mean of their ∂E/∂w12 = −(t − o)·x;
    asked after sample 1's own rows, under the epoch's last step (where check finds it)."""
    from backtrace_cli import models
    from backtrace_cli.teach import quiz as session

    config = tmp_path / "batch.yaml"
    config.write_text(TWO_SAMPLES.replace("weights:", "mode: batch\nweights:"), encoding="utf-8")
    w, eta = 0.5, 0.5
    gradient = sum(-(t - w * x) * x for x, t in ((1.0, 1.0), (2.0, 0.0))) / 2
    asked = session.build(models.load(str(config)), sample=1)
    update = [q for q in asked.questions if q.section.kind == "update"]
    assert [(q.key, q.row.value) for q in update] == [
        ((1, 2, "∂E/∂w12"), pytest.approx(gradient)),
        ((1, 2, "Δw12"), pytest.approx(-eta * gradient)),
        ((1, 2, "new w12"), pytest.approx(w - eta * gradient)),
    ]
    assert asked.questions[-len(update) :] == tuple(update)  # after sample 1's own rows
    assert {q.sample for q in asked.questions[: -len(update)]} == {1}
    assert asked.what == "epoch 1 · sample 1 of 2"
    online = tmp_path / "online.yaml"
    online.write_text(TWO_SAMPLES, encoding="utf-8")  # sample 1's own update: nothing after
    assert {q.sample for q in session.build(models.load(str(online)), sample=1).questions} == {1}


def test_momentum_is_quizzed_through_the_same_equations(tmp_path):
    """The lecture network with momentum 0.9 (torch.optim.SGD): g = ∂E/∂w = −δ_j·o_i,
    v ← μ·v + g from v = 0, w ← w − η·v — the first update equals the lecture's."""
    values = asked_of(dict(list(RIGHT.items())[:13]))  # forward pass, error, δ: the lecture's
    weights = {"w35": 0.3, "w45": 0.9, "w13": 0.1, "w23": 0.8, "w14": 0.4, "w24": 0.6}
    for w, old in weights.items():
        source, unit = w[1], w[2]
        o = RIGHT[f"o{source}"] if source in "34" else {"1": 0.35, "2": 0.9}[source]
        g = -RIGHT[f"δ{unit}"] * o
        v = 0.9 * 0.0 + g
        values |= {f"∂E/∂{w}": g, f"new v_{w}": v, f"Δ{w}": -1.0 * v, f"new {w}": old - v}
    assert values["new w45"] == pytest.approx(RIGHT["new w45"])  # the notes' 0.873
    session = tmp_path / "s.yaml"
    done = quiz("momentum", "-o", str(session), answers=typed(values))
    asked = re.findall(r"^\[\d+/\d+\] (.+?) = ", done.stdout, re.M)
    assert asked == list(values)
    assert score(done.stdout) == f"{len(values)} of {len(values)}"
    assert done.returncode == 0
    assert _check(session)["status"] == 0


def softmax_sample_1() -> dict[str, float]:
    """configs/softmax.yaml, sample 1 (x = (1, 0.2), class 1): relu hidden units, a softmax
    output, E = −Σ t·ln o, δ_k = t_k − o_k at the output, η = 0.1, online."""
    x = {1: 1.0, 2: 0.2}
    t = {6: 1.0, 7: 0.0, 8: 0.0}
    w = {(1, 3): -0.2, (2, 3): 0.6, (1, 4): 0.8, (2, 4): 0.2, (1, 5): 0.6, (2, 5): 0.3}
    w |= {(3, 6): 0.3, (4, 6): -0.3, (5, 6): 0.4, (3, 7): -0.1, (4, 7): -0.2, (5, 7): -0.4}
    w |= {(3, 8): 0.9, (4, 8): 0.5, (5, 8): 0.7}
    b = {3: 0.1, 4: 0.1, 5: 0.1, 6: 0.0, 7: 0.0, 8: 0.0}
    v: dict[str, float] = {}
    o = dict(x)
    for j in (3, 4, 5):
        v[f"net{j}"] = sum(w[i, j] * x[i] for i in (1, 2)) + b[j]
        v[f"o{j}"] = o[j] = max(v[f"net{j}"], 0.0)
    for k in (6, 7, 8):
        v[f"net{k}"] = sum(w[j, k] * o[j] for j in (3, 4, 5)) + b[k]
    for k in (6, 7, 8):
        v[f"e^net{k}"] = math.exp(v[f"net{k}"])
    v["Σe^net"] = sum(v[f"e^net{k}"] for k in (6, 7, 8))
    for k in (6, 7, 8):
        v[f"o{k}"] = o[k] = v[f"e^net{k}"] / v["Σe^net"]
    for k in (6, 7, 8):
        v[f"e{k}"] = t[k] - o[k]
    v["E"] = -sum(t[k] * math.log(o[k]) for k in (6, 7, 8))
    d = {k: t[k] - o[k] for k in (6, 7, 8)}  # the Jacobian's terms collapse with cross-entropy
    for j in (3, 4, 5):
        d[j] = (v[f"net{j}"] > 0) * sum(w[j, k] * d[k] for k in (6, 7, 8))
    v |= {f"δ{u}": d[u] for u in (6, 7, 8, 3, 4, 5)}
    for layer, units, below in (((6, 7, 8), (6, 7, 8), (3, 4, 5)), ((3, 4, 5), (3, 4, 5), (1, 2))):
        for j in units:
            for i in below:
                change = 0.1 * d[j] * o[i]
                v[f"Δw{i}{j}"], v[f"new w{i}{j}"] = change, w[i, j] + change
        for j in layer:
            v[f"Δb{j}"], v[f"new b{j}"] = 0.1 * d[j], b[j] + 0.1 * d[j]
    return v


def test_softmax_is_quizzed_through_the_same_equations(tmp_path):
    values = softmax_sample_1()
    session = tmp_path / "s.yaml"
    done = quiz("softmax", "--sample", "1", "-o", str(session), answers=typed(values))
    asked = re.findall(r"^\[\d+/\d+\] (.+?) = ", done.stdout, re.M)
    assert asked == list(values)  # every weight, though the tables summarise the 3×3 layer
    assert score(done.stdout) == f"{len(values)} of {len(values)}"
    assert done.returncode == 0
    report = _check(session)
    assert report["correct"] == len(values)
    # the JSON's equations are the same questions: every one, as every array (tables summarise)
    equations = trace_equations("softmax")
    assert [e["symbol"] for e in equations] == list(values)
    assert [e["value"] for e in equations] == pytest.approx(list(values.values()), abs=1e-12)


# ---------------------------------------------------------------- computational graphs


CIRCUIT_FACTORS = ("∂f/∂f", "∂q/∂x", "∂q/∂y")  # the seed, the add gate's local gradients


def test_a_computational_graph_is_quizzed_node_by_node():
    """CS231n's f = (x + y)·z at x = −2, y = 5, z = −4: q = x + y, f = q·z; backward, the
    multiply gate swaps (∂f/∂q = z, ∂f/∂z = q) and the add gate distributes (∂q/∂x = 1).
    Asked: each node's value and ∂f/∂ of each node and input; the chain rule's factors (the
    seed ∂f/∂f = 1, the local gradients ∂q/∂x, ∂q/∂y) are given where a question uses them."""
    x, y, z = -2.0, 5.0, -4.0
    q = x + y
    rows = {"q": q, "f": q * z, "∂f/∂f": 1.0, "∂f/∂q": z, "∂f/∂z": q}
    rows |= {"∂q/∂x": 1.0, "∂f/∂x": z * 1.0, "∂q/∂y": 1.0, "∂f/∂y": z * 1.0}
    values = {name: v for name, v in rows.items() if name not in CIRCUIT_FACTORS}
    answers = typed(values)
    at = list(values).index("∂f/∂x")
    answers[at:at] = ["?"]  # ∂f/∂x: the numbers, the add gate's 1 among them
    done = quiz("circuit", answers=answers)
    asked = re.findall(r"^\[\d+/\d+\] (.+?)(?: = |$)", done.stdout, re.M)
    assert asked == list(values)
    n = len(values)
    assert f"[{at + 1}/{n}] ∂f/∂x = ∂f/∂q·∂q/∂x\n      with ∂f/∂q = −4, ∂q/∂x = 1\n" in done.stdout
    # the answer is −4, ∂f/∂q's value: the hint names the rule, not the numbers
    assert "hint: ∂f/∂x = ∂f/∂q·∂q/∂x — upstream ∂f/∂q times the local gradient of add" in (
        done.stdout
    )
    assert score(done.stdout) == f"{n} of {n}"
    assert done.returncode == 0


def test_a_constant_is_asked_by_its_name_and_its_hint_says_what_it_is():
    """chain_rule (o2 = net2 = w12·x1 + b2, linear) with --gradients asks the chain rule's
    rows too: ∂o2/∂net2 = 1, sixth after net2, o2, e2, E and ∂E/∂o2 — a constant's formula
    would be its value, so the prompt names it alone and a hint says what it is (how o2
    changes with net2), never δ's rule nor the 1."""
    done = quiz("chain_rule", "--gradients", answers=["!"] * 5 + ["?"])
    assert re.search(r"^\[6/\d+\] ∂o2/∂net2\n∂o2/∂net2 = ", done.stdout, re.M), done.stdout
    assert "hint: ∂o2/∂net2 — how o2 changes with net2 alone" in done.stdout


def test_a_graph_session_is_marked_the_same_by_check(tmp_path):
    # q, f, ∂f/∂q = z, ∂f/∂z = q, ∂f/∂x = z (its sign flipped twice), ∂f/∂y = z
    answers = ["3", "-12", "-4", "3", "4", "4", "-4"]
    n = len(answers) - 1  # one question answered twice
    session = tmp_path / "s.yaml"
    done = quiz("circuit", "-o", str(session), answers=answers)
    assert score(done.stdout) == f"{n - 1} of {n}"
    assert done.returncode == 1
    report = _check(session)
    assert (report["correct"], report["total"], report["status"]) == (n - 1, n, 1)
    assert [a["symbol"] for a in report["answers"] if not a["ok"]] == ["∂f/∂x"]


def _default_sigint() -> None:
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)


# ---------------------------------------------------------------- marking as it goes


def _student(asked, *, seed: int) -> list[list[str]]:
    """What a student types at each question of a long quiz: mostly right (to 12 figures, or
    rounded to 3 significant figures or 4 decimal places), a value that follows from a wrong one
    of theirs, named slips, plain wrong values tried again (right or wrong at the second try),
    hints and reveals. The values come from each question's own formula, as a student's calculator
    works it; the verdicts they get are not decided here."""
    from backtrace_cli.teach import check

    rng = __import__("random").Random(seed)
    slips = check.mistakes(asked.spec)
    theirs: dict[tuple[int, str], float] = {}  # (sample, symbol) → a wrong final value
    plans: list[list[str]] = []
    for question in asked.questions:
        plans.append(lines := [])
        row = question.row
        right = row.value
        values = row.values()
        mine = {n: theirs[question.sample, n] for n in values if (question.sample, n) in theirs}
        if mine:  # carried forward from their own wrong value
            follows = check.evaluate(row.formula, values | mine)
            if follows is not None:
                lines.append(f"{follows:.12g}")
                continue
        slipped = [  # the named slips that apply to this step, as their maker works it
            check.evaluate(t, values)
            for t in (m.rewrite(row, asked.spec) for m in slips)
            if t is not None
        ]
        slipped = [v for v in slipped if v is not None and abs(v - right) > 1e-3 * abs(right)]
        roll = rng.random()
        if slipped and roll < 0.3:
            lines.append(f"{rng.choice(slipped):.12g}")
        elif roll < 0.55:
            lines.append(f"{right:.12g}")
        elif roll < 0.7:
            lines.append(f"{right:.3g}")
        elif roll < 0.82:
            lines.append(f"{right:.4f}")
        elif roll < 0.90:  # wrong, then right at the second try
            lines += [f"{1.5 * right + 0.01:.12g}", f"{right:.12g}"]
        elif roll < 0.95:  # wrong twice: the quiz goes on, check carries it forward
            wrong = 1.5 * right + 0.01
            lines += [f"{wrong:.12g}", f"{wrong:.12g}"]
            theirs[question.sample, row.symbol] = float(f"{wrong:.12g}")
        elif roll < 0.975:
            lines += ["?", f"{right:.12g}"]
        else:
            lines.append("!")
    return plans


def _typing(asked, plans, console):
    """A dialogue that types each question's planned lines, then its right value should the
    quiz ask again (a value meant to follow may be marked otherwise)."""
    from backtrace_cli.teach import quiz as session

    class Student(session.Dialogue):
        at, left = 0, []

        def say(self, *parts):
            first = parts[0] if parts else ""
            found = re.match(r"\[(\d+)/\d+\] ", first[0] if isinstance(first, tuple) else first)
            if found:  # a new question
                self.at = int(found.group(1)) - 1
                self.left = list(plans[self.at])
            super().say(*parts)

    def read(prompt):
        if student.left:
            return student.left.pop(0)
        return f"{asked.questions[student.at].row.value:.12g}"

    student = Student(console, read)
    return student


@pytest.mark.parametrize(
    ("example", "rounding"), [("softmax", None), ("xor", "3sf"), ("lecture_dropout", None)]
)
def test_every_verdict_of_a_long_quiz_is_checks_verdict_of_the_answers_before_it(example, rounding):
    """The quiz keeps its marking between answers; each verdict it gives must still be what
    `check.mark` gives, marking afresh the session's answers up to that value — and what it
    gives the session's answers marked together."""
    import io

    from rich.console import Console

    from backtrace_cli import api
    from backtrace_cli.render import number_format
    from backtrace_cli.teach import check
    from backtrace_cli.teach import quiz as session

    asked = session.build(api.load(example), rounding=rounding)
    plans = _student(asked, seed=len(example))
    console = Console(file=io.StringIO(), color_system=None, width=200)
    summary = session.play(asked, _typing(asked, plans, console), number_format(None, rounding))
    assert not summary.stopped and len(summary.outcomes) == len(asked.questions)
    # every attempt with the final answers before it; marking each prefix afresh costs the
    # prefix's length, so all of them would cost quadratically (8–10 s for softmax's 408
    # questions): a fixed sample, with the first and the last, checks the same property
    attempts: list[tuple[list[check.Answer], session.Attempt]] = []
    before: list[check.Answer] = []
    for outcome in summary.outcomes:
        attempts += [(list(before), attempt) for attempt in outcome.attempts]
        if outcome.final is not None:
            before.append(outcome.final)
    sample = random.Random(len(example)).sample(range(len(attempts)), min(16, len(attempts)))
    chosen = {0, len(attempts) - 1, *sample}
    kinds: list[str] = []
    for at in sorted(chosen):
        prefix, attempt = attempts[at]
        fresh = check.mark(asked.solution, [*prefix, attempt.answer], rounding)[-1]
        assert (attempt.verdict, attempt.ok, attempt.reasons) == (
            fresh.verdict,
            fresh.ok,
            fresh.mistakes,
        ), attempt.answer
        kinds.append(fresh.kind + (", named" if fresh.mistakes else ""))
    # the session file's answers marked together, as `check session.yaml` marks them: each
    # final value gets the verdict the quiz gave it
    whole = check.mark(asked.solution, before, rounding)
    given = [o.attempts[-1] for o in summary.outcomes if o.final is not None]
    assert [(a.verdict, a.ok, a.reasons) for a in given] == [
        (v.verdict, v.ok, v.mistakes) for v in whole
    ]
    kinds += [v.kind + (", named" if v.mistakes else "") for v in whole]  # the quiz's, too
    # the mix reached every kind of verdict the quiz can give
    assert {"right", "follows", "wrong", "wrong, named"} <= set(kinds), set(kinds)
    exact = {
        o.question.key: asked.solution.line(o.question.key).exact.value for o in summary.outcomes
    }
    rounded = [
        a for o in summary.outcomes for a in o.attempts if a.answer.value != exact[o.question.key]
    ]
    assert any(a.verdict == "right" for a in rounded)  # right at the digits written or carried


def test_a_value_the_marking_looked_ahead_to_is_marked_as_check_marks_it():
    """With 3sf declared, δ3 typed with one figure is too coarse to tell (credited) — unless
    a named mistake gives it: the updated weight w35 the student finds later does. Once that
    w35 is answered, the session's marking must be check's, from the start."""
    from backtrace_cli import api
    from backtrace_cli.teach import check

    spec = api.load("lecture")
    solution = check.solve(spec, 1, "3sf")
    o3, d5 = RIGHT["o3"], RIGHT["δ5"]
    new_w35 = -0.003 / (o3 * (1 - o3) * d5)  # so that o3(1 − o3)·new w35·δ5 = −0.003
    answers = {name: f"{v:.3g}" for name, v in RIGHT.items()}
    answers["δ3"] = "-0.003"
    answers["new w35"] = f"{new_w35:.3g}"
    written = [check.Answer(name, name, float(text), text) for name, text in answers.items()]
    marker = check.Marker(solution, "3sf")
    for n, answer in enumerate(written):
        tried = marker.judge(answer)
        added = marker.add(answer)
        fresh = check.mark(solution, written[: n + 1], "3sf")[-1]
        assert tried == added == fresh, answer.name
    whole = check.mark(solution, written, "3sf")
    assert marker.extend(()) == () and [marker.found[a.key] for a in written] == list(whole)
    at_the_time = check.mark(solution, written[: list(answers).index("δ3") + 1], "3sf")[-1]
    assert at_the_time.kind == "coarse"
    assert whole[list(answers).index("δ3")].kind == "wrong"  # the slip w35 reveals


def test_a_session_with_the_chain_rule_rows_is_marked_with_them_by_check(tmp_path):
    """`quiz --gradients` asks softmax's Jacobian rows (g6, ḡ) and the ∂E/∂w rows; the session
    says `gradients: true`, so check solves with them and marks every answer as the quiz did."""
    rows = trace_equations("softmax", "--gradients")
    first = rows[:40]
    assert {"g6", "ḡ"} <= {row["symbol"] for row in first}  # the long way was asked
    session = tmp_path / "session.yaml"
    done = quiz(
        "softmax",
        "--gradients",
        "--sample",
        "1",
        "-o",
        str(session),
        answers=[repr(row["value"]) for row in first],
        cwd=tmp_path,
    )
    assert score(done.stdout) == "40 of 111"
    text = session.read_text(encoding="utf-8")
    assert "gradients: true" in text and "  g6:" in text and '"ḡ":' in text
    marked = backtrace("check", str(session), "--format", "json")
    assert marked.returncode == 1, marked.stderr  # right, but most questions unanswered
    report = json.loads(marked.stdout)
    assert [a["kind"] for a in report["answers"]] == ["right"] * 40


def test_gradients_in_an_answers_file_must_be_true_or_false(tmp_path):
    path = tmp_path / "answers.yaml"
    path.write_text("exercise: lecture\ngradients: maybe\nanswers: {o3: 0.68}\n", encoding="utf-8")
    done = backtrace("check", str(path))
    assert done.returncode == 2
    assert "line 2" in done.stderr and "gradients" in done.stderr and "true or false" in done.stderr
    assert "Traceback" not in done.stderr
