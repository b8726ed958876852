"""CarbonZoneLink points at the zone's page: the zone the task reported, else the configured one."""

from __future__ import annotations

import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest

from airflow_carbon_provider.links.carbon_intensity import CarbonZoneLink, configured_zone, zone_url
from tests.plugins.airflow_db import AirflowHome

DAG_FILE = Path(__file__).parent / "dag_files" / "carbon_link_dags.py"


def test_electricity_maps_zone_page_is_the_default() -> None:
    assert zone_url("US-CAL-CISO", None) == "https://app.electricitymaps.com/zone/US-CAL-CISO"


def test_replayed_data_links_to_the_tasks_carbon_tab_not_a_live_map() -> None:
    key = SimpleNamespace(dag_id="d", task_id="wait", run_id="manual__2026+00:00", map_index=-1, try_number=1)
    operator = SimpleNamespace(zone="ES", source="replay")

    assert CarbonZoneLink().get_link(operator, ti_key=key) == (  # type: ignore[arg-type]
        "/dags/d/runs/manual__2026%2B00%3A00/tasks/wait/plugin/carbon_task"
    )


def test_a_mapped_tasks_carbon_tab_names_its_index() -> None:
    key = SimpleNamespace(dag_id="d", task_id="wait", run_id="r", map_index=3, try_number=1)

    assert (
        CarbonZoneLink()
        .get_link(SimpleNamespace(source="replay"), ti_key=key)
        .endswith(  # type: ignore[arg-type]
            "/tasks/wait/mapped/3/plugin/carbon_task"
        )
    )


def test_the_source_comes_from_the_tasks_connection(monkeypatch) -> None:
    conn = '{"conn_type": "carbon_intensity", "extra": {"source": "replay", "zone": "ES"}}'
    monkeypatch.setenv("AIRFLOW_CONN_CARBON_REPLAYED", conn)
    key = SimpleNamespace(dag_id="d", task_id="wait", run_id="r", map_index=-1, try_number=1)
    operator = SimpleNamespace(zone="ES", carbon_conn_id="carbon_replayed")

    assert CarbonZoneLink().get_link(operator, ti_key=key).endswith("/plugin/carbon_task")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("source", "url"), [("ukgrid", "https://carbonintensity.org.uk/"), ("watttime", "https://watttime.org/")]
)
def test_other_sources_link_to_their_own_site(source: str, url: str) -> None:
    assert zone_url("CAISO_NORTH", source) == url


def test_zone_is_quoted_into_one_path_segment() -> None:
    assert zone_url("../<b>x", None) == "https://app.electricitymaps.com/zone/..%2F%3Cb%3Ex"


def test_configured_zone_is_the_zone_attribute_else_the_first_of_zones() -> None:
    assert configured_zone(SimpleNamespace(zone="ES", zones=["NO"])) == "ES"
    assert configured_zone(SimpleNamespace(zones=("NO", "SE"))) == "NO"
    assert configured_zone(SimpleNamespace()) is None


def test_configured_zone_may_be_a_list_of_candidates() -> None:
    assert configured_zone(SimpleNamespace(zone=["SE", "NO"])) == "SE"


def test_cloud_region_links_to_the_grid_zone_it_maps_to() -> None:
    assert zone_url("aws:eu-north-1", None) == "https://app.electricitymaps.com/zone/SE-SE3"


def test_unmapped_cloud_region_links_to_the_whole_map() -> None:
    assert zone_url("aws:mars-central-1", None) == "https://app.electricitymaps.com/map"


def test_link_outside_a_running_task_falls_back_to_the_configured_zone() -> None:
    """No supervisor to ask for XCom (as when the API cannot reach it): no error, the configured zone."""
    key = SimpleNamespace(dag_id="d", task_id="t", run_id="r", map_index=-1, try_number=1)

    assert CarbonZoneLink().get_link(SimpleNamespace(zones=["NO"]), ti_key=key) == (  # type: ignore[arg-type]
        "https://app.electricitymaps.com/zone/NO"
    )


def run_and_read_links(airflow_home: AirflowHome, dag_id: str) -> dict[str, str]:
    """Run a link DAG with ``dag.test()`` (deferral included); task_id -> the link URL stored as XCom."""
    from airflow.dag_processing.dagbag import DagBag
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    target = airflow_home.dags / DAG_FILE.name
    shutil.copy(DAG_FILE, target)
    bag = DagBag(dag_folder=str(target))
    assert not bag.import_errors, bag.import_errors
    run_id = bag.dags[dag_id].test().run_id
    with create_session() as session:
        rows = session.execute(
            select(XComModel.task_id, XComModel.value).where(
                XComModel.run_id == run_id, XComModel.key == CarbonZoneLink().xcom_key
            )
        )
        return {row.task_id: XComModel.deserialize_value(row) for row in rows}


@pytest.fixture(scope="module")
def stored_links(airflow_home: AirflowHome) -> dict[str, str]:
    return run_and_read_links(airflow_home, "carbon_link")


@pytest.mark.db
def test_link_of_a_finished_task_is_the_zone_it_reported(stored_links: dict[str, str]) -> None:
    assert stored_links["reported"] == "https://app.electricitymaps.com/zone/NO"


@pytest.mark.db
def test_link_of_a_task_that_failed_before_reporting_is_the_configured_zone(stored_links: dict[str, str]) -> None:
    assert stored_links["failed"] == "https://app.electricitymaps.com/zone/FR"


@pytest.mark.db
def test_link_of_a_task_that_deferred_first_ends_on_the_zone_it_reported(stored_links: dict[str, str]) -> None:
    assert stored_links["deferred"] == "https://app.electricitymaps.com/zone/SE"


@pytest.mark.db
def test_link_computed_while_deferred_without_xcom_does_not_error(
    airflow_home: AirflowHome, capfd: pytest.CaptureFixture[str]
) -> None:
    """Airflow computes links when a task defers, before any XCom: the link must fall back, not raise."""
    links = run_and_read_links(airflow_home, "carbon_link_never_reports")
    output = capfd.readouterr()

    assert "Pausing task as DEFERRED" in output.out + output.err
    assert "Failed to push an xcom for task operator extra link" not in output.out + output.err
    assert links["deferred"] == "https://app.electricitymaps.com/zone/PL"
