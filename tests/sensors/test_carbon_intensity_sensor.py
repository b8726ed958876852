"""CarbonIntensitySensor: parse-time validation, the fast path, deferral, deadline outcomes and poke mode.

Runs against the replay source on the bundled Spanish 2023 data, replayed from 2023-10-12 05:00 UTC
(333 g/kWh, a clean solar window around midday) at one hour of grid time per wall second, on a wall clock that
stands still: what the sensor computes does not depend on how fast the machine runs the test.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException, TaskDeferred

from airflow_carbon_provider.carbon.clock import ManualClock, ScaledClock
from airflow_carbon_provider.sensors.carbon_intensity import CarbonIntensitySensor
from airflow_carbon_provider.triggers.carbon_intensity import CarbonIntensityTrigger

REPLAY_START = datetime(2023, 10, 12, 5, tzinfo=UTC)
WALL = datetime(2026, 1, 1, tzinfo=UTC)


class RuntimeTI:
    """The one task-instance fact the sensor reads: its first reschedule (reschedule mode)."""

    def get_first_reschedule_date(self, context):
        return None


@pytest.fixture
def replay(monkeypatch) -> ScaledClock:
    """A replay connection for ES, and the clock it replays on: what replay_start/replay_speed 3600 build, but
    against a wall clock that stands still (the sensor's ``clock``), 0.1 s (6 grid minutes) after the replay
    started: a poll exactly at an interval's start does not count that interval as known yet."""
    extra = {"source": "replay", "zone": "ES"}
    monkeypatch.setenv(
        "AIRFLOW_CONN_CARBON_INTENSITY_DEFAULT", json.dumps({"conn_type": "carbon_intensity", "extra": extra})
    )
    return ScaledClock(
        REPLAY_START, wall_origin=WALL.timestamp(), speed=3600, _wall=ManualClock(WALL + timedelta(seconds=0.1))
    )


def context() -> dict:
    return {"ti": RuntimeTI()}


def sensor(**kwargs) -> CarbonIntensitySensor:
    return CarbonIntensitySensor(task_id="wait_for_green_window", **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"policy": "greenest"}, "policy must be one of 'now', 'threshold'"),
        ({"policy": "threshold"}, "threshold is required for policy 'threshold'"),
        ({"policy": "threshold", "threshold": -5}, "threshold must be a number >= 0"),
        ({"policy": "hysteresis", "threshold": 200, "threshold_high": 100}, "threshold_high .* must be >= threshold"),
        ({"deadline": timedelta(hours=-1)}, "deadline must be a positive timedelta"),
        ({"deadline": timedelta(hours=2), "duration": timedelta(hours=4)}, "shorter than duration"),
        ({"deadline": datetime(2020, 1, 1, tzinfo=UTC)}, "it is in the past"),
        ({"deadline": datetime(2030, 1, 1)}, "timezone-aware"),
        ({"on_deadline": "panic"}, "on_deadline must be one of 'run', 'skip', 'fail'"),
        ({"zone": []}, "zone must be a non-empty list"),
        ({"zone": ""}, "zone must be a non-empty zone name"),
        ({"poll_interval": timedelta(0)}, "poll_interval must be a positive timedelta"),
        ({"policy": "oracle"}, "only in `airflow-carbon replay`"),
        ({"deadline_kind": "whenever"}, "deadline_kind must be one of 'start', 'finish'"),
    ],
)
def test_bad_arguments_fail_when_the_dag_is_parsed(kwargs, message):
    with pytest.raises(ValueError, match=message):
        sensor(**kwargs)


def test_returns_at_once_without_deferring_when_already_green(replay):
    result = sensor(policy="threshold", threshold=400, clock=replay).execute(context())
    assert result["kind"] == "airflow_carbon_provider.wait/v1"
    assert result["zone"] == "ES"
    assert result["deadline_forced"] is False
    assert result["waited_seconds"] < 3600
    assert result["intensity_at_start"] == 333.32  # ES_2023.csv, 2023-10-12T05:00:00Z


def test_defers_to_the_trigger_when_the_plan_says_wait(replay):
    with pytest.raises(TaskDeferred) as deferred:
        sensor(policy="forecast", duration=timedelta(hours=4), deadline=timedelta(hours=24), clock=replay).execute(
            context()
        )
    trigger = deferred.value.trigger
    assert isinstance(trigger, CarbonIntensityTrigger)
    assert deferred.value.method_name == "execute_complete"
    _, kwargs = trigger.serialize()
    assert kwargs["zones"] == ["ES"]
    assert kwargs["spec"]["policy"] == "forecast"
    json.dumps(kwargs)


def test_the_trigger_timeout_is_a_safety_net_past_the_deadline(replay):
    with pytest.raises(TaskDeferred) as deferred:
        sensor(policy="forecast", deadline=timedelta(hours=24), poll_interval=timedelta(hours=1), clock=replay).execute(
            context()
        )
    # 23 h to the latest start at 3600x is 23 s; plus two polls (2 s) and a minute of slack.
    assert deferred.value.timeout == timedelta(seconds=23 + 2 + 60)


DEADLINE_EVENT = {
    "status": "deadline",
    "payload": {"kind": "airflow_carbon_provider.wait/v1", "zone": "ES", "notes": ["ES: SourceUnavailableError: down"]},
}


def test_deadline_with_run_starts_the_job_anyway():
    assert sensor(on_deadline="run").execute_complete(context(), DEADLINE_EVENT)["zone"] == "ES"


def test_deadline_with_skip_skips_and_names_the_fault():
    with pytest.raises(AirflowSkipException, match="SourceUnavailableError: down"):
        sensor(on_deadline="skip").execute_complete(context(), DEADLINE_EVENT)


def test_deadline_with_fail_fails_without_retry_and_names_the_fault():
    with pytest.raises(AirflowFailException, match="SourceUnavailableError: down"):
        sensor(on_deadline="fail").execute_complete(context(), DEADLINE_EVENT)


def test_an_unexpected_event_fails_clearly():
    with pytest.raises(AirflowFailException, match="unexpected event"):
        sensor().execute_complete(context(), {"status": "error"})


def test_poke_mode_uses_the_same_planner_and_returns_the_payload(replay):
    waiting = sensor(policy="threshold", threshold=400, deferrable=False, clock=replay)
    result = waiting.poke(context())
    assert result.is_done
    assert result.xcom_value["zone"] == "ES"


def test_poke_mode_keeps_waiting_while_dirty(replay):
    assert not sensor(policy="threshold", threshold=50, deferrable=False, clock=replay).poke(context()).is_done
