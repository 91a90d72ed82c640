"""Files are written atomically and never clobbered: what --save (and later -o) promise."""

from __future__ import annotations

import os

import pytest

from backtrace_cli.core.errors import ConfigError
from backtrace_cli.core.output import write_text


def test_an_interrupted_write_leaves_nothing_behind(tmp_path, monkeypatch):
    target = tmp_path / "net.yaml"

    def interrupted(src, dst):
        raise KeyboardInterrupt  # Ctrl-C between writing and renaming

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_text(str(target), "layers: [2, 1]\n")
    assert list(tmp_path.iterdir()) == []  # no target, no temporary file


def test_an_interrupted_overwrite_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "net.yaml"
    target.write_text("old\n", encoding="utf-8")
    monkeypatch.setattr(os, "replace", lambda src, dst: (_ for _ in ()).throw(KeyboardInterrupt))
    with pytest.raises(KeyboardInterrupt):
        write_text(str(target), "new\n", force=True)
    assert target.read_text(encoding="utf-8") == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["net.yaml"]


def test_existing_file_needs_force(tmp_path):
    target = tmp_path / "net.yaml"
    target.write_text("old\n", encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        write_text(str(target), "new\n", option="--save")
    assert str(raised.value) == f"{target}, --save: exists already; use --force to overwrite it"
    write_text(str(target), "new\n", force=True)
    assert target.read_text(encoding="utf-8") == "new\n"


def test_an_unwritable_folder_is_a_clear_error(tmp_path, monkeypatch):
    # a read-only folder, as the OS reports it (root would ignore a chmod, so say it directly)
    import errno
    import tempfile

    def refused(**kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refused)
    target = tmp_path / "net.yaml"
    with pytest.raises(ConfigError) as raised:
        write_text(str(target), "x\n", option="--save")
    assert str(raised.value) == (
        f"{target}, --save: cannot write in '{tmp_path}': Permission denied"
    )
    assert list(tmp_path.iterdir()) == []


def test_a_loss_that_grew_enormously_is_said_as_a_factor_not_a_forty_digit_percentage():
    from backtrace_cli.render.numbers import loss_change

    # relative drop = (start − end)/start: 0.25 → a quarter lower; −0.5 → half again as high
    assert loss_change(0.25) == "25.0% lower"
    assert loss_change(-0.5) == "50.0% higher"
    # end = 7.5e20 from start = 139.76: end/start = 1 − drop
    drop = (139.76 - 7.5e20) / 139.76
    assert loss_change(drop) == f"{7.5e20 / 139.76:.3g} times as high"


def test_a_fifo_is_written_into_never_replaced(tmp_path):
    """`-o /dev/stdout`, `-o /dev/null`: a device or a FIFO is written into as a shell's `>`
    writes, without --force. Renamed over, as root, /dev/null would have become a file for
    the whole machine (`run -o /dev/full --force` did so). A FIFO stands in for the device."""
    import stat
    import threading

    from click.testing import CliRunner

    from backtrace_cli.cli import cli

    pipe = tmp_path / "out.md"
    os.mkfifo(pipe)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(pipe.read_bytes()), daemon=True)
    reader.start()
    result = CliRunner().invoke(cli, ["run", "-o", str(pipe)])
    reader.join(timeout=60)
    assert result.exit_code == 0, result.output
    assert stat.S_ISFIFO(os.stat(pipe).st_mode)
    assert received[0].startswith(b"# Lecture example")
    assert [p.name for p in tmp_path.iterdir()] == ["out.md"]  # no temporary file beside it


def test_a_link_to_nothing_is_an_existing_file(tmp_path):
    link = tmp_path / "out.md"
    link.symlink_to(tmp_path / "nowhere")
    with pytest.raises(ConfigError) as raised:
        write_text(str(link), "x\n")
    assert str(raised.value) == f"{link}, -o: exists already; use --force to overwrite it"


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="Linux's /dev/full: always full")
def test_a_full_standard_output_is_said_with_status_74_not_a_traceback():
    """`run > /dev/full`: the output cannot be written (sysexits' EX_IOERR), said in one line."""
    import subprocess
    import sys

    for args in (["run"], ["run", "--format", "json"], ["step", "xor", "--epochs", "2"]):
        with open("/dev/full", "w") as full:
            done = subprocess.run(
                [sys.executable, "-m", "backtrace_cli", *args],
                stdout=full,
                stderr=subprocess.PIPE,
                text=True,
                check=False,
            )
        assert (done.returncode, done.stderr) == (
            74,
            "Error: the output could not be written: No space left on device\n",
        ), args
