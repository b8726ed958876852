"""CarbonIntensityTrigger.run() in asyncio against the fake Electricity Maps API, on virtual time.

The fake's values are base + 10 x hour-of-day (DE: 300 at 00:00 ... 530 at 23:00); "now" starts at 19:42 UTC.
The trigger, the fake (served in the test's loop) and the grid clock share the loop's virtual time, so hours of
waiting take milliseconds and the same polls happen however busy the machine is.
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta

import pytest

from airflow_carbon_provider.carbon.policy import PlanSpec
from airflow_carbon_provider.carbon.readings import parse_utc
from airflow_carbon_provider.triggers.carbon_intensity import CarbonIntensityTrigger
from tests.fakes.carbon_apis import EM_TOKEN, FAKE_NOW, FakeElectricityMaps
from tests.fakes.http_server import FakeResponse

SAFETY_NET = timedelta(days=3)  # virtual; every wait here ends by its deadline (12 h at most)
MIDNIGHT = (FAKE_NOW + timedelta(days=1)).replace(hour=0, minute=0, second=0)


@pytest.fixture
def connected(electricitymaps_api: FakeElectricityMaps, monkeypatch) -> FakeElectricityMaps:
    """The fake API and a connection to it (the secret in the connection, never in the trigger)."""
    conn = {
        "conn_type": "carbon_intensity",
        "host": electricitymaps_api.base_url,
        "password": EM_TOKEN,
        "extra": {"source": "electricitymaps", "zone": "DE"},
    }
    monkeypatch.setenv("AIRFLOW_CONN_CARBON_EM", json.dumps(conn))
    return electricitymaps_api


@pytest.fixture
def grid(connected: FakeElectricityMaps, loop_clock) -> FakeElectricityMaps:
    """The connected fake on the loop's clock, answering in 0.1 s as a real API does (so a poll never decides at
    the very instant a reading starts)."""
    connected.clock = loop_clock
    connected.latency = 0.1
    return connected


def make_trigger(
    grid: FakeElectricityMaps,
    *,
    zones: tuple[str, ...] = ("DE",),
    deadline: timedelta = timedelta(hours=12),
    poll: timedelta = timedelta(hours=1),
    **spec: object,
) -> CarbonIntensityTrigger:
    now = grid.clock.now()
    return CarbonIntensityTrigger(
        carbon_conn_id="carbon_em",
        zones=list(zones),
        spec=PlanSpec(**spec).to_dict(),  # type: ignore[arg-type]
        release=now.isoformat(),
        deadline=(now + deadline).isoformat(),
        poll_interval=poll.total_seconds(),
        clock=grid.clock,
    )


async def first_event(trigger: CarbonIntensityTrigger) -> dict:
    async with asyncio.timeout(SAFETY_NET.total_seconds()):
        event = await anext(trigger.run())
    return event.payload


def started_at(event: dict) -> datetime:
    return parse_utc(event["payload"]["start"])


@pytest.mark.asyncio
async def test_fires_at_once_when_already_green(grid):
    event = await first_event(make_trigger(grid, policy="threshold", threshold=1000))
    assert event["status"] == "start"
    assert event["payload"]["zone"] == "DE"
    assert event["payload"]["waited_seconds"] < 3600


@pytest.mark.asyncio
async def test_fires_after_several_polls_when_the_grid_turns_green(grid):
    event = await first_event(make_trigger(grid, policy="threshold", threshold=305))
    assert event["status"] == "start"
    assert MIDNIGHT <= started_at(event) < MIDNIGHT + timedelta(hours=1)
    assert event["payload"]["intensity_at_start"] == 300
    assert grid.server.count(".*/latest") >= 4


@pytest.mark.asyncio
async def test_forecast_policy_starts_at_the_planned_time(grid):
    event = await first_event(make_trigger(grid, policy="forecast", duration=timedelta(hours=2)))
    assert event["status"] == "start"
    assert MIDNIGHT <= started_at(event) < MIDNIGHT + timedelta(minutes=30)
    assert event["payload"]["planned_mean"] == pytest.approx(305, abs=5)


@pytest.mark.asyncio
async def test_a_better_forecast_mid_wait_moves_the_start_earlier(grid):
    trigger = make_trigger(grid, policy="forecast", duration=timedelta(hours=1), poll=timedelta(minutes=30))
    task = asyncio.create_task(first_event(trigger))
    while grid.server.count(".*/forecast") < 1:
        await asyncio.sleep(0.01)
    base_value_at = grid.value_at
    grid.value_at = lambda zone, start: 50.0 if start.hour == 22 else base_value_at(zone, start)  # type: ignore[method-assign]
    event = await task
    assert started_at(event).hour == 22
    assert event["payload"]["intensity_at_start"] == 50


@pytest.mark.asyncio
async def test_a_data_outage_is_waited_out_and_the_wait_resumes(grid):
    grid.server.script(*[FakeResponse(503, {"error": "upstream down"})] * 4, path=".*/latest")
    event = await first_event(make_trigger(grid, policy="threshold", threshold=1000))
    assert event["status"] == "start"
    assert grid.server.count(".*/latest") >= 5


@pytest.mark.asyncio
@pytest.mark.parametrize("status", [500, 401])
async def test_an_outage_until_the_deadline_fires_a_deadline_event_naming_the_fault(grid, status):
    grid.server.script(*[FakeResponse(status, {"error": "down"})] * 1000, path=".*/latest")
    trigger = make_trigger(grid, policy="threshold", threshold=1000, deadline=timedelta(hours=3))
    event = await first_event(trigger)
    assert event["status"] == "deadline"
    payload = event["payload"]
    assert payload["deadline_forced"] is True
    assert payload["degraded"] is True
    assert any("DE:" in note for note in payload["notes"])
    assert parse_utc(payload["start"]) <= parse_utc(trigger.deadline) + timedelta(hours=1)


@pytest.mark.asyncio
async def test_several_zones_start_in_the_cleanest(grid):
    event = await first_event(make_trigger(grid, zones=("DE", "FR", "US-CAL-CISO"), policy="threshold", threshold=1000))
    assert event["payload"]["zone"] == "FR"
    assert set(event["payload"]["zones"]) == {"DE", "FR", "US-CAL-CISO"}


@pytest.mark.asyncio
async def test_a_thousand_waits_on_ten_zones_make_one_request_per_zone_and_poll(grid):
    zones = [f"Z{i}" for i in range(10)]
    grid.bases.update(dict.fromkeys(zones, 600.0))
    triggers = [make_trigger(grid, zones=(zones[i % 10],), policy="threshold", threshold=100) for i in range(1000)]
    began = grid.clock.now()
    tasks = [asyncio.create_task(first_event(t)) for t in triggers]
    # Let every zone be polled, then a few more hours of grid time pass.
    async with asyncio.timeout(SAFETY_NET.total_seconds()):
        while grid.server.count(".*/latest") < len(zones):
            await asyncio.sleep(0.1)
    await asyncio.sleep(timedelta(hours=3).total_seconds())
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    # Polls are hourly and 'latest' is hourly data: one request per zone and hour started, however many waits.
    hours = (grid.clock.now() - began) // timedelta(hours=1) + 2
    assert len(zones) <= grid.server.count(".*/latest") <= len(zones) * hours


def test_serialized_kwargs_are_json_and_hold_no_secret(connected):
    trigger = make_trigger(connected, policy="threshold", threshold=200)
    classpath, kwargs = trigger.serialize()
    text = json.dumps(kwargs)
    assert classpath == "airflow_carbon_provider.triggers.carbon_intensity.CarbonIntensityTrigger"
    assert EM_TOKEN not in text
    assert "clock" not in kwargs
    assert CarbonIntensityTrigger(**json.loads(text)).serialize() == (classpath, kwargs)
