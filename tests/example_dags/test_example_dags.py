"""The example DAGs parse cleanly, have the documented shape, and the demo DAG runs end to end offline."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from tests.conftest import REPO
from tests.plugins.airflow_db import run_dag_file

EXAMPLES = REPO / "example_dags"
EXPECTED = {"carbon_aware_gpu_training", "ci_batch_temporal_shift", "greenest_region", "nodepool_carbon_reconcile"}


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(EXAMPLES))


def test_every_example_dag_imports_without_errors(dagbag):
    assert dagbag.import_errors == {}
    assert set(dagbag.dag_ids) == EXPECTED


def test_gpu_training_restores_the_pool_as_a_teardown_of_opening_it(dagbag):
    dag = dagbag.dags["carbon_aware_gpu_training"]
    restore = dag.get_task("restore_gpu_pool")
    assert restore.is_teardown
    assert "open_gpu_pool" in restore.upstream_task_ids | {t.task_id for t in restore.upstream_list}


def test_gpu_training_pod_requests_a_gpu_and_tolerates_the_pool_taint(dagbag):
    pod = dagbag.dags["carbon_aware_gpu_training"].get_task("train_on_gpu_pool")
    assert pod.container_resources.limits == {"nvidia.com/gpu": "1"}
    assert [t.key for t in pod.tolerations] == ["nvidia.com/gpu"]


def test_greenest_region_picks_the_cluster_from_the_winning_zone(dagbag):
    job = dagbag.dags["greenest_region"].get_task("run_in_greenest_region")
    assert "wait_for_greenest_region" in job.kubernetes_conn_id


def test_reconcile_runs_every_half_hour_with_hysteresis(dagbag):
    dag = dagbag.dags["nodepool_carbon_reconcile"]
    reconcile = dag.get_task("reconcile_nodepool")
    assert dag.schedule == timedelta(minutes=30)
    assert (reconcile.hysteresis.low, reconcile.hysteresis.high) == (150, 250)


@pytest.mark.db
def test_the_demo_dag_defers_runs_offline_and_reports_what_it_saved(airflow_home, monkeypatch, capfd, caplog):
    replay = {"source": "replay", "zone": "ES", "replay_start": "2023-10-12T01:00:00+00:00", "replay_speed": 3600}
    monkeypatch.setenv(
        "AIRFLOW_CONN_CARBON_INTENSITY_DEFAULT", json.dumps({"conn_type": "carbon_intensity", "extra": replay})
    )
    run = run_dag_file(airflow_home, EXAMPLES / "carbon_aware_gpu_training.py", "carbon_aware_gpu_training")
    assert run.state == "success"
    rows = run.return_values
    wait, report = rows["wait_for_green_window"], rows["carbon_report"]
    assert wait["release"].startswith("2023-10-12T01:")
    assert wait["start"].startswith("2023-10-12T1")  # the solar window, not the dirty night
    assert wait["deadline_forced"] is False
    assert report["kind"] == "airflow_carbon_provider.report/v1"
    assert wait["intensity_at_start"] < 0.5 * wait["intensity_at_release"]
    # The stand-in job lasts 4 h of grid time plus task overheads (seconds x speed), so the exact share
    # avoided depends on the machine's load; the wait itself is what the sensor decides.
    assert 0 < report["avoided_g"] < report["baseline_g"]
    assert rows["open_gpu_pool"]["mode"] == "offline-dry-run"
    captured = capfd.readouterr()
    output = captured.out + captured.err + caplog.text
    assert "Pausing task as DEFERRED" in output
    assert "running trigger in line" in output
    assert "No Kubernetes cluster configured: running a local stand-in" in output


@pytest.mark.db
@pytest.mark.parametrize(
    ("dag_file", "dag_id"),
    [
        ("greenest_region.py", "greenest_region"),
        ("ci_batch_temporal_shift.py", "ci_batch_temporal_shift"),
        ("nodepool_carbon_reconcile.py", "nodepool_carbon_reconcile"),
    ],
)
def test_every_example_dag_succeeds_offline_as_under_make_ui(airflow_home, monkeypatch, dag_file, dag_id):
    """What `make ui` provides: the replay connection on bundled data, no cluster, no other connection."""
    replay = {"source": "replay", "zone": "ES", "replay_start": "2023-10-12T01:00:00+00:00", "replay_speed": 3600}
    monkeypatch.setenv(
        "AIRFLOW_CONN_CARBON_INTENSITY_DEFAULT", json.dumps({"conn_type": "carbon_intensity", "extra": replay})
    )
    run = run_dag_file(airflow_home, EXAMPLES / dag_file, dag_id)

    assert run.state == "success"
