from datetime import UTC, datetime, timedelta

import pytest

from airflow_carbon_provider.carbon.policy import PlanSpec
from airflow_carbon_provider.carbon.readings import Reading
from airflow_carbon_provider.carbon.waiting import OnDeadline, Status, ZoneData, decide, needs, wait_payload

NOW = datetime(2023, 6, 1, 12, 30, tzinfo=UTC)
HOUR = timedelta(hours=1)
THRESHOLD = PlanSpec(policy="threshold", threshold=200)  # type: ignore[arg-type]


def current(zone: str, value: float) -> ZoneData:
    start = NOW.replace(minute=0)
    return ZoneData(latest=Reading(zone, start, start + HOUR, value))


def test_needs_only_the_latest_reading_for_an_absolute_threshold() -> None:
    need = needs(THRESHOLD, has_forecast=True)
    assert (need.forecast, need.history) == (False, None)


def test_auto_needs_the_forecast_when_the_source_has_one_else_history() -> None:
    assert needs(PlanSpec(), has_forecast=True).forecast
    assert needs(PlanSpec(), has_forecast=False).history == PlanSpec().history_window


def test_percentile_thresholds_need_history() -> None:
    spec = PlanSpec(policy="threshold", threshold="p25")  # type: ignore[arg-type]
    assert needs(spec, has_forecast=False).history == spec.history_window


def test_starts_in_the_cleanest_ready_zone() -> None:
    data = {"DE": current("DE", 150), "FR": current("FR", 40), "PL": current("PL", 700)}
    decision = decide(THRESHOLD, now=NOW, deadline=NOW + 6 * HOUR, data=data, poll_interval=HOUR)
    assert (decision.status, decision.zone) == (Status.START, "FR")


def test_waits_until_the_next_poll_when_nothing_is_green() -> None:
    decision = decide(THRESHOLD, now=NOW, deadline=NOW + 6 * HOUR, data={"PL": current("PL", 700)}, poll_interval=HOUR)
    assert (decision.status, decision.next_check) == (Status.WAIT, NOW + HOUR)


def test_while_waiting_the_best_zone_is_the_one_that_plans_the_earliest_then_cleanest_start() -> None:
    spec = PlanSpec(policy="forecast", duration=HOUR)  # type: ignore[arg-type]
    start = NOW.replace(minute=0)

    def planned(zone: str, values: list[float]) -> ZoneData:
        forecast = [
            Reading(zone, start + i * HOUR, start + (i + 1) * HOUR, v, forecast=True) for i, v in enumerate(values)
        ]
        return ZoneData(latest=Reading(zone, start, start + HOUR, values[0]), forecast=forecast)

    data = {"DE": planned("DE", [300, 300, 300, 100, 300, 300]), "FR": planned("FR", [300, 300, 90, 300, 300, 300])}
    decision = decide(spec, now=NOW, deadline=NOW + 4 * HOUR, data=data, poll_interval=HOUR)
    assert (decision.status, decision.zone, decision.best_zone) == (Status.WAIT, None, "FR")
    assert decision.plans["FR"].start == start + 2 * HOUR


def test_the_next_check_is_never_after_the_latest_start() -> None:
    spec = PlanSpec(policy="threshold", threshold=200, duration=HOUR)  # type: ignore[arg-type]
    decision = decide(
        spec, now=NOW, deadline=NOW + 90 * timedelta(minutes=1), data={"PL": current("PL", 700)}, poll_interval=HOUR
    )
    assert decision.next_check == NOW + timedelta(minutes=30)


def test_reaching_the_latest_start_is_a_deadline_decision() -> None:
    decision = decide(THRESHOLD, now=NOW, deadline=NOW, data={"PL": current("PL", 700)}, poll_interval=HOUR)
    assert (decision.status, decision.zone) == (Status.DEADLINE, "PL")


def test_a_source_fault_is_kept_and_the_wait_goes_on() -> None:
    data = {"DE": ZoneData(error="SourceUnavailableError: 503")}
    decision = decide(THRESHOLD, now=NOW, deadline=NOW + 6 * HOUR, data=data, poll_interval=HOUR)
    assert (decision.status, decision.faults) == (Status.WAIT, {"DE": "SourceUnavailableError: 503"})


def test_deadline_without_data_is_forced_degraded_and_names_the_fault() -> None:
    data = {"DE": ZoneData(error="SourceUnavailableError: 503")}
    decision = decide(THRESHOLD, now=NOW, deadline=NOW, data=data, poll_interval=HOUR)
    payload = wait_payload(
        decision, spec=THRESHOLD, release=NOW - HOUR, deadline=NOW, source="x", intensity_at_release=None
    )
    assert payload["deadline_forced"]
    assert payload["degraded"]
    assert payload["zone"] is None
    assert "DE: SourceUnavailableError: 503" in payload["notes"]
    assert "deadline reached without usable data" in payload["notes"]


def test_payload_reports_the_start_and_the_wait() -> None:
    decision = decide(THRESHOLD, now=NOW, deadline=NOW + 6 * HOUR, data={"FR": current("FR", 40)}, poll_interval=HOUR)
    payload = wait_payload(
        decision,
        spec=THRESHOLD,
        release=NOW - 2 * HOUR,
        deadline=NOW + 6 * HOUR,
        source="replay",
        intensity_at_release=300.0,
    )
    assert payload["start"] == NOW.isoformat()
    assert payload["waited_seconds"] == 7200
    assert (payload["intensity_at_start"], payload["intensity_at_release"]) == (40, 300.0)
    assert payload["deadline_forced"] is False


def test_on_deadline_names_the_allowed_values() -> None:
    with pytest.raises(ValueError, match="on_deadline must be one of 'run', 'skip', 'fail'"):
        OnDeadline.parse("later")
