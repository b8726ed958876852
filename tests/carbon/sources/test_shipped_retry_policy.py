"""Every web source with the retry policy as shipped (``RetryPolicy()``): a transient outage is slept off.

No test double for the sleep: the real ``asyncio.sleep`` runs on the test's virtual-time loop, so the time the
client waited is the loop's clock, and it must lie within what the shipped policy allows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from airflow_carbon_provider.carbon.http import RetryPolicy
from airflow_carbon_provider.carbon.secret import Secret
from airflow_carbon_provider.carbon.sources.carbon_aware_sdk import CarbonAwareSdkSource
from airflow_carbon_provider.carbon.sources.electricitymaps import ElectricityMapsSource
from airflow_carbon_provider.carbon.sources.ukgrid import UkGridSource
from airflow_carbon_provider.carbon.sources.watttime import WattTimeSource
from tests.fakes.carbon_apis import EM_TOKEN, WT_PASSWORD, WT_USER
from tests.fakes.http_server import FakeResponse

SHIPPED = RetryPolicy()
RETRY_AFTER = 7.0  # seconds a 429 asks for, below the policy's cap


@dataclass(frozen=True)
class Web:
    fake: str  # the emulator fixture
    zone: str
    latest_path: str
    build: Callable[[Any, Any], Any]  # (emulator, clock) -> source, with no retry policy given


WEB_SOURCES = {
    "electricitymaps": Web(
        "electricitymaps_api",
        "DE",
        ".*/carbon-intensity/latest",
        lambda api, clock: ElectricityMapsSource(Secret(EM_TOKEN), base_url=api.base_url, clock=clock),
    ),
    "watttime": Web(
        "watttime_api",
        "CAISO_NORTH",
        "/v3/forecast",
        lambda api, clock: WattTimeSource(WT_USER, Secret(WT_PASSWORD), base_url=api.url, clock=clock),
    ),
    "ukgrid": Web("ukgrid_api", "GB", "/intensity", lambda api, clock: UkGridSource(base_url=api.url, clock=clock)),
    "carbon_aware_sdk": Web(
        "carbon_aware_sdk_api",
        "eastus",
        "/emissions/bylocation",
        lambda api, clock: CarbonAwareSdkSource(base_url=api.url, clock=clock),
    ),
}


def first_backoff_bounds(policy: RetryPolicy) -> tuple[float, float]:
    """The first retry's back-off with "equal jitter": between half its ceiling and the ceiling."""
    ceiling = min(policy.max_delay, policy.base_delay)
    return ceiling / 2, ceiling


@pytest.mark.asyncio
@pytest.mark.parametrize("name", list(WEB_SOURCES))
async def test_a_503_then_a_429_are_slept_off_within_the_shipped_policy(name, request, loop_clock, virtual_loop):
    web = WEB_SOURCES[name]
    api = request.getfixturevalue(web.fake)
    api.clock = loop_clock
    api.server.script(
        FakeResponse(503, {"message": "maintenance"}),
        FakeResponse(429, headers={"Retry-After": f"{RETRY_AFTER:g}"}),
        path=web.latest_path,
    )
    source = web.build(api, loop_clock)
    assert source.api.retry == SHIPPED
    began = virtual_loop.time()
    reading = await source.latest(web.zone)
    slept = virtual_loop.time() - began
    low, high = first_backoff_bounds(SHIPPED)
    assert low + RETRY_AFTER <= slept <= high + RETRY_AFTER
    assert api.server.count(web.latest_path) == 3
    assert reading.intensity > 0
