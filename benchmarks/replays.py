"""Per-zone replays the benchmark sections share, as plain functions of picklable arguments (worker processes).

Every function loads its zone's file itself, runs the replay engine (the code behind ``airflow-carbon replay``) and
returns plain summaries, so sections can run zones in parallel.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow_carbon_provider.carbon import forecaster
from airflow_carbon_provider.carbon.csv_series import load_series
from airflow_carbon_provider.carbon.policy import DeadlineKind, Policy, Threshold
from airflow_carbon_provider.carbon.series import Series
from airflow_carbon_provider.replay.engine import Scenario, replay_zone
from airflow_carbon_provider.replay.jobs import Jobs, released_jobs
from airflow_carbon_provider.replay.results import Summary, summarize

if TYPE_CHECKING:
    from pathlib import Path

    import numpy as np

HOURS = (1, 4, 8)
SLACK = timedelta(hours=24)
THRESHOLD = Threshold(25.0, percentile=True)
THRESHOLD_HIGH = Threshold(40.0, percentile=True)
FIXED = {"fixed-p25": 25, "fixed-p50": 50}
"""The original design's threshold: a fixed absolute T = P25 / P50 of the whole year (as in the reference)."""


def load(data: Path, zone: str) -> Series:
    return Series.from_readings(load_series(data / f"{zone}.csv"))


def released(truth: Series, kind: DeadlineKind, hours: tuple[int, ...] = HOURS) -> list[Jobs]:
    """A job every hour after 48 h of history, 24 h of slack (the reference's setup)."""
    return [
        released_jobs(
            truth,
            duration=timedelta(hours=h),
            slack=SLACK,
            kind=kind,
            every=timedelta(hours=1),
            warmup=timedelta(hours=48),
        )
        for h in hours
    ]


def hourly_means(truth: Series) -> np.ndarray[Any, Any]:
    """The reference's hourly series (mean of each clock hour), for whole-year percentiles."""
    import numpy as np

    start = truth.first_start - truth.first_start % 3600
    hours = np.arange(start, truth.last_end, 3600.0)
    return truth.window_means(hours, hours + 3600)


def grid_zone(task: tuple[Path, str, str, float]) -> list[Summary]:
    """Every policy closed loop, forecast/auto also open loop, and the fixed thresholds, on one zone and kind."""
    import numpy as np

    data, zone, kind_name, poll_minutes = task
    kind = DeadlineKind(kind_name)
    truth = load(data, zone)
    groups = released(truth, kind)
    poll = timedelta(minutes=poll_minutes)
    base = Scenario(deadline_kind=kind, threshold=THRESHOLD, threshold_high=THRESHOLD_HIGH, poll_interval=poll)
    decisions = replay_zone(truth, zone, groups, base)
    opened = replay_zone(truth, zone, groups, replace(base, policies=(Policy.FORECAST, Policy.AUTO), open_loop=True))
    rows = summarize({zone: truth}, decisions)
    oracle = [d for d in decisions if d.policy is Policy.ORACLE]
    rows += [
        replace(s, policy=f"{s.policy}-open")
        for s in summarize({zone: truth}, oracle + opened)
        if s.policy != Policy.ORACLE.value
    ]
    for name, q in FIXED.items():
        fixed = replace(
            base, policies=(Policy.THRESHOLD,), threshold=Threshold(float(np.percentile(hourly_means(truth), q)))
        )
        rows += [
            replace(s, policy=name)
            for s in summarize({zone: truth}, oracle + replay_zone(truth, zone, groups, fixed))
            if s.policy == Policy.THRESHOLD.value
        ]
    return [s for s in rows if s.seed is None]


def auto_shares(task: tuple[Path, str, forecaster.ForecasterConfig, float]) -> dict[int, float]:
    """``auto`` closed loop with a given forecaster configuration on one zone (start deadlines): its share of the
    oracle's savings per job length. The configuration is swapped in for this worker process only."""
    data, zone, config, poll_minutes = task
    truth = load(data, zone)
    default = forecaster.DEFAULT
    forecaster.DEFAULT = config
    try:
        scenario = Scenario(policies=(Policy.AUTO, Policy.ORACLE), poll_interval=timedelta(minutes=poll_minutes))
        rows = summarize({zone: truth}, replay_zone(truth, zone, released(truth, DeadlineKind.START), scenario))
    finally:
        forecaster.DEFAULT = default
    return {int(s.duration_h or 0): s.oracle_share or 0.0 for s in rows if s.policy == Policy.AUTO.value}
