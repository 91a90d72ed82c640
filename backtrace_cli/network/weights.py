"""A network config's numbers to train: `weights:` (named, matrices or seeded), `biases:`, and
the `optimizer_state:` that `step --save` writes beside them."""

from __future__ import annotations

import itertools
import math
import re
from typing import TYPE_CHECKING, Any

import numpy as np

from ..core.validate import Checker, closest, counted, show
from ..core.yamlsource import Path
from ..definitions import notation, optimizers
from .spec import frozen

if TYPE_CHECKING:  # numpy.typing costs start-up time; annotations only
    import numpy.typing as npt

    Array = npt.NDArray[np.float64]

INITS = ("glorot_uniform", "he_normal", "uniform", "normal")
# how a matrix is written: a row per unit of its layer (the lecture's, the JSON's: the row for
# unit 3 is [w13, w23]), or a row per unit of the layer before (Keras' kernel, many sheets)
UNITS_BY_INPUTS = "units × inputs"
INPUTS_BY_UNITS = "inputs × units"
LAYOUTS = (UNITS_BY_INPUTS, INPUTS_BY_UNITS)
LAYOUT_KEYS = ("layout", "matrices")
_LAYOUT = r"\s*(units|inputs)\s*[×x*]\s*(units|inputs)\s*"  # compiled on first use
LAYOUT_HELP = (
    f"write `{UNITS_BY_INPUTS}` (a row per unit of the layer, the default: the row for unit 3 "
    f"is [w13, w23]) or `{INPUTS_BY_UNITS}` (a row per unit of the layer before, as Keras' "
    "kernel); `x` may stand for `×`"
)
LAYOUT_FORM = f"`weights: {{layout: {INPUTS_BY_UNITS}, matrices: [...]}}`"


def read_weights(
    c: Checker, value: Any, layers: tuple[int, ...]
) -> tuple[tuple[Array, ...], str, str | None]:
    """The weight matrices, how the user wrote them ("matrices", "init" or "named"), and the
    layout the config states for its matrices (None: not stated, read units × inputs)."""
    if isinstance(value, list):
        return _weight_matrices(c, value, layers), "matrices", None
    m = c.mapping(
        ("weights",),
        value,
        "named weights like `w13: 0.1`, per-layer matrices, or `{init: glorot_uniform, seed: 0}`",
    )
    if "layout" in m or "matrices" in m:
        layout = _layout(c, m)
        matrices = _weight_matrices(c, m["matrices"], layers, ("weights", "matrices"), layout)
        return matrices, "matrices", layout
    if "init" in m or "seed" in m:
        return _weight_init(c, m, layers), "init", None
    return _named_weights(c, m, layers), "named", None


def _layout(c: Checker, m: dict[str, Any]) -> str | None:
    """`weights: {layout: …, matrices: […]}`: the layout (None: not stated), the keys beside
    it checked."""
    for key in m:
        if key in LAYOUT_KEYS:
            continue
        if notation.parse_weight(str(key)) is not None:
            why = (
                "named weights need no layout: each name says its direction (w13: from unit 1 "
                "to unit 3); give either named weights or `layout` with `matrices`"
            )
        elif key in ("init", "seed", "scale"):
            why = "seeded weights have no layout to state; give either `init` or `matrices`"
        else:
            close = closest(str(key), LAYOUT_KEYS)
            hint = f"did you mean {close!r}? " if close else ""
            why = f"unknown key; {hint}with a layout, weights take `layout` and `matrices`"
        raise c.fail(("weights", key), why)
    if "matrices" not in m:
        raise c.fail(
            ("weights",),
            f"missing `matrices`, the per-layer matrices `layout` describes: {LAYOUT_FORM}",
        )
    if "layout" not in m:
        return None
    value = m["layout"]
    found = re.fullmatch(_LAYOUT, value.lower()) if isinstance(value, str) else None
    if found is None or found[1] == found[2]:
        raise c.fail(("weights", "layout"), f"{show(value)} is not a layout; {LAYOUT_HELP}")
    return UNITS_BY_INPUTS if found[1] == "units" else INPUTS_BY_UNITS


