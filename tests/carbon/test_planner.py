"""The planner: forecast choice with partial intervals and ties, deadlines, thresholds, degraded data."""

from __future__ import annotations

import json
from datetime import timedelta

import numpy as np
import pytest

from airflow_carbon_provider.carbon.hysteresis import GridState
from airflow_carbon_provider.carbon.planner import plan
from airflow_carbon_provider.carbon.policy import PlanSpec, Policy
from airflow_carbon_provider.carbon.series import Series
from tests.carbon.planner_data import T0, at, hourly

H = timedelta(hours=1)
DAYS = 3 * 24


def forecast_spec(hours: float = 1, kind: str = "start", policy: str = "forecast") -> PlanSpec:
    return PlanSpec(policy=policy, duration=timedelta(hours=hours), deadline_kind=kind)  # type: ignore[arg-type]


def test_forecast_starts_at_the_cleanest_window_within_the_deadline():
    history = hourly([300.0] * 10)
    future = hourly([300, 250, 100, 120, 400, 50], start=at(10), forecast=True)
    p = plan(forecast_spec(2), now=at(10), deadline=at(14), history=history, forecast=future)
    assert p.start == at(12)
    assert p.expected_mean == pytest.approx(110)
    assert p.mean_if_now == pytest.approx(275)
    assert not p.run_now
    assert p.used == "source-forecast"
    assert not p.degraded


def test_partial_intervals_are_weighted_by_overlap():
    history = hourly([100.0] * 11)  # the 10:00 reading is still running at 10:30
    future = hourly([10, 100, 100], start=at(11), forecast=True)
    p = plan(forecast_spec(1), now=at(10.5), deadline=at(12.5), history=history, forecast=future)
    assert p.mean_if_now == pytest.approx(0.5 * 100 + 0.5 * 10)
    assert p.start == at(11)
    assert p.expected_mean == pytest.approx(10)


def test_a_start_where_the_job_end_meets_a_boundary_is_considered():
    # A 90-minute job at 10:15: any start in [10:30, 11:00] covers the clean hour plus 30 dirty minutes;
    # 10:30 is neither now nor an interval boundary, but its end meets the 12:00 boundary, and ties go earliest.
    history = hourly([500.0] * 11)
    future = hourly([10, 500, 500, 500], start=at(11), forecast=True)
    p = plan(forecast_spec(1.5), now=at(10.25), deadline=at(12), history=history, forecast=future)
    assert p.start == at(10.5)
    assert p.expected_mean == pytest.approx((0.5 * 500 + 10) / 1.5)


def test_ties_go_to_the_earliest_start():
    future = hourly([200, 100, 200, 100, 200], start=at(10), forecast=True)
    p = plan(forecast_spec(1), now=at(10), deadline=at(14), history=hourly([200.0] * 10), forecast=future)
    assert p.start == at(11)


def test_flat_forecast_starts_now():
    future = hourly([150.0] * 30, start=at(10), forecast=True)
    p = plan(forecast_spec(4), now=at(10), deadline=at(34), history=hourly([150.0] * 10), forecast=future)
    assert p.run_now
    assert p.start == at(10)


def test_finish_deadline_keeps_the_whole_job_before_the_deadline():
    future = hourly([300, 300, 300, 300, 10, 10], start=at(10), forecast=True)
    history = hourly([300.0] * 10)
    by_start = plan(forecast_spec(2, "start"), now=at(10), deadline=at(14), history=history, forecast=future)
    by_finish = plan(forecast_spec(2, "finish"), now=at(10), deadline=at(14), history=history, forecast=future)
    assert by_start.start == at(14)
    assert by_finish.start + timedelta(hours=2) <= at(14)
    assert by_finish.latest_start == at(12)


def test_deadline_already_reached_starts_now_and_says_the_deadline_forced_it():
    p = plan(forecast_spec(2, "finish"), now=at(10), deadline=at(11), history=hourly([300.0] * 10))
    assert p.run_now
    assert p.deadline_forced
    assert p.start == at(10)


def test_history_after_now_is_never_read():
    spec = PlanSpec(policy=Policy.AUTO, duration=timedelta(hours=3), deadline_kind="start")  # type: ignore[arg-type]
    values = [float(100 + 50 * np.sin(i / 24 * 2 * np.pi)) for i in range(DAYS)]
    known = hourly(values[:49])  # up to the reading that starts at now (48:00)
    tampered = hourly(values[:49] + [0.0] * (DAYS - 49))
    a = plan(spec, now=at(48), deadline=at(72), history=known)
    b = plan(spec, now=at(48), deadline=at(72), history=tampered)
    assert a == b


def test_a_reading_that_starts_at_now_is_known_at_now():
    """The boundary rule: a poll on the hour sees the reading of that hour (as a source's latest endpoint serves it);
    one second earlier it is still the future."""
    spec = PlanSpec(policy=Policy.THRESHOLD, threshold=200, duration=H)
    history = hourly([300.0] * 10 + [100.0])  # the 10:00 reading is clean
    on_the_hour = plan(spec, now=at(10), deadline=at(20), history=history)
    just_before = plan(spec, now=at(10) - timedelta(seconds=1), deadline=at(20), history=history)
    assert on_the_hour.intensity_now == 100
    assert on_the_hour.run_now
    assert just_before.intensity_now == 300
    assert not just_before.run_now


