"""Replay source: bundled data by zone or a file, served relative to a (scaled) clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from airflow_carbon_provider.carbon.clock import ManualClock, ScaledClock
from airflow_carbon_provider.carbon.errors import CarbonSourceError, ZoneUnknownError
from airflow_carbon_provider.carbon.sources.replay import ReplaySource, bundled_files, replay_clock

AT = datetime(2023, 6, 1, 12, 30, tzinfo=UTC)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(AT)


@pytest.fixture
def source(clock) -> ReplaySource:
    return ReplaySource(clock=clock)


def test_bundled_zones_are_found_by_name():
    assert set(bundled_files()) >= {"ES", "NO", "BR", "US-CAL-CISO"}


@pytest.mark.asyncio
async def test_latest_is_the_hour_containing_now(source):
    reading = await source.latest("ES")
    assert (reading.start, reading.end) == (AT.replace(minute=0), AT.replace(minute=0) + timedelta(hours=1))
    assert reading.source == "replay"
    assert not reading.forecast


@pytest.mark.asyncio
async def test_forecast_is_the_recorded_future_flagged_perfect_knowledge(source):
    forecast = await source.forecast("ES", timedelta(hours=3))
    assert [r.start for r in forecast] == [AT.replace(minute=0) + timedelta(hours=i) for i in range(4)]
    assert all(r.forecast and "perfect-knowledge" in r.flags for r in forecast)


@pytest.mark.asyncio
async def test_history_never_returns_points_after_now(source):
    history = await source.history("ES", AT - timedelta(hours=3), AT + timedelta(hours=5))
    assert history[-1].start <= AT
    assert len(history) == 4


@pytest.mark.asyncio
async def test_history_follows_the_clock(source, clock):
    before = await source.history("NO", AT - timedelta(hours=1), AT + timedelta(hours=5))
    clock.advance(timedelta(hours=2))
    after = await source.history("NO", AT - timedelta(hours=1), AT + timedelta(hours=5))
    assert len(after) == len(before) + 2


@pytest.mark.asyncio
async def test_unknown_zone_lists_the_available_ones(source):
    with pytest.raises(ZoneUnknownError, match="ES"):
        await source.latest("DE")


@pytest.mark.asyncio
async def test_clock_outside_the_data_says_how_to_fix_it():
    source = ReplaySource(clock=ManualClock(datetime(2030, 1, 1, tzinfo=UTC)))
    with pytest.raises(CarbonSourceError, match="replay_start"):
        await source.latest("ES")


@pytest.mark.asyncio
async def test_a_replay_file_serves_its_own_series_under_the_configured_zone(tmp_path, clock):
    path = tmp_path / "mine.csv"
    path.write_text("datetime,carbon_intensity\n2023-06-01T12:00:00Z,100\n2023-06-01T13:00:00Z,50\n")
    source = ReplaySource(replay_file=path, zone="HOME", clock=clock)
    assert (await source.latest("HOME")).intensity == 100
    assert source.default_zone == "HOME"


def test_a_missing_replay_file_is_a_value_error_naming_the_field(tmp_path):
    with pytest.raises(ValueError, match="replay_file"):
        ReplaySource(replay_file=tmp_path / "absent.csv")


def test_default_clock_maps_now_into_the_data_year():
    wall = ManualClock(datetime(2026, 11, 29, 2, 0, tzinfo=UTC))
    clock = replay_clock(datetime(2023, 1, 1, tzinfo=UTC), wall_origin=wall.now().timestamp(), wall=wall)
    assert clock.now() == datetime(2023, 11, 29, 2, 0, tzinfo=UTC)


def test_replay_start_and_speed_scale_time():
    wall = ManualClock(datetime(2026, 1, 1, tzinfo=UTC))
    start = datetime(2023, 3, 1, tzinfo=UTC)
    clock = replay_clock(start, start=start, speed=60, wall_origin=wall.now().timestamp(), wall=wall)
    wall.advance(timedelta(minutes=1))
    assert isinstance(clock, ScaledClock)
    assert clock.now() == start + timedelta(hours=1)


def test_leap_day_maps_to_the_28th_in_a_common_year():
    wall = ManualClock(datetime(2028, 2, 29, 6, 0, tzinfo=UTC))
    clock = replay_clock(datetime(2023, 1, 1, tzinfo=UTC), wall_origin=wall.now().timestamp(), wall=wall)
    assert clock.now() == datetime(2023, 2, 28, 6, 0, tzinfo=UTC)


@pytest.mark.asyncio
async def test_an_instant_on_an_interval_boundary_belongs_to_the_interval_it_starts():
    at = datetime(2023, 6, 1, 12, 0, tzinfo=UTC)
    source = ReplaySource(clock=ManualClock(at))
    assert (await source.latest("ES")).start == at
    assert (await source.forecast("ES", timedelta(hours=1)))[0].start == at
    assert len(await source.forecast("ES", timedelta(hours=1))) == 1


def test_a_malformed_replay_file_fails_at_construction(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("datetime,carbon_intensity\n2023-06-01T12:00:00,100\n")
    with pytest.raises(ValueError, match="no UTC offset"):
        ReplaySource(replay_file=path, clock=ManualClock(AT))


def test_speed_without_wall_origin_warns_that_processes_will_disagree(caplog):
    with caplog.at_level("WARNING"):
        ReplaySource(replay_speed=60)
    assert "replay_wall_origin" in caplog.text


def test_a_shared_wall_origin_gives_every_process_the_same_clock():
    first = ReplaySource(replay_speed=60, replay_wall_origin=1_700_000_000, replay_start=AT)
    second = ReplaySource(replay_speed=60, replay_wall_origin=1_700_000_000, replay_start=AT)
    assert first.clock == second.clock


@pytest.mark.asyncio
async def test_a_replay_without_forecast_says_so_and_serves_none(clock):
    source = ReplaySource(clock=clock, forecast_error=None)
    assert not source.has_forecast
    with pytest.raises(CarbonSourceError, match="serves no forecast"):
        await source.forecast("ES", timedelta(hours=3))


@pytest.mark.asyncio
async def test_a_noisy_replay_forecast_is_the_replay_cli_forecast_for_that_seed(clock):
    from airflow_carbon_provider.carbon.series import Series
    from airflow_carbon_provider.replay.engine import noisy

    source = ReplaySource(clock=clock, forecast_error=0.05, forecast_seed=4)
    served = await source.forecast("ES", timedelta(hours=6))
    truth = Series.from_readings(list(source.series("ES")))
    expected = noisy(truth, 0.05, 4).ending_after(AT.timestamp()).before((AT + timedelta(hours=6)).timestamp())
    assert [r.intensity for r in served] == pytest.approx(expected.view_values().tolist(), abs=1e-9)
    assert [r.intensity for r in served] != [
        r.intensity for r in await ReplaySource(clock=clock).forecast("ES", timedelta(hours=6))
    ]
    assert all(r.forecast and "simulated-forecast-error:0.05:seed=4" in r.flags for r in served)
