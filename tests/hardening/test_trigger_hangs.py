"""A source that hangs (slow drip, or no answer at all) cannot hold a wait past its deadline plus one poll.

httpx's read timeout is per read: a server that drips one byte every 50 ms never trips a 0.2 s timeout, however
long the body. The trigger bounds each poll as a whole instead, and its deadline note still names the fault.
"""

from __future__ import annotations

import asyncio
import json
import socketserver
import threading
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest

from airflow_carbon_provider.carbon.cache import PROCESS_CACHE
from airflow_carbon_provider.carbon.clock import ScaledClock
from airflow_carbon_provider.carbon.readings import parse_utc
from tests.fakes.carbon_apis import EM_TOKEN, FAKE_NOW
from tests.fakes.http_server import FakeResponse
from tests.hardening.scenarios import start_wait

SPEED = 3_600.0
WAIT = timedelta(hours=1)
POLL = timedelta(minutes=15)
SLACK = timedelta(seconds=0.2 * SPEED)  # event-loop latency on shared cores, in grid time


class _Drip(socketserver.BaseRequestHandler):
    """Answers 200 with a 10 kB JSON body announced up front, then sends it one byte per 50 ms."""

    def handle(self) -> None:
        self.request.recv(65536)
        body = b" " * 10_000
        self.request.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
        self.request.sendall(f"Content-Length: {len(body)}\r\n\r\n".encode())
        try:
            for byte in body:
                self.request.sendall(bytes([byte]))
                time.sleep(0.05)
        except OSError:
            return  # the client gave up, as it should


@pytest.fixture
def drip_url() -> Iterator[str]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Drip)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def connect(monkeypatch, host: str, timeout: float) -> None:
    extra = {"source": "electricitymaps", "zone": "DE", "timeout": timeout}
    conn = {"conn_type": "carbon_intensity", "host": host, "password": EM_TOKEN, "extra": extra}
    monkeypatch.setenv("AIRFLOW_CONN_HANGING", json.dumps(conn))


async def wait_once(clock: ScaledClock) -> tuple[dict, str]:
    trigger = start_wait("hanging", "DE", clock, wait=WAIT, poll=POLL, policy="threshold", threshold=1000)
    PROCESS_CACHE.clear()
    try:
        event = await asyncio.wait_for(anext(trigger.run()), timeout=30)
    finally:
        PROCESS_CACHE.clear()
    return event.payload, trigger.deadline


@pytest.mark.asyncio
async def test_a_slow_drip_cannot_hold_the_wait_past_the_deadline_plus_one_poll(drip_url, monkeypatch):
    connect(monkeypatch, drip_url + "/v3", timeout=0.2)
    clock = ScaledClock(FAKE_NOW, wall_origin=time.time(), speed=SPEED)
    event, deadline = await wait_once(clock)
    assert event["status"] == "deadline"
    assert clock.now() <= parse_utc(deadline) + POLL + SLACK
    assert any("no answer within" in note for note in event["payload"]["notes"])


@pytest.mark.asyncio
async def test_a_poll_that_hangs_at_the_deadline_still_names_the_fault_seen_before(electricitymaps_api, monkeypatch):
    connect(monkeypatch, electricitymaps_api.base_url, timeout=10)
    clock = ScaledClock(FAKE_NOW, wall_origin=time.time(), speed=SPEED)
    electricitymaps_api.clock = clock
    electricitymaps_api.server.script(FakeResponse(401, {"message": "token revoked"}), path=".*/latest")
    electricitymaps_api.server.script(*[FakeResponse(200, {}, delay=3)] * 5, path=".*/latest")
    event, _ = await wait_once(clock)
    assert event["status"] == "deadline"
    notes = " | ".join(event["payload"]["notes"])
    assert "no answer within" in notes
    assert "before that: AuthenticationFailedError" in notes
    assert "token revoked" in notes
