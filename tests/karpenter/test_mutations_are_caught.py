"""Deliberate bugs in the provider's merge patch and CRD validation make the Kubernetes tests fail.

The fake API server merges and validates with its own code (``tests/fakes``), so it cannot share a bug with the
provider. Each case below breaks one thing in the provider, runs the hook/operator tests that should notice, and
checks that each of them fails in its test body (a control run without the bug shows they pass otherwise).
"""

from __future__ import annotations

import ast
import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from airflow_carbon_provider.karpenter import plan as plan_module
from airflow_carbon_provider.karpenter import validation
from airflow_carbon_provider.karpenter.bundled import bundled_crd
from airflow_carbon_provider.karpenter.mergepatch import create_merge_patch
from airflow_carbon_provider.operators import nodepool as nodepool_operator
from tests.conftest import REPO

# Imported once here, so that the inner runs find them loaded: the Rust CEL extension cannot be imported twice in
# one process, and re-importing the kubernetes client and the test modules would make every inner run slow.
from tests.hardening import test_nodepool_crash_points  # noqa: F401
from tests.hooks import test_karpenter_hook  # noqa: F401

HOOK = "tests/hooks/test_karpenter_hook.py"
OPERATOR = "tests/operators/test_nodepool.py"
CRASH_POINTS = "tests/hardening/test_nodepool_crash_points.py"
FAKES = ("http_server.py", "kube_api.py", "apiserver_validation.py", "carbon_apis.py")
PROVIDER_MODULES_FAKES_MAY_USE = {"airflow_carbon_provider.carbon.clock"}  # the tests' injected clock


def patch_without_deletions(original: dict[str, Any], modified: dict[str, Any]) -> dict[str, Any]:
    """Bug: a removed key is left out of the patch instead of being sent as ``null`` (RFC 7386 delete)."""

    def drop_nulls(node: Any) -> Any:
        if isinstance(node, dict):
            return {key: drop_nulls(value) for key, value in node.items() if value is not None}
        return node

    dropped: dict[str, Any] = drop_nulls(create_merge_patch(original, modified))
    return dropped


def patch_without_resource_version(self: plan_module.NodePoolUpdate) -> dict[str, Any] | None:
    """Bug: the patch is not guarded by the ``resourceVersion`` it was computed from (lost optimistic lock)."""
    return create_merge_patch(self.before, self.after) or None


def find_whole_string(value: Any, pattern: Any) -> Any:
    """Bug in the CEL ``find`` function: it returns the whole string, not the first regex match."""
    return value


def crd_without_the_nodepool_label_rule(name: str) -> dict[str, Any]:
    """Bug in a CRD rule: template labels may be ``karpenter.sh/nodepool`` (the rule always passes)."""
    crd = copy.deepcopy(bundled_crd(name))
    labels = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]["template"]
    rules = labels["properties"]["metadata"]["properties"]["labels"]["x-kubernetes-validations"]
    for rule in rules:
        if rule["rule"] == 'self.all(x, x != "karpenter.sh/nodepool")':
            rule["rule"] = "true"
    return crd


@dataclass(frozen=True)
class Mutation:
    name: str
    apply: Callable[[pytest.MonkeyPatch], None]
    caught_by: tuple[str, ...]


MUTATIONS = [
    Mutation(
        "merge patch does not null out removed keys",
        lambda mp: mp.setattr(plan_module, "create_merge_patch", patch_without_deletions),
        (
            f"{OPERATOR}::test_each_change_type_applies_through_the_api_and_restores_the_exact_spec[set_taints]",
            f"{OPERATOR}::test_each_change_type_applies_through_the_api_and_restores_the_exact_spec[set_template_labels]",
            f"{CRASH_POINTS}::test_a_crash_after_the_patch_is_restored_by_a_fresh_operator[set_template_labels]",
        ),
    ),
    Mutation(
        "merge patch without the resourceVersion guard",
        lambda mp: mp.setattr(plan_module.NodePoolUpdate, "patch", property(patch_without_resource_version)),
        (
            f"{HOOK}::test_conflict_with_a_concurrent_writer_recomputes_the_change_and_keeps_its_write",
            f"{HOOK}::test_conflicts_are_retried_a_bounded_number_of_times",
            f"{OPERATOR}::test_concurrent_karpenter_write_causes_a_retry_and_is_never_clobbered",
        ),
    ),
    Mutation(
        "CEL find() returns the whole string",
        lambda mp: mp.setitem(validation.CEL_FUNCTIONS, "find", find_whole_string),
        (
            f"{OPERATOR}::test_invalid_change_is_rejected_before_any_request",
            f"{OPERATOR}::test_the_aws_crd_rejects_an_unknown_aws_label_before_any_request",
        ),
    ),
    Mutation(
        "a CRD rule that always passes",
        lambda mp: mp.setattr(validation, "bundled_crd", crd_without_the_nodepool_label_rule),
        (f"{OPERATOR}::test_restricted_template_label_is_rejected_before_any_request",),
    ),
]


def clear_validator_caches() -> None:
    validation._bundled.cache_clear()
    nodepool_operator._preflight_violations.cache_clear()


def run_tests(pytester: pytest.Pytester, node_ids: tuple[str, ...]) -> pytest.HookRecorder:
    clear_validator_caches()
    try:
        return pytester.inline_run(*(str(REPO / node_id) for node_id in node_ids), "-p", "no:cacheprovider")
    finally:
        clear_validator_caches()


@pytest.mark.parametrize("mutation", MUTATIONS, ids=lambda mutation: mutation.name)
def test_a_deliberate_bug_in_the_provider_fails_the_kubernetes_tests(pytester, monkeypatch, mutation) -> None:
    control = run_tests(pytester, mutation.caught_by)
    control.assertoutcome(passed=len(mutation.caught_by))

    with monkeypatch.context() as patched:
        mutation.apply(patched)
        broken = run_tests(pytester, mutation.caught_by)
    reports = [report for report in broken.getreports("pytest_runtest_logreport") if report.failed]
    assert sorted(report.nodeid.split("::", 1)[1] for report in reports) == sorted(
        node_id.split("::", 1)[1] for node_id in mutation.caught_by
    )
    assert {report.when for report in reports} == {"call"}  # failed in the test body, not in a fixture


@pytest.mark.parametrize("module", FAKES)
def test_the_fakes_use_no_provider_code_but_the_clock(module) -> None:
    tree = ast.parse((REPO / "tests" / "fakes" / module).read_text(encoding="utf-8"))
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    provider = {name for name in imported if name.split(".")[0] == "airflow_carbon_provider"}
    assert provider <= PROVIDER_MODULES_FAKES_MAY_USE
