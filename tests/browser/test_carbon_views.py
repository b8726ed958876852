"""The Carbon views inside the real Airflow UI, in headless Chromium, in the light and the dark theme."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from tests.browser.conftest import Session, Standalone, login, screenshot, wait_for

pytestmark = pytest.mark.browser
THEMES = ["light", "dark"]
TIMEOUT_MS = 60_000


def run_tab(standalone: Standalone, dag_id: str, run_id: str, tab: str = "carbon_run") -> str:
    return f"{standalone.url}/dags/{dag_id}/runs/{quote(run_id, safe='')}/plugin/{tab}"


def opened(session: Session, url: str, selector: str) -> Any:
    page = session.open(url)
    page.wait_for_selector(selector, timeout=TIMEOUT_MS)
    page.wait_for_load_state("networkidle")
    return page


def assert_theme(page: Any, theme: str) -> None:
    classes = page.evaluate("document.documentElement.className")
    assert ("dark" in classes.split()) is (theme == "dark")


@pytest.fixture(params=THEMES)
def session(request: pytest.FixtureRequest, browser: Any, standalone: Standalone):
    session = login(browser, standalone, theme=request.param)
    yield session
    session.context.close()


def test_live_wait_view_shows_what_the_trigger_decided(session: Session, standalone: Standalone, live_wait) -> None:
    dag_id, run_id = live_wait
    page = opened(session, run_tab(standalone, dag_id, run_id), "[data-testid=live-wait]")
    published = standalone.xcom(dag_id, run_id, "wait_for_green_window", "carbon_wait_state")

    shown = page.get_attribute("[data-testid=planned-start]", "data-value")
    latest = page.get_attribute("[data-testid=latest-start]", "data-value")
    why = page.inner_text("[data-testid=wait-why]")
    # The view may have refreshed onto a newer poll than the one read above; then the two agree once more.
    if shown != published["planned_start"]:
        published = standalone.xcom(dag_id, run_id, "wait_for_green_window", "carbon_wait_state")
    assert shown == published["planned_start"]
    assert latest == published["latest_start"]
    assert why == published["why"]
    assert why.startswith("Waiting for ")
    assert page.get_attribute("[data-testid=carbon-run-view]", "data-live") == "true"
    assert page.locator("[data-testid=wait-chart] [data-band='Planned run']").count() == 1
    assert page.locator("[data-testid=wait-chart] [data-marker=now]").count() == 1
    assert "Measured (ES)" in page.inner_text("[data-testid=wait-chart] [data-testid=chart-legend]")
    assert "gCO₂e/kWh" in page.inner_text("[data-testid=wait-zones]")
    assert_theme(page, session.theme)
    screenshot(page, f"live-wait-{session.theme}")
    assert session.errors == []


def test_task_instance_tab_shows_the_same_wait_and_links_to_its_logs(
    session: Session, standalone: Standalone, live_wait
) -> None:
    dag_id, run_id = live_wait
    url = f"{run_tab(standalone, dag_id, run_id, 'x').rsplit('/plugin/', 1)[0]}/tasks/wait_for_green_window"
    page = opened(session, f"{url}/plugin/carbon_task", "[data-testid=carbon-task-view] [data-testid=live-wait]")

    link = page.get_attribute("[data-testid=task-link]", "href")
    assert link is not None
    assert link.endswith(f"/dags/{dag_id}/runs/{quote(run_id, safe='')}/tasks/wait_for_green_window")
    page.click("[data-testid=task-link]")
    page.wait_for_url("**/tasks/wait_for_green_window", timeout=TIMEOUT_MS)
    screenshot(page, f"task-logs-after-link-{session.theme}")
    assert session.errors == []


def test_a_wait_state_survives_the_task_resuming_on_a_worker(standalone: Standalone) -> None:
    dag_id, task_id = "carbon_quick_wait", "wait_for_green_window"
    run_id = standalone.trigger(dag_id)
    wait_for("the quick wait to finish", lambda: standalone.run_state(dag_id, run_id) == "success", 180, standalone.log)

    published = standalone.xcom(dag_id, run_id, task_id, "carbon_wait_state")
    result = standalone.xcom(dag_id, run_id, task_id, "return_value")
    assert result["deadline_forced"] is True
    assert published["status"] == "deadline"
    assert published["zone"] == result["zone"] == "ES"
    assert published["decided_at"] == result["start"]


def test_run_tab_of_an_accounted_run_shows_the_report(session: Session, seeded: Standalone) -> None:
    run_id = seeded.runs["carbon_green_run"][0]
    page = opened(session, run_tab(seeded, "carbon_green_run", run_id), "[data-testid=report]")

    assert page.inner_text("[data-testid=report] [data-testid=avoided]").endswith("651.8 gCO₂e")
    assert page.inner_text("[data-testid=run-emitted]").endswith("582.8 gCO₂e")
    assert page.locator("[data-testid=report-chart] [data-band='Job ran']").count() == 1
    assert page.locator("[data-testid=wait-result]").count() == 1
    assert_theme(page, session.theme)
    screenshot(page, f"run-report-{session.theme}")
    assert session.errors == []


def test_run_tab_of_a_nodepool_run_shows_the_change(session: Session, seeded: Standalone) -> None:
    run_id = seeded.runs["carbon_nodepool"][0]
    page = opened(session, run_tab(seeded, "carbon_nodepool", run_id), "[data-testid=nodepool-change]")

    text = page.inner_text("[data-testid=nodepool-change]")
    assert "batch" in text
    assert "offline-dry-run" in text
    assert "karpenter.sh/capacity-type" in text
    assert session.errors == []


def rows(page: Any) -> list[dict[str, str]]:
    return page.eval_on_selector_all(
        "[data-testid=runs-table] tbody tr",
        "rows => rows.map(r => ({dag: r.dataset.dag, status: r.dataset.status,"
        " emitted: r.querySelector('[data-testid=cell-emitted]').innerText}))",
    )


def only_status(page: Any, status: str) -> None:
    """Wait until the table shows rows of ``status`` only (React renders after the event)."""
    page.wait_for_function(
        "s => { const r = [...document.querySelectorAll('[data-testid=runs-table] tbody tr')];"
        " return r.length > 0 && r.every(x => x.dataset.status === s); }",
        arg=status,
    )


def grams(text: str) -> float:
    return float(text.replace(",", "").split()[0]) if text != "—" else -1.0


def test_fleet_page_filters_sorts_and_exports_what_it_shows(session: Session, seeded: Standalone, live_wait) -> None:
    page = opened(session, f"{seeded.url}/plugin/carbon", "[data-testid=runs-table]")

    everything = rows(page)
    assert {row["status"] for row in everything} >= {"accounted", "failed", "skipped", "waiting", "nodepool"}
    # Two green runs and the markup run; the failed run's 651.75 g are shown on its row but not counted.
    assert "\n1,955.3 gCO₂e of 3,703.5 gCO₂e at release" in page.inner_text("[data-testid=total-avoided]")
    assert page.locator("[data-testid=trend-chart] [data-line=Emitted]").count() == 1
    assert "<script>alert('zone')</script>" in page.inner_text("[data-testid=by-zone]")  # text, never markup
    assert_theme(page, session.theme)
    screenshot(page, f"fleet-{session.theme}")

    page.fill("[data-testid=filter]", "failed")
    only_status(page, "failed")
    assert {row["status"] for row in rows(page)} == {"failed"}
    page.fill("[data-testid=filter]", "")

    page.click("[data-testid=runs-table] [data-testid=sort-emitted_g]")
    page.wait_for_selector("[data-testid=runs-table] th[aria-sort=descending]:has([data-testid=sort-emitted_g])")
    emitted = [grams(row["emitted"]) for row in rows(page)]
    assert emitted == sorted(emitted, reverse=True)

    page.select_option("[data-testid=status-filter]", "accounted")
    only_status(page, "accounted")
    shown = rows(page)
    with page.expect_download() as download:
        page.click("[data-testid=export-csv]")
    exported = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8"))))
    assert [(row["DAG"], row["Carbon status"]) for row in exported] == [(r["dag"], r["status"]) for r in shown]
    assert [float(row["Emitted (gCO₂e)"]) for row in exported] == sorted(
        (float(row["Emitted (gCO₂e)"]) for row in exported), reverse=True
    )
    assert session.errors == []


def test_home_dashboard_shows_the_carbon_widget(session: Session, seeded: Standalone) -> None:
    page = opened(session, f"{seeded.url}/", "[data-testid=carbon-widget] [data-testid=widget-emitted]")

    assert "gCO₂e" in page.inner_text("[data-testid=widget-avoided]")
    assert_theme(page, session.theme)
    screenshot(page, f"dashboard-{session.theme}")
    assert session.errors == []


def test_the_api_is_401_without_login(browser: Any, standalone: Standalone) -> None:
    anonymous = login(browser, standalone, user=None)
    try:
        response = anonymous.context.request.get(f"{standalone.url}/carbon/api/fleet")
    finally:
        anonymous.context.close()

    assert response.status == 401


def test_a_user_without_permission_gets_403_and_sees_no_runs(browser: Any, seeded: Standalone) -> None:
    nobody = login(browser, seeded, user="nobody")
    try:
        run_id = seeded.runs["carbon_green_run"][0]
        run = nobody.context.request.get(f"{seeded.url}/carbon/api/runs/carbon_green_run/{quote(run_id, safe='')}")
        status, detail = run.status, run.json()
        fleet = nobody.context.request.get(f"{seeded.url}/carbon/api/fleet").json()
    finally:
        nobody.context.close()

    assert status == 403
    assert detail == {"detail": "You may not read this DAG's carbon data."}
    assert fleet["runs"] == []


def test_the_bundle_is_served_to_the_ui_without_the_network(standalone: Standalone) -> None:
    response = httpx.get(f"{standalone.url}/carbon/static/carbon.js")

    assert response.status_code == 200
    assert "AirflowPlugin" in response.text


def wait_start(browser: Any, seeded: Standalone, *, zone: str = "UTC", chosen: str | None = None) -> tuple[Any, str]:
    """The accounted run's tab in a browser whose system zone is ``zone``, after the user chose ``chosen`` in
    Airflow's time zone selector (which stores it as JSON under localStorage "timezone"); its "Started" fact."""
    session = login(browser, seeded, zone=zone)
    if chosen is not None:
        session.context.add_init_script(f"localStorage.setItem('timezone', JSON.stringify({chosen!r}))")
    run_id = seeded.runs["carbon_green_run"][0]
    page = opened(session, run_tab(seeded, "carbon_green_run", run_id), "[data-testid=wait-start]")
    return page, page.inner_text("[data-testid=wait-start]")


