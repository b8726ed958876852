"""The fault matrix: scripted faults for each carbon source, and one trigger run per (source, fault).

A scenario starts a fake API (from :mod:`tests.fakes.carbon_apis`) inside the event loop, injects one fault for
the whole wait, and runs :class:`CarbonIntensityTrigger` to its first event as the triggerer would (through a
``carbon_intensity`` connection read from the environment), with the production retry policy. All scenarios
share one event loop on virtual time (:mod:`tests.virtual_time`), concurrently as in a triggerer, once per
session, so each guarantee is asserted in its own test without running the waits again; the fakes' delays, the
HTTP timeouts, the retry sleeps and the trigger's clock are all virtual, so the outcome does not depend on the
machine's load.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import os
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from airflow_carbon_provider.carbon.cache import PROCESS_CACHE
from airflow_carbon_provider.carbon.clock import Clock
from airflow_carbon_provider.carbon.http import RetryPolicy, _tls_context
from airflow_carbon_provider.carbon.policy import PlanSpec
from airflow_carbon_provider.carbon.readings import parse_utc
from airflow_carbon_provider.hooks.carbon_intensity import CarbonIntensityHook
from airflow_carbon_provider.triggers.carbon_intensity import CarbonIntensityTrigger
from tests.fakes.carbon_apis import (
    EM_TOKEN,
    FAKE_NOW,
    WT_PASSWORD,
    WT_USER,
    FakeElectricityMaps,
    FakeUkGrid,
    FakeWattTime,
)
from tests.fakes.http_server import FakeResponse
from tests.virtual_time import LoopClock, VirtualEventLoop

WAIT = timedelta(hours=1)
POLL = timedelta(minutes=15)
ATTEMPTS = RetryPolicy().attempts  # as shipped
TIMEOUT = 1.0  # (virtual) seconds, the connection's `timeout` extra
MAX_POLLS = 12
"""Polls a 1 h wait can make with 15 min polls, counting the sooner retries after faults (30 s, doubling)."""


def start_wait(
    conn_id: str, zone: str, clock: Clock, *, wait: timedelta, poll: timedelta, **spec: Any
) -> CarbonIntensityTrigger:
    """A trigger released now that must start within ``wait``, with the shipped retry policy: the shape every
    fault test uses."""
    release = clock.now()
    return CarbonIntensityTrigger(
        carbon_conn_id=conn_id,
        zones=[zone],
        spec=PlanSpec(deadline_kind="start", **spec).to_dict(),
        release=release.isoformat(),
        deadline=(release + wait).isoformat(),
        poll_interval=poll.total_seconds(),
        clock=clock,
    )


class Expect(StrEnum):
    OUTAGE = "outage"  # no usable data for the whole wait: the deadline decides
    DEGRADED = "degraded"  # data arrives but is not trustworthy: the result must say so
    BENIGN = "benign"  # a quirk the source absorbs: a normal green start


@dataclass(frozen=True)
class Source:
    name: str
    emulator: Callable[[Clock], Any]
    zone: str
    latest_path: str  # regex of the endpoint a threshold wait polls
    forecast_path: str
    conn: Callable[[Any], dict[str, Any]]


def _em_conn(api: FakeElectricityMaps) -> dict[str, Any]:
    return {"host": api.base_url, "password": EM_TOKEN, "extra": {"source": "electricitymaps", "zone": "DE"}}


def _wt_conn(api: FakeWattTime) -> dict[str, Any]:
    return {"host": api.url, "login": WT_USER, "password": WT_PASSWORD, "extra": {"source": "watttime"}}


def _uk_conn(api: FakeUkGrid) -> dict[str, Any]:
    return {"host": api.url, "extra": {"source": "ukgrid"}}


SOURCES = {
    "electricitymaps": Source(
        "electricitymaps",
        FakeElectricityMaps,
        "DE",
        "/v3/carbon-intensity/latest",
        "/v3/carbon-intensity/forecast",
        _em_conn,
    ),
    "watttime": Source("watttime", FakeWattTime, "CAISO_NORTH", "/v3/forecast", "/v3/forecast", _wt_conn),
    "ukgrid": Source("ukgrid", FakeUkGrid, "GB", "/intensity", "/intensity/.*", _uk_conn),
}


def _stamp(value: datetime, source: str, *, naive: bool = False) -> str:
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    if naive:
        return text
    return text + (".000Z" if source == "electricitymaps" else "Z" if source == "ukgrid" else "+00:00")


def latest_body(source: str, *, value: Any = 300.0, at: datetime | None = None, naive: bool = False) -> Any:
    """A documented 'latest' answer of ``source`` with one point, which the fault then bends."""
    start = (at or FAKE_NOW).replace(minute=0, second=0, microsecond=0)
    when = _stamp(start, source, naive=naive)
    if source == "electricitymaps":
        return {"zone": "DE", "carbonIntensity": value, "datetime": when, "isEstimated": False}
    if source == "watttime":
        meta = {"data_point_period_seconds": 300, "region": "CAISO_NORTH", "units": "lbs_co2_per_mwh", "warnings": []}
        return {"data": [{"point_time": when, "value": value}], "meta": meta}
    end = _stamp(start + timedelta(minutes=30), source, naive=naive)
    return {"data": [{"from": when, "to": end, "intensity": {"forecast": value, "actual": value}}]}


@dataclass(frozen=True)
class Fault:
    """One fault: ``inject(api, source)`` scripts it; ``marker`` (a regex) must match the notes that name it."""

    name: str
    expect: Expect
    marker: str
    inject: Callable[[Any, Source], None]
    spec: dict[str, Any] = field(default_factory=lambda: {"policy": "threshold", "threshold": 1000})
    sources: tuple[str, ...] = tuple(SOURCES)
    refused: bool = False


def _always(*responses: FakeResponse, path: str = "latest") -> Callable[[Any, Source], None]:
    """Serve ``responses`` (cycled) to every request of the path for the whole wait."""

    def inject(api: Any, source: Source) -> None:
        regex = source.latest_path if path == "latest" else source.forecast_path
        api.server.script(*(list(responses) * (400 // len(responses))), path=regex)

    return inject


def _latest(**body: Any) -> Callable[[Any, Source], None]:
    def inject(api: Any, source: Source) -> None:
        _always(FakeResponse(200, latest_body(source.name, **body)))(api, source)

    return inject


def _missing_field(api: Any, source: Source) -> None:
    body = latest_body(source.name)
    if source.name == "electricitymaps":
        del body["carbonIntensity"]
    elif source.name == "watttime":
        del body["data"][0]["value"]
    else:
        del body["data"][0]["intensity"]
    _always(FakeResponse(200, body))(api, source)


def _nothing(_api: Any, _source: Source) -> None:
    return None


def _once(response: FakeResponse) -> Callable[[Any, Source], None]:
    def inject(api: Any, source: Source) -> None:
        api.server.script(response, path=source.latest_path)

    return inject


def _expire_tokens_mid_wait(api: FakeWattTime, _source: Source) -> None:
    """Every data call invalidates the bearer token afterwards, as if each token expired at once."""
    original = api._series

    def series(*args: Any, **kwargs: Any) -> Any:
        api.expire_tokens()
        return original(*args, **kwargs)

    api._series = series  # type: ignore[method-assign]


def _forecast_points(bend: Callable[[list[dict[str, Any]]], list[dict[str, Any]]]) -> Callable[[Any, Source], None]:
    """Electricity Maps forecasts, bent by ``bend`` (duplicates, gaps, a short horizon)."""

    def inject(api: FakeElectricityMaps, _source: Source) -> None:
        original = api._forecast

        def forecast(zone: str, request: Any) -> FakeResponse:
            response = original(zone, request)
            body = dict(response.body)
            body["forecast"] = bend(list(body["forecast"]))
            return FakeResponse(200, body)

        api._forecast = forecast  # type: ignore[method-assign]

    return inject


FORECAST = {"policy": "forecast", "duration": timedelta(hours=1)}
HTML = b"<html><body>502 Bad Gateway</body></html>"

FAULTS = [
    Fault("connection refused", Expect.OUTAGE, "cannot reach", _nothing, refused=True),
    Fault("read timeout", Expect.OUTAGE, "ReadTimeout|no answer within", _always(FakeResponse(delay=TIMEOUT * 3))),
    Fault("dropped connection", Expect.OUTAGE, "cannot reach", _always(FakeResponse(drop=True))),
    Fault("HTTP 500", Expect.OUTAGE, "HTTP 500", _always(FakeResponse(500, {"message": "boom"}))),
    Fault("HTTP 502 (HTML)", Expect.OUTAGE, "HTTP 502", _always(FakeResponse(502, raw=HTML))),
    Fault("HTTP 503", Expect.OUTAGE, "HTTP 503", _always(FakeResponse(503, {"message": "maintenance"}))),
    Fault("429 without Retry-After", Expect.OUTAGE, "rate limited", _always(FakeResponse(429))),
    Fault(
        "429 Retry-After 10^9",
        Expect.OUTAGE,
        "rate limited",
        _always(FakeResponse(429, headers={"Retry-After": "1000000000"})),
    ),
    Fault(
        "429 Retry-After garbage",
        Expect.OUTAGE,
        "rate limited",
        _always(FakeResponse(429, headers={"Retry-After": "soon"})),
    ),
    Fault(
        "429 Retry-After NaN",
        Expect.OUTAGE,
        "rate limited",
        _always(FakeResponse(429, headers={"Retry-After": "nan"})),
    ),
    Fault(
        "401 token revoked",
        Expect.OUTAGE,
        "AuthenticationFailedError",
        _always(FakeResponse(401, {"message": "invalid token"})),
        sources=("electricitymaps", "watttime"),
    ),
    Fault(
        "403 plan",
        Expect.OUTAGE,
        "PlanNotIncludedError",
        _always(FakeResponse(403, {"message": "forbidden"})),
        sources=("electricitymaps", "watttime"),
    ),
    Fault("401 mid-wait (token expiry)", Expect.BENIGN, "", _expire_tokens_mid_wait, sources=("watttime",)),
    Fault("one 503 then recovery", Expect.BENIGN, "", _once(FakeResponse(503))),
    Fault("malformed JSON", Expect.OUTAGE, "not JSON", _always(FakeResponse(200, raw=b"{"))),
    Fault("empty 200 body", Expect.OUTAGE, "MalformedResponseError", _always(FakeResponse(200, raw=b""))),
    Fault("JSON list instead of object", Expect.OUTAGE, "expected a JSON object", _always(FakeResponse(200, []))),
    Fault("missing value field", Expect.OUTAGE, "Error", _missing_field),
    Fault("null value", Expect.OUTAGE, "Error", _latest(value=None)),
    Fault("value as string", Expect.OUTAGE, "must be a finite number", _latest(value="300")),
    Fault("NaN value", Expect.OUTAGE, "MalformedResponseError.*must be a finite number", _latest(value=float("nan"))),
    Fault("negative value", Expect.OUTAGE, "negative", _latest(value=-40)),
    Fault("absurd value > 3000 g/kWh", Expect.OUTAGE, "implausible", _latest(value=9000)),
    Fault("timestamp without timezone", Expect.OUTAGE, "timezone-aware", _latest(naive=True)),
    Fault("stale data (6 h old)", Expect.DEGRADED, "stale", _latest(at=FAKE_NOW - timedelta(hours=6))),
    Fault(
        "duplicated, unordered forecast",
        Expect.BENIGN,
        "",
        _forecast_points(lambda points: list(reversed(points + points))),
        spec=FORECAST,
        sources=("electricitymaps",),
    ),
    Fault(
        "forecast with gaps",
        Expect.DEGRADED,
        "source forecast covers",
        _forecast_points(lambda points: points[::2]),
        spec=FORECAST,
        sources=("electricitymaps",),
    ),
    Fault(
        "forecast ends before the deadline",
        Expect.DEGRADED,
        "source forecast covers",
        _forecast_points(lambda points: points[:1]),
        spec=FORECAST,
        sources=("electricitymaps",),
    ),
    Fault(
        "forecast entirely in the past",
        Expect.DEGRADED,
        "source forecast covers 0%",
        _forecast_points(lambda points: [{**p, "datetime": "2024-03-05T00:00:00.000Z"} for p in points[:1]]),
        spec=FORECAST,
        sources=("electricitymaps",),
    ),
    Fault(
        "forecast endpoint 500",
        Expect.OUTAGE,
        "HTTP 500",
        _always(FakeResponse(500, {"message": "boom"}), path="forecast"),
        spec=FORECAST,
        sources=("electricitymaps",),
    ),
]

CASES = [(source, fault) for fault in FAULTS for source in fault.sources]


@dataclass(frozen=True)
class Outcome:
    """What one wait did: the trigger's events (or the exception it raised), the grid times, the request count."""

    events: list[dict[str, Any]]
    error: BaseException | None
    release: datetime
    deadline: datetime
    ended: datetime
    requests: int
    logins: int


