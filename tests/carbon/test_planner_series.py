"""The compact series the planner computes on: window means, coverage and no-look-ahead views."""

from __future__ import annotations

import numpy as np
import pytest

from airflow_carbon_provider.carbon.series import Series

H = 3600.0


def gappy() -> Series:
    # [0,1h)=100, [1h,2h)=200, gap [2h,3h), [3h,4h)=400
    return Series.from_arrays([0, H, 3 * H], [H, 2 * H, 4 * H], [100.0, 200.0, 400.0])


def test_window_mean_weights_partial_intervals_by_overlap():
    assert gappy().window_means([0.5 * H], [1.5 * H])[0] == pytest.approx(150)
    assert gappy().window_means([0.25 * H], [2 * H])[0] == pytest.approx((0.75 * 100 + 200) / 1.75)


def test_window_mean_over_a_gap_counts_only_covered_time_and_coverage_says_so():
    series = gappy()
    assert series.window_means([1.5 * H], [3.5 * H])[0] == pytest.approx(300)
    assert series.coverage(1.5 * H, 3.5 * H) == pytest.approx(0.5)
    assert not series.covers(1.5 * H, 3.5 * H)
    assert series.covers(0, 2 * H)
    assert np.isnan(series.window_means([2.1 * H], [2.9 * H])[0])


def test_before_keeps_only_intervals_that_started_before_t():
    known = gappy().before(H)
    assert len(known) == 1
    assert known.last_value == 100
    assert len(gappy().before(H + 1)) == 2


def test_a_view_ignores_data_outside_it():
    known = gappy().before(H)
    assert known.window_means([0], [3 * H])[0] == pytest.approx(100)


def test_overlapping_input_is_clipped_to_the_next_start():
    series = Series.from_arrays([0, H], [2 * H, 2 * H], [100.0, 300.0])
    assert series.window_means([0], [2 * H])[0] == pytest.approx(200)


def test_bad_arrays_are_rejected():
    with pytest.raises(ValueError, match="equal length"):
        Series.from_arrays([0, H], [H], [1.0, 2.0])
    with pytest.raises(ValueError, match="must end after it starts"):
        Series.from_arrays([0, 0], [H, H], [1.0, 2.0])
