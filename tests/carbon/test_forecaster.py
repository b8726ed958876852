"""The built-in forecaster: daily profile plus a decaying current deviation, from history only."""

from __future__ import annotations

import numpy as np
import pytest

from airflow_carbon_provider.carbon.forecaster import forecast
from airflow_carbon_provider.carbon.series import Series
from tests.carbon.planner_data import at, hourly


def daily(days: int, level: float = 0.0) -> list[float]:
    return [200 + 100 * np.sin(h / 24 * 2 * np.pi) + level for h in range(days * 24)]


def test_a_repeating_day_is_forecast_exactly():
    history = Series.from_readings(hourly(daily(8)))
    predicted = forecast(history, origin=at(8 * 24).timestamp(), end=at(9 * 24).timestamp())
    assert len(predicted) == 48  # forecasts run in whole two-day steps
    assert predicted.view_values() == pytest.approx(daily(2))
    assert predicted.first_start == at(8 * 24).timestamp()


def test_data_at_or_after_the_origin_is_never_read():
    values = daily(10)
    known = Series.from_readings(hourly(values))
    tampered = Series.from_readings(hourly(values[: 8 * 24] + [0.0] * (2 * 24)))
    origin, end = at(8 * 24).timestamp(), at(9 * 24).timestamp()
    assert np.array_equal(
        forecast(known, origin=origin, end=end).view_values(), forecast(tampered, origin=origin, end=end).view_values()
    )


def test_a_recent_level_shift_raises_the_near_term_forecast_and_fades_with_lead_time():
    values = daily(8)
    values[-3:] = [v + 60 for v in values[-3:]]
    predicted = forecast(
        Series.from_readings(hourly(values)), origin=at(8 * 24).timestamp(), end=at(9 * 24).timestamp()
    )
    excess = predicted.view_values()[:24] - np.array(daily(1))
    assert excess[0] > 10
    assert excess[0] > excess[6] > excess[20] > 0


def test_slots_follow_the_history_resolution():
    quarter = Series.from_arrays(
        [at(h / 4).timestamp() for h in range(4 * 48)],
        [at((h + 1) / 4).timestamp() for h in range(4 * 48)],
        [100.0] * (4 * 48),
    )
    predicted = forecast(quarter, origin=at(48).timestamp(), end=at(50).timestamp())
    assert set(predicted.view_ends() - predicted.view_starts()) == {900.0}
    assert predicted.view_values() == pytest.approx([100.0] * len(predicted))


def test_the_horizon_is_rounded_up_to_whole_two_day_steps():
    history = Series.from_readings(hourly(daily(3)))
    for hours, rounded in ((1, 48), (13, 48), (49, 96)):
        predicted = forecast(history, origin=at(72).timestamp(), end=at(72 + hours).timestamp())
        assert predicted.last_end == at(72 + rounded).timestamp()


def test_a_slot_does_not_depend_on_how_far_the_forecast_runs():
    history = Series.from_readings(hourly([v + 7 * np.cos(i) for i, v in enumerate(daily(15))]))
    short = forecast(history, origin=at(15 * 24 + 0.5).timestamp(), end=at(15 * 24 + 3).timestamp())
    long = forecast(history, origin=at(15 * 24 + 0.5).timestamp(), end=at(15 * 24 + 90).timestamp())
    assert np.array_equal(short.view_values(), long.view_values()[: len(short)])


def test_no_history_gives_no_forecast():
    assert len(forecast(Series.empty(), origin=at(0).timestamp(), end=at(5).timestamp())) == 0
