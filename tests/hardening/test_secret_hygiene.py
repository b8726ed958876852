"""No credential appears in anything a full run leaves behind, with every logger at DEBUG.

A sensor defers, its trigger is rebuilt from the serialized kwargs (as the triggerer does), waits through
faults against the fake API and fires; the sensor completes. Every log record (the provider's, httpx's and
httpcore's at DEBUG), everything written to stdout/stderr, the trigger kwargs, the XCom, the reprs and the
exception messages are searched for the API token, the WattTime password, the Basic credential and every bearer
token issued. Not run through ``airflow dags test``, whose supervisor logs the masked value once at DEBUG (a
known Airflow issue of the task supervisor, not of this provider).
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
import traceback
from datetime import timedelta

import pytest
from airflow.sdk._shared.secrets_masker import redact
from airflow.sdk.exceptions import TaskDeferred

from airflow_carbon_provider.carbon.cache import PROCESS_CACHE
from airflow_carbon_provider.carbon.clock import SystemClock
from airflow_carbon_provider.carbon.errors import CarbonSourceError
from airflow_carbon_provider.carbon.http import RetryPolicy
from airflow_carbon_provider.carbon.readings import parse_utc
from airflow_carbon_provider.carbon.secret import Secret
from airflow_carbon_provider.carbon.sources.electricitymaps import ElectricityMapsSource
from airflow_carbon_provider.hooks.carbon_intensity import CarbonIntensityHook
from airflow_carbon_provider.sensors.carbon_intensity import CarbonIntensitySensor
from airflow_carbon_provider.triggers.carbon_intensity import CarbonIntensityTrigger
from tests.fakes.carbon_apis import EM_TOKEN, WT_PASSWORD, WT_USER
from tests.fakes.http_server import FakeHttpServer, FakeResponse
from tests.virtual_time import LoopClock

FAST_RETRY = RetryPolicy(attempts=3, base_delay=0.002, max_delay=0.01, max_retry_after=0.02, max_total=0.05)
"""For the synchronous hook calls, which run on real time in this test (none of their faults is retried)."""


@pytest.fixture
def everything(caplog, capfd):
    """Capture every log record at DEBUG; returns a function that gathers all text produced so far."""
    caplog.set_level(logging.DEBUG)
    for name in ("airflow_carbon_provider", "httpx", "httpcore"):
        caplog.set_level(logging.DEBUG, logger=name)
    PROCESS_CACHE.clear()

    def texts(*artefacts: object) -> list[str]:
        out, err = capfd.readouterr()
        found = [out, err, caplog.text]
        for record in caplog.records:
            found += [record.getMessage(), repr(record.args), record.exc_text or ""]
        for artefact in artefacts:
            found.append(artefact if isinstance(artefact, str) else repr(artefact))
            if isinstance(artefact, BaseException):
                found += [str(artefact), "".join(traceback.format_exception(artefact))]
        return found

    yield texts
    PROCESS_CACHE.clear()


def assert_absent(secrets: list[str], texts: list[str]) -> None:
    joined = "\n".join(texts)
    assert "send_request_headers" in joined, "httpcore's DEBUG records should have been captured"
    assert "Carbon" in joined or "watttime" in joined, "the provider's own records should have been captured"
    for secret in secrets:
        leaks = [text for text in texts if secret in text]
        assert not leaks, f"a secret leaked into: {leaks[0][:300]!r}"


def failure(call) -> CarbonSourceError:
    with pytest.raises(CarbonSourceError) as raised:
        call()
    return raised.value


@pytest.mark.asyncio
async def test_a_full_electricity_maps_wait_leaks_the_token_nowhere(
    electricitymaps_api, virtual_loop, monkeypatch, everything
):
    conn = {"conn_type": "carbon_intensity", "host": electricitymaps_api.base_url, "password": EM_TOKEN}
    monkeypatch.setenv("AIRFLOW_CONN_CARBON_SECRET", json.dumps({**conn, "extra": {"source": "electricitymaps"}}))
    electricitymaps_api.clock = SystemClock()
    sensor = CarbonIntensitySensor(
        task_id="wait",
        carbon_conn_id="carbon_secret",
        zone="DE",
        policy="threshold",
        threshold=1,  # never green: the sensor defers and the trigger runs to the deadline
        duration=timedelta(hours=1),
        deadline=timedelta(hours=1),
        deadline_kind="start",
        poll_interval=timedelta(minutes=15),
    )
    with pytest.raises(TaskDeferred) as deferred:
        await asyncio.to_thread(sensor.execute, {})  # sync code off the loop, as on a worker
    classpath, kwargs = deferred.value.trigger.serialize()
    serialized = json.dumps([classpath, kwargs])

    clock = electricitymaps_api.clock = LoopClock.on(virtual_loop, parse_utc(kwargs["release"]))
    electricitymaps_api.server.script(
        FakeResponse(503, {"message": "maintenance"}),
        FakeResponse(429, headers={"Retry-After": "1"}),
        FakeResponse(drop=True),
        path=".*/latest",
    )
    trigger = CarbonIntensityTrigger(**json.loads(serialized)[1], clock=clock)  # the shipped retry policy
    event = await anext(trigger.run())
    xcom = sensor.execute_complete({}, event.payload)

    electricitymaps_api.token = "rotated-token"  # the stored token is now rejected: an authentication error
    hook = CarbonIntensityHook("carbon_secret", retry=FAST_RETRY)
    rejected = await asyncio.to_thread(failure, lambda: hook.get_current_intensity("ZZ"))
    texts = everything(serialized, json.dumps(xcom), json.dumps(event.payload), sensor, trigger, hook)
    texts += [repr(hook.get_source()), repr(hook._config), (await asyncio.to_thread(hook.test_connection))[1]]
    assert_absent([EM_TOKEN], [*texts, *everything(rejected)])


def test_a_watttime_login_flow_leaks_no_password_and_no_bearer(watttime_api, monkeypatch, everything):
    conn = {"conn_type": "carbon_intensity", "host": watttime_api.url, "login": WT_USER, "password": WT_PASSWORD}
    monkeypatch.setenv("AIRFLOW_CONN_CARBON_WT", json.dumps({**conn, "extra": {"source": "watttime"}}))
    wrong = {**conn, "password": "wrong-Passw0rd-xyz"}
    monkeypatch.setenv("AIRFLOW_CONN_CARBON_WT_WRONG", json.dumps({**wrong, "extra": {"source": "watttime"}}))
    hook = CarbonIntensityHook("carbon_wt", retry=FAST_RETRY)
    hook.get_current_intensity("CAISO_NORTH")
    watttime_api.expire_tokens()  # the next data call gets a 401 and logs in again
    PROCESS_CACHE.clear()
    hook.get_forecast("CAISO_NORTH", horizon=timedelta(hours=2))
    errors = [
        failure(lambda: hook.get_current_intensity("PJM_NJ")),  # 403: not in the plan
        failure(lambda: CarbonIntensityHook("carbon_wt_wrong", retry=FAST_RETRY).get_current_intensity("CAISO_NORTH")),
    ]
    assert watttime_api.logins >= 2
    bearers = [f"wt-bearer-{i:04d}-secret" for i in range(1, watttime_api.logins + 1)]
    basic = base64.b64encode(f"{WT_USER}:{WT_PASSWORD}".encode()).decode()
    texts = everything(hook, hook.get_source(), hook._config, *errors)
    assert_absent([WT_PASSWORD, "wrong-Passw0rd-xyz", basic, *bearers], texts)


def test_connection_secrets_are_registered_with_airflows_masker(electricitymaps_api, monkeypatch):
    token = "em-MaskMe-Token-9876"
    conn = {"conn_type": "carbon_intensity", "host": electricitymaps_api.base_url, "password": token}
    monkeypatch.setenv("AIRFLOW_CONN_CARBON_MASKED", json.dumps({**conn, "extra": {"source": "electricitymaps"}}))
    assert token in redact(f"token={token}")  # not known to the masker yet
    CarbonIntensityHook("carbon_masked").get_source()
    assert redact(f"token={token}") == "token=***"


@pytest.mark.asyncio
async def test_the_async_path_registers_connection_secrets_too(electricitymaps_api, monkeypatch):
    token = "em-MaskMe-Async-5432"
    conn = {"conn_type": "carbon_intensity", "host": electricitymaps_api.base_url, "password": token}
    monkeypatch.setenv("AIRFLOW_CONN_CARBON_AMASKED", json.dumps({**conn, "extra": {"source": "electricitymaps"}}))
    await CarbonIntensityHook("carbon_amasked").aget_source()
    assert redact(f"token={token}") == "token=***"


def test_bearer_tokens_obtained_at_run_time_are_registered_with_airflows_masker(watttime_api, monkeypatch):
    watttime_api.logins = 5_000 + time.time_ns() % 4_000  # a token value no earlier test has seen
    token = f"wt-bearer-{watttime_api.logins + 1:04d}-secret"
    conn = {"conn_type": "carbon_intensity", "host": watttime_api.url, "login": WT_USER, "password": WT_PASSWORD}
    monkeypatch.setenv("AIRFLOW_CONN_CARBON_WT_MASK", json.dumps({**conn, "extra": {"source": "watttime"}}))
    assert redact(f"Bearer {token}") == f"Bearer {token}"
    PROCESS_CACHE.clear()
    CarbonIntensityHook("carbon_wt_mask", retry=FAST_RETRY).get_current_intensity("CAISO_NORTH")
    assert redact(f"Bearer {token}") == "Bearer ***"


@pytest.mark.asyncio
async def test_a_redirect_is_not_followed_so_the_token_never_reaches_another_host(electricitymaps_api):
    with FakeHttpServer() as elsewhere:
        electricitymaps_api.server.script(FakeResponse(302, headers={"Location": f"{elsewhere.url}/collect"}))
        source = ElectricityMapsSource(Secret(EM_TOKEN), base_url=electricitymaps_api.base_url, retry=FAST_RETRY)
        with pytest.raises(CarbonSourceError, match="HTTP 302"):
            await source.latest("DE")
        assert elsewhere.count() == 0
