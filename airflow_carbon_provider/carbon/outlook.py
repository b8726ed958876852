"""What is known about one zone at one poll, computed once and shared by every wait deciding on it then.

A wait's decision at a poll depends on the zone's data at that time (history, the source's forecast, the built-in
forecast, percentile thresholds, window means) and on the wait's own latest start, duration and gate. The
:class:`Outlook` holds the first part, lazily and cached; the per-wait part (``planner.verdicts``) then costs
O(log n) per wait: :class:`Minima` answers "best start in ``[now, latest]``" for any ``latest`` from prefix minima
of the window means. The sensor's single wait, the replay's hundreds and a triggerer's thousands all go through
this one path.

No look-ahead: only history intervals that started at or before ``now`` are read (a reading is known once its
interval starts, as the sources' "latest" endpoints serve it; :meth:`Series.known_at`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from airflow_carbon_provider.carbon import forecaster
from airflow_carbon_provider.carbon.readings import Reading, as_utc
from airflow_carbon_provider.carbon.series import Series

if TYPE_CHECKING:
    from collections.abc import Sequence

    from airflow_carbon_provider.carbon.policy import Threshold
    from airflow_carbon_provider.carbon.series import BoolArray, FloatArray

STALE_AFTER = timedelta(hours=1)
"""A latest reading that ended longer ago than this (or than two of its intervals, if longer) is stale."""
TIE_DECIMALS = 9
"""Window means are rounded to 1e-9 before comparing, so float noise cannot break a tie (ties go earliest)."""

SOURCE, BUILT_IN = "source", "built-in"
"""The two series a forecast-type plan can rest on."""


def as_series(data: Series | Sequence[Reading]) -> Series:
    if isinstance(data, Series):
        return data
    return Series.from_readings(list(data)) if len(data) else Series.empty()


class Outlook:
    """One zone at one poll time ``now``: history, the source's forecast, and what is derived from them.

    ``history``: readings or a series (anything starting after ``now`` is ignored); ``forecast``: the source's
    forecast (possibly empty or short). ``history_window`` bounds what percentiles and the built-in forecaster
    read. ``horizon`` (optional): the latest job end any wait will ask about, so the built-in forecast is made
    once long enough for all of them.
    """

    def __init__(
        self,
        *,
        now: datetime,
        history: Series | Sequence[Reading],
        forecast: Series | Sequence[Reading] = (),
        history_window: timedelta = timedelta(days=14),
        horizon: datetime | None = None,
    ) -> None:
        self.now_dt = as_utc(now, "now")
        self.now = self.now_dt.timestamp()
        self.history = as_series(history).known_at(self.now)
        self.source_forecast = as_series(forecast).ending_after(self.now)
        self.history_window = history_window
        self.recent = self.history.ending_after(self.now - history_window.total_seconds())
        self.horizon = horizon.timestamp() if horizon is not None else self.now
        self.notes: list[str] = []
        self.degraded = False
        self.intensity_now: float | None = None
        if len(self.history):
            age = self.now - self.history.last_end
            if age > max(STALE_AFTER.total_seconds(), 2 * self.history.last_length):
                self.degraded = True
                self.notes.append(f"latest reading is stale (ended {timedelta(seconds=round(age))} before now)")
            else:
                self.intensity_now = self.history.last_value
        self._thresholds: dict[Threshold, float | None] = {}
        self._source: Series | None = None
        self._built_in: tuple[float, Series] | None = None
        self._minima: dict[tuple[str, float], Minima] = {}

    @property
    def has_data(self) -> bool:
        return bool(len(self.history) or len(self.source_forecast))

    # --- thresholds ------------------------------------------------------------------------------------------

    @property
    def percentile_base_is_forecast(self) -> bool:
        """Percentiles come from the source's forecast when there is no recent history."""
        return not len(self.recent) and bool(len(self.source_forecast))

    def threshold(self, threshold: Threshold) -> float | None:
        """An absolute threshold, or a percentile of the recent history (else of the forecast); None without data."""
        if not threshold.percentile:
            return threshold.value
        if threshold not in self._thresholds:
            base = self.source_forecast.view_values() if self.percentile_base_is_forecast else self.recent.view_values()
            self._thresholds[threshold] = percentile(base, threshold.value) if len(base) else None
        return self._thresholds[threshold]

    # --- forecast series -------------------------------------------------------------------------------------

    def source_series(self) -> Series:
        """The source forecast with the measured interval still running at ``now`` in front (empty if none)."""
        if self._source is None:
            future = self.source_forecast
            self._source = self._with_current(future) if len(future) else future
        return self._source

    def source_covers(self, ends: Any) -> BoolArray:
        """For each job end: does the source forecast cover ``[now, end)`` completely?"""
        return self.source_series().covers_many(self.now, ends)

    def built_in(self, end: float) -> Series:
        """The built-in forecast from the recent history, at least up to ``end`` (and ``horizon``)."""
        if self._built_in is None or self._built_in[0] < end:
            end = max(end, self.horizon, self._built_in[0] if self._built_in else end)
            origin = max(self.now, self.history.last_end) if len(self.history) else self.now
            predicted = forecaster.forecast(self.recent, origin=origin, end=end)
            self._built_in = (end, self._with_current(predicted))
        return self._built_in[1]

    def series(self, kind: str, end: float) -> Series:
        return self.source_series() if kind == SOURCE else self.built_in(end)

    def _with_current(self, future: Series) -> Series:
        current = self.history.ending_after(self.now)
        return current.concat(future) if len(current) else future

    def minima(self, kind: str, duration: float, end: float) -> Minima:
        """Best-start tables of ``kind``'s series for jobs of ``duration`` ending up to ``end``."""
        key = (kind, duration)
        found = self._minima.get(key)
        if found is None or found.end < end:
            found = self._minima[key] = Minima(self.series(kind, end), self.now, duration, max(end, self.horizon))
        return found


