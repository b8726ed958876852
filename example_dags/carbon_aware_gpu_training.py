"""Train on GPUs when the grid is clean, and only then open the GPU NodePool.

wait_for_green_window  -> open_gpu_pool -> choose_runtime -> train_on_gpu_pool | train_locally -> carbon_report
                                        \\________________ restore_gpu_pool (teardown, runs even on failure) ___/

The sensor plans from the source's forecast (``policy="forecast"``) so the 4-hour job finishes within 24 hours
of its release in the cleanest window; the wait runs in the triggerer. The NodePool steps record what they
change on the pool and the teardown restores it, whatever happens to the training. With no Kubernetes
cluster configured the NodePool steps are offline dry runs and the training is a local stand-in (the
``make demo`` path); the carbon report accounts for the job either way.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
from airflow.sdk import DAG, task
from kubernetes.client import models as k8s

from airflow_carbon_provider.operators.carbon_report import CarbonReportOperator
from airflow_carbon_provider.operators.nodepool import NodePoolOperator
from airflow_carbon_provider.sensors.carbon_intensity import CarbonIntensitySensor

GPU_POOL = "gpu-training"
TRAINING_TIME = timedelta(hours=4)
GPU_TAINT = k8s.V1Toleration(key="nvidia.com/gpu", operator="Exists", effect="NoSchedule")

with DAG(
    dag_id="carbon_aware_gpu_training",
    schedule=None,
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=False,
    tags=["carbon", "karpenter", "gpu"],
    doc_md=__doc__,
):
    wait = CarbonIntensitySensor(
        task_id="wait_for_green_window",
        zone="ES",
        policy="forecast",
        duration=TRAINING_TIME,
        deadline=timedelta(hours=24),
        deadline_kind="finish",
        poll_interval=timedelta(minutes=30),
    )
    open_pool = NodePoolOperator(
        task_id="open_gpu_pool",
        nodepool_name=GPU_POOL,
        allowed_nodepools=[GPU_POOL],
        changes=[
            {"type": "allow_capacity_types", "values": ["spot", "on-demand"]},
            {
                "type": "set_requirement",
                "key": "karpenter.k8s.aws/instance-family",
                "operator": "In",
                "values": ["g5", "g6"],
            },
        ],
    )

    @task.branch
    def choose_runtime() -> str:
        """The GPU pod where a cluster is configured, else a local stand-in (the offline demo)."""
        from airflow_carbon_provider.hooks.karpenter import kubernetes_configured

        return "train_on_gpu_pool" if kubernetes_configured("kubernetes_default") else "train_locally"

    train_on_gpu_pool = KubernetesPodOperator(
        task_id="train_on_gpu_pool",
        name="carbon-aware-training",
        image="pytorch/pytorch:2.5.1-cuda12.4-cudnn9-runtime",
        cmds=["python", "-c", "import torch; print('training on', torch.cuda.get_device_name(0))"],
        container_resources=k8s.V1ResourceRequirements(limits={"nvidia.com/gpu": "1"}),
        tolerations=[GPU_TAINT],
        node_selector={"karpenter.sh/nodepool": GPU_POOL},
        on_finish_action="delete_pod",
    )

    @task
    def train_locally() -> None:
        """Stand-in for the training pod when no cluster is configured: lasts TRAINING_TIME on the grid clock."""
        from airflow_carbon_provider.hooks.carbon_intensity import CarbonIntensityHook

        seconds = CarbonIntensityHook().clock.wall_seconds(TRAINING_TIME)
        print(f"No Kubernetes cluster configured: running a local stand-in for the GPU pod ({seconds:.1f} s)")
        time.sleep(seconds)

    restore_pool = NodePoolOperator(
        task_id="restore_gpu_pool", nodepool_name=GPU_POOL, allowed_nodepools=[GPU_POOL], action="restore"
    )
    report = CarbonReportOperator(
        task_id="carbon_report",
        wait_task_id="wait_for_green_window",
        instance_type="g5.xlarge",
        trigger_rule="none_failed_min_one_success",
    )

    runtime = choose_runtime()
    local = train_locally()
    wait >> open_pool >> runtime >> [train_on_gpu_pool, local]
    [train_on_gpu_pool, local] >> restore_pool.as_teardown(setups=open_pool)
    [train_on_gpu_pool, local] >> report
