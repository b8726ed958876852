"""Shared fixtures and collection rules: paths to the data in the repository, the opt-in real-cluster tests, and
CI's "no skipped test" rule.

Everything a test reads is in the repository (``tests/data`` and the package's bundled files): a missing file
fails the test that needs it. Only ``benchmarks/`` reads ``../shared``.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from tests.virtual_time import VirtualEventLoop

REPO = Path(__file__).resolve().parent.parent
BUNDLED_DATA = REPO / "airflow_carbon_provider" / "carbon" / "data"
BUNDLED_CRDS = REPO / "airflow_carbon_provider" / "karpenter" / "crds"
TEST_DATA = REPO / "tests" / "data"
REAL_CLUSTER = "real_cluster"
FAIL_ON_SKIP = "CARBON_FAIL_ON_SKIP"

# serve: fake HTTP servers in the test's loop or a thread; fake carbon-intensity APIs (electricitymaps_api,
# watttime_api, ukgrid_api, carbon_aware_sdk_api, fake_clock, loop_clock); airflow_home: one migrated Airflow
# metadata DB per session for tests marked `db`; pytester: runs chosen tests in-process with a deliberate bug in
# the provider (tests/karpenter/test_mutations_*)
pytest_plugins = ("tests.fakes.http_server", "tests.fakes.carbon_apis", "tests.plugins.airflow_db", "pytester")


def pytest_asyncio_loop_factories(config: pytest.Config, item: pytest.Item) -> dict[str, Any]:
    """Every asyncio test runs on virtual time: waits and timeouts cost no real time (tests/virtual_time.py)."""
    return {"virtual_time": VirtualEventLoop}


@pytest_asyncio.fixture
async def virtual_loop() -> VirtualEventLoop:
    """The running asyncio test's event loop, on virtual time."""
    loop = asyncio.get_running_loop()
    assert isinstance(loop, VirtualEventLoop), "virtual_loop is for asyncio tests"
    return loop


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--real-cluster",
        action="store_true",
        help="also run the tests marked real_cluster (they need CARBON_REAL_CLUSTER_KUBECONFIG)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect the real-cluster tests unless asked for (``--real-cluster`` or a ``-m`` naming the marker)."""
    if config.getoption("--real-cluster") or REAL_CLUSTER in (config.getoption("-m") or ""):
        return
    deselected = [item for item in items if item.get_closest_marker(REAL_CLUSTER)]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if not item.get_closest_marker(REAL_CLUSTER)]


def _skipped(config: pytest.Config) -> int:
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    reports = reporter.stats.get("skipped", []) if reporter is not None else []
    return sum(1 for report in reports if not hasattr(report, "wasxfail"))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """With CARBON_FAIL_ON_SKIP=1 (set by .ci/run) a skipped test fails the run: CI must run every test."""
    if os.environ.get(FAIL_ON_SKIP) == "1" and exitstatus == pytest.ExitCode.OK and _skipped(session.config):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    if os.environ.get(FAIL_ON_SKIP) == "1":
        skipped = _skipped(config)
        verdict = "this run FAILS (see the SKIPPED lines above)" if skipped else "ok"
        terminalreporter.write_line(
            f"skipped tests: {skipped} ({FAIL_ON_SKIP}=1: a skipped test fails the run; {verdict})"
        )


@pytest.fixture(autouse=True)
def fresh_process_cache() -> Iterator[None]:
    """Every test starts and ends with an empty process-wide reading cache (it is shared by design)."""
    from airflow_carbon_provider.carbon.cache import PROCESS_CACHE

    PROCESS_CACHE.clear()
    yield
    PROCESS_CACHE.clear()
