"""The replay engine: the oracle against brute force, no look-ahead, releases and the savings arithmetic."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from airflow_carbon_provider.carbon.csv_series import load_series
from airflow_carbon_provider.carbon.planner import plan
from airflow_carbon_provider.carbon.policy import DeadlineKind, PlanSpec, Policy, Threshold
from airflow_carbon_provider.carbon.series import Series, from_epoch
from airflow_carbon_provider.replay.engine import Scenario, oracle_starts, releases, replay_zone
from airflow_carbon_provider.replay.results import summarize
from tests.conftest import BUNDLED_DATA

T0 = datetime(2023, 1, 1, tzinfo=UTC).timestamp()
H = 3600.0


def hourly_series(values: np.ndarray) -> Series:
    starts = T0 + H * np.arange(len(values))
    return Series.from_arrays(starts, starts + H, values)


def random_grid(hours: int, seed: int = 7) -> np.ndarray:
    rng = np.random.default_rng(seed)
    daily = 200 + 80 * np.sin(np.arange(hours) / 24 * 2 * np.pi)
    return daily + rng.normal(0, 40, hours)


@pytest.mark.parametrize("kind", [DeadlineKind.START, DeadlineKind.FINISH])
@pytest.mark.parametrize("length", [1, 3])
def test_oracle_matches_brute_force_on_a_small_series(kind, length):
    values = random_grid(24 * 5)
    truth = hourly_series(values)
    scenario = Scenario(durations=(timedelta(hours=length),), slack=timedelta(hours=10), deadline_kind=kind)
    rel = releases(truth, scenario, timedelta(hours=length))
    latest = rel + 10 * H - (length * H if kind is DeadlineKind.FINISH else 0)
    got = oracle_starts(truth, rel, latest, length * H)
    for release, start, last in zip(rel, got, latest, strict=True):
        r, ls = int((release - T0) // H), int((last - T0) // H)
        means = [values[s : s + length].mean() for s in range(r, ls + 1)]
        assert start == T0 + H * (r + int(np.argmin(means)))


def test_oracle_is_the_forecast_policy_fed_the_true_future():
    truth = hourly_series(random_grid(24 * 4, seed=3))
    scenario = Scenario(durations=(timedelta(hours=2),), slack=timedelta(hours=12))
    rel = releases(truth, scenario, timedelta(hours=2))
    got = oracle_starts(truth, rel, rel + 12 * H, 2 * H)
    spec = PlanSpec(policy=Policy.FORECAST, duration=timedelta(hours=2), deadline_kind=DeadlineKind.START)
    for release, start in zip(rel, got, strict=True):
        now = from_epoch(release)
        p = plan(spec, now=now, deadline=now + timedelta(hours=12), history=truth, forecast=truth)
        assert p.start.timestamp() == start


def test_forecast_without_error_achieves_the_oracle():
    truth = hourly_series(random_grid(24 * 6))
    scenario = Scenario(durations=(timedelta(hours=3),), policies=(Policy.FORECAST, Policy.ORACLE), forecast_error=0)
    summaries = {s.policy: s for s in summarize(truth, replay_zone(truth, "Z", scenario))}
    assert summaries["forecast"].savings_pct == pytest.approx(summaries["oracle"].savings_pct)
    assert summaries["oracle"].oracle_share == 1


@pytest.mark.parametrize("policy", [Policy.NOW, Policy.THRESHOLD, Policy.HYSTERESIS, Policy.AUTO])
def test_changing_data_after_t_leaves_every_earlier_start_unchanged(policy):
    values = random_grid(24 * 12, seed=11)
    cut = 24 * 8 + 5
    tampered = values.copy()
    tampered[cut:] = np.random.default_rng(99).uniform(0, 600, len(values) - cut)
    scenario = Scenario(
        durations=(timedelta(hours=1), timedelta(hours=4)),
        policies=(policy,),
        threshold=Threshold.parse("p30"),
        threshold_high=Threshold.parse("p50"),
    )
    before = replay_zone(hourly_series(values), "Z", scenario)
    after = replay_zone(hourly_series(tampered), "Z", scenario)
    t = T0 + cut * H
    checked = 0
    for a, b in zip(before, after, strict=True):
        early = a.starts < t
        assert np.array_equal(a.releases, b.releases)
        assert np.array_equal(a.starts[early], b.starts[early])
        checked += int(early.sum())
    assert checked > 100


def test_releases_leave_48_hours_of_history_and_keep_the_window_inside_the_data():
    truth = hourly_series(np.full(24 * 10, 100.0))
    start_kind = releases(truth, Scenario(), timedelta(hours=4))
    finish_kind = releases(truth, Scenario(deadline_kind=DeadlineKind.FINISH), timedelta(hours=4))
    assert start_kind[0] == T0 + 48 * H
    assert len(start_kind) == 24 * 10 - 4 - 24 - 48 + 1
    assert finish_kind[-1] == truth.last_end - 24 * H


def test_threshold_starts_at_the_first_check_below_the_threshold_or_the_deadline():
    values = np.full(24 * 4, 300.0)
    values[60] = 100.0  # seen from 61:00 on: the planner reads only intervals that started before now
    truth = hourly_series(values)
    scenario = Scenario(durations=(timedelta(hours=1),), policies=(Policy.THRESHOLD,), threshold=Threshold(200))
    (d,) = replay_zone(truth, "Z", scenario)
    by_release = dict(zip(((d.releases - T0) / H).astype(int), ((d.starts - T0) / H).astype(int), strict=True))
    assert by_release[48] == 61
    assert by_release[61] == 61
    assert by_release[62] == 62 + 24


def test_savings_are_the_total_reduction_and_delays_are_in_hours():
    values = np.array([100.0] * 48 + [100.0, 50.0] * 24)
    truth = hourly_series(values)
    scenario = Scenario(durations=(timedelta(hours=1),), slack=timedelta(hours=1), policies=(Policy.NOW, Policy.ORACLE))
    now, oracle = summarize(truth, replay_zone(truth, "Z", scenario))
    assert now.savings_pct == 0
    assert oracle.run_now_intensity == pytest.approx(75, abs=1.5)
    n_high = oracle.jobs // 2 + oracle.jobs % 2
    assert oracle.savings_pct == pytest.approx(
        100 * (1 - 50 * oracle.jobs / (100 * n_high + 50 * (oracle.jobs - n_high))), abs=1e-3
    )
    assert oracle.mean_delay_h == pytest.approx(n_high / oracle.jobs, abs=1e-3)
    assert oracle.p95_delay_h == 1


def test_reference_oracle_values_on_the_bundled_data():
    """Regression values of the published reference numbers (Electricity Maps 2023, hourly) on the bundled files."""
    scenario = Scenario(durations=(timedelta(hours=1), timedelta(hours=4)), policies=(Policy.ORACLE,))
    es = Series.from_readings(load_series(BUNDLED_DATA / "ES_2023.csv"))
    no = Series.from_readings(load_series(BUNDLED_DATA / "NO_2023.csv"))
    es_1h, es_4h = summarize(es, replay_zone(es, "ES_2023", scenario))
    no_1h, _ = summarize(no, replay_zone(no, "NO_2023", scenario))
    assert es_4h.jobs == 8685
    assert es_4h.savings_pct == pytest.approx(29.96, abs=0.005)
    assert no_1h.savings_pct == pytest.approx(12.90, abs=0.005)
    assert no_1h.savings_per_job_pct == pytest.approx(10.02, abs=0.005)
    assert es_1h.savings_pct > es_4h.savings_pct