def _weight_matrices(
    c: Checker,
    value: Any,
    layers: tuple[int, ...],
    root: Path = ("weights",),
    layout: str | None = None,
) -> tuple[Array, ...]:
    if not isinstance(value, list):
        raise c.fail(
            root, f"expected a list of matrices, one per non-input layer, found {show(value)}"
        )
    if len(value) != len(layers) - 1:
        raise c.fail(
            root,
            f"has {counted(len(value), 'matrix')}; expected "
            f"{len(layers) - 1}, one per non-input layer",
        )
    by_inputs = layout == INPUTS_BY_UNITS
    out = []
    for k, matrix in enumerate(value):
        rows, cols = (layers[k], layers[k + 1]) if by_inputs else (layers[k + 1], layers[k])
        shape = _shape(k, by_inputs, rows, cols)
        if not isinstance(matrix, list) or len(matrix) != rows:
            found = counted(len(matrix), "row") if isinstance(matrix, list) else show(matrix)
            hint = _other_layout(matrix, rows, cols, by_inputs)
            raise c.fail((*root, k), f"found {found}; expected a matrix {shape}{hint}")
        read = frozen(
            [c.vector((*root, k, r), row, cols, f"matrix {shape}") for r, row in enumerate(matrix)]
        )
        out.append(frozen(np.ascontiguousarray(read.T)) if by_inputs else read)
    return tuple(out)


def _shape(k: int, by_inputs: bool, rows: int, cols: int) -> str:
    """A matrix's expected shape, its rows and columns named by the units they stand for."""
    row_of, col_of = (k, k + 1) if by_inputs else (k + 1, k)
    stated = f", as `layout: {INPUTS_BY_UNITS}` says" if by_inputs else ""
    return (
        f"{rows}×{cols}: {counted(rows, 'row')} (units of layer {row_of}), "
        f"{counted(cols, 'column')} (units of layer {col_of}){stated}"
    )


def _other_layout(matrix: Any, rows: int, cols: int, by_inputs: bool) -> str:
    """Where a matrix has the other layout's shape: how to say that layout."""
    if not isinstance(matrix, list) or len(matrix) != cols or rows == cols:
        return ""
    if not all(isinstance(row, list) and len(row) == rows for row in matrix):
        return ""
    if by_inputs:
        return (
            f"; its {cols} rows of {rows} look written {UNITS_BY_INPUTS} (a row per unit of the "
            "layer, the default): drop `layout`"
        )
    return (
        f"; its {cols} rows of {rows} look written {INPUTS_BY_UNITS} (a row per unit of the "
        f"layer before, as Keras' kernel)? Say so: {LAYOUT_FORM}"
    )


def _named_weights(
    c: Checker, m: dict[str, Any], layers: tuple[int, ...], root: Path = ("weights",)
) -> tuple[Array, ...]:
    numbering = notation.Numbering(layers)
    matrices = [np.full((layers[k + 1], layers[k]), np.nan) for k in range(len(layers) - 1)]
    example = notation.weight_name(numbering.unit(0, 0), numbering.unit(1, 0))
    for name, v in m.items():
        ij = notation.parse_weight(name)
        if ij is None:
            raise c.fail(
                (*root, name),
                f"not a weight name; write `w` and the two unit "
                f"numbers, e.g. `{example}` (past unit 9: `w9_12`)",
            )
        i, j = ij
        src, dst = numbering.locate(i), numbering.locate(j)
        if src is None or dst is None or dst[0] != src[0] + 1:
            raise c.fail(
                (*root, name),
                f"there is no connection from unit {i} to unit {j}: {_connections(numbering)}",
            )
        matrices[src[0]][dst[1], src[1]] = c.number((*root, name), v)
    missing = [
        notation.weight_name(numbering.unit(k, col), numbering.unit(k + 1, row))
        for k, matrix in enumerate(matrices)
        for row, col in zip(*np.nonzero(np.isnan(matrix)))
    ]
    if missing:
        listed = ", ".join(missing[:8]) + (
            f" and {len(missing) - 8} more" if len(missing) > 8 else ""
        )
        raise c.fail(
            root,
            f"missing {listed}; every connection needs a weight "
            "(for large layers use `{init: glorot_uniform, seed: 0}`)",
        )
    return tuple(frozen(matrix) for matrix in matrices)


