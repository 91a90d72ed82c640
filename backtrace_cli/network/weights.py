"""A network config's numbers to train: `weights:` (named, matrices or seeded), `biases:`, and
the `optimizer_state:` that `step --save` writes beside them."""

from __future__ import annotations

import itertools
import math
from typing import TYPE_CHECKING, Any

import numpy as np

from ..core.validate import Checker, counted, show
from ..core.yamlsource import Path
from ..definitions import notation, optimizers
from .spec import frozen

if TYPE_CHECKING:  # numpy.typing costs start-up time; annotations only
    import numpy.typing as npt

    Array = npt.NDArray[np.float64]

INITS = ("glorot_uniform", "he_normal", "uniform", "normal")


def read_weights(c: Checker, value: Any, layers: tuple[int, ...]) -> tuple[tuple[Array, ...], str]:
    """The weight matrices, and how the user wrote them: "matrices", "init" or "named"."""
    if isinstance(value, list):
        return _weight_matrices(c, value, layers), "matrices"
    m = c.mapping(
        ("weights",),
        value,
        "named weights like `w13: 0.1`, per-layer matrices, or `{init: glorot_uniform, seed: 0}`",
    )
    if "init" in m or "seed" in m:
        return _weight_init(c, m, layers), "init"
    return _named_weights(c, m, layers), "named"


def _weight_matrices(
    c: Checker, value: list[Any], layers: tuple[int, ...], root: Path = ("weights",)
) -> tuple[Array, ...]:
    if len(value) != len(layers) - 1:
        raise c.fail(
            root,
            f"has {counted(len(value), 'matrix')}; expected "
            f"{len(layers) - 1}, one per non-input layer",
        )
    out = []
    for k, matrix in enumerate(value):
        rows, cols = layers[k + 1], layers[k]
        shape = (
            f"{rows}×{cols}: {counted(rows, 'row')} (units of layer {k + 1}), "
            f"{counted(cols, 'column')} (units of layer {k})"
        )
        if not isinstance(matrix, list) or len(matrix) != rows:
            found = counted(len(matrix), "row") if isinstance(matrix, list) else show(matrix)
            raise c.fail((*root, k), f"found {found}; expected a matrix {shape}")
        out.append(
            frozen(
                [
                    c.vector((*root, k, r), row, cols, f"matrix {shape}")
                    for r, row in enumerate(matrix)
                ]
            )
        )
    return tuple(out)


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
) -> optimizers.State:
    """`optimizer_state:` as `step --save` writes it: t and each state's weights and biases."""
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
            matrices = _weight_matrices(c, w, layers, (*path, "weights"))
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
