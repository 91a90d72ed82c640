"""What the homework question says: the problem statement of a network or of a graph."""

from __future__ import annotations

from ..definitions.losses import get as get_loss
from ..definitions.operations import OPS
from ..definitions.optimizers import describe
from ..graph.trace import GraphTrace
from ..network.config import Spec, dropout_layer_names
from ..network.records import Trace, biases_text, translation
from ..worked import Operand
from .graph_formula import constant, latex_formula, latex_name, write
from .latex import latex_number, latex_symbol, math_inline
from .numbers import NumberFormat
from .rules import rule_markdown

# ---------------------------------------------------------------- a network


def problem(spec: Spec, fmt: NumberFormat, epochs: int | None = None) -> str:
    """What the homework question says: network, activations, loss, η, data, dropout."""

    numbering = spec.numbering
    book = translation(spec)
    name = book.symbol
    layers = []
    for k, width in enumerate(spec.layers):
        first, last = numbering.unit(k, 0), numbering.unit(k, width - 1)
        units = f"unit {first}" if width == 1 else f"units {first}–{last}"
        if k and spec.notation != "lecture":  # a book numbers units within their layer
            outs = [math_inline(latex_symbol(name(f"o{u}"))) for u in (first, last)]
            units = outs[0] if width == 1 else f"{outs[0]}–{outs[1]}"
        if k == 0:
            xs = [math_inline(latex_symbol(name(f"x{u}"))) for u in (first, last)]
            units = xs[0] if width == 1 else f"{xs[0]}–{xs[1]}"
        kind = "inputs" if k == 0 else "output" if k == len(spec.layers) - 1 else "hidden"
        layers.append(f"{kind} {units}")
    acts = dict.fromkeys(spec.activations)
    activation = (
        f"{next(iter(acts))} activation"
        if len(acts) == 1
        else "activations " + ", ".join(spec.activations) + " (layer by layer)"
    )

    text = (
        f"A fully connected network with layers {'-'.join(map(str, spec.layers))} "
        f"({'; '.join(layers)}), {activation}"
        f", {biases_text(spec)}, "
        f"the loss {rule_markdown(book.rule(get_loss(spec.loss).rule, True, flip=False))}, "
        f"and learning rate ${latex_symbol(name('η'))}$ = {fmt(spec.learning_rate)}. "
    )
    last = len(spec.layers) - 1
    if len(spec.samples) == 1:
        sample = spec.samples[0]
        xs = ", ".join(
            f"{math_inline(latex_symbol(name(f'x{numbering.unit(0, i)}')))} = {fmt(v)}"
            for i, v in enumerate(sample.inputs[:8])
        )
        ts = ", ".join(
            f"{math_inline(latex_symbol(name(f't{numbering.unit(last, i)}')))} = {fmt(v)}"
            for i, v in enumerate(sample.targets[:8])
        )
        more = " …" if len(sample.inputs) > 8 else ""
        text += f"Inputs {xs}{more}; targets {ts}. "
    else:
        how = (
            "online (an update after each sample, in order"
            + (", shuffled every epoch" if spec.shuffle else "")
            + ")"
            if spec.mode == "online"
            else f"in batch mode (one update from the {spec.batch_gradient} of the gradients)"
        )
        text += f"{len(spec.samples)} training samples, taken {how}. "
    if spec.dropout is not None:
        rates = [
            f"rate {fmt(r)} on " + ("the inputs" if n == "inputs" else f"hidden layer {n[6:]}")
            for n, r in zip(dropout_layer_names(spec.layers), spec.dropout.rates)
            if r > 0
        ]
        text += f"Dropout (Keras semantics): {', '.join(rates)}, seed {spec.dropout.seed}. "
    if epochs is None:
        text += (
            "Do one training step by backpropagation: the forward pass, the error and loss, "
            f"the ${latex_symbol(book.rule('δ', False, flip=False))}$ of every unit, and every "
            "updated weight"
            + (" and bias" if spec.biases is not None and spec.train_biases else "")
            + "."
        )
    else:
        text += f"Train for {epochs} epoch{'s' if epochs != 1 else ''}."
    return text


def inference_problem(spec: Spec, fmt: NumberFormat) -> str:
    return (
        problem(spec, fmt).rsplit(". ", 1)[0]
        + ". Compute the forward pass and the loss as at inference: no dropout, no update."
    )


def notes(trace: Trace) -> list[str]:
    """The conventions, their formulas as math, as the notes write them."""
    return [f"- {rule_markdown(note)}" for note in trace.notes]


# ---------------------------------------------------------------- a graph


LATEX_SOURCE_NODES = 60  # larger expressions are quoted as written, not rebuilt in LaTeX


def graph_problem(trace: GraphTrace, fmt: NumberFormat, epochs: int | None = None) -> str:
    spec = trace.spec
    if spec.form == "expression" and len(trace.nodes) > LATEX_SOURCE_NODES:
        what = f"the expression `{spec.output} = {spec.written[0][1][:60]}…`"
    elif spec.form == "expression":
        what = f"the expression ${latex_name(spec.output)} = {_latex_source(trace)}$"
    else:
        what = "the graph of nodes " + ", ".join(
            f"${latex_name(row.symbol)} = {latex_formula(row.structure)}$"
            for row in trace.blocks[0].rows
            if next(n for n in trace.nodes if n.name == row.symbol).named
        )
    given = ", ".join(f"${latex_name(n)} = {latex_number(v, fmt)}$" for n, v in trace.inputs)
    text = f"Evaluate {what}" + (f" at {given}" if given else "") + ". "
    if trace.inference:
        return text + "Do the forward pass, node by node."
    text += (
        "Do the forward pass node by node, then the backward pass in reverse order — for each "
        "node the upstream gradient times the local gradient — and give "
        + ", ".join(math_inline(latex_name(f"∂{spec.output}/∂{n}")) for n, _ in trace.inputs)
        + "."
    )
    if spec.parameters:
        eta = latex_number(spec.learning_rate or 0.0, fmt)
        names = ", ".join(math_inline(latex_name(p)) for p in spec.parameters)
        how = "gradient descent"
        if not spec.plain:  # Adam, momentum, weight decay: named, with their settings
            how = describe(spec.optimizer, spec.weight_decay)
        text += f" Then update {names} by {how} with $\\eta = {eta}$"
        text += f" for {epochs} epochs." if epochs else "."
    return text


def _latex_source(trace: GraphTrace) -> str:
    """The one-line expression, rebuilt from its nodes in LaTeX (nothing recomputed)."""
    rows = {row.symbol: row for row in trace.blocks[0].rows}
    named = {n.name for n in trace.nodes if n.named}

    def expand(name: str) -> str:
        row = rows[name]
        formula = row.structure

        def operand(o: Operand) -> str:
            if o.name is None:
                return constant(o, True)
            if o.name in rows and o.name not in named:
                inner = expand(o.name)
                simple = OPS[rows[o.name].structure.writer].is_function or OPS[
                    rows[o.name].structure.writer
                ].name in ("pow", "id")
                return inner if simple or _wrapped(formula.writer) else f"\\left({inner}\\right)"
            return latex_name(o.name)

        return write(formula, operand, latex=True)

    return expand(trace.spec.output)


def _wrapped(writer: str) -> bool:
    """Operations whose LaTeX groups each operand already (functions, fractions)."""
    return OPS[writer].is_function or writer in ("div", "id", "add")
