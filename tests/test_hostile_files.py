"""A class folder is hostile input: every file is looked at (stat) before it is read, nothing
outside the folder given is read, and one bad file costs its own row — never a hang, a
traceback or the teacher's machine. Real FIFOs, real links to /dev/zero and /etc/passwd,
real sparse files."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from backtrace_cli.cli import cli
from backtrace_cli.core import safefile, yamlsource
from backtrace_cli.core.errors import ConfigError

SCRIPT = Path(sys.executable).parent / "backtrace"
EXERCISE = """\
name: Homework 3
layers: [2, 2, 1]
activation: sigmoid
learning_rate: 0.5
inputs: [0.35, 0.9]
targets: [0.5]
weights: {w13: 0.1, w23: 0.8, w14: 0.4, w24: 0.6, w35: 0.3, w45: 0.9}
"""
QUESTIONS = ["net3", "o3", "net4", "o4", "net5", "o5"]
PASSWD = Path("/etc/passwd")
OUT = "is a link that leads out of the folder {root}; only files in it are read"


def forward(cfg: dict) -> dict[str, float]:
    """The forward pass of a 2-2-1 sigmoid network, by hand."""
    w, (x1, x2) = cfg["weights"], cfg["inputs"]
    v = {"net3": w["w13"] * x1 + w["w23"] * x2, "net4": w["w14"] * x1 + w["w24"] * x2}
    v["o3"], v["o4"] = (float(1 / (1 + np.exp(-v[n]))) for n in ("net3", "net4"))
    v["net5"] = w["w35"] * v["o3"] + w["w45"] * v["o4"]
    v["o5"] = float(1 / (1 + np.exp(-v["net5"])))
    return {q: v[q] for q in QUESTIONS}


def backtrace(*args: str, stdin: int | None = None) -> subprocess.CompletedProcess[str]:
    """The installed script in its own process: for the cases whose failure is a hang."""
    return subprocess.run(
        [str(SCRIPT), *args],
        stdin=stdin if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


class FifoWatch:
    """Notices if anyone opens the FIFO for reading (and then lets them go, so that a
    regression fails the test instead of hanging it)."""

    def __init__(self, path: Path) -> None:
        self.path, self.opened = path, False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        while not self._stop.wait(0.02):
            try:  # succeeds only while a reader has the FIFO open
                handle = os.open(self.path, os.O_WRONLY | os.O_NONBLOCK)
            except OSError:
                continue
            self.opened = True
            os.close(handle)  # the reader sees the end of the file

    def __enter__(self) -> FifoWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


@pytest.fixture(scope="module")
def homework(tmp_path_factory):
    """A set of 2 variants asking the forward pass, and a hostile class folder for it."""
    from click.testing import CliRunner

    root = tmp_path_factory.mktemp("hostile")
    (root / "hw3.yaml").write_text(EXERCISE)
    folder = root / "set"
    runner = CliRunner()
    made = runner.invoke(
        cli,
        ["exercise", str(root / "hw3.yaml"), "--variants", "2", "--seed", "5", "-o", str(folder),
         "--ask", "net,o"],
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    a, b = "hw3-s5-v01", "hw3-s5-v02"
    cfgs = {i: yaml.safe_load((folder / "configs" / f"{i}.yaml").read_text()) for i in (a, b)}
    right = {i: forward(cfgs[i]) for i in (a, b)}
    subs = root / "class"
    subs.mkdir()

    def answers(path: Path, ident: str, values: dict[str, float], **extra: str) -> None:
        data = {"variant": ident, **extra, "answers": values}
        path.write_text(yaml.safe_dump(data, sort_keys=False))

    answers(subs / "ada.yaml", a, right[a], student="Ada")
    answers(subs / "bob.yaml", b, {**right[b], "o5": 0.25})
    # the teacher's own file outside the class, an answers file right for variant a:
    # were it followed, it would be marked 6 of 6
    answers(root / "teachers_key.yaml", a, right[a], student="KEY")
    (subs / "key.yaml").symlink_to(root / "teachers_key.yaml")
    (subs / "passwd.yaml").symlink_to(PASSWD)
    (subs / "zero.yaml").symlink_to("/dev/zero")
    (subs / "gone.yaml").symlink_to(root / "no_such_file.yaml")  # said as the others are
    (subs / "again.yaml").symlink_to("ada.yaml")  # a link inside the folder is read
    os.mkfifo(subs / "fifo.yaml")
    with open(subs / "sparse.yaml", "wb") as sparse:
        sparse.truncate(1_500_000_000)  # 1.5 GB of nothing, on no disk
    (subs / "folder.yaml").mkdir()
    (subs / "flat.yaml").write_text("answers: [" + ",".join(["0"] * 990_000) + "]\n")
    (subs / "empty.yaml").write_text("")
    return folder, subs, runner


def test_a_hostile_class_is_marked_with_a_row_per_file(homework, tmp_path):
    folder, subs, runner = homework
    grades = tmp_path / "grades.csv"
    with FifoWatch(subs / "fifo.yaml") as fifo:
        result = runner.invoke(
            cli, ["check", "--exercises", str(folder), str(subs), "--gradebook", str(grades)]
        )
    assert not fifo.opened  # no FIFO is ever opened for reading
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.exit_code == 2
    bad = ["empty", "fifo", "flat", "folder", "gone", "key", "passwd", "sparse", "zero"]
    named = ", ".join(str(subs / f"{n}.yaml") for n in bad)
    assert result.stderr == (
        f"Wrote {grades}: 12 files: 2 all right, 1 with a wrong or missing answer, "
        f"9 unreadable ({named}).\n"
    )
    rows = {Path(r["file"]).name: r for r in csv.DictReader(grades.open(encoding="utf-8-sig"))}
    out = ": " + OUT.format(root=subs)
    errors = {  # what follows the file's name in its row
        "empty.yaml": ": the file is empty; an answers file is a mapping with `exercise` and "
        "`answers`",
        "fifo.yaml": ": is a named pipe (FIFO), not an answers file",
        "flat.yaml": ", line 1: more than 250,000 values; an answers file may have at most "
        "that many",
        "folder.yaml": ": is a folder, not an answers file",
        "gone.yaml": out,
        "key.yaml": out,
        "passwd.yaml": out,
        "sparse.yaml": ": the file is 1,500,000,000 bytes; an answers file may have at most "
        "2,000,000 bytes",
        "zero.yaml": out,
    }
    assert sorted(rows) == sorted([*errors, "ada.yaml", "again.yaml", "bob.yaml"])
    for name, problem in errors.items():
        row = rows[name]
        assert row["error"] == f"{subs / name}{problem}", row
        assert (row["student"], row["variant"], row["mark"], row["total"]) == (
            name[: -len(".yaml")],
            "",
            "",
            "",
        )
        assert all(row[q] == "" for q in QUESTIONS)
    for name, student, mark in (("ada.yaml", "Ada", "6"), ("again.yaml", "Ada", "6")):
        assert (rows[name]["student"], rows[name]["mark"], rows[name]["total"]) == (
            student,
            mark,
            "6",
        )
        assert [rows[name][q] for q in QUESTIONS] == ["right"] * 6
    bob = rows["bob.yaml"]
    assert (bob["mark"], bob["first_wrong"], bob["o5"], bob["error"]) == ("5", "o5", "wrong", "")
    text = grades.read_text(encoding="utf-8") + result.output
    assert "Traceback" not in text and "KEY" not in text
    for line in PASSWD.read_text().splitlines():  # nothing of the foreign file
        assert line not in text
        assert not any(len(part) > 1 and "/" in part and part in text for part in line.split(":"))


def test_a_folder_without_answers_files_is_exit_2(runner, tmp_path):
    (tmp_path / "notes.txt").write_text("no answers here")
    (tmp_path / ".hidden.yaml").write_text("variant: x\n")
    result = runner.invoke(cli, ["check", str(tmp_path)])
    assert result.exit_code == 2
    assert result.output == (
        f"Error: {tmp_path}: no answers files in {tmp_path} (a folder stands for its .yaml and "
        ".yml files)\n"
    )


@pytest.mark.parametrize("command", ["check", "run"])
def test_a_fifo_given_directly_is_refused_unopened(tmp_path, command):
    fifo = tmp_path / "answers.yaml"
    os.mkfifo(fifo)
    what = "an answers file" if command == "check" else "a config"
    with FifoWatch(fifo) as watch:
        done = backtrace(command, str(fifo))
    assert not watch.opened
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == f"Error: {fifo}: is a named pipe (FIFO), not {what}\n"


@pytest.mark.parametrize("command", ["check", "run", "quiz"])
def test_dev_zero_given_directly_is_refused_unread(command):
    done = backtrace(command, "/dev/zero")
    what = "an answers file" if command == "check" else "a config"
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == f"Error: /dev/zero: is a device, not {what}\n"


def test_a_sparse_file_is_refused_by_its_size_before_it_is_read(runner, tmp_path):
    big = tmp_path / "big.yaml"
    with open(big, "wb") as stream:
        stream.truncate(1_500_000_000)
    start = time.process_time()
    result = runner.invoke(cli, ["run", str(big)])
    assert time.process_time() - start < 1  # nothing of it read: was 11 s and 3 GB
    assert result.exit_code == 2
    assert result.output == (
        f"Error: {big}: the file is 1,500,000,000 bytes; a config may have at most 2,000,000 "
        "bytes (use seeded initialisation for large layers)\n"
    )
    result = runner.invoke(cli, ["check", str(big)])
    assert result.exit_code == 2
    assert result.output == (
        f"Error: {big}: the file is 1,500,000,000 bytes; an answers file may have at most "
        "2,000,000 bytes\n"
    )


def test_exercise_config_that_is_a_device_or_a_folder(runner, tmp_path):
    answers = tmp_path / "a.yaml"
    answers.write_text("answers: {o3: 0.5}\n")
    result = runner.invoke(cli, ["check", "--exercise", "/dev/zero", str(answers)])
    assert (result.exit_code, result.output) == (2, "Error: /dev/zero: is a device, not a config\n")
    result = runner.invoke(cli, ["check", "--exercise", str(tmp_path), str(answers)])
    assert (result.exit_code, result.output) == (
        2,
        f"Error: {tmp_path}: is a folder, not a config\n",
    )


def test_a_sets_variant_list_that_is_a_fifo(tmp_path):
    os.mkfifo(tmp_path / "exercise.json")
    answers = tmp_path / "a.yaml"
    answers.write_text("variant: x\nanswers: {o3: 0.5}\n")
    with FifoWatch(tmp_path / "exercise.json") as watch:
        done = backtrace("check", "--exercises", str(tmp_path), str(answers))
    assert not watch.opened
    assert done.returncode == 2
    assert done.stderr == (
        f"Error: {tmp_path / 'exercise.json'}, --exercises: is a named pipe (FIFO), "
        "not a variant list\n"
    )


def test_graph_answers_in_a_folder_may_not_link_out_of_it(runner, tmp_path):
    subs = tmp_path / "class"
    subs.mkdir()
    (subs / "ok.yaml").write_text("answers:\n  q: 3\n  f: -12\n")
    (subs / "passwd.yaml").symlink_to(PASSWD)
    os.mkfifo(subs / "fifo.yaml")
    grades = tmp_path / "grades.csv"
    with FifoWatch(subs / "fifo.yaml") as watch:
        result = runner.invoke(
            cli, ["check", "--exercise", "circuit", str(subs), "--gradebook", str(grades)]
        )
    assert not watch.opened
    assert result.exit_code == 2
    rows = {Path(r["file"]).name: r for r in csv.DictReader(grades.open(encoding="utf-8-sig"))}
    assert rows["passwd.yaml"]["error"] == f"{subs / 'passwd.yaml'}: {OUT.format(root=subs)}"
    assert rows["fifo.yaml"]["error"] == (
        f"{subs / 'fifo.yaml'}: is a named pipe (FIFO), not an answers file"
    )
    assert rows["ok.yaml"]["error"] == "" and rows["ok.yaml"]["q"] == "right"


def test_quiz_from_dev_zero_ends_with_a_message(runner):
    with open("/dev/zero", "rb") as zero:
        result = runner.invoke(cli, ["quiz"], input=zero)
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: <stdin>, line 1: a line longer than 1,000 bytes; type one answer per line\n"
    )
    assert result.stdout.endswith("net3 = \n")


def test_quiz_from_binary_stdin_ends_with_a_message(runner):
    result = runner.invoke(cli, ["quiz"], input=b"0.755\n\xff\xfe\x00\x89PNG\n")
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: <stdin>, line 2: not text (expected UTF-8): type one answer per line\n"
    )
    assert "Traceback" not in result.output


def test_quiz_reads_a_long_but_bounded_line(runner):
    result = runner.invoke(cli, ["quiz"], input=" " * 900 + "0.755\n")
    assert result.exit_code == 1  # the first answer read and marked right, the rest unanswered
    assert "net3 = " in result.stdout and "Traceback" not in result.output


def test_a_flat_list_of_990k_numbers_is_refused_before_it_is_built(runner, tmp_path):
    flat = tmp_path / "flat.yaml"
    flat.write_text("weights: [" + ",".join(["0"] * 990_000) + "]\n")
    start = time.process_time()
    result = runner.invoke(cli, ["run", str(flat)])
    assert time.process_time() - start < 3  # was 7 s and 767 MB composing 990k nodes
    assert result.exit_code == 2
    assert result.output == (
        f"Error: {flat}, line 1: more than 250,000 values; a config may have at most that many "
        "(use seeded initialisation for large layers)\n"
    )


def test_a_784_256_10_network_written_as_matrices_is_still_read():
    rows = [", ".join(["0.01"] * 784)] * 256
    weights = "[" + ", ".join(f"[{r}]" for r in rows) + "]"
    text = (
        "layers: [784, 256, 10]\n"
        f"inputs: [{', '.join(['0.5'] * 784)}]\n"
        f"targets: [{', '.join(['0'] * 10)}]\n"
        f"weights:\n  - {weights}\n  - [{', '.join(['[' + ', '.join(['0.1'] * 256) + ']'] * 10)}]\n"
    )
    assert len(text) < 2_000_000
    doc = yamlsource.parse(text, "wide.yaml")
    assert len(doc.value["weights"][0]) == 256 and len(doc.value["weights"][1][9]) == 256


def test_a_file_swapped_for_a_fifo_after_its_stat_is_not_read(tmp_path, monkeypatch):
    answers = tmp_path / "a.yaml"
    answers.write_text("exercise: lecture\nanswers: {o3: 0.68}\n")
    real_open = os.open

    def swap_then_open(path, flags, *args):
        # between the stat and the open, the file becomes a FIFO with no writer, ever
        os.mkfifo(tmp_path / "fifo")
        os.replace(tmp_path / "fifo", answers)
        return real_open(path, flags, *args)

    monkeypatch.setattr(safefile.os, "open", swap_then_open)
    with pytest.raises(ConfigError) as caught:
        safefile.read_text(str(answers), what="an answers file")
    assert str(caught.value) == f"{answers}: changed while it was being read; try again"


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="0123456789.-+_:eExXbo ", min_size=1, max_size=8))
def test_the_quick_number_reading_agrees_with_pyyaml(text):
    """yamlsource's quick path for plain decimals gives the tag PyYAML's own resolver gives and
    the value its safe constructor builds: a second implementation as the expectation."""
    tag = yaml.resolver.Resolver().resolve(yaml.ScalarNode, text, (True, False))
    ours = yamlsource._Loader("").resolve(yaml.ScalarNode, text, (True, False))
    assert ours == tag
    node = yaml.ScalarNode(ours, text)
    try:
        theirs = yaml.constructor.SafeConstructor().construct_object(node)
    except ValueError:
        with pytest.raises(ValueError):
            yamlsource._scalar(node)
        return
    mine = yamlsource._scalar(node)
    assert type(mine) is type(theirs)
    assert mine == theirs or (mine != mine and theirs != theirs)  # nan is nan


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be"])
def test_a_file_saved_as_utf16_says_to_save_it_as_utf8(tmp_path, encoding):
    """Windows Notepad's "Unicode" is UTF-16 with a byte-order mark: said so, not "not text"."""
    path = tmp_path / "net.yaml"
    data = "layers: [2, 1]\n".encode(encoding)
    if encoding == "utf-16-be":
        data = b"\xfe\xff" + data  # the codec without its mark; write the mark as Notepad does
    path.write_bytes(data)
    with pytest.raises(ConfigError) as raised:
        safefile.read_text(str(path))
    assert str(raised.value) == f"{path}: saved as UTF-16; save it as UTF-8 (expected UTF-8 YAML)"
