"""Signs of life on stderr while a long trace is trained or written (rich, once shown)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from .options import Target


class TrainingProgress:
    """A progress bar on stderr, shown only once training has taken over a second, and only
    in a terminal (never when output is piped)."""

    def __init__(self, total: int, target: Target) -> None:
        self.total = total
        to_terminal = target.path is None and target.fmt == "table" and sys.stdout.isatty()
        self.enabled = (to_terminal or target.path is not None) and sys.stderr.isatty()
        self.bar: Any = None
        self.task: Any = None

    def __enter__(self) -> Callable[[int], None] | None:
        if not self.enabled:
            return None
        import time  # only once a bar may be shown, for start-up time

        self.clock = time.perf_counter
        self.started = self.clock()
        return self.tick

    def tick(self, epoch: int) -> None:
        if epoch % 64:
            return
        if self.bar is None:
            if self.clock() - self.started < 1.0:
                return
            # rich loads only once the bar is shown
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

            self.bar = Progress(
                "training",
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            self.bar.start()
            self.task = self.bar.add_task("epochs", total=self.total)
        self.bar.update(self.task, completed=epoch)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()


class Working:
    """A spinner on stderr once a trace has taken a second to build and write (`--full` on a
    wide network writes 800,000 lines): only when stderr is a terminal, and, when the trace
    itself goes to that terminal, only until it starts printing — then the lines are the sign
    of life. Writing to a file or a pipe, it counts the lines written."""

    def __init__(self, target: Target) -> None:
        import threading  # only when tracing, for start-up time

        self.enabled = sys.stderr.isatty()
        self.to_terminal = target.path is None and sys.stdout.isatty()
        self.lock = threading.Lock()
        self.timer: Any = None
        self.bar: Any = None
        self.task: Any = None
        self.stopped = False
        self.lines = 0

    def __enter__(self) -> Working:
        if self.enabled:
            import threading  # only when tracing, for start-up time

            self.timer = threading.Timer(1.0, self._start)
            self.timer.daemon = True
            self.timer.start()
        return self

    def _start(self) -> None:
        # rich loads only once the spinner is shown
        from rich.console import Console
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        with self.lock:
            if self.stopped:
                return
            self.bar = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                TimeElapsedColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            self.task = self.bar.add_task("tracing")
            self.bar.start()

    def writing(self) -> Callable[[int], None] | None:
        """Output begins: the callback that counts lines, or None once the spinner is gone."""
        if self.to_terminal or not self.enabled:
            self.stop()
            return None
        return self.tick

    def tick(self, lines: int) -> None:
        self.lines += lines
        with self.lock:
            if self.bar is not None:
                self.bar.update(self.task, description=f"writing: {self.lines:,} lines")

    def stop(self) -> None:
        with self.lock:
            self.stopped = True
            if self.timer is not None:
                self.timer.cancel()
            if self.bar is not None:
                self.bar.stop()
                self.bar = None

    def __exit__(self, *exc: object) -> None:
        self.stop()
