"""The live state of a carbon wait: what the trigger decided at its last poll, as a versioned JSON snapshot.

The trigger publishes it as the XCom ``carbon_wait_state`` of its own task instance (see
``triggers/wait_state.py``), so the Carbon views explain a wait without calling the carbon API themselves, and
a restarted triggerer can read back where a wait stood. Pure code: a :class:`~.waiting.Decision` and what the
poll fetched in, a JSON-safe dict out. Never a secret in it: zones, times, intensities and the source's name.

Schema ``airflow_carbon_provider.wait_state/v1`` (times ISO-8601 UTC, intensities gCO₂e/kWh)::

    kind             "airflow_carbon_provider.wait_state/v1"
    status           "wait" | "start" | "deadline"       what the poll decided
    decided_at       grid-clock time of the first poll that reached this content (later polls that decided
                     the same thing do not rewrite it)
    clock            {"wall": ISO time of that poll on the real clock, "speed": grid seconds per real second}
                     so a view can move "now" on while the snapshot stands (speed 1 except for replays)
    next_check       when the trigger polls next, as of ``decided_at``
    release, deadline, latest_start     the wait's bounds; ``latest_start`` = deadline - duration for
                     ``deadline_kind="finish"``
    deadline_kind    "finish" | "start";  on_deadline  "run" | "skip" | "fail" (what happens at the deadline)
    policy, threshold, threshold_high, duration_seconds    the plan spec in force
    source           the data source's name ("replay", "electricitymaps", ...)
    zone             the zone the job starts in (status start/deadline), else null
    best_zone        the zone that currently plans the earliest/cleanest start (null without data)
    planned_start    best_zone's planned start (null without data)
    why              one plain sentence: why it waits, or why it starts
    zones            one entry per watched zone, in the sensor's order:
        zone, signal ("average" | "marginal" | null), intensity_now, reading_start, reading_end (the latest
        measured interval), planned_start, run_now, planned_mean, mean_if_now, threshold_value, used, data,
        degraded, notes[], error (the source's fault this poll, or null),
        series[] {start, end, intensity, forecast}: measured history from 6 h before the release and the
        source's forecast up to the end of the latest window, at most MAX_POINTS points
    faults           {zone: fault} for zones whose source failed this poll
    interruptible    reserved for interruptible jobs' chunks (issue 16); null until then
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from airflow_carbon_provider.carbon.waiting import Status, latest_start

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from airflow_carbon_provider.carbon.planner import Plan
    from airflow_carbon_provider.carbon.policy import PlanSpec
    from airflow_carbon_provider.carbon.readings import Reading
    from airflow_carbon_provider.carbon.waiting import Decision, ZoneData

WAIT_STATE_KIND = "airflow_carbon_provider.wait_state/v1"
WAIT_STATE_KEY = "carbon_wait_state"
HISTORY_BEFORE_RELEASE = timedelta(hours=6)
MAX_POINTS = 192
UNIT = "gCO₂e/kWh"
MINUS = "\u2212"  # the typographic minus sign, as in "-41 %" printed properly
# Fields that move at every poll without the decision changing; left out of the content fingerprint.
_VOLATILE = ("decided_at", "clock", "next_check")


def build_wait_state(
    decision: Decision,
    *,
    spec: PlanSpec,
    release: datetime,
    deadline: datetime,
    on_deadline: str,
    source: str,
    data: Mapping[str, ZoneData],
    wall_time: datetime,
    speed: float,
) -> dict[str, Any]:
    """The snapshot of one poll (schema in the module docstring)."""
    last_start = latest_start(spec, deadline)
    window_end = last_start + spec.duration
    best = decision.best_zone
    zones = [
        _zone_entry(zone, decision.plans.get(zone), zone_data, release - HISTORY_BEFORE_RELEASE, window_end)
        for zone, zone_data in data.items()
    ]
    return {
        "kind": WAIT_STATE_KIND,
        "status": decision.status.value,
        "decided_at": decision.now.isoformat(),
        "clock": {"wall": wall_time.isoformat(), "speed": speed},
        "next_check": decision.next_check.isoformat(),
        "release": release.isoformat(),
        "deadline": deadline.isoformat(),
        "latest_start": last_start.isoformat(),
        "deadline_kind": spec.deadline_kind.value,
        "on_deadline": on_deadline,
        "policy": spec.policy.value,
        "threshold": spec.threshold.to_json() if spec.threshold else None,
        "threshold_high": spec.threshold_high.to_json() if spec.threshold_high else None,
        "duration_seconds": spec.duration.total_seconds(),
        "source": source,
        "zone": decision.zone,
        "best_zone": best,
        "planned_start": decision.plans[best].start.isoformat() if best else None,
        "why": why(decision, best, last_start, on_deadline),
        "zones": zones,
        "faults": dict(decision.faults),
        "interruptible": None,
    }


def fingerprint(snapshot: Mapping[str, Any]) -> str:
    """Digest of what a snapshot says, without the fields that move at every poll: equal means "unchanged"."""
    content = {key: value for key, value in snapshot.items() if key not in _VOLATILE}
    return hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()


def why(decision: Decision, best: str | None, last_start: datetime, on_deadline: str) -> str:
    """The plain sentence the views and the log show, e.g. "Waiting for the forecast low at 14:00 ..."."""
    now = decision.now
    if decision.status is Status.START:
        chosen = decision.plans[decision.zone] if decision.zone else None
        where = f" in {decision.zone}" if len(decision.plans) > 1 and decision.zone else ""
        return f"Starting now{where}: {_green_reason(chosen)}." if chosen else "Starting now."
    if decision.status is Status.DEADLINE:
        return f"Latest start reached at {_when(last_start, now)} before a green window: on_deadline={on_deadline}."
    deadline_part = f"latest start {_when(last_start, now)}, then on_deadline={on_deadline}"
    if best is None:
        faults = "; ".join(f"{zone}: {fault}" for zone, fault in decision.faults.items()) or "no readings yet"
        return f"Waiting for data ({faults}); {deadline_part}."
    plan = decision.plans[best]
    where = f" in {best}" if len(decision.plans) > 1 else ""
    return f"Waiting for {_target(plan, now)}{where}; {deadline_part}."


def _target(plan: Plan, now: datetime) -> str:
    at = _when(plan.start, now)
    if plan.threshold_value is not None:
        current = "" if plan.intensity_now is None else f", now {plan.intensity_now:.0f}"
        verb = "to fall below" if plan.used == "threshold" else "to close its gate below"
        return f"the grid {verb} {plan.threshold_value:.0f} {UNIT}{current} (planned start {at})"
    if plan.used.endswith("no-data"):
        return f"usable data (planned start {at}, the latest start)"
    what = "the forecast low" if "source-forecast" in plan.used else "the predicted low"
    if plan.expected_mean is None:
        return f"{what} at {at}"
    change = ""
    if plan.mean_if_now:
        change = f", {_signed_percent(plan.expected_mean / plan.mean_if_now - 1)} vs starting now"
    return f"{what} at {at} ({plan.expected_mean:.0f} {UNIT}{change})"


def _green_reason(plan: Plan) -> str:
    if plan.threshold_value is not None and plan.intensity_now is not None:
        return f"{plan.intensity_now:.0f} {UNIT} is below {plan.threshold_value:.0f}"
    if plan.expected_mean is not None:
        return f"the cleanest window before the deadline begins now ({plan.expected_mean:.0f} {UNIT})"
    return "the plan says now"


def _signed_percent(ratio: float) -> str:
    return f"{MINUS if ratio < 0 else '+'}{abs(ratio) * 100:.0f} %"


def _when(moment: datetime, now: datetime) -> str:
    """HH:MM UTC, with the date when it is not today's."""
    clock = moment.strftime("%H:%M UTC")
    return clock if moment.date() == now.date() else f"{moment.strftime('%a %d %b')} {clock}"


