"""The virtual-time event loop: timers jump, but never while an answer is really on its way."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.fakes.http_server import FakeHttpServer, FakeResponse
from tests.virtual_time import LoopClock, VirtualEventLoop, VirtualTimeStalledError

DAY = 86_400.0


@pytest.fixture
def server(serve):
    fake = serve(FakeHttpServer())
    fake.route("GET", "/ok", lambda _r, _m: FakeResponse(200, {"value": 1}))
    return fake


async def get(url: str, timeout: float) -> httpx.Response:
    async with httpx.AsyncClient(timeout=timeout) as client:
        return await client.get(url)


@pytest.mark.asyncio
async def test_a_sleep_of_a_day_moves_the_loop_clock_by_exactly_a_day(virtual_loop):
    before = virtual_loop.time()
    await asyncio.sleep(DAY)
    assert virtual_loop.time() - before == DAY


@pytest.mark.asyncio
async def test_timers_fire_in_order_of_their_virtual_time(virtual_loop):
    fired: list[float] = []
    for delay in (30.0, 10.0, 20.0):
        virtual_loop.call_later(delay, lambda d=delay: fired.append(d))
    await asyncio.sleep(31)
    assert fired == [10.0, 20.0, 30.0]


@pytest.mark.asyncio
async def test_a_delayed_answer_from_a_server_in_the_loop_takes_exactly_its_virtual_delay(server, virtual_loop):
    server.script(FakeResponse(200, {"value": "late"}, delay=3_600))
    before = virtual_loop.time()
    response = await get(server.url + "/ok", timeout=7_200)
    assert response.json() == {"value": "late"}
    assert virtual_loop.time() - before == 3_600


@pytest.mark.asyncio
async def test_a_hanging_server_in_the_loop_trips_the_client_timeout_at_its_virtual_time(server, virtual_loop):
    server.script(FakeResponse(200, delay=10 * DAY))
    before = virtual_loop.time()
    with pytest.raises(httpx.ReadTimeout):
        await get(server.url + "/ok", timeout=30)
    assert virtual_loop.time() - before == 30


@pytest.mark.asyncio
async def test_a_dripping_body_arrives_byte_by_byte_on_virtual_time(server, virtual_loop):
    server.script(FakeResponse(200, raw=b"x" * 50, drip=5))
    before = virtual_loop.time()
    response = await get(server.url + "/ok", timeout=6)  # every read within 6 s, the whole body in 245 s
    assert response.content == b"x" * 50
    assert virtual_loop.time() - before == 49 * 5


@pytest.mark.asyncio
async def test_time_stands_still_while_a_server_outside_the_loop_answers(virtual_loop):
    with FakeHttpServer() as threaded:  # real seconds: the outside world
        threaded.route("GET", "/slow", lambda _r, _m: FakeResponse(200, {"value": 2}, delay=0.3))
        before = virtual_loop.time()
        response = await get(threaded.url + "/slow", timeout=0.01)
    assert response.json() == {"value": 2}
    assert virtual_loop.time() == before


@pytest.mark.asyncio
async def test_time_stands_still_while_an_executor_job_runs(virtual_loop):
    before = virtual_loop.time()
    async with asyncio.timeout(0.001):
        await asyncio.to_thread(time.sleep, 0.2)
    assert virtual_loop.time() == before


def test_a_hang_outside_the_loop_is_reported_naming_what_it_waits_for():
    release = threading.Event()

    async def main() -> None:
        await asyncio.to_thread(release.wait, 10)

    with asyncio.Runner(loop_factory=lambda: VirtualEventLoop(stall_seconds=0.2)) as runner:
        with pytest.raises(VirtualTimeStalledError, match="executor job"):
            runner.run(main())
        release.set()


@pytest.mark.asyncio
async def test_the_loop_clock_shows_its_origin_plus_virtual_time(virtual_loop):
    origin = datetime(2024, 3, 6, 19, 42, tzinfo=UTC)
    clock = LoopClock.on(virtual_loop, origin)
    await asyncio.sleep(timedelta(hours=5).total_seconds())
    assert clock.now() == origin + timedelta(hours=5)
    assert clock.wall_seconds(timedelta(minutes=15)) == 900
