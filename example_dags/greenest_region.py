"""Spatial shifting: run in whichever region's grid is cleanest right now (or soonest within 6 hours).

The sensor watches several zones and returns the one that won; the pod then runs on that region's cluster,
through a Kubernetes connection named after the zone (``k8s_es``, ``k8s_no``, ``k8s_us_cal_ciso``). With a
commercial source, cloud regions work too: ``zone=["aws:eu-west-3", "aws:eu-north-1", "aws:us-west-1"]``.
Where the winning zone has no cluster connection (``make ui``, the offline demo) a local stand-in runs instead,
and says so in its log; the carbon report accounts for the job either way.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
from airflow.sdk import DAG, task

from airflow_carbon_provider.operators.carbon_report import CarbonReportOperator
from airflow_carbon_provider.sensors.carbon_intensity import CarbonIntensitySensor

ZONES = ["ES", "NO", "US-CAL-CISO"]
CLUSTER_CONN = "k8s_{{ ti.xcom_pull(task_ids='wait_for_greenest_region')['zone'] | lower | replace('-', '_') }}"


def cluster_conn_id(zone: str) -> str:
    return f"k8s_{zone.lower().replace('-', '_')}"


with DAG(
    dag_id="greenest_region",
    schedule="@daily",
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=False,
    tags=["carbon", "spatial"],
    doc_md=__doc__,
):
    wait = CarbonIntensitySensor(
        task_id="wait_for_greenest_region",
        zone=ZONES,
        policy="forecast",
        duration=timedelta(hours=2),
        deadline=timedelta(hours=6),
        poll_interval=timedelta(minutes=15),
    )
    job = KubernetesPodOperator(
        task_id="run_in_greenest_region",
        name="carbon-aware-job",
        image="python:3.11-slim",
        cmds=["python", "-c", "print('hello from the cleanest grid')"],
        kubernetes_conn_id=CLUSTER_CONN,
        on_finish_action="delete_pod",
    )

    @task.branch
    def choose_cluster(ti: Any = None) -> str:
        """The winning zone's cluster if its connection exists, else the local stand-in."""
        from airflow.sdk import BaseHook
        from airflow.sdk.exceptions import AirflowNotFoundException

        conn_id = cluster_conn_id(ti.xcom_pull(task_ids="wait_for_greenest_region")["zone"])
        try:
            BaseHook.get_connection(conn_id)
        except AirflowNotFoundException:
            print(f"No connection {conn_id!r}: running the local stand-in instead of a pod")
            return "run_locally"
        return "run_in_greenest_region"

    @task
    def run_locally() -> None:
        print("hello from the cleanest grid (local stand-in: no cluster connection for the winning zone)")

    report = CarbonReportOperator(
        task_id="carbon_report",
        wait_task_id="wait_for_greenest_region",
        instance_type="m7g.xlarge",
        trigger_rule="none_failed_min_one_success",
    )
    local = run_locally()
    wait >> choose_cluster() >> [job, local]
    [job, local] >> report