def test_times_show_in_the_time_zone_chosen_in_airflow(browser: Any, seeded: Standalone) -> None:
    page, started = wait_start(browser, seeded, chosen="Asia/Kolkata")  # the sample wait started 13:00 UTC

    assert started.endswith("2023-06-01 18:30 GMT+5:30 in ES")
    assert page.text_content("[data-testid=report-chart] [data-testid=chart-zone]") == "GMT+5:30"
    page.context.close()


def test_without_a_choice_times_show_in_the_browsers_zone_as_airflow_does(browser: Any, seeded: Standalone) -> None:
    page, started = wait_start(browser, seeded, zone="America/New_York")

    assert started.endswith("2023-06-01 09:00 EDT in ES")
    page.context.close()


def test_choosing_another_zone_redraws_the_open_view(browser: Any, seeded: Standalone) -> None:
    page, _ = wait_start(browser, seeded)

    # What Airflow's selector does (usehooks-ts' useLocalStorage): store the JSON value, announce it in this tab.
    page.evaluate(
        "localStorage.setItem('timezone', JSON.stringify('Asia/Tokyo'));"
        "window.dispatchEvent(new StorageEvent('local-storage', {key: 'timezone'}))"
    )

    page.wait_for_function("document.querySelector('[data-testid=wait-start]').innerText.includes('22:00 GMT+9')")
    page.context.close()
