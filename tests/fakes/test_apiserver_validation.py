"""The fake API server's CRD validation, checked against the provider's validator on the same cases: two
implementations written apart (different CEL engines) must report the same rule violations, so a disagreement
points at a bug in one of them."""

from __future__ import annotations

import copy

import pytest

from airflow_carbon_provider.karpenter.bundled import example_nodepool
from airflow_carbon_provider.karpenter.validation import NodePoolValidator
from tests.conftest import BUNDLED_CRDS, TEST_DATA
from tests.fakes.apiserver_validation import crd_validation

CRDS = {
    "core": BUNDLED_CRDS / "karpenter.sh_nodepools.v1.14.1.yaml",
    "aws": BUNDLED_CRDS / "aws-provider.karpenter.sh_nodepools.v1.14.1.yaml",
    "v1.0": TEST_DATA / "karpenter" / "karpenter.sh_nodepools.v1.0.0.yaml",
}


def requirement(key, operator="In", values=("x",), **extra):
    return {"key": key, "operator": operator, "values": list(values), **extra}


def changed(*edits):
    nodepool = example_nodepool()
    for edit in edits:
        edit(nodepool)
    return nodepool


def add_requirement(item):
    return lambda nodepool: nodepool["spec"]["template"]["spec"]["requirements"].append(item)


def set_spec(**fields):
    return lambda nodepool: nodepool["spec"].update(fields)


def add_label(key):
    return lambda nodepool: nodepool["spec"]["template"]["metadata"]["labels"].update({key: "x"})


def set_node_class(**fields):
    return lambda nodepool: nodepool["spec"]["template"]["spec"]["nodeClassRef"].update(fields)


CASES = {  # name: (crd, new object, old object or None)
    "the example": ("core", changed(), None),
    "karpenter.sh domain key": ("core", changed(add_requirement(requirement("karpenter.sh/foo"))), None),
    "karpenter.sh/nodepool key": ("core", changed(add_requirement(requirement("karpenter.sh/nodepool"))), None),
    "hostname key": ("core", changed(add_requirement(requirement("kubernetes.io/hostname"))), None),
    "In without values": ("core", changed(add_requirement(requirement("a", values=()))), None),
    "Gt not an integer": ("core", changed(add_requirement(requirement("a", "Gt", ("abc",)))), None),
    "minValues above values": ("core", changed(add_requirement(requirement("a", minValues=3))), None),
    "restricted template label": ("core", changed(add_label("karpenter.sh/paused")), None),
    "nodepool template label": ("core", changed(add_label("karpenter.sh/nodepool")), None),
    "schedule without duration": (
        "core",
        changed(set_spec(disruption={"consolidateAfter": "0s", "budgets": [{"nodes": "0", "schedule": "@daily"}]})),
        None,
    ),
    "static pool with weight": ("core", changed(set_spec(replicas=3, weight=5)), None),
    "static pool with cpu limit": ("core", changed(set_spec(replicas=3)), None),
    "becoming static": ("core", changed(set_spec(replicas=3), lambda np: np["spec"].pop("weight")), changed()),
    "nodeClassRef.kind changed": ("core", changed(set_node_class(kind="Other")), changed()),
    "nodeClassRef.kind set on create": ("core", changed(set_node_class(kind="Other")), None),
    "nodeClassRef.group changed": ("core", changed(set_node_class(group="example.com")), changed()),
    "empty nodeClassRef fields": ("core", changed(set_node_class(group="", kind="", name="")), None),
    "unchanged legacy key on update": (
        "core",
        changed(add_requirement(requirement("karpenter.sh/legacy")), set_spec(weight=20)),
        changed(add_requirement(requirement("karpenter.sh/legacy"))),
    ),
    "bad operator and quantity": (
        "core",
        changed(add_requirement(requirement("a", "Foo")), set_spec(limits={"cpu": "lots"})),
        None,
    ),
    "aws known key": ("aws", changed(add_requirement(requirement("karpenter.k8s.aws/instance-family"))), None),
    "aws unknown key": ("aws", changed(add_requirement(requirement("karpenter.k8s.aws/foo"))), None),
    "v1.0 kubernetes.io domain": ("v1.0", changed(add_requirement(requirement("example.kubernetes.io/tier"))), None),
    "v1.0 allowed topology key": (
        "v1.0",
        changed(add_requirement(requirement("topology.kubernetes.io/zone"))),
        None,
    ),
}


def provider_verdict(crd, new, old):
    violations = NodePoolValidator.from_file(CRDS[crd]).validate(copy.deepcopy(new), old=copy.deepcopy(old))
    messages = [violation.split(": ", 1)[-1] for violation in violations]
    return violations != [], sorted(message for message in messages if message in RULE_MESSAGES)


def fake_verdict(crd, new, old):
    """Whether the fake refuses the object, and the CEL rule messages among its ``Invalid value: "<type>": ...``."""
    errors = crd_validation(CRDS[crd]).errors(copy.deepcopy(new), old=copy.deepcopy(old))
    messages = [error.message.split(": ", 2)[-1] for error in errors]
    return errors != [], sorted(message for message in messages if message in RULE_MESSAGES)


RULE_MESSAGES = {rule.message for path in CRDS.values() for rule in crd_validation(path).rules}


@pytest.mark.parametrize(("crd", "new", "old"), CASES.values(), ids=CASES.keys())
def test_the_fake_and_the_provider_agree_on_every_rule_violation(crd, new, old) -> None:
    assert fake_verdict(crd, new, old) == provider_verdict(crd, new, old)


def test_the_cases_break_every_rule_of_the_core_crd() -> None:
    broken = {
        message for crd, new, old in CASES.values() if crd == "core" for message in fake_verdict(crd, new, old)[1]
    }
    assert broken == {rule.message for rule in crd_validation(CRDS["core"]).rules}


def test_errors_read_as_the_api_server_writes_them() -> None:
    errors = crd_validation(CRDS["core"]).errors(changed(add_label("karpenter.sh/paused"), set_spec(weight=0)))
    assert [str(error) for error in errors] == [
        "spec.weight: Invalid value: 0: spec.weight in body should be greater than or equal to 1",
        'spec.template.metadata.labels: Invalid value: "object": label domain "karpenter.sh" is restricted',
    ]


def test_a_missing_required_field_names_the_field() -> None:
    nodepool = changed(lambda np: np["spec"]["template"]["spec"]["nodeClassRef"].pop("group"))
    errors = crd_validation(CRDS["core"]).errors(nodepool)
    required = ("spec.template.spec.nodeClassRef.group", "Required value", "FieldValueRequired")
    assert required in [(error.field, error.message, error.reason) for error in errors]
