from datetime import UTC, datetime, timedelta, timezone

import pytest

from airflow_carbon_provider.carbon.readings import Reading, SignalKind, normalize_series, parse_utc

T0 = datetime(2023, 6, 1, tzinfo=UTC)


def reading(start: datetime, value: float = 100.0, **kwargs: object) -> Reading:
    return Reading(zone="ES", start=start, end=start + timedelta(hours=1), intensity=value, **kwargs)  # type: ignore[arg-type]


def test_reading_converts_offsets_to_utc() -> None:
    start = datetime(2023, 6, 1, 2, tzinfo=timezone(timedelta(hours=2)))
    assert reading(start).start == T0


def test_reading_rejects_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        reading(datetime(2023, 6, 1))


def test_reading_rejects_end_before_start() -> None:
    with pytest.raises(ValueError, match="must be after"):
        Reading(zone="ES", start=T0, end=T0, intensity=1.0)


def test_reading_rejects_non_finite_intensity() -> None:
    with pytest.raises(ValueError, match="finite"):
        reading(T0, float("nan"))


def test_reading_round_trips_through_dict() -> None:
    original = reading(T0, 123.4, signal=SignalKind.MARGINAL, estimated=True, forecast=True, flags=("stale",))
    assert Reading.from_dict(original.to_dict()) == original


def test_normalize_series_sorts_and_prefers_measured_over_forecast() -> None:
    measured = reading(T0, 100.0)
    forecast = reading(T0, 90.0, forecast=True)
    later = reading(T0 + timedelta(hours=1), 80.0)
    assert normalize_series([later, measured, forecast]) == [measured, later]


def test_parse_utc_rejects_timestamps_without_offset() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        parse_utc("2023-06-01T00:00:00")
