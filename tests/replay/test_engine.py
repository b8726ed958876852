"""The replay engine: the oracle against brute force, closed and open loop, no look-ahead, the savings arithmetic."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from airflow_carbon_provider.carbon.csv_series import load_series
from airflow_carbon_provider.carbon.planner import plan
from airflow_carbon_provider.carbon.policy import DeadlineKind, PlanSpec, Policy, Threshold
from airflow_carbon_provider.carbon.series import Series, from_epoch
from airflow_carbon_provider.carbon.waiting import ZoneData, decide
from airflow_carbon_provider.replay.engine import Scenario, noisy, oracle_starts, replay_zone
from airflow_carbon_provider.replay.jobs import Jobs, released_jobs, scheduled_jobs
from airflow_carbon_provider.replay.results import summarize
from tests.conftest import BUNDLED_DATA

T0 = datetime(2023, 1, 1, tzinfo=UTC).timestamp()
H = 3600.0


def hourly_series(values: np.ndarray, step: float = H) -> Series:
    starts = T0 + step * np.arange(len(values))
    return Series.from_arrays(starts, starts + step, values)


def random_grid(hours: int, seed: int = 7) -> np.ndarray:
    rng = np.random.default_rng(seed)
    daily = 200 + 80 * np.sin(np.arange(hours) / 24 * 2 * np.pi)
    return daily + rng.normal(0, 40, hours)


def released(truth: Series, hours: float, slack: float = 24, kind: DeadlineKind = DeadlineKind.START) -> Jobs:
    return released_jobs(
        truth,
        duration=timedelta(hours=hours),
        slack=timedelta(hours=slack),
        kind=kind,
        every=timedelta(hours=1),
        warmup=timedelta(hours=48),
    )


def starts_of(truth: Series, jobs: list[Jobs], scenario: Scenario) -> list[np.ndarray]:
    return [d.starts for d in replay_zone(truth, "Z", jobs, scenario)]


@pytest.mark.parametrize("kind", [DeadlineKind.START, DeadlineKind.FINISH])
@pytest.mark.parametrize("length", [1, 3])
def test_oracle_matches_brute_force_on_a_small_series(kind, length):
    values = random_grid(24 * 5)
    truth = hourly_series(values)
    jobs = released(truth, length, slack=10, kind=kind)
    got = oracle_starts(truth, jobs.earliest, jobs.latest, length * H)
    for release, start, last in zip(jobs.earliest, got, jobs.latest, strict=True):
        r, ls = int((release - T0) // H), int((last - T0) // H)
        means = [values[s : s + length].mean() for s in range(r, ls + 1)]
        assert start == T0 + H * (r + int(np.argmin(means)))


def test_oracle_handles_windows_of_any_width_in_any_order():
    values = random_grid(24 * 4, seed=5)
    truth = hourly_series(values)
    rng = np.random.default_rng(1)
    earliest = T0 + H * rng.integers(0, 60, 40)
    latest = earliest + H * rng.integers(0, 30, 40)
    got = oracle_starts(truth, earliest, latest, 2 * H)
    for e, last, start in zip(earliest, latest, got, strict=True):
        r, ls = int((e - T0) // H), int((last - T0) // H)
        means = [values[s : s + 2].mean() for s in range(r, ls + 1)]
        assert start == T0 + H * (r + int(np.argmin(means)))


def test_oracle_is_the_forecast_policy_fed_the_true_future():
    truth = hourly_series(random_grid(24 * 4, seed=3))
    jobs = released(truth, 2, slack=12)
    got = oracle_starts(truth, jobs.earliest, jobs.latest, 2 * H)
    spec = PlanSpec(policy=Policy.FORECAST, duration=timedelta(hours=2), deadline_kind=DeadlineKind.START)
    for release, start in zip(jobs.earliest, got, strict=True):
        now = from_epoch(release)
        p = plan(spec, now=now, deadline=now + timedelta(hours=12), history=truth, forecast=truth)
        assert p.start.timestamp() == start


@pytest.mark.parametrize("open_loop", [False, True])
def test_forecast_without_error_achieves_the_oracle(open_loop):
    truth = hourly_series(random_grid(24 * 6))
    scenario = Scenario(policies=(Policy.FORECAST, Policy.ORACLE), forecast_error=0, open_loop=open_loop)
    summaries = {s.policy: s for s in summarize({"Z": truth}, replay_zone(truth, "Z", [released(truth, 3)], scenario))}
    assert summaries["forecast"].savings_pct == pytest.approx(summaries["oracle"].savings_pct)
    assert summaries["oracle"].oracle_share == 1
    assert summaries["forecast"].mode == ("open" if open_loop else "closed")


def test_closed_loop_starts_a_job_at_the_first_poll_where_decide_says_start():
    """The replay of one job, step by step against decide() called the way the trigger calls it."""
    values = random_grid(24 * 5, seed=4)
    truth = hourly_series(values)
    jobs = released(truth, 2, slack=12)
    poll = timedelta(minutes=30)
    spec = PlanSpec(policy=Policy.AUTO, duration=timedelta(hours=2), deadline_kind=DeadlineKind.START)
    (starts,) = starts_of(truth, [jobs], Scenario(policies=(Policy.AUTO,), poll_interval=poll))
    for j in range(0, len(jobs), 7):
        now, deadline = from_epoch(jobs.earliest[j]), from_epoch(jobs.deadline[j])
        while True:
            t = now.timestamp()
            current = truth.at(t)
            latest = next(r for r in _readings(current))
            history = _readings(truth.ending_after(t - 14 * 86400).before(t))
            data = {"Z": ZoneData(latest=latest, history=history)}
            decision = decide(spec, now=now, deadline=deadline, data=data, poll_interval=poll)
            if decision.status.value != "wait":
                break
            now = decision.next_check
        assert starts[j] == now.timestamp()


def _readings(view: Series) -> list:
    from airflow_carbon_provider.carbon.readings import Reading

    return [
        Reading("Z", from_epoch(s), from_epoch(e), v)
        for s, e, v in zip(view.view_starts(), view.view_ends(), view.view_values(), strict=True)
    ]


def test_a_poll_interval_off_the_data_grid_lets_a_job_start_between_readings():
    values = np.full(24 * 4, 300.0)
    values[60] = 100.0  # known from 60:00 on (a reading is known once it starts)
    truth = hourly_series(values)
    scenario = Scenario(policies=(Policy.THRESHOLD,), threshold=Threshold(200), poll_interval=timedelta(minutes=25))
    (starts,) = starts_of(truth, [released(truth, 1)], scenario)
    by_release = dict(zip(range(48, 48 + len(starts)), ((starts - T0) / H).tolist(), strict=False))
    assert by_release[48] == pytest.approx(60 + 5 / 60)  # polls 48:00 + k x 25 min: the first after 60:00
    assert by_release[60] == 60  # a poll on the hour sees the reading that starts then
    assert by_release[61] == 61 + 24  # the reading of 60:00 ended before its first poll


@pytest.mark.parametrize("step", [H, H / 4])
@pytest.mark.parametrize("mode", ["closed", "open"])
@pytest.mark.parametrize("policy", [Policy.NOW, Policy.THRESHOLD, Policy.HYSTERESIS, Policy.AUTO])
def test_changing_data_after_t_leaves_every_earlier_start_unchanged(policy, mode, step):
    """No look-ahead in every job mode (released, scheduled with shifts and no warm-up, listed with their own
    windows), closed and open loop, hourly and quarter-hourly data: data after t never change a start before t."""
    per_hour = round(H / step)
    values = random_grid(24 * 12 * per_hour, seed=11)
    cut = (24 * 8 + 5) * per_hour
    tampered = values.copy()
    tampered[cut:] = np.random.default_rng(99).uniform(0, 600, len(values) - cut)
    scenario = Scenario(
        policies=(policy,),
        threshold=Threshold.parse("p30"),
        threshold_high=Threshold.parse("p50"),
        min_dwell=timedelta(hours=1),
        poll_interval=timedelta(minutes=30),
        open_loop=mode == "open",
    )

    def jobs_on(truth: Series) -> list[Jobs]:
        listed = released(truth, 3, slack=30)
        rng = np.random.default_rng(5)
        shifted = listed.earliest + H * rng.integers(0, 20, len(listed))
        return [
            released(truth, 1),
            released(truth, 4, slack=10, kind=DeadlineKind.FINISH),
            scheduled_jobs(
                truth,
                cron="30 */5 * * *",
                duration=timedelta(hours=2),
                before=timedelta(hours=2),
                after=timedelta(hours=6),
                kind=DeadlineKind.START,
                warmup=timedelta(0),
            ),
            Jobs("jobs", listed.names, listed.earliest, shifted, listed.deadline, listed.latest, listed.duration),
        ]

    t = T0 + cut * step
    before_truth, after_truth = hourly_series(values, step), hourly_series(tampered, step)
    before = replay_zone(before_truth, "Z", jobs_on(before_truth), scenario)
    after = replay_zone(after_truth, "Z", jobs_on(after_truth), scenario)
    checked = 0
    for a, b in zip(before, after, strict=True):
        early = a.starts < t
        assert np.array_equal(a.jobs.earliest, b.jobs.earliest)
        assert np.array_equal(a.starts[early], b.starts[early])
        checked += int(early.sum())
    assert checked > 300


def test_the_noise_is_fixed_per_data_point_and_seed():
    truth = hourly_series(np.full(100, 200.0))
    first, again, other = noisy(truth, 0.05, 3), noisy(truth, 0.05, 3), noisy(truth, 0.05, 4)
    assert np.array_equal(first.view_values(), again.view_values())
    assert not np.array_equal(first.view_values(), other.view_values())
    assert np.std(first.view_values() - 200) == pytest.approx(10, rel=0.3)  # sigma = 5 % of the mean


def test_sub_hourly_data_let_jobs_start_on_any_data_step():
    values = np.full(4 * 24 * 4, 300.0)
    values[4 * 60 + 1] = 10.0  # one clean quarter hour at 60:15
    truth = hourly_series(values, step=H / 4)
    jobs = released_jobs(
        truth,
        duration=timedelta(minutes=15),
        slack=timedelta(hours=24),
        kind=DeadlineKind.START,
        every=timedelta(hours=1),
        warmup=timedelta(hours=48),
    )
    (oracle,) = starts_of(truth, [jobs], Scenario(policies=(Policy.ORACLE,)))
    assert oracle[0] == T0 + 60.25 * H


def test_savings_weight_each_job_by_its_duration():
    truth = hourly_series(np.array([100.0] * 48 + [200.0, 50.0] * 24))
    long = released(truth, 2, slack=1)
    short = released(truth, 1, slack=1)
    mixed = [
        Jobs("jobs", long.names, long.earliest, long.nominal, long.deadline, long.latest, long.duration),
        Jobs("jobs", short.names, short.earliest, short.nominal, short.deadline, short.latest, short.duration),
    ]
    decisions = replay_zone(truth, "Z", mixed, Scenario(policies=(Policy.ORACLE,)))
    (summary,) = summarize({"Z": truth}, decisions)
    assert summary.duration_h is None
    assert summary.jobs == len(long) + len(short)
    before = sum(float(np.sum(truth.window_means(g.nominal, g.nominal + g.duration) * g.duration)) for g in mixed)
    after = sum(
        float(np.sum(truth.window_means(d.starts, d.starts + d.jobs.duration) * d.jobs.duration)) for d in decisions
    )
    assert summary.savings_pct == pytest.approx(100 * (1 - after / before), abs=1e-3)


def test_savings_are_the_total_reduction_and_delays_are_in_hours():
    values = np.array([100.0] * 48 + [100.0, 50.0] * 24)
    truth = hourly_series(values)
    scenario = Scenario(policies=(Policy.NOW, Policy.ORACLE))
    now, oracle = summarize({"Z": truth}, replay_zone(truth, "Z", [released(truth, 1, slack=1)], scenario))
    assert now.savings_pct == 0
    assert oracle.run_now_intensity == pytest.approx(75, abs=1.5)
    n_high = oracle.jobs // 2 + oracle.jobs % 2
    assert oracle.savings_pct == pytest.approx(
        100 * (1 - 50 * oracle.jobs / (100 * n_high + 50 * (oracle.jobs - n_high))), abs=1e-3
    )
    assert oracle.mean_delay_h == pytest.approx(n_high / oracle.jobs, abs=1e-3)
    assert oracle.p95_delay_h == 1


def test_several_seeds_give_a_row_each_and_a_mean_row_with_the_spread():
    truth = hourly_series(random_grid(24 * 6))
    scenario = Scenario(policies=(Policy.FORECAST, Policy.ORACLE), forecast_error=0.3, seeds=(0, 1, 2))
    rows = summarize({"Z": truth}, replay_zone(truth, "Z", [released(truth, 1)], scenario))
    forecast = [r for r in rows if r.policy == "forecast"]
    assert [r.seed for r in forecast] == [0, 1, 2, None]
    per_seed = [r.savings_pct for r in forecast[:3]]
    assert forecast[3].savings_pct == pytest.approx(np.mean(per_seed), abs=1e-3)
    assert forecast[3].savings_sd_pct == pytest.approx(np.std(per_seed, ddof=1), abs=1e-3)
    assert len(set(per_seed)) > 1


def test_reference_oracle_values_on_the_bundled_data():
    """Regression values of the published reference numbers (Electricity Maps 2023, hourly) on the bundled files."""
    es = Series.from_readings(load_series(BUNDLED_DATA / "ES_2023.csv"))
    no = Series.from_readings(load_series(BUNDLED_DATA / "NO_2023.csv"))
    scenario = Scenario(policies=(Policy.ORACLE,))
    es_1h, es_4h = summarize({"ES": es}, replay_zone(es, "ES", [released(es, 1), released(es, 4)], scenario))
    (no_1h,) = summarize({"NO": no}, replay_zone(no, "NO", [released(no, 1)], scenario))
    assert es_4h.jobs == 8685
    assert es_4h.savings_pct == pytest.approx(29.96, abs=0.005)
    assert no_1h.savings_pct == pytest.approx(12.90, abs=0.005)
    assert no_1h.savings_per_job_pct == pytest.approx(10.02, abs=0.005)
    assert es_1h.savings_pct > es_4h.savings_pct
