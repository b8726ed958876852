"""Electricity Maps API v3: latest, forecast and history of average (lifecycle or direct) intensity."""

from __future__ import annotations

import functools
import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from airflow_carbon_provider.carbon.errors import (
    AuthenticationFailedError,
    CarbonSourceError,
    PlanNotIncludedError,
    ZoneUnknownError,
)
from airflow_carbon_provider.carbon.http import ApiRequest, ErrorClassifier, error_detail
from airflow_carbon_provider.carbon.readings import Reading, SignalKind, normalize_series
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

    from airflow_carbon_provider.carbon.secret import Secret

log = logging.getLogger(__name__)

GRANULARITY = {"5_minutes": timedelta(minutes=5), "15_minutes": timedelta(minutes=15), "hourly": timedelta(hours=1)}
HISTORY_HOURS = 24  # /history serves the last 24 hourly points, the newest being the current hour
PAST_RANGE_CHUNK = timedelta(days=10)  # documented limit for hourly granularity
PLAN_MARKERS = ("Token unauthorized for zoneKey", "Endpoint not available")


class ElectricityMapsSource(HttpSource):
    name = "electricitymaps"
    default_base_url = "https://api.electricitymaps.com/v3"

    def __init__(self, token: Secret, *, emission_factor: str = "lifecycle", **kwargs: Any) -> None:
        if not token:
            raise ValueError("password: Electricity Maps needs an API token (sent as the auth-token header)")
        if emission_factor not in ("lifecycle", "direct"):
            raise ValueError(f"emission_factor must be 'lifecycle' or 'direct', got {emission_factor!r}")
        super().__init__(credential=token, **kwargs)
        self._token = token
        self.emission_factor = emission_factor

    async def latest(self, zone: str) -> Reading:
        params = self._params(zone)
        return await self.cache.get_or_fetch(
            self._key("latest", zone, params), lambda: self._fetch_latest(zone, params), self._latest_ttl
        )

    async def forecast(self, zone: str, horizon: timedelta) -> list[Reading]:
        check_horizon(horizon)
        hours = -(-int(horizon.total_seconds()) // 3600) + 1  # +1: the series starts at the current floored hour
        params = {**self._params(zone), "horizonHours": str(hours)}
        series = await self.cache.get_or_fetch(
            self._key("forecast", zone, params),
            lambda: self._fetch_series(zone, "/carbon-intensity/forecast", params, "forecast"),
            lambda _v, _n: FORECAST_TTL,
        )
        now = self.clock.now()
        return overlapping(series, now, now + horizon)

    async def history(self, zone: str, start: datetime, end: datetime) -> list[Reading]:
        start, end = check_window(start, end)
        now = self.clock.now()
        oldest_in_history = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=HISTORY_HOURS - 1)
        if start >= oldest_in_history:
            params = self._params(zone)
            series = await self.cache.get_or_fetch(
                self._key("history", zone, params),
                lambda: self._fetch_series(zone, "/carbon-intensity/history", params, "history"),
                lambda _v, _n: HISTORY_TTL,
            )
        else:
            series = []
            chunk_start = start
            while chunk_start < end:
                chunk_end = min(end, chunk_start + PAST_RANGE_CHUNK)
                params = {**self._params(zone), "start": _iso(chunk_start), "end": _iso(chunk_end)}
                series += await self.cache.get_or_fetch(
                    self._key("past-range", zone, params),
                    functools.partial(self._fetch_series, zone, "/carbon-intensity/past-range", params, "data"),
                    lambda _v, _n: HISTORY_TTL,
                )
                chunk_start = chunk_end
        return flag_gaps(normalize_series(overlapping(series, start, min(end, now))))

    def _params(self, zone: str) -> dict[str, str]:
        return {"zone": zone, "disableCallerLookup": "true", "emissionFactorType": self.emission_factor}

    def _request(self, path: str, params: dict[str, str]) -> ApiRequest:
        return ApiRequest(path, params, headers={"auth-token": self._token, "Accept": "application/json"})

    async def _fetch_latest(self, zone: str, params: dict[str, str]) -> Reading:
        body = await self.api.get_json(self._request("/carbon-intensity/latest", params), self._classify(zone))
        payload = Payload(self.name, "latest", body)
        reading = self._reading(zone, payload, payload.get("temporalGranularity"), forecast=False)
        if reading is None:
            raise ZoneUnknownError(self.name, f"zone {zone!r} has no current value (carbonIntensity is null)")
        return reading

    async def _fetch_series(self, zone: str, path: str, params: dict[str, str], key: str) -> list[Reading]:
        body = await self.api.get_json(self._request(path, params), self._classify(zone))
        payload = Payload(self.name, path, body)
        granularity = payload.get("temporalGranularity")
        points = [Payload(self.name, f"{path} point", item) for item in payload.list(key)]
        readings = [self._reading(zone, p, granularity, forecast=key == "forecast") for p in points]
        skipped = sum(r is None for r in readings)
        if skipped:
            log.warning("%s %s: skipped %d point(s) with a null carbonIntensity for %s", self.name, path, skipped, zone)
        return normalize_series(r for r in readings if r is not None)

    def _reading(self, zone: str, point: Payload, granularity: Any, *, forecast: bool) -> Reading | None:
        value = point.number("carbonIntensity")
        if value is None:
            return None
        start = point.time("datetime")
        step = GRANULARITY.get(str(point.get("temporalGranularity") or granularity or "hourly"), timedelta(hours=1))
        return Reading(
            zone=str(point.get("zone") or zone),
            start=start,
            end=start + step,
            intensity=plausible(self.name, point.what, value),
            signal=SignalKind.AVERAGE,
            source=self.name,
            estimated=bool(point.get("isEstimated", False)),
            forecast=forecast,
            flags=(f"emission-factor:{self.emission_factor}",),
        )

    def _classify(self, zone: str) -> ErrorClassifier:
        def classify(response: httpx.Response) -> CarbonSourceError:
            detail = error_detail(response)
            if any(marker in detail for marker in PLAN_MARKERS) or response.status_code == 403:
                return PlanNotIncludedError(
                    self.name,
                    f"the token's plan does not cover {response.request.url.path} for zone {zone!r} ({detail}); "
                    "the free tier offers only latest and history for one zone",
                )
            if response.status_code == 401:
                return AuthenticationFailedError(
                    self.name,
                    f"the API token was rejected ({detail}); put a valid Electricity Maps token in the "
                    "connection's password field",
                )
            if response.status_code in (400, 404):
                return ZoneUnknownError(
                    self.name,
                    f"zone {zone!r} is unknown or has no recent data ({detail}); valid zone keys are listed by "
                    f"GET {self.api.base_url}/zones (e.g. DE, FR, SE-SE3, US-CAL-CISO)",
                )
            return CarbonSourceError(self.name, f"HTTP {response.status_code}: {detail}")

        return classify


def _iso(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.000Z")
