"""SourceConfig from connection fields and build_source."""

from __future__ import annotations

import pytest

from airflow_carbon_provider.carbon.config import SourceConfig, SourceKind, build_source
from airflow_carbon_provider.carbon.sources.carbon_aware_sdk import CarbonAwareSdkSource
from airflow_carbon_provider.carbon.sources.electricitymaps import ElectricityMapsSource
from airflow_carbon_provider.carbon.sources.replay import ReplaySource
from airflow_carbon_provider.carbon.sources.ukgrid import UkGridSource
from airflow_carbon_provider.carbon.sources.watttime import WattTimeSource


def test_defaults_to_replay():
    config = SourceConfig.from_connection()
    assert config.source is SourceKind.REPLAY
    assert isinstance(build_source(config), ReplaySource)


@pytest.mark.parametrize(
    ("fields", "cls"),
    [
        ({"password": "tok", "extra": {"source": "electricitymaps"}}, ElectricityMapsSource),
        ({"login": "me", "password": "pw", "extra": {"source": "watttime"}}, WattTimeSource),
        ({"extra": {"source": "ukgrid"}}, UkGridSource),
        ({"host": "http://casdk:5073", "extra": {"source": "carbon_aware_sdk"}}, CarbonAwareSdkSource),
    ],
)
def test_each_source_is_built_from_its_fields(fields, cls):
    assert isinstance(build_source(SourceConfig.from_connection(**fields)), cls)


def test_host_overrides_the_base_url():
    config = SourceConfig.from_connection(
        host="https://proxy.example/v3", password="t", extra={"source": "electricitymaps"}
    )
    source = build_source(config)
    assert isinstance(source, ElectricityMapsSource)
    assert source.api.base_url == "https://proxy.example/v3"


def test_legacy_prefixed_extras_and_empty_values_are_accepted():
    config = SourceConfig.from_connection(
        extra={"extra__carbon_intensity__source": "ukgrid", "zone": "", "replay_file": None}
    )
    assert config.source is SourceKind.UKGRID
    assert config.zone is None


def test_numbers_and_times_are_parsed():
    config = SourceConfig.from_connection(
        extra={
            "replay_speed": "60",
            "replay_start": "2023-03-01T00:00:00Z",
            "replay_wall_origin": 1700000000,
            "timeout": "5",
        }
    )
    assert (config.replay_speed, config.timeout, config.replay_wall_origin) == (60.0, 5.0, 1700000000.0)
    assert config.replay_start is not None
    assert config.replay_start.isoformat() == "2023-03-01T00:00:00+00:00"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"extra": {"source": "carbonara"}}, "source must be one of 'electricitymaps', 'watttime', 'ukgrid'"),
        ({"extra": {"source": "electricitymaps"}}, "password"),
        ({"password": "pw", "extra": {"source": "watttime"}}, "login"),
        (
            {"host": "api.example.com", "extra": {"source": "ukgrid"}},
            "host: base URL 'api.example.com' must be an http",
        ),
        ({"host": "ftp://x", "extra": {"source": "ukgrid"}}, "host"),
        ({"extra": {"replay_speed": 0}}, "replay_speed"),
        ({"extra": {"replay_speed": "fast"}}, "replay_speed must be a number"),
        ({"extra": {"timeout": -1}}, "timeout"),
        ({"extra": {"emission_factor": "mixed"}}, "emission_factor"),
        ({"extra": {"replay_forecast": "noisy"}}, "replay_forecast must be 'perfect', 'none' or a forecast error"),
        ({"extra": {"replay_forecast": "-0.1"}}, "replay_forecast"),
        ({"extra": {"replay_forecast_seed": "1.5"}}, "replay_forecast_seed must be a whole number"),
        ({"extra": {"zonee": "DE"}}, r"unknown field\(s\) \['zonee'\]"),
        ({"extra": {"source": "electricitymaps", "zone": "aws:ap-east-1"}, "password": "t"}, "aws:ap-east-1"),
    ],
)
def test_bad_fields_name_the_field_and_what_is_allowed(fields, message):
    with pytest.raises(ValueError, match=message):
        SourceConfig.from_connection(**fields)


@pytest.mark.parametrize(("value", "error"), [(None, 0.0), ("perfect", 0.0), ("none", None), ("0.05", 0.05)])
def test_the_replay_forecast_is_perfect_none_or_noisy(value, error):
    extra = {"replay_forecast": value, "replay_forecast_seed": "7"} if value else {}
    config = SourceConfig.from_connection(extra=extra)
    assert config.replay_forecast_error == error


def test_repr_masks_the_password():
    config = SourceConfig.from_connection(password="s3cr3t-token", extra={"source": "electricitymaps"})
    assert "s3cr3t-token" not in repr(config)
