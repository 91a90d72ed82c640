"""torch's `nn.Dropout(p)` in a `model:`, with the network's dropout semantics (PRODUCT.md,
"Dropout"): while training each entry of its input is kept with probability 1 − p and the kept
ones are scaled by 1/(1 − p) ("inverted dropout"), y = m·x/(1 − p); at inference nothing is
dropped, y = x. Backward: δx = m·δ/(1 − p), 0 where dropped.

    - dropout: {p: 0.5, seed: 3}              # masks drawn: per epoch, one per sample
    - dropout: {p: 0.5, mask: [[1, 0, 1]]}    # a fixed mask, shaped as its input (1 keeps)

A drawn mask is the network's (`network/dropout.py`): an entry is kept when its uniform draw
is ≥ p, from a Generator seeded with (seed, epoch, the dropout stream, the layer's position),
so the same config gives the same masks on every run and machine. The mask's entries are
named as the layer's, `m2[0,1]` for layer 2. Its named slip is the network's: the scale
forgotten (y = m·x)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from ...core.validate import show
from ...worked import Section
from ..dropout import DROPOUT_STREAM
from .dropout_rows import dropout_factor
from .tensor import RULES, Letters, ModelView, entry, head, row

if TYPE_CHECKING:
    import numpy.typing as npt

    from ...core.validate import Checker
    from ..model_spec import LayerSpec

    Array = npt.NDArray[np.float64]
    Carry = Callable[[Array], Array]

ARGUMENTS: tuple[tuple[str, Any], ...] = (("p", 0.5), ("seed", 0), ("mask", None))
UNSCALED = "dropout's scale forgotten (kept outputs not multiplied by 1/(1 − rate))"


def read(c: Checker, path: tuple[Any, ...], given: dict[str, Any]) -> dict[str, Any]:
    """p in [0, 1) (torch's default 0.5), a whole-number seed (0), or a fixed mask of 0s and
    1s, shaped as the input (`shape` checks its shape)."""
    for key in given:
        if key not in ("name", "p", "seed", "mask"):
            raise c.fail((*path, key), "unknown argument of dropout; it takes name, p, seed, mask")
    p = c.number((*path, "p"), given.get("p", 0.5), "a probability p in [0, 1)")
    if not 0 <= p < 1:
        raise c.fail((*path, "p"), f"{show(given['p'])} is not in [0, 1): p is the chance to drop")
    seed = c.integer((*path, "seed"), given.get("seed", 0), 0, 2**63 - 1, "a whole number ≥ 0")
    mask = given.get("mask")
    if mask is not None:
        mask = _mask(c, (*path, "mask"), mask)
    return {"p": p, "seed": seed, "mask": mask}


def _mask(c: Checker, path: tuple[Any, ...], value: Any) -> Any:
    """A nested list of 0s and 1s (its shape is checked against the input's by `shape`)."""
    if isinstance(value, list):
        if not value:
            raise c.fail(path, "an empty mask; give one 0 or 1 per entry of the input")
        return [_mask(c, (*path, n), v) for n, v in enumerate(value)]
    if isinstance(value, bool) or value not in (0, 1):
        raise c.fail(path, f"{show(value)} is not 0 or 1: 1 keeps an entry, 0 drops it")
    return int(value)


def shape(arguments: dict[str, Any], shape_in: tuple[int, ...]) -> tuple[int, ...] | str:
    mask = arguments["mask"]
    if mask is not None and _shape_of(mask) != shape_in:
        given = "".join(f"[{n}]" if n >= 0 else "[ragged]" for n in _shape_of(mask))
        what = "".join(f"[{n}]" for n in shape_in)
        return f"has a mask shaped {given}; it drops entries of its input, {what}"
    return shape_in


def _shape_of(value: Any) -> tuple[int, ...]:
    if not isinstance(value, list):
        return ()
    inner = {_shape_of(v) for v in value}
    return (len(value), *next(iter(inner))) if len(inner) == 1 else (len(value), -1)


def parameter_shapes(arguments: dict[str, Any]) -> dict[str, tuple[int, ...]]:
    return {}


def written(arguments: dict[str, Any]) -> str:
    how = (
        "a fixed mask"
        if arguments["mask"] is not None
        else f"masks drawn from seed {arguments['seed']}"
    )
    return f"p={arguments['p']:g}, {how}"


def masks(layer: LayerSpec, position: int, epoch: int, samples: int) -> list[Array]:
    """This layer's keep-mask (0/1) for each sample of epoch `epoch`: its fixed mask, or
    drawn as the network draws them — kept where the uniform draw is ≥ p."""
    fixed = layer.argument("mask")
    if fixed is not None:
        return [np.array(fixed, dtype=np.float64)] * samples
    p = float(layer.argument("p"))
    rng = np.random.default_rng([int(layer.argument("seed")), epoch, DROPOUT_STREAM, position])
    drawn = rng.random((samples, *layer.shape_in)) >= p
    return [m.astype(np.float64) for m in drawn]


class Dropout(NamedTuple):
    spec: LayerSpec
    keep: Array | None  # this sample's mask, 1 keeps an entry; None: inference, none dropped
    kind = "dropout"
    # its output its input's, dropped (ã^l after a^l), in the layer below's number; m its mask
    LETTERS = Letters(output="õ", joins="any", own={"m": "=m"}, rules={**RULES, "m": "m"})

    @property
    def parameters(self) -> dict[str, Array]:
        return {}

    @property
    def scale(self) -> float:
        return 1.0 / (1.0 - float(self.spec.argument("p")))

    def forward(self, x: Array, carry: Carry) -> tuple[Array, None]:
        if self.keep is None:
            return x, None
        return carry(x * self.keep * self.scale), None

    def backward(
        self, cache: None, upstream: Array, carry: Carry, below: bool = True
    ) -> tuple[Array | None, dict[str, Array]]:
        if not below:
            return None, {}
        if self.keep is None:
            return upstream, {}
        return carry(upstream * self.keep * self.scale), {}

    # ------------------------------------------------------------ its rows

    @staticmethod
    def _through(view: ModelView, p: int, kind: str) -> list[Section]:
        """Each entry through the mask: y = m·x/(1 − p) forward, δx = m·δ/(1 − p) back."""
        layer: Dropout = view.layers[p]
        name = layer.spec.name
        forward = kind == "forward"
        if forward:
            x, out, xs, outs = view.inputs[p], view.outputs[p], view.name(p - 1), view.name(p)
        else:
            x, out, xs, outs = view.deltas[p], view.sent[p], view.delta(p), view.delta(p - 1)
        rows = []
        rate = float(layer.spec.argument("p"))
        factor = dropout_factor(rate)
        m = head("m", name)
        for index in np.ndindex(*x.shape):
            if layer.keep is None:  # inference: passed on as it is
                rows.append(row(outs(index), [(xs(index), x[index])], out[index]))
                continue
            mask = (entry(m, index), layer.keep[index])
            kept = layer.keep[index] != 0
            unscaled = ((UNSCALED, [mask, "·", (xs(index), x[index])]),) if rate else ()
            rows.append(
                row(
                    outs(index),
                    [mask, "·", (xs(index), x[index]), factor],
                    out[index],
                    note="" if kept else "dropped",
                    slips=unscaled,
                )
            )
        p_text = f"p = {rate:g}"
        if layer.keep is None:
            rule = f"at inference nothing is dropped: y = x ({p_text})"
        elif forward:
            rule = f"each entry y = m·x{factor}: m = 1 keeps it, 0 drops it ({p_text}; "
            rule += "the kept scaled by 1/(1 − p))"
        else:
            rule = f"each input's δx = m·δ{factor}: 0 where dropped"
        dropped = 0 if layer.keep is None else int(np.sum(layer.keep == 0))
        note = (
            ""
            if layer.keep is None or not forward
            else f"{dropped} of {layer.keep.size} entries dropped"
        )
        title = (
            f"Forward · layer {name} (dropout, p = {rate:g})"
            if forward
            else f"δ · into layer {name} (dropout)"
        )
        return [Section(kind, title, rule, tuple(rows), note=note)]

    @staticmethod
    def forward_rows(view: ModelView, p: int) -> list[Section]:
        return Dropout._through(view, p, "forward")

    @staticmethod
    def delta_rows(view: ModelView, p: int) -> list[Section]:
        if view.sent[p] is None:
            return []
        return Dropout._through(view, p, "delta")
