"""What the sources let through at the edge: absurd intensities are rejected there, before any planning."""

from __future__ import annotations

from datetime import timedelta

import pytest

from airflow_carbon_provider.carbon.cache import TtlCache
from airflow_carbon_provider.carbon.errors import MalformedResponseError
from airflow_carbon_provider.carbon.http import ApiRequest, HttpApi, RetryPolicy
from airflow_carbon_provider.carbon.secret import Secret
from airflow_carbon_provider.carbon.sources.carbon_aware_sdk import CarbonAwareSdkSource
from airflow_carbon_provider.carbon.sources.electricitymaps import ElectricityMapsSource
from airflow_carbon_provider.carbon.sources.ukgrid import UkGridSource
from airflow_carbon_provider.carbon.sources.watttime import WattTimeSource
from tests.fakes.carbon_apis import EM_TOKEN, FAKE_NOW, WT_PASSWORD, WT_USER
from tests.fakes.http_server import FakeResponse

ONE_TRY = RetryPolicy(attempts=1)
HOUR = "2024-03-06T19:00:00"


def latest_body(source: str, *, value: float) -> dict:
    """One documented 'latest' answer of ``source`` carrying ``value``."""
    if source == "electricitymaps":
        return {"zone": "DE", "carbonIntensity": value, "datetime": f"{HOUR}.000Z"}
    if source == "watttime":
        return {"data": [{"point_time": f"{HOUR}+00:00", "value": value}], "meta": {"units": "lbs_co2_per_mwh"}}
    period = {"from": f"{HOUR}Z", "to": "2024-03-06T19:30:00Z", "intensity": {"forecast": value, "actual": value}}
    return {"data": [period]}


@pytest.fixture
def web(fake_clock):
    return {"clock": fake_clock, "cache": TtlCache(clock=fake_clock), "retry": ONE_TRY}


@pytest.mark.asyncio
@pytest.mark.parametrize(("value", "accepted"), [(2999.0, True), (3001.0, False), (1e9, False)])
async def test_electricitymaps_rejects_intensities_no_grid_can_have(electricitymaps_api, web, value, accepted):
    source = ElectricityMapsSource(Secret(EM_TOKEN), base_url=electricitymaps_api.base_url, **web)
    electricitymaps_api.server.script(FakeResponse(200, latest_body("electricitymaps", value=value)))
    if accepted:
        assert (await source.latest("DE")).intensity == value
        return
    with pytest.raises(MalformedResponseError, match=r"implausible .*wrong units"):
        await source.latest("DE")


@pytest.mark.asyncio
async def test_watttime_checks_plausibility_after_converting_lbs_per_mwh(watttime_api, web):
    source = WattTimeSource(WT_USER, Secret(WT_PASSWORD), base_url=watttime_api.url, **web)
    watttime_api.server.script(
        FakeResponse(200, latest_body("watttime", value=6000)),  # 2,722 g/kWh: dirty but possible
        FakeResponse(200, latest_body("watttime", value=7000)),  # 3,175 g/kWh
        path="/v3/forecast",
    )
    assert (await source.latest("CAISO_NORTH")).intensity == pytest.approx(6000 * 0.45359237)
    web["cache"].clear()
    with pytest.raises(MalformedResponseError, match="3175 gCO₂e/kWh is implausible"):
        await source.latest("CAISO_NORTH")


@pytest.mark.asyncio
async def test_ukgrid_rejects_an_absurd_period(ukgrid_api, web):
    source = UkGridSource(base_url=ukgrid_api.url, **web)
    ukgrid_api.server.script(FakeResponse(200, latest_body("ukgrid", value=4000)), path="/intensity")
    with pytest.raises(MalformedResponseError, match="implausible"):
        await source.latest("GB")


@pytest.mark.asyncio
async def test_carbon_aware_sdk_rejects_an_absurd_forecast_point(carbon_aware_sdk_api, web):
    source = CarbonAwareSdkSource(base_url=carbon_aware_sdk_api.url, **web)
    point = {"timestamp": FAKE_NOW.isoformat(), "duration": 5, "value": 12_000}
    carbon_aware_sdk_api.server.script(FakeResponse(200, [{"location": "eastus", "forecastData": [point]}]))
    with pytest.raises(MalformedResponseError, match="implausible"):
        await source.forecast("eastus", timedelta(hours=1))


@pytest.mark.asyncio
@pytest.mark.parametrize("literal", [b"NaN", b"Infinity", b"-Infinity"])
async def test_non_finite_json_numbers_are_a_malformed_response_not_a_crash(electricitymaps_api, web, literal):
    source = ElectricityMapsSource(Secret(EM_TOKEN), base_url=electricitymaps_api.base_url, **web)
    body = b'{"zone": "DE", "datetime": "2024-03-06T19:00:00.000Z", "carbonIntensity": ' + literal + b"}"
    electricitymaps_api.server.script(FakeResponse(200, raw=body))
    with pytest.raises(MalformedResponseError, match="must be a finite number"):
        await source.latest("DE")


@pytest.mark.asyncio
@pytest.mark.parametrize(("retry_after", "slept"), [("nan", 0.25), ("NaN", 0.25), ("inf", 60.0), ("1e309", 60.0)])
async def test_a_non_finite_retry_after_neither_hangs_nor_escapes_the_cap(electricitymaps_api, retry_after, slept):
    delays: list[float] = []

    async def record(seconds: float) -> None:
        delays.append(seconds)

    retry = RetryPolicy(attempts=2, base_delay=0.5, max_total=100, sleep=record, jitter=lambda: 0.0)
    api = HttpApi("electricitymaps", electricitymaps_api.url, retry=retry)
    electricitymaps_api.server.script(FakeResponse(429, headers={"Retry-After": retry_after}), FakeResponse(200, {}))
    assert await api.get_json(ApiRequest("/anything"), lambda response: AssertionError("not classified")) == {}
    assert delays == [slept]  # NaN falls back to the backoff (0.5 s halved by zero jitter); infinity is capped


@pytest.mark.asyncio
async def test_ukgrid_period_ending_before_it_starts_is_a_malformed_response(ukgrid_api, web):
    source = UkGridSource(base_url=ukgrid_api.url, **web)
    period = {"from": "2024-03-06T19:30Z", "to": "2024-03-06T19:00Z", "intensity": {"forecast": 200, "actual": 200}}
    ukgrid_api.server.script(FakeResponse(200, {"data": [period]}), path="/intensity")
    with pytest.raises(MalformedResponseError, match="is empty"):
        await source.latest("GB")
