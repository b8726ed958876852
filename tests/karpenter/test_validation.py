"""The offline validator against the real CRD files: the ones bundled in the package and Karpenter v1.0.0's in
tests/data (all pinned to the upstream release files by their git blob hashes)."""

from __future__ import annotations

import copy
import hashlib
from datetime import UTC, datetime

import pytest
import yaml

from airflow_carbon_provider.karpenter.bundled import BUNDLED_CRDS as BUNDLED_NAMES
from airflow_carbon_provider.karpenter.plan import plan_apply
from airflow_carbon_provider.karpenter.validation import NodePoolValidator
from tests.conftest import BUNDLED_CRDS, REPO, TEST_DATA
from tests.karpenter.test_changes import EVERY_CHANGE

V1_0_CRD = TEST_DATA / "karpenter" / "karpenter.sh_nodepools.v1.0.0.yaml"
UPSTREAM_BLOBS = {  # git blob SHA-1 of each file at its Karpenter release tag (see the NOTICE.md beside them)
    BUNDLED_CRDS / "karpenter.sh_nodepools.v1.14.1.yaml": "c1fc56bbaf87f414fd8f8a13be384cf1dbedf4ef",
    BUNDLED_CRDS / "aws-provider.karpenter.sh_nodepools.v1.14.1.yaml": "36f2f18fe5827655650e3c58ec9c9f4d4b9e1888",
    V1_0_CRD: "cd2b99ed115c3bc7b50466a27ea12387371c0729",
}


def with_spec(nodepool, **spec):
    changed = copy.deepcopy(nodepool)
    changed["spec"].update(spec)
    return changed


def with_requirement(nodepool, requirement):
    changed = copy.deepcopy(nodepool)
    changed["spec"]["template"]["spec"]["requirements"].append(requirement)
    return changed


def test_the_example_nodepool_is_valid_against_the_crd(validator, nodepool) -> None:
    assert validator.validate(nodepool) == []


def git_blob_sha1(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@pytest.mark.parametrize("path", UPSTREAM_BLOBS, ids=lambda path: path.name)
def test_the_crd_files_are_unmodified_upstream_releases(path) -> None:
    assert git_blob_sha1(path.read_bytes()) == UPSTREAM_BLOBS[path]


def test_every_crd_the_package_bundles_is_pinned_to_its_release() -> None:
    assert {BUNDLED_CRDS / name for name in BUNDLED_NAMES.values()} <= set(UPSTREAM_BLOBS)


@pytest.mark.parametrize("path", UPSTREAM_BLOBS, ids=lambda path: path.name)
def test_every_cel_rule_of_the_crds_compiles(path) -> None:
    validator = NodePoolValidator.from_file(path)
    assert validator.skipped_rules == []
    assert validator.rules


def test_rule_count_matches_the_crd(validator) -> None:
    assert len(validator.rules) == 18


@pytest.mark.parametrize(
    ("requirement", "message"),
    [
        ({"key": "karpenter.sh/foo", "operator": "In", "values": ["x"]}, 'label domain "karpenter.sh" is restricted'),
        (
            {"key": "karpenter.sh/nodepool", "operator": "In", "values": ["x"]},
            'label "karpenter.sh/nodepool" is restricted',
        ),
        (
            {"key": "kubernetes.io/hostname", "operator": "In", "values": ["x"]},
            'label "kubernetes.io/hostname" is restricted',
        ),
        ({"key": "a", "operator": "In", "values": []}, "requirements with operator 'In' must have a value defined"),
        ({"key": "a", "operator": "Gt", "values": ["abc"]}, "must have a single positive integer value"),
        ({"key": "a", "operator": "In", "values": ["x", "y"], "minValues": 3}, "must have at least that many values"),
        ({"key": "a", "operator": "Foo", "values": ["x"]}, "'Foo' is not one of"),
    ],
)
def test_invalid_requirements_are_rejected_with_the_crd_message(validator, nodepool, requirement, message) -> None:
    violations = validator.validate(with_requirement(nodepool, requirement))
    assert any(message in violation for violation in violations), violations


def test_restricted_template_label_is_rejected(validator, nodepool) -> None:
    nodepool["spec"]["template"]["metadata"]["labels"]["karpenter.sh/paused"] = "true"
    assert validator.validate(nodepool) == ['spec.template.metadata.labels: label domain "karpenter.sh" is restricted']


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"limits": {"cpu": "lots"}}, "does not match"),
        ({"weight": 0}, "less than the minimum of 1"),
        ({"disruption": {"consolidationPolicy": "WhenUnderutilized", "consolidateAfter": "0s"}}, "is not one of"),
        ({"disruption": {"budgets": [{"nodes": "10%"}]}}, "'consolidateAfter' is a required property"),
        (
            {"disruption": {"consolidateAfter": "0s", "budgets": [{"nodes": "0", "schedule": "@daily"}]}},
            "'schedule' must be set with 'duration'",
        ),
        ({"replicas": 3, "weight": 5}, "'weight' is not supported on static NodePools"),
    ],
)
def test_invalid_spec_fields_are_rejected(validator, nodepool, spec, message) -> None:
    violations = validator.validate(with_spec(nodepool, **spec))
    assert any(message in violation for violation in violations), violations


