"""WattTime API v3: marginal emissions (MOER) forecast and history, signal index, region lookup.

Login is HTTP Basic -> bearer token (valid 30 min); the token is cached per account in the shared cache and
a data call answered 401/403 logs in again once. Values arrive in lbs/MWh and leave in gCO₂e/kWh.
"""

from __future__ import annotations

import functools
import logging
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from airflow_carbon_provider.carbon.errors import (
    AuthenticationFailedError,
    CarbonSourceError,
    MalformedResponseError,
    PlanNotIncludedError,
    ZoneUnknownError,
)
from airflow_carbon_provider.carbon.http import ApiRequest, ErrorClassifier, error_detail, runtime_secret
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

log = logging.getLogger(__name__)

LBS_PER_MWH_TO_G_PER_KWH = 0.45359237
UNIT_FACTORS = {"lbs_co2_per_mwh": LBS_PER_MWH_TO_G_PER_KWH, "g_co2_per_kwh": 1.0, "kg_co2_per_mwh": 1.0}
TOKEN_TTL = timedelta(minutes=29)  # documented validity is 30 minutes
MAX_HORIZON_HOURS = 72
HISTORY_CHUNK = timedelta(days=30)  # each query is limited to 32 days
PLAN_HINT = "free accounts may read CAISO_NORTH only; GET /v3/my-access lists what your plan includes"


@dataclass(frozen=True)
class SignalIndex:
    """WattTime's 0-100 percentile of the current MOER against the coming day (0 = cleanest)."""

    zone: str
    point_time: datetime
    percentile: float


