"""torch's dropout between an rnn's stacked layers (`nn.RNN(…, num_layers=2, dropout=p)`): in
training, layer l's states are dropped with probability p before layer l + 1 reads them —
never after the last layer; at inference nothing is dropped. As a `dropout` layer's
(`tensor_dropout.py`), the kept are scaled by 1/(1 − p):

    h̃_l[t,j] = m_l[t,j]·h_l[t,j]/(1 − p)      (layer l + 1 reads h̃_l as its x)
    δh_l[t,j] = m_l[t,j]·(Σ_k w_ih_l+1[k,j]·δnet_l+1[t,k])/(1 − p) + (back from step t + 1)

    - rnn: {input_size: 1, hidden_size: 2, num_layers: 2, dropout: 0.5, dropout_seed: 3}
    - rnn: {…, num_layers: 2, dropout: 0.5, dropout_mask: [[[1, 0], [1, 1], [0, 1]]]}

The masks are given (`dropout_mask`, [num_layers − 1][T][directions × hidden_size], 1 keeps a
state, as torch's output of layer l concatenates its directions; the same for every sample and
epoch) or drawn as a dropout layer's are: kept where a uniform draw is ≥ p, from a Generator
seeded with (dropout_seed, epoch, the dropout stream, the layer's position), one array
(num_layers − 1, T, directions × hidden_size) per sample, in the order the epoch takes them.
Reading them is here; the rnn applies them (`rnn.py`) and writes their rows (`rnn_rows.py`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ...core.validate import counted, show
from ..dropout import DROPOUT_STREAM
from ..order import sample_order

if TYPE_CHECKING:
    import numpy.typing as npt

    from ...core.validate import Checker
    from ..model_spec import LayerSpec

    Array = npt.NDArray[np.float64]

# its arguments beside torch's (`rnn.ARGUMENTS`): a probability, and the masks' seed or masks
ARGUMENTS: tuple[tuple[str, Any], ...] = (
    ("dropout", 0.0),
    ("dropout_seed", 0),
    ("dropout_mask", None),
)


def _width(arguments: dict[str, Any]) -> int:
    """What a mask covers at a step: layer l's output, both directions' states."""
    return (2 if arguments["bidirectional"] else 1) * int(arguments["hidden_size"])


def read_dropout(c: Checker, path: tuple[Any, ...], raw: Any, arguments: dict[str, Any]) -> float:
    """p in [0, 1), torch's 0 by default; more than 0 only between stacked layers."""
    p = c.number(
        path, raw, "a probability p in [0, 1) that each state between stacked layers is dropped"
    )
    if not 0 <= p < 1:
        raise c.fail(path, f"{show(raw)} is not in [0, 1): p is the chance to drop a state")
    if p and arguments["num_layers"] == 1:
        raise c.fail(
            path,
            "dropout acts between stacked layers (after every layer but the last), so with "
            "num_layers 1 it would drop nothing (torch warns and drops nothing); give "
            "num_layers ≥ 2, or leave dropout out",
        )
    return p


def read_seed(c: Checker, path: tuple[Any, ...], raw: Any, arguments: dict[str, Any]) -> int:
    return c.integer(path, raw, 0, 2**63 - 1, "a whole number ≥ 0 (the dropout masks' seed)")


def read_mask(c: Checker, path: tuple[Any, ...], raw: Any, arguments: dict[str, Any]) -> Any:
    """The masks given, [num_layers − 1][T][directions × hidden_size] of 0s and 1s (one layer
    below another may give its [T][…] alone), as nested tuples; None when left out. T is
    checked against the inputs' steps by `shape_problem`."""
    if raw is None:
        return None
    if not arguments["dropout"]:
        raise c.fail(
            path,
            "a dropout_mask drops states only with dropout > 0 (torch's 0 drops nothing); "
            "give dropout: p, the chance it stands for",
        )
    boundaries, width = arguments["num_layers"] - 1, _width(arguments)
    what = f"dropout_mask is [num_layers − 1][steps][{width}] of 0s and 1s, 1 keeps a state"
    if boundaries == 1:
        what += f", or [steps][{width}]"
    if boundaries == 1 and _depth(raw) == 2:
        return (_steps(c, path, raw, width, what),)
    if not isinstance(raw, list) or len(raw) != boundaries or _depth(raw) != 3:
        found = counted(len(raw), "row") if isinstance(raw, list) else show(raw)
        raise c.fail(path, f"found {found} where {expected(boundaries)}: {what}")
    out = tuple(_steps(c, (*path, n), v, width, what) for n, v in enumerate(raw))
    if len({len(steps) for steps in out}) > 1:
        raise c.fail(path, f"its layers' masks have different numbers of steps: {what}")
    return out


