"""Shared helpers: run the engine on a config and read numbers out of the JSON trace."""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner

from backtrace_cli.cli import cli


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
