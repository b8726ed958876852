"""WattTime v3 against the fake API: login and re-login, unit conversion, plan/region errors, index, lookup."""

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
from airflow_carbon_provider.carbon.sources.watttime import LBS_PER_MWH_TO_G_PER_KWH, WattTimeSource
from tests.fakes.carbon_apis import FAKE_NOW, WT_PASSWORD, WT_USER
from tests.fakes.http_server import FakeResponse

SLOT = FAKE_NOW.replace(minute=40, second=0)


@pytest.fixture
def source(watttime_api, fake_clock, cache, retry) -> WattTimeSource:
    return WattTimeSource(
        WT_USER, Secret(WT_PASSWORD), base_url=watttime_api.url, clock=fake_clock, cache=cache, retry=retry
    )


@pytest.mark.asyncio
async def test_latest_is_the_nowcast_converted_from_lbs_per_mwh(source, watttime_api):
    reading = await source.latest("CAISO_NORTH")
    assert reading.intensity == pytest.approx(watttime_api.value_at("CAISO_NORTH", SLOT) * 0.45359237)
    assert (reading.start, reading.end) == (SLOT, SLOT + timedelta(minutes=5))
    assert reading.signal is SignalKind.MARGINAL
    assert reading.estimated
    assert watttime_api.server.matching("/v3/forecast")[0].param("horizon_hours") == "0"


def test_conversion_factor_is_grams_per_pound_over_a_thousand():
    assert LBS_PER_MWH_TO_G_PER_KWH == 453.59237 / 1000


@pytest.mark.asyncio
async def test_logs_in_with_basic_auth_once_and_sends_the_bearer_token(source, watttime_api):
    await source.latest("CAISO_NORTH")
    await source.forecast("CAISO_NORTH", timedelta(hours=1))
    assert watttime_api.server.count("/login") == 1
    assert {r.headers["authorization"] for r in watttime_api.server.matching("/v3/.*")} == {
        "Bearer wt-bearer-0001-secret"
    }


@pytest.mark.asyncio
async def test_an_expired_token_triggers_one_new_login(source, watttime_api, fake_clock):
    await source.latest("CAISO_NORTH")
    watttime_api.expire_tokens()
    fake_clock.advance(timedelta(minutes=10))
    await source.latest("CAISO_NORTH")
    assert watttime_api.server.count("/login") == 2


@pytest.mark.asyncio
async def test_token_is_renewed_after_its_lifetime(source, watttime_api, fake_clock):
    await source.latest("CAISO_NORTH")
    fake_clock.advance(timedelta(minutes=30))
    await source.latest("CAISO_NORTH")
    assert watttime_api.server.count("/login") == 2


@pytest.mark.asyncio
async def test_persistent_401_after_relogin_is_an_authentication_error(source, watttime_api):
    watttime_api.server.script(FakeResponse(401, {"error": "UNAUTHORIZED"}), FakeResponse(401, {}), path="/v3/forecast")
    with pytest.raises(AuthenticationFailedError):
        await source.latest("CAISO_NORTH")
    assert watttime_api.server.count("/login") == 2
    assert watttime_api.server.count("/v3/forecast") == 2


@pytest.mark.asyncio
async def test_wrong_password_is_an_authentication_error_naming_the_fields(watttime_api, cache, retry):
    source = WattTimeSource(WT_USER, Secret("nope-nope"), base_url=watttime_api.url, cache=cache, retry=retry)
    with pytest.raises(AuthenticationFailedError, match=r"login .*password"):
        await source.latest("CAISO_NORTH")


@pytest.mark.asyncio
async def test_region_outside_the_plan_is_a_plan_error_after_one_relogin(source, watttime_api):
    with pytest.raises(PlanNotIncludedError, match="CAISO_NORTH"):
        await source.forecast("PJM_NJ", timedelta(hours=1))
    assert watttime_api.server.count("/login") == 2


@pytest.mark.asyncio
async def test_unknown_region_is_a_zone_error(source):
    with pytest.raises(ZoneUnknownError, match="my-access"):
        await source.latest("NOWHERE")


@pytest.mark.asyncio
async def test_forecast_is_five_minute_points_within_the_horizon(source):
    forecast = await source.forecast("CAISO_NORTH", timedelta(hours=2))
    assert forecast[0].start == SLOT
    assert forecast[-1].end >= FAKE_NOW + timedelta(hours=2) - timedelta(minutes=5)
    assert all(r.forecast and r.duration == timedelta(minutes=5) for r in forecast)
    assert [r.start for r in forecast] == sorted(r.start for r in forecast)


@pytest.mark.asyncio
async def test_history_sends_timezone_aware_bounds(source, watttime_api):
    history = await source.history("CAISO_NORTH", FAKE_NOW - timedelta(hours=1), FAKE_NOW)
    request = watttime_api.server.matching("/v3/historical")[0]
    assert request.param("start").endswith("+00:00")
    assert request.param("end").endswith("+00:00")
    assert len(history) == 13  # the slot containing start .. the slot containing now
    assert not any(r.forecast for r in history)


@pytest.mark.asyncio
async def test_meta_warnings_are_logged(source, watttime_api, caplog):
    watttime_api.warnings = [{"type": "EXAMPLE_WARNING", "message": "This is just an example"}]
    with caplog.at_level("WARNING"):
        await source.latest("CAISO_NORTH")
    assert "This is just an example" in caplog.text


@pytest.mark.asyncio
async def test_unexpected_units_are_a_malformed_response(source, watttime_api):
    body = watttime_api._series("CAISO_NORTH", [SLOT], units="furlongs")
    watttime_api.server.script(FakeResponse(200, body), path="/v3/forecast")
    with pytest.raises(MalformedResponseError, match="furlongs"):
        await source.latest("CAISO_NORTH")


@pytest.mark.asyncio
async def test_signal_index_is_a_percentile_without_conversion(source):
    index = await source.signal_index("CAISO_NORTH")
    assert index.percentile == 37
    assert index.point_time == SLOT


@pytest.mark.asyncio
async def test_region_from_loc_resolves_coordinates(source):
    assert await source.region_from_loc(38.5, -121.5) == "CAISO_NORTH"


@pytest.mark.asyncio
async def test_region_from_loc_outside_coverage_is_a_zone_error(source):
    with pytest.raises(ZoneUnknownError):
        await source.region_from_loc(0.0, 0.0)


@pytest.mark.asyncio
async def test_offsets_other_than_utc_are_converted(source, watttime_api):
    body = watttime_api._series("CAISO_NORTH", [SLOT])
    body["data"][0]["point_time"] = "2024-03-06T11:40:00-08:00"
    watttime_api.server.script(FakeResponse(200, body), path="/v3/forecast")
    reading = await source.latest("CAISO_NORTH")
    assert reading.start == SLOT
    assert reading.start.tzinfo is not None
    assert reading.start.utcoffset() == timedelta(0)


@pytest.mark.asyncio
async def test_naive_timestamps_are_malformed_not_assumed_utc(source, watttime_api):
    body = watttime_api._series("CAISO_NORTH", [SLOT])
    body["data"][0]["point_time"] = "2024-03-06T19:40:00"
    watttime_api.server.script(FakeResponse(200, body), path="/v3/forecast")
    with pytest.raises(MalformedResponseError, match="timezone-aware"):
        await source.latest("CAISO_NORTH")
