"""UK Carbon Intensity against the fake API: national and regional shapes, actual vs forecast, errors."""

from __future__ import annotations

from datetime import timedelta

import pytest

from airflow_carbon_provider.carbon.errors import MalformedResponseError, ZoneUnknownError
from airflow_carbon_provider.carbon.sources.ukgrid import UkGridSource, parse_uk_zone
from tests.fakes.carbon_apis import FAKE_NOW
from tests.fakes.http_server import FakeResponse

HALF_HOUR = FAKE_NOW.replace(minute=30, second=0)


@pytest.fixture
def source(ukgrid_api, fake_clock, cache, retry) -> UkGridSource:
    return UkGridSource(base_url=ukgrid_api.url, clock=fake_clock, cache=cache, retry=retry)


@pytest.mark.parametrize(
    ("zone", "path"),
    [
        ("GB", ""),
        ("13", "/regionid/13"),
        ("regionid:7", "/regionid/7"),
        ("rg41", "/postcode/RG41"),
        ("postcode:SW1", "/postcode/SW1"),
    ],
)
def test_zone_forms(zone, path):
    assert parse_uk_zone(zone).suffix == path


@pytest.mark.parametrize("zone", ["99", "not a zone", "DE"])
def test_invalid_zone_forms_name_the_allowed_forms(zone):
    with pytest.raises(ZoneUnknownError, match="region id 1-17"):
        parse_uk_zone(zone)


@pytest.mark.asyncio
async def test_national_latest_parses_minute_precision_z_timestamps(source, ukgrid_api):
    reading = await source.latest("GB")
    assert (reading.start, reading.end) == (HALF_HOUR, HALF_HOUR + timedelta(minutes=30))
    assert reading.start.utcoffset() == timedelta(0)
    assert ukgrid_api.server.matching("/intensity")[0].headers["accept"] == "application/json"


@pytest.mark.asyncio
async def test_current_period_without_actual_uses_forecast_flagged_estimated(source, ukgrid_api):
    reading = await source.latest("GB")
    assert reading.intensity == ukgrid_api.value_at("GB", HALF_HOUR)
    assert reading.estimated


@pytest.mark.asyncio
async def test_history_prefers_actual(source, ukgrid_api):
    history = await source.history("GB", FAKE_NOW - timedelta(hours=2), FAKE_NOW - timedelta(minutes=30))
    assert all(not r.estimated for r in history[:-1])
    first = history[0]
    assert first.intensity == ukgrid_api.value_at("GB", first.start) - 5  # the fake's actual = forecast - 5


@pytest.mark.asyncio
async def test_history_period_without_actual_is_flagged_estimated(source, ukgrid_api):
    missing = FAKE_NOW.replace(minute=0, second=0) - timedelta(hours=1)
    ukgrid_api.null_actual_periods = {missing.strftime("%Y-%m-%dT%H:%MZ")}
    history = await source.history("GB", FAKE_NOW - timedelta(hours=2), FAKE_NOW - timedelta(minutes=30))
    flagged = {r.start for r in history if r.estimated}
    assert missing in flagged


@pytest.mark.asyncio
async def test_history_path_uses_minute_precision_bounds(source, ukgrid_api):
    start = FAKE_NOW.replace(minute=0, second=0) - timedelta(hours=3)
    await source.history("GB", start, start + timedelta(hours=2))
    (request,) = ukgrid_api.server.matching("/intensity/.*")
    assert request.path == "/intensity/2024-03-06T16:00Z/2024-03-06T18:00Z"


@pytest.mark.asyncio
async def test_forecast_starts_at_the_current_half_hour(source):
    forecast = await source.forecast("GB", timedelta(hours=3))
    assert forecast[0].start == HALF_HOUR
    assert all(r.forecast and r.duration == timedelta(minutes=30) for r in forecast)
    assert forecast[-1].start < FAKE_NOW + timedelta(hours=3)


@pytest.mark.asyncio
async def test_forecast_beyond_a_day_asks_for_fw48h(source, ukgrid_api):
    await source.forecast("GB", timedelta(hours=30))
    assert ukgrid_api.server.matching("/intensity/.*")[0].path.endswith("/fw48h")


@pytest.mark.asyncio
async def test_regional_latest_by_region_id_reads_the_list_shape(source, ukgrid_api):
    reading = await source.latest("13")
    assert reading.intensity == ukgrid_api.value_at("13", HALF_HOUR)
    assert reading.estimated  # regional data has forecasts only
    assert ukgrid_api.server.count("/regional/regionid/13") == 1


@pytest.mark.asyncio
@pytest.mark.parametrize("as_list", [False, True])
async def test_regional_forecast_accepts_object_and_list_data(source, ukgrid_api, as_list):
    ukgrid_api.regional_series_as_list = as_list
    forecast = await source.forecast("postcode:RG41", timedelta(hours=2))
    assert forecast[0].start == HALF_HOUR
    assert forecast[0].intensity == ukgrid_api.value_at("12", HALF_HOUR)
    assert ukgrid_api.server.matching("/regional/intensity/.*")[0].path.endswith("/fw24h/postcode/RG41")


@pytest.mark.asyncio
async def test_unknown_postcode_is_a_zone_error_with_the_service_message(source):
    with pytest.raises(ZoneUnknownError, match="Invalid postcode ZZ9"):
        await source.latest("ZZ9")


@pytest.mark.asyncio
async def test_all_regions_answer_to_a_one_region_query_is_malformed(source, ukgrid_api):
    body = {"data": [{"from": "2018-01-20T12:00Z", "to": "2018-01-20T12:30Z", "regions": []}]}
    ukgrid_api.server.script(FakeResponse(200, body))
    with pytest.raises(MalformedResponseError):
        await source.latest("13")


@pytest.mark.asyncio
async def test_regional_history_by_region_id_is_forecast_based_and_flagged_estimated(source, ukgrid_api):
    start = FAKE_NOW.replace(minute=0, second=0) - timedelta(hours=2)
    history = await source.history("regionid:13", start, start + timedelta(hours=1))
    assert [r.start for r in history] == [start, start + timedelta(minutes=30)]
    assert all(r.estimated and not r.forecast for r in history)
    assert ukgrid_api.server.matching("/regional/intensity/.*")[0].path == (
        "/regional/intensity/2024-03-06T17:00Z/2024-03-06T18:00Z/regionid/13"
    )
