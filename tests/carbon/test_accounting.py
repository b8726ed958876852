from datetime import UTC, datetime, timedelta

import pytest

from airflow_carbon_provider.carbon.accounting import REPORT_KIND, build_report, exposure
from airflow_carbon_provider.carbon.power import power_model
from airflow_carbon_provider.carbon.readings import Reading

T0 = datetime(2023, 6, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)
KW = power_model(watts=1000, pue=1.0)


def hourly(*values: float, start: datetime = T0) -> list[Reading]:
    return [Reading("ES", start + i * HOUR, start + (i + 1) * HOUR, v) for i, v in enumerate(values)]


def test_exposure_weights_partial_intervals_by_overlap() -> None:
    # 30 min of 100 and 60 min of 200 and 15 min of 400 -> (50 + 200 + 100) / 1.75 h
    readings = hourly(100, 200, 400)
    result = exposure(readings, T0 + timedelta(minutes=30), T0 + timedelta(hours=2, minutes=15))
    assert result.mean == pytest.approx((100 * 30 + 200 * 60 + 400 * 15) / 105)
    assert result.coverage == 1.0


def test_exposure_reports_coverage_of_gaps() -> None:
    result = exposure(hourly(100), T0, T0 + 4 * HOUR)
    assert (result.mean, result.coverage) == (100, 0.25)


def test_report_integrates_emissions_over_the_actual_run() -> None:
    # 1 kW for 2 h starting at 01:30 over 300, 100, 100 -> 0.5*300 + 1*100 + 0.5*100 g/kWh*kWh
    report = build_report(
        zone="ES",
        source="replay",
        release=T0,
        start=T0 + timedelta(hours=1, minutes=30),
        end=T0 + timedelta(hours=3, minutes=30),
        power=KW,
        history=hourly(400, 300, 100, 100),
    )
    assert report.energy_kwh == pytest.approx(2.0)
    assert report.emitted_g == pytest.approx(150 + 100 + 50)


def test_avoided_is_the_same_energy_at_release_minus_emitted() -> None:
    # Had it started at release (00:00-02:00): 400 + 300 = 700 g; it ran 02:00-04:00: 100 + 100 = 200 g.
    report = build_report(
        zone="ES",
        source="replay",
        release=T0,
        start=T0 + 2 * HOUR,
        end=T0 + 4 * HOUR,
        power=KW,
        history=hourly(400, 300, 100, 100),
    )
    assert (report.baseline_g, report.emitted_g, report.avoided_g) == pytest.approx((700, 200, 500))
    assert (report.intensity_at_release, report.intensity_at_start) == (400, 100)


def test_forecast_points_are_not_counted_as_measurements() -> None:
    forecast = [
        Reading("ES", r.start, r.end, r.intensity, forecast=True) for r in hourly(999, 999, start=T0 + 2 * HOUR)
    ]
    report = build_report(
        zone="ES", source="x", release=T0, start=T0, end=T0 + 4 * HOUR, power=KW, history=hourly(100, 100) + forecast
    )
    assert report.intensity_mean == 100
    assert report.degraded
    assert "covers 50% of the run window" in report.notes[0]


def test_report_dict_is_the_documented_payload() -> None:
    report = build_report(
        zone="ES", source="replay", release=T0, start=T0 + HOUR, end=T0 + 2 * HOUR, power=KW, history=hourly(3, 2)
    )
    payload = report.to_dict()
    assert payload["kind"] == REPORT_KIND
    assert payload["waited_seconds"] == 3600
    assert payload["avoided_g"] == pytest.approx(1.0)
    assert payload["series"][0] == {
        "start": T0.isoformat(),
        "end": (T0 + HOUR).isoformat(),
        "intensity": 3.0,
        "forecast": False,
    }


def test_start_before_release_is_rejected() -> None:
    with pytest.raises(ValueError, match="must not be before release"):
        build_report(zone="ES", source="x", release=T0, start=T0 - HOUR, end=T0, power=KW, history=[])
