"""The non-deferrable sensor (poke mode) under a persistent fault: it keeps waiting, never raises the fault, and
at the deadline applies run/skip/fail with a message naming the fault, as the deferred path does."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

from airflow_carbon_provider.sensors.carbon_intensity import CarbonIntensitySensor
from tests.fakes.carbon_apis import EM_TOKEN
from tests.fakes.http_server import FakeResponse

DEADLINE = timedelta(hours=1)


@pytest.fixture
def broken_api(electricitymaps_api, monkeypatch):
    """Electricity Maps answering malformed JSON (not retried, so each poke is quick) for the whole test."""
    electricitymaps_api.server.script(*[FakeResponse(200, raw=b"{")] * 50, path=".*/latest")
    conn = {"conn_type": "carbon_intensity", "host": electricitymaps_api.base_url, "password": EM_TOKEN}
    monkeypatch.setenv("AIRFLOW_CONN_CARBON_POKE", json.dumps({**conn, "extra": {"source": "electricitymaps"}}))
    return electricitymaps_api


def poking_sensor(on_deadline: str, clock) -> CarbonIntensitySensor:
    return CarbonIntensitySensor(
        task_id="wait",
        carbon_conn_id="carbon_poke",
        zone="DE",
        policy="threshold",
        threshold=1000,
        duration=timedelta(seconds=1),
        deadline=DEADLINE,
        deadline_kind="start",
        on_deadline=on_deadline,
        deferrable=False,
        clock=clock,  # the fake API's: the test moves time, nothing sleeps
    )


def poke_past_the_deadline(sensor: CarbonIntensitySensor, clock):
    assert sensor.poke({}).is_done is False  # the fault is waited on, not raised
    clock.advance(DEADLINE + timedelta(seconds=1))
    return sensor.poke({})


def test_poke_mode_at_the_deadline_with_run_starts_and_flags_the_fault(broken_api, fake_clock):
    done = poke_past_the_deadline(poking_sensor("run", fake_clock), fake_clock)
    assert done.is_done is True
    payload = done.xcom_value
    assert payload["deadline_forced"] is True
    assert payload["degraded"] is True
    assert any("MalformedResponseError" in note and "not JSON" in note for note in payload["notes"])


@pytest.mark.parametrize(("on_deadline", "raised"), [("skip", AirflowSkipException), ("fail", AirflowFailException)])
def test_poke_mode_at_the_deadline_skips_or_fails_naming_the_fault(broken_api, fake_clock, on_deadline, raised):
    with pytest.raises(raised, match=rf"on_deadline='{on_deadline}'.*MalformedResponseError.*not JSON"):
        poke_past_the_deadline(poking_sensor(on_deadline, fake_clock), fake_clock)
