"""deploy/: the RBAC grants exactly get/patch on the named, opted-in example NodePool, nothing wider."""

from __future__ import annotations

from pathlib import Path

import yaml

from airflow_carbon_provider.karpenter.state import MANAGED_LABEL

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def documents(name: str) -> dict[str, dict]:
    return {doc["kind"]: doc for doc in yaml.safe_load_all((DEPLOY / name).read_text())}


def test_cluster_role_allows_only_get_and_patch_on_named_nodepools() -> None:
    (rule,) = documents("rbac.yaml")["ClusterRole"]["rules"]
    assert rule == {
        "apiGroups": ["karpenter.sh"],
        "resources": ["nodepools"],
        "resourceNames": ["carbon-aware-batch"],
        "verbs": ["get", "patch"],
    }


def test_binding_ties_the_role_to_the_service_account() -> None:
    manifests = documents("rbac.yaml")
    binding, account = manifests["ClusterRoleBinding"], manifests["ServiceAccount"]
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "ClusterRole",
        "name": manifests["ClusterRole"]["metadata"]["name"],
    }
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": account["metadata"]["name"], "namespace": account["metadata"]["namespace"]}
    ]


def test_example_nodepool_is_v1_opted_in_and_named_in_the_role() -> None:
    nodepool = documents("nodepool.yaml")["NodePool"]
    assert nodepool["apiVersion"] == "karpenter.sh/v1"
    assert nodepool["metadata"]["labels"][MANAGED_LABEL] == "true"
    assert [nodepool["metadata"]["name"]] == documents("rbac.yaml")["ClusterRole"]["rules"][0]["resourceNames"]


def test_example_nodepool_avoids_v1beta1_fields() -> None:
    nodepool = documents("nodepool.yaml")["NodePool"]
    assert "apiVersion" not in nodepool["spec"]["template"]["spec"]["nodeClassRef"]
    assert "kubelet" not in nodepool["spec"]["template"]["spec"]
    assert nodepool["spec"]["disruption"]["consolidationPolicy"] != "WhenUnderutilized"
