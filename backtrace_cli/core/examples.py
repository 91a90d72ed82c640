"""Where a config comes from: a path, or a built-in example by name — read once, safely."""

from __future__ import annotations

import os

from . import safefile
from .errors import ConfigError
from .validate import closest

_HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # the package


def examples_dir() -> str:
    """The built-in examples: shipped in the wheel, or the checkout's top-level `configs/`.

    Plain os.path, not importlib.resources or pathlib: they would cost `run` ~20 ms at start.
    """
    shipped = os.path.join(_HERE, "configs")
    return shipped if os.path.isdir(shipped) else os.path.join(os.path.dirname(_HERE), "configs")


def _example_path(name: str) -> str:
    return os.path.join(examples_dir(), f"{name}.yaml")


def example_names() -> list[str]:
    return sorted(f[: -len(".yaml")] for f in os.listdir(examples_dir()) if f.endswith(".yaml"))


def example_text(name: str) -> str:
    path = _example_path(name)
    if not os.path.isfile(path):
        raise ConfigError(name, None, None, _unknown_example(name))
    with open(path, encoding="utf-8") as stream:
        return stream.read()


def _unknown_example(name: str) -> str:
    names = example_names()
    close = closest(name, names)
    hint = f"did you mean {close!r}? " if close else ""
    return f"no such file, and no built-in example of that name; {hint}built-in: {', '.join(names)}"


def names_a_file(source: str) -> bool:
    """Whether a config's name is read as a path (it exists, or looks like one: a folder in
    it, a .yaml ending) rather than as a built-in example's name."""
    return os.path.lexists(source) or "/" in source or source.endswith((".yaml", ".yml"))


def read(source: str | None = None) -> tuple[str, str]:
    """A config's text and the file to name in messages, from a path or a built-in example
    name (None: the lecture example)."""
    if source is None:
        source = "lecture"
    if names_a_file(source):
        # looked at before it is opened: a FIFO, a device or a huge file is refused unread
        return safefile.read_text(source), source
    if os.path.isfile(_example_path(source)):
        return example_text(source), f"built-in example {source!r}"
    raise ConfigError(source, None, None, _unknown_example(source))
