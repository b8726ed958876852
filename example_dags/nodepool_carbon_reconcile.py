"""The original design's controller loop as a scheduled DAG: every 30 minutes, steer a NodePool by the grid.

Clean grid: the pool may use spot and on-demand capacity on any architecture. Dirty grid: arm64 only
(Graviton draws less power for the same work). Hysteresis between 150 and 250 gCO₂e/kWh, with a crossing
that must last 30 minutes, keeps a noisy signal from toggling the pool; the pool's own minimum interval
between changes (30 min) is a second guard. The gate state lives in an annotation on the pool.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from airflow.sdk import DAG

from airflow_carbon_provider.operators.nodepool import CarbonAwareNodePoolOperator

POOL = "carbon-aware-batch"

with DAG(
    dag_id="nodepool_carbon_reconcile",
    schedule=timedelta(minutes=30),
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    tags=["carbon", "karpenter"],
    doc_md=__doc__,
):
    CarbonAwareNodePoolOperator(
        task_id="reconcile_nodepool",
        nodepool_name=POOL,
        allowed_nodepools=[POOL],
        zone="ES",
        threshold_low=150,
        threshold_high=250,
        min_dwell=timedelta(minutes=30),
        clean_changes=[
            {"type": "allow_architectures", "values": ["amd64", "arm64"]},
            {"type": "allow_capacity_types", "values": ["spot", "on-demand"]},
        ],
        dirty_changes=[
            {"type": "allow_architectures", "values": ["arm64"]},
            {"type": "allow_capacity_types", "values": ["on-demand"]},
        ],
    )