class Minima:
    """Best start of a job of ``duration`` in ``[now, latest]`` on ``series``, for any ``latest`` (``+ duration <=
    end``).

    The mean over ``[s, s + duration)`` is piecewise linear in ``s`` with breaks where the start or the end of the
    job crosses an interval boundary; so the candidates are ``now``, ``latest`` and every boundary ``b`` and
    ``b - duration`` in between. Candidates after ``now`` are shared by all waits; a running minimum over them
    (ties to the earliest) answers each wait with one binary search, plus one window mean when its ``latest`` is
    not itself a candidate. Windows without any data never win.
    """

    __slots__ = ("candidates", "duration", "end", "first_min", "raw", "rounded", "series")

    def __init__(self, series: Series, now: float, duration: float, end: float) -> None:
        import numpy as np

        self.series, self.duration, self.end = series, duration, end
        bounds = series.boundaries(now - duration, end)
        candidates = np.concatenate(([now], bounds, bounds - duration))
        candidates = candidates[(candidates >= now) & (candidates <= end - duration)]
        # Sorted, with now first (repeats are harmless: equal starts have equal means).
        self.candidates = np.concatenate(([now], np.sort(candidates, kind="stable")))
        self.raw = series.window_means(self.candidates, self.candidates + duration)
        self.rounded = _rounded(self.raw)
        # first_min[k]: index of the earliest minimum among candidates[0..k]
        running = np.minimum.accumulate(self.rounded)
        is_new = np.concatenate(([True], running[1:] < running[:-1]))
        self.first_min = np.maximum.accumulate(np.where(is_new, np.arange(len(running)), 0))

    def best(self, latest: FloatArray) -> tuple[FloatArray, FloatArray, float]:
        """For each latest start (all ``>= now``): the best start and its mean (NaN: no data), and the mean now."""
        import numpy as np

        k = self.candidates.searchsorted(latest, side="right") - 1
        index = self.first_min[k]
        start = self.candidates[index]
        expected = self.raw[index]
        value = self.rounded[index]
        own = self.candidates[k] < latest  # the latest start itself is a candidate too
        if own.any():
            raw_own = self.series.window_means(latest[own], latest[own] + self.duration)
            rounded_own = _rounded(raw_own)
            wins = rounded_own < value[own]
            start, expected, value = start.copy(), expected.copy(), value.copy()
            start[own] = np.where(wins, latest[own], start[own])
            expected[own] = np.where(wins, raw_own, expected[own])
            value[own] = np.where(wins, rounded_own, value[own])
        none = np.isinf(value)
        if none.any():
            start = np.where(none, latest, start)
            expected = np.where(none, np.nan, expected)
        return start, expected, float(self.raw[0])


def _rounded(raw: FloatArray) -> FloatArray:
    import numpy as np

    rounded = np.round(raw, TIE_DECIMALS)
    rounded[np.isnan(rounded)] = np.inf
    return rounded


def percentile(values: FloatArray, q: float) -> float:
    """The ``q``-th percentile with linear interpolation between order statistics (numpy's default method)."""
    import numpy as np

    ordered = np.sort(values)
    position = q / 100 * (len(ordered) - 1)
    below = int(position)
    above = min(below + 1, len(ordered) - 1)
    return float(ordered[below] + (ordered[above] - ordered[below]) * (position - below))
