"""A DAG whose sensor waits on the fake Electricity Maps API (connection ``carbon_em`` set by the test)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from airflow.sdk import DAG, task

from airflow_carbon_provider.sensors.carbon_intensity import CarbonIntensitySensor

with DAG(dag_id="carbon_wait_on_fake_api", schedule=None, start_date=datetime(2026, 1, 1, tzinfo=UTC)):
    wait = CarbonIntensitySensor(
        task_id="wait_for_green_window",
        carbon_conn_id="carbon_em",
        zone="DE",
        policy="threshold",
        threshold=10,  # never green on the fake grid: the deadline decides
        duration=timedelta(minutes=1),
        deadline=timedelta(seconds=12),
        deadline_kind="start",
        on_deadline="run",
        poll_interval=timedelta(seconds=3),
    )

    @task
    def job(waited: dict) -> str:
        return f"started in {waited['zone']}"

    job(wait.output)
