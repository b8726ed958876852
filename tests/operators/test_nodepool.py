"""NodePoolOperator executed with a minimal context against the fake Kubernetes API server (no Airflow DB)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import yaml
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG
from airflow.sdk.exceptions import AirflowNotFoundException

from airflow_carbon_provider.karpenter.bundled import example_nodepool
from airflow_carbon_provider.karpenter.errors import (
    KarpenterApiError,
    KarpenterApiVersionError,
    NodePoolNotReadyError,
    NodePoolRefusedError,
    NodePoolValidationError,
)
from airflow_carbon_provider.karpenter.state import LAST_CHANGE_ANNOTATION, MANAGED_LABEL, PRIOR_STATE_ANNOTATION
from airflow_carbon_provider.operators.nodepool import NodePoolOperator
from tests.conftest import REPO
from tests.operators.nodepool_fixtures import *  # noqa: F403 - the kube_api and clock fixtures
from tests.operators.nodepool_fixtures import CONN, CONTEXT, NAME

HASH = "karpenter.sh/nodepool-hash"

EVERY_CHANGE = [
    {"type": "set_requirement", "key": "karpenter.k8s.aws/instance-category", "operator": "In", "values": ["g", "p"]},
    {"type": "remove_requirement", "key": "kubernetes.io/os"},
    {"type": "allow_architectures", "values": ["arm64"]},
    {"type": "allow_capacity_types", "values": ["spot", "on-demand"]},
    {"type": "pause"},
    {"type": "set_weight", "weight": 80},
    {"type": "set_limits", "limits": {"cpu": "64", "nvidia.com/gpu": "8"}},
    {"type": "set_disruption_budgets", "budgets": [{"nodes": "0", "reasons": ["Drifted"]}]},
    {"type": "set_template_labels", "labels": {"team": "ml"}},
    {"type": "set_taints", "taints": [{"key": "carbon", "value": "flexible", "effect": "NoSchedule"}]},
]


def spec_bytes(nodepool) -> str:
    return json.dumps(nodepool["spec"], sort_keys=True)


def operator(clock, **kwargs) -> NodePoolOperator:
    kwargs.setdefault("nodepool_name", NAME)
    kwargs.setdefault("kubernetes_conn_id", CONN)
    kwargs.setdefault("wait_for_ready", 1)
    return NodePoolOperator(task_id=f"nodepool_{kwargs.get('action', 'apply')}", clock=clock, **kwargs)


def restore(clock) -> dict:
    return operator(clock, action="restore").execute(CONTEXT)


@pytest.mark.parametrize("change", EVERY_CHANGE, ids=lambda c: c["type"])
def test_each_change_type_applies_through_the_api_and_restores_the_exact_spec(kube_api, clock, change) -> None:
    original = spec_bytes(kube_api.get(NAME))
    result = operator(clock, changes=[change]).execute(CONTEXT)
    assert result["outcome"] == "changed"
    assert spec_bytes(kube_api.get(NAME)) != original

    clock.advance(timedelta(minutes=5))
    assert restore(clock)["outcome"] == "changed"
    restored = kube_api.get(NAME)
    assert spec_bytes(restored) == original
    assert PRIOR_STATE_ANNOTATION not in restored["metadata"]["annotations"]


def test_xcom_reports_patch_diff_drift_and_conditions(kube_api, clock) -> None:
    result = operator(clock, changes=[{"type": "allow_architectures", "values": ["arm64"]}]).execute(CONTEXT)
    assert result["mode"] == "cluster"
    assert result["patch"]["spec"]["template"]["spec"]["requirements"][0]["values"] == ["arm64"]
    assert {"path": "spec.template.spec.requirements", "before": result["diff"][-1]["before"]}.items() <= result[
        "diff"
    ][-1].items()
    assert result["drift"] == "nodes that no longer satisfy the requirements"
    assert result["conditions"] == {
        "current": True,
        "generation": 2,
        "status": {"Ready": "True", "ValidationSucceeded": "True"},
        "problems": [],
    }
    json.dumps(result)  # XCom-serialisable


def test_rerunning_the_same_change_is_a_noop_without_a_write(kube_api, clock) -> None:
    operator(clock, changes=[{"type": "pause"}]).execute(CONTEXT)
    writes = len(kube_api.requests_with("PATCH"))
    clock.advance(timedelta(hours=1))
    assert operator(clock, changes=[{"type": "pause"}]).execute(CONTEXT)["outcome"] == "noop"
    assert len(kube_api.requests_with("PATCH")) == writes


def test_restore_runs_as_teardown_after_a_failed_job(kube_api, clock) -> None:
    original = spec_bytes(kube_api.get(NAME))
    with DAG("carbon_training", schedule=None):
        setup = operator(clock, changes=[{"type": "allow_capacity_types", "values": ["spot"]}])
        job = EmptyOperator(task_id="train")
        teardown = operator(clock, action="restore")
        setup >> job >> teardown.as_teardown(setups=setup)
    assert teardown.is_teardown
    assert teardown.trigger_rule == "all_done_setup_success"  # runs when the job fails, if the setup succeeded

    setup.execute(CONTEXT)
    assert spec_bytes(kube_api.get(NAME)) != original
    # the job fails here; Airflow then runs the teardown
    teardown.execute(CONTEXT)
    assert spec_bytes(kube_api.get(NAME)) == original


def test_a_new_operator_restores_after_a_crash_between_patch_and_restore(kube_api, clock) -> None:
    original = spec_bytes(kube_api.get(NAME))
    operator(clock, changes=[{"type": "pause"}, {"type": "allow_architectures", "values": ["arm64"]}]).execute(CONTEXT)
    # the worker dies here; nothing survives but what is stored on the NodePool
    clock.advance(timedelta(minutes=1))
    retry = operator(clock, changes=[{"type": "pause"}, {"type": "allow_architectures", "values": ["arm64"]}])
    assert retry.execute(CONTEXT)["outcome"] == "noop"  # the retried apply keeps the original record
    assert restore(clock)["outcome"] == "changed"
    assert spec_bytes(kube_api.get(NAME)) == original


def test_concurrent_karpenter_write_causes_a_retry_and_is_never_clobbered(kube_api, clock) -> None:
    kube_api.before_next_patch(
        lambda api, name: api.write(
            name, lambda np: np["metadata"]["annotations"].update({HASH: "written-by-karpenter"})
        )
    )
    result = operator(clock, changes=[{"type": "set_weight", "weight": 60}]).execute(CONTEXT)
    assert result["attempts"] == 2
    stored = kube_api.get(NAME)
    assert stored["spec"]["weight"] == 60
    assert "status" not in kube_api.requests_with("PATCH")[-1].body
    assert HASH not in kube_api.requests_with("PATCH")[-1].body["metadata"]["annotations"]


def test_a_pool_that_is_not_opted_in_is_refused_without_a_write(kube_api, clock) -> None:
    kube_api.write(NAME, lambda np: np["metadata"]["labels"].pop(MANAGED_LABEL))
    with pytest.raises(NodePoolRefusedError, match="not opted in"):
        operator(clock, changes=[{"type": "pause"}]).execute(CONTEXT)
    assert kube_api.requests_with("PATCH") == []


def test_restore_is_also_refused_on_a_pool_that_is_not_opted_in(kube_api, clock) -> None:
    kube_api.write(NAME, lambda np: np["metadata"]["labels"].update({MANAGED_LABEL: "false"}))
    with pytest.raises(NodePoolRefusedError):
        restore(clock)


def test_a_pool_outside_the_allow_list_is_refused_at_construction() -> None:
    with pytest.raises(ValueError, match="not in allowed_nodepools"):
        NodePoolOperator(task_id="t", nodepool_name=NAME, changes=[{"type": "pause"}], allowed_nodepools=["gpu"])


def test_a_templated_pool_outside_the_allow_list_is_refused_at_run_time(kube_api, clock) -> None:
    op = operator(clock, changes=[{"type": "pause"}], allowed_nodepools=["gpu"], nodepool_name="{{ params.pool }}")
    op.nodepool_name = NAME  # as rendered
    with pytest.raises(NodePoolRefusedError, match="not in allowed_nodepools"):
        op.execute(CONTEXT)


def test_a_second_change_inside_the_min_interval_is_skipped_not_queued(kube_api, clock) -> None:
    operator(clock, changes=[{"type": "pause"}]).execute(CONTEXT)
    stamped = kube_api.get(NAME)["metadata"]["annotations"][LAST_CHANGE_ANNOTATION]
    clock.advance(timedelta(minutes=10))
    skipped = operator(clock, changes=[{"type": "set_weight", "weight": 50}]).execute(CONTEXT)
    assert skipped["outcome"] == "skipped"
    assert "within min_interval 0:30:00" in skipped["reason"]
    assert kube_api.get(NAME)["spec"]["weight"] == 10
    assert kube_api.get(NAME)["metadata"]["annotations"][LAST_CHANGE_ANNOTATION] == stamped

    clock.advance(timedelta(minutes=20))
    assert operator(clock, changes=[{"type": "set_weight", "weight": 50}]).execute(CONTEXT)["outcome"] == "changed"


def test_restore_is_not_blocked_by_the_min_interval(kube_api, clock) -> None:
    operator(clock, changes=[{"type": "pause"}]).execute(CONTEXT)
    clock.advance(timedelta(seconds=5))
    assert restore(clock)["outcome"] == "changed"


def test_server_side_dry_run_stores_nothing_and_returns_the_patch(kube_api, clock) -> None:
    before = kube_api.get(NAME)
    result = operator(clock, changes=[{"type": "pause"}], dry_run=True).execute(CONTEXT)
    assert result["mode"] == "server-dry-run"
    assert result["patch"]["spec"] == {"limits": {"cpu": "0"}}
    assert kube_api.requests_with("PATCH")[-1].query["dryRun"] == ["All"]
    assert kube_api.get(NAME) == before


def test_invalid_change_is_rejected_before_any_request(kube_api, clock) -> None:
    bad = [{"type": "set_requirement", "key": "karpenter.sh/paused", "operator": "In", "values": ["true"]}]
    with pytest.raises(NodePoolValidationError, match=r'label domain "karpenter\.sh" is restricted'):
        operator(clock, changes=bad).execute(CONTEXT)
    assert kube_api.requests == []


def test_restricted_template_label_is_rejected_before_any_request(kube_api, clock) -> None:
    bad = [{"type": "set_template_labels", "labels": {"karpenter.sh/nodepool": "x"}}]
    with pytest.raises(NodePoolValidationError, match=r'label "karpenter\.sh/nodepool" is restricted'):
        operator(clock, changes=bad).execute(CONTEXT)
    assert kube_api.requests == []


def test_the_aws_crd_rejects_an_unknown_aws_label_before_any_request(kube_api, clock) -> None:
    bad = [{"type": "set_requirement", "key": "karpenter.k8s.aws/foo", "operator": "In", "values": ["x"]}]
    with pytest.raises(NodePoolValidationError, match=r'label domain "karpenter\.k8s\.aws" is restricted'):
        operator(clock, changes=bad, crd="aws").execute(CONTEXT)
    assert kube_api.requests == []


def test_without_the_crd_validation_degrades_to_the_servers_and_says_so(kube_api, clock, tmp_path) -> None:
    missing = tmp_path / "no-such-crd.yaml"
    bad = [{"type": "set_requirement", "key": "karpenter.sh/paused", "operator": "In", "values": ["true"]}]
    with pytest.raises(KarpenterApiError, match="API server rejected") as err:
        operator(clock, changes=bad, crd=str(missing)).execute(CONTEXT)
    assert err.value.status == 422
    ok = operator(clock, changes=[{"type": "pause"}], crd=str(missing)).execute(CONTEXT)
    assert ok["validation"]["mode"] == "server-only"
    assert "unavailable" in ok["validation"]["reason"]


def test_a_pool_karpenter_marks_invalid_is_reported_and_can_fail_the_task(kube_api, clock) -> None:
    unknown_capacity = [
        {"type": "set_requirement", "key": "karpenter.sh/capacity-type", "operator": "In", "values": ["x"]}
    ]
    with pytest.raises(NodePoolNotReadyError, match="ValidationSucceeded=False"):
        operator(clock, changes=unknown_capacity, fail_on_not_ready=True).execute(CONTEXT)
    assert PRIOR_STATE_ANNOTATION in kube_api.get(NAME)["metadata"]["annotations"]  # restorable
    clock.advance(timedelta(minutes=1))
    assert restore(clock)["conditions"]["problems"] == []


def test_not_ready_is_reported_without_failing_by_default(kube_api, clock) -> None:
    unknown_capacity = [
        {"type": "set_requirement", "key": "karpenter.sh/capacity-type", "operator": "In", "values": ["x"]}
    ]
    result = operator(clock, changes=unknown_capacity).execute(CONTEXT)
    assert result["conditions"]["status"] == {"Ready": "False", "ValidationSucceeded": "False"}


def test_the_deployed_rbac_admits_its_named_pool(kube_api, clock) -> None:
    rbac = {doc["kind"]: doc for doc in yaml.safe_load_all((REPO / "deploy" / "rbac.yaml").read_text())}
    kube_api.allowed_names = set(rbac["ClusterRole"]["rules"][0]["resourceNames"])
    assert operator(clock, changes=[{"type": "pause"}]).execute(CONTEXT)["outcome"] == "changed"


def test_rbac_denial_names_the_rule_to_add(kube_api, clock) -> None:
    kube_api.allowed_names = {"another-pool"}
    with pytest.raises(KarpenterApiError, match="resourceNames"):
        operator(clock, changes=[{"type": "pause"}]).execute(CONTEXT)


def test_a_v1beta1_only_cluster_is_explained(kube_api, clock) -> None:
    kube_api.served_versions = ("v1beta1",)
    with pytest.raises(KarpenterApiVersionError, match="upgrade Karpenter"):
        operator(clock, changes=[{"type": "pause"}]).execute(CONTEXT)
    assert kube_api.requests_with("PATCH") == []


def test_changes_can_come_from_a_rendered_json_template(kube_api, clock) -> None:
    op = operator(clock, changes="{{ params.changes }}")
    op.changes = '[{"type": "allow_architectures", "values": ["arm64"]}]'  # as rendered
    assert op.execute(CONTEXT)["outcome"] == "changed"


def test_a_templated_value_inside_a_change_is_checked_after_rendering(kube_api, clock) -> None:
    op = operator(clock, changes=[{"type": "set_weight", "weight": "{{ params.weight }}"}])
    op.changes = [{"type": "set_weight", "weight": "70"}]  # as rendered
    op.execute(CONTEXT)
    assert kube_api.get(NAME)["spec"]["weight"] == 70


def test_offline_dry_run_without_a_connection_uses_the_bundled_example(clock) -> None:
    result = operator(clock, kubernetes_conn_id=None, changes=[{"type": "pause"}]).execute(CONTEXT)
    assert result["mode"] == "offline-dry-run"
    assert result["dry_run"] is True
    assert result["patch"]["spec"] == {"limits": {"cpu": "0"}}
    assert result["nodepool_after"]["spec"]["limits"]["cpu"] == "0"
    assert {"path": "spec.limits.cpu", "before": "1000", "after": "0"} in result["diff"]


def test_offline_dry_run_when_the_default_connection_is_not_configured(clock, monkeypatch, tmp_path) -> None:
    monkeypatch.delenv("AIRFLOW_CONN_KUBERNETES_DEFAULT", raising=False)
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "absent"))
    result = operator(clock, kubernetes_conn_id="kubernetes_default", changes=[{"type": "pause"}]).execute(CONTEXT)
    assert result["mode"] == "offline-dry-run"


def test_a_named_connection_that_does_not_exist_is_an_error_not_an_offline_run(clock) -> None:
    with pytest.raises(AirflowNotFoundException):
        operator(clock, kubernetes_conn_id="no_such_kube_conn", changes=[{"type": "pause"}]).execute(CONTEXT)


def test_offline_dry_run_on_a_given_spec_still_refuses_a_pool_not_opted_in(clock) -> None:
    spec = example_nodepool()
    spec["metadata"]["labels"] = {}
    with pytest.raises(NodePoolRefusedError):
        operator(clock, kubernetes_conn_id=None, nodepool_spec=spec, changes=[{"type": "pause"}]).execute(CONTEXT)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"nodepool_name": "Bad_Name"}, "nodepool_name must be a Kubernetes object name"),
        ({"action": "undo"}, "action must be one of apply, restore"),
        ({"changes": []}, "at least one change"),
        ({"changes": [{"type": "pause"}], "min_interval": -1}, "min_interval must be >= 0"),
        ({"changes": [{"type": "pause"}], "crd": "gke"}, "crd must be one of core, aws"),
        ({"changes": [{"type": "pause"}], "max_attempts": 0}, "max_attempts must be an integer >= 1"),
        ({"changes": [{"type": "explode"}]}, "unknown change type"),
    ],
)
def test_bad_arguments_fail_at_construction(kwargs, message) -> None:
    kwargs.setdefault("nodepool_name", NAME)
    kwargs.setdefault("changes", [{"type": "pause"}])
    with pytest.raises(ValueError, match=message):
        NodePoolOperator(task_id="t", **kwargs)
