"""Fast, observable retries and a private cache on the fake clock for the source tests."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from airflow_carbon_provider.carbon.cache import TtlCache
from airflow_carbon_provider.carbon.clock import ManualClock
from airflow_carbon_provider.carbon.http import RetryPolicy


@dataclass
class SleepRecorder:
    """Stands in for asyncio.sleep: records the delays the retry loop asks for, without waiting."""

    delays: list[float] = field(default_factory=list)

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


@pytest.fixture
def retry(sleeps: SleepRecorder) -> RetryPolicy:
    return RetryPolicy(attempts=4, base_delay=0.5, max_delay=8, max_total=30, sleep=sleeps, jitter=lambda: 1.0)


@pytest.fixture
def cache(fake_clock: ManualClock) -> TtlCache:
    return TtlCache(clock=fake_clock)
