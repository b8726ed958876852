"""Shared fixtures: paths to the repository's data and to ../shared when it is present."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from tests.virtual_time import VirtualEventLoop

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
BUNDLED_DATA = REPO / "airflow_carbon_provider" / "carbon" / "data"

# serve: fake HTTP servers in the test's loop or a thread; fake carbon-intensity APIs (electricitymaps_api,
# watttime_api, ukgrid_api, carbon_aware_sdk_api, fake_clock, loop_clock); airflow_home: one migrated Airflow
# metadata DB per session for tests marked `db`
pytest_plugins = ("tests.fakes.http_server", "tests.fakes.carbon_apis", "tests.plugins.airflow_db")


def pytest_asyncio_loop_factories(config: pytest.Config, item: pytest.Item) -> dict[str, Any]:
    """Every asyncio test runs on virtual time: waits and timeouts cost no real time (tests/virtual_time.py)."""
    return {"virtual_time": VirtualEventLoop}


@pytest_asyncio.fixture
async def virtual_loop() -> VirtualEventLoop:
    """The running asyncio test's event loop, on virtual time."""
    loop = asyncio.get_running_loop()
    assert isinstance(loop, VirtualEventLoop), "virtual_loop is for asyncio tests"
    return loop


@pytest.fixture(autouse=True)
def fresh_process_cache() -> Iterator[None]:
    """Every test starts and ends with an empty process-wide reading cache (it is shared by design)."""
    from airflow_carbon_provider.carbon.cache import PROCESS_CACHE

    PROCESS_CACHE.clear()
    yield
    PROCESS_CACHE.clear()


@pytest.fixture
def shared_dir() -> Path:
    """../shared as laid out for developers and CI; a user's clone has none, so tests skip."""
    if not SHARED.is_dir():
        pytest.skip("../shared is absent (a user's clone): this test needs the shared reference data")
    return SHARED
