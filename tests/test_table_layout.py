"""A short section is laid out line by line where its columns fit the console (rich's Table
costs ten times as much to start up): byte for byte what rich's Table writes, with colour and
without, and rich's Table itself where the columns must narrow."""

from __future__ import annotations

import pytest

from backtrace_cli.cli import cli
from backtrace_cli.render import lines, table

EXAMPLES = ["lecture", "mazur", "lecture_dropout", "softmax", "dropout256", "adam", "cnn", "xor"]


def _by_rich(self: table.LongTable | table.LongSummary, width: int) -> object:
    """rich's Table for every short section and summary, whatever the width."""
    return self.by_rich() if self.short else None


@pytest.mark.parametrize("example", EXAMPLES)
def test_short_sections_are_written_as_richs_table_writes_them(runner, monkeypatch, example):
    """Every short table, and every one-line Text, heading and rule around them, as
    `console.print` writes them through rich."""
    for width in ("50", "80", "140"):
        for extra in ([], ["--gradients"]):
            for colour in ("1", None):
                env = {"COLUMNS": width, "FORCE_COLOR": colour, "NO_COLOR": None}
                args = ["run", example, *extra]
                ours = runner.invoke(cli, args, env=env)
                with monkeypatch.context() as patched:
                    patched.setattr(table.LongTable, "instead", _by_rich)
                    patched.setattr(table.LongSummary, "instead", _by_rich)
                    patched.setattr(lines, "written_line", lambda part, console: None)
                    theirs = runner.invoke(cli, args, env=env)
                assert ours.exit_code == theirs.exit_code == 0, ours.output
                assert ours.output == theirs.output, (width, extra, colour)


def test_a_section_that_must_narrow_is_left_to_rich(runner):
    """At 40 columns the lecture's δ section cannot fit: rich's Table lays it out."""
    section = table.LongTable.__new__(table.LongTable)
    section.short, section.marked = True, False
    section.rows = [
        ("δ5", "o5(1 − o5)(t5 − o5)", "0.690283(1 − 0.690283)(0.5 − 0.690283)", "", "−0.040681")
    ]
    assert section.instead(100) is None
    assert section.instead(40) is not None
    section.short = False  # a long one narrows by its own rule, never through rich
    assert section.instead(40) is None


@pytest.mark.parametrize("example", ["xor", "dropout256", "softmax", "mazur", "chain_rule"])
def test_the_epoch_table_is_written_as_richs_table_writes_it(runner, monkeypatch, example):
    """`step`'s per-epoch table (a header over two lines, its parameters continued in further
    tables at a narrow width, a left-justified column of the weight that changed most)."""
    from backtrace_cli.render import epochs

    for width in ("40", "80", "140"):
        for colour in ("1", None):
            env = {"COLUMNS": width, "FORCE_COLOR": colour, "NO_COLOR": None}
            args = ["step", example, "--epochs", "12"]
            ours = runner.invoke(cli, args, env=env)
            with monkeypatch.context() as patched:
                patched.setattr(epochs.EpochTables, "write", _all_by_rich)
                theirs = runner.invoke(cli, args, env=env)
            assert ours.exit_code == theirs.exit_code == 0, ours.output
            assert ours.output == theirs.output, (width, colour)


def _all_by_rich(self, console, progress=None) -> None:
    """rich's Tables for the per-epoch table, whatever the width."""
    for part in self.by_rich(console.width):
        console.print(part)
