"""The one value type every source produces and every consumer reads."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping


MAX_PLAUSIBLE_INTENSITY = 3000.0
"""gCO₂e/kWh: above every real grid (coal-only is about 1,000); a larger value is a unit or data error."""


class SignalKind(StrEnum):
    """Average intensity of the grid mix, or the marginal intensity of the next unit of demand."""

    AVERAGE = "average"
    MARGINAL = "marginal"


def as_utc(value: datetime, name: str = "datetime") -> datetime:
    """Return ``value`` in UTC; a naive datetime is an error, never silently assumed to be UTC."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware (got naive {value.isoformat()}); use UTC")
    return value.astimezone(UTC)


def parse_utc(text: str, name: str = "timestamp") -> datetime:
    """Parse an ISO-8601 timestamp that carries an offset (``Z`` or ``+00:00``) into UTC."""
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise ValueError(f"{name} {text!r} is not an ISO-8601 timestamp") from exc
    return as_utc(parsed, f"{name} {text!r}")


@dataclass(frozen=True, slots=True)
class Reading:
    """Carbon intensity of one grid zone over one interval ``[start, end)``, in gCO₂e/kWh."""

    zone: str
    start: datetime
    end: datetime
    intensity: float
    signal: SignalKind = SignalKind.AVERAGE
    source: str = ""
    estimated: bool = False
    forecast: bool = False
    flags: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", as_utc(self.start, "Reading.start"))
        object.__setattr__(self, "end", as_utc(self.end, "Reading.end"))
        object.__setattr__(self, "signal", SignalKind(self.signal))
        object.__setattr__(self, "intensity", float(self.intensity))
        if self.end <= self.start:
            raise ValueError(f"Reading.end ({self.end}) must be after Reading.start ({self.start})")
        if not math.isfinite(self.intensity):
            raise ValueError(f"Reading.intensity must be a finite number, got {self.intensity!r}")

    @property
    def duration(self) -> timedelta:
        return self.end - self.start

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form for XCom, trigger events and the CLI."""
        return {
            "zone": self.zone,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "intensity": self.intensity,
            "signal": self.signal.value,
            "source": self.source,
            "estimated": self.estimated,
            "forecast": self.forecast,
            "flags": list(self.flags),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Reading:
        return cls(
            zone=str(data["zone"]),
            start=parse_utc(str(data["start"]), "start"),
            end=parse_utc(str(data["end"]), "end"),
            intensity=float(data["intensity"]),
            signal=SignalKind(data.get("signal", SignalKind.AVERAGE)),
            source=str(data.get("source", "")),
            estimated=bool(data.get("estimated", False)),
            forecast=bool(data.get("forecast", False)),
            flags=tuple(data.get("flags", ())),
        )


def normalize_series(readings: Iterable[Reading]) -> list[Reading]:
    """Sort by start and keep one reading per interval start.

    Where a source repeats an interval (a forecast point and a measured one, or a duplicated row), the
    measured value wins over the forecast and, among equals, the later one in input order wins.
    """
    by_start: dict[datetime, Reading] = {}
    for reading in readings:
        kept = by_start.get(reading.start)
        if kept is None or not (reading.forecast and not kept.forecast):
            by_start[reading.start] = reading
    return [by_start[start] for start in sorted(by_start)]