def expected(n: int) -> str:
    """2 are expected, 1 is expected: a count said with its verb."""
    return f"{n} {'is' if n == 1 else 'are'} expected"


def _depth(value: Any) -> int:
    depth = 0
    while isinstance(value, list) and value:
        depth, value = depth + 1, value[0]
    return depth


def _steps(c: Checker, path: tuple[Any, ...], raw: Any, width: int, what: str) -> Any:
    """One layer's mask: a row of `width` 0s and 1s for each step."""
    if not isinstance(raw, list) or not raw:
        raise c.fail(path, f"expected one row a step, found {show(raw)}: {what}")
    rows = []
    for t, step in enumerate(raw):
        if not isinstance(step, list) or len(step) != width:
            found = counted(len(step), "entry") if isinstance(step, list) else show(step)
            raise c.fail((*path, t), f"found {found} where {expected(width)}: {what}")
        for j, value in enumerate(step):
            if isinstance(value, bool) or value not in (0, 1):
                problem = f"{show(value)} is not 0 or 1: 1 keeps a state, 0 drops it"
                raise c.fail((*path, t, j), problem)
        rows.append(tuple(int(v) for v in step))
    return tuple(rows)


def shape_problem(arguments: dict[str, Any], steps: int) -> str | None:
    """What is wrong with a given mask for a sequence of `steps`, or None."""
    mask = arguments.get("dropout_mask")
    if mask is None or len(mask[0]) == steps:
        return None
    return (
        f"has a dropout_mask of {len(mask[0])} steps; it drops states of every step of the "
        f"sequence, {steps}"
    )


def masks(layer: LayerSpec, position: int, epoch: int, samples: int) -> list[Array] | None:
    """Each sample's keep-masks (num_layers − 1, T, directions × hidden) in epoch `epoch`:
    the given ones, or drawn — kept where the uniform draw is ≥ p; None without dropout."""
    p = float(layer.argument("dropout"))
    if not p:
        return None
    fixed = layer.argument("dropout_mask")
    if fixed is not None:
        return [np.array(fixed, dtype=np.float64)] * samples
    arguments = dict(layer.arguments)
    shape = (arguments["num_layers"] - 1, layer.shape_in[0], _width(arguments))
    seed = int(layer.argument("dropout_seed"))
    rng = np.random.default_rng([seed, epoch, DROPOUT_STREAM, position])
    return [m.astype(np.float64) for m in rng.random((samples, *shape)) >= p]


def written(arguments: dict[str, Any]) -> str:
    """ ", dropout 0.5 (masks drawn from seed 3)", or "" without dropout."""
    if not arguments["dropout"]:
        return ""
    how = (
        "a fixed mask"
        if arguments["dropout_mask"] is not None
        else f"masks drawn from seed {arguments['dropout_seed']}"
    )
    return f", dropout {arguments['dropout']:g} ({how})"


def given(layer: LayerSpec, spec: Any) -> list[tuple[str, Any]]:
    """What a sheet gives of the dropout: the masks of a `run` (the model's next epoch), the
    fixed one once, drawn ones a sample each, by the sample's number."""
    what = f"dropout_mask of layer {layer.name} (1 keeps a state of layer l for layer l + 1)"
    if layer.argument("dropout_mask") is not None:
        return [(what, np.array(layer.argument("dropout_mask"), dtype=np.float64))]
    count = len(spec.samples)
    drawn = masks(layer, spec.layers.index(layer), spec.epochs_done + 1, count)
    if drawn is None:
        return []
    order = sample_order(spec, 1)  # the k-th sample the epoch takes has the k-th drawn
    by_number = sorted(((order[k] + 1, mask) for k, mask in enumerate(drawn)), key=lambda n: n[0])
    if count == 1:
        return [(what, by_number[0][1])]
    return [(f"{what}, sample {number}", mask) for number, mask in by_number]
