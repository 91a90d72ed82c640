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
