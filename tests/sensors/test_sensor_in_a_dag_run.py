"""`dag.test()` of a DAG with the sensor against the fake Electricity Maps API: defer, trigger, succeed, XCom."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from airflow_carbon_provider.carbon.clock import SystemClock
from tests.fakes.carbon_apis import EM_TOKEN

DAG_FILE = Path(__file__).parent / "dag_files" / "carbon_wait_on_fake_api.py"


@pytest.mark.db
def test_the_sensor_defers_its_trigger_polls_and_the_deadline_starts_the_job(
    airflow_home, electricitymaps_api, monkeypatch, capfd, caplog
):
    from airflow.dag_processing.dagbag import DagBag
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    electricitymaps_api.clock = SystemClock()  # the fake serves the current hour
    conn = {
        "conn_type": "carbon_intensity",
        "host": electricitymaps_api.base_url,
        "password": EM_TOKEN,
        "extra": {"source": "electricitymaps"},
    }
    monkeypatch.setenv("AIRFLOW_CONN_CARBON_EM", json.dumps(conn))
    path = airflow_home.dags / DAG_FILE.name
    shutil.copy(DAG_FILE, path)
    try:
        run = DagBag(dag_folder=str(path)).get_dag("carbon_wait_on_fake_api").test()
    finally:
        path.unlink()
    assert run.state == "success"
    with create_session() as session:
        xcoms = {
            row.task_id: XComModel.deserialize_value(row)
            for row in session.execute(
                select(XComModel.task_id, XComModel.value).where(
                    XComModel.dag_run_id == run.id, XComModel.key == "return_value"
                )
            )
        }
    waited = xcoms["wait_for_green_window"]
    assert waited["kind"] == "airflow_carbon_provider.wait/v1"
    assert (waited["zone"], waited["source"], waited["deadline_forced"]) == ("DE", "electricitymaps", True)
    assert waited["waited_seconds"] >= 12
    assert xcoms["job"] == "started in DE"
    captured = capfd.readouterr()
    output = captured.out + captured.err + caplog.text
    assert "Pausing task as DEFERRED" in output
    assert "running trigger in line" in output
    assert output.count("Carbon wait wait:") >= 3  # the fast path, then the trigger's polls
    assert EM_TOKEN not in output
    assert electricitymaps_api.server.count(".*/latest") >= 1
