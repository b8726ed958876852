"""Simulate jobs over a recorded series, each policy deciding with the data of its simulated time.

- ``now`` starts at the nominal time (the baseline); ``oracle`` is the best start with perfect knowledge.
- Closed loop (the default) is what a deployed sensor does: every waiting job polls at its first possible start,
  then every ``poll_interval`` (sooner at its planned start or latest start), and at each poll
  :func:`~airflow_carbon_provider.carbon.waiting.decide_many` -- the decision :func:`~...waiting.decide` makes for
  the trigger -- decides with exactly what the trigger would fetch then (the latest reading, the history window if
  the policy reads one, the forecast up to the job's window end). One
  :class:`~airflow_carbon_provider.carbon.outlook.Outlook` per poll time is shared by every job polling then.
- Open loop (``open_loop=True``, the earlier model): ``forecast``/``auto`` plan once at the first possible start and
  keep that plan; ``threshold``/``hysteresis`` check at every new reading with one gate running per zone.
- ``forecast`` reads the true series plus Gaussian noise: each data point gets noise with sigma = error x the
  series' time-weighted mean, one draw per point per seed, fixed for the whole run (Wiesner et al.). ``auto`` has
  no forecast source: the built-in forecaster decides from history.

No policy but ``oracle``/``forecast`` ever reads data that starts after its decision time (a reading starting at it
is known then, as the trigger's latest reading is).
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from airflow_carbon_provider.carbon.hysteresis import Gates
from airflow_carbon_provider.carbon.noise import forecast_noise
from airflow_carbon_provider.carbon.outlook import TIE_DECIMALS, Outlook
from airflow_carbon_provider.carbon.planner import plan, verdicts
from airflow_carbon_provider.carbon.policy import DeadlineKind, PlanSpec, Policy, Threshold
from airflow_carbon_provider.carbon.series import Series, from_epoch
from airflow_carbon_provider.carbon.waiting import DEFAULT_POLL_INTERVAL, WAITING, decide_many, needs

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    import numpy as np
    import numpy.typing as npt

    from airflow_carbon_provider.carbon.series import FloatArray
    from airflow_carbon_provider.replay.jobs import Jobs

    IntArray = npt.NDArray[np.intp]

ALL_POLICIES = (Policy.NOW, Policy.THRESHOLD, Policy.HYSTERESIS, Policy.FORECAST, Policy.AUTO, Policy.ORACLE)
CLOSED, OPEN = "closed", "open"


@dataclass(frozen=True)
class Scenario:
    """How the policies decide: thresholds, forecast error and seeds, polling, closed or open loop."""

    deadline_kind: DeadlineKind = DeadlineKind.START
    policies: tuple[Policy, ...] = ALL_POLICIES
    threshold: Threshold = field(default_factory=lambda: Threshold(25.0, percentile=True))
    threshold_high: Threshold | None = None
    min_dwell: timedelta = timedelta(0)
    forecast_error: float = 0.05
    seeds: tuple[int, ...] = (1,)
    poll_interval: timedelta = DEFAULT_POLL_INTERVAL
    open_loop: bool = False
    history_window: timedelta = timedelta(days=14)

    def __post_init__(self) -> None:
        if not 0 <= self.forecast_error < 10:
            raise ValueError(f"forecast_error must be a fraction >= 0 (e.g. 0.05), got {self.forecast_error}")
        if not self.policies:
            raise ValueError("policies must name at least one policy")
        if not self.seeds:
            raise ValueError("seeds must name at least one seed")
        if self.poll_interval <= timedelta(0):
            raise ValueError(f"poll_interval must be > 0, got {self.poll_interval}")

    @property
    def mode(self) -> str:
        return OPEN if self.open_loop else CLOSED

    def spec(self, policy: Policy, duration: float) -> PlanSpec:
        gated = policy in (Policy.THRESHOLD, Policy.HYSTERESIS)
        return PlanSpec(
            policy=Policy.FORECAST if policy is Policy.ORACLE else policy,
            duration=timedelta(seconds=duration),
            deadline_kind=self.deadline_kind,
            threshold=self.threshold if gated else None,
            threshold_high=(self.threshold_high or self.threshold) if policy is Policy.HYSTERESIS else None,
            min_dwell=self.min_dwell,
            history_window=self.history_window,
        )

    def runs(self, policy: Policy) -> tuple[int | None, ...]:
        """The seeds a policy is replayed with (only ``forecast`` reads noise)."""
        return self.seeds if policy is Policy.FORECAST else (None,)


@dataclass(frozen=True)
class Decisions:
    """Every job's chosen start (epoch seconds) for one zone, job group, policy and seed."""

    zone: str
    policy: Policy
    seed: int | None
    mode: str
    jobs: Jobs
    starts: FloatArray


