"""The commands that teach: `check` (one file or a class), `quiz`, `exercise` (variants)."""

from __future__ import annotations

import sys
from typing import Any

import click

from ..teach.choices import GRADEBOOKS, VISIBILITIES
from .options import (
    FORMATS,
    Target,
    in_notation,
    load_config,
    notation_option,
    output_target,
    rounding_spec,
)
from .status import BadInput, bad_input

# what `check` writes besides the trace formats: Gradescope's autograder results.json
CHECK_FORMATS = (*FORMATS, "gradescope")


def _points(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
    """--points SPEC, read (numpy is not loaded for --help: only when given)."""
    if value is None:
        return None
    from ..teach import points  # only when given, for start-up time

    try:
        return points.parse(value)
    except points.PointsError as err:
        raise click.BadParameter(str(err)) from None


@click.command("check")
@click.argument("answers", nargs=-1, metavar="ANSWERS...")
@click.option(
    "--names",
    is_flag=True,
    help="List the names an answers file may use, in the step's order, with symbol and "
    "meaning; ANSWERS is then a config (default: the lecture example).",
)
@click.option(
    "--gradients/--no-gradients",
    default=None,
    help="With --names: the names an answers file with `gradients: true` (false) is marked "
    "on — the chain-rule rows ∂E/∂w too (left out).",
)
@click.option(
    "--exercises",
    "folder",
    metavar="DIR",
    help="Mark each file against the variant it names (`variant: lecture-s7-v01`), from "
    "the folder `backtrace exercise -o DIR` wrote.",
)
@click.option(
    "--exercise",
    "exercise",
    metavar="CONFIG",
    help="Mark every file against this config (a path or a built-in name).",
)
@click.option(
    "--gradebook",
    metavar="FILE.csv",
    help="Write a row per file: student, variant, mark, first wrong answer and its mistake, "
    "a column per question, and why a file could not be read.",
)
@click.option(
    "--gradebook-format",
    "book_format",
    type=click.Choice(GRADEBOOKS),
    default="csv",
    show_default=True,
    help="csv: a column per question; canvas or moodle: a row per student with the score, "
    "under the header the platform's grade import reads (docs/platforms.md).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(CHECK_FORMATS),
    default=None,
    help="table (default), markdown, json, or gradescope: an autograder's results.json, a "
    "test per question; with -o, the file's extension decides.",
)
@click.option(
    "--points",
    "weights",
    metavar="SPEC",
    callback=_points,
    help="What a question is worth in --format gradescope and a canvas or moodle gradebook: "
    "a number for all (2), or sections, kinds or names as --ask reads them: delta=2,update=1. "
    "Default 1 each; an answer that follows from the student's own wrong value earns it all.",
)
@click.option(
    "--visibility",
    type=click.Choice(VISIBILITIES),
    default="visible",
    show_default=True,
    help="When Gradescope shows students each question's feedback (after_due_date keeps the "
    "working, which holds the key, until the deadline).",
)
@click.option("-o", "--output", metavar="FILE", help="Write the report to FILE (- for stdout).")
@click.option("--force", is_flag=True, help="Let -o and --gradebook overwrite a file.")
@notation_option
@click.pass_context
def check_answers(
    ctx: click.Context,
    answers: tuple[str, ...],
    names: bool,
    gradients: bool | None,
    folder: str | None,
    exercise: str | None,
    gradebook: str | None,
    book_format: str,
    fmt: str | None,
    weights: Any,
    visibility: str,
    output: str | None,
    force: bool,
    notation: str | None,
) -> None:
    """Check your answers against the traced solution, and find your first mistake.

    ANSWERS is a YAML file: the exercise and your values by the trace's names.

    \b
        exercise: lecture   # a built-in name, a config path, or `config:` inline
        round: 3sf          # optional: the rounding you carried
        answers:
          o3: 0.680
          delta5: -0.0406
          w45: 0.873

    Against an exercise the mark is "x of N questions", unanswered ones listed.
    A class at once: files and folders of them, each naming its variant. --names
    lists the names a file may use (softmax's exp6, Adam's mhat_w36, dE/dw36).

    \b
        backtrace check --exercises homework3 answers/ --gradebook grades.csv
        backtrace check --exercises hw3 sub/ --format gradescope -o results.json
        backtrace check --names softmax

    Exit status 0 when every question is answered right, 1 otherwise, 2 for a bad file.
    """
    if names:
        _list_names(answers, notation, folder or exercise or gradebook or fmt or output, gradients)
    if gradients is not None:
        raise BadInput(
            "--gradients goes with --names; an answers file says `gradients: true` itself"
        )
    if not answers:
        raise click.MissingParameter(ctx=ctx, param=ctx.command.params[0])
    from .. import api  # numpy loads here, not for --help

    target = output_target(fmt, output, force)
    _refuse_platform_options(target.fmt, gradebook, book_format, weights, visibility)
    import os  # only when needed, for start-up time

    if target.fmt == "gradescope":
        _gradescope(answers, folder, exercise, target, notation, weights, visibility)
    if folder or exercise or gradebook or len(answers) > 1 or os.path.isdir(answers[0]):
        _mark_class(answers, folder, exercise, gradebook, target, notation, weights, book_format)
    with bad_input():
        marked = api.check_report(answers[0], notation=notation)
    _report(marked, target)


def _list_names(
    configs: tuple[str, ...], notation: str | None, other: str | None, gradients: bool | None
) -> None:
    """`check --names [CONFIG]`: the step's answer names, a table on a terminal, plain text
    in a pipe; exit 0."""
    if other or len(configs) > 1:
        raise BadInput(
            "--names lists one config's names (a path or a built-in example's name): "
            "give at most one CONFIG, without --exercises, --exercise, --gradebook, --format, -o"
        )
    # numpy loads here, not for --help
    from ..render import names as shown
    from ..teach.names import names as named

    spec = in_notation(load_config(configs[0] if configs else None), notation)
    with bad_input():
        listed = named(spec, gradients)
    if sys.stdout.isatty():
        from rich.console import Console  # only for the terminal, for start-up time

        Console(highlight=False, emoji=False).print(shown.renderable(listed))
    else:
        click.echo(shown.text(listed), nl=False)
    sys.exit(0)


def _report(marked: Any, target: Target) -> None:
    """Print or write one file's marked report, and exit with its status."""
    from ..render import number_format, report  # numpy loads here, not for --help
    from ..teach.verdicts import as_dict

    number = number_format(None, None)
    if target.path is None and target.fmt == "table":
        from rich.console import Console  # only for the terminal, for start-up time

        Console(highlight=False, emoji=False).print(report.renderable(marked, number))
    else:
        text = (
            report.as_json(as_dict(marked))
            if target.fmt == "json"
            else report.markdown(marked, number)
        )
        if target.path is None:
            click.echo(text, nl=False)
        else:
            from ..core.output import write_text  # only when writing a file, for start-up time

            with bad_input():
                write_text(target.path, text, force=target.force, option="-o")
    sys.exit(0 if marked.all_right else 1)


def _refuse_platform_options(
    fmt: str, gradebook: str | None, book_format: str, weights: Any, visibility: str
) -> None:
    """The options that go with --format gradescope or a platform's gradebook, refused
    elsewhere (before any work) rather than silently ignored."""
    if fmt == "gradescope" and gradebook:
        raise BadInput(
            "--format gradescope writes one submission's results.json, --gradebook a class's "
            "CSV: give one of them"
        )
    if book_format != "csv" and not gradebook:
        raise BadInput(f"--gradebook-format {book_format}: give the file, --gradebook FILE.csv")
    scored = fmt == "gradescope" or (gradebook and book_format != "csv")
    if weights is not None and not scored:
        raise BadInput(
            "--points weighs the score of --format gradescope and of --gradebook-format canvas "
            "or moodle; the csv gradebook counts the questions (mark, total)"
        )
    if visibility != "visible" and fmt != "gradescope":
        raise BadInput("--visibility is Gradescope's: give it with --format gradescope")


def _marker(
    folder: str | None, exercise: str | None, notation: str | None, teacher: bool, weights: Any
) -> Any:
    """The class marker for --exercises DIR or --exercise CONFIG (exit 2 if unreadable)."""
    from ..teach import gradebook as book  # numpy loads here, not for --help
    from ..teach import points

    if folder and exercise:
        raise BadInput("--exercises, --exercise: give one of them, not both")
    with bad_input():
        return book.marker(folder, exercise, notation, teacher, weights or points.EVERY)


def _gradescope(
    answers: tuple[str, ...],
    folder: str | None,
    exercise: str | None,
    target: Target,
    notation: str | None,
    weights: Any,
    visibility: str,
) -> None:
    """`check SUBMISSION --format gradescope`: one submission's results.json. The submission
    is hostile input, marked as a class's files are (what it is marked against comes from the
    teacher); whatever is wrong with it is said in the results, which are always written."""
    from ..render import gradescope
    from ..teach import gradebook as book
    from ..teach.points import PointsError

    marker = _marker(folder, exercise, notation, True, weights)
    try:
        row = book.mark_one(answers, marker)
    except PointsError as err:
        raise BadInput(str(err)) from None
    if row.report is None:
        data = gradescope.unmarked(row.error)
    else:
        data = gradescope.results(row.report, row.score, row.weight, visibility, row.variant)
    _write(gradescope.as_json(data), target)
    sys.exit(row.status)


def _write(text: str, target: Target) -> None:
    """Text to standard output, or to -o's file, written whole."""
    if target.path is None:
        click.echo(text, nl=False)
        return
    from ..core.output import write_text  # only when writing a file, for start-up time

    with bad_input():
        write_text(target.path, text, force=target.force, option="-o")


def _mark_class(
    answers: tuple[str, ...],
    folder: str | None,
    exercise: str | None,
    gradebook: str | None,
    target: Target,
    notation: str | None = None,
    weights: Any = None,
    book_format: str = "csv",
) -> None:
    """`check --exercises DIR` / `--exercise CONFIG` over many files: a gradebook row each."""
    from ..core.output import refuse_existing
    from ..teach import gradebook as book  # numpy loads here, not for --help
    from ..teach.points import PointsError

    marker = _marker(folder, exercise, notation, gradebook is not None, weights)
    if gradebook and not target.force:
        with bad_input():
            refuse_existing(gradebook, "--gradebook")  # said before marking, not after
    with bad_input():
        try:
            rows = book.mark_all(answers, marker)
        except PointsError as err:
            raise BadInput(str(err)) from None
    if gradebook:
        from ..core.output import write_text  # only when writing a file, for start-up time

        text, said = _gradebook_text(rows, book_format, folder or exercise)
        with bad_input():
            write_text(gradebook, text, force=target.force, option="--gradebook")
        for line in said:
            click.echo(f"Warning: {line}", err=True)
    elif len(rows) == 1:  # one file: its report, as `check FILE` prints it
        if rows[0].error:
            raise BadInput(rows[0].error)
        _report(rows[0].report, target)
    if len(rows) > 1 or gradebook:
        click.echo(book.summary(rows, gradebook), err=bool(gradebook))
    sys.exit(book.status(rows))


def _gradebook_text(rows: Any, book_format: str, named: str | None) -> tuple[str, tuple[str, ...]]:
    """The gradebook in its format, and what the teacher must be told of it. A platform's
    column is named after the set (--exercises DIR's folder, --exercise CONFIG's file)."""
    from ..teach import gradebook as book
    from ..teach import platforms

    if book_format == "csv":
        return book.to_csv(rows), ()
    import os  # only when needed, for start-up time

    assignment = os.path.splitext(os.path.basename(os.path.normpath(named or "backtrace")))[0]
    return platforms.write(rows, book_format, assignment)


def _ask_list(ctx: click.Context, param: click.Parameter, value: str | None) -> tuple[str, ...]:
    """--ask: the comma-separated names, kinds or sections, as `quiz` and `exercise` read it."""
    if not value:
        return ()
    import re  # only when --ask is given, for start-up time

    # a comma inside brackets is a tensor entry's index: y0[0,1] is one quantity
    return tuple(a.strip() for a in re.split(r",(?![^\[]*\])", value) if a.strip())


@click.command()
@click.argument("config", required=False)
@click.option(
    "--tries",
    type=click.IntRange(1, 9),
    default=2,
    show_default=True,
    help="Tries at each question before its working is shown and the quiz goes on.",
)
@click.option(
    "--round",
    "rounding",
    callback=rounding_spec,
    metavar="SPEC",
    help="The rounding you carry by hand (3sf, 4dp): the values you are marked against.",
)
@click.option(
    "--sample",
    type=click.IntRange(1),
    default=None,
    metavar="N",
    help="Ask only sample N's step (default: every sample's, as `run` traces the epoch).",
)
@click.option(
    "--gradients/--no-gradients",
    default=None,
    help="Ask the chain-rule rows ∂E/∂w too (default: only for one-layer networks).",
)
@click.option(
    "--ask",
    metavar="QUANTITIES",
    callback=_ask_list,
    help="Ask only these, comma-separated: sections (forward, error, delta, update; a "
    "graph's forward, backward), kinds (net, o, e, E, delta, dw, w, db, b) or single ones "
    "(delta3); for a computational graph, its names (q, df/dx). Default: every quantity of "
    "the step.",
)
@click.option(
    "-o",
    "--output",
    metavar="FILE",
    help="Write your answers as an answers file that `backtrace check FILE` marks.",
)
@click.option("--force", is_flag=True, help="Let -o overwrite a file.")
@notation_option
def quiz(
    config: str | None,
    tries: int,
    rounding: str | None,
    sample: int | None,
    gradients: bool | None,
    ask: tuple[str, ...],
    output: str | None,
    force: bool,
    notation: str | None,
) -> None:
    """Practise the step one equation at a time: type each value, marked at once.

    Each question shows the formula and the values it needs. Type the value, ? for a
    hint or ! to see the answer. Not on a terminal, one answer is read per line.

    \b
        backtrace quiz
        backtrace quiz lecture --round 3sf -o session.yaml
        backtrace quiz adam --ask forward,delta
        printf '0.755\\n0.68\\n' | backtrace quiz

    Exit status 0 when every answer is right, 1 otherwise, 130 on Ctrl-C.
    """
    # numpy loads here, not for --help
    from ..core.output import writable, write_text
    from ..render import number_format
    from ..teach import quiz as session

    spec = in_notation(load_config(config), notation)
    with bad_input():
        if output:
            writable(output, force=force, option="-o")  # refused now, not after the quiz
        try:
            asked = session.build(
                spec, rounding=rounding, sample=sample, tries=tries, gradients=gradients, ask=ask
            )
        except ValueError as err:
            raise BadInput(f"--ask: {err}") from None
    with bad_input():  # stdin that is not text, or a line without end (/dev/zero)
        summary = session.play(
            asked, session.dialogue(sys.stdin, sys.stdout), number_format(None, rounding)
        )
    if output and summary.answers():
        with bad_input():
            write_text(
                output, session.session_text(summary, config, output), force=force, option="-o"
            )
        click.echo(
            f"Wrote your answers to {output}; `backtrace check {output}` marks them.", err=True
        )
    elif output:
        click.echo(f"Nothing answered: {output} was not written.", err=True)
    sys.exit(summary.status)
