"""Injectable time: the only place that reads the wall clock.

The planner, the sources and the trigger ask a :class:`Clock` for "now" and convert waits into wall
seconds through it, so tests run on a manual clock and the offline demo runs a replayed day in seconds.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

from airflow_carbon_provider.carbon.readings import as_utc


class Clock(Protocol):
    def now(self) -> datetime:
        """Current time on this clock, timezone-aware UTC."""
        ...

    def wall_seconds(self, delta: timedelta) -> float:
        """Real seconds that pass while this clock advances by ``delta`` (never negative)."""
        ...

    def at(self, wall: datetime) -> datetime:
        """This clock's time at the real instant ``wall`` (e.g. when a task first started)."""
        ...


class SystemClock:
    """The real time."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def wall_seconds(self, delta: timedelta) -> float:
        return max(0.0, delta.total_seconds())

    def at(self, wall: datetime) -> datetime:
        return as_utc(wall, "wall")

    def __repr__(self) -> str:
        return "SystemClock()"


@dataclass
class ManualClock:
    """A clock that moves only when told to; for tests."""

    current: datetime

    def __post_init__(self) -> None:
        self.current = as_utc(self.current, "ManualClock.current")

    def now(self) -> datetime:
        return self.current

    def advance(self, delta: timedelta) -> None:
        self.current += delta

    def wall_seconds(self, delta: timedelta) -> float:
        return max(0.0, delta.total_seconds())

    def at(self, wall: datetime) -> datetime:
        """A manual clock has no relation to real time: every instant maps to its current time."""
        return self.current


@dataclass(frozen=True)
class ScaledClock:
    """Replayed time: ``origin`` at wall time ``wall_origin`` (epoch seconds), running ``speed`` times faster.

    All three values are plain data, so a sensor can hand the same clock to its trigger.
    """

    origin: datetime
    wall_origin: float
    speed: float = 1.0
    _wall: Clock = field(default_factory=SystemClock, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "origin", as_utc(self.origin, "ScaledClock.origin"))
        if not self.speed > 0:
            raise ValueError(f"speed must be > 0, got {self.speed!r}")

    def now(self) -> datetime:
        return self.at(self._wall.now())

    def at(self, wall: datetime) -> datetime:
        elapsed = as_utc(wall, "wall").timestamp() - self.wall_origin
        return self.origin + timedelta(seconds=elapsed * self.speed)

    def wall_seconds(self, delta: timedelta) -> float:
        return max(0.0, delta.total_seconds() / self.speed)


def wall_now() -> float:
    """Epoch seconds of the real clock (for anchoring a :class:`ScaledClock`)."""
    return time.time()
