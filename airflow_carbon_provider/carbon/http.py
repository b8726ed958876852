"""The one HTTP layer every web source uses: timeouts, bounded retries with backoff and jitter, typed errors.

Clients are async; synchronous callers run the same coroutines through :func:`run_sync`, so no client logic
exists twice. Headers are never logged, and credentials travel as :class:`Secret` until the request is built.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import math
import random
import threading
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from airflow_carbon_provider.carbon.clock import Clock, SystemClock
from airflow_carbon_provider.carbon.errors import (
    CarbonSourceError,
    MalformedResponseError,
    RateLimitedError,
    SourceUnavailableError,
)
from airflow_carbon_provider.carbon.secret import Secret

if TYPE_CHECKING:
    import ssl

log = logging.getLogger(__name__)

T = TypeVar("T")
RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
ErrorClassifier = Callable[[httpx.Response], CarbonSourceError]


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try: ``attempts`` tries in all, sleeping at most ``max_total`` seconds between them."""

    attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_retry_after: float = 60.0
    max_total: float = 90.0
    sleep: Callable[[float], Awaitable[None]] = field(default=asyncio.sleep, repr=False, compare=False)
    jitter: Callable[[], float] = field(default=random.random, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError(f"attempts must be >= 1, got {self.attempts}")
        for name in ("base_delay", "max_delay", "max_retry_after", "max_total"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0 seconds, got {getattr(self, name)}")

    def backoff(self, retry: int) -> float:
        """Exponential delay for the ``retry``-th retry (0-based) with "equal jitter": half fixed, half random."""
        ceiling = min(self.max_delay, self.base_delay * 2.0**retry)
        return ceiling / 2 + ceiling / 2 * self.jitter()


@dataclass(frozen=True)
class ApiRequest:
    """One GET; header values and basic-auth passwords may be :class:`Secret` and are revealed only on send."""

    path: str
    params: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str | Secret] = field(default_factory=dict, repr=False)
    basic_auth: tuple[str, Secret] | None = field(default=None, repr=False)

    def secrets(self) -> list[str]:
        found = [v.reveal() for v in self.headers.values() if isinstance(v, Secret)]
        if self.basic_auth:
            found.append(self.basic_auth[1].reveal())
        return [s for s in found if s]


@dataclass(frozen=True)
class _Outcome:
    body: Any = None
    error: CarbonSourceError | None = None
    delay: float = 0.0


class HttpApi:
    """GET JSON from one service at ``base_url`` with retries; 4xx answers are turned into errors by ``classify``."""

    def __init__(
        self,
        source: str,
        base_url: str,
        *,
        timeout: float = 10.0,
        retry: RetryPolicy | None = None,
        clock: Clock | None = None,
    ) -> None:
        if timeout <= 0:
            raise ValueError(f"timeout must be > 0 seconds, got {timeout}")
        self.source = source
        self.base_url = base_url.rstrip("/")
        self.timeout = httpx.Timeout(timeout, connect=min(timeout, 10.0))
        self.retry = retry or RetryPolicy()
        self._clock = clock or SystemClock()

    def __repr__(self) -> str:
        return f"HttpApi(source={self.source!r}, base_url={self.base_url!r})"

    async def get_json(self, request: ApiRequest, classify: ErrorClassifier) -> Any:
        """The decoded JSON body (``None`` for 204); raises a :class:`CarbonSourceError` subclass otherwise."""
        slept = 0.0
        for attempt in range(1, self.retry.attempts + 1):
            outcome = await self._attempt(request, classify, attempt)
            if outcome.error is None:
                return outcome.body
            failure, delay = outcome.error, outcome.delay
            if attempt == self.retry.attempts or slept + delay > self.retry.max_total:
                raise failure
            log.warning(
                "%s %s failed (%s); retry %d/%d in %.2fs",
                self.source,
                request.path,
                failure,
                attempt,
                self.retry.attempts - 1,
                delay,
            )
            await self.retry.sleep(delay)
            slept += delay
        raise AssertionError("unreachable: the loop returns or raises")

    async def _attempt(self, request: ApiRequest, classify: ErrorClassifier, attempt: int) -> _Outcome:
        """One try: the body, or a retryable error with its delay; other errors raise."""
        secrets = request.secrets()
        log.debug("%s GET %s%s params=%s", self.source, self.base_url, request.path, dict(request.params))
        try:
            async with httpx.AsyncClient(timeout=self.timeout, verify=_tls_context(), follow_redirects=False) as client:
                response = await client.get(
                    self.base_url + request.path,
                    params=dict(request.params),
                    headers={k: v.reveal() if isinstance(v, Secret) else v for k, v in request.headers.items()},
                    auth=(request.basic_auth[0], request.basic_auth[1].reveal()) if request.basic_auth else None,
                )
        except httpx.TransportError as exc:
            reason = scrub(f"{type(exc).__name__}: {exc}", secrets)
            error = SourceUnavailableError(
                self.source, f"cannot reach {self.base_url} ({reason}); check the base URL (host) and the network"
            )
            return _Outcome(error=error, delay=self.retry.backoff(attempt - 1))
        log.debug("%s GET %s -> %d", self.source, request.path, response.status_code)
        if response.is_success:
            return _Outcome(body=self._decode(request, response))
        if response.status_code == 429:
            limited = RateLimitedError(
                self.source,
                f"rate limited on {request.path} (HTTP 429) after {attempt} attempt(s); "
                "poll less often, share one connection between tasks, or ask the provider for a higher quota",
            )
            asked = self._retry_after(response)
            return _Outcome(error=limited, delay=self.retry.backoff(attempt - 1) if asked is None else asked)
        if response.status_code in RETRYABLE_STATUS:
            detail = scrub(error_detail(response), secrets)
            unavailable = SourceUnavailableError(
                self.source, f"HTTP {response.status_code} on {request.path} ({detail}); the service is failing"
            )
            asked = self._retry_after(response)
            return _Outcome(error=unavailable, delay=self.retry.backoff(attempt - 1) if asked is None else asked)
        raise classify(response)

    def _decode(self, request: ApiRequest, response: httpx.Response) -> Any:
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise MalformedResponseError(
                self.source,
                f"{request.path} answered {response.headers.get('content-type', 'no content type')} that is not JSON; "
                f"check that the base URL {self.base_url} points at the API",
            ) from None

    def _retry_after(self, response: httpx.Response) -> float | None:
        """Seconds asked for by ``Retry-After`` (delta or HTTP date), capped at ``max_retry_after``."""
        value = response.headers.get("retry-after", "").strip()
        if not value:
            return None
        try:
            seconds = float(value)
            if math.isnan(seconds):  # float() accepts "nan"; sleeping NaN seconds never returns
                return None
        except ValueError:
            try:
                when = parsedate_to_datetime(value)
            except (TypeError, ValueError):
                return None
            if when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
            seconds = (when - self._clock.now()).total_seconds()
        return min(max(seconds, 0.0), self.retry.max_retry_after)


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """Built once per process: loading the CA bundle for every short-lived client costs ~0.1 s."""
    return httpx.create_ssl_context()


def error_detail(response: httpx.Response, limit: int = 200) -> str:
    """The service's own words from an error body, whatever its documented shape."""
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        text = response.text.strip()
        return (text[:limit] or f"HTTP {response.status_code}") if "<html" not in text[:200].lower() else "HTML page"
    return _message_from(body)[:limit] or f"HTTP {response.status_code}"


def _message_from(body: Any) -> str:
    if isinstance(body, str):
        return body
    if isinstance(body, list):
        return "; ".join(_message_from(item) for item in body[:3])
    if not isinstance(body, dict):
        return ""
    for key in ("message", "msg", "detail", "error", "title"):
        value = body.get(key)
        if value:
            return _message_from(value) if not isinstance(value, str) else value
    errors = body.get("errors")
    return json.dumps(errors) if errors else ""


_SECRET_SINKS: list[Callable[[str], None]] = []


def on_runtime_secret(sink: Callable[[str], None]) -> None:
    """Have ``sink`` told of every credential a source obtains while running (e.g. a WattTime bearer token).

    The domain core imports no Airflow: the hook registers Airflow's secrets masker here.
    """
    if sink not in _SECRET_SINKS:
        _SECRET_SINKS.append(sink)


def runtime_secret(value: str) -> Secret:
    """Wrap a credential obtained at run time, after announcing it to the registered sinks."""
    for sink in _SECRET_SINKS:
        sink(value)
    return Secret(value)


def scrub(text: str, secrets: list[str]) -> str:
    """Replace any credential that an error text might echo."""
    for secret in secrets:
        text = text.replace(secret, "***")
    return text


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run an async client call from synchronous code, also when the caller already runs an event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    result: list[T] = []
    errors: list[BaseException] = []

    def target() -> None:
        try:
            result.append(asyncio.run(coro))
        except BaseException as exc:
            errors.append(exc)

    worker = threading.Thread(target=target, name="carbon-sync-call")
    worker.start()
    worker.join()
    if errors:
        raise errors[0]
    return result[0]
