"""Exit statuses, and the one place where bad input becomes exit status 2."""

from __future__ import annotations

import contextlib
import enum
from collections.abc import Iterator

import click

from ..core.errors import ConfigError


class Exit(enum.IntEnum):
    OK = 0
    BAD_INPUT = 2


class BadInput(click.ClickException):
    exit_code = Exit.BAD_INPUT


@contextlib.contextmanager
def bad_input() -> Iterator[None]:
    """ConfigError from the stages → exit 2 with its message."""
    try:
        yield
    except ConfigError as err:
        raise BadInput(str(err)) from None
