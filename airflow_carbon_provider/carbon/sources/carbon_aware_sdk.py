"""Green Software Foundation Carbon Aware SDK WebAPI (self-hosted): emissions by location and current forecast.

Values are already gCO₂e/kWh; whether they are marginal or average depends on the SDK's backend (WattTime:
marginal, Electricity Maps: average), so the signal kind is configured, not guessed.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from airflow_carbon_provider.carbon.errors import (
    AuthenticationFailedError,
    CarbonSourceError,
    MalformedResponseError,
    PlanNotIncludedError,
    ZoneUnknownError,
)
from airflow_carbon_provider.carbon.http import ApiRequest, ErrorClassifier, error_detail
from airflow_carbon_provider.carbon.readings import Reading, SignalKind, normalize_series
from airflow_carbon_provider.carbon.secret import Secret
from airflow_carbon_provider.carbon.sources.base import (
    FORECAST_TTL,
    HISTORY_TTL,
    HttpSource,
    Payload,
    check_horizon,
    check_window,
    flag_gaps,
    overlapping,
    plausible,
)

if TYPE_CHECKING:
    import httpx

TIMESPAN = re.compile(r"^(?:(?P<days>\d+)\.)?(?P<h>\d{1,2}):(?P<m>\d{2}):(?P<s>\d{2})(?:\.\d+)?$")
LATEST_LOOKBACK = timedelta(hours=1)


class CarbonAwareSdkSource(HttpSource):
    name = "carbon_aware_sdk"
    default_base_url = "http://localhost:5073"

    def __init__(self, *, token: Secret | None = None, signal: SignalKind = SignalKind.MARGINAL, **kwargs: Any) -> None:
        super().__init__(credential=token, **kwargs)
        self._token = token
        self.signal = SignalKind(signal)

    async def latest(self, zone: str) -> Reading:
        """The point covering now, else the newest one of the last hour (flagged ``stale``)."""
        now = self.clock.now()
        minute = now.replace(second=0, microsecond=0)
        params = {"location": zone, "time": _iso(minute - LATEST_LOOKBACK), "toTime": _iso(minute)}
        series = await self.cache.get_or_fetch(
            self._key("latest", zone, params),
            lambda: self._fetch_emissions(zone, params),
            lambda series, at: self._latest_ttl(series[-1], at),
        )
        current = [r for r in series if r.start <= now < r.end]
        if current:
            return current[-1]
        newest = series[-1]
        return dataclasses.replace(newest, estimated=True, flags=(*newest.flags, "stale"))

    async def forecast(self, zone: str, horizon: timedelta) -> list[Reading]:
        check_horizon(horizon)
        params = {"location": zone}
        series = await self.cache.get_or_fetch(
            self._key("forecast", zone, params), lambda: self._fetch_forecast(zone, params), lambda _v, _n: FORECAST_TTL
        )
        now = self.clock.now()
        return overlapping(series, now, now + horizon)

    async def history(self, zone: str, start: datetime, end: datetime) -> list[Reading]:
        start, end = check_window(start, end)
        end = min(end, self.clock.now())
        params = {"location": zone, "time": _iso(start), "toTime": _iso(end)}
        series = await self.cache.get_or_fetch(
            self._key("history", zone, params), lambda: self._fetch_emissions(zone, params), lambda _v, _n: HISTORY_TTL
        )
        return flag_gaps(overlapping(series, start, end))

    def _request(self, path: str, params: dict[str, str]) -> ApiRequest:
        headers: dict[str, str | Secret] = {"Accept": "application/json"}
        if self._token:
            headers["Authorization"] = self._bearer()
        return ApiRequest(path, params, headers=headers)

    def _bearer(self) -> Secret:
        assert self._token is not None
        return Secret(f"Bearer {self._token.reveal()}")

    async def _fetch_emissions(self, zone: str, params: dict[str, str]) -> list[Reading]:
        path = "/emissions/bylocation"
        body = await self.api.get_json(self._request(path, params), self._classify(zone, path))
        items = body if isinstance(body, list) else [body] if body else []
        readings = [self._emissions_data(zone, Payload(self.name, f"{path} item", item)) for item in items]
        if not readings:
            raise ZoneUnknownError(self.name, f"no emissions data for location {zone!r} in the requested time")
        return normalize_series(readings)

    async def _fetch_forecast(self, zone: str, params: dict[str, str]) -> list[Reading]:
        path = "/emissions/forecasts/current"
        body = await self.api.get_json(self._request(path, params), self._classify(zone, path))
        forecasts = body if isinstance(body, list) else [body] if body else []
        if not forecasts:
            raise ZoneUnknownError(self.name, f"no forecast for location {zone!r}")
        points = Payload(self.name, path, forecasts[0]).list("forecastData")
        readings = [self._forecast_point(zone, Payload(self.name, f"{path} point", p)) for p in points]
        return normalize_series(readings)

    def _emissions_data(self, zone: str, item: Payload) -> Reading:
        start = item.time("time")
        return self._reading(zone, start, start + _timespan(self.name, item.get("duration")), item.number("rating"))

    def _forecast_point(self, zone: str, item: Payload) -> Reading:
        start = item.time("timestamp")
        minutes = item.number("duration") or 0.0
        reading = self._reading(zone, start, start + timedelta(minutes=minutes), item.number("value"))
        return dataclasses.replace(reading, forecast=True)

    def _reading(self, zone: str, start: datetime, end: datetime, value: float | None) -> Reading:
        if value is None or end <= start:
            raise MalformedResponseError(self.name, f"point at {start.isoformat()} lacks a value or a duration")
        intensity = plausible(self.name, f"point at {start.isoformat()}", value)
        return Reading(zone=zone, start=start, end=end, intensity=intensity, signal=self.signal, source=self.name)

    def _classify(self, zone: str, path: str) -> ErrorClassifier:
        def classify(response: httpx.Response) -> CarbonSourceError:
            detail = error_detail(response)
            status = response.status_code
            if status == 401:
                return AuthenticationFailedError(
                    self.name, f"the WebAPI rejected the credentials ({detail}); check the connection's password"
                )
            if status in (403, 501):
                return PlanNotIncludedError(
                    self.name,
                    f"{path} is not available ({detail}); the SDK's backend or its upstream plan does not offer it",
                )
            if status in (400, 404) and "location" in detail.lower():
                return ZoneUnknownError(
                    self.name, f"location {zone!r} was rejected ({detail}); GET /locations lists the configured names"
                )
            return CarbonSourceError(self.name, f"HTTP {status} on {path}: {detail}")

        return classify


def _timespan(source: str, value: Any) -> timedelta:
    """A .NET TimeSpan string such as ``00:05:00`` or ``1.00:00:00``."""
    match = TIMESPAN.match(str(value or ""))
    if not match:
        raise MalformedResponseError(source, f"duration {value!r} is not a TimeSpan like 00:05:00")
    days = int(match["days"] or 0)
    return timedelta(days=days, hours=int(match["h"]), minutes=int(match["m"]), seconds=int(match["s"]))


def _iso(value: datetime) -> str:
    return value.isoformat()
