"""How the run tab presents numbers that are not a plain saving."""

from __future__ import annotations

from airflow_carbon_provider.plugins.pages import run_page
from airflow_carbon_provider.plugins.summary import RunCarbon, TaskXCom, collect_run
from tests.plugins.dag_files.carbon_sample_dags import sample_report


def run_with(report: dict[str, object]) -> RunCarbon:
    return collect_run(dag_id="d", run_id="r", run_after=None, state=None, xcoms=[TaskXCom("report", -1, report)])


def test_negative_avoided_grams_are_not_shown_as_a_saving() -> None:
    page = run_page(run_with({**sample_report(), "avoided_g": -25.0}))

    assert '<span class="avoided warn">-25.0 gCO2e</span>' in page


def test_report_without_grams_shows_a_dash_and_says_it_is_degraded() -> None:
    page = run_page(run_with({**sample_report(), "emitted_g": None, "avoided_g": None, "degraded": True}))

    assert '<span class="avoided muted">&ndash;</span>' in page
    assert "based on degraded data" in page
