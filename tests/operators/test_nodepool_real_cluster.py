"""The same operator paths against a real cluster's opted-in NodePool. Opt-in only (deselected otherwise):

    CARBON_REAL_CLUSTER_KUBECONFIG=~/.kube/config CARBON_REAL_CLUSTER_NODEPOOL=carbon-aware-batch \\
        .venv/bin/pytest --real-cluster tests/operators/test_nodepool_real_cluster.py

Asked for without CARBON_REAL_CLUSTER_KUBECONFIG, they fail (they never skip).

The pool must carry the label carbon-aware.airflow-provider.io/managed: "true". Only behavioural fields that
never drift nodes (weight, limits) are changed, and every test restores the pool and checks the spec is
byte-for-byte what it was.
"""

from __future__ import annotations

import json
import os
from datetime import timedelta

import pytest

from airflow_carbon_provider.hooks.karpenter import KarpenterHook
from airflow_carbon_provider.operators.nodepool import NodePoolOperator

KUBECONFIG = os.environ.get("CARBON_REAL_CLUSTER_KUBECONFIG", "")
NODEPOOL = os.environ.get("CARBON_REAL_CLUSTER_NODEPOOL", "carbon-aware-batch")
CONN = "kube_real_cluster"

pytestmark = pytest.mark.real_cluster


@pytest.fixture(autouse=True)
def connection(monkeypatch: pytest.MonkeyPatch) -> None:
    if not KUBECONFIG:
        pytest.fail("the real-cluster tests need CARBON_REAL_CLUSTER_KUBECONFIG (and _NODEPOOL) naming a cluster")
    extra = {"kube_config_path": os.path.expanduser(KUBECONFIG)}
    monkeypatch.setenv(f"AIRFLOW_CONN_{CONN.upper()}", json.dumps({"conn_type": "kubernetes", "extra": extra}))


def spec_bytes() -> str:
    return json.dumps(KarpenterHook(CONN).get_nodepool(NODEPOOL)["spec"], sort_keys=True)


def run(**kwargs) -> dict:
    return NodePoolOperator(
        task_id="real_cluster", nodepool_name=NODEPOOL, kubernetes_conn_id=CONN, min_interval=timedelta(0), **kwargs
    ).execute({})


def test_cluster_serves_karpenter_v1() -> None:
    KarpenterHook(CONN).check_api_version()


def test_server_side_dry_run_of_a_pause_stores_nothing() -> None:
    before = spec_bytes()
    result = run(changes=[{"type": "pause"}], dry_run=True)
    assert result["mode"] == "server-dry-run"
    assert spec_bytes() == before


def test_pause_and_weight_apply_and_restore_byte_for_byte() -> None:
    before = spec_bytes()
    try:
        applied = run(changes=[{"type": "pause"}, {"type": "set_weight", "weight": 42}], wait_for_ready=60)
        assert applied["outcome"] == "changed"
        assert applied["conditions"]["problems"] == []
    finally:
        run(action="restore")
    assert spec_bytes() == before
