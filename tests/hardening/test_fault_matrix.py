"""Every guarantee of the carbon wait, asserted for every scripted fault of every source (see MATRIX.md).

A persistent outage must end in a deadline event that names the fault; untrustworthy data must be flagged in the
XCom; quirks the sources absorb must not disturb a normal start; nothing may escape into the triggerer, and the
number of requests stays bounded however the service misbehaves. MATRIX.md tabulates these checks
(tests/hardening/matrix.py, `make matrix`).
"""

from __future__ import annotations

import re

import pytest
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

from airflow_carbon_provider.carbon.readings import parse_utc
from airflow_carbon_provider.sensors.carbon_intensity import CarbonIntensitySensor
from tests.hardening.scenarios import ATTEMPTS, CASES, MAX_POLLS, POLL, Expect, Fault, Outcome, run

CASE_IDS = [f"{source}-{fault.name}" for source, fault in CASES]
matrix = pytest.mark.parametrize(("source", "fault"), CASES, ids=CASE_IDS)


def event_of(outcome: Outcome) -> dict:
    assert outcome.error is None, f"the trigger raised {outcome.error!r}"
    assert len(outcome.events) == 1
    return outcome.events[0]


@matrix
def test_never_raises_into_the_triggerer(source: str, fault: Fault) -> None:
    event = event_of(run(source, fault.name))
    assert event["status"] in ("start", "deadline")


@matrix
def test_fires_by_the_deadline_plus_one_poll(source: str, fault: Fault) -> None:
    outcome = run(source, fault.name)
    event = event_of(outcome)
    assert outcome.ended <= outcome.deadline + POLL
    assert outcome.release <= parse_utc(event["payload"]["start"]) <= outcome.deadline + POLL


@matrix
@pytest.mark.parametrize("on_deadline", ["run", "skip", "fail"])
def test_the_configured_deadline_outcome_is_applied_and_names_the_fault(
    source: str, fault: Fault, on_deadline: str
) -> None:
    event = event_of(run(source, fault.name))
    sensor = CarbonIntensitySensor(task_id="wait", on_deadline=on_deadline)
    if event["status"] == "start" or on_deadline == "run":
        assert sensor.execute_complete({}, event) == event["payload"]
        return
    expected = AirflowSkipException if on_deadline == "skip" else AirflowFailException
    with pytest.raises(expected, match=f"on_deadline='{on_deadline}'") as raised:
        sensor.execute_complete({}, event)
    assert re.search(fault.marker, str(raised.value))


@matrix
def test_bad_data_is_flagged_never_used_silently(source: str, fault: Fault) -> None:
    payload = event_of(run(source, fault.name))["payload"]
    notes = " | ".join(payload["notes"])
    if fault.expect is Expect.BENIGN:
        assert payload["deadline_forced"] is False
        assert payload["degraded"] is False, notes
        return
    assert payload["degraded"] is True
    assert re.search(fault.marker, notes), notes
    if fault.expect is Expect.OUTAGE:
        assert payload["deadline_forced"] is True
        assert payload["intensity_at_start"] is None  # nothing from the faulty answer is reported as a reading


@matrix
def test_requests_stay_bounded(source: str, fault: Fault) -> None:
    outcome = run(source, fault.name)
    event_of(outcome)
    per_poll = ATTEMPTS * (2 if source == "watttime" else 1)  # WattTime logs in again once per 401/403
    assert outcome.requests <= per_poll * MAX_POLLS
    assert outcome.logins <= MAX_POLLS + 1
