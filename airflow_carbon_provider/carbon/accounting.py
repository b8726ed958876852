"""Grams of CO2e a job emitted, and what it avoided by not starting at its release time.

emitted  = power x PUE x integral of intensity over the actual run [start, end)
baseline = the same energy over [release, release + (end - start)), i.e. had it started when released
avoided  = baseline - emitted (negative when waiting made it worse)

Integration weights each reading by its overlap with the interval. Time without data is not guessed:
the mean over the covered part stands in for it, and the report says how much was covered.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from airflow_carbon_provider.carbon.readings import Reading, as_utc
from airflow_carbon_provider.carbon.series import Series

if TYPE_CHECKING:
    from collections.abc import Sequence

    from airflow_carbon_provider.carbon.power import PowerModel

REPORT_KIND = "airflow_carbon_provider.report/v1"
SERIES_MARGIN = timedelta(hours=6)


@dataclass(frozen=True)
class Exposure:
    """Time-weighted mean intensity over an interval and the share of the interval that had data."""

    mean: float | None
    coverage: float


def exposure(readings: Sequence[Reading], start: datetime, end: datetime) -> Exposure:
    """The planner's overlap-weighted integration (:class:`Series`), applied to one past interval."""
    if end <= start:
        raise ValueError(f"interval end ({end}) must be after start ({start})")
    series = Series.from_readings(readings) if readings else Series.empty()
    sums, covered = series.window_sums([start.timestamp()], [end.timestamp()])
    seconds = float(covered[0])
    return Exposure(
        mean=float(sums[0]) / seconds if seconds else None,
        coverage=min(1.0, seconds / (end - start).total_seconds()),
    )


@dataclass(frozen=True)
class CarbonReport:
    zone: str
    source: str
    release: datetime
    start: datetime
    end: datetime
    power: PowerModel
    intensity_mean: float | None
    intensity_baseline_mean: float | None
    deadline: datetime | None = None
    intensity_at_start: float | None = None
    intensity_at_release: float | None = None
    deadline_forced: bool = False
    notes: tuple[str, ...] = ()
    series: tuple[Reading, ...] = field(default=(), repr=False)

    @property
    def energy_kwh(self) -> float:
        return self.power.watts / 1000 * (self.end - self.start).total_seconds() / 3600

    @property
    def emitted_g(self) -> float | None:
        return None if self.intensity_mean is None else self.energy_kwh * self.intensity_mean

    @property
    def baseline_g(self) -> float | None:
        return None if self.intensity_baseline_mean is None else self.energy_kwh * self.intensity_baseline_mean

    @property
    def avoided_g(self) -> float | None:
        if self.emitted_g is None or self.baseline_g is None:
            return None
        return self.baseline_g - self.emitted_g

    @property
    def degraded(self) -> bool:
        return bool(self.notes)

    def to_dict(self) -> dict[str, Any]:
        """The XCom payload the UI plugin and metrics read (identified by ``kind``)."""

        def iso(value: datetime | None) -> str | None:
            return value.isoformat() if value else None

        return {
            "kind": REPORT_KIND,
            "zone": self.zone,
            "source": self.source,
            "release": iso(self.release),
            "deadline": iso(self.deadline),
            "start": iso(self.start),
            "end": iso(self.end),
            "waited_seconds": (self.start - self.release).total_seconds(),
            "energy_kwh": self.energy_kwh,
            "power_w": self.power.watts,
            "pue": self.power.pue,
            "instance_type": self.power.instance_type,
            "emitted_g": self.emitted_g,
            "baseline_g": self.baseline_g,
            "avoided_g": self.avoided_g,
            "intensity_mean": self.intensity_mean,
            "intensity_baseline_mean": self.intensity_baseline_mean,
            "intensity_at_start": self.intensity_at_start,
            "intensity_at_release": self.intensity_at_release,
            "deadline_forced": self.deadline_forced,
            "degraded": self.degraded,
            "notes": list(self.notes),
            "series": [
                {
                    "start": r.start.isoformat(),
                    "end": r.end.isoformat(),
                    "intensity": r.intensity,
                    "forecast": r.forecast,
                }
                for r in self.series
            ],
        }


def series_window(release: datetime, start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """The span of history a report needs: both run windows, with some context either side for the chart."""
    baseline_end = release + (end - start)
    return min(release, start) - SERIES_MARGIN, max(end, baseline_end) + SERIES_MARGIN


def build_report(
    *,
    zone: str,
    source: str,
    release: datetime,
    start: datetime,
    end: datetime,
    power: PowerModel,
    history: Sequence[Reading],
    deadline: datetime | None = None,
    deadline_forced: bool = False,
    notes: Sequence[str] = (),
) -> CarbonReport:
    """Account for one run from the measured history of its zone."""
    release, start, end = as_utc(release, "release"), as_utc(start, "start"), as_utc(end, "end")
    if start < release:
        raise ValueError(f"start ({start}) must not be before release ({release})")
    if end <= start:
        raise ValueError(f"end ({end}) must be after start ({start})")
    measured = [r for r in history if not r.forecast]
    actual = exposure(measured, start, end)
    baseline = exposure(measured, release, release + (end - start))
    all_notes = list(notes)
    for label, part in (("run", actual), ("baseline", baseline)):
        if part.coverage < 1.0:
            all_notes.append(
                f"intensity data covers {part.coverage:.0%} of the {label} window; the mean over the covered part "
                "stands in for the rest"
                if part.mean is not None
                else f"no intensity data for the {label} window"
            )
    return CarbonReport(
        zone=zone,
        source=source,
        release=release,
        start=start,
        end=end,
        power=power,
        intensity_mean=actual.mean,
        intensity_baseline_mean=baseline.mean,
        deadline=deadline,
        intensity_at_start=_value_at(measured, start),
        intensity_at_release=_value_at(measured, release),
        deadline_forced=deadline_forced,
        notes=tuple(all_notes),
        series=tuple(sorted(history, key=lambda r: r.start)),
    )


def _value_at(readings: Sequence[Reading], moment: datetime) -> float | None:
    return next((r.intensity for r in readings if r.start <= moment < r.end), None)
