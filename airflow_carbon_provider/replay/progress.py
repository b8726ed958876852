"""A progress bar on stderr for replays that take more than a moment (``rich``, which Airflow already brings).

Silent when stderr is not a terminal or output is machine-read (``--json``), and for runs shorter than
:data:`SHOW_AFTER` seconds, so short runs and pipes see nothing.
"""

from __future__ import annotations

import sys
import time
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

SHOW_AFTER = 2.0
"""Seconds before the bar appears."""


@contextmanager
def progress_bar(
    tasks: int, *, enabled: bool = True, stream: Any = None, clock: Callable[[], float] = time.monotonic
) -> Iterator[Callable[[str], Callable[[float], None]]]:
    """Yields ``tick(task_name)``, which returns ``update(fraction_of_that_task_done)``; tasks run one after
    another, ``tasks`` of them in all."""
    stream = stream if stream is not None else sys.stderr
    show = enabled and tasks > 0 and bool(getattr(stream, "isatty", lambda: False)())
    started = clock()
    state: dict[str, Any] = {"done": -1, "bar": None, "task": None}

    def tick(name: str) -> Callable[[float], None]:
        state["done"] += 1
        base = state["done"]

        def update(fraction: float) -> None:
            if not show:
                return
            bar = state["bar"]
            if bar is None:
                if clock() - started < SHOW_AFTER:
                    return
                bar = state["bar"] = _start(stream, tasks)
                state["task"] = bar.add_task("replay", total=tasks)
            bar.update(state["task"], completed=base + min(max(fraction, 0.0), 1.0), description=name)

        return update

    try:
        yield tick
    finally:
        if state["bar"] is not None:
            state["bar"].stop()


def _start(stream: Any, tasks: int) -> Any:
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    bar = Progress(
        TextColumn("{task.description:<28}"),
        BarColumn(),
        TextColumn("{task.percentage:>5.1f} %"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=Console(file=stream),
        transient=True,
    )
    bar.start()
    return bar
