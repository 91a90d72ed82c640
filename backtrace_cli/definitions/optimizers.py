"""Optimizers: one definition each — name, hyperparameters, state, update and formulas.

The formulas are PyTorch's `torch.optim` ones (what students' code runs), with g = ∂E/∂w (the
lecture's sign: g_ij = −δ_j·o_i). Every definition is read by every stage: the config validates
against `OPTIMIZERS`, the engine calls `update`, records fill the text and LaTeX templates, and
`check` reads the mistakes. `update` works on numpy arrays and on plain floats alike.

A template's slots name the quantities in general: `{w}`, `{g}`, `{η}`, `{t}`, a
hyperparameter's symbol (`{β1}`), a state (`{m}`: inside the line that updates it, the value
before; after it, the new one) or an earlier line's result (`{m̂}`). Records rename the slots
per parameter (`{m_w45}`), so renderers fill them like every other equation.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

Value = Any  # a numpy array or a float: every formula below works on both


@dataclass(frozen=True, slots=True)
class Hyperparameter:
    """One setting of an optimizer, with PyTorch's default and its valid range."""

    key: str  # as the config writes it: "beta1"
    symbol: str  # as the trace writes it: "β1"
    latex: str  # "\\beta_1"
    default: float
    what: str  # what it is, for error messages: "the first moment's decay"
    low: float = 0.0
    low_open: bool = False  # ε > 0: the low end itself is not allowed
    below_one: bool = False  # β < 1

    def problem(self, value: float) -> str | None:
        """Why `value` is not allowed, or None."""
        if self.low_open and value <= self.low:
            return f"{value:g} is not > {self.low:g}; {self.symbol} ({self.what}) must be positive"
        if value < self.low:
            return f"{value:g} is negative; {self.symbol} ({self.what}) must be ≥ {self.low:g}"
        if self.below_one and value >= 1:
            return f"{value:g} is not < 1; {self.symbol} ({self.what}) must be in [0, 1)"
        return None

    @property
    def valid(self) -> str:
        if self.below_one:
            return "in [0, 1)"
        return f"> {self.low:g}" if self.low_open else f"≥ {self.low:g}"


@dataclass(frozen=True, slots=True)
class Line:
    """One equation of an update: `name` ← the template, computed by `compute`."""

    name: str  # identifier: "m", "m_hat", "step"
    symbol: str  # as the trace writes it: "m", "m̂", "Δ"
    text: str  # "{β1}·{m} + (1 − {β1})·{g}"
    latex: str  # "\\beta_1 \\cdot {m} + (1 - \\beta_1) \\cdot {g}" — the same slots
    # from the values named so far, and how a bracket is written down (rounded in hand mode:
    # the brackets are the template's own, so hand mode works the line as the trace writes it)
    compute: Callable[[Mapping[str, Value], Callable[[Value], Value]], Value]


@dataclass(frozen=True, slots=True)
class Mistake:
    """A slip `check` can name: a traced formula rewritten as the student who makes it computes
    it (a regex over the per-parameter formula: `{new m_w45}/(1 − {β1}^{t})` → `{new m_w45}`)."""

    name: str  # "the bias correction 1/(1 − β1^t) left out (m̂ = m)"
    pattern: str
    replacement: str


