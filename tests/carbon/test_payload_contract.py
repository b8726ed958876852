"""The plugin reads exactly what the provider's accounting writes (the report XCom contract, end to end)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from airflow_carbon_provider.carbon.accounting import build_report
from airflow_carbon_provider.carbon.payloads import CarbonReport, parse_payload
from airflow_carbon_provider.carbon.power import PowerModel
from airflow_carbon_provider.carbon.readings import Reading

RELEASE = datetime(2023, 6, 1, 10, tzinfo=UTC)


def hourly(values: list[float]) -> list[Reading]:
    return [
        Reading(zone="ES", start=RELEASE + timedelta(hours=h), end=RELEASE + timedelta(hours=h + 1), intensity=v)
        for h, v in enumerate(values)
    ]


def test_accounting_report_parses_with_the_same_numbers() -> None:
    report = build_report(
        zone="ES",
        source="replay",
        release=RELEASE,
        start=RELEASE + timedelta(hours=2),
        end=RELEASE + timedelta(hours=3),
        power=PowerModel(1000.0, 1.0, "m7g.xlarge"),
        history=hourly([300.0, 200.0, 100.0, 100.0]),
    )

    parsed = parse_payload(report.to_dict())

    assert isinstance(parsed, CarbonReport)
    assert (parsed.emitted_g, parsed.baseline_g, parsed.avoided_g) == (100.0, 300.0, 200.0)
    assert parsed.start == RELEASE + timedelta(hours=2)
    assert len(parsed.series) == 4


def test_accounting_report_without_history_is_shown_degraded_not_skipped() -> None:
    report = build_report(
        zone="ES",
        source="replay",
        release=RELEASE,
        start=RELEASE + timedelta(hours=2),
        end=RELEASE + timedelta(hours=3),
        power=PowerModel(1000.0, 1.0),
        history=[],
    )

    parsed = parse_payload(report.to_dict())

    assert isinstance(parsed, CarbonReport)
    assert parsed.avoided_g is None
    assert parsed.degraded
