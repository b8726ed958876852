"""Properties of the planner on random series (hypothesis)."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from airflow_carbon_provider.carbon.planner import plan
from airflow_carbon_provider.carbon.policy import PlanSpec, Policy
from airflow_carbon_provider.carbon.series import Series
from tests.carbon.planner_data import at, hourly

values_st = st.lists(st.floats(min_value=0, max_value=800, allow_nan=False), min_size=60, max_size=90)
policies = st.sampled_from([Policy.NOW, Policy.THRESHOLD, Policy.HYSTERESIS, Policy.FORECAST, Policy.AUTO])


@settings(max_examples=60, deadline=None)
@given(
    values=values_st,
    policy=policies,
    duration_h=st.sampled_from([0.5, 1, 2.5, 4]),
    kind=st.sampled_from(["start", "finish"]),
    now_h=st.floats(min_value=30, max_value=40),
    slack_h=st.floats(min_value=0, max_value=20),
)
def test_start_is_always_between_now_and_the_latest_start(values, policy, duration_h, kind, now_h, slack_h):
    threshold = "p30" if policy in (Policy.THRESHOLD, Policy.HYSTERESIS) else None
    spec = PlanSpec(policy=policy, duration=timedelta(hours=duration_h), deadline_kind=kind, threshold=threshold)
    readings = hourly(values)
    p = plan(spec, now=at(now_h), deadline=at(now_h + slack_h), history=readings, forecast=readings)
    latest = at(now_h + slack_h) - (timedelta(hours=duration_h) if kind == "finish" else timedelta(0))
    assert at(now_h) <= p.start <= max(latest, at(now_h))
    assert p.run_now == (p.start == at(now_h))


@settings(max_examples=60, deadline=None)
@given(values=values_st, duration_h=st.sampled_from([1, 3, 8]), now_h=st.integers(min_value=24, max_value=40))
def test_forecast_plan_is_never_worse_than_now_under_its_own_forecast(values, duration_h, now_h):
    spec = PlanSpec(policy=Policy.FORECAST, duration=timedelta(hours=duration_h), deadline_kind="start")
    readings = hourly(values)
    p = plan(spec, now=at(now_h), deadline=at(now_h + 16), history=readings, forecast=readings)
    assert p.expected_mean is not None
    assert p.mean_if_now is not None
    assert p.expected_mean <= p.mean_if_now + 1e-9


@settings(max_examples=60, deadline=None)
@given(values=values_st, duration_h=st.sampled_from([1, 2, 5]), now_h=st.integers(min_value=24, max_value=40))
def test_planning_on_the_true_future_is_never_beaten_by_any_hourly_start(values, duration_h, now_h):
    spec = PlanSpec(policy=Policy.FORECAST, duration=timedelta(hours=duration_h), deadline_kind="start")
    series = Series.from_readings(hourly(values))
    slack = min(16, len(values) - now_h - duration_h)
    p = plan(spec, now=at(now_h), deadline=at(now_h + slack), history=series, forecast=series)
    brute = min(np.mean(values[s : s + duration_h]) for s in range(now_h, now_h + slack + 1))
    assert p.expected_mean is not None
    assert p.expected_mean <= brute + 1e-9