def replay_zone(
    truth: Series,
    zone: str,
    groups: Sequence[Jobs],
    scenario: Scenario,
    tick: Callable[[str], Callable[[float], None]] | None = None,
) -> list[Decisions]:
    """Decisions of every policy (and seed) of ``scenario`` for every job group, on one zone's series.

    ``tick(task)`` returns the progress callback of a task (``"<zone> <policy>"``); used for progress bars.
    """
    out: list[Decisions] = []
    for policy in scenario.policies:
        for seed in scenario.runs(policy):
            progress = tick(f"{zone} {policy.value}" + ("" if seed is None else f" seed {seed}")) if tick else None
            forecast = noisy(truth, scenario.forecast_error, seed) if seed is not None else None
            starts = _starts(truth, groups, scenario, policy, forecast=forecast, tick=progress)
            mode = scenario.mode if policy not in (Policy.NOW, Policy.ORACLE) else CLOSED
            out.extend(Decisions(zone, policy, seed, mode, g, s) for g, s in zip(groups, starts, strict=True))
            if progress:
                progress(1.0)
    return out


def _starts(
    truth: Series,
    groups: Sequence[Jobs],
    scenario: Scenario,
    policy: Policy,
    *,
    forecast: Series | None,
    tick: Callable[[float], None] | None,
) -> list[FloatArray]:
    if policy is Policy.NOW:
        return [g.nominal.copy() for g in groups]
    if policy is Policy.ORACLE:
        return [oracle_starts(truth, g.earliest, g.latest, g.duration) for g in groups]
    if not scenario.open_loop:
        return closed_loop(truth, groups, scenario, policy, forecast=forecast, tick=tick)
    if policy in (Policy.FORECAST, Policy.AUTO):
        return _plan_once(truth, groups, scenario, policy, forecast)
    times, go = _gate_times(truth, groups, scenario, policy)
    return [_first_open(times, go, g.earliest, g.latest) for g in groups]


def noisy(truth: Series, error: float, seed: int) -> Series:
    """The series with Gaussian noise (:mod:`~airflow_carbon_provider.carbon.noise`), fixed per data point."""
    starts, ends, values = truth.view_starts(), truth.view_ends(), truth.view_values()
    noise = forecast_noise(values, ends - starts, error=error, seed=seed)
    return Series.from_sorted(starts, ends, values + noise)


class _Polls:
    """What a waiting job's trigger fetches from a replay source at a poll (latest, history, forecast): views of
    the series, so an outlook is cheap to build."""

    def __init__(self, truth: Series, spec: PlanSpec, forecast: Series | None) -> None:
        self.truth, self.forecast = truth, forecast
        self.need = needs(spec, has_forecast=forecast is not None)
        self.history_window = spec.history_window

    def outlook(self, now: float, horizon: float) -> Outlook:
        if self.need.history is not None:  # the history window (the latest reading, if it started, is in it)
            history = self.truth.ending_after(now - self.need.history.total_seconds()).known_at(now)
        else:
            history = self.truth.at(now)
        forecast = Series.empty()
        if self.need.forecast and self.forecast is not None:
            forecast = self.forecast.ending_after(now).before(horizon)
        return Outlook(
            now=from_epoch(now),
            history=history,
            forecast=forecast,
            history_window=self.history_window,
            horizon=from_epoch(horizon),
        )


def closed_loop(
    truth: Series,
    groups: Sequence[Jobs],
    scenario: Scenario,
    policy: Policy,
    *,
    forecast: Series | None,
    tick: Callable[[float], None] | None = None,
) -> list[FloatArray]:
    """Each job polls from its earliest start until the decision says start (or its deadline comes)."""
    import numpy as np

    specs = [scenario.spec(policy, float(g.duration[0])) for g in groups]
    polls = _Polls(truth, specs[0], forecast)
    group = np.concatenate([np.full(len(g), i) for i, g in enumerate(groups)]) if groups else np.zeros(0, int)
    latest = np.concatenate([g.latest for g in groups]) if groups else np.zeros(0)
    earliest = np.concatenate([g.earliest for g in groups]) if groups else np.zeros(0)
    ends = latest + np.concatenate([g.duration for g in groups]) if groups else np.zeros(0)
    starts = np.full(len(latest), np.nan)
    gates = Gates.none(len(latest)) if policy is Policy.HYSTERESIS else None
    due: dict[float, list[IntArray]] = {}
    times: list[float] = []
    _schedule(due, times, np.arange(len(latest)), earliest)
    span = (float(latest.max()) - float(earliest.min())) if len(latest) else 0.0
    first = float(earliest.min()) if len(latest) else 0.0
    while times:
        now = heapq.heappop(times)
        waiting = np.concatenate(due.pop(now))
        outlook = polls.outlook(now, float(ends[waiting].max()))
        for g in np.unique(group[waiting]).tolist():
            jobs = waiting[group[waiting] == g]
            mine = {"zone": gates.take(jobs)} if gates is not None else None
            decided = decide_many(
                specs[g],
                now=outlook.now_dt,
                latest=latest[jobs],
                outlooks={"zone": outlook},
                poll_interval=scenario.poll_interval,
                gates=mine,
            )
            if gates is not None:
                stepped = decided.verdicts["zone"].gates
                if stepped is not None:
                    gates.state[jobs], gates.since[jobs], gates.pending[jobs] = (
                        stepped.state,
                        stepped.since,
                        stepped.pending,
                    )
            wait = decided.status == WAITING
            starts[jobs[~wait]] = now
            _schedule(due, times, jobs[wait], decided.next_check[wait])
        if tick and span > 0:
            tick(min(1.0, (now - first) / span))
    return [starts[group == i] for i in range(len(groups))]


