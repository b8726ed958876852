"""A two-threshold gate that does not flap on a noisy signal.

Shared by the sensor's ``hysteresis`` policy (wait until the gate opens) and by the NodePool controller
(switch a pool between its clean and dirty profiles). Pure data in, pure data out, so the state can travel
through trigger kwargs or a NodePool annotation.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from airflow_carbon_provider.carbon.readings import as_utc, parse_utc


class GridState(StrEnum):
    CLEAN = "clean"
    DIRTY = "dirty"


@dataclass(frozen=True)
class GateState:
    """Where the gate stands: its state, since when, and since when the signal has pointed the other way."""

    state: GridState
    since: datetime
    pending_since: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "state": self.state.value,
            "since": self.since.isoformat(),
            "pending_since": self.pending_since.isoformat() if self.pending_since else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GateState:
        pending = data.get("pending_since")
        return cls(
            state=GridState(data["state"]),
            since=parse_utc(str(data["since"]), "since"),
            pending_since=parse_utc(str(pending), "pending_since") if pending else None,
        )


@dataclass(frozen=True)
class Hysteresis:
    """Enter ``clean`` below ``low``, leave it above ``high``; a crossing must last ``min_dwell`` to count."""

    low: float
    high: float
    min_dwell: timedelta = timedelta(0)

    def __post_init__(self) -> None:
        if self.low < 0:
            raise ValueError(f"threshold_low must be >= 0 gCO₂e/kWh, got {self.low}")
        if self.high < self.low:
            raise ValueError(f"threshold_high ({self.high}) must be >= threshold_low ({self.low})")
        if self.min_dwell < timedelta(0):
            raise ValueError(f"min_dwell must be >= 0, got {self.min_dwell}")

    def step(self, state: GateState | None, value: float, now: datetime) -> GateState:
        """The gate after observing ``value`` at ``now``.

        With no previous state the gate starts in the state the value clearly indicates (between the two
        thresholds counts as dirty, the safe side for a job that is waiting).
        """
        now = as_utc(now, "now")
        if state is None:
            return GateState(GridState.CLEAN if value < self.low else GridState.DIRTY, since=now)
        crossing = (state.state is GridState.DIRTY and value < self.low) or (
            state.state is GridState.CLEAN and value > self.high
        )
        if not crossing:
            return replace(state, pending_since=None) if state.pending_since else state
        pending_since = state.pending_since or now
        if now - pending_since >= self.min_dwell:
            flipped = GridState.CLEAN if state.state is GridState.DIRTY else GridState.DIRTY
            return GateState(flipped, since=now)
        return replace(state, pending_since=pending_since)
