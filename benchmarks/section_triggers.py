"""BENCHMARKS.md section: many waiting sensors in one triggerer.

1,000 deferred CarbonIntensityTriggers on 10 zones run in one asyncio loop against the fake Electricity Maps API
(the test suite's, on 127.0.0.1) for three poll intervals, on a sped-up clock (one hourly poll every 8 s).
Baseline, measured in the same run: the naive design, one plain HTTP request per waiting sensor and poll.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import statistics
import sys
import time
import tracemalloc
from datetime import timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

ORDER = 40
WAITS, ZONES, POLLS = 1000, 10, 3
POLL = timedelta(hours=1)
SPEED = 450.0  # one hourly poll every 8 s of real time: room for a slow machine to finish each poll


def _grid() -> Any:
    from airflow_carbon_provider.carbon.clock import ManualClock, ScaledClock
    from tests.fakes.carbon_apis import EM_TOKEN, FAKE_NOW, FakeElectricityMaps

    api = FakeElectricityMaps(ManualClock(FAKE_NOW))
    api.bases.update({f"Z{i}": 600.0 for i in range(ZONES)})
    api.server.start()
    api.clock = ScaledClock(FAKE_NOW, wall_origin=time.time(), speed=SPEED)
    conn = {
        "conn_type": "carbon_intensity",
        "host": api.base_url,
        "password": EM_TOKEN,
        "extra": {"source": "electricitymaps"},
    }
    os.environ["AIRFLOW_CONN_CARBON_BENCH"] = json.dumps(conn)
    return api


def _triggers(api: Any) -> list[Any]:
    from airflow_carbon_provider.carbon.policy import PlanSpec
    from airflow_carbon_provider.triggers.carbon_intensity import CarbonIntensityTrigger

    now = api.clock.now()
    spec = PlanSpec(policy="threshold", threshold=100).to_dict()  # type: ignore[arg-type]  # never green: keeps waiting
    return [
        CarbonIntensityTrigger(
            carbon_conn_id="carbon_bench",
            zones=[f"Z{i % ZONES}"],
            spec=spec,
            release=now.isoformat(),
            deadline=(now + timedelta(hours=12)).isoformat(),
            poll_interval=POLL.total_seconds(),
            clock=api.clock,
        )
        for i in range(WAITS)
    ]


async def _run_for(coroutines: list[Any], seconds: float) -> None:
    tasks = [asyncio.create_task(c) for c in coroutines]
    await asyncio.sleep(seconds)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def _waiting(api: Any, seconds: float) -> None:
    await _run_for([anext(t.run()) for t in _triggers(api)], seconds)


async def _naive(api: Any, seconds: float) -> None:
    """One GET per waiting sensor and poll, no sharing, no planning: the original design, made async."""
    import httpx

    from tests.fakes.carbon_apis import EM_TOKEN

    async def poll(client: httpx.AsyncClient, zone: str) -> None:
        while True:
            await client.get("/carbon-intensity/latest", params={"zone": zone, "disableCallerLookup": "true"})
            await asyncio.sleep(POLL.total_seconds() / SPEED)

    # Ten connections at a time: the threaded fake server cannot accept a thousand at once.
    limits = httpx.Limits(max_connections=10)
    headers = {"auth-token": EM_TOKEN}
    async with httpx.AsyncClient(base_url=api.base_url, headers=headers, timeout=60, limits=limits) as client:
        await _run_for([poll(client, f"Z{i % ZONES}") for i in range(WAITS)], seconds)


def _measure(run: Any, label: str) -> dict[str, Any]:
    from airflow_carbon_provider.carbon.cache import PROCESS_CACHE

    PROCESS_CACHE.clear()
    api = _grid()
    seconds = (POLLS + 0.5) * POLL.total_seconds() / SPEED
    cpu = time.process_time()
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        asyncio.run(run(api, seconds))
    cpu = time.process_time() - cpu
    requests = api.server.count(".*/latest")
    api.server.stop()
    return {"label": label, "requests": requests, "cpu": cpu}


def _memory_per_wait() -> float:
    """Peak Python memory of 1,000 waits through their first poll, per wait (tracemalloc, separate run)."""
    from airflow_carbon_provider.carbon.cache import PROCESS_CACHE

    PROCESS_CACHE.clear()
    api = _grid()
    tracemalloc.start()
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        asyncio.run(_waiting(api, 0.5 * POLL.total_seconds() / SPEED))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    api.server.stop()
    return peak / WAITS


def section(context: object) -> str:
    ours = _measure(_waiting, "CarbonIntensityTrigger (shared, planned)")
    naive = _measure(_naive, "naive: one GET per sensor and poll")
    # Poll cycles completed: every zone is fetched once per cycle (ours), every sensor once (naive).
    ours["polls"], naive["polls"] = ours["requests"] / ZONES, naive["requests"] / WAITS
    for r in (ours, naive):
        r["per_poll"] = r["requests"] / max(r["polls"], 1e-9)
        r["cpu_per_poll"] = r["cpu"] / max(r["polls"], 1e-9)
    per_wait = statistics.median(_memory_per_wait() for _ in range(2))
    rows = "\n".join(
        f"| {r['label']} | {r['polls']:.1f} | {r['requests']} | {r['per_poll']:.1f} "
        f"| {1e3 * r['cpu_per_poll']:.0f} ms |"
        for r in (ours, naive)
    )
    return f"""## Many waiting sensors

{WAITS:,} deferred `CarbonIntensityTrigger`s on {ZONES} zones in one asyncio loop (one triggerer), against the fake
Electricity Maps API on 127.0.0.1, for {POLLS} poll intervals plus the first check (hourly polls, replayed at
{SPEED:.0f}x: one poll every {POLL.total_seconds() / SPEED:.0f} s). Each trigger plans on every poll and logs one line.

| what | poll cycles completed | requests | requests per poll cycle | CPU per poll cycle |
|---|---|---|---|---|
{rows}

- Requests: {ours["per_poll"]:.1f} per poll cycle for {ZONES} zones (the target: at most one per zone and poll),
  against {naive["per_poll"]:.0f} for the naive design: {naive["per_poll"] / max(ours["per_poll"], 1e-9):.0f}x fewer.
- CPU per poll cycle, ours / naive, same run: {ours["cpu_per_poll"] / max(naive["cpu_per_poll"], 1e-9):.2f}x. Ours plans
  and logs one line for every wait (about {ours["cpu_per_poll"] / WAITS * 1e6:.0f} µs per wait and poll); the naive loop
  makes an HTTP request for every wait instead.
- Peak Python memory per waiting trigger through its first poll (tracemalloc, median of 2 runs):
  {per_wait / 1024:.1f} KiB.
"""
