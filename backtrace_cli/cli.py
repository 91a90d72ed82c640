"""The command line: options in, stages called, output out. No maths here.

Heavy imports (numpy, rich, yaml) happen inside the commands, so `--help` stays instant.
"""

from __future__ import annotations

import contextlib
import enum
import sys
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

import click

from . import __version__
from .errors import ConfigError, quote

FORMATS = ("table", "markdown", "json")
EXTENSIONS = {".md": "markdown", ".markdown": "markdown", ".json": "json"}


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
        raise click.BadParameter(
            f"{value!r} is not a rounding spec; use e.g. 3sf (3 "
            "significant figures) or 4dp (4 decimal places)"
        )
    return f"{parsed[0]}{parsed[1]}"


def _notation(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """--notation's book, checked against the notations there are (read only when given:
    `--help` stays fast)."""
    if value is None:
        return None
    from .notations import NAMES

    if value not in NAMES:
        raise click.BadParameter(f"{value!r} is not a notation; use one of {', '.join(NAMES)}")
    return value


def notation_option(command: Callable[..., Any]) -> Callable[..., Any]:
    """--notation BOOK: the trace (and the names answers use) in a textbook's symbols."""
    return click.option(
        "--notation",
        metavar="BOOK",
        callback=_notation,
        default=None,
        help="The textbook whose symbols and δ sign the trace uses, and the names answers are "
        "read in: lecture (net3, o3, δ = −∂E/∂net, w13), or a book's, e.g. nielsen (z^2_1, "
        "δ = ∂C/∂z) — the README lists them all. Default: the config's or answers file's "
        "`notation:`, else lecture.",
    )(command)


def _in_notation(spec: Any, book: str | None) -> Any:
    """The spec with --notation's book (a computational graph's names are its own)."""
    from .api import _in_notation as in_notation

    return in_notation(spec, book)


def trace_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Options shared by every command that prints a trace."""
    command = notation_option(command)  # listed last
    for option in reversed(
        [
            click.option(
                "--format",
                "fmt",
                type=click.Choice(FORMATS),
                default=None,
                help="table: rich tables for the terminal (default); markdown: the homework "
                "export (LaTeX math, Mermaid diagrams); json: the machine-readable trace. "
                "With -o, the file's extension decides unless this is given.",
            ),
            click.option(
                "-o",
                "--output",
                metavar="FILE",
                help="Write to FILE instead of the terminal (- for standard output); written "
                "atomically, never over an existing file without --force.",
            ),
            click.option("--force", is_flag=True, help="Let -o (and --save) overwrite a file."),
            click.option(
                "--decimals",
                type=click.IntRange(0, 15),
                default=None,
                help="Decimal places shown (display only; default 6, trailing zeros dropped).",
            ),
            click.option(
                "--round",
                "rounding",
                callback=_rounding,
                metavar="SPEC",
                help="Hand-calculation mode: round every carried intermediate as a "
                "student does (3sf = 3 significant figures, 4dp = 4 decimal places).",
            ),
            click.option(
                "--full",
                is_flag=True,
                help="Show every unit of wide layers (tables "
                "summarise them otherwise; JSON always has everything).",
            ),
            click.option(
                "--verify",
                is_flag=True,
                help="Beside every gradient of the traced steps, its central finite "
                "difference (through the same forward pass) and whether they agree.",
            ),
            click.option(
                "--gradients/--no-gradients",
                default=None,
                help="Show the chain-rule "
                "rows ∂E/∂w for every weight (default: only for one-layer networks).",
            ),
        ]
    ):
        command = option(command)
    return command


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="backtrace")
def cli() -> None:
    """Backpropagation traced step by step: every equation, with its numbers.

    \b
        backtrace run                      # the lecture's 2-2-1 example
        backtrace run --round 3sf          # as a student rounds by hand
        backtrace step --epochs 50         # watch the loss go down
        backtrace run -o homework.md       # the worked step as markdown
        backtrace check answers.yaml       # mark your own answers
        backtrace quiz                     # find each value yourself, marked at once
        backtrace exercise lecture --variants 10 -o sheets
        backtrace run my_net.yaml --format json
        backtrace examples                 # the built-in examples
    """


def _load(config: str | None) -> Any:
    from . import models as cfg

    try:
        return cfg.load(config)
    except ConfigError as err:
        raise BadInput(str(err)) from None


@cli.command()
@click.argument("config", required=False)
@trace_options
@click.option(
    "--eval",
    "inference",
    is_flag=True,
    help="Inference only: each sample's forward pass and loss, without dropout and "
    "without an update.",
)
def run(
    config: str | None,
    fmt: str | None,
    output: str | None,
    force: bool,
    decimals: int | None,
    rounding: str | None,
    full: bool,
    verify: bool,
    gradients: bool | None,
    notation: str | None,
    inference: bool,
) -> None:
    """One training step, fully traced: forward pass, error, δ, every update.

    CONFIG is a YAML file or the name of a built-in example; without it, the
    lecture's 2-2-1 example. With several samples, one epoch is traced. A config
    with `expression:` or `nodes:` is a computational graph, traced node by node.

    \b
        backtrace run
        backtrace run lecture --round 3sf
        backtrace run configs/chain_rule.yaml --decimals 3
        backtrace run my_net.yaml --format json > trace.json
        backtrace run circuit --verify       # f = (x + y)·z, gate by gate
        backtrace run mazur --notation mazur # his post's names: net_h1, w5⁺, …
    """
    from . import api

    target = _target(fmt, output, force)
    with _Working(target) as working:
        try:
            spec = _in_notation(api.load(config), notation)
            worked = api.trace(
                spec,
                rounding=rounding,
                # JSON has every equation of a network up to JSON_IN_FULL parameters (the
                # questions quiz asks); a wider one's arrays hold every value already
                full=full or (target.fmt == "json" and _in_full(spec)),
                gradients=gradients,
                inference=inference,
                verify=verify,
            )
        except ConfigError as err:
            raise BadInput(str(err)) from None
        _emit(worked.records, target, decimals, rounding, working.writing())


def _in_full(spec: Any) -> bool:
    from .records import JSON_IN_FULL

    weights = getattr(spec, "weights", None)  # a computational graph has a handful of nodes
    return weights is None or sum(w.size for w in weights) <= JSON_IN_FULL


def _epochs(value: str | None, epochs: int) -> tuple[set[int], bool, bool]:
    """--trace: "1,2,50", "3-5", "first", "last", "all" → (epochs, last, all), checked
    against --epochs before any training."""
    if not value:
        return set(), False, False
    from .api import picks

    try:
        return picks(value.replace(" ", "").split(","), epochs)
    except ValueError as err:
        raise click.BadParameter(str(err), param_hint="'--trace'") from None


def _until_loss(ctx: click.Context, param: click.Parameter, value: str | None) -> float | None:
    """--until-loss X: a positive finite number (nan or ≤ 0 never stops, ∞ stops at once)."""
    if value is None:
        return None
    import math

    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not (math.isfinite(number) and number > 0):
        raise click.BadParameter(
            f"{quote(value)} is not a positive finite number; give the loss to stop below, "
            "e.g. 0.001"
        )
    return number


@cli.command()
@click.argument("config", required=False)
@click.option(
    "--epochs",
    "-n",
    type=click.IntRange(1, 10_000_000),
    default=100,
    show_default=True,
    help="How many epochs to train.",
)
@click.option(
    "--trace",
    "trace_spec",
    metavar="EPOCHS",
    help="Epochs whose full equations are shown: 1,2,50 · 1-3 · first · last · all.",
)
@click.option(
    "--every",
    type=click.IntRange(1),
    metavar="K",
    help="Table rows: the first ten epochs, then every K-th (default: about 30 rows).",
)
@click.option("--all-epochs", is_flag=True, help="A table row for every epoch.")
@click.option(
    "--until-loss",
    callback=_until_loss,
    metavar="X",
    help="Stop after the first epoch whose loss is below X.",
)
@click.option(
    "--save",
    metavar="FILE",
    help="Write the trained network as a config that `backtrace run FILE` accepts.",
)
@trace_options
def step(
    config: str | None,
    epochs: int,
    trace_spec: str | None,
    every: int | None,
    all_epochs: bool,
    until_loss: float | None,
    save: str | None,
    fmt: str | None,
    output: str | None,
    force: bool,
    decimals: int | None,
    rounding: str | None,
    full: bool,
    verify: bool,
    gradients: bool | None,
    notation: str | None,
) -> None:
    """Train for N epochs: a per-epoch table, the loss curve, chosen epochs in full.

    \b
        backtrace step --epochs 50
        backtrace step lecture --epochs 2 --trace 2 --save iteration2.yaml
        backtrace step xor --epochs 2000 --trace last
        backtrace step xor --epochs 100000 --until-loss 0.001
    """
    from . import api

    traced, last, everything = _epochs(trace_spec, epochs)
    target = _target(fmt, output, force)
    spec = _in_notation(_load(config), notation)
    if save and not hasattr(spec, "layers"):
        raise BadInput(
            f"{spec.source}, --save: writes trained networks; a graph's trained parameters "
            "are in the table and in the JSON's `summary`"
        )
    if save and not force:
        from pathlib import Path

        if Path(save).exists():  # say so before training, not after
            raise BadInput(f"{save}, --save: exists already; use --force to overwrite it")
    picks = [*sorted(traced), *(["last"] if last else []), *(["all"] if everything else [])]
    with _Progress(epochs, target) as tick, _bad_input():
        result = api.train(
            spec,
            epochs,
            trace=picks,
            until_loss=until_loss,
            rounding=rounding,
            full=full or target.fmt == "json",
            gradients=gradients,
            every=every,
            all_epochs=all_epochs,
            progress=tick,
            verify=verify,
        ).records
    if save:
        from . import save as saver
        from .output import write_text

        header = (
            f"Trained by `backtrace step`: {len(result.losses)} epochs from "
            f"{spec.source}; loss {result.losses[0]:.6g} → {result.losses_after[-1]:.6g}"
        )
        try:
            write_text(
                save,
                saver.to_config(result.final, header, target=save),
                force=force,
                option="--save",
            )
        except ConfigError as err:
            raise BadInput(str(err)) from None
    _emit(result, target, decimals, rounding)
    if save:
        click.echo(
            f"Saved the trained network to {save}; `backtrace run {save}` continues from it.",
            err=True,
        )


@contextlib.contextmanager
def _bad_input() -> Iterator[None]:
    """ConfigError from the stages → exit 2 with its message."""
    try:
        yield
    except ConfigError as err:
        raise BadInput(str(err)) from None


class _Progress:
    """A progress bar on stderr, shown only once training has taken over a second, and only
    in a terminal (never when output is piped)."""

    def __init__(self, total: int, target: Target) -> None:
        self.total = total
        to_terminal = target.path is None and target.fmt == "table" and sys.stdout.isatty()
        self.enabled = (to_terminal or target.path is not None) and sys.stderr.isatty()
        self.bar: Any = None
        self.task: Any = None

    def __enter__(self) -> Callable[[int], None] | None:
        if not self.enabled:
            return None
        import time

        self.clock = time.perf_counter
        self.started = self.clock()
        return self.tick

    def tick(self, epoch: int) -> None:
        if epoch % 64:
            return
        if self.bar is None:
            if self.clock() - self.started < 1.0:
                return
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

            self.bar = Progress(
                "training",
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            self.bar.start()
            self.task = self.bar.add_task("epochs", total=self.total)
        self.bar.update(self.task, completed=epoch)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()


class _Working:
    """A spinner on stderr once a trace has taken a second to build and write (`--full` on a
    wide network writes 800,000 lines): only when stderr is a terminal, and, when the trace
    itself goes to that terminal, only until it starts printing — then the lines are the sign
    of life. Writing to a file or a pipe, it counts the lines written."""

    def __init__(self, target: Target) -> None:
        import threading

        self.enabled = sys.stderr.isatty()
        self.to_terminal = target.path is None and sys.stdout.isatty()
        self.lock = threading.Lock()
        self.timer: Any = None
        self.bar: Any = None
        self.task: Any = None
        self.stopped = False
        self.lines = 0

    def __enter__(self) -> _Working:
        if self.enabled:
            import threading

            self.timer = threading.Timer(1.0, self._start)
            self.timer.daemon = True
            self.timer.start()
        return self

    def _start(self) -> None:
        from rich.console import Console
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        with self.lock:
            if self.stopped:
                return
            self.bar = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                TimeElapsedColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            self.task = self.bar.add_task("tracing")
            self.bar.start()

    def writing(self) -> Callable[[int], None] | None:
        """Output begins: the callback that counts lines, or None once the spinner is gone."""
        if self.to_terminal or not self.enabled:
            self.stop()
            return None
        return self.tick

    def tick(self, lines: int) -> None:
        self.lines += lines
        with self.lock:
            if self.bar is not None:
                self.bar.update(self.task, description=f"writing: {self.lines:,} lines")

    def stop(self) -> None:
        with self.lock:
            self.stopped = True
            if self.timer is not None:
                self.timer.cancel()
            if self.bar is not None:
                self.bar.stop()
                self.bar = None

    def __exit__(self, *exc: object) -> None:
        self.stop()


class Target(NamedTuple):
    """Where the trace goes and in which format; checked before any work is done."""

    fmt: str
    path: str | None  # None: standard output
    force: bool


def _target(fmt: str | None, output: str | None, force: bool) -> Target:
    path = None if output in (None, "-") else output
    if fmt is None:
        import os

        extension = os.path.splitext(path)[1].lower() if path else ""
        fmt = EXTENSIONS.get(extension, "table")
    if path is not None:
        from pathlib import Path

        if Path(path).exists() and not Path(path).is_dir() and not force:
            raise BadInput(f"{path}, -o: exists already; use --force to overwrite it")
    return Target(fmt, path, force)


def _emit(
    result: Any,
    target: Target,
    decimals: int | None,
    rounding: str | None,
    progress: Callable[[int], None] | None = None,
) -> None:
    """Print the trace, or write it atomically to the target file."""
    from . import render

    number = render.number_format(decimals, rounding)
    if target.path is None and target.fmt == "table":
        # rich, with colour where the terminal has it
        render.to_terminal(result, number, progress)
        return
    text = render.text(result, target.fmt, number, progress)
    if target.path is None:
        click.echo(text, nl=False)
        return
    from .output import write_text

    try:
        write_text(target.path, text or "", force=target.force, option="-o")
    except ConfigError as err:
        raise BadInput(str(err)) from None
    click.echo(f"Wrote {target.fmt} to {target.path}.", err=True)


@cli.command("check")
@click.argument("answers", nargs=-1, required=True)
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
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default=None,
    help="table (default), markdown or json; with -o, the file's extension decides.",
)
@click.option("-o", "--output", metavar="FILE", help="Write the report to FILE (- for stdout).")
@click.option("--force", is_flag=True, help="Let -o and --gradebook overwrite a file.")
@notation_option
def check_answers(
    answers: tuple[str, ...],
    folder: str | None,
    exercise: str | None,
    gradebook: str | None,
    fmt: str | None,
    output: str | None,
    force: bool,
    notation: str | None,
) -> None:
    """Check your answers against the traced solution, and find your first mistake.

    ANSWERS is a YAML file: the exercise and your values by the trace's names.

    \b
        exercise: lecture        # a built-in name, a config path, or `config:` inline
        round: 3sf               # optional: the rounding you carried
        answers:
          o3: 0.680
          delta5: -0.0406
          w45: 0.873

    Against an exercise the mark is "x of N questions", unanswered ones listed.
    A class at once: files and folders of them, each naming its variant.

    \b
        backtrace check --exercises homework3 answers/ --gradebook grades.csv

    Exit status 0 when every question is answered right, 1 otherwise, 2 for a bad file.
    """
    from . import api

    target = _target(fmt, output, force)
    import os

    if folder or exercise or gradebook or len(answers) > 1 or os.path.isdir(answers[0]):
        _mark_class(answers, folder, exercise, gradebook, target, notation)
    with _bad_input():
        marked = api.check_report(answers[0], notation=notation)
    _report(marked, target)


def _report(marked: Any, target: Target) -> None:
    """Print or write one file's marked report, and exit with its status."""
    from .render import number_format, report

    number = number_format(None, None)
    if target.path is None and target.fmt == "table":
        from rich.console import Console

        Console(highlight=False, emoji=False).print(report.renderable(marked, number))
    else:
        text = report.as_json(marked) if target.fmt == "json" else report.markdown(marked, number)
        if target.path is None:
            click.echo(text, nl=False)
        else:
            from .output import write_text

            with _bad_input():
                write_text(target.path, text, force=target.force, option="-o")
    sys.exit(0 if marked.all_right else 1)


def _mark_class(
    answers: tuple[str, ...],
    folder: str | None,
    exercise: str | None,
    gradebook: str | None,
    target: Target,
    notation: str | None = None,
) -> None:
    """`check --exercises DIR` / `--exercise CONFIG` over many files: a gradebook row each."""
    from . import gradebook as book

    if folder and exercise:
        raise BadInput("--exercises, --exercise: give one of them, not both")
    with _bad_input():
        marker = book.marker(folder, exercise, notation, teacher=gradebook is not None)
        if gradebook and not target.force:
            book.refuse_existing(gradebook)
    with _bad_input():
        rows = book.mark_all(answers, marker)
    if gradebook:
        from .output import write_text

        with _bad_input():
            write_text(gradebook, book.to_csv(rows), force=target.force, option="--gradebook")
    elif len(rows) == 1:  # one file: its report, as `check FILE` prints it
        if rows[0].error:
            raise BadInput(rows[0].error)
        _report(rows[0].report, target)
    if len(rows) > 1 or gradebook:
        click.echo(book.summary(rows, gradebook), err=bool(gradebook))
    sys.exit(book.status(rows))


@cli.command()
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
    callback=_rounding,
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
        printf '0.755\n0.68\n' | backtrace quiz

    Exit status 0 when every answer is right, 1 otherwise, 130 on Ctrl-C.
    """
    from . import quiz as session
    from .output import writable, write_text
    from .render import number_format

    spec = _in_notation(_load(config), notation)
    with _bad_input():
        if output:
            writable(output, force=force, option="-o")  # refused now, not after the quiz
        asked = session.build(
            spec, rounding=rounding, sample=sample, tries=tries, gradients=gradients
        )
    with _bad_input():  # stdin that is not text, or a line without end (/dev/zero)
        summary = session.play(
            asked, session.dialogue(sys.stdin, sys.stdout), number_format(None, rounding)
        )
    if output and summary.answers():
        with _bad_input():
            write_text(
                output, session.session_text(summary, config, output), force=force, option="-o"
            )
        click.echo(
            f"Wrote your answers to {output}; `backtrace check {output}` marks them.", err=True
        )
    elif output:
        click.echo(f"Nothing answered: {output} was not written.", err=True)
    sys.exit(summary.status)


def _value_range(ctx: click.Context, param: click.Parameter, value: str) -> tuple[float, float]:
    try:
        low, high = (float(part) for part in value.split(","))
    except ValueError:
        raise click.BadParameter(f"{value!r}: give LOW,HIGH, e.g. -1,1") from None
    if not low < high:
        raise click.BadParameter(f"{value!r}: LOW must be below HIGH")
    return low, high


@cli.command()
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
    required=True,
    metavar="DIR",
    help="Folder for the files (created if missing).",
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
    ask: str | None,
    min_magnitude: float,
    loss_band: tuple[float, float] | None,
    force: bool,
    notation: str | None,
) -> None:
    """Write exercise variants: question sheets, answer keys and configs, with two indexes.

    Each variant keeps the network's shape and the question, with new weights, inputs and
    targets: never 0, every δ and Δw big enough to write, E in one band. DIR/questions/ holds
    the sheets and the students' index (publish it); DIR/keys/ and DIR/configs/ the
    solutions, listed in DIR/index.md. Each variant's id (lecture-s7-v03) is in its files.

    \b
        backtrace exercise lecture --variants 30 --seed 7 -o homework3
        backtrace exercise my_net.yaml --variants 5 --ask net,o,delta -o sheets
        backtrace exercise my_net.yaml --range -2,2 --loss-band 0.02,0.1 -o sheets
        backtrace exercise circuit --variants 25 --seed 5 --ask q,f,df/dz -o circuits
    """
    import os

    from . import homework
    from .exercise import NoFairVariant, Rules, Values, variants

    spec = _in_notation(_load(config), notation)
    base = os.path.splitext(os.path.basename(config))[0]
    asked = tuple(a.strip() for a in ask.split(",") if a.strip()) if ask else ()
    try:
        if not hasattr(spec, "layers"):  # a computational graph: its inputs drawn again
            from . import graphexercise

            graphexercise.questions(spec, asked)  # an unknown name, before any drawing
            values = Values(*value_range, places)
            graphs = graphexercise.variants(
                spec, count, seed, values, min_magnitude, base, loss_band
            )
            texts = graphexercise.files(spec, graphs, seed, min_magnitude, asked, loss_band)
        else:
            rules = Rules(Values(*value_range, places), min_magnitude, loss_band)
            drawn = variants(spec, count, seed, rules, base)
            texts = homework.files(spec, drawn, seed, asked, rules)
    except NoFairVariant as err:
        raise BadInput(f"{config}: {err}") from None
    except ValueError as err:
        raise BadInput(f"--ask: {err}") from None
    with _bad_input():
        homework.write(folder, texts, force)
    noun = "variant" if count == 1 else "variants"
    click.echo(
        f"Wrote {count} {noun} to {folder}: publish {os.path.join(folder, 'questions')}/; "
        f"the keys are listed in {os.path.join(folder, 'index.md')}."
    )


@cli.command()
@click.argument("name", required=False)
def examples(name: str | None) -> None:
    """List the built-in examples, or print one to copy and edit.

    \b
        backtrace examples
        backtrace examples lecture > my_net.yaml
    """
    from . import models as cfg

    if name is None:
        names = cfg.example_names()
        width = max(map(len, names)) + 2
        for example in names:
            click.echo(f"{example:<{width}}{cfg.load(example).name}")
        click.echo("\nbacktrace run NAME traces one; backtrace examples NAME prints it.")
        return
    try:
        click.echo(cfg.example_text(name), nl=False)
    except ConfigError as err:
        raise BadInput(str(err)) from None


INTERRUPTED = 130  # 128 + SIGINT, as shells report a command stopped by Ctrl-C


def main() -> None:
    """The console script: click's own handling, except that Ctrl-C exits with status 130
    (click would say "Aborted!" and exit 1). Files are only ever written whole, so nothing
    is left half-written."""
    try:
        code = cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Interrupted: nothing was written.", err=True)
        sys.exit(INTERRUPTED)
    except click.ClickException as err:
        _show_error(err)
        sys.exit(err.exit_code)
    sys.exit(code if isinstance(code, int) else 0)


def _show_error(err: click.ClickException) -> None:
    """The error as click writes it; in a terminal, wrapped at spaces to its width, so that
    the terminal never breaks a word ("did you m / ean")."""
    if not sys.stderr.isatty():
        err.show()
        return
    import io
    import shutil

    buffer = io.StringIO()
    err.show(file=buffer)
    width = shutil.get_terminal_size().columns
    sys.stderr.write(wrap_words(buffer.getvalue(), width))
    sys.stderr.flush()


def wrap_words(text: str, width: int) -> str:
    """Every line of `text` wrapped at spaces to `width`; a word longer than a line (a long
    path) stays whole. Continuation lines are indented by two spaces."""
    import textwrap

    lines = []
    for line in text.splitlines():
        lines += textwrap.wrap(
            line,
            width,
            subsequent_indent="  ",
            break_long_words=False,
            break_on_hyphens=False,
        ) or [""]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # pragma: no cover
    main()
