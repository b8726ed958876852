"""Simulate jobs released over a recorded series, each policy deciding with the data of its simulated time.

- ``now`` starts at release; ``oracle`` is the forecast policy fed the true future (the limit), computed with an
  O(n) sliding-window minimum over window means taken from prefix sums.
- ``forecast`` and ``auto`` call :func:`~airflow_carbon_provider.carbon.planner.plan` once per job at its release
  (open loop): ``forecast`` with the true future distorted by Gaussian noise (sigma = error x mean intensity, as in
  Wiesner et al.), ``auto`` with no forecast source, so the planner's built-in forecaster decides from history.
- ``threshold`` and ``hysteresis`` are checked at every new reading (and at each release); their decision at a
  time does not depend on the job, so each check is one planner call shared by all jobs waiting then. The
  hysteresis gate runs continuously per zone (as a gate kept across sensor runs would).

Every planner call sees only the intervals that started before its simulated time.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from airflow_carbon_provider.carbon.planner import plan
from airflow_carbon_provider.carbon.policy import DeadlineKind, PlanSpec, Policy, Threshold
from airflow_carbon_provider.carbon.series import Series, from_epoch

if TYPE_CHECKING:
    from numpy.random import Generator

    from airflow_carbon_provider.carbon.hysteresis import GateState
    from airflow_carbon_provider.carbon.series import FloatArray

ALL_POLICIES = (Policy.NOW, Policy.THRESHOLD, Policy.HYSTERESIS, Policy.FORECAST, Policy.AUTO, Policy.ORACLE)
_TIE_DECIMALS = 9


@dataclass(frozen=True)
class Scenario:
    """Jobs and policies to replay; ``slack`` is the time from release to the deadline (of ``deadline_kind``)."""

    durations: tuple[timedelta, ...] = (timedelta(hours=1), timedelta(hours=4), timedelta(hours=8))
    slack: timedelta = timedelta(hours=24)
    deadline_kind: DeadlineKind = DeadlineKind.START
    policies: tuple[Policy, ...] = ALL_POLICIES
    threshold: Threshold = field(default_factory=lambda: Threshold(25.0, percentile=True))
    threshold_high: Threshold | None = None
    min_dwell: timedelta = timedelta(0)
    release_every: timedelta = timedelta(hours=1)
    forecast_error: float = 0.05
    seed: int = 1
    warmup: timedelta = timedelta(hours=48)
    history_window: timedelta = timedelta(days=14)

    def __post_init__(self) -> None:
        if not self.durations or any(d <= timedelta(0) for d in self.durations):
            raise ValueError("durations must be one or more positive durations")
        if self.slack < timedelta(0):
            raise ValueError(f"slack must be >= 0, got {self.slack}")
        if self.release_every <= timedelta(0):
            raise ValueError(f"release_every must be > 0, got {self.release_every}")
        if not 0 <= self.forecast_error < 10:
            raise ValueError(f"forecast_error must be a fraction >= 0 (e.g. 0.05), got {self.forecast_error}")
        if not self.policies:
            raise ValueError("policies must name at least one policy")

    def spec(self, policy: Policy, duration: timedelta) -> PlanSpec:
        gated = policy in (Policy.THRESHOLD, Policy.HYSTERESIS)
        return PlanSpec(
            policy=Policy.FORECAST if policy is Policy.ORACLE else policy,
            duration=duration,
            deadline_kind=self.deadline_kind,
            threshold=self.threshold if gated else None,
            threshold_high=(self.threshold_high or self.threshold) if policy is Policy.HYSTERESIS else None,
            min_dwell=self.min_dwell,
            history_window=self.history_window,
        )

    def latest_start_offset(self, duration: timedelta) -> float:
        finish = duration if self.deadline_kind is DeadlineKind.FINISH else timedelta(0)
        return (self.slack - finish).total_seconds()


@dataclass(frozen=True)
class Decisions:
    """Every job's release and chosen start (epoch seconds) for one zone, duration and policy."""

    zone: str
    duration: timedelta
    policy: Policy
    releases: FloatArray
    starts: FloatArray


def releases(truth: Series, scenario: Scenario, duration: timedelta) -> FloatArray:
    """Release times whose whole candidate window (latest start + duration) lies inside the data."""
    import numpy as np

    first = truth.first_start + scenario.warmup.total_seconds()
    last = truth.last_end - max(scenario.latest_start_offset(duration), 0.0) - duration.total_seconds()
    return np.arange(first, last + 1e-6, scenario.release_every.total_seconds())


def replay_zone(truth: Series, zone: str, scenario: Scenario) -> list[Decisions]:
    """Decisions of every policy in ``scenario`` for every duration, on one zone's series."""
    import numpy as np

    gates = {
        policy: _gate_times(truth, scenario, policy)
        for policy in scenario.policies
        if policy in (Policy.THRESHOLD, Policy.HYSTERESIS)
    }
    planned = _planned_starts(truth, scenario)
    result = []
    for duration in scenario.durations:
        rel = releases(truth, scenario, duration)
        latest = np.maximum(rel + scenario.latest_start_offset(duration), rel)
        for policy in scenario.policies:
            if policy is Policy.NOW:
                starts = rel.copy()
            elif policy is Policy.ORACLE:
                starts = oracle_starts(truth, rel, latest, duration.total_seconds())
            elif policy in gates:
                starts = _first_open(*gates[policy], rel, latest)
            else:
                starts = planned[policy, duration]
            result.append(Decisions(zone, duration, policy, rel, starts))
    return result


