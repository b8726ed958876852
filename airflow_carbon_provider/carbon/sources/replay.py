"""Replay a recorded carbon-intensity series as if it were live: the embedded default (no key, no network).

"Now" comes from the source's clock (usually a :class:`ScaledClock` anchored in the data), so a demo can
replay a day in minutes. Its forecast is the recorded future itself: perfect knowledge, flagged as such.
"""

from __future__ import annotations

import asyncio
import bisect
import dataclasses
import functools
import logging
import re
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from airflow_carbon_provider.carbon.clock import Clock, ScaledClock, SystemClock, wall_now
from airflow_carbon_provider.carbon.csv_series import load_series
from airflow_carbon_provider.carbon.errors import CarbonSourceError, ZoneUnknownError
from airflow_carbon_provider.carbon.noise import forecast_noise
from airflow_carbon_provider.carbon.sources.base import check_horizon, check_window

if TYPE_CHECKING:
    from collections.abc import Sequence

    from airflow_carbon_provider.carbon.readings import Reading

log = logging.getLogger(__name__)

DATA_PACKAGE = "airflow_carbon_provider.carbon.data"
DEFAULT_ZONE = "ES"
BUNDLED_NAME = re.compile(r"^(?P<zone>.+)_(?P<year>\d{4})\.csv$")
PERFECT_KNOWLEDGE = "perfect-knowledge"
SIMULATED_ERROR = "simulated-forecast-error"


def bundled_files() -> dict[str, Path]:
    """Zone -> bundled CSV (e.g. ``ES`` -> ``ES_2023.csv``)."""
    found = {}
    for entry in resources.files(DATA_PACKAGE).iterdir():
        match = BUNDLED_NAME.match(entry.name)
        if match:
            found[match["zone"]] = Path(str(entry))
    return dict(sorted(found.items()))


class _Series:
    """One loaded file with its start times indexed, so a window is a bisection, not a scan of a year."""

    def __init__(self, readings: list[Reading]) -> None:
        self.readings = tuple(readings)
        self.starts = [r.start for r in readings]

    def window(self, start: datetime, end: datetime, readings: Sequence[Reading] | None = None) -> list[Reading]:
        """Readings overlapping ``[start, end)`` (of ``readings``, a copy of the series with other values)."""
        first = max(0, bisect.bisect_right(self.starts, start) - 1)
        last = bisect.bisect_left(self.starts, end)
        return [r for r in (readings or self.readings)[first:last] if r.end > start]

    @functools.cached_property
    def perfect_forecast(self) -> tuple[Reading, ...]:
        return tuple(dataclasses.replace(r, forecast=True, flags=(*r.flags, PERFECT_KNOWLEDGE)) for r in self.readings)

    @functools.lru_cache(maxsize=4)  # noqa: B019 -- one entry per error and seed a connection asks for
    def noisy_forecast(self, error: float, seed: int) -> tuple[Reading, ...]:
        """The series plus the noise of :func:`~airflow_carbon_provider.carbon.noise.forecast_noise`."""
        import numpy as np

        values = np.array([r.intensity for r in self.readings])
        lengths = np.array([(r.end - r.start).total_seconds() for r in self.readings])
        noise = forecast_noise(values, lengths, error=error, seed=seed).tolist()
        flag = f"{SIMULATED_ERROR}:{error:g}:seed={seed}"
        return tuple(
            dataclasses.replace(r, intensity=r.intensity + n, forecast=True, flags=(*r.flags, flag))
            for r, n in zip(self.readings, noise, strict=True)
        )


@functools.lru_cache(maxsize=16)
def _load(path: Path, zone: str, emission_factor: str) -> _Series:
    return _Series(load_series(path, zone=zone, emission_factor=emission_factor))


@functools.lru_cache(maxsize=64)
def _first_use(start: datetime | None, speed: float) -> float:
    """Without a shared wall origin, a replay starts when this process first asks for it, once per process: the
    sensor, its trigger (inline under ``airflow dags test``) and the report then agree on the time."""
    return wall_now()


def replay_clock(
    first_start: datetime,
    *,
    start: datetime | None = None,
    speed: float = 1.0,
    wall_origin: float | None = None,
    wall: Clock | None = None,
) -> ScaledClock:
    """A clock at ``start`` (default: the current moment moved into the data's year) running ``speed`` x real time."""
    wall = wall or SystemClock()
    origin_wall = _first_use(start, speed) if wall_origin is None else wall_origin
    if start is None:
        at_origin = datetime.fromtimestamp(origin_wall, UTC)
        day = min(at_origin.day, 28) if at_origin.month == 2 else at_origin.day
        start = at_origin.replace(year=first_start.year, day=day)
    return ScaledClock(origin=start, wall_origin=origin_wall, speed=speed, _wall=wall)


