"""Real carbon waits for the browser tests, on the bundled replay data (no network), in a real triggerer.

``carbon_live_wait`` waits on a replayed clock at 30 grid seconds per real second for Spain's midday low, so it
stays deferred for the whole test session; ``carbon_quick_wait`` runs at 600 x and can never see a green
window (threshold 0), so however late a loaded machine starts it, it defers, its trigger publishes the wait state
and fires at the 6-grid-hour deadline (36 s): the published state must survive the task's resume on a worker.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from airflow.sdk import DAG

from airflow_carbon_provider.sensors.carbon_intensity import CarbonIntensitySensor

with DAG(dag_id="carbon_live_wait", schedule=None, start_date=datetime(2023, 1, 1, tzinfo=UTC), catchup=False):
    CarbonIntensitySensor(
        task_id="wait_for_green_window",
        carbon_conn_id="carbon_slow",
        zone="ES",
        policy="forecast",
        duration=timedelta(hours=2),
        deadline=timedelta(hours=20),
        poll_interval=timedelta(minutes=15),
    )

with DAG(dag_id="carbon_quick_wait", schedule=None, start_date=datetime(2023, 1, 1, tzinfo=UTC), catchup=False):
    CarbonIntensitySensor(
        task_id="wait_for_green_window",
        carbon_conn_id="carbon_fast",
        zone="ES",
        policy="threshold",
        threshold=0,
        duration=timedelta(hours=1),
        deadline=timedelta(hours=6),
        poll_interval=timedelta(minutes=30),
    )