def _zone_entry(
    zone: str, plan: Plan | None, zone_data: ZoneData, series_start: datetime, series_end: datetime
) -> dict[str, Any]:
    latest = zone_data.latest
    readings = [*zone_data.known(), *(r for r in zone_data.forecast if latest is None or r.start >= latest.end)]
    return {
        "zone": zone,
        "signal": latest.signal.value if latest else None,
        "intensity_now": plan.intensity_now if plan else None,
        "reading_start": latest.start.isoformat() if latest else None,
        "reading_end": latest.end.isoformat() if latest else None,
        "planned_start": plan.start.isoformat() if plan else None,
        "run_now": plan.run_now if plan else False,
        "planned_mean": plan.expected_mean if plan else None,
        "mean_if_now": plan.mean_if_now if plan else None,
        "threshold_value": plan.threshold_value if plan else None,
        "used": plan.used if plan else None,
        "data": plan.data if plan else None,
        "degraded": plan.degraded if plan else zone_data.error is not None,
        "notes": list(plan.notes) if plan else [],
        "error": zone_data.error,
        "series": compact_series(readings, series_start, series_end),
    }


def compact_series(readings: Sequence[Reading], start: datetime, end: datetime) -> list[dict[str, Any]]:
    """The readings overlapping ``[start, end)`` as chart points: equal neighbours merged, at most MAX_POINTS.

    Past MAX_POINTS, neighbours are merged pairwise into their time-weighted mean (forecast if either was),
    so a week of 5-minute data still draws the same curve in a few kilobytes.
    """
    points = [
        [r.start, r.end, round(r.intensity, 1), r.forecast]
        for r in sorted(readings, key=lambda r: r.start)
        if r.end > start and r.start < end
    ]
    merged: list[list[Any]] = []
    for point in points:
        previous = merged[-1] if merged else None
        if previous and previous[1] == point[0] and previous[2] == point[2] and previous[3] == point[3]:
            previous[1] = point[1]
        else:
            merged.append(point)
    while len(merged) > MAX_POINTS:
        merged = [_merge(merged[i : i + 2]) for i in range(0, len(merged), 2)]
    return [
        {"start": s.isoformat(), "end": e.isoformat(), "intensity": value, "forecast": forecast}
        for s, e, value, forecast in merged
    ]


def _merge(pair: list[list[Any]]) -> list[Any]:
    if len(pair) == 1:
        return pair[0]
    (s1, e1, v1, f1), (s2, e2, v2, f2) = pair
    w1, w2 = (e1 - s1).total_seconds(), (e2 - s2).total_seconds()
    return [s1, e2, round((v1 * w1 + v2 * w2) / (w1 + w2), 1), f1 or f2]
