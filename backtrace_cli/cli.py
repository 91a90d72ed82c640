"""The command line: options in, stages called, output out. No maths here.

Heavy imports (numpy, rich, yaml) happen inside the commands, so `--help` stays instant.
"""

from __future__ import annotations

import enum
import sys
from collections.abc import Callable
from typing import Any

import click

from . import __version__
from .errors import ConfigError


class Exit(enum.IntEnum):
    OK = 0
    BAD_INPUT = 2


class BadInput(click.ClickException):
    exit_code = Exit.BAD_INPUT


def _rounding(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    from .rounding import parse

    parsed = parse(value)
    if parsed is None:
        raise click.BadParameter(f"{value!r} is not a rounding spec; use e.g. 3sf (3 "
                                 "significant figures) or 4dp (4 decimal places)")
    return f"{parsed[0]}{parsed[1]}"


def trace_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Options shared by every command that prints a trace."""
    for option in reversed([
        click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
                     show_default=True, help="table: rich tables for the terminal; json: the "
                     "machine-readable trace."),
        click.option("--decimals", type=click.IntRange(0, 15), default=None,
                     help="Decimal places shown (display only; default 6, trailing zeros "
                     "dropped)."),
        click.option("--round", "rounding", callback=_rounding, metavar="SPEC",
                     help="Hand-calculation mode: round every carried intermediate as a "
                     "student does (3sf = 3 significant figures, 4dp = 4 decimal places)."),
        click.option("--full", is_flag=True, help="Show every unit of wide layers (tables "
                     "summarise them otherwise; JSON always has everything)."),
        click.option("--gradients/--no-gradients", default=None, help="Show the chain-rule "
                     "rows ∂E/∂w for every weight (default: only for one-layer networks)."),
    ]):
        command = option(command)
    return command


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="backtrace")
def cli() -> None:
    """Backpropagation traced step by step: every equation, with its numbers.

    \b
        backtrace run                      # the lecture's 2-2-1 example
        backtrace run --round 3sf          # as a student rounds by hand
        backtrace run my_net.yaml --format json
        backtrace examples                 # the built-in examples
    """


@cli.command()
@click.argument("config", required=False)
@trace_options
def run(config: str | None, fmt: str, decimals: int | None, rounding: str | None, full: bool,
        gradients: bool | None) -> None:
    """One training step, fully traced: forward pass, error, δ, every update.

    CONFIG is a YAML file or the name of a built-in example; without it, the
    lecture's 2-2-1 example. With several samples, one epoch is traced.

    \b
        backtrace run
        backtrace run lecture --round 3sf
        backtrace run configs/chain_rule.yaml --decimals 3
        backtrace run my_net.yaml --format json > trace.json
    """
    from . import config as cfg
    from . import engine, trace

    try:
        spec = cfg.load(config)
    except ConfigError as err:
        raise BadInput(str(err)) from None
    carry = engine.exact
    if rounding:
        from .rounding import carrier

        carry = carrier(rounding)
    result = trace.build(spec, engine.epoch(spec, 1, carry), rounding=rounding, full=full,
                         gradients=gradients)
    _emit(result, fmt, decimals, rounding)


def _emit(result: Any, fmt: str, decimals: int | None, rounding: str | None) -> None:
    if fmt == "json":
        from .render import json as render_json

        click.echo(render_json.render(result), nl=False)
        return
    from rich.console import Console

    from .render import table
    from .render.numbers import NumberFormat

    number = NumberFormat(decimals if decimals is not None else 6, rounding, decimals is not None)
    Console(highlight=False).print(table.render(result, number))


@cli.command()
@click.argument("name", required=False)
def examples(name: str | None) -> None:
    """List the built-in examples, or print one to copy and edit.

    \b
        backtrace examples
        backtrace examples lecture > my_net.yaml
    """
    from . import config as cfg

    if name is None:
        for example in cfg.example_names():
            spec = cfg.load(example)
            click.echo(f"{example:<14} {spec.name}")
        click.echo("\nbacktrace run NAME traces one; backtrace examples NAME prints it.")
        return
    try:
        click.echo(cfg.example_text(name), nl=False)
    except ConfigError as err:
        raise BadInput(str(err)) from None


def main() -> None:
    cli()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(cli())
