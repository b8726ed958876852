"""The Carbon API and bundle through Airflow's own API app, its auth manager and a real metadata DB."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

from airflow_carbon_provider.plugins.carbon import VIEWS_NAME, WIDGET_NAME

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

pytestmark = pytest.mark.db
SINCE = "2000-01-01T00:00:00Z"
SAMPLE_DAGS = ("carbon_green_run", "carbon_markup", "carbon_deferred", "carbon_failed_run", "carbon_skipped_wait",
               "carbon_nodepool")  # fmt: skip


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def run_url(sample_runs: dict[str, str], dag_id: str) -> str:
    return f"/carbon/api/runs/{dag_id}/{sample_runs[dag_id]}"


def get_run(api: TestClient, token: str, sample_runs: dict[str, str], dag_id: str) -> dict:
    response = api.get(run_url(sample_runs, dag_id), headers=bearer(token))
    assert response.status_code == 200, response.text
    return response.json()


def fleet_runs(api: TestClient, token: str) -> dict[str, dict]:
    response = api.get(f"/carbon/api/fleet?since={SINCE}", headers=bearer(token))
    assert response.status_code == 200, response.text
    return {run["dag_id"]: run for run in response.json()["runs"]}


def test_plugin_registers_the_react_views_for_runs_tasks_nav_and_dashboard(
    api: TestClient, tokens: dict[str, str]
) -> None:
    plugins = api.get("/api/v2/plugins", headers=bearer(tokens["admin"])).json()["plugins"]
    carbon = next(plugin for plugin in plugins if plugin["name"] == "carbon")

    assert {(app["destination"], app["name"]) for app in carbon["react_apps"]} == {
        ("dag_run", VIEWS_NAME),
        ("task_instance", VIEWS_NAME),
        ("nav", VIEWS_NAME),
        ("dashboard", WIDGET_NAME),
    }
    assert {app["bundle_url"] for app in carbon["react_apps"]} == {"/carbon/static/carbon.js"}
    assert carbon["external_views"] == []


def test_the_bundle_registers_every_react_app_name_it_is_loaded_under() -> None:
    from airflow_carbon_provider.plugins.app import DIST

    bundle = (DIST / "carbon.js").read_text()

    for name in (VIEWS_NAME, WIDGET_NAME):
        assert f'"{name}"' in bundle or f"`{name}`" in bundle or f"'{name}'" in bundle


def test_the_bundle_and_both_icons_are_served_without_login(api: TestClient) -> None:
    for path, kind in (("carbon.js", "javascript"), ("carbon-icon.svg", "svg"), ("carbon-icon-dark.svg", "svg")):
        response = api.get(f"/carbon/static/{path}")
        assert response.status_code == 200
        assert kind in response.headers["content-type"]


@pytest.mark.parametrize("path", [f"/carbon/api/fleet?since={SINCE}", "/carbon/api/runs/carbon_green_run/any"])
def test_api_without_credentials_is_401(api: TestClient, path: str) -> None:
    response = api.get(path)

    assert response.status_code == 401
    assert response.json() == {"detail": "Sign in to Airflow to see carbon data."}


def test_api_with_a_forged_token_is_refused(api: TestClient) -> None:
    assert api.get(f"/carbon/api/fleet?since={SINCE}", headers=bearer("not.a.jwt")).status_code == 403


def test_user_without_any_role_is_403_on_a_run(api: TestClient, tokens: dict[str, str], sample_runs) -> None:
    assert api.get(run_url(sample_runs, "carbon_green_run"), headers=bearer(tokens["nobody"])).status_code == 403


def test_user_without_access_to_the_dag_is_403(api: TestClient, tokens: dict[str, str], sample_runs) -> None:
    response = api.get(run_url(sample_runs, "carbon_markup"), headers=bearer(tokens["outsider"]))

    assert response.status_code == 403
    assert "651" not in response.text


def test_the_ui_session_cookie_is_accepted(api: TestClient, tokens: dict[str, str], sample_runs) -> None:
    """The views fetch with the ``_token`` cookie the UI login set, not a header."""
    api.cookies.set("_token", tokens["reader"])
    try:
        response = api.get(run_url(sample_runs, "carbon_green_run"))
    finally:
        api.cookies.clear()

    assert response.status_code == 200


def test_a_run_lists_its_report_and_wait_by_task_with_states(
    api: TestClient, tokens: dict[str, str], sample_runs
) -> None:
    run = get_run(api, tokens["reader"], sample_runs, "carbon_green_run")
    tasks = {task["task_id"]: task for task in run["tasks"]}

    assert run["state"] == "success"
    assert set(tasks) == {"wait_for_green", "carbon_report"}
    assert tasks["carbon_report"]["report"]["avoided_g"] == 651.75
    assert tasks["carbon_report"]["state"] == "success"
    assert tasks["wait_for_green"]["wait"]["zones"] == {"ES": 95.0, "PL": 610.0}
    assert run["totals"] == {"emitted_g": 582.75, "baseline_g": 1234.5, "avoided_g": 651.75, "energy_kwh": 6.3}


def test_a_deferred_run_shows_the_triggers_live_wait_state(
    api: TestClient, tokens: dict[str, str], sample_runs
) -> None:
    run = get_run(api, tokens["reader"], sample_runs, "carbon_deferred")
    (task,) = run["tasks"]

    assert task["state"] == "deferred"
    assert task["wait_state"]["kind"] == "airflow_carbon_provider.wait_state/v1"
    assert task["wait_state"]["planned_start"] == "2023-06-01T14:00:00+00:00"
    assert task["wait_state"]["why"].startswith("Waiting for the forecast low at 14:00 UTC (100 gCO₂e/kWh")


def test_a_nodepool_change_is_shown_without_the_whole_pool(api: TestClient, tokens: dict[str, str], sample_runs):
    (task,) = get_run(api, tokens["reader"], sample_runs, "carbon_nodepool")["tasks"]

    assert task["nodepool"]["nodepool"] == "batch"
    assert task["nodepool"]["mode"] == "offline-dry-run"
    requirements = next(d for d in task["nodepool"]["diff"] if d["path"].endswith("requirements"))["after"]
    assert {"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["spot", "on-demand"]} in requirements
    assert "nodepool_after" not in task["nodepool"]


def test_a_run_without_carbon_data_has_no_tasks(api: TestClient, tokens: dict[str, str], sample_runs) -> None:
    assert get_run(api, tokens["reader"], sample_runs, "no_carbon")["tasks"] == []


def test_a_malformed_payload_is_left_out_with_a_note(api: TestClient, tokens: dict[str, str], sample_runs) -> None:
    run = get_run(api, tokens["admin"], sample_runs, "carbon_markup")

    assert [task["task_id"] for task in run["tasks"]] == ["carbon_report"]
    assert run["skipped"] == [
        "Skipped the malformed carbon payload of task broken_report: 'emitted_g' must be a finite number, "
        "got '<b>lots</b>'"
    ]


def test_an_unknown_run_is_404(api: TestClient, tokens: dict[str, str]) -> None:
    response = api.get("/carbon/api/runs/carbon_green_run/nope", headers=bearer(tokens["admin"]))

    assert response.status_code == 404
    assert response.json() == {"detail": "No run 'nope' of DAG 'carbon_green_run'."}


def test_the_fleet_lists_only_runs_of_dags_the_user_may_read(api: TestClient, tokens: dict[str, str]) -> None:
    assert {"carbon_green_run", "carbon_markup", "carbon_deferred"} <= set(fleet_runs(api, tokens["reader"]))
    assert set(fleet_runs(api, tokens["outsider"])) == {"carbon_green_run"}


def test_the_fleet_gives_each_run_its_state_and_carbon_status(api: TestClient, tokens: dict[str, str]) -> None:
    runs = fleet_runs(api, tokens["admin"])  # the session's DB also holds other tests' runs

    assert {dag: (runs[dag]["state"], runs[dag]["status"]) for dag in SAMPLE_DAGS} == {
        "carbon_green_run": ("success", "accounted"),
        "carbon_markup": ("success", "accounted"),
        "carbon_deferred": ("success", "waiting"),
        "carbon_failed_run": ("failed", "failed"),
        "carbon_skipped_wait": ("success", "skipped"),
        "carbon_nodepool": ("success", "nodepool"),
    }


def test_a_mistyped_payload_counts_nowhere_in_the_fleet(api: TestClient, tokens: dict[str, str]) -> None:
    assert fleet_runs(api, tokens["admin"])["carbon_markup"]["counted_avoided_g"] == 651.75


def test_failed_and_skipped_runs_are_never_counted_as_avoided(api: TestClient, tokens: dict[str, str]) -> None:
    runs = fleet_runs(api, tokens["admin"])

    assert runs["carbon_failed_run"]["avoided_g"] == 651.75
    assert runs["carbon_failed_run"]["counted_avoided_g"] is None
    assert runs["carbon_failed_run"]["emitted_g"] == 582.75
    assert runs["carbon_skipped_wait"]["counted_avoided_g"] is None
    assert runs["carbon_green_run"]["counted_avoided_g"] == 651.75


def test_a_skipped_wait_says_why(api: TestClient, tokens: dict[str, str]) -> None:
    skipped = fleet_runs(api, tokens["admin"])["carbon_skipped_wait"]

    assert skipped["zones"] == ["ES"]
    assert skipped["reasons"][0].startswith("Waiting for the forecast low at 14:00 UTC")


def test_the_fleet_time_range_leaves_out_older_runs(api: TestClient, tokens: dict[str, str]) -> None:
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    response = api.get("/carbon/api/fleet", params={"since": tomorrow}, headers=bearer(tokens["admin"]))

    assert response.json()["runs"] == []


def test_a_fleet_range_without_an_offset_is_refused(api: TestClient, tokens: dict[str, str]) -> None:
    response = api.get("/carbon/api/fleet?since=2026-01-01T00:00:00", headers=bearer(tokens["admin"]))

    assert response.status_code == 422
    assert "since must carry a UTC offset" in response.json()["detail"]


def fleet(api: TestClient, token: str, **params: str | int) -> dict:
    response = api.get("/carbon/api/fleet", params={"since": SINCE, **params}, headers=bearer(token))
    assert response.status_code == 200, response.text
    return response.json()


def test_the_fleet_sends_one_page_of_runs_with_totals_over_every_match(api: TestClient, tokens: dict[str, str]) -> None:
    everything = fleet(api, tokens["admin"])
    page = fleet(api, tokens["admin"], limit=2, offset=1)

    assert [run["run_id"] for run in page["runs"]] == [run["run_id"] for run in everything["runs"][1:3]]
    assert page["matched"] == everything["matched"] == len(everything["runs"])
    assert page["totals"] == everything["totals"]


def test_the_fleet_filters_and_sorts_before_it_totals(api: TestClient, tokens: dict[str, str]) -> None:
    view = fleet(api, tokens["admin"], q="CARBON_", status="accounted", sort="dag_id", order="asc")
    runs = view["runs"]  # the session's DB also holds other tests' runs

    assert {"carbon_green_run", "carbon_markup"} <= {run["dag_id"] for run in runs}
    assert [run["dag_id"] for run in runs] == sorted(run["dag_id"] for run in runs)
    assert {run["status"] for run in runs} == {"accounted"}
    assert view["totals"]["runs"] == len(runs)
    assert view["totals"]["avoided_g"] == pytest.approx(sum(run["counted_avoided_g"] or 0 for run in runs))


def test_an_unknown_sort_column_is_refused(api: TestClient, tokens: dict[str, str]) -> None:
    response = api.get(f"/carbon/api/fleet?sort=secret&since={SINCE}", headers=bearer(tokens["admin"]))

    assert response.status_code == 422
    assert "sort" in response.text


def test_an_unknown_time_zone_is_refused(api: TestClient, tokens: dict[str, str]) -> None:
    response = api.get(f"/carbon/api/fleet?tz=Mars/Olympus&since={SINCE}", headers=bearer(tokens["admin"]))

    assert response.status_code == 422
    assert response.json()["detail"] == "tz must be an IANA time zone such as Europe/Paris or UTC, got 'Mars/Olympus'"


def test_the_trend_follows_the_users_time_zone(api: TestClient, tokens: dict[str, str]) -> None:
    trend = fleet(api, tokens["admin"], tz="Asia/Kolkata")["trend"]

    assert trend["points"]
    assert all(point["start"].endswith(":30:00+00:00") for point in trend["points"])  # local hours of UTC+05:30
