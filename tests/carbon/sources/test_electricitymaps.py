"""Electricity Maps v3 against the fake API: requests, shapes, nulls, plan and auth errors, caching."""

from __future__ import annotations

from datetime import timedelta

import pytest

from airflow_carbon_provider.carbon.errors import (
    AuthenticationFailedError,
    MalformedResponseError,
    PlanNotIncludedError,
    ZoneUnknownError,
)
from airflow_carbon_provider.carbon.readings import SignalKind
from airflow_carbon_provider.carbon.secret import Secret
from airflow_carbon_provider.carbon.sources.electricitymaps import ElectricityMapsSource
from tests.fakes.carbon_apis import EM_TOKEN, FAKE_NOW
from tests.fakes.http_server import FakeResponse


@pytest.fixture
def source(electricitymaps_api, fake_clock, cache, retry) -> ElectricityMapsSource:
    return ElectricityMapsSource(
        Secret(EM_TOKEN), base_url=electricitymaps_api.base_url, clock=fake_clock, cache=cache, retry=retry
    )


HOUR = FAKE_NOW.replace(minute=0, second=0)


@pytest.mark.asyncio
async def test_latest_sends_zone_token_and_disables_caller_lookup(source, electricitymaps_api):
    await source.latest("DE")
    (request,) = electricitymaps_api.server.matching("/v3/carbon-intensity/latest")
    assert request.headers["auth-token"] == EM_TOKEN
    assert request.param("zone") == "DE"
    assert request.param("disableCallerLookup") == "true"
    assert request.param("emissionFactorType") == "lifecycle"


@pytest.mark.asyncio
async def test_latest_is_the_current_hour_in_utc_flagged_as_estimated(source, electricitymaps_api):
    reading = await source.latest("DE")
    assert (reading.start, reading.end) == (HOUR, HOUR + timedelta(hours=1))
    assert reading.intensity == electricitymaps_api.value_at("DE", HOUR)
    assert reading.signal is SignalKind.AVERAGE
    assert reading.estimated
    assert not reading.forecast
    assert reading.source == "electricitymaps"


@pytest.mark.asyncio
async def test_latest_is_cached_until_max_age(source, electricitymaps_api, fake_clock):
    await source.latest("DE")
    fake_clock.advance(timedelta(minutes=4))
    await source.latest("DE")
    assert electricitymaps_api.server.count("/v3/carbon-intensity/latest") == 1
    fake_clock.advance(timedelta(minutes=2))
    await source.latest("DE")
    assert electricitymaps_api.server.count("/v3/carbon-intensity/latest") == 2


@pytest.mark.asyncio
async def test_cache_is_per_zone(source, electricitymaps_api):
    await source.latest("DE")
    await source.latest("FR")
    await source.latest("DE")
    assert electricitymaps_api.server.count("/v3/carbon-intensity/latest") == 2


@pytest.mark.asyncio
async def test_forecast_is_hourly_sorted_and_flagged(source, electricitymaps_api):
    forecast = await source.forecast("DE", timedelta(hours=6))
    assert [r.start for r in forecast] == [HOUR + timedelta(hours=i) for i in range(7)]  # overlapping [now, now+6h]
    assert all(r.forecast and r.duration == timedelta(hours=1) for r in forecast)
    assert electricitymaps_api.server.matching("/v3/carbon-intensity/forecast")[0].param("horizonHours") == "7"


@pytest.mark.asyncio
async def test_history_skips_null_points_and_flags_the_gap(source, electricitymaps_api):
    null_hour = HOUR - timedelta(hours=5)
    electricitymaps_api.null_history_hours = {null_hour.hour}
    history = await source.history("DE", HOUR - timedelta(hours=10), FAKE_NOW)
    starts = [r.start for r in history]
    assert null_hour not in starts
    assert len(starts) == 10
    before, after = (r for r in history if r.end == null_hour or r.start == null_hour + timedelta(hours=1))
    assert "gap-after" in before.flags
    assert "gap-before" in after.flags


@pytest.mark.asyncio
async def test_history_older_than_a_day_uses_past_range_in_ten_day_chunks(source, electricitymaps_api):
    start = HOUR - timedelta(days=15)
    history = await source.history("DE", start, start + timedelta(days=12))
    assert len(history) == 12 * 24
    ranges = electricitymaps_api.server.matching("/v3/carbon-intensity/past-range")
    assert [r.param("start") for r in ranges] == [
        start.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        (start + timedelta(days=10)).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
    ]


@pytest.mark.asyncio
async def test_rejected_token_is_an_authentication_error(electricitymaps_api, fake_clock, cache, retry):
    source = ElectricityMapsSource(Secret("wrong"), base_url=electricitymaps_api.base_url, cache=cache, retry=retry)
    with pytest.raises(AuthenticationFailedError, match="password field"):
        await source.latest("DE")
    assert electricitymaps_api.server.count() == 1  # no retry on 401


@pytest.mark.asyncio
async def test_unknown_zone_names_the_zone_and_where_to_find_valid_ones(source):
    with pytest.raises(ZoneUnknownError, match=r"'XX'.*/zones"):
        await source.latest("XX")


@pytest.mark.asyncio
async def test_endpoint_outside_the_plan_is_a_plan_error_not_an_auth_error(source, electricitymaps_api):
    electricitymaps_api.forecast_allowed = False
    with pytest.raises(PlanNotIncludedError, match="free tier"):
        await source.forecast("DE", timedelta(hours=24))


def test_a_token_is_required():
    with pytest.raises(ValueError, match="password"):
        ElectricityMapsSource(Secret(""))


@pytest.mark.asyncio
async def test_history_reaching_past_the_last_24_points_uses_past_range(source, electricitymaps_api):
    history = await source.history("DE", HOUR - timedelta(hours=24), HOUR)
    assert electricitymaps_api.server.count("/v3/carbon-intensity/history") == 0
    assert [r.start for r in history] == [HOUR - timedelta(hours=24 - i) for i in range(24)]


@pytest.mark.asyncio
async def test_history_within_the_last_24_points_uses_history(source, electricitymaps_api):
    await source.history("DE", HOUR - timedelta(hours=23), HOUR)
    assert electricitymaps_api.server.count("/v3/carbon-intensity/history") == 1
    assert electricitymaps_api.server.count("/v3/carbon-intensity/past-range") == 0


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "body",
    [
        {"zone": "DE", "carbonIntensity": "high", "datetime": "2024-03-06T19:00:00.000Z"},
        {"zone": "DE", "carbonIntensity": 300},
        {"zone": "DE", "carbonIntensity": 300, "datetime": "yesterday"},
        {"zone": "DE", "carbonIntensity": -5, "datetime": "2024-03-06T19:00:00.000Z"},
        ["not", "an", "object"],
    ],
)
async def test_bodies_without_the_documented_shape_are_malformed(source, electricitymaps_api, body):
    electricitymaps_api.server.script(FakeResponse(200, body))
    with pytest.raises(MalformedResponseError, match="latest"):
        await source.latest("DE")