@dataclass(frozen=True, slots=True)
class Optimizer:
    """An optimizer: its hyperparameters, its state (kept between updates) and its lines."""

    name: str  # as the config writes it
    title: str  # "Adam"
    hyperparameters: tuple[Hyperparameter, ...]
    state: tuple[str, ...]  # line names whose values persist between updates ("m", "v")
    lines: tuple[Line, ...]  # in order; the last one is the step Δ, and new w = w + Δ
    decoupled: str | None = None  # key of a decay applied to weights only, outside g (adamw)
    mistakes: tuple[Mistake, ...] = ()

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(h.key for h in self.hyperparameters)

    @property
    def counts(self) -> bool:
        """True when the update reads t (bias correction)."""
        return any("{t}" in line.text for line in self.lines)

    def symbol(self, name: str) -> str:
        for line in self.lines:
            if line.name == name:
                return line.symbol
        raise KeyError(name)

    def equations(self, weights: bool = True) -> tuple[tuple[str, str], ...]:
        """The update line by line, as text and as LaTeX: ("v ← μ·v + g", "v \\leftarrow …"),
        …, ("w ← w − η·v", …)."""
        out = []
        for line in self.lines[:-1]:
            state = line.name in self.state
            text = f"{line.symbol} {'←' if state else '='} {_plain(line.text)}"
            arrow = "\\leftarrow" if state else "="
            out.append((text, f"{_latex_head(line.symbol)} {arrow} {_tex(line.latex)}"))
        step = _plain(self.step_text(weights))
        text = f"w ← w + {step}" if step.startswith("(") else f"w ← w {_signed(step)}"
        latex = _tex(self.step_latex(weights))
        out.append((text, f"w \\leftarrow w {latex if latex.startswith('-') else '+ ' + latex}"))
        return tuple(out)

    def rule(self, weights: bool = True) -> str:
        """The whole update as one line of text: "v ← μ·v + g,  w ← w − η·v"."""
        return RULE_JOIN.join(text for text, _ in self.equations(weights))

    def rule_latex(self, weights: bool = True) -> str:
        return RULE_LATEX_JOIN.join(latex for _, latex in self.equations(weights))

    def step_text(self, weights: bool = True) -> str:
        """The last line (Δ), with the decoupled decay in front for weights."""
        text = self.lines[-1].text
        if self.decoupled and weights:
            text = "−{η}·{λ}·{w} " + _signed(text)
        return text

    def step_latex(self, weights: bool = True) -> str:
        text = self.lines[-1].latex
        if self.decoupled and weights:
            text = "-{η} \\cdot {λ} \\cdot {w} " + (text if text.startswith("-") else "+ " + text)
        return text


# between the equations of a rule, in text and in LaTeX: a renderer that must break a rule's
# line breaks it here, between equations, never inside one (after "w ← w −")
RULE_JOIN, RULE_LATEX_JOIN = ",  ", ",\\quad "


def _signed(text: str) -> str:
    return "− " + text[1:] if text.startswith("−") else "+ " + text


_SLOT = re.compile(r"\{([^{}]+)\}")


def _plain(template: str) -> str:
    """A text template with its slots as plain names: "{β1}·{m}" → "β1·m"."""
    return _SLOT.sub(lambda m: m.group(1), template)


def _tex(template: str) -> str:
    """A LaTeX template with its slots as LaTeX symbols: "{β1} \\cdot {m}" → "\\beta_1 \\cdot m"."""
    return _SLOT.sub(lambda m: LATEX.get(m.group(1), m.group(1)), template)


def _latex_head(symbol: str) -> str:
    return LATEX.get(symbol, symbol)


# ---------------------------------------------------------------- the definitions

EPSILON_WHAT = "added to the denominator so it is never 0"


def _beta(key: str, symbol: str, latex: str, default: float, what: str) -> Hyperparameter:
    return Hyperparameter(key, symbol, latex, default, what, below_one=True)


MU = Hyperparameter("momentum", "μ", "\\mu", 0.9, "the momentum")
RHO = _beta("rho", "ρ", "\\rho", 0.99, "the squared gradients' decay")
BETA1 = _beta("beta1", "β1", "\\beta_1", 0.9, "the first moment's decay")
BETA2 = _beta("beta2", "β2", "\\beta_2", 0.999, "the second moment's decay")
LAMBDA = Hyperparameter("weight_decay", "λ", "\\lambda", 0.01, "the decoupled weight decay")


def _eps(default: float) -> Hyperparameter:
    return Hyperparameter("epsilon", "ε", "\\varepsilon", default, EPSILON_WHAT, low_open=True)


