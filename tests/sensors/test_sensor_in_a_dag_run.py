"""`dag.test()` of a DAG with the sensor against the fake Electricity Maps API: defer, trigger, succeed, XCom."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from airflow_carbon_provider.carbon.clock import SystemClock
from tests.fakes.carbon_apis import EM_TOKEN
from tests.plugins.airflow_db import run_dag_file

DAG_FILE = Path(__file__).parent / "dag_files" / "carbon_wait_on_fake_api.py"


@pytest.mark.db
def test_the_sensor_defers_its_trigger_polls_and_the_deadline_starts_the_job(
    airflow_home, electricitymaps_api, monkeypatch, capfd, caplog
):
    electricitymaps_api.clock = SystemClock()  # the fake serves the current hour
    conn = {
        "conn_type": "carbon_intensity",
        "host": electricitymaps_api.base_url,
        "password": EM_TOKEN,
        "extra": {"source": "electricitymaps"},
    }
    monkeypatch.setenv("AIRFLOW_CONN_CARBON_EM", json.dumps(conn))
    run = run_dag_file(airflow_home, DAG_FILE, "carbon_wait_on_fake_api")
    assert run.state == "success"
    xcoms = run.return_values
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
