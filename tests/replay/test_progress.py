"""The progress bar: on a terminal after a moment, never for pipes, --json or short runs."""

from __future__ import annotations

import io

from airflow_carbon_provider.replay.progress import SHOW_AFTER, progress_bar


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def run(stream: io.StringIO, clock: Clock, *, enabled: bool = True, slow: bool = True) -> str:
    with progress_bar(2, enabled=enabled, stream=stream, clock=clock) as tick:
        for name in ("ES auto", "ES oracle"):
            update = tick(name)
            for fraction in (0.25, 0.5, 1.0):
                clock.now += SHOW_AFTER if slow else 0.01
                update(fraction)
    return stream.getvalue()


def test_a_long_run_on_a_terminal_shows_the_task_and_its_share():
    out = run(Terminal(), Clock())
    assert "ES oracle" in out
    assert "%" in out


def test_a_run_shorter_than_the_delay_prints_nothing():
    assert run(Terminal(), Clock(), slow=False) == ""


def test_a_pipe_gets_no_bar():
    assert run(io.StringIO(), Clock()) == ""


def test_json_output_turns_the_bar_off():
    assert run(Terminal(), Clock(), enabled=False) == ""
