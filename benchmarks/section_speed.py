"""BENCHMARKS.md section: how fast the closed-loop replay and the per-poll decision are."""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any

ORDER = 38
ZONE = "ES_2023"
RUNS = 3
WAITS, ZONES = 1000, 10


def _replay_once(context: Any) -> tuple[float, int, float]:
    """CPU seconds of one closed-loop replay of every policy (30-min polls), the wait-polls it decided, and the
    CPU seconds of parsing the CSV."""
    from replays import THRESHOLD, THRESHOLD_HIGH, released

    from airflow_carbon_provider.carbon.csv_series import load_series
    from airflow_carbon_provider.carbon.policy import DeadlineKind
    from airflow_carbon_provider.carbon.series import Series
    from airflow_carbon_provider.replay import engine

    c0 = time.process_time()
    truth = Series.from_readings(load_series(context.data / f"{ZONE}.csv"))
    parse = time.process_time() - c0
    counted = [0]
    decide_many = engine.decide_many

    def counting(*args: Any, **kwargs: Any) -> Any:
        counted[0] += len(kwargs["latest"])
        return decide_many(*args, **kwargs)

    engine.decide_many = counting  # type: ignore[assignment]
    try:
        scenario = engine.Scenario(
            threshold=THRESHOLD, threshold_high=THRESHOLD_HIGH, poll_interval=timedelta(minutes=30)
        )
        c0 = time.process_time()
        engine.replay_zone(truth, ZONE, released(truth, DeadlineKind.START), scenario)
        return time.process_time() - c0, counted[0], parse
    finally:
        engine.decide_many = decide_many


def _naive_per_wait(context: Any, samples: int = 300) -> float:
    """CPU seconds of one ``decide()`` for one auto wait that builds everything itself (no sharing)."""
    from airflow_carbon_provider.carbon.csv_series import load_series
    from airflow_carbon_provider.carbon.policy import PlanSpec
    from airflow_carbon_provider.carbon.waiting import ZoneData, decide

    readings = load_series(context.data / f"{ZONE}.csv")
    spec = PlanSpec(duration=timedelta(hours=4), deadline_kind="start")  # type: ignore[arg-type]
    times = []
    for k in range(samples):
        i = 400 + k * (len(readings) - 401) // samples  # spread over the year after 14 days of history
        now = readings[i].start + timedelta(minutes=30)
        data = {ZONE: ZoneData(latest=readings[i], history=readings[i - 336 : i])}
        c0 = time.process_time()
        decide(spec, now=now, deadline=now + timedelta(hours=12), data=data, poll_interval=timedelta(minutes=30))
        times.append(time.process_time() - c0)
    return statistics.fmean(times)


