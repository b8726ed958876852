"""The intensity chart is plain inline SVG with the run window and every marker drawn."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from airflow_carbon_provider.plugins.chart import Marker, intensity_chart
from airflow_carbon_provider.carbon.payloads import CarbonReport, parse_payload
from tests.plugins.dag_files.carbon_sample_dags import sample_report

SVG = "{http://www.w3.org/2000/svg}"


def chart_of(report: CarbonReport) -> ET.Element:
    markers = [Marker("release", report.release, "#00f"), Marker("deadline <now>", report.deadline, "#f00")]  # type: ignore[arg-type]
    return ET.fromstring(intensity_chart(report.series, markers, (report.start, report.end)))


def report() -> CarbonReport:
    parsed = parse_payload(sample_report())
    assert isinstance(parsed, CarbonReport)
    return parsed


def test_chart_is_well_formed_svg_with_one_step_per_interval() -> None:
    svg = chart_of(report())

    assert svg.tag == f"{SVG}svg"
    assert len(svg.findall(f"{SVG}line[@class='intensity']")) == 7


def test_forecast_intervals_are_dashed_and_measured_ones_solid() -> None:
    steps = chart_of(report()).findall(f"{SVG}line[@class='intensity']")

    assert [step.get("stroke-dasharray") is not None for step in steps] == [False] * 4 + [True] * 3


def test_markers_are_labelled_and_escaped() -> None:
    labels = [text.text for text in chart_of(report()).findall(f"{SVG}text")]

    assert "release 10:00" in labels
    assert "deadline <now> 18:00" in labels


def test_run_window_spans_start_to_end() -> None:
    svg = chart_of(report())
    window = svg.find(f"{SVG}rect[@class='run-window']")
    steps = svg.findall(f"{SVG}line[@class='intensity']")

    assert window is not None
    assert float(window.get("x", "")) == float(steps[4].get("x1", ""))
    assert float(window.get("x", "")) + float(window.get("width", "")) == float(steps[5].get("x2", ""))


def test_report_without_series_says_so_instead_of_drawing() -> None:
    assert "No intensity series" in intensity_chart([], [], None)
