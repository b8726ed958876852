"""CarbonIntensityHook with env-var connections (no DB) against the fake APIs and the bundled replay data."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta

import pytest
from airflow.sdk import BaseHook
from airflow.sdk.exceptions import AirflowNotFoundException

from airflow_carbon_provider.carbon.clock import ManualClock
from airflow_carbon_provider.carbon.sources.replay import ReplaySource
from airflow_carbon_provider.hooks.carbon_intensity import CarbonIntensityHook
from tests.fakes.carbon_apis import EM_TOKEN, FAKE_NOW

HOUR = FAKE_NOW.replace(minute=0, second=0)
REPLAY_AT = datetime(2023, 6, 1, 12, 30, tzinfo=UTC)


@pytest.fixture
def connection(monkeypatch):
    """Define ``AIRFLOW_CONN_<ID>`` the way a deployment would (JSON form)."""

    def define(conn_id: str = "carbon_intensity_default", **fields) -> str:
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps({"conn_type": "carbon_intensity", **fields}))
        return conn_id

    return define


@pytest.fixture
def em_hook(connection, electricitymaps_api, fake_clock) -> CarbonIntensityHook:
    conn_id = connection(
        "carbon_em",
        host=electricitymaps_api.base_url,
        password=EM_TOKEN,
        extra={"source": "electricitymaps", "zone": "DE"},
    )
    return CarbonIntensityHook(conn_id, clock=fake_clock)


def test_registration_attributes():
    assert CarbonIntensityHook.conn_name_attr == "carbon_conn_id"
    assert CarbonIntensityHook.default_conn_name == "carbon_intensity_default"
    assert CarbonIntensityHook.conn_type == "carbon_intensity"
    assert CarbonIntensityHook.hook_name == "Carbon Intensity"


def test_without_a_default_connection_the_hook_replays_bundled_data(monkeypatch, capsys):
    monkeypatch.delenv("AIRFLOW_CONN_CARBON_INTENSITY_DEFAULT", raising=False)
    hook = CarbonIntensityHook(clock=ManualClock(REPLAY_AT))
    reading = hook.get_current_intensity()
    assert reading.source == "replay"
    assert reading.zone == "ES"
    assert reading.start == REPLAY_AT.replace(minute=0)
    assert "using the replay source on the bundled data" in capsys.readouterr().out  # Airflow's hook log (structlog)


def test_a_missing_named_connection_is_an_error():
    with pytest.raises(AirflowNotFoundException, match="carbon_nowhere"):
        CarbonIntensityHook("carbon_nowhere").get_current_intensity()


def test_reads_the_connection_and_queries_the_default_zone(em_hook, electricitymaps_api):
    reading = em_hook.get_current_intensity()
    assert (reading.zone, reading.start, reading.source) == ("DE", HOUR, "electricitymaps")
    assert electricitymaps_api.server.requests[0].headers["auth-token"] == EM_TOKEN


def test_cloud_region_zones_are_resolved(em_hook, electricitymaps_api):
    assert em_hook.get_current_intensity("aws:eu-west-3").zone == "FR"
    assert electricitymaps_api.server.requests[0].param("zone") == "FR"


def test_forecast_and_history_are_sorted_one_per_interval(em_hook):
    forecast = em_hook.get_forecast(horizon=timedelta(hours=5))
    history = em_hook.get_history("DE", HOUR - timedelta(hours=6), FAKE_NOW)
    for series in (forecast, history):
        starts = [r.start for r in series]
        assert starts == sorted(set(starts))
    assert len(forecast) == 6  # the current hour and the five after it overlap [now, now + 5h]


def test_capabilities(em_hook, fake_clock):
    assert em_hook.get_conn() is em_hook.get_source()
    assert em_hook.source_name == "electricitymaps"
    assert em_hook.has_forecast is True
    assert em_hook.default_zone == "DE"
    assert em_hook.clock is fake_clock


def test_replay_connection_fields_configure_the_clock(connection):
    connection(
        extra={"zone": "NO", "replay_start": "2023-03-01T00:00:00Z", "replay_speed": 60, "replay_wall_origin": 0}
    )
    hook = CarbonIntensityHook()
    source = hook.get_source()
    assert isinstance(source, ReplaySource)
    assert hook.default_zone == "NO"
    assert hook.clock.wall_seconds(timedelta(hours=1)) == 60


def test_no_zone_anywhere_is_a_value_error_naming_the_field(connection, ukgrid_api):
    conn_id = connection("carbon_uk", host=ukgrid_api.url, extra={"source": "ukgrid"})
    with pytest.raises(ValueError, match="zone"):
        CarbonIntensityHook(conn_id).get_current_intensity()


@pytest.mark.asyncio
async def test_async_twins_read_the_connection_without_the_sync_path(em_hook, monkeypatch):
    def forbidden(*_args, **_kwargs):
        raise AssertionError("sync connection read on the event loop")

    monkeypatch.setattr(BaseHook, "get_connection", classmethod(forbidden))
    latest = await em_hook.aget_current_intensity()
    forecast = await em_hook.aget_forecast("DE", timedelta(hours=2))
    history = await em_hook.aget_history("DE", HOUR - timedelta(hours=2), FAKE_NOW)
    assert latest.start == HOUR
    assert forecast[0].start == HOUR
    assert history[-1].start == HOUR


@pytest.mark.asyncio
async def test_async_fallback_to_replay(monkeypatch):
    monkeypatch.delenv("AIRFLOW_CONN_CARBON_INTENSITY_DEFAULT", raising=False)
    hook = CarbonIntensityHook(clock=ManualClock(REPLAY_AT))
    assert (await hook.aget_current_intensity("NO")).zone == "NO"


def test_test_connection_reports_the_latest_reading(em_hook, electricitymaps_api):
    ok, message = em_hook.test_connection()
    assert ok
    assert f"DE {electricitymaps_api.value_at('DE', HOUR):.0f} gCO₂e/kWh" in message


def test_test_connection_reports_a_rejected_token_without_showing_it(connection, electricitymaps_api):
    conn_id = connection(
        "carbon_bad",
        host=electricitymaps_api.base_url,
        password="bad-token-value",
        extra={"source": "electricitymaps", "zone": "DE"},
    )
    ok, message = CarbonIntensityHook(conn_id).test_connection()
    assert not ok
    assert "AuthenticationFailedError" in message
    assert "bad-token-value" not in message


def test_test_connection_reports_invalid_fields(connection):
    conn_id = connection("carbon_typo", extra={"source": "electricitymap"})
    ok, message = CarbonIntensityHook(conn_id).test_connection()
    assert not ok
    assert "source must be one of" in message


def test_the_token_is_registered_with_the_secrets_masker(em_hook):
    from airflow.sdk.log import redact

    em_hook.get_source()
    assert EM_TOKEN not in str(redact(f"token={EM_TOKEN}"))


def test_the_token_never_appears_in_hook_logs(em_hook, caplog, capfd):
    for name in ("airflow_carbon_provider", "airflow.task.hooks", "httpx", "httpcore"):
        caplog.set_level(logging.DEBUG, logger=name)
    em_hook.get_current_intensity()
    em_hook.get_forecast()
    assert caplog.records
    assert not [r for r in caplog.records if EM_TOKEN in r.getMessage()]
    out, err = capfd.readouterr()  # the hook's own logger writes through structlog
    assert EM_TOKEN not in out + err
    assert EM_TOKEN not in repr(em_hook.get_source())
