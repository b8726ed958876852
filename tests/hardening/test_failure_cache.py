"""Transient failures are remembered briefly, so N waits retrying on their own schedules do not multiply requests.

A 429 storm or an outage seen by a hundred waiting triggers must cost the service what it costs for one wait:
one shared attempt per zone and failure window, the window doubling with each consecutive failure (30 s up to
5 min), and forgotten on the first success.
"""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import pytest

from airflow_carbon_provider.carbon.cache import FAILURE_TTL, FAILURE_TTL_MAX, PROCESS_CACHE, TtlCache
from airflow_carbon_provider.carbon.errors import MalformedResponseError, RateLimitedError, SourceUnavailableError
from tests.fakes.carbon_apis import EM_TOKEN
from tests.fakes.http_server import FakeResponse
from tests.hardening.scenarios import ATTEMPTS, start_wait


class Flaky:
    """A fetch that raises ``error`` until ``healed``; counts its calls."""

    def __init__(self, error: Exception) -> None:
        self.error, self.calls, self.healed = error, 0, False

    async def __call__(self) -> str:
        self.calls += 1
        if not self.healed:
            raise self.error
        return "fresh"


@pytest.fixture
def cache(fake_clock):
    return TtlCache(clock=fake_clock)


def ttl(_value: object, _now: object) -> timedelta:
    return timedelta(minutes=5)


async def attempt(cache: TtlCache, fetch: Flaky) -> object:
    try:
        return await cache.get_or_fetch(("zone",), fetch, ttl)
    except Exception as exc:
        return exc


@pytest.mark.asyncio
@pytest.mark.parametrize("error", [RateLimitedError("em", "429"), SourceUnavailableError("em", "HTTP 503")])
async def test_a_transient_failure_is_served_from_the_cache_for_its_window(cache, fake_clock, error):
    fetch = Flaky(error)
    assert await attempt(cache, fetch) is error
    fake_clock.advance(FAILURE_TTL - timedelta(seconds=1))
    assert await attempt(cache, fetch) is error
    assert fetch.calls == 1
    fake_clock.advance(timedelta(seconds=1))
    await attempt(cache, fetch)
    assert fetch.calls == 2


@pytest.mark.asyncio
async def test_the_failure_window_doubles_with_each_consecutive_failure_up_to_its_cap(cache, fake_clock):
    fetch = Flaky(RateLimitedError("em", "429"))
    await attempt(cache, fetch)
    for window in [FAILURE_TTL * 2**i for i in range(4)] + [FAILURE_TTL_MAX, FAILURE_TTL_MAX]:
        calls = fetch.calls
        fake_clock.advance(window - timedelta(seconds=1))
        await attempt(cache, fetch)
        assert fetch.calls == calls, f"asked again before the {window} window ended"
        fake_clock.advance(timedelta(seconds=1))
        await attempt(cache, fetch)
        assert fetch.calls == calls + 1


@pytest.mark.asyncio
async def test_the_first_success_ends_the_failure_streak(cache, fake_clock):
    fetch = Flaky(SourceUnavailableError("em", "HTTP 503"))
    for _ in range(3):
        await attempt(cache, fetch)
        fake_clock.advance(FAILURE_TTL_MAX)
    fetch.healed = True
    assert await attempt(cache, fetch) == "fresh"
    fake_clock.advance(timedelta(minutes=5))
    fetch.healed = False
    await attempt(cache, fetch)
    fake_clock.advance(FAILURE_TTL)
    calls = fetch.calls
    await attempt(cache, fetch)
    assert fetch.calls == calls + 1  # back to the first, 30 s window


@pytest.mark.asyncio
async def test_answers_that_retrying_cannot_fix_are_not_cached(cache):
    fetch = Flaky(MalformedResponseError("em", "not JSON"))
    await attempt(cache, fetch)
    await attempt(cache, fetch)
    assert fetch.calls == 2


@pytest.mark.asyncio
async def test_a_zero_failure_ttl_turns_failure_caching_off(fake_clock):
    cache = TtlCache(clock=fake_clock, failure_ttl=timedelta(0), failure_ttl_max=timedelta(0))
    fetch = Flaky(RateLimitedError("em", "429"))
    await attempt(cache, fetch)
    await attempt(cache, fetch)
    assert fetch.calls == 2


def test_failure_windows_are_validated():
    with pytest.raises(ValueError, match="failure_ttl <= failure_ttl_max"):
        TtlCache(failure_ttl=timedelta(minutes=10), failure_ttl_max=timedelta(minutes=5))


WAITS = 100
WAIT = timedelta(minutes=10)
POLL = timedelta(minutes=5)
STAGGER = timedelta(seconds=1.2)  # the waits start spread over 2 min: they do not poll in step


@pytest.mark.asyncio
async def test_a_429_storm_costs_a_hundred_staggered_waits_what_it_costs_one(
    electricitymaps_api, loop_clock, monkeypatch
):
    clock = electricitymaps_api.clock = loop_clock
    conn = {"conn_type": "carbon_intensity", "host": electricitymaps_api.base_url, "password": EM_TOKEN}
    monkeypatch.setenv("AIRFLOW_CONN_STORM", json.dumps({**conn, "extra": {"source": "electricitymaps"}}))
    electricitymaps_api.server.script(FakeResponse(429, headers={"Retry-After": "1"}), path=".*/latest")
    electricitymaps_api.server.script(*[FakeResponse(429)] * 5000, path=".*/latest")
    PROCESS_CACHE.clear()

    async def wait(index: int) -> dict:
        await asyncio.sleep(index * STAGGER.total_seconds())
        trigger = start_wait("storm", "DE", clock, wait=WAIT, poll=POLL, policy="threshold", threshold=1000)
        return (await anext(trigger.run())).payload

    began = clock.now()
    try:
        async with asyncio.timeout(timedelta(days=1).total_seconds()):  # a safety net only
            events = await asyncio.gather(*(wait(i) for i in range(WAITS)))
    finally:
        PROCESS_CACHE.clear()
    assert all(event["status"] == "deadline" for event in events)
    assert all("rate limited" in " ".join(event["payload"]["notes"]) for event in events)
    # One wait alone: windows of 30 s, 1, 2, 4 min, then one per 5 min over the whole span, each one attempt
    # of ATTEMPTS requests (the shipped retry policy). A hundred waits must not cost more.
    span = clock.now() - began
    windows = 4 + span // FAILURE_TTL_MAX + 1
    assert electricitymaps_api.server.count(".*/latest") <= ATTEMPTS * windows
