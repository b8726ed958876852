"""Fake carbon-intensity services speaking the documented shapes.

The vendors' documented example bodies are in ``tests/data/carbon-apis/``; ``tests/fakes/test_carbon_apis.py``
holds every endpoint here to their shapes. Nothing is built from the provider's own models: the only provider
code used is the tests' injected clock.

Each emulator runs its own :class:`FakeHttpServer`, checks what a real service would check (path, params, auth
header) and answers with documented bodies and errors. Values are deterministic functions of zone and time
(``value_at``) so tests can compute expectations; "now" comes from the emulator's ``clock`` (the shared
``fake_clock``, a ``ManualClock``, unless a test sets the ``loop_clock`` of its virtual-time loop).

Fixtures (registered for the whole suite through tests/conftest.py): ``fake_clock``, ``loop_clock``,
``electricitymaps_api``, ``watttime_api``, ``ukgrid_api``, ``carbon_aware_sdk_api`` (served in the test's event
loop for asyncio tests, in a thread otherwise). Script faults with ``api.server.script(...)`` and
count requests with ``api.server.count(path_regex)``.
"""

from __future__ import annotations

import base64
import itertools
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pytest

from airflow_carbon_provider.carbon.clock import Clock, ManualClock
from tests.fakes.http_server import FakeHttpServer, FakeResponse, RecordedRequest
from tests.virtual_time import LoopClock, VirtualEventLoop

FAKE_NOW = datetime(2024, 3, 6, 19, 42, 10, tzinfo=UTC)
EM_TOKEN = "em-Sup3rSecretToken-0001"
WT_USER, WT_PASSWORD = "wt-user", "wt-P4ssw0rd-secret"
LBS_TO_G = 0.45359237
Serve = Callable[[FakeHttpServer], FakeHttpServer]


