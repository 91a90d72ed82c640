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
    import yaml

    return any(key in yaml.safe_load(example_text(name)) for key in ("expression", "nodes"))


# new mutations each fuzz test draws in a run (60 of a kind cost a few seconds of a suite held
# to 60 s); a long session by hand finds more:
#     BACKTRACE_FUZZ_EXAMPLES=20000 pytest tests/test_fuzz.py tests/test_bad_input.py
FUZZ_EXAMPLES = int(os.environ.get("BACKTRACE_FUZZ_EXAMPLES", "60"))

# the built-in examples by model: layered networks, and computational graphs
NETWORKS = [name for name in example_names() if not _is_graph(name)]
GRAPHS = [name for name in example_names() if _is_graph(name)]


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
