"""TtlCache: expiry on an injected clock, single-flight coalescing, failures never cached."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from airflow_carbon_provider.carbon.cache import TtlCache
from airflow_carbon_provider.carbon.secret import Secret
from airflow_carbon_provider.carbon.sources.electricitymaps import ElectricityMapsSource
from tests.fakes.carbon_apis import EM_TOKEN


def ttl(seconds: float):
    return lambda _value, _now: timedelta(seconds=seconds)


class Counter:
    def __init__(self, delay: float = 0.0, fail: bool = False) -> None:
        self.calls, self.delay, self.fail = 0, delay, fail

    async def __call__(self) -> int:
        self.calls += 1
        await asyncio.sleep(self.delay)
        if self.fail:
            raise RuntimeError("upstream broke")
        return self.calls


@pytest.mark.asyncio
async def test_value_is_reused_until_its_ttl_passes(cache, fake_clock):
    fetch = Counter()
    assert await cache.get_or_fetch(("k",), fetch, ttl(60)) == 1
    fake_clock.advance(timedelta(seconds=59))
    assert await cache.get_or_fetch(("k",), fetch, ttl(60)) == 1
    fake_clock.advance(timedelta(seconds=1))
    assert await cache.get_or_fetch(("k",), fetch, ttl(60)) == 2


@pytest.mark.asyncio
async def test_concurrent_identical_requests_share_one_fetch(cache):
    fetch = Counter(delay=0.05)
    results = await asyncio.gather(*(cache.get_or_fetch(("k",), fetch, ttl(60)) for _ in range(50)))
    assert results == [1] * 50
    assert fetch.calls == 1


@pytest.mark.asyncio
async def test_failures_reach_every_waiter_and_are_not_cached(cache):
    failing = Counter(delay=0.02, fail=True)
    results = await asyncio.gather(
        *(cache.get_or_fetch(("k",), failing, ttl(60)) for _ in range(5)), return_exceptions=True
    )
    assert all(isinstance(r, RuntimeError) for r in results)
    assert failing.calls == 1
    assert await cache.get_or_fetch(("k",), Counter(), ttl(60)) == 1


@pytest.mark.asyncio
async def test_a_cancelled_waiter_does_not_cancel_the_shared_fetch(cache):
    fetch = Counter(delay=0.05)
    first = asyncio.ensure_future(cache.get_or_fetch(("k",), fetch, ttl(60)))
    second = asyncio.ensure_future(cache.get_or_fetch(("k",), fetch, ttl(60)))
    await asyncio.sleep(0.01)
    first.cancel()
    assert await second == 1
    assert fetch.calls == 1


@pytest.mark.asyncio
async def test_zero_ttl_is_not_stored(cache):
    fetch = Counter()
    await cache.get_or_fetch(("k",), fetch, ttl(0))
    await cache.get_or_fetch(("k",), fetch, ttl(0))
    assert fetch.calls == 2


@pytest.mark.asyncio
async def test_entries_are_bounded(fake_clock):
    small = TtlCache(clock=fake_clock, max_entries=3)
    for i in range(10):
        await small.get_or_fetch((i,), Counter(), ttl(60 + i))
    assert len(small) == 3


@pytest.mark.asyncio
async def test_a_thousand_concurrent_waits_make_one_request_per_zone(electricitymaps_api, fake_clock, cache):
    electricitymaps_api.latency = 0.1
    zones = ["DE", "FR", "SE-SE3", "US-CAL-CISO"]
    sources = [
        ElectricityMapsSource(Secret(EM_TOKEN), base_url=electricitymaps_api.base_url, clock=fake_clock, cache=cache)
        for _ in range(10)  # one hook per task: separate client objects share the process cache
    ]
    readings = await asyncio.gather(*(sources[i % 10].latest(zones[i % len(zones)]) for i in range(1000)))
    assert {r.zone for r in readings} == set(zones)
    assert electricitymaps_api.server.count("/v3/carbon-intensity/latest") == len(zones)


@pytest.mark.asyncio
async def test_different_credentials_do_not_share_entries(electricitymaps_api, cache):
    electricitymaps_api.token = "other-token"
    good = ElectricityMapsSource(Secret("other-token"), base_url=electricitymaps_api.base_url, cache=cache)
    bad = ElectricityMapsSource(Secret(EM_TOKEN), base_url=electricitymaps_api.base_url, cache=cache)
    await good.latest("DE")
    with pytest.raises(Exception, match="token was rejected"):
        await bad.latest("DE")


def test_cache_keys_hold_a_fingerprint_never_the_token(electricitymaps_api):
    source = ElectricityMapsSource(Secret(EM_TOKEN), base_url=electricitymaps_api.base_url)
    key = source._key("latest", "DE", {"zone": "DE"})
    assert EM_TOKEN not in repr(key)
    assert Secret(EM_TOKEN).fingerprint() in key


@pytest.mark.asyncio
async def test_entries_expire_on_the_sources_own_clock(electricitymaps_api, fake_clock):
    shared = TtlCache()  # wall-clock cache, as in production; the source runs on a manual clock
    source = ElectricityMapsSource(
        Secret(EM_TOKEN), base_url=electricitymaps_api.base_url, clock=fake_clock, cache=shared
    )
    await source.latest("DE")
    fake_clock.advance(timedelta(minutes=6))
    await source.latest("DE")
    assert electricitymaps_api.server.count("/v3/carbon-intensity/latest") == 2
