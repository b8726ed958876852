"""The planner: when should a job of a given duration start, before its deadline, to run on the cleanest power?

One implementation for the sensor, the trigger and the replay. Pure code: readings in, a :class:`Plan` out.
The planner never reads history that starts at or after ``now`` (no look-ahead), and it says in the plan what
data it rested on and whether that data was degraded; what to do about degraded data is the caller's choice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from airflow_carbon_provider.carbon import forecaster
from airflow_carbon_provider.carbon.hysteresis import GateState, GridState, Hysteresis
from airflow_carbon_provider.carbon.policy import PlanSpec, Policy, Threshold
from airflow_carbon_provider.carbon.readings import Reading, as_utc
from airflow_carbon_provider.carbon.series import Series, from_epoch

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from airflow_carbon_provider.carbon.series import FloatArray

STALE_AFTER = timedelta(hours=1)
"""A latest reading that ended longer ago than this (or than two of its intervals, if longer) is stale."""
_TIE_DECIMALS = 9


@dataclass(frozen=True)
class Plan:
    """The planner's answer; ``start`` is when to start if nothing changes (callers re-plan on new data)."""

    start: datetime
    run_now: bool
    expected_mean: float | None
    intensity_now: float | None
    mean_if_now: float | None
    threshold_value: float | None
    policy: Policy
    used: str
    data: str
    degraded: bool
    notes: tuple[str, ...]
    deadline_forced: bool
    gate_state: GateState | None
    latest_start: datetime

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form for XCom, trigger events and logs."""
        return {
            "start": self.start.isoformat(),
            "run_now": self.run_now,
            "expected_mean": self.expected_mean,
            "intensity_now": self.intensity_now,
            "mean_if_now": self.mean_if_now,
            "threshold_value": self.threshold_value,
            "policy": self.policy.value,
            "used": self.used,
            "data": self.data,
            "degraded": self.degraded,
            "notes": list(self.notes),
            "deadline_forced": self.deadline_forced,
            "gate_state": self.gate_state.to_dict() if self.gate_state else None,
            "latest_start": self.latest_start.isoformat(),
        }

    def describe(self) -> str:
        """One line for task logs."""

        def num(value: float | None) -> str:
            return "n/a" if value is None else f"{value:.1f}"

        state = "run now" if self.run_now else f"start {self.start.isoformat()}"
        parts = [
            f"{state} ({self.used})",
            f"now={num(self.intensity_now)}",
            f"mean_if_now={num(self.mean_if_now)}",
            f"planned_mean={num(self.expected_mean)}",
        ]
        if self.threshold_value is not None:
            parts.append(f"threshold={self.threshold_value:.1f}")
        if self.degraded:
            parts.append("DEGRADED: " + "; ".join(self.notes))
        return " ".join(parts)


def _as_series(data: Series | Sequence[Reading]) -> Series:
    if isinstance(data, Series):
        return data
    return Series.from_readings(list(data)) if len(data) else Series.empty()


def plan(
    spec: PlanSpec,
    *,
    now: datetime,
    deadline: datetime,
    history: Series | Sequence[Reading],
    forecast: Series | Sequence[Reading] = (),
    gate_state: GateState | None = None,
) -> Plan:
    """Plan one job released at ``now`` with a ``deadline`` of kind ``spec.deadline_kind``.

    ``history``: readings known at ``now`` (anything starting at/after ``now`` is ignored); ``forecast``: the
    source's forecast, possibly empty or not covering the window. Policy ``oracle`` plans like ``forecast`` (the
    replay feeds it the true future). ``gate_state`` carries the hysteresis gate
    from the previous plan. A :class:`~airflow_carbon_provider.carbon.series.Series` may be passed instead of
    readings (the replay does, to avoid conversions); the algorithm is the same.
    """
    return _Planner(
        spec=spec,
        now=as_utc(now, "now"),
        deadline=as_utc(deadline, "deadline"),
        history=history,
        forecast=forecast,
        gate_state=gate_state,
    ).run()


class _Planner:
    """One planning call's state; a class only to keep the policies' shared inputs in one place."""

    def __init__(
        self,
        *,
        spec: PlanSpec,
        now: datetime,
        deadline: datetime,
        history: Series | Sequence[Reading],
        forecast: Series | Sequence[Reading],
        gate_state: GateState | None,
    ) -> None:
        self.spec, self.now_dt, self.gate_state = spec, now, gate_state
        self.now = now.timestamp()
        self.duration = spec.duration.total_seconds()
        self.latest_start = (deadline - spec.latest_start_offset()).timestamp()
        self.history = _as_series(history).before(self.now)
        self.source_forecast = _as_series(forecast).ending_after(self.now)
        self._source: Series | None = None
        self.notes: list[str] = []
        self.degraded = False
        self.recent = self.history.ending_after(self.now - spec.history_window.total_seconds())
        self.intensity_now: float | None = None
        if len(self.history):
            age = self.now - self.history.last_end
            if age > max(STALE_AFTER.total_seconds(), 2 * self.history.last_length):
                self._degrade(f"latest reading is stale (ended {timedelta(seconds=round(age))} before now)")
            else:
                self.intensity_now = self.history.last_value

    def _degrade(self, note: str) -> None:
        self.degraded = True
        self.notes.append(note)

    def run(self) -> Plan:
        spec = self.spec
        if self.latest_start <= self.now:
            self.notes.append("latest start is not after now: start now")
            return self._plan(self.now, used=spec.policy.value, forced=True)
        if not len(self.history) and not len(self.source_forecast):
            self._degrade("no data at all: planned start is the latest start")
            return self._plan(self.latest_start, used="no-data")
        if spec.policy is Policy.NOW:
            return self._plan(self.now, used="now")
        if spec.policy is Policy.THRESHOLD:
            return self._threshold()
        if spec.policy is Policy.HYSTERESIS:
            return self._hysteresis()
        return self._forecast()

    # --- shared pieces -------------------------------------------------------------------------------------

    def _window_end(self) -> float:
        return self.latest_start + self.duration

    def _source_covers(self) -> bool:
        used = self._source_used()
        return used.covers(self.now, self._window_end())

    def _source_used(self) -> Series:
        """The source forecast with the measured interval still running at ``now`` in front (built once)."""
        if self._source is None:
            self._source = (
                self._with_current(self.source_forecast) if len(self.source_forecast) else self.source_forecast
            )
        return self._source

    def _with_current(self, future: Series) -> Series:
        """The measured interval that is still running at ``now`` (if any), followed by ``future``."""
        current = self.history.ending_after(self.now)
        return current.concat(future) if len(current) else future

    def _built_in(self) -> Series:
        origin = max(self.now, self.history.last_end) if len(self.history) else self.now
        predicted = forecaster.forecast(self.recent, origin=origin, end=self._window_end())
        return self._with_current(predicted)

    def _means(self, series: Series | None, starts: list[float]) -> list[float] | None:
        if series is None or not len(series):
            return None
        return [float(m) for m in series.window_means(starts, [s + self.duration for s in starts])]

    def _plan(
        self,
        start: float,
        *,
        used: str,
        series: Series | None = None,
        threshold: float | None = None,
        forced: bool = False,
        gate: GateState | None = None,
        means: tuple[float, float] | None = None,
    ) -> Plan:
        """``means``: (mean if started now, mean at ``start``) when the caller already has them."""
        start = min(max(start, self.now), max(self.latest_start, self.now))
        if means is None:
            computed = self._means(series, [self.now, start])
            means = (computed[0], computed[1]) if computed is not None else None
        expected = mean_now = None
        if means is not None:
            mean_now = None if means[0] != means[0] else means[0]
            expected = None if means[1] != means[1] else means[1]
        return Plan(
            start=self.now_dt if start == self.now else from_epoch(start),
            run_now=start <= self.now,
            expected_mean=expected,
            intensity_now=self.intensity_now,
            mean_if_now=mean_now,
            threshold_value=threshold,
            policy=self.spec.policy,
            used=used,
            data=self._data(series, used),
            degraded=self.degraded,
            notes=tuple(self.notes),
            deadline_forced=forced,
            gate_state=gate if gate is not None else self.gate_state,
            latest_start=from_epoch(max(self.latest_start, self.now)),
        )

    def _data(self, series: Series | None, used: str) -> str:
        parts = [f"history: {len(self.history)} readings"]
        if len(self.history):
            parts[0] += f" up to {from_epoch(self.history.last_end).isoformat()}"
        parts.append(f"source forecast: {len(self.source_forecast)} readings")
        if series is not None and len(series):
            parts.append(f"planned on {used} ({len(series)} intervals)")
        return "; ".join(parts)

    def _resolve(self, threshold: Threshold) -> float | None:
        if not threshold.percentile:
            return threshold.value

        base = self.recent.view_values()
        if not len(base) and len(self.source_forecast):
            base = self.source_forecast.view_values()
            self.notes.append("percentile threshold taken from the forecast (no recent history)")
        if not len(base):
            return None
        return percentile(base, threshold.value)

    def _reference_series(self) -> Series | None:
        """Forecast for reporting the expected means of threshold-type plans (only a covering source one)."""
        return self._source_used() if self._source_covers() else None

    # --- policies ------------------------------------------------------------------------------------------

    def _threshold(self) -> Plan:
        assert self.spec.threshold is not None
        value = self._resolve(self.spec.threshold)
        if value is None:
            self._degrade("no data to resolve the percentile threshold")
        green = value is not None and self.intensity_now is not None and self.intensity_now < value
        if self.intensity_now is None and value is not None:
            self._degrade("no current reading to compare with the threshold")
        start = self.now if green else self.latest_start
        return self._plan(start, used="threshold", series=self._reference_series(), threshold=value)

    def _hysteresis(self) -> Plan:
        assert self.spec.low is not None
        assert self.spec.high is not None
        low, high = self._resolve(self.spec.low), self._resolve(self.spec.high)
        if low is None or high is None or self.intensity_now is None:
            self._degrade("no current reading or no data to resolve the thresholds: gate unchanged")
            gate = self.gate_state
        else:
            gate = Hysteresis(low, max(low, high), self.spec.min_dwell).step(
                self.gate_state, self.intensity_now, self.now_dt
            )
        start = self.now if gate is not None and gate.state is GridState.CLEAN else self.latest_start
        return self._plan(start, used="hysteresis", series=self._reference_series(), threshold=low, gate=gate)

    def _forecast(self) -> Plan:
        spec = self.spec
        if self._source_covers():
            series, used = self._source_used(), "source-forecast"
        else:
            if spec.policy is Policy.FORECAST or len(self.source_forecast):
                covered = self._source_used().coverage(self.now, self._window_end())
                note = f"source forecast covers {covered:.0%} of the window; planned on the built-in forecaster"
                if spec.policy is Policy.AUTO:
                    self.notes.append(note)
                else:
                    self._degrade(note)
            if not len(self.history):
                self._degrade("no history for the built-in forecaster: planned start is the latest start")
                return self._plan(self.latest_start, used="no-data")
            series, used = self._built_in(), "forecaster"
        if spec.policy is Policy.AUTO:
            used = f"auto:{used}"
        start, expected, mean_now = best_start(series, self.now, self.latest_start, self.duration)
        return self._plan(start, used=used, series=series, means=(mean_now, expected))


def best_start(series: Series, earliest: float, latest: float, duration: float) -> tuple[float, float, float]:
    """The start in ``[earliest, latest]`` minimising the time-weighted mean over ``[start, start+duration)``.

    The mean is piecewise linear in the start, with breaks where the start or the end of the job crosses an
    interval boundary; so the candidates are ``earliest``, ``latest`` and every boundary ``b`` and ``b - duration``
    in between. Means are rounded to 1e-9 so float noise cannot break a tie; ties go to the earliest start.
    Windows without any data never win (NaN means: no data). Returns the start, its mean and the mean of starting
    at ``earliest``.
    """
    import numpy as np

    bounds = series.boundaries(earliest - duration, latest + duration)
    candidates = np.concatenate(([earliest, latest], bounds, bounds - duration))
    candidates = np.sort(candidates[(candidates >= earliest) & (candidates <= latest)])
    raw = series.window_means(candidates, candidates + duration)
    means = np.round(raw, _TIE_DECIMALS)
    means[np.isnan(means)] = np.inf
    best = int(np.argmin(means))
    if means[best] == np.inf:
        return latest, float("nan"), float(raw[0])
    return float(candidates[best]), float(raw[best]), float(raw[0])


def percentile(values: FloatArray, q: float) -> float:
    """The ``q``-th percentile with linear interpolation between order statistics (numpy's default method)."""
    import numpy as np

    ordered = np.sort(values)
    position = q / 100 * (len(ordered) - 1)
    below = int(position)
    above = min(below + 1, len(ordered) - 1)
    return float(ordered[below] + (ordered[above] - ordered[below]) * (position - below))


def choose_zone(plans: Mapping[str, Plan]) -> str:
    """The zone to run in: among zones whose plan says run now, the lowest expected mean wins.

    A plan without an expected mean counts with its current intensity (unknown counts as +inf). If no zone is
    ready, the one with the earliest planned start wins (then the lowest expected mean). Ties keep mapping order.
    """
    if not plans:
        raise ValueError("plans must name at least one zone")

    def cost(item: tuple[str, Plan]) -> tuple[float, float]:
        p = item[1]
        value = p.expected_mean if p.expected_mean is not None else p.intensity_now
        return (0.0 if p.run_now else p.start.timestamp(), float("inf") if value is None else value)

    return min(plans.items(), key=cost)[0]
