from datetime import UTC, datetime, timedelta

import pytest

from airflow_carbon_provider.carbon.clock import ManualClock, ScaledClock

ORIGIN = datetime(2023, 6, 1, 6, tzinfo=UTC)
WALL = datetime(2026, 11, 29, 12, tzinfo=UTC)


def test_scaled_clock_runs_speed_times_faster_than_the_wall() -> None:
    wall = ManualClock(WALL)
    clock = ScaledClock(ORIGIN, wall_origin=WALL.timestamp(), speed=3600, _wall=wall)
    wall.advance(timedelta(seconds=2))
    assert clock.now() == ORIGIN + timedelta(hours=2)


def test_scaled_clock_converts_its_waits_into_wall_seconds() -> None:
    clock = ScaledClock(ORIGIN, wall_origin=WALL.timestamp(), speed=3600)
    assert clock.wall_seconds(timedelta(hours=12)) == 12.0
    assert clock.wall_seconds(timedelta(hours=-1)) == 0.0


def test_scaled_clock_maps_a_past_wall_instant_to_its_time() -> None:
    clock = ScaledClock(ORIGIN, wall_origin=WALL.timestamp(), speed=60)
    assert clock.at(WALL + timedelta(minutes=1)) == ORIGIN + timedelta(hours=1)


def test_scaled_clock_rejects_non_positive_speed() -> None:
    with pytest.raises(ValueError, match="speed must be > 0"):
        ScaledClock(ORIGIN, wall_origin=0, speed=0)
