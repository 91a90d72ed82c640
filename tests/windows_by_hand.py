"""Convolutions and pools worked by hand with numpy over the explicitly padded grid, for the
tests of torch's dilation and ceil_mode (test_dilation_ceil_mode.py): a window's positions
at·s + m·d, a max pool's padding and what a ceil_mode window runs past −∞, an average pool's
0, its divisor counted on a grid of ones (the padded input's, torch's count_include_pad, or the
inputs') or torch's divisor_override; a convolution's groups (output channel c reads only the
input channels of its group, c // (out_channels/groups)), for test_groups_divisor.py too.
Never reads the program's trace: only the config's numbers.

torch's windows along an axis of n inputs, padding p, kernel k, stride s, dilation d:
⌊(n + 2p − d(k − 1) − 1)/s⌋ + 1, or with ceil_mode the ceiling, less one where that last
window would start in the right padding (torch's: the last window starts inside the input or
the left padding)."""

from __future__ import annotations

import numpy as np

PAST = 8  # columns of −∞ (or uncounted 0) beyond the right padding: more than a window reaches


def count(n: int, k: int, s: int, p: int, d: int = 1, ceil: bool = False) -> int:
    """torch's windows along an axis of n (the module's docstring)."""
    room = n + 2 * p - d * (k - 1) - 1
    windows = (-(-room // s) if ceil else room // s) + 1
    if ceil and (windows - 1) * s >= n + p:  # it would start in the right padding
        windows -= 1
    return windows


def axes(value, rank: int) -> list[int]:
    return list(value) if isinstance(value, (list, tuple)) else [value] * rank


def arguments(args: dict, rank: int) -> tuple[list[int], ...]:
    """kernel, stride, padding, dilation, one number per axis (torch's defaults filled)."""
    k = axes(args["kernel_size"], rank)
    s = axes(args.get("stride", args["kernel_size"]), rank)
    return k, s, axes(args.get("padding", 0), rank), axes(args.get("dilation", 1), rank)


def windows(shape, args: dict, ceil: bool):
    """Each output index (without the channel) and its window's positions along each axis, in
    the padded grid (input position u is grid position u + p)."""
    k, s, p, d = arguments(args, len(shape))
    outs = [count(*a, ceil=ceil) for a in zip(shape, k, s, p, d)]
    for at in np.ndindex(*outs):
        yield at, [[a * ss + m * dd for m in range(kk)] for a, kk, ss, dd in zip(at, k, s, d)]


def padded_grid(x: np.ndarray, p: list[int], padding: float, past: float) -> np.ndarray:
    """x with `padding` p wide on each side of each axis and `past` beyond the right one."""
    padded = np.pad(x, [(0, 0)] + [(q, q) for q in p], constant_values=padding)
    return np.pad(padded, [(0, 0)] + [(0, PAST)] * len(p), constant_values=past)


def max_pool(x: np.ndarray, args: dict):
    """Each window's max over the −∞-padded grid, and the input index it keeps (the first,
    row by row, on a tie)."""
    p = arguments(args, x.ndim - 1)[2]
    grid = padded_grid(x, p, -np.inf, -np.inf)
    ceil = args.get("ceil_mode", False)
    shape = [
        len(x),
        *(count(*a, ceil=ceil) for a in zip(x.shape[1:], *arguments(args, x.ndim - 1))),
    ]
    y, kept = np.zeros(shape), {}
    for at, where in windows(x.shape[1:], args, ceil):
        for c in range(len(x)):
            window = grid[c][np.ix_(*where)]
            m = np.unravel_index(np.argmax(window), window.shape)
            y[(c, *at)] = window[m]
            kept[(c, *at)] = (c, *(w[i] - q for w, i, q in zip(where, m, p)))
    return y, kept


def avg_pool(x: np.ndarray, args: dict, counted: bool | None = None):
    """Each window's sum over the 0-padded grid, divided by its entries in the padded input
    (count_include_pad, torch's default) or its inputs; and those divisors."""
    p = arguments(args, x.ndim - 1)[2]
    counted = args.get("count_include_pad", True) if counted is None else counted
    grid = padded_grid(x, p, 0.0, 0.0)
    ones = np.ones((1, *x.shape[1:]))
    held = padded_grid(ones, p, 1.0 if counted else 0.0, 0.0)[0]  # what a divisor counts
    ceil = args.get("ceil_mode", False)
    shape = [len(x), *(count(*a, ceil=ceil) for a in zip(x.shape[1:], *arguments(args, 2)))]
    y, divisors = np.zeros(shape), {}
    override = args.get("divisor_override")  # torch's: every window's divisor, where given
    for at, where in windows(x.shape[1:], args, ceil):
        divisors[at] = held[np.ix_(*where)].sum() if override is None else override
        for c in range(len(x)):
            y[(c, *at)] = grid[c][np.ix_(*where)].sum() / divisors[at]
    return y, divisors


def avg_back(x: np.ndarray, d: np.ndarray, args: dict, divisors: dict) -> np.ndarray:
    """Each window's δ/divisor to every entry of its window in the grid; the padding cut."""
    p = arguments(args, 2)[2]
    grid = padded_grid(np.zeros_like(x), p, 0.0, 0.0)
    for at, where in windows(x.shape[1:], args, args.get("ceil_mode", False)):
        for c in range(len(x)):
            grid[c][np.ix_(*where)] += d[(c, *at)] / divisors[at]
    return grid[(slice(None), *(slice(q, q + n) for q, n in zip(p, x.shape[1:])))]


def spread(x: np.ndarray, d: np.ndarray, args: dict) -> np.ndarray:
    """A max pool's δ as a student who spreads it writes it: every input of a window (its
    dilated positions inside the input) given the window's δ."""
    held = padded_grid(np.ones_like(x), arguments(args, x.ndim - 1)[2], 0.0, 0.0)
    sent = np.zeros_like(held)
    for at, where in windows(x.shape[1:], args, args.get("ceil_mode", False)):
        for c in range(len(x)):
            sent[c][np.ix_(*where)] += d[(c, *at)] * held[c][np.ix_(*where)]
    p = arguments(args, x.ndim - 1)[2]
    return sent[(slice(None), *(slice(q, q + n) for q, n in zip(p, x.shape[1:])))]


def channels(w: np.ndarray, args: dict, c: int) -> slice:
    """Output channel c's input channels: its group's w.shape[1] of them (every one without
    groups), group c // (out_channels/groups)."""
    width, per = w.shape[1], len(w) // args.get("groups", 1)
    return slice(c // per * width, (c // per + 1) * width)


def conv(x: np.ndarray, w: np.ndarray, b: np.ndarray, args: dict) -> np.ndarray:
    """Cross-correlation over the 0-padded input: y[c, at] = Σ w[c]·x[its group's channels,
    at·s + m·d] + b[c]."""
    args = {"stride": 1, **args}  # a convolution's default stride: 1, not its kernel
    p = arguments(args, x.ndim - 1)[2]
    grid = padded_grid(x, p, 0.0, 0.0)
    shape = [len(w), *(count(*a) for a in zip(x.shape[1:], *arguments(args, x.ndim - 1)))]
    y = np.zeros(shape)
    for at, where in windows(x.shape[1:], args, False):
        for c in range(len(w)):
            y[(c, *at)] = np.sum(w[c] * grid[(channels(w, args, c), *np.ix_(*where))]) + b[c]
    return y


def conv_grad(x: np.ndarray, w: np.ndarray, d: np.ndarray, args: dict) -> np.ndarray:
    """−∂E/∂w[c] = Σ over the outputs δ[c, at]·x[its group's channels, at·s + m·d] (the
    padding 0)."""
    args = {"stride": 1, **args}
    grid = padded_grid(x, arguments(args, x.ndim - 1)[2], 0.0, 0.0)
    grad = np.zeros_like(w)
    for at, where in windows(x.shape[1:], args, False):
        for c in range(len(w)):
            grad[c] += d[(c, *at)] * grid[(channels(w, args, c), *np.ix_(*where))]
    return grad


def conv_back(x: np.ndarray, w: np.ndarray, d: np.ndarray, args: dict) -> np.ndarray:
    """The δ of the input: each output's δ[c, at]·w[c] added into the entries it read (its
    group's channels), the padding cut."""
    args = {"stride": 1, **args}
    p = arguments(args, x.ndim - 1)[2]
    grid = padded_grid(np.zeros_like(x), p, 0.0, 0.0)
    for at, where in windows(x.shape[1:], args, False):
        for c in range(len(w)):
            grid[(channels(w, args, c), *np.ix_(*where))] += d[(c, *at)] * w[c]
    return grid[(slice(None), *(slice(q, q + n) for q, n in zip(p, x.shape[1:])))]
