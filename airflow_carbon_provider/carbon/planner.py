"""The planner: when should a job of a given duration start, before its deadline, to run on the cleanest power?

One implementation for the sensor, the trigger and the replay. Pure code: readings in, plans out. What a zone's
data say at a poll is an :class:`~airflow_carbon_provider.carbon.outlook.Outlook`, built once; :func:`verdicts`
plans any number of waits of one spec on it at O(log n) each (the replay and a triggerer decide many waits per
poll); :func:`plan` is the same for one job, with the :class:`Plan` that says what data it rested on and whether
that data was degraded. What to do about degraded data is the caller's choice. The planner never reads history
that starts after ``now`` (no look-ahead; a reading starting exactly at ``now`` is known: it is the latest).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import IntEnum
from typing import TYPE_CHECKING, Any

from airflow_carbon_provider.carbon.hysteresis import CLEAN, Gates, GateState, Hysteresis
from airflow_carbon_provider.carbon.outlook import BUILT_IN, SOURCE, Outlook
from airflow_carbon_provider.carbon.policy import PlanSpec, Policy
from airflow_carbon_provider.carbon.readings import as_utc
from airflow_carbon_provider.carbon.series import Series, from_epoch

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    import numpy as np
    import numpy.typing as npt

    from airflow_carbon_provider.carbon.readings import Reading
    from airflow_carbon_provider.carbon.series import FloatArray


class Case(IntEnum):
    """Why a wait got its plan (one code per branch of the planner)."""

    FORCED = 0  # the latest start is not after now: start now
    NO_DATA = 1  # neither history nor forecast: the latest start
    NOW = 2  # policy "now"
    GATE = 3  # threshold / hysteresis: now if green, else the latest start
    SOURCE = 4  # best start on the source's forecast
    BUILT_IN = 5  # best start on the built-in forecast
    NO_HISTORY = 6  # no covering source forecast and no history to forecast from: the latest start


_FORCED, _NO_DATA, _NOW, _GATE, _SOURCE, _BUILT_IN, _NO_HISTORY = (int(c) for c in Case)


@dataclass(frozen=True)
class Verdicts:
    """One zone's plans at one poll for many waits of one spec, as arrays indexed like the waits (epoch seconds;
    NaN means: unknown)."""

    now: float
    latest: FloatArray
    start: FloatArray
    expected: FloatArray
    mean_now: FloatArray
    case: npt.NDArray[np.int8]
    threshold: float | None
    gates: Gates | None
    run_now: npt.NDArray[np.bool_]
    forced: npt.NDArray[np.bool_]


def verdicts(outlook: Outlook, spec: PlanSpec, latest: FloatArray, gates: Gates | None = None) -> Verdicts:
    """Plan waits with latest starts ``latest`` (epoch s) on ``outlook``; ``gates``: their hysteresis gates."""
    import numpy as np

    now, duration = outlook.now, spec.duration.total_seconds()
    latest = np.asarray(latest, dtype=np.float64)
    n = len(latest)
    nan = np.full(n, np.nan)
    start, expected, mean_now, case = latest, nan, nan, np.full(n, _NO_DATA, dtype=np.int8)
    threshold: float | None = None
    stepped = gates
    if outlook.has_data:
        if spec.policy is Policy.NOW:
            start, case[:] = np.full(n, now), _NOW
        elif spec.policy in (Policy.THRESHOLD, Policy.HYSTERESIS):
            go, threshold, stepped = _gate(outlook, spec, gates, n)
            start, case[:] = np.where(go, now, latest), _GATE
            covered = outlook.source_covers(latest + duration)
            if covered.any():  # report what the source's forecast expects, if it covers the job
                series = outlook.source_series()
                mean_now, expected = nan.copy(), nan.copy()
                mean_now[covered] = series.window_means([now], [now + duration])[0]
                expected[covered] = series.window_means(start[covered], start[covered] + duration)
        else:
            start, expected, mean_now, case = _best(outlook, duration, latest, case)
    forced = latest <= now
    if forced.any():
        start, case = np.where(forced, now, start), np.where(forced, _FORCED, case).astype(np.int8)
        expected, mean_now = np.where(forced, np.nan, expected), np.where(forced, np.nan, mean_now)
        if stepped is not gates and stepped is not None:
            stepped = stepped.where(~forced, gates if gates is not None else Gates.none(n))
    start = np.minimum(np.maximum(start, now), np.maximum(latest, now))
    return Verdicts(now, latest, start, expected, mean_now, case, threshold, stepped, start <= now, forced)


def _best(outlook: Outlook, duration: float, latest: FloatArray, case: Any) -> tuple[Any, Any, Any, Any]:
    """Forecast-type policies: the best start on the source's forecast where it covers the job, else on the
    built-in forecast (none without history)."""
    import numpy as np

    covered = outlook.source_covers(latest + duration)
    parts = [(SOURCE, covered, _SOURCE), (BUILT_IN, ~covered, _BUILT_IN)]
    for kind, mask, code in parts:
        if mask.all() and (kind == SOURCE or len(outlook.history)):  # the common case: one series for all
            best, expected, now_mean = outlook.minima(kind, duration, float(latest.max()) + duration).best(latest)
            return best, expected, np.full(len(latest), now_mean), np.full(len(latest), code, dtype=np.int8)
    start, expected, mean_now = latest.copy(), np.full(len(latest), np.nan), np.full(len(latest), np.nan)
    for kind, mask, code in parts:
        if not mask.any():
            continue
        if kind == BUILT_IN and not len(outlook.history):
            case[mask] = _NO_HISTORY
            continue
        minima = outlook.minima(kind, duration, float(latest[mask].max()) + duration)
        start[mask], expected[mask], mean_now[mask] = minima.best(latest[mask])
        case[mask] = code
    return start, expected, mean_now, case


def _gate(outlook: Outlook, spec: PlanSpec, gates: Gates | None, n: int) -> tuple[Any, float | None, Gates | None]:
    """Threshold-type policies: is the grid green for each wait, the (low) threshold, and the stepped gates."""
    import numpy as np

    now_value = outlook.intensity_now
    if spec.policy is Policy.THRESHOLD:
        assert spec.threshold is not None
        value = outlook.threshold(spec.threshold)
        green = value is not None and now_value is not None and now_value < value
        return np.full(n, green), value, gates
    assert spec.low is not None
    assert spec.high is not None
    low, high = outlook.threshold(spec.low), outlook.threshold(spec.high)
    if low is None or high is None or now_value is None:
        unchanged = gates.state == CLEAN if gates is not None else np.zeros(n, dtype=bool)
        return unchanged, low, gates
    stepped = Hysteresis(low, max(low, high), spec.min_dwell).step_many(
        gates if gates is not None else Gates.none(n), now_value, outlook.now
    )
    return stepped.state == CLEAN, low, stepped


# --- one job: the plan with its reasons ------------------------------------------------------------------------


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

    ``history``: readings known at ``now`` (anything starting after ``now`` is ignored); ``forecast``: the
    source's forecast, possibly empty or not covering the window. Policy ``oracle`` plans like ``forecast`` (the
    replay feeds it the true future). ``gate_state`` carries the hysteresis gate from the previous plan. A
    :class:`~airflow_carbon_provider.carbon.series.Series` may be passed instead of readings.
    """
    outlook = Outlook(now=now, history=history, forecast=forecast, history_window=spec.history_window)
    return plan_on(outlook, spec, deadline=deadline, gate_state=gate_state)


