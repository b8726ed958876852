"""A two-threshold gate that does not flap on a noisy signal.

Shared by the sensor's ``hysteresis`` policy (wait until the gate opens) and by the NodePool controller
(switch a pool between its clean and dirty profiles). Pure data in, pure data out, so the state can travel
through trigger kwargs or a NodePool annotation. :meth:`Hysteresis.step_many` steps many waits' gates at once
(the replay, a triggerer's batch); :meth:`Hysteresis.step` is the same rule for one gate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from airflow_carbon_provider.carbon.readings import as_utc, parse_utc

if TYPE_CHECKING:
    from collections.abc import Sequence

    import numpy as np
    import numpy.typing as npt

    FloatArray = npt.NDArray[np.float64]
    IntArray = npt.NDArray[np.int8]


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


NO_GATE, DIRTY, CLEAN = -1, 0, 1
"""State codes of :class:`Gates`."""


@dataclass(frozen=True)
class Gates:
    """Many gates as arrays: ``state`` (-1 no gate yet, 0 dirty, 1 clean), ``since`` and ``pending`` in epoch
    seconds (``pending`` NaN: no crossing pending)."""

    state: IntArray
    since: FloatArray
    pending: FloatArray

    @classmethod
    def none(cls, n: int) -> Gates:
        """``n`` waits that have no gate yet (their first reading decides)."""
        import numpy as np

        return cls(np.full(n, NO_GATE, dtype=np.int8), np.full(n, np.nan), np.full(n, np.nan))

    @classmethod
    def of(cls, states: Sequence[GateState | None]) -> Gates:
        import numpy as np

        return cls(
            np.array(
                [NO_GATE if s is None else CLEAN if s.state is GridState.CLEAN else DIRTY for s in states],
                dtype=np.int8,
            ),
            np.array([np.nan if s is None else s.since.timestamp() for s in states]),
            np.array([np.nan if s is None or s.pending_since is None else s.pending_since.timestamp() for s in states]),
        )

    def __len__(self) -> int:
        return len(self.state)

    def take(self, index: Any) -> Gates:
        """The gates at ``index`` (an index array or a boolean mask)."""
        return Gates(self.state[index], self.since[index], self.pending[index])

    def where(self, mask: Any, other: Gates) -> Gates:
        """This gate where ``mask``, else ``other``'s."""
        import numpy as np

        return Gates(
            np.where(mask, self.state, other.state).astype(np.int8),
            np.where(mask, self.since, other.since),
            np.where(mask, self.pending, other.pending),
        )

    def state_at(self, i: int, now: datetime | None = None) -> GateState | None:
        """Gate ``i`` as a :class:`GateState`; a time equal to ``now`` comes back as that very datetime."""
        from airflow_carbon_provider.carbon.series import from_epoch

        code = int(self.state[i])
        if code == NO_GATE:
            return None

        def moment(seconds: float) -> datetime:
            return now if now is not None and seconds == now.timestamp() else from_epoch(seconds)

        pending = float(self.pending[i])
        return GateState(
            GridState.CLEAN if code == CLEAN else GridState.DIRTY,
            since=moment(float(self.since[i])),
            pending_since=None if math.isnan(pending) else moment(pending),
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
        stepped = self.step_many(Gates.of([state]), value, now.timestamp()).state_at(0, now)
        assert stepped is not None
        return stepped

    def step_many(self, gates: Gates, value: float, now: float) -> Gates:
        """Every gate of ``gates`` after observing ``value`` at epoch second ``now`` (the rule of :meth:`step`)."""
        import numpy as np

        state, since, pending = gates.state, gates.since, gates.pending
        fresh = state == NO_GATE
        crossing = ((state == DIRTY) & (value < self.low)) | ((state == CLEAN) & (value > self.high))
        pending = np.where(crossing, np.where(np.isnan(pending), now, pending), np.nan)
        # Whole microseconds, as timedelta arithmetic would compare them.
        dwell_us = round(self.min_dwell.total_seconds() * 1e6)
        flip = crossing & (np.round((now - np.where(crossing, pending, now)) * 1e6) >= dwell_us)
        initial = CLEAN if value < self.low else DIRTY
        return Gates(
            np.where(fresh, initial, np.where(flip, CLEAN + DIRTY - state, state)).astype(np.int8),
            np.where(fresh | flip, now, since),
            np.where(fresh | flip, np.nan, pending),
        )
