"""A source that hangs (slow drip, or no answer at all) cannot hold a wait past its deadline plus one poll.

httpx's read timeout is per read: a server that drips one byte a second never trips a 10 s timeout, however long
the body. The trigger bounds each poll as a whole instead, and its deadline note still names the fault. The fake
serves inside the test's event loop, so its drip and its hang are virtual seconds, like the trigger's clock.
"""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import pytest

from airflow_carbon_provider.carbon.cache import PROCESS_CACHE
from airflow_carbon_provider.carbon.readings import parse_utc
from tests.fakes.carbon_apis import EM_TOKEN
from tests.fakes.http_server import FakeResponse
from tests.hardening.scenarios import start_wait

WAIT = timedelta(hours=1)
POLL = timedelta(minutes=15)
BUDGET = WAIT + POLL  # the first poll's bound: to the latest start, plus one poll
DRIP = FakeResponse(200, raw=b" " * int(2 * BUDGET.total_seconds()), drip=1.0)  # every read within 1 s, never done


def connect(monkeypatch, host: str, timeout: timedelta) -> None:
    extra = {"source": "electricitymaps", "zone": "DE", "timeout": timeout.total_seconds()}
    conn = {"conn_type": "carbon_intensity", "host": host, "password": EM_TOKEN, "extra": extra}
    monkeypatch.setenv("AIRFLOW_CONN_HANGING", json.dumps(conn))


async def wait_once(clock) -> tuple[dict, str]:
    trigger = start_wait("hanging", "DE", clock, wait=WAIT, poll=POLL, policy="threshold", threshold=1000)
    PROCESS_CACHE.clear()
    try:
        async with asyncio.timeout(timedelta(days=1).total_seconds()):  # a safety net only
            event = await anext(trigger.run())
    finally:
        PROCESS_CACHE.clear()
    return event.payload, trigger.deadline


@pytest.mark.asyncio
async def test_a_slow_drip_cannot_hold_the_wait_past_the_deadline_plus_one_poll(
    electricitymaps_api, loop_clock, monkeypatch
):
    connect(monkeypatch, electricitymaps_api.base_url, timeout=timedelta(seconds=10))
    electricitymaps_api.clock = loop_clock
    electricitymaps_api.server.script(*[DRIP] * 10, path=".*/latest")
    event, deadline = await wait_once(loop_clock)
    assert event["status"] == "deadline"
    assert loop_clock.now() <= parse_utc(deadline) + POLL
    assert any("no answer within" in note for note in event["payload"]["notes"])
    assert electricitymaps_api.server.count(".*/latest") == 1  # one dripping answer took the whole poll


@pytest.mark.asyncio
async def test_a_poll_that_hangs_at_the_deadline_still_names_the_fault_seen_before(
    electricitymaps_api, loop_clock, monkeypatch
):
    connect(monkeypatch, electricitymaps_api.base_url, timeout=2 * BUDGET)  # httpx would wait; the poll may not
    electricitymaps_api.clock = loop_clock
    electricitymaps_api.server.script(FakeResponse(401, {"message": "token revoked"}), path=".*/latest")
    electricitymaps_api.server.script(
        *[FakeResponse(200, {}, delay=1.5 * BUDGET.total_seconds())] * 5, path=".*/latest"
    )
    event, deadline = await wait_once(loop_clock)
    assert event["status"] == "deadline"
    assert loop_clock.now() <= parse_utc(deadline) + POLL
    notes = " | ".join(event["payload"]["notes"])
    assert "no answer within" in notes
    assert "before that: AuthenticationFailedError" in notes
    assert "token revoked" in notes