def _refusing_port(keep: contextlib.ExitStack) -> int:
    """A port bound but not listening (connections are refused), held so no later fake server can reuse it."""
    sock = keep.enter_context(socket.socket())
    sock.bind(("127.0.0.1", 0))
    return int(sock.getsockname()[1])


class _Case:
    """One scenario: its own fake API on its own clock (the loop's time), a connection to it, and the trigger.

    Servers and ports stay open in ``keep`` until every scenario is done: a port reused by a later scenario would
    share the process-wide cache (keyed by base URL) with the earlier one, cached failures included.
    """

    def __init__(self, index: int, source: Source, fault: Fault, keep: contextlib.ExitStack) -> None:
        self.source, self.fault, self.keep = source, fault, keep
        self.conn_id = f"harden_{index}"
        self.env = f"AIRFLOW_CONN_{self.conn_id.upper()}"

    def connection(self, api: Any) -> str:
        conn = {"conn_type": "carbon_intensity", **self.source.conn(api)}
        conn["extra"] = {**conn["extra"], "timeout": TIMEOUT}
        if self.fault.refused:
            conn["host"] = f"http://127.0.0.1:{_refusing_port(self.keep)}"
        return json.dumps(conn)

    async def run(self) -> Outcome:
        loop = asyncio.get_running_loop()
        clock = LoopClock.on(loop, FAKE_NOW)
        api = self.source.emulator(clock)
        self.keep.callback(api.server.serve_in(loop).stop)
        with _env(self.env, self.connection(api)):
            self.fault.inject(api, self.source)
            trigger = start_wait(self.conn_id, self.source.zone, clock, wait=WAIT, poll=POLL, **self.fault.spec)
            release = parse_utc(trigger.release)
            events: list[dict[str, Any]] = []
            error: BaseException | None = None
            try:
                async with asyncio.timeout(timedelta(days=1).total_seconds()):  # a safety net only
                    async for event in trigger.run():
                        events.append(event.payload)
                        break
            except BaseException as exc:
                error = exc
            ended = clock.now()
            path = self.source.forecast_path if self.fault.spec.get("policy") == "forecast" else self.source.latest_path
            requests = api.server.count(path)
        return Outcome(events, error, release, release + WAIT, ended, requests, getattr(api, "logins", 0))