class ReplaySource:
    """Serves one recorded series per zone: a file given by path, or the bundled data by zone name."""

    name = "replay"

    def __init__(
        self,
        *,
        replay_file: str | Path | None = None,
        zone: str | None = None,
        emission_factor: str = "lifecycle",
        clock: Clock | None = None,
        replay_start: datetime | None = None,
        replay_speed: float = 1.0,
        replay_wall_origin: float | None = None,
        forecast_error: float | None = 0.0,
        forecast_seed: int = 0,
    ) -> None:
        """``clock`` wins; otherwise a :func:`replay_clock` from ``replay_start/speed/wall_origin``.

        ``forecast_error``: 0 serves the recorded future as the forecast (perfect knowledge), a fraction such as
        0.05 the recorded future plus Gaussian noise (seed ``forecast_seed``, :mod:`~...carbon.noise`), None no
        forecast at all (as a source without forecasts: ``auto`` then plans on the built-in forecaster).
        """
        if forecast_error is not None and not 0 <= forecast_error < 10:
            raise ValueError(f"replay_forecast: an error must be a fraction >= 0 such as 0.05, got {forecast_error!r}")
        self.forecast_error, self.forecast_seed = forecast_error, forecast_seed
        self.has_forecast = forecast_error is not None
        if replay_file is not None:
            path = Path(replay_file).expanduser()
            if not path.is_file():
                raise ValueError(f"replay_file: {str(path)!r} is not a readable file")
            self.files = {zone or path.stem: path}
        else:
            self.files = bundled_files()
        self.default_zone = zone or (next(iter(self.files)) if replay_file else DEFAULT_ZONE)
        if self.default_zone not in self.files:
            raise ValueError(f"zone: {self.default_zone!r} has no replay data; available: {', '.join(self.files)}")
        self.emission_factor = emission_factor
        self._loaded: dict[str, _Series] = {self.default_zone: self._series(self.default_zone)}  # fail fast on bad data
        if clock is None and (replay_speed != 1 or replay_start is not None) and replay_wall_origin is None:
            log.warning(
                "replay_start/replay_speed without replay_wall_origin: the replay starts at its first use in each "
                "process, so a worker and a separate triggerer disagree on the time; set replay_wall_origin (epoch "
                "seconds) in the connection when they run in different processes"
            )
        self.clock: Clock = clock or replay_clock(
            self._loaded[self.default_zone].readings[0].start,
            start=replay_start,
            speed=replay_speed,
            wall_origin=replay_wall_origin,
        )

    def __repr__(self) -> str:
        return f"ReplaySource(zones={list(self.files)}, clock={self.clock!r})"

    def series(self, zone: str) -> tuple[Reading, ...]:
        return self._series(zone).readings

    async def _aseries(self, zone: str) -> _Series:
        """The zone's series; a first load (parsing a year of CSV) runs in a thread, off the event loop."""
        loaded = self._loaded.get(zone)
        if loaded is None:
            loaded = self._loaded[zone] = await asyncio.to_thread(self._series, zone)
        return loaded

    def _series(self, zone: str) -> _Series:
        path = self.files.get(zone)
        if path is None:
            raise ZoneUnknownError(self.name, f"no replay data for zone {zone!r}; available: {', '.join(self.files)}")
        return _load(path, zone, self.emission_factor)

    async def latest(self, zone: str) -> Reading:
        series, now = await self._aseries(zone), self.clock.now()
        current = series.window(now, now + timedelta(microseconds=1))
        if not current:
            first, last = series.readings[0], series.readings[-1]
            raise CarbonSourceError(
                self.name,
                f"the replay clock is at {now.isoformat()}, outside the data for {zone!r} "
                f"({first.start.isoformat()} to {last.end.isoformat()}); set replay_start inside that range",
            )
        return current[0]

    async def forecast(self, zone: str, horizon: timedelta) -> list[Reading]:
        check_horizon(horizon)
        if self.forecast_error is None:
            raise CarbonSourceError(self.name, "this replay connection serves no forecast (replay_forecast 'none')")
        now = self.clock.now()
        series = await self._aseries(zone)
        if self.forecast_error == 0:
            return series.window(now, now + horizon, series.perfect_forecast)
        return series.window(now, now + horizon, series.noisy_forecast(self.forecast_error, self.forecast_seed))

    async def history(self, zone: str, start: datetime, end: datetime) -> list[Reading]:
        start, end = check_window(start, end)
        now = self.clock.now()
        return [r for r in (await self._aseries(zone)).window(start, end) if r.start <= now]
