"""Credentials never leak: not in any log record (DEBUG, incl. httpx/httpcore), exception or repr."""

from __future__ import annotations

import logging
import traceback
from datetime import timedelta

import pytest

from airflow_carbon_provider.carbon.config import SourceConfig
from airflow_carbon_provider.carbon.errors import CarbonSourceError
from airflow_carbon_provider.carbon.secret import Secret
from airflow_carbon_provider.carbon.sources.carbon_aware_sdk import CarbonAwareSdkSource
from airflow_carbon_provider.carbon.sources.electricitymaps import ElectricityMapsSource
from airflow_carbon_provider.carbon.sources.watttime import WattTimeSource
from tests.fakes.carbon_apis import EM_TOKEN, WT_PASSWORD, WT_USER
from tests.fakes.http_server import FakeResponse

CASDK_TOKEN = "casdk-bearer-Secret-42"
LOGGERS = ("airflow_carbon_provider", "httpx", "httpcore")


@pytest.fixture
def debug_logs(caplog):
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def assert_not_leaked(secrets, caplog, errors):
    texts = [record.getMessage() for record in caplog.records] + [repr(r.args) for r in caplog.records]
    for error in errors:
        texts += [str(error), repr(error), "".join(traceback.format_exception(error))]
    assert caplog.records, "the scenario should have logged something at DEBUG"
    for secret in secrets:
        leaks = [t for t in texts if secret in t]
        assert not leaks, f"secret leaked: {leaks[:1]}"


async def collect_errors(*calls):
    errors = []
    for call in calls:
        try:
            await call
        except CarbonSourceError as exc:
            errors.append(exc)
    return errors


@pytest.mark.asyncio
async def test_electricitymaps_token_never_leaks(electricitymaps_api, fake_clock, cache, retry, debug_logs):
    source = ElectricityMapsSource(
        Secret(EM_TOKEN), base_url=electricitymaps_api.base_url, clock=fake_clock, cache=cache, retry=retry
    )
    electricitymaps_api.server.script(
        FakeResponse(503), FakeResponse(429, headers={"Retry-After": "1"}), FakeResponse(drop=True)
    )
    await source.latest("DE")
    electricitymaps_api.token = "rotated"
    errors = await collect_errors(source.forecast("DE", timedelta(hours=2)), source.latest("XX"))
    assert len(errors) == 2
    assert_not_leaked([EM_TOKEN], debug_logs, errors)
    assert EM_TOKEN not in repr(source)


@pytest.mark.asyncio
async def test_watttime_password_and_bearer_never_leak(watttime_api, fake_clock, cache, retry, debug_logs):
    source = WattTimeSource(
        WT_USER, Secret(WT_PASSWORD), base_url=watttime_api.url, clock=fake_clock, cache=cache, retry=retry
    )
    await source.latest("CAISO_NORTH")
    watttime_api.expire_tokens()
    watttime_api.server.script(FakeResponse(500), path="/v3/forecast")
    await source.forecast("CAISO_NORTH", timedelta(hours=1))
    errors = await collect_errors(source.latest("PJM_NJ"))
    wrong = WattTimeSource(WT_USER, Secret("wrong-password-xyz"), base_url=watttime_api.url, cache=cache, retry=retry)
    errors += await collect_errors(wrong.latest("CAISO_NORTH"))
    assert len(errors) == 2
    bearers = [f"wt-bearer-{i:04d}-secret" for i in range(1, watttime_api.logins + 1)]
    assert_not_leaked([WT_PASSWORD, "wrong-password-xyz", *bearers], debug_logs, errors)
    assert WT_PASSWORD not in repr(source)


@pytest.mark.asyncio
async def test_carbon_aware_sdk_bearer_never_leaks(carbon_aware_sdk_api, fake_clock, cache, retry, debug_logs):
    source = CarbonAwareSdkSource(
        token=Secret(CASDK_TOKEN), base_url=carbon_aware_sdk_api.url, clock=fake_clock, cache=cache, retry=retry
    )
    carbon_aware_sdk_api.server.script(FakeResponse(401, {"title": "Unauthorized", "detail": "bad token"}))
    errors = await collect_errors(source.latest("eastus"))
    await source.latest("eastus")
    assert len(errors) == 1
    assert_not_leaked([CASDK_TOKEN], debug_logs, errors)


def test_secret_and_config_reprs_are_masked():
    assert repr(Secret(EM_TOKEN)) == "Secret('***')"
    assert EM_TOKEN not in f"{Secret(EM_TOKEN)}"
    config = SourceConfig.from_connection(login=WT_USER, password=WT_PASSWORD, extra={"source": "watttime"})
    assert WT_PASSWORD not in repr(config)


def test_secrets_refuse_to_be_pickled():
    import pickle

    with pytest.raises(TypeError, match="not picklable"):
        pickle.dumps(Secret(EM_TOKEN))


def test_secrets_survive_deep_copies_of_their_holders():
    import copy

    config = SourceConfig.from_connection(password=EM_TOKEN, extra={"source": "electricitymaps"})
    assert copy.deepcopy(config).password == Secret(EM_TOKEN)