@contextlib.contextmanager
def _env(name: str, value: str) -> Iterator[None]:
    os.environ[name] = value
    try:
        yield
    finally:
        del os.environ[name]


@functools.cache
def run_all() -> dict[tuple[str, str], Outcome]:
    """Every scenario, concurrently in one virtual-time event loop as in a triggerer; memoised for the session."""
    _warm_up()
    PROCESS_CACHE.clear()
    with asyncio.Runner(loop_factory=VirtualEventLoop) as runner, contextlib.ExitStack() as keep:
        keep.callback(PROCESS_CACHE.clear)
        cases = [_Case(i, SOURCES[source], fault, keep) for i, (source, fault) in enumerate(CASES)]
        outcomes = runner.run(_gather(cases))
    return {(source, fault.name): outcome for (source, fault), outcome in zip(CASES, outcomes, strict=True)}


def _warm_up() -> None:
    """Pay one-off costs (Airflow's provider discovery, the TLS context) once, outside the scenarios."""
    with _env(
        "AIRFLOW_CONN_HARDEN_WARMUP", json.dumps({"conn_type": "carbon_intensity", "extra": {"source": "ukgrid"}})
    ):
        asyncio.run(CarbonIntensityHook("harden_warmup").aget_source())
    _tls_context()


async def _gather(cases: list[_Case]) -> list[Outcome]:
    return list(await asyncio.gather(*(case.run() for case in cases)))


def run(source: str, fault: str) -> Outcome:
    return run_all()[(source, fault)]