def _step(
    text: str, latex: str, compute: Callable[[Mapping[str, Value], Callable[[Value], Value]], Value]
) -> Line:
    return Line("step", "Δ", text, latex, compute)


def _velocity() -> Line:
    # v ← μ·v + g: torch's buf.mul_(μ).add_(g); the first update (v = 0) gives v = g exactly
    return Line(
        "v",
        "v",
        "{μ}·{v} + {g}",
        "{μ} \\cdot {v} + {g}",
        lambda n, w: n["momentum"] * n["v"] + n["g"],
    )


def _root_step(state: str) -> Line:
    # torch: param.addcdiv_(g, √s + ε, value=−η), i.e. (−η·g)/(√s + ε)
    return _step(
        f"−{{η}}·{{g}}/(√{{{state}}} + {{ε}})",
        f"-\\frac{{{{η}} \\cdot {{g}}}}{{\\sqrt{{{{{state}}}}} + {{ε}}}}",
        lambda n, w: (-n["eta"] * n["g"]) / w(np.sqrt(n[state]) + n["epsilon"]),
    )


SGD = Optimizer(
    "sgd",
    "SGD",
    (),
    (),
    (_step("−{η}·{g}", "-{η} \\cdot {g}", lambda n, w: -n["eta"] * n["g"]),),
)
MOMENTUM = Optimizer(
    "momentum",
    "SGD with momentum",
    (MU,),
    ("v",),
    (_velocity(), _step("−{η}·{v}", "-{η} \\cdot {v}", lambda n, w: -n["eta"] * n["v"])),
)
NESTEROV = Optimizer(
    "nesterov",
    "SGD with Nesterov momentum",
    (MU,),
    ("v",),
    (
        _velocity(),
        _step(
            "−{η}·({g} + {μ}·{v})",
            "-{η} \\cdot ({g} + {μ} \\cdot {v})",
            lambda n, w: -n["eta"] * w(n["g"] + n["momentum"] * n["v"]),
        ),
    ),
    mistakes=(
        Mistake(
            "Nesterov's look-ahead left out (plain momentum's step −η·v)",
            r"^−\{η\}·\(\{[^{}]+\} \+ \{μ\}·(\{new v_[^{}]+\})\)$",
            r"−{η}·\1",
        ),
    ),
)
# ε added under the root: η·g/√(s + ε) instead of η·g/(√s + ε)
_EPSILON_INSIDE = Mistake("ε inside the square root", r"√(\{[^{}]+\}) \+ \{ε\}", r"√(\1 + {ε})")
RMSPROP = Optimizer(
    "rmsprop",
    "RMSprop",
    (RHO, _eps(1e-8)),
    ("s",),
    (
        # torch: square_avg.mul_(ρ).addcmul_(g, g, value=1 − ρ)
        Line(
            "s",
            "s",
            "{ρ}·{s} + (1 − {ρ})·{g}²",
            "{ρ} \\cdot {s} + (1 - {ρ}) \\cdot {g}^2",
            lambda n, w: n["rho"] * n["s"] + w(1 - n["rho"]) * n["g"] * n["g"],
        ),
        _root_step("s"),
    ),
    mistakes=(_EPSILON_INSIDE,),
)
ADAGRAD = Optimizer(
    "adagrad",
    "Adagrad",
    (_eps(1e-10),),
    ("s",),
    (
        Line("s", "s", "{s} + {g}²", "{s} + {g}^2", lambda n, w: n["s"] + n["g"] * n["g"]),
        _root_step("s"),
    ),
    mistakes=(_EPSILON_INSIDE,),
)


