"""One outlook per zone and poll, shared by many waits: the same plans and decisions as one wait at a time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from airflow_carbon_provider.carbon.hysteresis import Gates, GateState, GridState, Hysteresis
from airflow_carbon_provider.carbon.outlook import Outlook
from airflow_carbon_provider.carbon.planner import plan, verdicts
from airflow_carbon_provider.carbon.policy import PlanSpec, Policy
from airflow_carbon_provider.carbon.waiting import ZoneData, decide, decide_many
from tests.carbon.planner_data import at, hourly

H = timedelta(hours=1)


def values_of(seed: int, n: int) -> list[float]:
    rng = np.random.default_rng(seed)
    return [float(v) for v in 200 + 100 * np.sin(np.arange(n) / 24 * 2 * np.pi) + rng.normal(0, 40, n)]


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    policy=st.sampled_from([Policy.FORECAST, Policy.AUTO, Policy.THRESHOLD]),
    with_forecast=st.booleans(),
    hours=st.sampled_from([0.25, 1, 2.5, 8]),
    now_h=st.floats(min_value=48, max_value=60),
)
def test_waits_sharing_one_outlook_get_the_plans_each_would_get_alone(seed, policy, with_forecast, hours, now_h):
    values = values_of(seed, 24 * 5)
    history = hourly(values[:61])
    forecast = hourly(values[48:100], start=at(48), forecast=True)[int(now_h) - 48 : 40] if with_forecast else []
    spec = PlanSpec(
        policy=policy,
        duration=timedelta(hours=hours),
        deadline_kind="start",  # type: ignore[arg-type]
        threshold="p30" if policy is Policy.THRESHOLD else None,
    )
    now = at(now_h)
    latest = np.sort(np.round(now.timestamp() + 3600 * np.random.default_rng(seed).uniform(-1, 38, 25)))
    shared = verdicts(Outlook(now=now, history=history, forecast=forecast, horizon=now + 2 * H), spec, latest)
    for i, last in enumerate(latest.tolist()):
        alone = plan(spec, now=now, deadline=datetime.fromtimestamp(last, UTC), history=history, forecast=forecast)
        assert shared.start[i] == alone.start.timestamp()
        assert shared.run_now[i] == alone.run_now
        expected = float(shared.expected[i])
        assert (None if expected != expected else expected) == alone.expected_mean


def test_decide_many_decides_each_wait_as_decide_does_across_zones():
    values = values_of(3, 24 * 4)
    zones = {
        "A": ZoneData(latest=hourly(values[60:61], start=at(60))[0], history=hourly(values[:61])),
        "B": ZoneData(
            latest=hourly([v * 0.8 for v in values[60:61]], start=at(60))[0],
            history=hourly([v * 0.8 + 20 * np.sin(i) for i, v in enumerate(values[:61])]),
        ),
        "C": ZoneData(error="SourceUnavailableError: 503"),
    }
    spec = PlanSpec(policy=Policy.AUTO, duration=2 * H)
    now = at(60.5)
    deadlines = [now + timedelta(hours=h) for h in (0, 1, 3, 7, 12, 20, 30)]
    outlooks = {
        z: Outlook(now=now, history=d.known(), history_window=spec.history_window) for z, d in zones.items() if d.latest
    }
    latest = np.array([(d - spec.latest_start_offset()).timestamp() for d in deadlines])
    many = decide_many(spec, now=now, latest=latest, outlooks=outlooks, poll_interval=H)
    statuses = set()
    for i, deadline in enumerate(deadlines):
        one = decide(spec, now=now, deadline=deadline, data=zones, poll_interval=H)
        assert int(many.status[i]) == {"wait": 0, "start": 1, "deadline": 2}[one.status.value]
        assert (many.zones[int(many.zone[i])] if many.zone[i] >= 0 else None) == one.zone
        assert many.next_check[i] == pytest.approx(one.next_check.timestamp())
        statuses.add(one.status.value)
    assert statuses == {"wait", "start", "deadline"} or len(statuses) >= 2


def test_a_shared_outlook_is_refused_for_another_history_window():
    data = {"A": ZoneData(latest=hourly([100.0], start=at(10))[0], history=hourly([100.0] * 11))}
    outlooks = {"A": Outlook(now=at(10.5), history=data["A"].known(), history_window=timedelta(days=2))}
    with pytest.raises(ValueError, match="history_window"):
        decide(PlanSpec(), now=at(10.5), deadline=at(20), data=data, poll_interval=H, outlooks=outlooks)


def test_many_gates_step_as_each_gate_alone():
    gate = Hysteresis(100, 150, min_dwell=timedelta(minutes=30))
    states = [
        None,
        GateState(GridState.DIRTY, at(0)),
        GateState(GridState.DIRTY, at(0), pending_since=at(9.6)),
        GateState(GridState.CLEAN, at(1)),
        GateState(GridState.CLEAN, at(1), pending_since=at(9.9)),
    ]
    for value in (50, 120, 170):
        stepped = gate.step_many(Gates.of(states), value, at(10).timestamp())
        for i, state in enumerate(states):
            assert stepped.state_at(i, at(10)) == gate.step(state, value, at(10))
