"""A homework set on disk: the folder `backtrace exercise` writes, and reading it back to mark.

    DIR/index.md               the teacher's index: every variant's sheet, key, config and E
    DIR/exercise.json          the same, for `check --exercises DIR`: ids and their questions
    DIR/questions/index.md     the students' index: the sheets, and nothing else
    DIR/questions/<id>.md      a question sheet
    DIR/keys/index.md          the keys' index, to publish the solutions after the deadline
    DIR/keys/<id>.md           its answer key: exactly what `run --format markdown` writes
    DIR/configs/<id>.yaml      its config

Only `questions/` is meant to be published: nothing in it links to or names a key or a config.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any

from .. import tracing
from ..core import safefile
from ..core.errors import ConfigError, quote

QUESTIONS, KEYS, CONFIGS = "questions", "keys", "configs"
MANIFEST = "exercise.json"
FORMAT = "backtrace-exercise"
MARK = "backtrace check --exercises THIS_FOLDER ANSWERS... --gradebook grades.csv"


@dataclass(frozen=True, slots=True)
class Entry:
    """One variant as the teacher's folder lists it."""

    ident: str
    questions: tuple[Any, ...]  # exercise.Question: what its sheet asks, in order


@dataclass
class Set:
    """A teacher's folder, read back to mark answers files against its variants."""

    folder: str
    entries: dict[str, Entry]
    specs: dict[str, Any] = field(default_factory=dict)

    @property
    def first(self) -> str:
        return next(iter(self.entries))

    def entry(self, ident: Any) -> Entry | None:
        """The variant with this id; None for anything else — a path above all: an id is
        looked up, never opened."""
        from ..sheet import is_ident

        if not isinstance(ident, str) or not is_ident(ident):
            return None
        return self.entries.get(ident)

    def spec(self, entry: Entry) -> Any:
        """The variant's config, from this folder's configs/, loaded once."""
        if entry.ident not in self.specs:
            from ..models import load

            self.specs[entry.ident] = load(
                os.path.join(self.folder, CONFIGS, f"{entry.ident}.yaml")
            )
        return self.specs[entry.ident]


def read(folder: str) -> Set:
    """The set `backtrace exercise` wrote into `folder` (its exercise.json), or ConfigError."""
    from ..sheet import Question, is_ident

    path = os.path.join(folder, MANIFEST)
    if not os.path.isdir(folder):
        raise ConfigError(
            folder,
            None,
            "--exercises",
            "is not a folder; give the folder `backtrace exercise -o DIR` wrote",
        )
    if not os.path.lexists(path):
        raise ConfigError(
            folder,
            None,
            "--exercises",
            f"has no {MANIFEST}: give the folder "
            "`backtrace exercise -o DIR` wrote (not its questions/)",
        )
    try:
        # looked at before it is opened, like every file the tool reads
        data = json.loads(safefile.read_text(path, what="a variant list", form="JSON"))
    except ConfigError as err:
        raise ConfigError(path, None, "--exercises", err.problem) from None
    except ValueError as err:
        raise ConfigError(path, None, "--exercises", f"cannot be read: {err}") from None
    manifest = data if isinstance(data, dict) else {}
    variants = manifest.get("variants")
    if manifest.get("format") != FORMAT or not isinstance(variants, dict) or not variants:
        raise ConfigError(
            path,
            None,
            "--exercises",
            "is not a variant list written by `backtrace exercise`; write the set again",
        )
    entries = {}
    for ident, about in variants.items():
        if not is_ident(ident):
            raise ConfigError(path, None, "--exercises", f"{quote(ident)} is not a variant id")
        labels = about.get("questions", []) if isinstance(about, dict) else []
        entries[ident] = Entry(ident, tuple(Question.parse(label) for label in labels))
    return Set(folder, entries)


def files(
    spec: Any, drawn: Any, seed: int, ask: tuple[str, ...], rules: Any
) -> list[tuple[str, str]]:
    """Every file of the set `drawn` (a `draws.ExerciseSet` of any model), as (path inside DIR,
    text), nothing written yet: what each sheet asks, its sheet, its key, its config and the
    index's words all come from the model (`tracing.model`), never from a test of its kind.

    Raises ValueError when `ask` names a quantity the exercise has not."""
    from .. import render  # start-up: the renderers load when a set is written
    from ..render.sheets import keys_index, students_index, teachers_index

    model = tracing.model(spec)
    number = render.number_format(None, None)
    notes = model.notes(spec, drawn, seed, rules, ask)
    out: list[tuple[str, str]] = []
    entries, sheets, listed = [], [], {}
    for v in drawn.variants:
        traced = model.trace(v.spec)
        # every unit's quantities, where the key's tables summarise a layer: check counts them
        asked = model.questions(v.spec, ask, model.trace(v.spec, full=True))
        sheet, cfg = f"{v.ident}.md", f"{v.ident}.yaml"
        header = f"Exercise variant {v.ident} (seed {seed}){notes.origin}"
        out += [
            (f"{QUESTIONS}/{sheet}", render.sheet(traced, number, v.ident, asked)),
            (f"{KEYS}/{sheet}", render.text(traced, "markdown", number)),
            (f"{CONFIGS}/{cfg}", model.to_config(v.spec, header)),
        ]
        entries.append(
            (
                v.ident,
                f"{QUESTIONS}/{sheet}",
                f"{KEYS}/{sheet}",
                f"{CONFIGS}/{cfg}",
                number(v.value),
            )
        )
        sheets.append((v.ident, sheet))
        listed[v.ident] = {
            "config": f"{CONFIGS}/{cfg}",
            notes.measure: v.value,
            "questions": [q.label for q in asked],
        }
    out.append(("index.md", teachers_index(entries, notes.about, MARK, notes.column)))
    title = f"Exercise: {spec.name}"
    out.append((f"{QUESTIONS}/index.md", students_index(sheets, title)))
    out.append((f"{KEYS}/index.md", keys_index(sheets, title)))
    out.append(manifest(spec.source, seed, ask, notes.bands, rules.min_magnitude, listed))
    return out


def manifest(
    source: str,
    seed: int,
    ask: tuple[str, ...],
    bands: dict[str, Any],
    min_magnitude: float,
    listed: dict[str, dict[str, Any]],
) -> tuple[str, str]:
    """DIR/exercise.json, for any model: how the set was drawn (`bands`: a network's loss band,
    a graph's output and its value band) and each variant's config and questions."""
    data = {
        "format": FORMAT,
        "version": 1,
        "source": source,
        "seed": seed,
        "ask": list(ask),
        **bands,
        "min_magnitude": min_magnitude,
        "variants": listed,
    }
    return (MANIFEST, json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def write(folder: str, texts: list[tuple[str, str]], force: bool) -> None:
    """Write the set: every target checked first, so a refusal leaves nothing half-written."""
    from ..core.output import refuse_existing, write_text

    targets = [(os.path.join(folder, *name.split("/")), text) for name, text in texts]
    if not force:
        for path, _ in targets:
            refuse_existing(path, "-o")
    try:
        for sub in (QUESTIONS, KEYS, CONFIGS):
            os.makedirs(os.path.join(folder, sub), exist_ok=True)
    except OSError as err:
        raise ConfigError(folder, None, "-o", f"cannot create the folder: {err.strerror}") from None
    for path, text in targets:
        write_text(path, text, force=force, option="-o")
