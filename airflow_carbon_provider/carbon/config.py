"""A carbon connection's fields, validated once, and the one factory that turns them into a source."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from airflow_carbon_provider.carbon.choices import parse_choice
from airflow_carbon_provider.carbon.readings import SignalKind, parse_utc
from airflow_carbon_provider.carbon.regions import resolve_zone
from airflow_carbon_provider.carbon.secret import Secret

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

    from airflow_carbon_provider.carbon.cache import TtlCache
    from airflow_carbon_provider.carbon.clock import Clock
    from airflow_carbon_provider.carbon.http import RetryPolicy
    from airflow_carbon_provider.carbon.sources.base import CarbonSource


class SourceKind(StrEnum):
    ELECTRICITYMAPS = "electricitymaps"
    WATTTIME = "watttime"
    UKGRID = "ukgrid"
    CARBON_AWARE_SDK = "carbon_aware_sdk"
    REPLAY = "replay"


EXTRA_FIELDS = (
    "source",
    "zone",
    "replay_file",
    "replay_start",
    "replay_speed",
    "replay_wall_origin",
    "replay_forecast",
    "replay_forecast_seed",
    "emission_factor",
    "signal",
    "timeout",
)
LEGACY_PREFIX = "extra__carbon_intensity__"


@dataclass(frozen=True)
class SourceConfig:
    """Everything needed to build a source; ``password`` stays a :class:`Secret`, so this is safe to log."""

    source: SourceKind = SourceKind.REPLAY
    base_url: str | None = None
    login: str | None = None
    password: Secret | None = None
    zone: str | None = None
    replay_file: str | None = None
    replay_start: datetime | None = None
    replay_speed: float = 1.0
    replay_wall_origin: float | None = None
    replay_forecast_error: float | None = 0.0
    replay_forecast_seed: int = 0
    emission_factor: str = "lifecycle"
    signal: SignalKind | None = None
    timeout: float = 10.0
    retry: RetryPolicy | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if self.base_url is not None:
            parts = urlsplit(self.base_url)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ValueError(
                    f"host: base URL {self.base_url!r} must be an http(s) URL such as "
                    "https://api.electricitymaps.com/v3 (leave it empty for the service's default)"
                )
        if self.source is SourceKind.ELECTRICITYMAPS and not self.password:
            raise ValueError("password: the electricitymaps source needs an API token in the password field")
        if self.source is SourceKind.WATTTIME and not (self.login and self.password):
            raise ValueError("login/password: the watttime source needs the account's username and password")
        if not self.replay_speed > 0:
            raise ValueError(f"replay_speed must be > 0 (1 = real time), got {self.replay_speed!r}")
        if not self.timeout > 0:
            raise ValueError(f"timeout must be > 0 seconds, got {self.timeout!r}")
        if self.emission_factor not in ("lifecycle", "direct"):
            raise ValueError(f"emission_factor must be 'lifecycle' or 'direct', got {self.emission_factor!r}")
        if self.zone:
            resolve_zone(self.zone, self.source)  # an unmappable cloud region fails here, at parse time

    @classmethod
    def from_connection(
        cls,
        *,
        host: str | None = None,
        login: str | None = None,
        password: str | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> SourceConfig:
        """Build from an Airflow connection's host/login/password and extra (plain or ``extra__…`` keys)."""
        fields = {k.removeprefix(LEGACY_PREFIX): v for k, v in (extra or {}).items() if v not in (None, "")}
        unknown = sorted(set(fields) - set(EXTRA_FIELDS))
        if unknown:
            raise ValueError(f"extra: unknown field(s) {unknown}; allowed: {', '.join(EXTRA_FIELDS)}")
        return cls(
            source=parse_choice(SourceKind, fields.get("source", SourceKind.REPLAY), "source"),
            base_url=host or None,
            login=login or None,
            password=Secret(password) if password else None,
            zone=str(fields["zone"]) if "zone" in fields else None,
            replay_file=str(fields["replay_file"]) if "replay_file" in fields else None,
            replay_start=parse_utc(str(fields["replay_start"]), "replay_start") if "replay_start" in fields else None,
            replay_speed=_number(fields.get("replay_speed", 1.0), "replay_speed"),
            replay_wall_origin=_number(fields["replay_wall_origin"], "replay_wall_origin")
            if "replay_wall_origin" in fields
            else None,
            replay_forecast_error=_replay_forecast(fields.get("replay_forecast", "perfect")),
            replay_forecast_seed=_whole(fields.get("replay_forecast_seed", 0), "replay_forecast_seed"),
            emission_factor=str(fields.get("emission_factor", "lifecycle")),
            signal=parse_choice(SignalKind, fields["signal"], "signal") if "signal" in fields else None,
            timeout=_number(fields.get("timeout", 10.0), "timeout"),
        )


def build_source(config: SourceConfig, clock: Clock | None = None, cache: TtlCache | None = None) -> CarbonSource:
    """The client for ``config.source``; ``clock``/``cache`` are injected by tests and by the replay CLI.

    The clients (and httpx) are imported here, not at module import, so parsing a DAG stays cheap.
    """
    from airflow_carbon_provider.carbon.sources.carbon_aware_sdk import CarbonAwareSdkSource
    from airflow_carbon_provider.carbon.sources.electricitymaps import ElectricityMapsSource
    from airflow_carbon_provider.carbon.sources.replay import ReplaySource
    from airflow_carbon_provider.carbon.sources.ukgrid import UkGridSource
    from airflow_carbon_provider.carbon.sources.watttime import WattTimeSource

    web: dict[str, Any] = {
        "base_url": config.base_url,
        "timeout": config.timeout,
        "retry": config.retry,
        "cache": cache,
        "clock": clock,
    }
    match config.source:
        case SourceKind.ELECTRICITYMAPS:
            assert config.password is not None
            return ElectricityMapsSource(config.password, emission_factor=config.emission_factor, **web)
        case SourceKind.WATTTIME:
            assert config.login is not None
            assert config.password is not None
            return WattTimeSource(config.login, config.password, **web)
        case SourceKind.UKGRID:
            return UkGridSource(**web)
        case SourceKind.CARBON_AWARE_SDK:
            return CarbonAwareSdkSource(token=config.password, signal=config.signal or SignalKind.MARGINAL, **web)
        case SourceKind.REPLAY:
            return ReplaySource(
                replay_file=config.replay_file,
                zone=resolve_zone(config.zone, SourceKind.REPLAY) if config.zone else None,
                emission_factor=config.emission_factor,
                clock=clock,
                replay_start=config.replay_start,
                replay_speed=config.replay_speed,
                replay_wall_origin=config.replay_wall_origin,
                forecast_error=config.replay_forecast_error,
                forecast_seed=config.replay_forecast_seed,
            )
    raise AssertionError(f"unhandled source {config.source}")


def _replay_forecast(value: Any) -> float | None:
    """``perfect`` (the recorded future), ``none`` (no forecast) or an error fraction such as ``0.05``."""
    text = str(value).strip().lower()
    if text == "perfect":
        return 0.0
    if text == "none":
        return None
    try:
        error = float(text)
    except ValueError:
        error = -1.0
    if not 0 <= error < 10:
        raise ValueError(
            f"replay_forecast must be 'perfect', 'none' or a forecast error fraction such as 0.05, got {value!r}"
        )
    return error


def _whole(value: Any, name: str) -> int:
    number = _number(value, name)
    if not number.is_integer():
        raise ValueError(f"{name} must be a whole number, got {value!r}")
    return int(number)


def _number(value: Any, name: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(number):  # float() accepts "inf" and "nan": an infinite timeout is no timeout
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return number
