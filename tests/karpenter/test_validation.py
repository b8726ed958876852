"""The offline validator against the real CRD files (the shared copies and the ones bundled in the package)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from airflow_carbon_provider.karpenter.bundled import BUNDLED_CRDS
from airflow_carbon_provider.karpenter.plan import plan_apply
from airflow_carbon_provider.karpenter.validation import NodePoolValidator
from tests.karpenter.test_changes import EVERY_CHANGE

REPO = Path(__file__).resolve().parents[2]


def with_spec(nodepool, **spec):
    changed = copy.deepcopy(nodepool)
    changed["spec"].update(spec)
    return changed


def with_requirement(nodepool, requirement):
    changed = copy.deepcopy(nodepool)
    changed["spec"]["template"]["spec"]["requirements"].append(requirement)
    return changed


def test_the_example_nodepool_is_valid_against_the_shared_crd(shared_crd, nodepool) -> None:
    assert shared_crd.validate(nodepool) == []


def test_bundled_crds_are_byte_identical_to_the_shared_copies(shared_dir) -> None:
    for name in BUNDLED_CRDS.values():
        bundled = REPO / "airflow_carbon_provider" / "karpenter" / "crds" / name
        assert bundled.read_bytes() == (shared_dir / "karpenter" / name).read_bytes()


def test_every_cel_rule_of_the_shipped_crds_compiles(shared_dir) -> None:
    for path in sorted((shared_dir / "karpenter").glob("*nodepools*.yaml")):
        validator = NodePoolValidator.from_file(path)
        assert validator.skipped_rules == [], path.name
        assert validator.rules


def test_rule_count_matches_the_crd(shared_crd) -> None:
    assert len(shared_crd.rules) == 18


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
def test_invalid_requirements_are_rejected_with_the_crd_message(shared_crd, nodepool, requirement, message) -> None:
    violations = shared_crd.validate(with_requirement(nodepool, requirement))
    assert any(message in violation for violation in violations), violations


def test_restricted_template_label_is_rejected(shared_crd, nodepool) -> None:
    nodepool["spec"]["template"]["metadata"]["labels"]["karpenter.sh/paused"] = "true"
    assert shared_crd.validate(nodepool) == ['spec.template.metadata.labels: label domain "karpenter.sh" is restricted']


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
def test_invalid_spec_fields_are_rejected(shared_crd, nodepool, spec, message) -> None:
    violations = shared_crd.validate(with_spec(nodepool, **spec))
    assert any(message in violation for violation in violations), violations


def test_pause_limits_are_valid_both_as_string_and_integer(shared_crd, nodepool) -> None:
    assert shared_crd.validate(with_spec(nodepool, limits={"cpu": "0"})) == []
    assert shared_crd.validate(with_spec(nodepool, limits={"cpu": 0})) == []


def test_transition_rules_run_only_with_an_old_object(shared_crd, nodepool) -> None:
    changed = copy.deepcopy(nodepool)
    changed["spec"]["template"]["spec"]["nodeClassRef"]["kind"] = "OtherNodeClass"
    assert shared_crd.validate(changed) == []
    assert shared_crd.validate(changed, old=nodepool) == [
        "spec.template.spec.nodeClassRef: nodeClassRef.kind is immutable"
    ]


def test_aws_crd_restricts_its_own_label_domain(shared_dir, nodepool) -> None:
    aws = NodePoolValidator.from_file(shared_dir / "karpenter" / "aws-provider.karpenter.sh_nodepools.v1.14.1.yaml")
    allowed = {"key": "karpenter.k8s.aws/instance-family", "operator": "In", "values": ["m7g"]}
    assert aws.validate(with_requirement(nodepool, allowed)) == []
    unknown = {"key": "karpenter.k8s.aws/foo", "operator": "In", "values": ["x"]}
    assert any('"karpenter.k8s.aws" is restricted' in v for v in aws.validate(with_requirement(nodepool, unknown)))


def test_older_v1_0_crd_rejects_label_domains_newer_karpenter_allows(shared_dir, nodepool) -> None:
    old = NodePoolValidator.from_file(shared_dir / "karpenter" / "karpenter.sh_nodepools.v1.0.0.yaml")
    custom = {"key": "example.kubernetes.io/tier", "operator": "In", "values": ["x"]}
    assert old.validate(with_requirement(nodepool, custom))
    assert NodePoolValidator.bundled().validate(with_requirement(nodepool, custom)) == []


def test_unknown_bundled_crd_name_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="crd must be one of core, aws"):
        NodePoolValidator.bundled("gke")


def test_deploy_manifests_are_valid_against_the_crd(shared_crd) -> None:
    example = yaml.safe_load((REPO / "deploy" / "nodepool.yaml").read_text())
    bundled = yaml.safe_load((REPO / "airflow_carbon_provider" / "karpenter" / "example_nodepool.yaml").read_text())
    assert example == bundled
    assert example["apiVersion"] == "karpenter.sh/v1"
    assert shared_crd.validate(example) == []


def test_unchanged_values_are_not_rechecked_on_update_as_with_ratcheting(shared_crd, nodepool) -> None:
    legacy = with_requirement(nodepool, {"key": "karpenter.sh/legacy", "operator": "In", "values": ["x"]})
    weighted = with_spec(legacy, weight=20)
    assert shared_crd.validate(weighted, old=legacy) == []
    assert shared_crd.validate(weighted) != []


@pytest.mark.parametrize("change", EVERY_CHANGE, ids=lambda c: c.type_name)
def test_every_change_type_on_the_example_is_also_valid_for_karpenter_v1_0(shared_dir, nodepool, change) -> None:
    old = NodePoolValidator.from_file(shared_dir / "karpenter" / "karpenter.sh_nodepools.v1.0.0.yaml")
    plan = plan_apply(nodepool, [change], datetime(2026, 1, 1, tzinfo=UTC))
    assert old.validate(plan.after, old=plan.before) == []
