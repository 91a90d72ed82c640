"""`exercise`: a homework set of fair variants — sheets and keys in a folder, or a learning
platform's quiz file (Moodle XML, Canvas QTI)."""

from __future__ import annotations

import sys

import click

from ..teach.choices import DEFAULT_ROUNDING, QUIZ_FORMATS
from .options import (
    in_notation,
    load_config,
    notation_option,
    rounding_spec,
)
from .status import BadInput, bad_input
from .teach import _ask_list


def _value_range(ctx: click.Context, param: click.Parameter, value: str) -> tuple[float, float]:
    """--range and --loss-band: LOW,HIGH with LOW below HIGH."""
    try:
        low, high = (float(part) for part in value.split(","))
    except ValueError:
        raise click.BadParameter(f"{value!r}: give LOW,HIGH, e.g. -1,1") from None
    if not low < high:
        raise click.BadParameter(f"{value!r}: LOW must be below HIGH")
    return low, high


@click.command()
@click.argument("config")
@click.option(
    "--variants",
    "count",
    type=click.IntRange(1, 500),
    default=5,
    show_default=True,
    help="How many variants to write.",
)
@click.option(
    "--seed",
    type=click.IntRange(0),
    default=0,
    show_default=True,
    help="The same seed gives the same variants on every machine.",
)
@click.option(
    "-o",
    "--output",
    "folder",
    metavar="DIR|FILE",
    help="Folder for the files (created if missing); with --format moodle or qti, the file "
    "(moodle without -o, or -o -: standard output).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(QUIZ_FORMATS),
    default="folder",
    show_default=True,
    help="folder: sheets, keys and configs; moodle: a Moodle XML question bank, a Cloze "
    "question a variant; qti: a Canvas QTI 1.2 zip, a quiz a variant.",
)
@click.option(
    "--round",
    "rounding",
    callback=rounding_spec,
    metavar="SPEC",
    help="With --format moodle or qti: the rounding answers are given to (default 3sf); "
    "each blank takes the key ± half a unit in the last place kept.",
)
@click.option(
    "--range",
    "value_range",
    default="-1,1",
    show_default=True,
    metavar="LOW,HIGH",
    callback=_value_range,
    help="Weights, biases and inputs are drawn from this range.",
)
@click.option(
    "--places",
    type=click.IntRange(0, 4),
    default=1,
    show_default=True,
    help="Decimal places of the drawn values (1: 0.3, −0.7, …).",
)
@click.option(
    "--ask",
    metavar="QUANTITIES",
    callback=_ask_list,
    help="Ask only these, comma-separated: kinds (net, o, e, E, delta, dw, w, db, b) or "
    "single ones (delta3); for a computational graph, its names (q, df/dx). Default: every "
    "quantity of the step.",
)
@click.option(
    "--min-magnitude",
    type=click.FloatRange(0),
    default=0.001,
    show_default=True,
    metavar="X",
    help="Every δ, Δw and Δb at least X in size, so that it can be written to 3 significant "
    "figures (0: no limit).",
)
@click.option(
    "--loss-band",
    metavar="LOW,HIGH",
    callback=lambda ctx, param, value: None if value is None else _value_range(ctx, param, value),
    help="Keep every variant's loss E in [LOW, HIGH], so they are equally hard "
    "(default: the middle half of E over 128 draws). A computational graph has no loss: "
    "its output's value (f) is kept in [LOW, HIGH] (default: no band).",
)
@click.option("--force", is_flag=True, help="Overwrite files from an earlier run.")
@notation_option
def exercise(
    config: str,
    count: int,
    seed: int,
    folder: str,
    value_range: tuple[float, float],
    places: int,
    ask: tuple[str, ...],
    min_magnitude: float,
    loss_band: tuple[float, float] | None,
    force: bool,
    notation: str | None,
    fmt: str,
    rounding: str | None,
) -> None:
    """Write exercise variants: question sheets, answer keys and configs, with two indexes.

    Each variant keeps the network's shape and the question, with new weights, inputs and
    targets: never 0 or ±1, every δ and Δw big enough to write, every named slip changing an
    answer, E in one band. DIR/questions/ holds
    the sheets and the students' index (publish it); DIR/keys/ and DIR/configs/ the
    solutions, listed in DIR/index.md. Each variant's id (lecture-s7-v03) is in its files.

    \b
        backtrace exercise lecture --variants 30 --seed 7 -o homework3
        backtrace exercise my_net.yaml --variants 5 --ask net,o,delta -o sheets
        backtrace exercise my_net.yaml --range -2,2 --loss-band 0.02,0.1 -o sheets
        backtrace exercise circuit --variants 25 --ask q,f,df/dz -o circuits
        backtrace exercise lecture --variants 30 --format moodle -o bank.xml

    --format moodle or qti writes one file a learning platform imports instead:
    docs/platforms.md says how.
    """
    # numpy loads here, not for --help
    import os

    from ..teach import exercise as sets
    from ..teach import homework

    _quiz_options(fmt, folder, rounding)
    spec = in_notation(load_config(config), notation)
    base = os.path.splitext(os.path.basename(config))[0]
    rules = sets.Rules(sets.Values(*value_range, places), min_magnitude, loss_band)
    try:
        with bad_input():  # a model whose sheets are not written yet says so
            if fmt != "folder":
                made = sets.quiz(
                    spec, count, seed, rules, base, ask, fmt, rounding or DEFAULT_ROUNDING
                )
                _write_quiz(made, folder, force, count, fmt)
            texts = sets.files(spec, count, seed, rules, base, ask)
    except sets.NoFairVariant as err:
        raise BadInput(f"{config}: {err}") from None
    except ValueError as err:
        raise BadInput(f"--ask: {err}") from None
    with bad_input():
        homework.write(folder, texts, force)
    noun = "variant" if count == 1 else "variants"
    click.echo(
        f"Wrote {count} {noun} to {folder}: publish {os.path.join(folder, 'questions')}/; "
        f"the keys are listed in {os.path.join(folder, 'index.md')}."
    )


def _quiz_options(fmt: str, output: str | None, rounding: str | None) -> None:
    """What each --format needs, refused before any draw: a folder or a zip needs -o; --round
    says a platform quiz's tolerance, so a folder of sheets takes none."""
    if fmt == "folder" and rounding:
        raise BadInput("--round: only with --format moodle or qti (a quiz's tolerance)")
    if fmt != "moodle" and output in (None, "-"):
        what = "a folder: -o DIR" if fmt == "folder" else "a zip file: -o FILE.zip"
        raise BadInput(f"--format {fmt} writes {what}")


def _write_quiz(made: str | bytes, output: str | None, force: bool, count: int, fmt: str) -> None:
    """Write a platform's file (or print Moodle's XML without -o), say so, exit 0."""
    from ..core.output import write_bytes, write_text  # only when writing, for start-up time

    if output in (None, "-"):
        click.echo(made, nl=False)
        sys.exit(0)
    with bad_input():
        if isinstance(made, bytes):
            write_bytes(output, made, force=force, option="-o")
        else:
            write_text(output, made, force=force, option="-o")
    noun = "variant" if count == 1 else "variants"
    where = (
        "Moodle: Question bank › Import, Moodle XML"
        if fmt == "moodle"
        else ("Canvas: Settings › Import course content, QTI .zip file")
    )
    click.echo(f"Wrote {count} {noun} to {output}; import it in {where}.")
    sys.exit(0)
