"""The shared HTTP layer against a real loopback server: retries, backoff, Retry-After, budgets, typed errors."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from airflow_carbon_provider.carbon.clock import ManualClock
from airflow_carbon_provider.carbon.errors import (
    CarbonSourceError,
    MalformedResponseError,
    RateLimitedError,
    SourceUnavailableError,
)
from airflow_carbon_provider.carbon.http import ApiRequest, HttpApi, RetryPolicy, run_sync
from tests.fakes.http_server import FakeHttpServer, FakeResponse


@pytest.fixture
def server(serve):
    fake = serve(FakeHttpServer())
    fake.route("GET", "/ok", lambda _r, _m: FakeResponse(200, {"value": 1}))
    return fake


def classify(response):
    return CarbonSourceError("test", f"client error {response.status_code}")


def api(server, retry, **kwargs) -> HttpApi:
    return HttpApi("test", server.url, retry=retry, **kwargs)


@pytest.mark.asyncio
async def test_success_returns_decoded_json(server, retry):
    assert await api(server, retry).get_json(ApiRequest("/ok"), classify) == {"value": 1}


@pytest.mark.asyncio
async def test_5xx_is_retried_with_exponential_backoff(server, retry, sleeps):
    server.script(FakeResponse(503), FakeResponse(502), FakeResponse(500), path="/ok")
    assert await api(server, retry).get_json(ApiRequest("/ok"), classify) == {"value": 1}
    assert sleeps.delays == [0.5, 1.0, 2.0]  # jitter pinned to its maximum
    assert server.count("/ok") == 4


def test_jitter_keeps_at_least_half_of_the_backoff():
    policy = RetryPolicy(base_delay=1, max_delay=100, jitter=lambda: 0.0)
    assert [policy.backoff(i) for i in range(4)] == [0.5, 1.0, 2.0, 4.0]


def test_backoff_is_capped_at_max_delay():
    assert RetryPolicy(base_delay=1, max_delay=5, jitter=lambda: 1.0).backoff(10) == 5


@pytest.mark.asyncio
async def test_5xx_after_the_last_attempt_is_source_unavailable(server, retry):
    server.script(*[FakeResponse(503, {"message": "maintenance"})] * 4, path="/ok")
    with pytest.raises(SourceUnavailableError, match="maintenance"):
        await api(server, retry).get_json(ApiRequest("/ok"), classify)
    assert server.count("/ok") == 4


@pytest.mark.asyncio
async def test_429_honours_retry_after_seconds(server, retry, sleeps):
    server.script(FakeResponse(429, headers={"Retry-After": "7"}), path="/ok")
    await api(server, retry).get_json(ApiRequest("/ok"), classify)
    assert sleeps.delays == [7.0]


@pytest.mark.asyncio
async def test_429_honours_retry_after_http_date(server, retry, sleeps):
    now = datetime(2024, 3, 6, 12, 0, tzinfo=UTC)
    server.script(FakeResponse(429, headers={"Retry-After": format_datetime(now + timedelta(seconds=12), usegmt=True)}))
    await api(server, retry, clock=ManualClock(now)).get_json(ApiRequest("/ok"), classify)
    assert sleeps.delays == [12.0]


@pytest.mark.asyncio
async def test_503_honours_retry_after(server, retry, sleeps):
    server.script(FakeResponse(503, headers={"Retry-After": "3"}), path="/ok")
    await api(server, retry).get_json(ApiRequest("/ok"), classify)
    assert sleeps.delays == [3.0]


@pytest.mark.asyncio
async def test_absurd_retry_after_is_capped(server, sleeps):
    policy = RetryPolicy(max_retry_after=20, max_total=60, sleep=sleeps, jitter=lambda: 1.0)
    server.script(FakeResponse(429, headers={"Retry-After": "86400"}))
    await api(server, policy).get_json(ApiRequest("/ok"), classify)
    assert sleeps.delays == [20.0]


@pytest.mark.asyncio
async def test_429_without_retry_after_backs_off(server, retry, sleeps):
    server.script(FakeResponse(429), path="/ok")
    await api(server, retry).get_json(ApiRequest("/ok"), classify)
    assert sleeps.delays == [0.5]


@pytest.mark.asyncio
async def test_persistent_429_is_rate_limited_with_advice(server, retry):
    server.script(*[FakeResponse(429, headers={"Retry-After": "1"})] * 4)
    with pytest.raises(RateLimitedError, match="poll less often"):
        await api(server, retry).get_json(ApiRequest("/ok"), classify)


@pytest.mark.asyncio
async def test_total_sleep_stays_within_the_budget(server, sleeps):
    policy = RetryPolicy(attempts=10, max_retry_after=60, max_total=25, sleep=sleeps, jitter=lambda: 1.0)
    server.script(*[FakeResponse(429, headers={"Retry-After": "10"})] * 10)
    with pytest.raises(RateLimitedError):
        await api(server, policy).get_json(ApiRequest("/ok"), classify)
    assert sum(sleeps.delays) <= 25
    assert server.count() == 3


@pytest.mark.asyncio
async def test_dropped_connection_is_retried(server, retry):
    server.script(FakeResponse(drop=True), path="/ok")
    assert await api(server, retry).get_json(ApiRequest("/ok"), classify) == {"value": 1}
    assert server.count("/ok") == 2


@pytest.mark.asyncio
async def test_refused_connection_becomes_source_unavailable_naming_the_url(retry, sleeps):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    closed = HttpApi("test", f"http://127.0.0.1:{port}", retry=retry)
    with pytest.raises(SourceUnavailableError, match=f"127.0.0.1:{port}.*base URL"):
        await closed.get_json(ApiRequest("/ok"), classify)
    assert len(sleeps.delays) == 3


@pytest.mark.asyncio
async def test_slow_answer_times_out_and_is_retried(server, sleeps):
    server.script(FakeResponse(200, {"value": "late"}, delay=0.5), path="/ok")
    policy = RetryPolicy(attempts=2, sleep=sleeps, jitter=lambda: 1.0)
    assert await HttpApi("test", server.url, timeout=0.1, retry=policy).get_json(ApiRequest("/ok"), classify) == {
        "value": 1
    }


@pytest.mark.asyncio
async def test_4xx_goes_to_the_classifier_without_retry(server, retry):
    server.script(FakeResponse(418, {"message": "teapot"}), path="/ok")
    with pytest.raises(CarbonSourceError, match="client error 418"):
        await api(server, retry).get_json(ApiRequest("/ok"), classify)
    assert server.count("/ok") == 1


@pytest.mark.asyncio
async def test_non_json_body_is_malformed_and_names_the_base_url(server, retry):
    server.script(FakeResponse(200, raw=b"<html>login page</html>", headers={"Content-Type": "text/html"}))
    with pytest.raises(MalformedResponseError, match=r"text/html.*base URL"):
        await api(server, retry).get_json(ApiRequest("/ok"), classify)


@pytest.mark.asyncio
async def test_204_is_none(server, retry):
    server.script(FakeResponse(204))
    assert await api(server, retry).get_json(ApiRequest("/ok"), classify) is None


def test_timeouts_are_always_set(server):
    timeout = HttpApi("test", server.url, timeout=3).timeout
    assert (timeout.connect, timeout.read, timeout.write, timeout.pool) == (3, 3, 3, 3)


@pytest.mark.parametrize("bad", [0, -1])
def test_timeout_must_be_positive(bad):
    with pytest.raises(ValueError, match="timeout"):
        HttpApi("test", "http://127.0.0.1", timeout=bad)


def test_retry_policy_rejects_zero_attempts():
    with pytest.raises(ValueError, match="attempts"):
        RetryPolicy(attempts=0)


def test_run_sync_works_without_and_inside_an_event_loop(server, retry):
    call = api(server, retry)
    assert run_sync(call.get_json(ApiRequest("/ok"), classify)) == {"value": 1}

    async def nested():
        return run_sync(call.get_json(ApiRequest("/ok"), classify))

    assert run_sync(nested()) == {"value": 1}
