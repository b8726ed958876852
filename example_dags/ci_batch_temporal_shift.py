"""Shift non-urgent batch/CI work to the cleanest hours within 12 hours, and run it regardless at the deadline.

A nightly build, a test matrix, a re-index: none of them cares whether it starts now or in six hours. The
sensor plans with ``auto`` (the source's forecast if it has one, else the built-in forecaster from history)
and is fail-open: at the deadline the work starts anyway (``on_deadline="run"``), flagged in its XCom.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG

from airflow_carbon_provider.operators.carbon_report import CarbonReportOperator
from airflow_carbon_provider.sensors.carbon_intensity import CarbonIntensitySensor

with DAG(
    dag_id="ci_batch_temporal_shift",
    schedule="0 18 * * *",
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=False,
    tags=["carbon", "batch"],
    doc_md=__doc__,
):
    wait = CarbonIntensitySensor(
        task_id="wait_for_green_window",
        policy="auto",
        duration=timedelta(hours=1),
        deadline=timedelta(hours=12),
        deadline_kind="finish",
        on_deadline="run",
        poll_interval=timedelta(minutes=15),
    )
    batch = BashOperator(
        task_id="run_batch",
        bash_command='echo \'nightly batch in zone {{ ti.xcom_pull(task_ids="wait_for_green_window")["zone"] }}\'',
    )
    report = CarbonReportOperator(task_id="carbon_report", watts=150, count=4)
    wait >> batch >> report
