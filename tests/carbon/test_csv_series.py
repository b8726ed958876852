from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from airflow_carbon_provider.carbon.csv_series import SeriesFileError, load_series, parse_series
from tests.conftest import BUNDLED_DATA, TEST_DATA

EXPORTS = TEST_DATA / "electricitymaps-export"  # two-week slices of Electricity Maps portal exports (ODbL)


def test_simple_csv_gives_one_reading_per_row_lasting_until_the_next() -> None:
    text = "datetime,carbon_intensity\n2023-01-01T00:00:00Z,100.5\n2023-01-01T00:30:00Z,90\n"
    first, second = parse_series(text, zone="GB")
    assert (first.start, first.end, first.intensity) == (
        datetime(2023, 1, 1, tzinfo=UTC),
        datetime(2023, 1, 1, 0, 30, tzinfo=UTC),
        100.5,
    )
    assert second.end - second.start == timedelta(minutes=30)


def test_rows_are_sorted_by_time() -> None:
    text = "datetime,carbon_intensity\n2023-01-01T01:00:00Z,2\n2023-01-01T00:00:00Z,1\n"
    assert [r.intensity for r in parse_series(text, zone="X")] == [1.0, 2.0]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty file"),
        ("datetime,carbon_intensity\n", "no data rows"),
        ("time,value\n2023-01-01T00:00:00Z,1\n", "unrecognised header"),
        ("datetime,carbon_intensity\nyesterday,1\n", "not ISO-8601"),
        ("datetime,carbon_intensity\n2023-01-01T00:00:00,1\n", "no UTC offset"),
        ("datetime,carbon_intensity\n2023-01-01T00:00:00+02:00,1\n", "is not UTC"),
        ("datetime,carbon_intensity\n2023-01-01T00:00:00Z,abc\n", "is not a number"),
        ("datetime,carbon_intensity\n2023-01-01T00:00:00Z,-5\n", "outside 0..3000"),
        ("datetime,carbon_intensity\n2023-01-01T00:00:00Z,4000\n", "outside 0..3000"),
        (
            "datetime,carbon_intensity\n2023-01-01T00:00:00Z,1\n2023-01-01T00:00:00Z,2\n",
            "duplicated timestamp",
        ),
    ],
)
def test_bad_files_are_rejected_with_the_reason(text: str, message: str) -> None:
    with pytest.raises(SeriesFileError, match=message):
        parse_series(text, zone="X")


def test_errors_name_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "DE.csv"
    path.write_text("datetime,carbon_intensity\n2023-01-01T00:00:00Z,1\n2023-01-01T01:00:00Z,x\n")
    with pytest.raises(SeriesFileError, match=r"DE\.csv:3"):
        load_series(path)


def test_electricity_maps_export_reads_lca_column_and_estimated_flag() -> None:
    export = load_series(EXPORTS / "BR_2023_hourly.csv")
    normalized = load_series(BUNDLED_DATA / "BR_2023.csv")
    assert export[0].zone == "BR_2023"
    assert len(export) == 336
    assert [(r.start, r.intensity) for r in export] == [(r.start, r.intensity) for r in normalized[:336]]
    assert sum(r.estimated for r in export) == 9


def test_electricity_maps_export_can_read_the_direct_column() -> None:
    lifecycle = load_series(EXPORTS / "NO_2023_hourly.csv")
    direct = load_series(EXPORTS / "NO_2023_hourly.csv", emission_factor="direct")
    assert (direct[0].intensity, lifecycle[0].intensity) == (37.86, 66.23)  # the file's first row
    assert all(d.intensity < lc.intensity for d, lc in zip(direct, lifecycle, strict=True))


def test_bundled_data_covers_a_full_year() -> None:
    series = load_series(BUNDLED_DATA / "ES_2023.csv")
    assert len(series) == 8760
    assert series[-1].end == datetime(2024, 1, 1, tzinfo=UTC)
