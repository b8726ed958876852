"""NESO (National Grid ESO) Carbon Intensity API for Great Britain: national and regional, 30-minute periods.

No key. Zones: ``GB`` (national), a region id ``1``-``17`` (``13`` = London), or an outward postcode
(``RG41``), optionally written ``regionid:13`` / ``postcode:RG41``.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from airflow_carbon_provider.carbon.errors import CarbonSourceError, MalformedResponseError, ZoneUnknownError
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

NATIONAL = frozenset({"GB", "UK", "NATIONAL"})
POSTCODE = re.compile(r"^[A-Z]{1,2}[0-9][0-9A-Z]?$")
REGION_IDS = range(1, 18)
HISTORY_CHUNK = timedelta(days=14)  # documented maximum range of /intensity/{from}/{to}
ZONE_HELP = (
    "use GB, a region id 1-17 (13 = London; table at https://carbon-intensity.github.io/api-definitions/) "
    "or an outward postcode such as RG41"
)


@dataclass(frozen=True)
class UkZone:
    """Where a UK query goes: national, or one region by id or postcode."""

    kind: str  # "national", "regionid" or "postcode"
    value: str = ""

    @property
    def suffix(self) -> str:
        return "" if self.kind == "national" else f"/{self.kind}/{self.value}"


def parse_uk_zone(zone: str) -> UkZone:
    text = zone.strip().upper()
    kind, _, value = text.rpartition(":")
    if text in NATIONAL:
        return UkZone("national")
    if kind in ("", "REGIONID") and value.isdigit():
        if int(value) not in REGION_IDS:
            raise ZoneUnknownError("ukgrid", f"region id {value} does not exist; {ZONE_HELP}")
        return UkZone("regionid", str(int(value)))
    if kind in ("", "POSTCODE") and POSTCODE.match(value):
        return UkZone("postcode", value)
    raise ZoneUnknownError("ukgrid", f"zone {zone!r} is not a UK zone; {ZONE_HELP}")


class UkGridSource(HttpSource):
    name = "ukgrid"
    default_base_url = "https://api.carbonintensity.org.uk"

    async def latest(self, zone: str) -> Reading:
        where = parse_uk_zone(zone)
        path = "/intensity" if where.kind == "national" else f"/regional{where.suffix}"
        series = await self.cache.get_or_fetch(
            self._key("latest", zone, {}),
            lambda: self._fetch(zone, where, path, forecast=False),
            lambda series, now: self._latest_ttl(series[-1], now),
        )
        return series[-1]

    async def forecast(self, zone: str, horizon: timedelta) -> list[Reading]:
        check_horizon(horizon)
        where = parse_uk_zone(zone)
        now = self.clock.now()
        window = "fw24h" if horizon <= timedelta(hours=24) else "fw48h"
        # periods are named by their end time: asking from the current half hour's start covers "now"
        path = f"{self._prefix(where)}/{_path_time(_floor_half_hour(now))}/{window}{where.suffix}"
        series = await self.cache.get_or_fetch(
            self._key("forecast", zone, {"path": path}),
            lambda: self._fetch(zone, where, path, forecast=True),
            lambda _v, _n: FORECAST_TTL,
        )
        return overlapping(series, now, now + horizon)

    async def history(self, zone: str, start: datetime, end: datetime) -> list[Reading]:
        start, end = check_window(start, end)
        where = parse_uk_zone(zone)
        end = min(end, self.clock.now())
        series: list[Reading] = []
        chunk_start = start
        while chunk_start < end:
            chunk_end = min(end, chunk_start + HISTORY_CHUNK)
            path = f"{self._prefix(where)}/{_path_time(chunk_start)}/{_path_time(chunk_end)}{where.suffix}"
            series += await self.cache.get_or_fetch(
                self._key("history", zone, {"path": path}),
                functools.partial(self._fetch, zone, where, path, forecast=False),
                lambda _v, _n: HISTORY_TTL,
            )
            chunk_start = chunk_end
        return flag_gaps(normalize_series(overlapping(series, start, end)))

    @staticmethod
    def _prefix(where: UkZone) -> str:
        return "/intensity" if where.kind == "national" else "/regional/intensity"

    async def _fetch(self, zone: str, where: UkZone, path: str, *, forecast: bool) -> list[Reading]:
        request = ApiRequest(path, headers={"Accept": "application/json"})
        body = await self.api.get_json(request, self._classify(zone, where))
        periods = _periods(Payload(self.name, path, body), where)
        readings = [self._reading(zone, Payload(self.name, f"{path} period", p), forecast) for p in periods]
        if not readings:
            raise ZoneUnknownError(self.name, f"{path} returned no periods for {zone!r}")
        return normalize_series(readings)

    def _reading(self, zone: str, period: Payload, forecast: bool) -> Reading:
        intensity = period.object("intensity")
        actual, predicted = intensity.number("actual"), intensity.number("forecast")
        value = predicted if forecast or actual is None else actual
        if value is None:
            raise MalformedResponseError(self.name, f"period {period.get('from')} has neither actual nor forecast")
        start, end = period.time("from"), period.time("to")
        if end <= start:
            raise MalformedResponseError(self.name, f"period from {start.isoformat()} to {end.isoformat()} is empty")
        return Reading(
            zone=zone,
            start=start,
            end=end,
            intensity=plausible(self.name, period.what, value),
            signal=SignalKind.AVERAGE,
            source=self.name,
            estimated=not forecast and actual is None,
            forecast=forecast,
        )

    def _classify(self, zone: str, where: UkZone) -> ErrorClassifier:
        def classify(response: httpx.Response) -> CarbonSourceError:
            detail = error_detail(response)
            if response.status_code in (400, 404) and where.kind != "national":
                return ZoneUnknownError(self.name, f"{zone!r} was rejected ({detail}); {ZONE_HELP}")
            return CarbonSourceError(self.name, f"HTTP {response.status_code} on {response.request.url.path}: {detail}")

        return classify


def _periods(payload: Payload, where: UkZone) -> list[Any]:
    """The half-hour list, whichever documented shape holds it (national list, regional list or object)."""
    data = payload.get("data")
    if where.kind == "national":
        return payload.list("data")
    region = data[0] if isinstance(data, list) and data else data
    inner = Payload(payload.source, f"{payload.what} region", region)
    if "regions" in inner.body:  # one period of all regions: not what a one-region query returns
        raise MalformedResponseError(payload.source, f"{payload.what}: got all regions, expected one")
    return inner.list("data")


def _floor_half_hour(value: datetime) -> datetime:
    return value.replace(minute=value.minute - value.minute % 30, second=0, microsecond=0)


def _path_time(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%MZ")
