"""The Carbon views over HTTP through Airflow's own API app, its auth manager and a real metadata DB."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

pytestmark = pytest.mark.db


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def run_url(sample_runs: dict[str, str], dag_id: str) -> str:
    return f"/carbon/dags/{dag_id}/runs/{sample_runs[dag_id]}"


def test_plugin_is_registered_through_its_entry_point_with_a_run_tab_and_a_nav_page(
    api: TestClient, tokens: dict[str, str]
) -> None:
    plugins = api.get("/api/v2/plugins", headers=bearer(tokens["admin"])).json()["plugins"]
    carbon = next(plugin for plugin in plugins if plugin["name"] == "carbon")

    assert {(view["destination"], view["href"]) for view in carbon["external_views"]} == {
        ("dag_run", "/carbon/dags/{DAG_ID}/runs/{RUN_ID}"),
        ("nav", "/carbon/"),
    }


@pytest.mark.parametrize("path", ["/carbon/", "/carbon/dags/carbon_green_run/runs/any"])
def test_request_without_credentials_is_401(api: TestClient, path: str) -> None:
    response = api.get(path)

    assert response.status_code == 401
    assert "Sign in to Airflow" in response.text


def test_request_with_a_forged_token_is_refused(api: TestClient) -> None:
    assert api.get("/carbon/", headers=bearer("not.a.jwt")).status_code == 403


def test_user_without_any_role_is_403_on_the_run_tab(api: TestClient, tokens: dict[str, str], sample_runs) -> None:
    response = api.get(run_url(sample_runs, "carbon_green_run"), headers=bearer(tokens["nobody"]))

    assert response.status_code == 403


def test_user_without_access_to_the_dag_is_403(api: TestClient, tokens: dict[str, str], sample_runs) -> None:
    response = api.get(run_url(sample_runs, "carbon_markup"), headers=bearer(tokens["outsider"]))

    assert response.status_code == 403
    assert "651.8" not in response.text


def test_user_with_access_to_the_dag_sees_its_run(api: TestClient, tokens: dict[str, str], sample_runs) -> None:
    response = api.get(run_url(sample_runs, "carbon_green_run"), headers=bearer(tokens["outsider"]))

    assert response.status_code == 200


def test_overview_lists_only_runs_of_dags_the_user_may_read(api: TestClient, tokens: dict[str, str]) -> None:
    everything = api.get("/carbon/", headers=bearer(tokens["reader"])).text
    scoped = api.get("/carbon/", headers=bearer(tokens["outsider"])).text

    assert "carbon_markup" in everything
    assert "carbon_green_run" in scoped
    assert "carbon_markup" not in scoped


def test_the_ui_session_cookie_is_accepted(api: TestClient, tokens: dict[str, str], sample_runs) -> None:
    """The Carbon tab is an iframe: the browser sends the ``_token`` cookie the UI login set, not a header."""
    api.cookies.set("_token", tokens["reader"])
    try:
        response = api.get(run_url(sample_runs, "carbon_green_run"))
    finally:
        api.cookies.clear()

    assert response.status_code == 200


def test_run_tab_shows_the_report_numbers_and_the_chart(api: TestClient, tokens: dict[str, str], sample_runs) -> None:
    page = api.get(run_url(sample_runs, "carbon_green_run"), headers=bearer(tokens["reader"])).text

    assert '<span class="avoided good">651.8 gCO2e</span>' in page
    assert "582.8 gCO2e" in page
    assert "1,234.5 gCO2e" in page
    assert "212 g/kWh / 95 g/kWh" in page
    assert '<svg class="carbon-chart"' in page
    assert "Wait in wait_for_green: zone ES" in page
    assert "ES 95 g/kWh, PL 610 g/kWh" in page


def test_run_tab_of_a_run_without_carbon_data_says_so(api: TestClient, tokens: dict[str, str], sample_runs) -> None:
    page = api.get(run_url(sample_runs, "no_carbon"), headers=bearer(tokens["reader"])).text

    assert "No carbon data for this run yet" in page


def test_run_tab_of_a_run_still_deferred_says_it_is_waiting(
    api: TestClient, tokens: dict[str, str], sample_runs
) -> None:
    page = api.get(run_url(sample_runs, "carbon_deferred"), headers=bearer(tokens["reader"])).text

    assert "Waiting for a green window (deferred): wait_for_green." in page


def test_markup_in_zone_and_notes_is_escaped(api: TestClient, tokens: dict[str, str], sample_runs) -> None:
    page = api.get(run_url(sample_runs, "carbon_markup"), headers=bearer(tokens["admin"])).text

    assert "&lt;script&gt;alert(&#x27;zone&#x27;)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(&#x27;note&#x27;)&gt;" in page
    assert "<script" not in page
    assert "<img" not in page


def test_malformed_payload_is_skipped_with_a_note(api: TestClient, tokens: dict[str, str], sample_runs) -> None:
    page = api.get(run_url(sample_runs, "carbon_markup"), headers=bearer(tokens["admin"])).text

    assert "Skipped the malformed carbon payload of task broken_report: &#x27;emitted_g&#x27;" in page
    assert "<b>lots</b>" not in page


def test_markup_in_the_requested_dag_and_run_id_is_escaped(api: TestClient, tokens: dict[str, str]) -> None:
    markup_url = "/carbon/dags/%3Cimg%20src=x%20onerror=alert(1)%3E/runs/%3Cb%3E"
    response = api.get(markup_url, headers=bearer(tokens["admin"]))

    assert response.status_code == 404
    assert "&#x27;&lt;img src=x onerror=alert(1)&gt;&#x27;" in response.text
    assert "<img" not in response.text
    assert "<b>" not in response.text


def test_pages_forbid_scripts_and_outside_resources(api: TestClient, tokens: dict[str, str]) -> None:
    response = api.get("/carbon/", headers=bearer(tokens["reader"]))

    assert response.headers["content-security-policy"].startswith("default-src 'none'")
    assert "http://" not in response.text.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in response.text


def test_overview_totals_the_grams_avoided(api: TestClient, tokens: dict[str, str]) -> None:
    page = api.get("/carbon/", headers=bearer(tokens["outsider"])).text

    assert '<b class="good total-avoided">651.8 gCO2e</b>' in page
    assert "wait only" not in page


def test_overview_links_each_run_to_its_carbon_view_inside_the_frame(
    api: TestClient, tokens: dict[str, str], sample_runs
) -> None:
    """The UI sandboxes plugin iframes without top navigation, so the link stays in the frame (relative)."""
    page = api.get("/carbon/", headers=bearer(tokens["outsider"])).text
    run_id = sample_runs["carbon_green_run"].replace(":", "%3A").replace("+", "%2B")

    assert f'<a href="dags/carbon_green_run/runs/{run_id}">' in page