def plan_on(outlook: Outlook, spec: PlanSpec, *, deadline: datetime, gate_state: GateState | None = None) -> Plan:
    """:func:`plan` on an outlook that may be shared with other waits."""
    import numpy as np

    latest = (as_utc(deadline, "deadline") - spec.latest_start_offset()).timestamp()
    gates = Gates.of([gate_state]) if spec.policy is Policy.HYSTERESIS else None
    return explain(outlook, spec, verdicts(outlook, spec, np.array([latest]), gates), 0, gate_state)


_USED = {Case.NO_DATA: "no-data", Case.NOW: "now", Case.SOURCE: "source-forecast", Case.BUILT_IN: "forecaster"}


def explain(outlook: Outlook, spec: PlanSpec, v: Verdicts, i: int, gate_state: GateState | None = None) -> Plan:
    """Wait ``i`` of ``v`` as a :class:`Plan`: the numbers plus what they rest on, in words."""
    case = Case(int(v.case[i]))
    start, latest = float(v.start[i]), float(v.latest[i])
    notes, degraded = list(outlook.notes), outlook.degraded
    series: Series | None = None
    used = spec.policy.value if case in (Case.FORCED, Case.GATE) else _USED.get(case, "no-data")

    def degrade(note: str) -> None:
        nonlocal degraded
        degraded = True
        notes.append(note)

    if case is Case.FORCED:
        notes.append("latest start is not after now: start now")
    elif case is Case.NO_DATA:
        degrade("no data at all: planned start is the latest start")
    elif case is Case.GATE:
        _gate_notes(outlook, spec, notes, degrade)
        if outlook.source_covers(latest + spec.duration.total_seconds()):
            series = outlook.source_series()
    elif case in (Case.BUILT_IN, Case.NO_HISTORY):
        if spec.policy is Policy.FORECAST or len(outlook.source_forecast):
            window_end = latest + spec.duration.total_seconds()
            covered = outlook.source_series().coverage(outlook.now, window_end)
            note = f"source forecast covers {covered:.0%} of the window; planned on the built-in forecaster"
            (notes.append if spec.policy is Policy.AUTO else degrade)(note)
        if case is Case.NO_HISTORY:
            degrade("no history for the built-in forecaster: planned start is the latest start")
        else:
            series = outlook.built_in(latest + spec.duration.total_seconds())
    else:
        series = outlook.source_series() if case is Case.SOURCE else None
    if spec.policy is Policy.AUTO and case in (Case.SOURCE, Case.BUILT_IN):
        used = f"auto:{used}"

    def number(value: float) -> float | None:
        return None if math.isnan(value) else value

    gate = v.gates.state_at(i, outlook.now_dt) if v.gates is not None else gate_state
    return Plan(
        start=outlook.now_dt if start == outlook.now else from_epoch(start),
        run_now=start <= outlook.now,
        expected_mean=number(float(v.expected[i])),
        intensity_now=outlook.intensity_now,
        mean_if_now=number(float(v.mean_now[i])),
        threshold_value=v.threshold if case is Case.GATE else None,
        policy=spec.policy,
        used=used,
        data=_data(outlook, series, used),
        degraded=degraded,
        notes=tuple(notes),
        deadline_forced=case is Case.FORCED,
        gate_state=gate if gate is not None else gate_state,
        latest_start=from_epoch(max(latest, outlook.now)),
    )