def _adam_lines() -> tuple[Line, ...]:
    return (
        Line(
            "m",
            "m",
            "{β1}·{m} + (1 − {β1})·{g}",
            "{β1} \\cdot {m} + (1 - {β1}) \\cdot {g}",
            lambda n, w: n["beta1"] * n["m"] + w(1 - n["beta1"]) * n["g"],
        ),
        Line(
            "v",
            "v",
            "{β2}·{v} + (1 − {β2})·{g}²",
            "{β2} \\cdot {v} + (1 - {β2}) \\cdot {g}^2",
            lambda n, w: n["beta2"] * n["v"] + w(1 - n["beta2"]) * n["g"] * n["g"],
        ),
        Line(
            "m_hat",
            "m̂",
            "{m}/(1 − {β1}^{t})",
            "\\frac{{m}}{1 - {β1}^{{t}}}",
            lambda n, w: n["m"] / w(1 - n["beta1"] ** n["t"]),
        ),
        Line(
            "v_hat",
            "v̂",
            "{v}/(1 − {β2}^{t})",
            "\\frac{{v}}{1 - {β2}^{{t}}}",
            lambda n, w: n["v"] / w(1 - n["beta2"] ** n["t"]),
        ),
        _step(
            "−{η}·{m̂}/(√{v̂} + {ε})",
            "-\\frac{{η} \\cdot {m̂}}{\\sqrt{{v̂}} + {ε}}",
            lambda n, w: (-n["eta"] * n["m_hat"]) / w(np.sqrt(n["v_hat"]) + n["epsilon"]),
        ),
    )


_ADAM_MISTAKES = (
    Mistake(
        "the bias correction 1/(1 − β1^t) left out (m̂ = m)",
        r"^(\{new m_[^{}]+\})/\(1 − \{β1\}\^\{t\}\)$",
        r"\1",
    ),
    Mistake(
        "the bias correction 1/(1 − β2^t) left out (v̂ = v)",
        r"^(\{new v_[^{}]+\})/\(1 − \{β2\}\^\{t\}\)$",
        r"\1",
    ),
    Mistake("the factor (1 − β1) left out", r"\(1 − \{β1\}\)·", ""),
    Mistake("the factor (1 − β2) left out", r"\(1 − \{β2\}\)·", ""),
    _EPSILON_INSIDE,
)
ADAM = Optimizer(
    "adam", "Adam", (BETA1, BETA2, _eps(1e-8)), ("m", "v"), _adam_lines(), mistakes=_ADAM_MISTAKES
)
ADAMW = Optimizer(
    "adamw",
    "AdamW",
    (BETA1, BETA2, _eps(1e-8), LAMBDA),
    ("m", "v"),
    _adam_lines(),
    decoupled="weight_decay",
    mistakes=_ADAM_MISTAKES,
)

OPTIMIZERS: dict[str, Optimizer] = {
    o.name: o for o in (SGD, MOMENTUM, NESTEROV, RMSPROP, ADAGRAD, ADAM, ADAMW)
}
NAMES = tuple(OPTIMIZERS)

# what every template's shared slots are called, as text and in LaTeX
SYMBOLS = {"η": "eta", "t": "t", "w": "w", "g": "g", "λ": "weight_decay"}
LATEX = {
    "η": "\\eta",
    "λ": "\\lambda",
    "m̂": "\\hat{m}",
    "v̂": "\\hat{v}",
    **{h.symbol: h.latex for o in OPTIMIZERS.values() for h in o.hyperparameters},
}


# ---------------------------------------------------------------- settings and state


@dataclass(frozen=True, slots=True)
class Settings:
    """An optimizer with its hyperparameters' values (defaults filled in)."""

    name: str = "sgd"
    values: tuple[tuple[str, float], ...] = ()  # (key, value) in the definition's order

    @property
    def optimizer(self) -> Optimizer:
        return OPTIMIZERS[self.name]

    def value(self, key: str) -> float:
        return dict(self.values)[key]

    def symbols(self) -> dict[str, float]:
        """Hyperparameter values by symbol: {"β1": 0.9, …}."""
        by_key = dict(self.values)
        return {h.symbol: by_key[h.key] for h in self.optimizer.hyperparameters}


def settings(name: str, given: Mapping[str, float] | None = None) -> Settings:
    """The optimizer `name` with `given` values and defaults for the rest (unchecked)."""
    given = given or {}
    opt = OPTIMIZERS[name]
    return Settings(
        name, tuple((h.key, float(given.get(h.key, h.default))) for h in opt.hyperparameters)
    )


