"""GSF Carbon Aware SDK WebAPI against the fake: emissions, forecast, durations, problem-details errors."""

from __future__ import annotations

from datetime import timedelta

import pytest

from airflow_carbon_provider.carbon.errors import AuthenticationFailedError, PlanNotIncludedError, ZoneUnknownError
from airflow_carbon_provider.carbon.readings import SignalKind
from airflow_carbon_provider.carbon.secret import Secret
from airflow_carbon_provider.carbon.sources.carbon_aware_sdk import CarbonAwareSdkSource
from tests.fakes.carbon_apis import FAKE_NOW
from tests.fakes.http_server import FakeResponse

HOUR = FAKE_NOW.replace(minute=0, second=0)


@pytest.fixture
def source(carbon_aware_sdk_api, fake_clock, cache, retry) -> CarbonAwareSdkSource:
    return CarbonAwareSdkSource(base_url=carbon_aware_sdk_api.url, clock=fake_clock, cache=cache, retry=retry)


@pytest.mark.asyncio
async def test_latest_is_the_point_covering_now_with_timespan_duration(source, carbon_aware_sdk_api):
    reading = await source.latest("eastus")
    assert (reading.start, reading.end) == (HOUR, HOUR + timedelta(hours=1))
    assert reading.intensity == carbon_aware_sdk_api.value_at("eastus", HOUR)
    assert reading.zone == "eastus"
    assert reading.signal is SignalKind.MARGINAL
    request = carbon_aware_sdk_api.server.matching("/emissions/bylocation")[0]
    assert request.param("location") == "eastus"


@pytest.mark.asyncio
async def test_forecast_reads_forecast_data_with_integer_minute_durations(source):
    forecast = await source.forecast("westus", timedelta(hours=1))
    assert forecast[0].start == FAKE_NOW.replace(minute=40, second=0)
    assert all(r.forecast and r.duration == timedelta(minutes=5) for r in forecast)
    assert forecast[-1].start < FAKE_NOW + timedelta(hours=1) <= forecast[-1].end


@pytest.mark.asyncio
async def test_history_asks_for_time_and_to_time(source, carbon_aware_sdk_api):
    start = HOUR - timedelta(hours=5)
    history = await source.history("eastus", start, HOUR)
    request = carbon_aware_sdk_api.server.matching("/emissions/bylocation")[0]
    assert request.param("time") == start.isoformat()
    assert [r.start for r in history] == [start + timedelta(hours=i) for i in range(5)]


@pytest.mark.asyncio
async def test_unknown_location_is_a_zone_error_pointing_at_locations(source):
    with pytest.raises(ZoneUnknownError, match="/locations"):
        await source.latest("mars")


@pytest.mark.asyncio
async def test_backend_without_forecasts_is_a_plan_error_not_retried(source, carbon_aware_sdk_api):
    carbon_aware_sdk_api.forecast_supported = False
    with pytest.raises(PlanNotIncludedError, match="not implemented"):
        await source.forecast("eastus", timedelta(hours=1))
    assert carbon_aware_sdk_api.server.count("/emissions/forecasts/current") == 1


@pytest.mark.asyncio
async def test_optional_bearer_token_is_sent_and_401_is_an_auth_error(carbon_aware_sdk_api, cache, retry):
    source = CarbonAwareSdkSource(
        token=Secret("casdk-token-123"), base_url=carbon_aware_sdk_api.url, cache=cache, retry=retry
    )
    carbon_aware_sdk_api.server.script(FakeResponse(401, {"title": "Unauthorized", "status": 401}))
    with pytest.raises(AuthenticationFailedError):
        await source.latest("eastus")
    assert carbon_aware_sdk_api.server.requests[0].headers["authorization"] == "Bearer casdk-token-123"


@pytest.mark.asyncio
async def test_empty_answer_is_a_zone_error(source, carbon_aware_sdk_api):
    carbon_aware_sdk_api.server.script(FakeResponse(204, None))
    with pytest.raises(ZoneUnknownError, match="no emissions data"):
        await source.latest("eastus")