class WattTimeSource(HttpSource):
    name = "watttime"
    default_base_url = "https://api.watttime.org"

    def __init__(self, username: str, password: Secret, *, signal_type: str = "co2_moer", **kwargs: Any) -> None:
        if not username:
            raise ValueError("login: WattTime needs the account's username in the connection's login field")
        if not password:
            raise ValueError("password: WattTime needs the account's password in the connection's password field")
        if signal_type not in ("co2_moer", "co2_aoer"):
            raise ValueError(f"signal_type must be 'co2_moer' or 'co2_aoer', got {signal_type!r}")
        super().__init__(credential=Secret(f"{username}:{password.reveal()}"), **kwargs)
        self.username, self._password, self.signal_type = username, password, signal_type
        self.signal = SignalKind.MARGINAL if signal_type == "co2_moer" else SignalKind.AVERAGE
        self._token_key = self._key("login", "", {"username": username})

    async def latest(self, zone: str) -> Reading:
        """The nowcast: the first point of a zero-hour forecast, an estimate of the current 5-minute period."""
        params = {"region": zone, "signal_type": self.signal_type, "horizon_hours": "0"}
        series = await self.cache.get_or_fetch(
            self._key("latest", zone, params),
            lambda: self._fetch_series(zone, "/v3/forecast", params, forecast=False),
            lambda series, now: self._latest_ttl(series[0], now),
        )
        return series[0]

    async def forecast(self, zone: str, horizon: timedelta) -> list[Reading]:
        check_horizon(horizon)
        hours = min(MAX_HORIZON_HOURS, math.ceil(horizon.total_seconds() / 3600))
        if horizon > timedelta(hours=MAX_HORIZON_HOURS):
            log.warning("%s forecasts reach %d h; horizon %s is cut to that", self.name, MAX_HORIZON_HOURS, horizon)
        params = {"region": zone, "signal_type": self.signal_type, "horizon_hours": str(hours)}
        series = await self.cache.get_or_fetch(
            self._key("forecast", zone, params),
            lambda: self._fetch_series(zone, "/v3/forecast", params, forecast=True),
            lambda _v, _n: FORECAST_TTL,
        )
        now = self.clock.now()
        return overlapping(series, now, now + horizon)

    async def history(self, zone: str, start: datetime, end: datetime) -> list[Reading]:
        start, end = check_window(start, end)
        end = min(end, self.clock.now())
        series: list[Reading] = []
        chunk_start = start
        while chunk_start < end:
            chunk_end = min(end, chunk_start + HISTORY_CHUNK)
            params = {
                "region": zone,
                "signal_type": self.signal_type,
                "start": chunk_start.isoformat(),
                "end": chunk_end.isoformat(),
            }
            series += await self.cache.get_or_fetch(
                self._key("historical", zone, params),
                functools.partial(self._fetch_series, zone, "/v3/historical", params, forecast=False),
                lambda _v, _n: HISTORY_TTL,
            )
            chunk_start = chunk_end
        return flag_gaps(normalize_series(overlapping(series, start, end)))

    async def signal_index(self, zone: str) -> SignalIndex:
        params = {"region": zone, "signal_type": "co2_moer"}
        body = await self._get("/v3/signal-index", params, zone)
        payload = Payload(self.name, "/v3/signal-index", body)
        data = payload.get("data")
        point = Payload(self.name, "signal-index point", data[0] if isinstance(data, list) and data else body)
        value = point.number("value")
        if value is None:
            value = point.number("percent")
        if value is None or value > 100:
            raise MalformedResponseError(self.name, f"signal-index for {zone!r} has no 0-100 value: {body!r:.120}")
        when = point.time("point_time") if point.get("point_time") else self.clock.now()
        return SignalIndex(zone=zone, point_time=when, percentile=value)

    async def region_from_loc(self, latitude: float, longitude: float) -> str:
        """The WattTime region covering a point (re-resolve at least monthly, as WattTime advises)."""
        params = {"latitude": str(latitude), "longitude": str(longitude), "signal_type": self.signal_type}
        body = await self.cache.get_or_fetch(
            self._key("region-from-loc", "", params),
            lambda: self._get("/v3/region-from-loc", params, f"{latitude},{longitude}"),
            lambda _v, _n: timedelta(days=1),
        )
        region = Payload(self.name, "/v3/region-from-loc", body).get("region")
        if not isinstance(region, str) or not region:
            raise MalformedResponseError(self.name, f"region-from-loc answered without a region: {body!r:.120}")
        return region

    async def _fetch_series(self, zone: str, path: str, params: dict[str, str], *, forecast: bool) -> list[Reading]:
        payload = Payload(self.name, path, await self._get(path, params, zone))
        meta = payload.object("meta")
        for warning in meta.get("warnings") or []:
            log.warning("%s %s warning for %s: %s", self.name, path, zone, warning)
        units = meta.get("units")
        factor = UNIT_FACTORS.get(str(units))
        if factor is None:
            raise MalformedResponseError(self.name, f"{path}: unsupported units {units!r}; expected lbs_co2_per_mwh")
        period = meta.number("data_point_period_seconds") or 300.0
        nowcast = path == "/v3/forecast" and not forecast  # the zero-hour forecast stands in for a measurement
        readings = []
        for item in payload.list("data"):
            point = Payload(self.name, f"{path} point", item)
            value, start = point.number("value"), point.time("point_time")
            if value is None:
                continue
            readings.append(
                Reading(
                    zone=zone,
                    start=start,
                    end=start + timedelta(seconds=period),
                    intensity=plausible(self.name, point.what, value * factor),
                    signal=self.signal,
                    source=self.name,
                    estimated=nowcast or bool(point.get("imputed_data_used")),
                    forecast=forecast,
                    flags=("nowcast",) if nowcast else (),
                )
            )
        if not readings:
            raise ZoneUnknownError(self.name, f"{path} returned no data for region {zone!r}")
        return normalize_series(readings)

    async def _get(self, path: str, params: dict[str, str], zone: str) -> Any:
        """A data call with the bearer token; on 401/403 log in again and retry exactly once."""
        classify = self._classify(zone, path)
        token = await self._login()
        try:
            return await self.api.get_json(self._bearer(path, params, token), classify)
        except (AuthenticationFailedError, PlanNotIncludedError):
            self.cache.invalidate(self._token_key)
            log.info("%s answered 401/403 on %s; logging in again once", self.name, path)
        return await self.api.get_json(self._bearer(path, params, await self._login()), classify)

    @staticmethod
    def _bearer(path: str, params: dict[str, str], token: Secret) -> ApiRequest:
        return ApiRequest(path, params, headers={"Authorization": Secret(f"Bearer {token.reveal()}")})

    async def _login(self) -> Secret:
        return await self.cache.get_or_fetch(self._token_key, self._fetch_token, lambda _v, _n: TOKEN_TTL)

    async def _fetch_token(self) -> Secret:
        request = ApiRequest("/login", basic_auth=(self.username, self._password))
        body = await self.api.get_json(request, self._classify_login)
        token = Payload(self.name, "/login", body).get("token")
        if not isinstance(token, str) or not token:
            raise MalformedResponseError(self.name, "/login answered without a token")
        return runtime_secret(token)

    def _classify_login(self, response: httpx.Response) -> CarbonSourceError:
        if response.status_code in (400, 401, 403):
            return AuthenticationFailedError(
                self.name,
                f"login for user {self.username!r} was rejected (HTTP {response.status_code}); check the "
                "connection's login (username) and password",
            )
        return CarbonSourceError(self.name, f"/login failed with HTTP {response.status_code}")

    def _classify(self, zone: str, path: str) -> ErrorClassifier:
        def classify(response: httpx.Response) -> CarbonSourceError:
            detail = error_detail(response)
            status = response.status_code
            if status == 401:
                return AuthenticationFailedError(
                    self.name, f"the bearer token was rejected on {path} ({detail}); check login and password"
                )
            if status == 403:
                return PlanNotIncludedError(
                    self.name, f"your plan does not include {path} for region {zone!r} ({detail}); {PLAN_HINT}"
                )
            if status in (400, 404, 422):
                return ZoneUnknownError(
                    self.name,
                    f"{path} rejected region {zone!r} ({detail}); use a WattTime region code such as CAISO_NORTH "
                    "(GET /v3/my-access lists yours, /v3/region-from-loc finds one for coordinates)",
                )
            return CarbonSourceError(self.name, f"HTTP {status} on {path}: {detail}")

        return classify
