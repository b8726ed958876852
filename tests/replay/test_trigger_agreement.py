"""The replay decides as the trigger does: start for start, for every policy that waits.

The real :class:`CarbonIntensityTrigger` runs against the replay source on virtual time, one trigger per job started
at the job's release, all in one loop as in a triggerer; the replay engine replays the same jobs over the same file.
Both must pick the very same start for every job.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from airflow_carbon_provider.carbon.csv_series import load_series
from airflow_carbon_provider.carbon.policy import DeadlineKind, Policy, Threshold
from airflow_carbon_provider.carbon.readings import parse_utc
from airflow_carbon_provider.carbon.series import Series, from_epoch
from airflow_carbon_provider.replay.engine import Scenario, replay_zone
from airflow_carbon_provider.replay.jobs import Jobs
from airflow_carbon_provider.triggers.carbon_intensity import CarbonIntensityTrigger
from tests.virtual_time import LoopClock

START = datetime(2023, 3, 1, tzinfo=UTC)
DAYS = 18
POLL = timedelta(minutes=30)
SLACK = timedelta(hours=20)
SEED = 3
SCENARIO = Scenario(
    deadline_kind=DeadlineKind.START,
    threshold=Threshold.parse("p30"),
    threshold_high=Threshold.parse("p45"),
    min_dwell=timedelta(hours=1),
    forecast_error=0.05,
    seeds=(SEED,),
    poll_interval=POLL,
)
REPLAY_FORECAST = {Policy.AUTO: "none", Policy.FORECAST: str(SCENARIO.forecast_error)}


def write_grid(path, step_minutes: int) -> None:
    """A grid with a daily cycle, weather-like drifts and noise, at ``step_minutes`` resolution."""
    rng = np.random.default_rng(21)
    n = DAYS * 24 * 60 // step_minutes
    hours = np.arange(n) * step_minutes / 60
    drift = np.cumsum(rng.normal(0, 4, n)) * np.sqrt(step_minutes / 60)
    values = np.maximum(220 + 90 * np.sin(hours / 24 * 2 * np.pi) + drift + rng.normal(0, 15, n), 5)
    lines = ["datetime,carbon_intensity"]
    for i, value in enumerate(values):
        lines.append(f"{(START + timedelta(minutes=step_minutes * i)).strftime('%Y-%m-%dT%H:%M:%SZ')},{value:.2f}")
    path.write_text("\n".join(lines) + "\n")


def jobs(hours: float) -> Jobs:
    """Jobs released at assorted times after 15 days of history (some off the poll grid)."""
    offsets = [15 * 24 + h for h in (0, 1.5, 3.25, 6, 9.75, 13, 17.5, 22, 26.2, 31)]
    release = np.array([(START + timedelta(hours=h)).timestamp() for h in offsets])
    deadline = release + SLACK.total_seconds()
    names = tuple(str(i) for i in range(len(release)))
    return Jobs("agree", names, release, release, deadline, deadline, np.full(len(release), hours * 3600))


async def trigger_starts(path, policy: Policy, group: Jobs, monkeypatch) -> list[float]:
    """Each job's start as the real trigger decides it, one trigger per job, started at its release."""
    extra = {"source": "replay", "replay_file": str(path), "zone": "XX", "replay_forecast_seed": SEED}
    extra["replay_forecast"] = REPLAY_FORECAST.get(policy, "perfect")
    monkeypatch.setenv("AIRFLOW_CONN_CARBON_REPLAY", json.dumps({"conn_type": "carbon_intensity", "extra": extra}))
    loop = asyncio.get_running_loop()
    clock = LoopClock.on(loop, START)
    spec = SCENARIO.spec(policy, float(group.duration[0]))

    async def one(i: int) -> float:
        release = from_epoch(float(group.earliest[i]))
        await asyncio.sleep(clock.wall_seconds(release - clock.now()))
        trigger = CarbonIntensityTrigger(
            carbon_conn_id="carbon_replay",
            zones=["XX"],
            spec=spec.to_dict(),
            release=release.isoformat(),
            deadline=from_epoch(float(group.deadline[i])).isoformat(),
            poll_interval=POLL.total_seconds(),
            clock=clock,
        )
        event = await anext(trigger.run())
        return parse_utc(event.payload["payload"]["start"]).timestamp()

    async with asyncio.timeout(timedelta(days=DAYS).total_seconds()):
        return list(await asyncio.gather(*(one(i) for i in range(len(group)))))


@pytest.mark.asyncio
@pytest.mark.parametrize("step_minutes", [60, 15])
@pytest.mark.parametrize("policy", [Policy.THRESHOLD, Policy.HYSTERESIS, Policy.FORECAST, Policy.AUTO])
async def test_the_replay_starts_every_job_where_the_trigger_does(tmp_path, monkeypatch, policy, step_minutes):
    path = tmp_path / "XX.csv"
    write_grid(path, step_minutes)
    truth = Series.from_readings(load_series(path))
    for hours in (1.0, 2.5):
        group = jobs(hours)
        (decided,) = replay_zone(truth, "XX", [group], Scenario(**{**SCENARIO.__dict__, "policies": (policy,)}))
        replayed = decided.starts.tolist()
        triggered = await trigger_starts(path, policy, group, monkeypatch)
        assert [from_epoch(t) for t in replayed] == [from_epoch(t) for t in triggered]
        waited = [start - release for start, release in zip(replayed, group.earliest.tolist(), strict=True)]
        assert any(w > 0 for w in waited), "every job started at once: the test would not show the loop"