def test_auto_uses_a_covering_source_forecast():
    future = hourly([300, 50, 300, 300, 300], start=at(10), forecast=True)
    p = plan(
        forecast_spec(1, policy="auto"), now=at(10), deadline=at(14), history=hourly([300.0] * 10), forecast=future
    )
    assert p.used == "auto:source-forecast"
    assert p.start == at(11)


def test_auto_without_a_forecast_uses_the_built_in_forecaster():
    values = [300.0 if h % 24 < 12 else 100.0 for h in range(DAYS)]
    p = plan(forecast_spec(2, policy="auto"), now=at(48), deadline=at(72), history=hourly(values[:48]))
    assert p.used == "auto:forecaster"
    assert not p.degraded
    assert at(60) <= p.start <= at(70)  # the clean half of the day
    assert p.expected_mean == pytest.approx(100, abs=1)


def test_forecast_policy_with_a_short_forecast_is_degraded_and_falls_back_to_the_forecaster():
    future = hourly([300, 200], start=at(48), forecast=True)
    history = hourly([200.0] * 48)
    p = plan(forecast_spec(1), now=at(48), deadline=at(60), history=history, forecast=future)
    assert p.degraded
    assert p.used == "forecaster"
    assert any("covers 15% of the window" in note for note in p.notes)


def test_no_data_at_all_plans_the_latest_start_and_is_degraded():
    p = plan(forecast_spec(2, "finish"), now=at(10), deadline=at(20), history=[])
    assert p.degraded
    assert p.used == "no-data"
    assert p.start == at(18)
    assert not p.run_now
    assert p.intensity_now is None


def test_a_stale_latest_reading_is_flagged_and_not_used_for_a_threshold():
    spec = PlanSpec(policy=Policy.THRESHOLD, threshold=500, duration=H)
    p = plan(spec, now=at(15), deadline=at(30), history=hourly([100.0] * 10))
    assert p.degraded
    assert any("stale" in note for note in p.notes)
    assert not p.run_now
    assert p.intensity_now is None


def test_threshold_runs_now_below_the_threshold():
    spec = PlanSpec(policy=Policy.THRESHOLD, threshold=150, duration=H)
    p = plan(spec, now=at(10), deadline=at(30), history=hourly([200.0] * 9 + [140.0]))
    assert p.run_now
    assert p.threshold_value == 150
    assert p.intensity_now == 140


def test_threshold_waits_until_the_latest_start_above_the_threshold():
    spec = PlanSpec(policy=Policy.THRESHOLD, threshold=150, duration=2 * H)
    p = plan(spec, now=at(10), deadline=at(30), history=hourly([200.0] * 10))
    assert not p.run_now
    assert p.start == at(28)


def test_percentile_threshold_comes_from_the_recent_history_window():
    spec = PlanSpec(policy=Policy.THRESHOLD, threshold="p25", duration=H, history_window=timedelta(hours=8))
    values = [1000.0] * 20 + [float(v) for v in range(10, 90, 10)]  # only the last 8 hours count
    p = plan(spec, now=at(28), deadline=at(40), history=hourly(values))
    assert p.threshold_value == pytest.approx(np.percentile(values[-8:], 25))
    assert not p.run_now  # latest is 80, above p25 = 27.5


def test_hysteresis_opens_only_after_the_minimum_dwell_and_carries_the_gate():
    spec = PlanSpec(policy=Policy.HYSTERESIS, threshold=100, threshold_high=150, min_dwell=2 * H, duration=H)
    values = [200.0] * 10 + [90.0] * 5
    gate = None
    opened = []
    for hour in range(9, 15):
        p = plan(spec, now=at(hour + 1), deadline=at(40), history=hourly(values[: hour + 1]), gate_state=gate)
        gate = p.gate_state
        opened.append(p.run_now)
    assert opened == [False, False, False, True, True, True]
    assert gate is not None
    assert gate.state is GridState.CLEAN


def test_now_policy_starts_at_once():
    p = plan(PlanSpec(policy=Policy.NOW, duration=H), now=at(5), deadline=at(30), history=hourly([900.0] * 5))
    assert p.run_now
    assert p.start == at(5)


def test_plan_accepts_a_series_view_with_the_same_result_as_readings():
    values = [float(100 + (i * 37) % 90) for i in range(DAYS)]
    readings = hourly(values)
    spec = forecast_spec(4, policy="auto")
    from_readings = plan(spec, now=at(50), deadline=at(70), history=readings)
    from_series = plan(spec, now=at(50), deadline=at(70), history=Series.from_readings(readings))
    assert from_readings == from_series


def test_plan_serialises_to_json():
    future = hourly([300, 50, 300], start=at(10), forecast=True)
    p = plan(forecast_spec(1), now=at(10), deadline=at(12), history=hourly([300.0] * 10), forecast=future)
    data = json.loads(json.dumps(p.to_dict()))
    assert data["start"] == at(11).isoformat()
    assert data["policy"] == "forecast"
    assert data["used"] == "source-forecast"
    assert "history: 10 readings" in data["data"]
    assert "start " in p.describe()


def test_naive_now_is_rejected():
    with pytest.raises(ValueError, match="now must be timezone-aware"):
        plan(forecast_spec(), now=T0.replace(tzinfo=None), deadline=at(3), history=[])