@dataclass(frozen=True, slots=True)
class State:
    """What an optimizer keeps between updates: t and one flat array per state name.

    Arrays hold every trained parameter in one vector: each layer's weights (row-major), then
    each layer's trained biases — the order of `engine.layout`.
    """

    t: int = 0
    values: tuple[tuple[str, Value], ...] = field(default=())

    def get(self, name: str, size: int) -> Value:
        for key, value in self.values:
            if key == name:
                return value
        return np.zeros(size)


def update(
    settings: Settings,
    eta: float,
    t: int,
    w: Value,
    gradient: Value,
    state: Mapping[str, Value],
    *,
    l2: Value = 0.0,
    decoupled: Value = 1.0,
    carry: Callable[[Value], Value] = lambda v: v,
) -> dict[str, Value]:
    """One update of parameters `w` (an array or a float) with gradient ∂E/∂w.

    `t` counts this update (1 for the first); `state` holds each state's value before it.
    `l2`: the L2 weight decay λ for these parameters (0 for biases, or an array: λ for
    weights, 0 for biases) — g = ∂E/∂w + λ·w. `decoupled`: 1 where an optimizer's own decay
    (adamw) applies, 0 where not (biases). Returns every line's value by name, "g", and "new",
    the parameters after the update; each carried (rounded in hand mode).
    """
    opt = settings.optimizer
    n: dict[str, Value] = dict(settings.values)
    n.update(eta=eta, t=t, w=w)
    n["g"] = gradient if _zero(l2) else carry(gradient + l2 * w)
    for name in opt.state:
        n[name] = state[name]
    written = getattr(carry, "written", _same)  # hand mode: each bracket written down rounded
    for line in opt.lines:
        worked = line.compute(n, written)
        n[line.name] = carry(worked)
    step = n["step"]
    if opt.decoupled is not None and not _zero(decoupled):
        # w ← w − η·λ·w (decoupled from g), then the optimizer's own step: one line, as the
        # trace writes it (−η·λ·w − η·m̂/(√v̂ + ε)), so its own step is not rounded first
        step = carry(-eta * (n[opt.decoupled] * decoupled) * w + worked)
        n["step"] = step
    n["new"] = carry(w + step)
    return n


def _same(value: Value) -> Value:
    return value


def _zero(value: Value) -> bool:
    return isinstance(value, (int, float)) and value == 0


def describe(settings: Settings, weight_decay: float = 0.0) -> str:
    """One line: "Adam (β1 = 0.9, β2 = 0.999, ε = 1e-8)", "SGD, L2 weight decay λ = 0.001"."""
    opt = settings.optimizer
    text = opt.title
    if settings.values:
        named = (f"{symbol} = {constant(v)}" for symbol, v in settings.symbols().items())
        text += " (" + ", ".join(named) + ")"
    if weight_decay:
        text += f", L2 weight decay λ = {constant(weight_decay)} on weights"
    return text


def constant(value: float) -> str:
    """A hyperparameter as a config writes it: 0.999, 1e-8 (not 1e-08)."""
    return re.sub(r"e([+-])0*(\d)", lambda m: "e" + m[1].replace("+", "") + m[2], f"{value:g}")


def flatten(arrays: Sequence[Value | None]) -> Value:
    """Arrays (None skipped) as one vector, each row-major: the state's layout."""
    return np.concatenate([a for a in arrays if a is not None], axis=None)


def split(flat: Value, shapes: Sequence[tuple[int, ...] | None]) -> list[Value | None]:
    """The inverse of `flatten`: views of `flat` in each shape (None stays None)."""
    out: list[Value | None] = []
    start = 0
    for shape in shapes:
        if shape is None:
            out.append(None)
            continue
        size = math.prod(shape)
        out.append(flat[start : start + size].reshape(shape))
        start += size
    return out
