"""The commands that trace: `run` (one step), `step` (N epochs), `examples` (built-in configs)."""

from __future__ import annotations

import click

from ..core.errors import quote
from .options import built_aside, emit, in_notation, load_config, output_target, trace_options
from .progress import TrainingProgress, Working
from .status import BadInput, bad_input


@click.command()
@click.argument("config", required=False)
@trace_options
@click.option(
    "--eval",
    "inference",
    is_flag=True,
    help="torch's eval mode, without an update: each sample's forward pass and loss "
    "without dropout (batch norm with its running statistics); a model's δ and gradients "
    "too (`step --eval` trains so).",
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
    from .. import api, tracing  # numpy loads here, not for --help

    target = output_target(fmt, output, force)
    with Working(target) as working:
        with bad_input(), built_aside():
            spec = in_notation(api.load(config), notation)
            worked = api.trace(
                spec,
                rounding=rounding,
                # JSON has every equation of a network (every term of a model's) up to
                # JSON_IN_FULL parameters (the questions quiz asks); a wider one's arrays hold
                # every value already
                full=full or (target.fmt == "json" and tracing.model(spec).json_in_full(spec)),
                gradients=gradients,
                inference=inference,
                verify=verify,
            )
        emit(worked.records, target, decimals, rounding, working.writing())


def _epochs(value: str | None, epochs: int) -> tuple[set[int], bool, bool]:
    """--trace: "1,2,50", "3-5", "first", "last", "all" → (epochs, last, all), checked
    against --epochs before any training."""
    if not value:
        return set(), False, False
    from ..api import picks  # numpy loads here, not for --help

    try:
        return picks(value.replace(" ", "").split(","), epochs)
    except ValueError as err:
        raise click.BadParameter(str(err), param_hint="'--trace'") from None


def _until_loss(ctx: click.Context, param: click.Parameter, value: str | None) -> float | None:
    """--until-loss X: a positive finite number (nan or ≤ 0 never stops, ∞ stops at once)."""
    if value is None:
        return None
    import math  # only when given, for start-up time

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


@click.command()
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
@click.option(
    "--eval",
    "inference",
    is_flag=True,
    help="Train in torch's eval mode (model.eval(), then the optimizer's steps): dropout "
    "drops nothing, batch norm uses its running statistics and does not move them.",
)
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
    inference: bool,
) -> None:
    """Train for N epochs: a per-epoch table, the loss curve, chosen epochs in full.

    \b
        backtrace step --epochs 50
        backtrace step lecture --epochs 2 --trace 2 --save iteration2.yaml
        backtrace step xor --epochs 2000 --trace last
        backtrace step xor --epochs 100000 --until-loss 0.001
        backtrace step batchnorm --eval --epochs 5 --trace 1   # frozen batch norm
    """
    from .. import api  # numpy loads here, not for --help

    traced, last, everything = _epochs(trace_spec, epochs)
    target = output_target(fmt, output, force)
    spec = in_notation(load_config(config), notation)
    from .. import tracing  # loaded with the config: costs nothing more

    if save and not tracing.model(spec).saves:
        raise BadInput(
            f"{spec.source}, --save: writes trained networks; a graph's trained parameters "
            "are in the table and in the JSON's `summary`"
        )
    if save and not force:
        from ..core.output import refuse_existing  # only when saving, for start-up time

        with bad_input():  # said before training, not after
            refuse_existing(save, "--save")
    picks = [*sorted(traced), *(["last"] if last else []), *(["all"] if everything else [])]
    with TrainingProgress(epochs, target) as tick, bad_input(), built_aside():
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
            inference=inference,
        ).records
    if save:
        # only when saving, for start-up time
        from ..core.output import write_text
        from ..network import save as saver

        how = "step --eval" if inference else "step"
        header = (
            f"Trained by `backtrace {how}`: {len(result.losses)} epochs from "
            f"{spec.source}; loss {result.losses[0]:.6g} → {result.losses_after[-1]:.6g}"
        )
        with bad_input():
            write_text(
                save,
                saver.to_config(result.final, header, target=save),
                force=force,
                option="--save",
            )
    emit(result, target, decimals, rounding)
    if save:
        # eval mode is the command's, not the config's: its next steps take --eval again
        again = f"step {save} --eval" if inference else f"run {save}"
        click.echo(
            f"Saved the trained network to {save}; `backtrace {again}` continues from it.",
            err=True,
        )


@click.command()
@click.argument("name", required=False)
def examples(name: str | None) -> None:
    """List the built-in examples, or print one to copy and edit.

    \b
        backtrace examples
        backtrace examples lecture > my_net.yaml
    """
    from .. import models as cfg  # numpy loads here, not for --help

    if name is None:
        names = cfg.example_names()
        width = max(map(len, names)) + 2
        for example in names:
            click.echo(f"{example:<{width}}{cfg.load(example).name}")
        click.echo("\nbacktrace run NAME traces one; backtrace examples NAME prints it.")
        return
    with bad_input():
        click.echo(cfg.example_text(name), nl=False)


COMMANDS = (run, step, examples)
