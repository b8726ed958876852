"""Carbon XCom payloads are recognised by kind and validated field by field."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from airflow_carbon_provider.carbon.payloads import (
    CarbonReport,
    CarbonWait,
    MalformedPayloadError,
    parse_payload,
)
from tests.plugins.dag_files.carbon_sample_dags import sample_report, sample_wait


def test_report_parses_into_typed_fields() -> None:
    report = parse_payload(sample_report())

    assert isinstance(report, CarbonReport)
    assert report.zone == "ES"
    assert report.avoided_g == 651.75
    assert report.deadline == datetime(2023, 6, 1, 18, tzinfo=UTC)
    assert len(report.series) == 7


def test_wait_parses_into_typed_fields() -> None:
    wait = parse_payload(sample_wait())

    assert isinstance(wait, CarbonWait)
    assert (wait.intensity_at_release, wait.intensity_at_start) == (212.0, 95.0)


@pytest.mark.parametrize("value", [42, "text", None, {"rows": 3}, {"kind": "someone.else/v1", "zone": "ES"}])
def test_value_without_our_kind_is_not_a_payload(value: object) -> None:
    assert parse_payload(value) is None


def test_report_with_a_non_numeric_field_is_rejected_naming_the_field() -> None:
    with pytest.raises(MalformedPayloadError, match="'emitted_g' must be a finite number"):
        parse_payload({**sample_report(), "emitted_g": "lots"})


def test_boolean_is_not_taken_for_a_number() -> None:
    with pytest.raises(MalformedPayloadError, match="'avoided_g'"):
        parse_payload({**sample_report(), "avoided_g": True})


def test_timestamp_without_offset_is_rejected() -> None:
    with pytest.raises(MalformedPayloadError, match="timezone-aware"):
        parse_payload({**sample_wait(), "release": "2023-06-01T10:00:00"})


def test_missing_field_is_rejected() -> None:
    payload = sample_wait()
    del payload["release"]

    with pytest.raises(MalformedPayloadError, match="'release'"):
        parse_payload(payload)


def test_broken_series_point_is_rejected_with_its_index() -> None:
    report = sample_report()
    report["series"][2]["intensity"] = None

    with pytest.raises(MalformedPayloadError, match=r"series\[2\]"):
        parse_payload(report)


def test_series_is_ordered_by_start() -> None:
    report = sample_report()
    report["series"].reverse()

    parsed = parse_payload(report)

    assert isinstance(parsed, CarbonReport)
    assert [point.start for point in parsed.series] == sorted(point.start for point in parsed.series)


def test_notes_must_be_strings() -> None:
    with pytest.raises(MalformedPayloadError, match="'notes'"):
        parse_payload({**sample_wait(), "notes": [{"html": "<b>"}]})


def test_wait_that_found_no_usable_zone_parses_with_zone_none() -> None:
    wait = parse_payload({**sample_wait(), "zone": None, "deadline_forced": True, "degraded": True})

    assert isinstance(wait, CarbonWait)
    assert wait.zone is None


def test_report_grams_may_be_null_when_history_did_not_cover_the_run() -> None:
    report = parse_payload({**sample_report(), "emitted_g": None, "avoided_g": None, "degraded": True})

    assert isinstance(report, CarbonReport)
    assert (report.emitted_g, report.avoided_g) == (None, None)


def test_wait_lists_the_zones_it_considered() -> None:
    wait = parse_payload({**sample_wait(), "zones": {"NO": 30.0, "ES": 95.0, "PL": None}})

    assert isinstance(wait, CarbonWait)
    assert wait.candidates == (("ES", 95.0), ("NO", 30.0), ("PL", None))