def _triggerer_cycle() -> dict[str, float]:
    """One poll cycle of WAITS auto waits on ZONES zones (14 days of hourly history each), three ways."""
    import numpy as np

    from airflow_carbon_provider.carbon.outlook import Outlook
    from airflow_carbon_provider.carbon.policy import PlanSpec
    from airflow_carbon_provider.carbon.readings import Reading
    from airflow_carbon_provider.carbon.waiting import ZoneData, decide, decide_many

    rng = np.random.default_rng(0)
    t0 = datetime(2023, 1, 1, tzinfo=UTC)
    hour = timedelta(hours=1)
    now = t0 + 14 * 24 * hour + timedelta(minutes=20)
    data = {}
    for z in range(ZONES):
        values = 200 + 80 * np.sin(np.arange(14 * 24 + 1) / 24 * 2 * np.pi + z) + rng.normal(0, 20, 14 * 24 + 1)
        readings = [Reading(f"Z{z}", t0 + i * hour, t0 + (i + 1) * hour, float(v)) for i, v in enumerate(values)]
        data[f"Z{z}"] = ZoneData(latest=readings[-1], history=readings[:-1])
    spec = PlanSpec(duration=timedelta(hours=2))
    waits = [({f"Z{w % ZONES}": data[f"Z{w % ZONES}"]}, now + timedelta(hours=2 + w % 22)) for w in range(WAITS)]
    poll = timedelta(minutes=5)
    out = {}
    c0 = time.process_time()
    for zone_data, deadline in waits:
        decide(spec, now=now, deadline=deadline, data=zone_data, poll_interval=poll)
    out["alone"] = time.process_time() - c0
    c0 = time.process_time()
    outlooks = {z: Outlook(now=now, history=d.known(), history_window=spec.history_window) for z, d in data.items()}
    for zone_data, deadline in waits:
        decide(spec, now=now, deadline=deadline, data=zone_data, poll_interval=poll, outlooks=outlooks)
    out["shared"] = time.process_time() - c0
    c0 = time.process_time()
    outlooks = {z: Outlook(now=now, history=d.known(), history_window=spec.history_window) for z, d in data.items()}
    for z, outlook in outlooks.items():
        mine = [d for zd, d in waits if z in zd]
        latest = np.array([(d - spec.latest_start_offset()).timestamp() for d in mine])
        decide_many(spec, now=now, latest=latest, outlooks={z: outlook}, poll_interval=poll)
    out["batched"] = time.process_time() - c0
    return out


def section(context: Any) -> str:
    title = "## Replay and decision speed"
    if not (context.data / f"{ZONE}.csv").is_file():
        return f"{title}\n\nSkipped: ../shared/data is absent.\n"
    runs = [_replay_once(context) for _ in range(RUNS)]
    replay = statistics.median(r[0] for r in runs)
    polls, parse = runs[0][1], statistics.median(r[2] for r in runs)
    naive = _naive_per_wait(context)
    cycle = {
        k: statistics.median(c[k] for c in (_triggerer_cycle() for _ in range(3)))
        for k in ("alone", "shared", "batched")
    }
    return "\n".join(
        [
            title,
            "",
            f"**Closed-loop replay:** one zone-year ({ZONE}, hourly), 1/4/8 h jobs released every hour, all six "
            f"policies closed loop with 30-min polls: **{replay:.1f} s CPU** (median of {RUNS} runs in this "
            f"process; target: under 60 s on one core). {polls:,} waiting jobs' polls were decided "
            f"({replay / polls * 1e6:.0f} us each on average, outlooks included).",
            "",
            "| measurement | ratio |",
            "|---|---|",
            f"| replay / parsing the same CSV (`load_series`, {parse:.2f} s) | {replay / parse:.0f}x |",
            f"| replay CPU / the 60 s one-core budget | {replay / 60:.2f} |",
            f"| naive: one `decide()` per job and poll, each building its own outlook and forecast "
            f"({naive * 1e3:.2f} ms x {polls:,}, projected) / this replay | {naive * polls / replay:.0f}x |",
            "",
            "The work per (zone, poll time) -- the latest reading and history window, percentile thresholds, the "
            "built-in or noisy forecast, window means and their running minima -- is done once in an `Outlook` "
            "and shared by every job polling then; each job then costs one binary search (`planner.verdicts`, "
            "`waiting.decide_many`, the decision `waiting.decide` makes for one wait).",
            "",
            f"**One triggerer poll cycle** ({WAITS:,} `auto` waits on {ZONES} zones, 14 days of hourly history, "
            "CPU of the decisions only, median of 3):",
            "",
            "| how | CPU per poll cycle |",
            "|---|---|",
            f"| `decide()` per wait, each building its zone's outlook (the trigger today) "
            f"| {cycle['alone'] * 1e3:.0f} ms |",
            f"| `decide(..., outlooks=...)` per wait, one outlook per zone | {cycle['shared'] * 1e3:.0f} ms |",
            f"| `decide_many()` per zone for all its waits | {cycle['batched'] * 1e3:.0f} ms |",
            "",
        ]
    )