def _floor(value: datetime, step: timedelta) -> datetime:
    seconds = int(step.total_seconds())
    return datetime.fromtimestamp(int(value.timestamp()) // seconds * seconds, UTC)


def _em_time(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _uk_time(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%MZ")


class _Emulator:
    """Shared parts: the server, the clock, and a deterministic value per (zone, time)."""

    def __init__(self, clock: Clock, bases: dict[str, float]) -> None:
        self.clock = clock
        self.bases = dict(bases)
        self.latency = 0.0
        self.server = FakeHttpServer()

    @property
    def url(self) -> str:
        return self.server.url

    def value_at(self, zone: str, start: datetime) -> float:
        """Base value of the zone plus a daily ramp: 10 per hour of the day."""
        return self.bases[zone] + 10 * start.hour

    def ok(self, body: Any) -> FakeResponse:
        return FakeResponse(200, body, delay=self.latency)


class FakeElectricityMaps(_Emulator):
    """v3 under ``/v3``; ``auth-token`` required; ``zone`` (or ``zoneKey``) and ``disableCallerLookup=true`` checked."""

    def __init__(self, clock: Clock) -> None:
        super().__init__(clock, {"DE": 300.0, "SE-SE3": 20.0, "US-CAL-CISO": 200.0, "FR": 40.0})
        self.token = EM_TOKEN
        self.forecast_allowed = True
        self.null_history_hours: set[int] = set()
        for name in ("latest", "history", "forecast", "past-range"):
            self.server.route("GET", f"/v3/carbon-intensity/{name}", self._guarded(name))

    @property
    def base_url(self) -> str:
        return f"{self.url}/v3"

    def _guarded(self, endpoint: str) -> Any:
        def handle(request: RecordedRequest, _match: re.Match[str]) -> FakeResponse:
            if request.headers.get("auth-token") != self.token:
                return FakeResponse(401, {"error": "token is invalid or expired"})
            if request.param("disableCallerLookup") != "true":
                return FakeResponse(400, {"status": "error", "message": "fake: send disableCallerLookup=true"})
            zone = request.param("zone") or request.param("zoneKey")
            if zone not in self.bases:
                return FakeResponse(404, {"status": "error", "message": "No recent data available for this zone"})
            if endpoint in ("forecast", "past-range") and not self.forecast_allowed:
                return FakeResponse(401, {"error": f"Token unauthorized for zoneKey {zone}. Endpoint not available"})
            return getattr(self, "_" + endpoint.replace("-", "_"))(zone, request)

        return handle

    def point(self, zone: str, start: datetime, *, null: bool = False) -> dict[str, Any]:
        return {
            "zone": zone,
            "carbonIntensity": None if null else self.value_at(zone, start),
            "datetime": _em_time(start),
            "updatedAt": _em_time(self.clock.now() - timedelta(minutes=10)),
            "createdAt": _em_time(start - timedelta(days=3)),
            "emissionFactorType": "lifecycle",
            "isEstimated": start >= _floor(self.clock.now(), timedelta(hours=1)),
            "estimationMethod": "TIME_SLICER_AVERAGE",
        }

    def _latest(self, zone: str, _request: RecordedRequest) -> FakeResponse:
        return self.ok(self.point(zone, _floor(self.clock.now(), timedelta(hours=1))))

    def _history(self, zone: str, _request: RecordedRequest) -> FakeResponse:
        hour = _floor(self.clock.now(), timedelta(hours=1))
        starts = [hour - timedelta(hours=23 - i) for i in range(24)]
        points = [self.point(zone, s, null=s.hour in self.null_history_hours) for s in starts]
        return self.ok({"zone": zone, "history": points})  # no temporalGranularity, as in the 2024 capture

    def _forecast(self, zone: str, request: RecordedRequest) -> FakeResponse:
        hour = _floor(self.clock.now(), timedelta(hours=1))
        hours = int(request.param("horizonHours") or 24)
        points = [
            {
                "carbonIntensity": self.value_at(zone, hour + timedelta(hours=i)),
                "datetime": _em_time(hour + timedelta(hours=i)),
            }
            for i in range(hours)
        ]
        return self.ok({"zone": zone, "updatedAt": _em_time(self.clock.now()), "forecast": points})

    def _past_range(self, zone: str, request: RecordedRequest) -> FakeResponse:
        start = datetime.fromisoformat(request.param("start") or "")
        end = datetime.fromisoformat(request.param("end") or "")
        if end - start > timedelta(hours=240):
            return FakeResponse(400, {"status": "error", "message": "range exceeds 10 days for hourly granularity"})
        starts = itertools.takewhile(lambda s: s < end, (start + timedelta(hours=i) for i in itertools.count()))
        return self.ok({"zone": zone, "temporalGranularity": "hourly", "data": [self.point(zone, s) for s in starts]})


class FakeWattTime(_Emulator):
    """``/login`` (basic auth) -> bearer token; data calls need the current token; CAISO_NORTH is the free region."""

    def __init__(self, clock: Clock) -> None:
        super().__init__(clock, {"CAISO_NORTH": 800.0, "PJM_NJ": 1000.0})
        self.allowed = {"CAISO_NORTH"}
        self.tokens: set[str] = set()
        self.logins = 0
        self.warnings: list[dict[str, str]] = []
        self.locations = {(38.5, -121.5): ("CAISO_NORTH", "California ISO Northern")}
        self.server.route("GET", "/login", self._login)
        for path, handler in (
            ("/v3/forecast", self._forecast),
            ("/v3/historical", self._historical),
            ("/v3/signal-index", self._signal_index),
            ("/v3/region-from-loc", self._region_from_loc),
        ):
            self.server.route("GET", path, self._guarded(handler))

    def expire_tokens(self) -> None:
        self.tokens.clear()

    def _login(self, request: RecordedRequest, _match: re.Match[str]) -> FakeResponse:
        expected = "Basic " + base64.b64encode(f"{WT_USER}:{WT_PASSWORD}".encode()).decode()
        if request.headers.get("authorization") != expected:
            return FakeResponse(401, {"error": "UNAUTHORIZED", "message": "invalid username or password"})
        self.logins += 1
        token = f"wt-bearer-{self.logins:04d}-secret"
        self.tokens.add(token)
        return self.ok({"token": token})

    def _guarded(self, handler: Any) -> Any:
        def handle(request: RecordedRequest, _match: re.Match[str]) -> FakeResponse:
            auth = request.headers.get("authorization", "")
            if not auth.startswith("Bearer ") or auth.removeprefix("Bearer ") not in self.tokens:
                return FakeResponse(401, {"error": "UNAUTHORIZED", "message": "token expired"})
            region = request.param("region")
            if region is not None and region not in self.bases:
                return FakeResponse(
                    400,
                    {
                        "error": "INVALID_QUERY_PARAMS",
                        "message": f"unknown region {region}",
                        "docs": "https://docs.watttime.org/",
                    },
                )
            if region is not None and region not in self.allowed:
                return FakeResponse(
                    403,
                    {
                        "error": "FORBIDDEN",
                        "message": "Invalid scope. You do not have sufficient access to this resource. Please note "
                        "that all users are allowed free access to CAISO_NORTH.",
                    },
                )
            response: FakeResponse = handler(request)
            return response

        return handle

    def _series(self, region: str, starts: list[datetime], units: str = "lbs_co2_per_mwh") -> dict[str, Any]:
        """The historical / signal-index envelope (``V3Response``): no ``generated_at*``, the model has a type."""
        return {
            "data": [{"point_time": s.isoformat(), "value": self.value_at(region, s)} for s in starts],
            "meta": {
                "data_point_period_seconds": 300,
                "region": region,
                "warnings": self.warnings,
                "signal_type": "co2_moer",
                "model": {"type": "binned_regression", "date": "2023-03-01"},
                "units": units,
            },
        }

    def _forecast_series(self, region: str, starts: list[datetime]) -> dict[str, Any]:
        """``V3SingleForecastResponse``: the envelope plus when the forecast was generated, the model by date only."""
        body = self._series(region, starts)
        body["meta"]["model"] = {"date": "2023-03-01"}
        body["meta"]["generated_at_period_seconds"] = 300
        body["meta"]["generated_at"] = _floor(self.clock.now(), timedelta(minutes=5)).isoformat()
        return body

    def _forecast(self, request: RecordedRequest) -> FakeResponse:
        region = request.param("region") or ""
        hours = int(request.param("horizon_hours") or 24)
        start = _floor(self.clock.now(), timedelta(minutes=5))
        count = max(1, hours * 12)
        return self.ok(self._forecast_series(region, [start + timedelta(minutes=5 * i) for i in range(count)]))

    def _historical(self, request: RecordedRequest) -> FakeResponse:
        region = request.param("region") or ""
        try:
            start = datetime.fromisoformat(request.param("start") or "")
            end = datetime.fromisoformat(request.param("end") or "")
        except ValueError:
            return FakeResponse(400, {"error": "INVALID_QUERY_PARAMS", "msg": "start/end must be ISO-8601"})
        if start.tzinfo is None or end.tzinfo is None:
            return FakeResponse(400, {"error": "INVALID_QUERY_PARAMS", "message": "Time zones are required"})
        first = _floor(start, timedelta(minutes=5))
        starts = list(
            itertools.takewhile(lambda s: s <= end, (first + timedelta(minutes=5 * i) for i in itertools.count()))
        )
        return self.ok(self._series(region, starts))

    def _signal_index(self, request: RecordedRequest) -> FakeResponse:
        region = request.param("region") or ""
        body = self._series(region, [_floor(self.clock.now(), timedelta(minutes=5))], units="percentile")
        body["data"][0]["value"] = 37
        return self.ok(body)

    def _region_from_loc(self, request: RecordedRequest) -> FakeResponse:
        key = (float(request.param("latitude") or "nan"), float(request.param("longitude") or "nan"))
        if key not in self.locations:
            return FakeResponse(404, {"error": "Coordinates not found", "message": "Coordinates not found error"})
        region, full_name = self.locations[key]
        return self.ok({"region": region, "region_full_name": full_name, "signal_type": request.param("signal_type")})


class FakeUkGrid(_Emulator):
    """NESO API: national ``/intensity...`` and regional ``/regional...``; regions by id (1-17) or outward postcode."""

    POSTCODES = {"RG41": 12, "SW1": 13, "BS16": 11}
    TIME = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}Z"

    def __init__(self, clock: Clock) -> None:
        bases = {"GB": 150.0, **{str(i): 100.0 + i for i in range(1, 18)}}
        super().__init__(clock, bases)
        self.regional_series_as_list = False  # live answers carry an object; the docs show a list
        self.null_actual_periods: set[str] = set()
        t = self.TIME
        self.server.route("GET", "/intensity", self._national_now)
        self.server.route("GET", rf"/intensity/(?P<start>{t})/(?P<span>fw24h|fw48h|{t})", self._national_span)
        self.server.route("GET", r"/regional/(?P<kind>regionid|postcode)/(?P<value>[^/]+)", self._regional_now)
        self.server.route(
            "GET",
            rf"/regional/intensity/(?P<start>{t})/(?P<span>fw24h|fw48h|{t})/(?P<kind>regionid|postcode)/(?P<value>[^/]+)",
            self._regional_span,
        )

    @staticmethod
    def bad_request(message: str) -> FakeResponse:
        return FakeResponse(400, {"error": {"code": "400 Bad Request", "message": message}})

    def _periods(self, zone: str, starts: list[datetime], now: datetime, national: bool) -> list[dict[str, Any]]:
        periods = []
        for start in starts:
            value = self.value_at(zone, start)
            intensity: dict[str, Any] = {"forecast": value, "index": "moderate"}
            if national:
                past = start + timedelta(minutes=30) <= now and _uk_time(start) not in self.null_actual_periods
                intensity["actual"] = value - 5 if past else None
            periods.append(
                {"from": _uk_time(start), "to": _uk_time(start + timedelta(minutes=30)), "intensity": intensity}
            )
        return periods

    def _starts(self, start_text: str, span: str) -> list[datetime]:
        start = datetime.fromisoformat(start_text)
        # the half hour ending at (or containing) {from}, as the live API answers
        first = _floor(start + timedelta(minutes=29), timedelta(minutes=30)) - timedelta(minutes=30)
        end = (
            start + timedelta(hours=24 if span == "fw24h" else 48)
            if span.startswith("fw")
            else datetime.fromisoformat(span)
        )
        return list(
            itertools.takewhile(lambda s: s < end, (first + timedelta(minutes=30 * i) for i in itertools.count()))
        )

    def _current(self) -> datetime:
        return _floor(self.clock.now(), timedelta(minutes=30))

    def _national_now(self, _request: RecordedRequest, _match: re.Match[str]) -> FakeResponse:
        return self.ok({"data": self._periods("GB", [self._current()], self.clock.now(), national=True)})

    def _national_span(self, _request: RecordedRequest, match: re.Match[str]) -> FakeResponse:
        starts = self._starts(match["start"], match["span"])
        return self.ok({"data": self._periods("GB", starts, self.clock.now(), national=True)})

    def _region(self, kind: str, value: str) -> str | None:
        region = self.POSTCODES.get(value) if kind == "postcode" else int(value) if value.isdigit() else None
        return str(region) if region is not None and str(region) in self.bases else None

    def _region_body(self, region: str, kind: str, value: str, periods: list[dict[str, Any]]) -> dict[str, Any]:
        body: dict[str, Any] = {
            "regionid": int(region),
            "dnoregion": "Fake DNO",
            "shortname": f"Region {region}",
            "data": periods,
        }
        if kind == "postcode":
            body["postcode"] = value
        for period in periods:
            period["generationmix"] = [{"fuel": "gas", "perc": 43.6}, {"fuel": "wind", "perc": 6.8}]
        return body

    def _regional_now(self, _request: RecordedRequest, match: re.Match[str]) -> FakeResponse:
        region = self._region(match["kind"], match["value"])
        if region is None:
            return self.bad_request(f"Invalid {match['kind']} {match['value']}")
        periods = self._periods(region, [self._current()], self.clock.now(), national=False)
        return self.ok({"data": [self._region_body(region, match["kind"], match["value"], periods)]})

    def _regional_span(self, _request: RecordedRequest, match: re.Match[str]) -> FakeResponse:
        region = self._region(match["kind"], match["value"])
        if region is None:
            return self.bad_request(f"Invalid {match['kind']} {match['value']}")
        periods = self._periods(region, self._starts(match["start"], match["span"]), self.clock.now(), national=False)
        body = self._region_body(region, match["kind"], match["value"], periods)
        return self.ok({"data": [body] if self.regional_series_as_list else body})


class FakeCarbonAwareSdk(_Emulator):
    """Self-hosted WebAPI: ``/emissions/bylocation`` (TimeSpan durations) and ``/emissions/forecasts/current``."""

    def __init__(self, clock: Clock) -> None:
        super().__init__(clock, {"eastus": 400.0, "westus": 250.0})
        self.backend_region = {"eastus": "PJM_ROANOKE", "westus": "CAISO_NORTH"}
        self.forecast_supported = True
        self.server.route("GET", "/emissions/bylocation", self._by_location)
        self.server.route("GET", "/emissions/forecasts/current", self._forecast)

    @staticmethod
    def problem(status: int, title: str, detail: str, errors: dict[str, list[str]] | None = None) -> FakeResponse:
        body: dict[str, Any] = {"title": title, "status": status, "detail": detail, "traceId": "00-fake-00"}
        if errors:
            body["errors"] = errors
        return FakeResponse(status, body)

    def _location(self, request: RecordedRequest) -> str | FakeResponse:
        location = request.param("location")
        if not location:
            return self.problem(
                400, "One or more validation errors occurred.", "", {"location": ["location is not set"]}
            )
        if location not in self.bases:
            return self.problem(
                400, "ArgumentException", f"Unknown location: '{location}'", {"location": [f"unknown {location}"]}
            )
        return location

    def _by_location(self, request: RecordedRequest, _match: re.Match[str]) -> FakeResponse:
        location = self._location(request)
        if isinstance(location, FakeResponse):
            return location
        start = datetime.fromisoformat(request.param("time") or self.clock.now().isoformat())
        end = datetime.fromisoformat(request.param("toTime") or start.isoformat())
        first = _floor(start, timedelta(hours=1))
        starts = list(itertools.takewhile(lambda s: s <= end, (first + timedelta(hours=i) for i in itertools.count())))
        if not starts:
            return FakeResponse(204, None)
        return self.ok(
            [
                {
                    "location": self.backend_region[location],
                    "time": s.isoformat(),
                    "rating": self.value_at(location, s),
                    "duration": "01:00:00",
                }
                for s in starts
            ]
        )

    def _forecast(self, request: RecordedRequest, _match: re.Match[str]) -> FakeResponse:
        location = self._location(request)
        if isinstance(location, FakeResponse):
            return location
        if not self.forecast_supported:
            return self.problem(501, "NotImplementedException", "The method or operation is not implemented.")
        start = _floor(self.clock.now(), timedelta(minutes=5))
        points = [
            {
                "location": self.backend_region[location],
                "timestamp": (start + timedelta(minutes=5 * i)).isoformat(),
                "duration": 5,
                "value": self.value_at(location, start + timedelta(minutes=5 * i)),
            }
            for i in range(24 * 12)
        ]
        best = min(points, key=lambda p: p["value"])
        return self.ok(
            [
                {
                    "requestedAt": self.clock.now().isoformat(),
                    "generatedAt": start.isoformat(),
                    "location": location,
                    "dataStartAt": points[0]["timestamp"],
                    "dataEndAt": (start + timedelta(hours=24)).isoformat(),
                    "windowSize": 0,
                    "optimalDataPoints": [best],
                    "forecastData": points,
                }
            ]
        )


@pytest.fixture
def fake_clock() -> ManualClock:
    return ManualClock(FAKE_NOW)


@pytest.fixture
def loop_clock(virtual_loop: VirtualEventLoop) -> LoopClock:
    """FAKE_NOW at the start of an asyncio test, moving with its loop's virtual time."""
    return LoopClock.on(virtual_loop, FAKE_NOW)


@pytest.fixture
def electricitymaps_api(fake_clock: ManualClock, serve: Serve) -> FakeElectricityMaps:
    return _served(FakeElectricityMaps(fake_clock), serve)


@pytest.fixture
def watttime_api(fake_clock: ManualClock, serve: Serve) -> FakeWattTime:
    return _served(FakeWattTime(fake_clock), serve)


@pytest.fixture
def ukgrid_api(fake_clock: ManualClock, serve: Serve) -> FakeUkGrid:
    return _served(FakeUkGrid(fake_clock), serve)


@pytest.fixture
def carbon_aware_sdk_api(fake_clock: ManualClock, serve: Serve) -> FakeCarbonAwareSdk:
    return _served(FakeCarbonAwareSdk(fake_clock), serve)


EmulatorT = TypeVar("EmulatorT", bound=_Emulator)


def _served(emulator: EmulatorT, serve: Serve) -> EmulatorT:
    serve(emulator.server)
    return emulator