def _connections(numbering: notation.Numbering) -> str:
    parts = []
    for k in range(len(numbering.layers)):
        a, b = numbering.first(k), numbering.first(k) + numbering.layers[k] - 1
        parts.append(f"units {a}–{b}" if a != b else f"unit {a}")
    return "weights go from one layer to the next (" + " → ".join(parts) + ")"


def _weight_init(c: Checker, m: dict[str, Any], layers: tuple[int, ...]) -> tuple[Array, ...]:
    for key in m:
        if key not in ("init", "seed", "scale"):
            raise c.fail(
                ("weights", key),
                "unknown key; seeded initialisation takes `init`, `seed` and `scale`",
            )
    if "seed" not in m:
        raise c.fail(
            ("weights",),
            "seeded initialisation needs a `seed` (a whole number), "
            "so every run gets the same weights",
        )
    seed = c.integer(("weights", "seed"), m["seed"], 0, 2**63 - 1, "a whole number ≥ 0")
    init = c.choice(("weights", "init"), m.get("init", "glorot_uniform"), INITS)
    scale = c.number(
        ("weights", "scale"),
        m.get("scale", 1.0 if init.startswith(("glorot", "he")) else 0.5),
        "a positive number",
    )
    if scale <= 0:
        raise c.fail(("weights", "scale"), f"{scale} is not > 0")
    rng = np.random.default_rng(seed)
    out = []
    for fan_in, fan_out in itertools.pairwise(layers):
        shape = (fan_out, fan_in)
        if init == "glorot_uniform":
            limit = scale * math.sqrt(6 / (fan_in + fan_out))
            w = rng.uniform(-limit, limit, shape)
        elif init == "he_normal":
            w = rng.normal(0, scale * math.sqrt(2 / fan_in), shape)
        elif init == "uniform":
            w = rng.uniform(-scale, scale, shape)
        else:
            w = rng.normal(0, scale, shape)
        out.append(frozen(w))
    return tuple(out)


def read_biases(
    c: Checker, value: Any, layers: tuple[int, ...], root: Path = ("biases",)
) -> tuple[Array | None, ...] | None:
    """Per non-input layer a bias vector, or None for a layer without biases ("hidden
    biases, no output bias"); None when no layer has any."""
    numbering = notation.Numbering(layers)
    out: list[Array | None]
    if isinstance(value, list):
        if len(value) != len(layers) - 1:
            raise c.fail(
                root,
                f"has {counted(len(value), 'list')}; expected "
                f"{len(layers) - 1}, one per non-input layer (`null` for a layer without biases)",
            )
        out = [
            None
            if v is None
            else frozen(
                c.vector(
                    (*root, k),
                    v,
                    layers[k + 1],
                    f"layer {k + 1} has {layers[k + 1]} units; `null` for no biases",
                )
            )
            for k, v in enumerate(value)
        ]
        return tuple(out) if any(b is not None for b in out) else None
    m = c.mapping(root, value, "named biases like `b3: 0.35`, or one list per layer")
    vectors = [np.full(n, np.nan) for n in layers[1:]]
    for name, v in m.items():
        j = notation.parse_bias(name)
        where = numbering.locate(j) if j is not None else None
        if where is None or where[0] == 0:
            first = numbering.first(1)
            raise c.fail(
                (*root, name),
                f"not a bias of a non-input unit; write `b` and "
                f"the unit number, from b{first} to b{numbering.total}",
            )
        vectors[where[0] - 1][where[1]] = c.number((*root, name), v)
    out = []
    for k, vec in enumerate(vectors, start=1):
        missing = np.isnan(vec)
        if missing.all():
            out.append(None)  # a layer left out of the named form has no bias terms
            continue
        if missing.any():
            names = [f"b{numbering.unit(k, i)}" for i in np.nonzero(missing)[0]]
            first, last = numbering.unit(k, 0), numbering.unit(k, layers[k] - 1)
            kind = "the output layer" if k == len(layers) - 1 else f"hidden layer {k}"
            raise c.fail(
                root,
                f"missing {', '.join(names[:8])}{' …' if len(names) > 8 else ''}; a layer has "
                f"a bias on every unit or on none: give them, or leave out every bias of "
                f"{kind} (b{first}–b{last})",
            )
        out.append(frozen(vec))
    return tuple(out) if any(b is not None for b in out) else None


