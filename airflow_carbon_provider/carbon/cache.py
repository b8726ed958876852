"""Process-wide TTL cache with single-flight: concurrent identical requests share one HTTP call.

A thousand deferred sensors polling ten zones through one triggerer therefore make at most ten requests per
poll interval. A transient failure (rate limited, service unavailable) is remembered briefly too, for longer
after each consecutive one, so those waits retrying on their own schedules do not multiply requests during an
outage or a 429 storm. Keys never hold secrets: sources put a credential fingerprint in them.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from airflow_carbon_provider.carbon.clock import Clock, SystemClock
from airflow_carbon_provider.carbon.errors import RateLimitedError, SourceUnavailableError

T = TypeVar("T")
CacheKey = tuple[Hashable, ...]
TRANSIENT_FAILURES = (RateLimitedError, SourceUnavailableError)
FAILURE_TTL = timedelta(seconds=30)
FAILURE_TTL_MAX = timedelta(minutes=5)


@dataclass(frozen=True)
class _Entry:
    value: Any
    expires: datetime
    failures: int = 0  # > 0: ``value`` is the error of that many consecutive failed fetches


class TtlCache:
    """Values expire after a per-value TTL measured on ``clock``.

    Transient failures are kept for ``failure_ttl``, doubling with each consecutive one up to ``failure_ttl_max``
    (zero turns that off); any other failure is never cached.
    """

    def __init__(
        self,
        clock: Clock | None = None,
        max_entries: int = 4096,
        failure_ttl: timedelta = FAILURE_TTL,
        failure_ttl_max: timedelta = FAILURE_TTL_MAX,
    ) -> None:
        if max_entries < 1:
            raise ValueError(f"max_entries must be >= 1, got {max_entries}")
        if failure_ttl < timedelta(0) or failure_ttl_max < failure_ttl:
            raise ValueError(f"need 0 <= failure_ttl <= failure_ttl_max, got {failure_ttl} and {failure_ttl_max}")
        self.clock: Clock = clock or SystemClock()
        self.max_entries = max_entries
        self.failure_ttl, self.failure_ttl_max = failure_ttl, failure_ttl_max
        self._entries: dict[CacheKey, _Entry] = {}
        self._flights: dict[tuple[int, CacheKey], asyncio.Task[Any]] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def invalidate(self, key: CacheKey) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def on(self, clock: Clock) -> ClockedCache:
        """This cache with lifetimes measured on ``clock`` (a replayed or test source's own time)."""
        return ClockedCache(self, clock)

    async def get_or_fetch(
        self,
        key: CacheKey,
        fetch: Callable[[], Awaitable[T]],
        ttl: Callable[[T, datetime], timedelta],
        clock: Clock | None = None,
    ) -> T:
        """The cached value for ``key``, or the result of one shared ``fetch()`` kept for ``ttl(value, now)``.

        ``clock`` (default: the cache's) is the time base of this entry's lifetime.
        """
        clock = clock or self.clock
        loop = asyncio.get_running_loop()
        flight_key = (id(loop), key)
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry.expires > clock.now():
                if entry.failures:
                    raise entry.value.with_traceback(None)
                value: T = entry.value
                return value
            task = self._flights.get(flight_key)
            if task is None:
                task = loop.create_task(self._fetch_and_store(key, fetch, ttl, clock))
                self._flights[flight_key] = task
                task.add_done_callback(lambda done: self._landed(flight_key, done))
        # shield: one waiter being cancelled must not cancel the request the others share
        result: T = await asyncio.shield(task)
        return result

    async def _fetch_and_store(
        self, key: CacheKey, fetch: Callable[[], Awaitable[T]], ttl: Callable[[T, datetime], timedelta], clock: Clock
    ) -> T:
        try:
            value = await fetch()
        except TRANSIENT_FAILURES as exc:
            self._remember_failure(key, exc, clock.now())
            raise
        now = clock.now()
        lifetime = ttl(value, now)
        if lifetime > timedelta(0):
            with self._lock:
                self._entries[key] = _Entry(value, now + lifetime)
                self._evict(now)
        return value

    def _remember_failure(self, key: CacheKey, error: Exception, now: datetime) -> None:
        with self._lock:
            previous = self._entries.get(key)  # kept after expiry until evicted: the streak survives it
            streak = previous.failures + 1 if previous is not None and previous.failures else 1
            lifetime = min(self.failure_ttl_max, self.failure_ttl * 2 ** min(streak - 1, 20))
            if lifetime > timedelta(0):
                self._entries[key] = _Entry(error, now + lifetime, streak)
                self._evict(now)

    def _landed(self, flight_key: tuple[int, CacheKey], task: asyncio.Task[Any]) -> None:
        with self._lock:
            self._flights.pop(flight_key, None)
        if not task.cancelled():
            task.exception()  # retrieved here so an error nobody waits for is not reported as "never retrieved"

    def _evict(self, now: datetime) -> None:
        if len(self._entries) <= self.max_entries:
            return
        for stale in [k for k, e in self._entries.items() if e.expires <= now]:
            del self._entries[stale]
        while len(self._entries) > self.max_entries:
            del self._entries[min(self._entries, key=lambda k: self._entries[k].expires)]


class ClockedCache:
    """A :class:`TtlCache` seen through one clock, so a source's entries expire on the source's own time."""

    def __init__(self, cache: TtlCache, clock: Clock) -> None:
        self.cache, self.clock = cache, clock

    async def get_or_fetch(
        self, key: CacheKey, fetch: Callable[[], Awaitable[T]], ttl: Callable[[T, datetime], timedelta]
    ) -> T:
        return await self.cache.get_or_fetch(key, fetch, ttl, clock=self.clock)

    def invalidate(self, key: CacheKey) -> None:
        self.cache.invalidate(key)


def ttl_until_end(end: datetime, now: datetime, floor: timedelta, cap: timedelta) -> timedelta:
    """Keep a "latest" value until its interval ends, but at least ``floor`` and at most ``cap``."""
    return max(floor, min(cap, end - now))


PROCESS_CACHE = TtlCache()
"""Shared by every source in this process (a worker or the triggerer) unless a test injects its own."""
