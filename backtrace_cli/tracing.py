"""A model traced and trained: what the API's `trace` and `train` and marking's `solve` run.

Below the teaching tools and the API alike, so that marking traces a model through its own
functions, never through the facade above it: a rounding's carry, limits, divergence said once.

The API imports this module at start-up, so the engine, the models and numpy are imported inside
the functions that need them: `backtrace --help` pays for none of them.
"""

from __future__ import annotations

from typing import Any, Protocol

from .graph.protocol import Graph
from .network.config import Spec
from .network.model_protocol import Sequential  # a `model:` of tensor layers
from .network.protocol import Network, Steps

Source = str | dict[str, Any] | Spec | None


def load(source: Source = None) -> Spec:
    """A validated model: a built-in name, a YAML path, a dict, or a spec (None: lecture)."""
    from . import models  # which model: models tells them apart

    if models.is_model(source):
        return source  # type: ignore[return-value]
    if isinstance(source, dict):
        return models.from_dict(source)
    return models.load(source)


class Model(Protocol):
    """What every kind of model does for the API, the worked solution and the CLI. `model`
    finds a spec's (through `models.kind`, the one test of kind): nothing above asks."""

    saves: bool  # `step --save` writes the trained model back as a config

    def trace(self, spec: Any, rounding: str | None = None, **options: Any) -> Any:
        """One step, every equation traced (`run`); options: full, gradients, inference,
        verify."""
        ...

    def train(self, spec: Any, epochs: int, picked: set[int], last: bool, **options: Any) -> Any:
        """`epochs` epochs, the `picked` ones (and the last, if `last`) traced (`step`)."""
        ...

    def steps(self, spec: Any, epochs: int, rounding: str | None, gradients: bool | None) -> Steps:
        """The worked solution's traced steps: each step's sections, in order, and its
        heading."""
        ...

    def samples(self, spec: Any) -> int:
        """How many samples a step of it has."""
        ...

    def json_in_full(self, spec: Any) -> bool:
        """Whether `run --format json` writes every equation (every term of every sum): up to
        `parameters.JSON_IN_FULL` parameters, the questions a quiz asks of it."""
        ...

    def complete(self, solved: Any) -> Any:
        """The worked solution (`solution.Solution`) with what this kind adds to it: its
        notation, or a graph's named slips and rounded gradients, its factors never asked."""
        ...

    # an exercise set (`backtrace exercise`): its variants, what its sheets ask, what its
    # teacher's index says, its configs — the sheet itself is laid out by the traced step's FORM
    # (`render.sheet`), its problem statement and diagram the model's own (`problem`, `diagram`)

    def variants(self, spec: Any, count: int, seed: int, rules: Any, base: str) -> Any:
        """`count` fair variants of the exercise `spec` drawn by `rules` from (seed, number),
        their ids starting with `base` (a `draws.ExerciseSet`); `draws.NoFairVariant` says
        which rule to relax."""
        ...

    def questions(self, spec: Any, ask: tuple[str, ...], records: Any = None) -> Any:
        """What a sheet of `spec` asks (`sheet.Question`s): every quantity, or those `ask`
        names; read from `records`, its traced step, where the kind needs it (a network's: None
        without). ValueError for a name it has not, listing the ones it has."""
        ...

    def notes(self, spec: Any, drawn: Any, seed: int, rules: Any, ask: tuple[str, ...]) -> Any:
        """What the teacher's index and exercise.json say of the set `drawn` (`draws.Notes`)."""
        ...

    def to_config(self, spec: Any, header: str) -> str:
        """The spec written back as a config `run` and `check` read, `header` as comments."""
        ...

    # marking (`check`, `quiz`, the gradebook): how its answers are read, where its slips come from

    answers: str  # how its answers files are read: the name of its `teach.answers` Reading
    own_slips: bool  # its named slips come on each row from `complete`, not `teach.mistakes`

    def refuse_notation(self, book: str | None) -> None:
        """ConfigError where `--notation BOOK` cannot rename this model's answers."""
        ...

    def renamer(self, spec: Any) -> Any:
        """What writes its trace's names in the spec's notation: `.symbol(name)` (the
        lecture's or torch's name → the book's)."""
        ...

    def marked(self, spec: Any) -> tuple[str, ...]:
        """What marking says of the mode it marks in, where that needs saying (a model whose
        eval mode computes otherwise: its training pass); () where it does not."""
        ...

    def quizzed(self, spec: Any, sample: int | None) -> str:
        """What a quiz of its first epoch asks (`sample`: that sample's step only), as the
        quiz's first line says it; ConfigError for a sample it has not."""
        ...

    # ------------------------------------------------ its homework question: statement, diagram
    # as structure (`statement`); render writes the math and draws the Mermaid

    def problem(self, spec: Any, traced: Any = None, epochs: int | None = None) -> Any:
        """Its problem statement (a `statement.Statement`): what it is, what it gives, what to
        do — one step, or `epochs` of training; from `traced`, its traced step, where the
        statement says what the step did (a graph's carried inputs, an inference pass)."""
        ...

    def diagram(self, spec: Any, traced: Any = None, solved: bool = True) -> Any:
        """`spec` drawn (a `statement.Diagram`), with what its traced step `traced` marks on
        it: a network's dropped units; a graph's values and gradients, unless not `solved`
        (a question sheet)."""
        ...


def read_as(spec: Any) -> tuple[str, ...]:
    """What `check`, `quiz` and `check --names` say of how they read the exercise: its
    statement's notes (a square matrix's layout) and the mode it is marked in."""
    model_ = model(spec)
    return model_.problem(spec).notes_text() + model_.marked(spec)


MODELS: dict[str, Model] = {"network": Network(), "graph": Graph(), "model": Sequential()}


def model(spec: Any) -> Model:
    """The spec's model: what traces, trains and solves it."""
    from . import models  # a network's or a graph's: models tells them apart

    return MODELS[models.kind(spec)]