def read_optimizer_state(
    c: Checker,
    value: Any,
    settings: optimizers.Settings,
    layers: tuple[int, ...],
    biases: tuple[Array | None, ...] | None,
    train_biases: bool,
    layout: str | None = None,
) -> optimizers.State:
    """`optimizer_state:` as `step --save` writes it: t and each state's weights and biases,
    matrices in the layout `weights:` states."""
    opt = settings.optimizer
    root = ("optimizer_state",)
    example = ", ".join(f"{name}: {{weights: …, biases: …}}" for name in opt.state)
    what = "t (updates so far)" + (f" and {example}" if opt.state else "")
    m = c.mapping(root, value, what)
    for key in m:
        if key != "t" and key not in opt.state:
            valid = ", ".join(("t", *opt.state))
            raise c.fail((*root, key), f"unknown key; the state of {opt.name} is {valid}")
    if "t" not in m:
        raise c.fail(root, "missing `t`: how many updates the state has seen")
    t = c.integer((*root, "t"), m["t"], 0, 2**62, "a whole number of updates ≥ 0")
    trained = biases is not None and train_biases
    values = []
    for name in opt.state:
        if name not in m:
            raise c.fail(root, f"missing `{name}`; expected {what}")
        path = (*root, name)
        parts = c.mapping(path, m[name], "`weights:` and, for trained biases, `biases:`")
        for key in parts:
            if key not in ("weights", "biases"):
                raise c.fail((*path, key), "unknown key; a state has `weights` and `biases`")
        if "weights" not in parts:
            raise c.fail(path, "missing `weights`: one value per weight, as `weights:` is given")
        w = parts["weights"]
        if isinstance(w, list):
            matrices = _weight_matrices(c, w, layers, (*path, "weights"), layout)
        else:
            named = c.mapping((*path, "weights"), w, "named weights or per-layer matrices")
            matrices = _named_weights(c, named, layers, (*path, "weights"))
        arrays: list[Array] = list(matrices)
        if trained:
            if parts.get("biases") is None:
                raise c.fail(path, "missing `biases`: the biases are trained, so they have state")
            given = read_biases(c, parts["biases"], layers, (*path, "biases")) or ()
            if [b is None for b in given] != [b is None for b in biases]:
                having = [f"layer {k}" for k, b in enumerate(biases, start=1) if b is not None]
                raise c.fail(
                    (*path, "biases"),
                    f"does not match the network's biases: state for {', '.join(having)}",
                )
            arrays += [b for b in given if b is not None]
        elif parts.get("biases") is not None:
            raise c.fail((*path, "biases"), "this network trains no biases, so they have no state")
        values.append((name, frozen(optimizers.flatten(arrays))))
    return optimizers.State(t, tuple(values))
