"""The live wait-state snapshot: what one poll decided, as the views read it (schema v1)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from airflow_carbon_provider.carbon.policy import PlanSpec
from airflow_carbon_provider.carbon.readings import Reading
from airflow_carbon_provider.carbon.wait_state import (
    MAX_POINTS,
    WAIT_STATE_KIND,
    build_wait_state,
    compact_series,
    fingerprint,
)
from airflow_carbon_provider.carbon.waiting import Decision, ZoneData, decide

NOW = datetime(2023, 6, 1, 12, 30, tzinfo=UTC)
HOUR = timedelta(hours=1)
RELEASE = NOW - HOUR
FORECAST = PlanSpec(policy="forecast", duration=HOUR)  # type: ignore[arg-type]


def reading(start: datetime, value: float, *, forecast: bool = False, zone: str = "ES") -> Reading:
    return Reading(zone, start, start + HOUR, value, forecast=forecast, source="replay")


def zone_data(values_ahead: list[float], now_value: float = 300.0) -> ZoneData:
    """Three hours of history at ``now_value``, then a forecast of ``values_ahead`` padded with 300 to 14 h."""
    hour = NOW.replace(minute=0)
    values_ahead = values_ahead + [300.0] * (14 - len(values_ahead)) if values_ahead else []
    history = [reading(hour - h * HOUR, now_value) for h in range(3, 0, -1)]
    forecast = [reading(hour + (i + 1) * HOUR, v, forecast=True) for i, v in enumerate(values_ahead)]
    return ZoneData(latest=reading(hour, now_value), history=history, forecast=forecast)


def snapshot(decision: Decision, data: dict[str, ZoneData], spec: PlanSpec = FORECAST) -> dict:
    return build_wait_state(
        decision,
        spec=spec,
        release=RELEASE,
        deadline=NOW + 12 * HOUR,
        on_deadline="run",
        source="replay",
        data=data,
        wall_time=datetime(2026, 1, 1, tzinfo=UTC),
        speed=600.0,
    )


def poll(data: dict[str, ZoneData], spec: PlanSpec = FORECAST, now: datetime = NOW) -> Decision:
    return decide(spec, now=now, deadline=NOW + 12 * HOUR, data=data, poll_interval=timedelta(minutes=15))


def test_a_waiting_poll_names_the_planned_start_and_why() -> None:
    data = {"ES": zone_data([300, 250, 180, 300, 300])}
    state = snapshot(poll(data), data)

    assert state["kind"] == WAIT_STATE_KIND
    assert state["status"] == "wait"
    assert state["planned_start"] == "2023-06-01T15:00:00+00:00"
    assert state["zones"][0]["planned_start"] == state["planned_start"]
    assert state["why"] == (
        "Waiting for the forecast low at 15:00 UTC (180 gCO₂e/kWh, \u221240 % vs starting now); "
        "latest start 23:30 UTC, then on_deadline=run."
    )


def test_the_snapshot_carries_the_bounds_the_spec_and_the_clock_for_the_view() -> None:
    data = {"ES": zone_data([200])}
    state = snapshot(poll(data), data)

    assert (state["release"], state["deadline"]) == (RELEASE.isoformat(), (NOW + 12 * HOUR).isoformat())
    assert state["latest_start"] == (NOW + 11 * HOUR).isoformat()
    assert (state["deadline_kind"], state["on_deadline"], state["policy"]) == ("finish", "run", "forecast")
    assert state["clock"] == {"wall": "2026-01-01T00:00:00+00:00", "speed": 600.0}
    assert state["zones"][0]["signal"] == "average"
    assert state["zones"][0]["reading_start"] == NOW.replace(minute=0).isoformat()
    json.dumps(state)  # JSON-safe as it stands


def test_a_threshold_wait_says_what_it_waits_for() -> None:
    spec = PlanSpec(policy="threshold", threshold=250)  # type: ignore[arg-type]
    data = {"ES": zone_data([], now_value=320)}
    state = snapshot(poll(data, spec), data, spec)

    assert state["threshold"] == 250
    assert state["why"].startswith("Waiting for the grid to fall below 250 gCO₂e/kWh, now 320")


def test_a_start_decision_names_the_zone_among_several() -> None:
    spec = PlanSpec(policy="threshold", threshold=250)  # type: ignore[arg-type]
    data = {"PL": zone_data([], now_value=600), "NO": zone_data([], now_value=30)}
    state = snapshot(poll(data, spec), data, spec)

    assert (state["status"], state["zone"]) == ("start", "NO")
    assert state["why"] == "Starting now in NO: 30 gCO₂e/kWh is below 250."


def test_a_failing_zone_is_kept_with_its_fault() -> None:
    data = {"ES": ZoneData(error="SourceUnavailableError: 503")}
    state = snapshot(poll(data), data)

    assert state["faults"] == {"ES": "SourceUnavailableError: 503"}
    assert state["zones"][0]["error"] == "SourceUnavailableError: 503"
    assert state["planned_start"] is None
    assert state["why"].startswith("Waiting for data (ES: SourceUnavailableError: 503)")


def test_dates_appear_when_the_start_is_not_today() -> None:
    spec = PlanSpec(policy="threshold", threshold=250)  # type: ignore[arg-type]
    data = {"ES": zone_data([], now_value=320)}
    decision = decide(spec, now=NOW, deadline=NOW + 30 * HOUR, data=data, poll_interval=HOUR)

    assert "(planned start Fri 02 Jun 17:30 UTC)" in snapshot(decision, data, spec)["why"]


def test_the_fingerprint_ignores_what_moves_at_every_poll() -> None:
    data = {"ES": zone_data([300, 180])}
    first = snapshot(poll(data), data)
    later = snapshot(poll(data, now=NOW + timedelta(minutes=5)), data)

    assert later["decided_at"] != first["decided_at"]
    assert fingerprint(later) == fingerprint(first)


def test_the_fingerprint_changes_with_the_forecast() -> None:
    data, changed = {"ES": zone_data([300, 180])}, {"ES": zone_data([300, 120])}

    assert fingerprint(snapshot(poll(data), data)) != fingerprint(snapshot(poll(changed), changed))


def test_compact_series_merges_equal_neighbours() -> None:
    readings = [reading(NOW + h * HOUR, 100) for h in range(4)] + [reading(NOW + 4 * HOUR, 90)]

    points = compact_series(readings, NOW, NOW + 10 * HOUR)

    assert [(p["start"], p["end"], p["intensity"]) for p in points] == [
        (NOW.isoformat(), (NOW + 4 * HOUR).isoformat(), 100),
        ((NOW + 4 * HOUR).isoformat(), (NOW + 5 * HOUR).isoformat(), 90),
    ]


def test_compact_series_keeps_at_most_max_points_with_time_weighted_means() -> None:
    five_minutes = timedelta(minutes=5)
    readings = [
        Reading("ES", NOW + i * five_minutes, NOW + (i + 1) * five_minutes, 100 + i % 2 * 10) for i in range(2000)
    ]

    points = compact_series(readings, NOW, NOW + 2000 * five_minutes)

    assert len(points) <= MAX_POINTS
    assert points[0]["start"] == NOW.isoformat()
    assert points[-1]["end"] == (NOW + 2000 * five_minutes).isoformat()
    assert {p["intensity"] for p in points} == {105.0}