def test_pause_limits_are_valid_both_as_string_and_integer(validator, nodepool) -> None:
    assert validator.validate(with_spec(nodepool, limits={"cpu": "0"})) == []
    assert validator.validate(with_spec(nodepool, limits={"cpu": 0})) == []


def test_transition_rules_run_only_with_an_old_object(validator, nodepool) -> None:
    changed = copy.deepcopy(nodepool)
    changed["spec"]["template"]["spec"]["nodeClassRef"]["kind"] = "OtherNodeClass"
    assert validator.validate(changed) == []
    assert validator.validate(changed, old=nodepool) == [
        "spec.template.spec.nodeClassRef: nodeClassRef.kind is immutable"
    ]


def test_aws_crd_restricts_its_own_label_domain(nodepool) -> None:
    aws = NodePoolValidator.bundled("aws")
    allowed = {"key": "karpenter.k8s.aws/instance-family", "operator": "In", "values": ["m7g"]}
    assert aws.validate(with_requirement(nodepool, allowed)) == []
    unknown = {"key": "karpenter.k8s.aws/foo", "operator": "In", "values": ["x"]}
    assert any('"karpenter.k8s.aws" is restricted' in v for v in aws.validate(with_requirement(nodepool, unknown)))


def test_older_v1_0_crd_rejects_label_domains_newer_karpenter_allows(nodepool) -> None:
    old = NodePoolValidator.from_file(V1_0_CRD)
    custom = {"key": "example.kubernetes.io/tier", "operator": "In", "values": ["x"]}
    assert old.validate(with_requirement(nodepool, custom))
    assert NodePoolValidator.bundled().validate(with_requirement(nodepool, custom)) == []


def test_unknown_bundled_crd_name_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="crd must be one of core, aws"):
        NodePoolValidator.bundled("gke")


def test_deploy_manifests_are_valid_against_the_crd(validator) -> None:
    example = yaml.safe_load((REPO / "deploy" / "nodepool.yaml").read_text())
    bundled = yaml.safe_load((REPO / "airflow_carbon_provider" / "karpenter" / "example_nodepool.yaml").read_text())
    assert example == bundled
    assert example["apiVersion"] == "karpenter.sh/v1"
    assert validator.validate(example) == []


def test_unchanged_values_are_not_rechecked_on_update_as_with_ratcheting(validator, nodepool) -> None:
    legacy = with_requirement(nodepool, {"key": "karpenter.sh/legacy", "operator": "In", "values": ["x"]})
    weighted = with_spec(legacy, weight=20)
    assert validator.validate(weighted, old=legacy) == []
    assert validator.validate(weighted) != []


@pytest.mark.parametrize("change", EVERY_CHANGE, ids=lambda c: c.type_name)
def test_every_change_type_on_the_example_is_also_valid_for_karpenter_v1_0(nodepool, change) -> None:
    old = NodePoolValidator.from_file(V1_0_CRD)
    plan = plan_apply(nodepool, [change], datetime(2026, 1, 1, tzinfo=UTC))
    assert old.validate(plan.after, old=plan.before) == []
