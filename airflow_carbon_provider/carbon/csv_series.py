"""Read grid carbon-intensity CSV files: the simple ``datetime,carbon_intensity`` form and the
Electricity Maps data-portal export exactly as downloaded (UTF-8, CRLF, ``gCO₂eq`` with a subscript two).

Every problem is reported with the file, the line and what is allowed, never skipped silently.
"""

from __future__ import annotations

import csv
import io
import itertools
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from airflow_carbon_provider.carbon.readings import MAX_PLAUSIBLE_INTENSITY, Reading, SignalKind

SIMPLE_COLUMNS = ("datetime", "carbon_intensity")
EM_TIME = "Datetime (UTC)"
EM_ZONE = "Zone Id"
EM_LCA = "Carbon Intensity gCO\u2082eq/kWh (LCA)"
EM_DIRECT = "Carbon Intensity gCO\u2082eq/kWh (direct)"
EM_ESTIMATED = "Data Estimated"


class SeriesFileError(ValueError):
    """A carbon-intensity CSV that cannot be read as a time series."""


def zone_from_path(path: Path) -> str:
    """The zone a file describes: its stem, without an Electricity Maps ``_YYYY_hourly`` suffix."""
    stem = path.stem
    for suffix in ("_hourly",):
        stem = stem.removesuffix(suffix)
    return stem


def load_series(path: str | Path, zone: str | None = None, emission_factor: str = "lifecycle") -> list[Reading]:
    """Load one CSV file into readings sorted by start, one per interval.

    ``emission_factor`` picks the Electricity Maps column: ``lifecycle`` (LCA, the API default) or ``direct``.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise SeriesFileError(f"{path}: no such file") from exc
    return parse_series(text, zone=zone or zone_from_path(path), origin=str(path), emission_factor=emission_factor)


def parse_series(text: str, zone: str, origin: str = "<csv>", emission_factor: str = "lifecycle") -> list[Reading]:
    if emission_factor not in ("lifecycle", "direct"):
        raise SeriesFileError(f"emission_factor must be 'lifecycle' or 'direct', got {emission_factor!r}")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = tuple(reader.fieldnames or ())
    if not header:
        raise SeriesFileError(f"{origin}: empty file; expected a header {','.join(SIMPLE_COLUMNS)}")
    if EM_TIME in header:
        value_column = EM_LCA if emission_factor == "lifecycle" else EM_DIRECT
        time_column, estimated_column, naive_is_utc = EM_TIME, EM_ESTIMATED, True
        if value_column not in header:
            raise SeriesFileError(f"{origin}: Electricity Maps export without the column {value_column!r}")
    elif all(column in header for column in SIMPLE_COLUMNS):
        time_column, value_column, estimated_column, naive_is_utc = (
            "datetime",
            "carbon_intensity",
            None,
            False,
        )
    else:
        raise SeriesFileError(
            f"{origin}: unrecognised header {list(header)}; expected 'datetime,carbon_intensity' "
            f"or an Electricity Maps data-portal export (with {EM_TIME!r})"
        )
    points: list[tuple[datetime, float, bool]] = []
    for line_no, row in enumerate(reader, start=2):
        start = _parse_time(row.get(time_column) or "", naive_is_utc, f"{origin}:{line_no}")
        raw_value = (row.get(value_column) or "").strip()
        try:
            value = float(raw_value)
        except ValueError:
            raise SeriesFileError(f"{origin}:{line_no}: {value_column} {raw_value!r} is not a number") from None
        if not 0 <= value <= MAX_PLAUSIBLE_INTENSITY:
            raise SeriesFileError(
                f"{origin}:{line_no}: {value_column} {value} is outside 0..{MAX_PLAUSIBLE_INTENSITY:.0f} gCO₂e/kWh"
            )
        estimated = estimated_column is not None and (row.get(estimated_column) or "").strip().lower() == "true"
        points.append((start, value, estimated))
    if not points:
        raise SeriesFileError(f"{origin}: no data rows")
    duplicates = [t for t, count in Counter(p[0] for p in points).items() if count > 1]
    if duplicates:
        raise SeriesFileError(f"{origin}: duplicated timestamp {min(duplicates).isoformat()}")
    points.sort(key=lambda p: p[0])
    return _to_readings(points, zone)


def _parse_time(text: str, naive_is_utc: bool, where: str) -> datetime:
    text = text.strip()
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise SeriesFileError(f"{where}: timestamp {text!r} is not ISO-8601 (e.g. 2023-01-01T00:00:00Z)") from None
    if parsed.tzinfo is None:
        if not naive_is_utc:
            raise SeriesFileError(f"{where}: timestamp {text!r} has no UTC offset; write it as {text}Z")
        return parsed.replace(tzinfo=UTC)
    if parsed.utcoffset() != timedelta(0):
        raise SeriesFileError(f"{where}: timestamp {text!r} is not UTC; convert it and write it with Z")
    return parsed.astimezone(UTC)


def _to_readings(points: list[tuple[datetime, float, bool]], zone: str) -> list[Reading]:
    """Each row lasts until the next one; the last lasts as long as the most common spacing."""
    steps = Counter(b[0] - a[0] for a, b in itertools.pairwise(points))
    last_step = steps.most_common(1)[0][0] if steps else timedelta(hours=1)
    ends = [p[0] for p in points[1:]] + [points[-1][0] + last_step]
    return [
        Reading(
            zone=zone,
            start=start,
            end=end,
            intensity=value,
            signal=SignalKind.AVERAGE,
            source="replay",
            estimated=estimated,
        )
        for (start, value, estimated), end in zip(points, ends, strict=True)
    ]
