"""What every carbon-intensity source offers, and the plumbing the web sources share."""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Callable, Hashable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from airflow_carbon_provider.carbon.cache import PROCESS_CACHE, TtlCache
from airflow_carbon_provider.carbon.clock import Clock, SystemClock
from airflow_carbon_provider.carbon.errors import MalformedResponseError
from airflow_carbon_provider.carbon.http import HttpApi, RetryPolicy
from airflow_carbon_provider.carbon.readings import MAX_PLAUSIBLE_INTENSITY, Reading, as_utc, parse_utc

if TYPE_CHECKING:
    from airflow_carbon_provider.carbon.secret import Secret

FORECAST_TTL = timedelta(minutes=5)
HISTORY_TTL = timedelta(minutes=5)
LATEST_MIN_TTL = timedelta(seconds=30)
"""gCO₂e/kWh. No grid comes near it (lignite emits ~1,100), so a larger value means wrong units or a corrupt answer."""


@runtime_checkable
class CarbonSource(Protocol):
    """Async access to one carbon-intensity service; readings are UTC, gCO₂e/kWh, sorted, one per interval."""

    name: str
    has_forecast: bool
    clock: Clock

    async def latest(self, zone: str) -> Reading: ...

    async def forecast(self, zone: str, horizon: timedelta) -> list[Reading]: ...

    async def history(self, zone: str, start: datetime, end: datetime) -> list[Reading]: ...


def check_horizon(horizon: timedelta) -> timedelta:
    if not isinstance(horizon, timedelta) or horizon <= timedelta(0):
        raise ValueError(f"horizon must be a positive timedelta, got {horizon!r}")
    return horizon


def check_window(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    start, end = as_utc(start, "start"), as_utc(end, "end")
    if end <= start:
        raise ValueError(f"end ({end.isoformat()}) must be after start ({start.isoformat()})")
    return start, end


def plausible(source: str, what: str, intensity: float) -> float:
    """``intensity`` (gCO₂e/kWh) if a grid can have it; an absurd value is rejected at the edge, never planned on."""
    if intensity > MAX_PLAUSIBLE_INTENSITY:
        raise MalformedResponseError(
            source,
            f"{what}: {intensity:.0f} gCO₂e/kWh is implausible (above {MAX_PLAUSIBLE_INTENSITY:.0f}); "
            "wrong units or a corrupt answer",
        )
    return intensity


def overlapping(readings: list[Reading], start: datetime, end: datetime) -> list[Reading]:
    return [r for r in readings if r.end > start and r.start < end]


def flag_gaps(readings: list[Reading]) -> list[Reading]:
    """Mark readings next to a hole in a sorted series (``gap-after`` / ``gap-before``): degraded, never hidden."""
    flagged = list(readings)
    for i, (left, right) in enumerate(itertools.pairwise(readings)):
        if left.end < right.start:
            flagged[i] = _with_flag(flagged[i], "gap-after")
            flagged[i + 1] = _with_flag(flagged[i + 1], "gap-before")
    return flagged


def _with_flag(reading: Reading, flag: str) -> Reading:
    return reading if flag in reading.flags else dataclasses.replace(reading, flags=(*reading.flags, flag))


class Payload:
    """Typed access to one decoded JSON object; a missing or wrong field is a MalformedResponseError."""

    def __init__(self, source: str, what: str, body: Any) -> None:
        if not isinstance(body, Mapping):
            raise MalformedResponseError(source, f"{what}: expected a JSON object, got {type(body).__name__}")
        self.source, self.what, self.body = source, what, body

    def get(self, key: str, default: Any = None) -> Any:
        return self.body.get(key, default)

    def list(self, key: str) -> list[Any]:
        value = self.body.get(key)
        if not isinstance(value, list):
            raise MalformedResponseError(self.source, f"{self.what}: {key!r} must be a list, got {value!r:.80}")
        return value

    def object(self, key: str) -> Payload:
        return Payload(self.source, f"{self.what}.{key}", self.body.get(key))

    def time(self, key: str) -> datetime:
        value = self.body.get(key)
        if not isinstance(value, str):
            raise MalformedResponseError(self.source, f"{self.what}: {key!r} must be a timestamp, got {value!r:.80}")
        try:
            return parse_utc(value, key)
        except ValueError as exc:
            raise MalformedResponseError(self.source, f"{self.what}: {exc}") from None

    def number(self, key: str) -> float | None:
        """A number, ``None`` when the service sent null or omitted it."""
        value = self.body.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise MalformedResponseError(
                self.source, f"{self.what}: {key!r} must be a finite number, got {value!r:.80}"
            )
        if value < 0:
            raise MalformedResponseError(self.source, f"{self.what}: {key!r} is negative ({value})")
        return float(value)


class HttpSource:
    """Holds the HTTP layer, the shared cache and the clock; subclasses only build requests and parse answers."""

    name = "http"
    has_forecast = True
    default_base_url = ""

    def __init__(
        self,
        *,
        base_url: str | None = None,
        credential: Secret | None = None,
        timeout: float = 10.0,
        retry: RetryPolicy | None = None,
        cache: TtlCache | None = None,
        clock: Clock | None = None,
        latest_max_age: timedelta = timedelta(minutes=5),
    ) -> None:
        self.clock: Clock = clock or SystemClock()
        self.api = HttpApi(self.name, base_url or self.default_base_url, timeout=timeout, retry=retry, clock=self.clock)
        self.cache = (cache if cache is not None else PROCESS_CACHE).on(self.clock)
        self.latest_max_age = latest_max_age
        self._identity = (self.name, self.api.base_url, credential.fingerprint() if credential else "")

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.api.base_url!r})"

    def _key(self, endpoint: str, zone: str, params: Mapping[str, Hashable]) -> tuple[Hashable, ...]:
        return (*self._identity, endpoint, zone, tuple(sorted(params.items())))

    def _latest_ttl(self, reading: Reading, now: datetime) -> timedelta:
        return max(LATEST_MIN_TTL, min(self.latest_max_age, reading.end - now))

    @staticmethod
    def _fixed_ttl(ttl: timedelta) -> Callable[[Any, datetime], timedelta]:
        return lambda _value, _now: ttl