def _gate_notes(outlook: Outlook, spec: PlanSpec, notes: list[str], degrade: Any) -> None:
    """What a threshold-type plan rested on, in words."""
    thresholds = [spec.threshold] if spec.policy is Policy.THRESHOLD else [spec.low, spec.high]
    for threshold in thresholds:
        if threshold is not None and threshold.percentile and outlook.percentile_base_is_forecast:
            notes.append("percentile threshold taken from the forecast (no recent history)")
    values = [outlook.threshold(t) for t in thresholds if t is not None]
    if spec.policy is Policy.THRESHOLD:
        if values[0] is None:
            degrade("no data to resolve the percentile threshold")
        elif outlook.intensity_now is None:
            degrade("no current reading to compare with the threshold")
    elif None in values or outlook.intensity_now is None:
        degrade("no current reading or no data to resolve the thresholds: gate unchanged")


def _data(outlook: Outlook, series: Series | None, used: str) -> str:
    history = outlook.history
    parts = [f"history: {len(history)} readings"]
    if len(history):
        parts[0] += f" up to {from_epoch(history.last_end).isoformat()}"
    parts.append(f"source forecast: {len(outlook.source_forecast)} readings")
    if series is not None and len(series):
        parts.append(f"planned on {used} ({len(series)} intervals)")
    return "; ".join(parts)
