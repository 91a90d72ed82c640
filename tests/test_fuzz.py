"""Fuzzing: every built-in example, mutated in its structure, its values and its raw text, must
either run or exit 2 with one message — never another status, a traceback or a hang.

    BACKTRACE_FUZZ_EXAMPLES=20000 pytest tests/test_fuzz.py    # a long session, by hand
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from conftest import FUZZ_EXAMPLES, text
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backtrace_cli.cli import cli
from backtrace_cli.network.config import example_names, example_text

SOURCES = {name: example_text(name) for name in example_names()}

junk = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**400), 10**400),
    st.floats(allow_nan=True, allow_infinity=True),
    text(max_size=12),
    st.lists(st.one_of(st.floats(-3, 3), st.integers(-3, 300), text(max_size=3)), max_size=5),
    st.dictionaries(text(max_size=6), st.one_of(st.integers(), text(max_size=3)), max_size=3),
)


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every place in a nested structure: keys of mappings, indices of lists."""
    out = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            out += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value[:6]):
            out += _paths(item, (*prefix, index))
    return out


@st.composite
def structural(draw: st.DrawFn) -> str:
    """A built-in example with one to three changes anywhere in its tree."""
    data = yaml.safe_load(SOURCES[draw(st.sampled_from(sorted(SOURCES)))])
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_paths(data)))
        if not path:
            continue
        parent = data
        for part in path[:-1]:
            parent = parent[part]
        last = path[-1]
        kind = draw(st.sampled_from(["delete", "replace", "wrap", "grow", "shrink", "rename"]))
        if kind == "delete":
            del parent[last]
        elif kind == "replace":
            parent[last] = draw(junk)
        elif kind == "wrap":
            parent[last] = [parent[last]]
        elif kind == "rename" and isinstance(parent, dict):
            parent[draw(text(min_size=1, max_size=8))] = parent.pop(last)
        elif isinstance(parent[last], list):
            item = parent[last]
            parent[last] = [*item, item[-1] if item else 0] if kind == "grow" else item[:-1]
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


@st.composite
def textual(draw: st.DrawFn) -> str:
    """A built-in example's text with a few careless keystrokes."""
    text = SOURCES[draw(st.sampled_from(sorted(SOURCES)))]
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        kind = draw(st.sampled_from(["insert", "delete", "duplicate line"]))
        if kind == "insert":
            piece = draw(
                st.sampled_from([*list(":-[]{},#&*!\t \n.e0'\"|>%@`"), "\x00", "é", "1e999"])
            )
            text = text[:at] + piece + text[at:]
        elif kind == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 12)) :]
        else:
            start = text.rfind("\n", 0, at) + 1
            end = text.find("\n", at)
            end = len(text) if end < 0 else end + 1
            text = text[:end] + text[start:end] + text[end:]
    return text


def _check(runner, path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    for args in (["run", str(path), "--format", "json"], ["step", str(path), "-n", "3"]):
        result = runner.invoke(cli, args)
        assert result.exit_code in (0, 2), (args, text, result.output)
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            text,
            result.exception,
        )
        if result.exit_code == 2:
            assert result.output.startswith(f"Error: {path}"), (text, result.output)
            assert "Traceback" not in result.output
            break  # `step` reads the same file: it would say the same


FUZZ = settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@FUZZ
@given(structural())
def test_structurally_mutated_examples_run_or_exit_2(runner, tmp_path, text):
    _check(runner, Path(tmp_path) / "mutated.yaml", text)


@FUZZ
@given(textual())
def test_mistyped_examples_run_or_exit_2(runner, tmp_path, text):
    _check(runner, Path(tmp_path) / "typed.yaml", text)