def _schedule(due: dict[float, list[IntArray]], times: list[float], jobs: IntArray, at: FloatArray) -> None:
    import numpy as np

    if not len(jobs):
        return
    if (at == at[0]).all():  # the common case: every job polls next at the same time
        moments, parts = [float(at[0])], [jobs]
    else:
        unique, which = np.unique(at, return_inverse=True)
        moments, parts = unique.tolist(), [jobs[which == k] for k in range(len(unique))]
    for moment, part in zip(moments, parts, strict=True):
        if moment not in due:
            due[moment] = []
            heapq.heappush(times, moment)
        due[moment].append(part)


def _plan_once(
    truth: Series, groups: Sequence[Jobs], scenario: Scenario, policy: Policy, forecast: Series | None
) -> list[FloatArray]:
    """Open loop: one plan per job at its earliest start, kept (jobs released together share the outlook)."""
    import numpy as np

    out = []
    for g in groups:
        spec = scenario.spec(policy, float(g.duration[0]))
        polls = _Polls(truth, spec, forecast)
        starts = np.full(len(g), np.nan)
        moments, which = np.unique(g.earliest, return_inverse=True)
        for k, moment in enumerate(moments.tolist()):
            jobs = np.flatnonzero(which == k)
            outlook = polls.outlook(moment, float((g.latest[jobs] + g.duration[jobs]).max()))
            starts[jobs] = verdicts(outlook, spec, g.latest[jobs]).start
        out.append(starts)
    return out


def _gate_times(
    truth: Series, groups: Sequence[Jobs], scenario: Scenario, policy: Policy
) -> tuple[FloatArray, FloatArray]:
    """Open loop threshold/hysteresis: check times (every reading's arrival and every earliest start) and whether
    the policy says go at each, with one gate running continuously."""
    import numpy as np

    spec = scenario.spec(policy, min(float(g.duration[0]) for g in groups))
    rel = np.concatenate([g.earliest for g in groups])
    first = rel.min() if len(rel) else truth.last_end
    arrivals = np.concatenate((truth.view_starts(), [truth.last_end]))
    times = np.unique(np.concatenate((arrivals[arrivals >= first], rel)))
    go = np.zeros(len(times), dtype=bool)
    gate = None
    far = timedelta(days=400)
    for k, t in enumerate(times):
        now = from_epoch(float(t))
        p = plan(spec, now=now, deadline=now + far, history=truth.known_at(float(t)), gate_state=gate)
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


def oracle_starts(truth: Series, earliest: FloatArray, latest: FloatArray, duration: FloatArray | float) -> FloatArray:
    """The best start of each job in ``[earliest, latest]`` with perfect knowledge (ties to the earliest).

    Candidates are those of :class:`~airflow_carbon_provider.carbon.outlook.Minima`: window starts and ends, every
    boundary ``b`` and ``b - duration``. Window means come from prefix sums; a sparse table answers each job's
    range minimum in O(1), so a year of jobs costs O(n log n).
    """
    import numpy as np

    earliest, latest = np.asarray(earliest, dtype=np.float64), np.asarray(latest, dtype=np.float64)
    lengths = np.broadcast_to(np.asarray(duration, dtype=np.float64), earliest.shape)
    starts = np.empty(len(earliest))
    bounds = np.concatenate((truth.view_starts(), [truth.last_end]))
    for length in np.unique(lengths).tolist():
        jobs = lengths == length
        lo_t, hi_t = earliest[jobs], latest[jobs]
        candidates = np.unique(np.concatenate((bounds, bounds - length, lo_t, hi_t)))
        means = np.round(truth.window_means(candidates, candidates + length), TIE_DECIMALS)
        means = np.where(np.isnan(means), np.inf, means)
        lo = np.searchsorted(candidates, lo_t, side="left")
        hi = np.searchsorted(candidates, hi_t, side="right") - 1
        starts[jobs] = candidates[_range_argmin(means, lo, hi)]
    return starts


def _range_argmin(values: FloatArray, lo: IntArray, hi: IntArray) -> IntArray:
    """The index of the earliest minimum of ``values[lo..hi]`` for each pair, by a sparse table."""
    import numpy as np

    table = [np.arange(len(values))]
    width = 1
    while 2 * width <= len(values):
        prev = table[-1]
        left, right = prev[: len(prev) - width], prev[width:]
        table.append(np.where(values[left] <= values[right], left, right))
        width *= 2
    level = np.floor(np.log2(np.maximum(hi - lo + 1, 1))).astype(int)
    out = np.empty(len(lo), dtype=np.intp)
    for k in np.unique(level).tolist():
        rows = level == k
        a, b = table[k][lo[rows]], table[k][hi[rows] - (1 << k) + 1]
        out[rows] = np.where(values[a] <= values[b], a, b)
    return out