def _planned_starts(truth: Series, scenario: Scenario) -> dict[tuple[Policy, timedelta], FloatArray]:
    """``forecast`` and ``auto``: one planner call per job at its release, releases outer so the forecast
    made at a release is shared by all durations."""
    import numpy as np

    policies = [p for p in scenario.policies if p in (Policy.FORECAST, Policy.AUTO)]
    if not policies:
        return {}
    rng = np.random.default_rng(scenario.seed)
    sigma = scenario.forecast_error * float(truth.window_means([truth.first_start], [truth.last_end])[0])
    per_duration = {d: releases(truth, scenario, d) for d in scenario.durations}
    all_releases = np.unique(np.concatenate(list(per_duration.values())))
    horizon = max(scenario.latest_start_offset(d) + d.total_seconds() for d in scenario.durations)
    specs = {(p, d): scenario.spec(p, d) for p in policies for d in scenario.durations}
    out: dict[tuple[Policy, timedelta], list[float]] = {key: [] for key in specs}
    for release in all_releases:
        now = from_epoch(float(release))
        history = truth.before(float(release))
        forecast = None
        if Policy.FORECAST in policies:
            forecast = _noisy(truth, float(release), float(release) + horizon, sigma, rng)
        for duration in scenario.durations:
            rel = per_duration[duration]
            if not len(rel) or release > rel[-1]:
                continue
            deadline = now + scenario.slack
            for policy in policies:
                source = forecast if policy is Policy.FORECAST and forecast is not None else Series.empty()
                p = plan(specs[policy, duration], now=now, deadline=deadline, history=history, forecast=source)
                out[policy, duration].append(p.start.timestamp())
    return {key: np.asarray(values) for key, values in out.items()}


def _noisy(truth: Series, start: float, end: float, sigma: float, rng: Generator) -> Series:
    """The true future over ``[start, end)`` plus Gaussian noise: a forecast with a known error."""
    window = truth.ending_after(start).before(end)
    noise = rng.normal(0.0, sigma, len(window)) if sigma > 0 else 0.0
    return Series.from_sorted(window.view_starts(), window.view_ends(), window.view_values() + noise)


def _gate_times(truth: Series, scenario: Scenario, policy: Policy) -> tuple[FloatArray, FloatArray]:
    """Check times (every reading's arrival and every release) and whether the policy says go at each."""
    import numpy as np

    spec = scenario.spec(policy, min(scenario.durations))
    rel = np.concatenate([releases(truth, scenario, d) for d in scenario.durations])
    first = rel.min() if len(rel) else truth.last_end
    arrivals = np.concatenate((truth.view_starts(), [truth.last_end]))
    times = np.unique(np.concatenate((arrivals[arrivals >= first], rel)))
    go = np.zeros(len(times), dtype=bool)
    gate: GateState | None = None
    far = scenario.slack + 2 * max(scenario.durations) + timedelta(hours=1)
    for k, t in enumerate(times):
        now = from_epoch(float(t))
        p = plan(spec, now=now, deadline=now + far, history=truth.before(float(t)), gate_state=gate)
        gate = p.gate_state
        go[k] = p.run_now
    return times, go


def _first_open(times: FloatArray, go: FloatArray, rel: FloatArray, latest: FloatArray) -> FloatArray:
    """For each job: the first check time at/after its release where the policy said go, capped at its latest start."""
    import numpy as np

    index = np.arange(len(times))
    next_go = np.minimum.accumulate(np.where(go, index, len(times))[::-1])[::-1]
    padded = np.concatenate((times, [np.inf]))
    first = padded[np.concatenate((next_go, [len(times)]))[np.searchsorted(times, rel, side="left")]]
    return np.minimum(first, latest)


def oracle_starts(truth: Series, rel: FloatArray, latest: FloatArray, duration: float) -> FloatArray:
    """The best start of each job with perfect knowledge (ties to the earliest), in O(n) overall.

    Candidates are those of :func:`~airflow_carbon_provider.carbon.planner.best_start`: releases, latest starts,
    every boundary ``b`` and ``b - duration``. Window means come from prefix sums; a monotone deque gives each
    job's minimum over its candidate range as the ranges slide forward.
    """
    import numpy as np

    bounds = np.concatenate((truth.view_starts(), [truth.last_end]))
    candidates = np.unique(np.concatenate((bounds, bounds - duration, rel, latest)))
    means = np.round(truth.window_means(candidates, candidates + duration), _TIE_DECIMALS)
    means = np.where(np.isnan(means), np.inf, means)
    lo = np.searchsorted(candidates, rel, side="left")
    hi = np.searchsorted(candidates, latest, side="right")
    starts = np.empty(len(rel))
    window: deque[int] = deque()
    pushed = 0
    values = means.tolist()
    for job, (a, b) in enumerate(zip(lo.tolist(), hi.tolist(), strict=True)):
        while pushed < b:
            while window and values[window[-1]] > values[pushed]:
                window.pop()
            window.append(pushed)
            pushed += 1
        while window[0] < a:
            window.popleft()
        starts[job] = candidates[window[0]]
    return starts
