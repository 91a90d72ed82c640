"""Shared helpers: run the engine on a config and read numbers out of the JSON trace."""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
from click.testing import CliRunner

from backtrace_cli.cli import cli
from backtrace_cli.network.config import example_names, example_text


def _is_graph(name: str) -> bool:
    return _has(name, ("expression", "nodes"))


def _has(name: str, keys: tuple[str, ...]) -> bool:
    import yaml

    return any(key in yaml.safe_load(example_text(name)) for key in keys)


# new mutations each fuzz test draws in a run (60 of a kind cost a few seconds of a suite held
# to 60 s); a long session by hand finds more:
#     BACKTRACE_FUZZ_EXAMPLES=20000 pytest tests/test_fuzz.py tests/test_bad_input.py
FUZZ_EXAMPLES = int(os.environ.get("BACKTRACE_FUZZ_EXAMPLES", "60"))


def text(**kwargs: Any) -> Any:
    """hypothesis's `text()`, every character but surrogates, as its default draws: without
    its `codec="utf-8"`, whose table of 1.1 million code points costs each test worker of a
    fresh clone 1.7 s to build."""
    from hypothesis import strategies as st

    return st.text(st.characters(exclude_categories=("Cs",)), **kwargs)


# the built-in examples by model: layered networks, computational graphs, and `model:`s of
# tensor layers (conv1d, pooling: traced by layer, their JSON backtrace-model's)
MODELS = [name for name in example_names() if _has(name, ("model",))]
NETWORKS = [name for name in example_names() if not _is_graph(name) and name not in MODELS]
GRAPHS = [name for name in example_names() if _is_graph(name)]


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """`--dist loadfile` asks for this scheduler: the files that use tests/node_parsers.py go
    to one worker together (KaTeX, Mermaid and jsdom load in one node process for the session
    instead of one a worker); every other test is its own unit, so the two workers finish
    together (a whole file to a worker left one idle for the last file's 8 s: 70.9 → 64.1 s
    locally, at the price of a module fixture computed on both workers)."""
    if config.getvalue("dist") != "loadfile":
        return None
    from functools import cache

    from xdist.scheduler import LoadFileScheduling

    @cache
    def uses_node(file: str) -> bool:
        return "from node_parsers import" in (config.rootpath / file).read_text(encoding="utf-8")

    class NodeFilesTogether(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            file = super()._split_scope(nodeid)
            return "node_parsers" if uses_node(file) else nodeid

    return NodeFilesTogether(config, log)


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def run_json(runner: CliRunner, *args: str) -> dict[str, Any]:
    """`backtrace run ARGS --format json`, parsed."""
    result = runner.invoke(cli, ["run", *args, "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def equations(document: dict[str, Any], step: int = 0) -> dict[str, float]:
    """symbol → value of one step's traced equations."""
    return {e["symbol"]: e["value"] for e in document["steps"][step]["equations"]}
