from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta

import pytest

from airflow_carbon_provider.karpenter.changes import (
    AllowArchitectures,
    AllowCapacityTypes,
    Pause,
    RemoveRequirement,
    Resume,
    SetDisruptionBudgets,
    SetLimits,
    SetRequirement,
    SetTaints,
    SetTemplateLabels,
    SetWeight,
)
from airflow_carbon_provider.karpenter.errors import NodePoolRefusedError
from airflow_carbon_provider.karpenter.mergepatch import apply_merge_patch
from airflow_carbon_provider.karpenter.plan import Outcome, check_may_change, plan_apply, plan_restore
from airflow_carbon_provider.karpenter.state import LAST_CHANGE_ANNOTATION, MANAGED_LABEL, PRIOR_STATE_ANNOTATION

NOW = datetime(2026, 1, 1, 12, tzinfo=UTC)
REQUIREMENTS = ("spec", "template", "spec", "requirements")


def spec_json(nodepool) -> str:
    return json.dumps(nodepool["spec"], sort_keys=True)


def applied(nodepool, *changes, now=NOW, min_interval=timedelta(0)):
    plan = plan_apply(nodepool, changes, now, min_interval)
    return plan, apply_merge_patch(nodepool, plan.patch) if plan.patch else nodepool


def requirements(nodepool) -> list:
    return nodepool["spec"]["template"]["spec"]["requirements"]


CASES = [
    (
        AllowArchitectures(("arm64",)),
        lambda np: requirements(np)[0] == {"key": "kubernetes.io/arch", "operator": "In", "values": ["arm64"]},
    ),
    (AllowCapacityTypes(("spot",)), lambda np: requirements(np)[1]["values"] == ["spot"]),
    (
        SetRequirement("karpenter.k8s.aws/instance-category", "In", ("g", "p")),
        lambda np: requirements(np)[3]["values"] == ["g", "p"],
    ),
    (
        RemoveRequirement("kubernetes.io/os"),
        lambda np: [r["key"] for r in requirements(np)] == ["kubernetes.io/arch", "karpenter.sh/capacity-type"],
    ),
    (Pause(), lambda np: np["spec"]["limits"] == {"cpu": "0", "memory": "1000Gi"}),
    (SetWeight(90), lambda np: np["spec"]["weight"] == 90),
    (
        SetLimits({"cpu": "64", "memory": None, "nvidia.com/gpu": "8"}),
        lambda np: np["spec"]["limits"] == {"cpu": "64", "nvidia.com/gpu": "8"},
    ),
    (
        SetDisruptionBudgets(({"nodes": "0", "reasons": ["Drifted"]},)),
        lambda np: np["spec"]["disruption"]["budgets"] == [{"nodes": "0", "reasons": ["Drifted"]}],
    ),
    (
        SetTemplateLabels({"team": "ml", "workload-class": None}),
        lambda np: np["spec"]["template"]["metadata"]["labels"] == {"team": "ml"},
    ),
    (
        SetTaints(({"key": "carbon", "effect": "NoSchedule"},)),
        lambda np: np["spec"]["template"]["spec"]["taints"] == [{"key": "carbon", "effect": "NoSchedule"}],
    ),
]


@pytest.mark.parametrize(("change", "expect"), CASES, ids=lambda c: getattr(c, "type_name", ""))
def test_each_change_type_changes_its_field_and_restore_gives_back_the_exact_spec(nodepool, change, expect) -> None:
    original = spec_json(nodepool)
    plan, changed = applied(nodepool, change)
    assert plan.outcome is Outcome.CHANGED
    assert expect(changed)
    assert PRIOR_STATE_ANNOTATION in changed["metadata"]["annotations"]

    restore = plan_restore(changed, NOW + timedelta(minutes=1))
    restored = apply_merge_patch(changed, restore.patch)
    assert spec_json(restored) == original
    assert PRIOR_STATE_ANNOTATION not in restored["metadata"].get("annotations", {})


def test_requirement_change_rewrites_the_list_with_only_that_key_changed(nodepool) -> None:
    plan, changed = applied(nodepool, AllowArchitectures(("arm64",)))
    sent = plan.patch["spec"]["template"]["spec"]["requirements"]
    assert sent == [requirements(changed)[0], *requirements(nodepool)[1:]]


def test_patch_carries_the_resource_version_it_was_computed_from(nodepool) -> None:
    nodepool["metadata"]["resourceVersion"] = "42"
    plan, _ = applied(nodepool, Pause())
    assert plan.patch["metadata"]["resourceVersion"] == "42"


def test_patch_never_touches_status_or_karpenter_annotations(nodepool) -> None:
    nodepool["metadata"]["annotations"] = {"karpenter.sh/nodepool-hash": "123"}
    nodepool["status"] = {"conditions": []}
    plan, _ = applied(nodepool, Pause())
    assert "status" not in plan.patch
    assert set(plan.patch["metadata"]["annotations"]) == {PRIOR_STATE_ANNOTATION, LAST_CHANGE_ANNOTATION}


def test_reapplying_the_same_change_is_a_noop(nodepool) -> None:
    _, changed = applied(nodepool, Pause())
    again = plan_apply(changed, [Pause()], NOW + timedelta(hours=1))
    assert again.outcome is Outcome.NOOP
    assert again.patch is None


def test_stacked_changes_keep_the_value_from_before_the_first_change(nodepool) -> None:
    _, once = applied(nodepool, SetLimits({"cpu": "500"}))
    _, twice = applied(once, Pause(), now=NOW + timedelta(hours=1))
    restored = apply_merge_patch(twice, plan_restore(twice, NOW + timedelta(hours=2)).patch)
    assert restored["spec"]["limits"]["cpu"] == "1000"


def test_pause_of_a_pool_without_limits_is_undone_by_removing_limits(nodepool) -> None:
    del nodepool["spec"]["limits"]
    _, paused = applied(nodepool, Pause())
    assert paused["spec"]["limits"] == {"cpu": "0"}
    restored = apply_merge_patch(paused, plan_restore(paused, NOW).patch)
    assert "limits" not in restored["spec"]


def test_resume_lifts_our_pause_and_leaves_nothing_to_restore(nodepool) -> None:
    original = spec_json(nodepool)
    _, paused = applied(nodepool, Pause(), AllowArchitectures(("arm64",)))
    _, resumed = applied(paused, Resume(), now=NOW + timedelta(hours=1))
    assert resumed["spec"]["limits"]["cpu"] == "1000"
    prior = json.loads(resumed["metadata"]["annotations"][PRIOR_STATE_ANNOTATION])
    assert [f["path"][-1] for f in prior["fields"]] == [{"key": "kubernetes.io/arch"}]
    assert spec_json(apply_merge_patch(resumed, plan_restore(resumed, NOW).patch)) == original


def test_resume_does_not_lift_a_pause_someone_else_set(nodepool) -> None:
    nodepool["spec"]["limits"]["cpu"] = "0"
    assert plan_apply(nodepool, [Resume()], NOW).outcome is Outcome.NOOP


def test_removed_requirement_comes_back_at_its_old_position(nodepool) -> None:
    original = spec_json(nodepool)
    _, changed = applied(nodepool, RemoveRequirement("kubernetes.io/arch"))
    restored = apply_merge_patch(changed, plan_restore(changed, NOW).patch)
    assert spec_json(restored) == original


def test_restore_leaves_a_field_someone_else_changed_and_reports_it(nodepool) -> None:
    _, paused = applied(nodepool, Pause(), SetWeight(80))
    paused["spec"]["limits"]["cpu"] = "300"
    restore = plan_restore(paused, NOW)
    restored = apply_merge_patch(paused, restore.patch)
    assert restored["spec"]["limits"]["cpu"] == "300"
    assert restored["spec"]["weight"] == 10
    assert restore.kept_fields == ("spec.limits.cpu",)


def test_restore_without_a_record_is_a_noop(nodepool) -> None:
    assert plan_restore(nodepool, NOW).outcome is Outcome.NOOP


def test_a_change_inside_the_min_interval_is_skipped_and_says_when_the_next_is_allowed(nodepool) -> None:
    _, changed = applied(nodepool, Pause())
    plan = plan_apply(changed, [SetWeight(50)], NOW + timedelta(minutes=10), timedelta(minutes=30))
    assert plan.outcome is Outcome.SKIPPED
    assert plan.patch is None
    assert "0:20:00" in plan.reason


def test_a_change_after_the_min_interval_goes_through(nodepool) -> None:
    _, changed = applied(nodepool, Pause())
    plan = plan_apply(changed, [SetWeight(50)], NOW + timedelta(minutes=30), timedelta(minutes=30))
    assert plan.outcome is Outcome.CHANGED


def test_restore_is_never_blocked_by_the_min_interval(nodepool) -> None:
    _, changed = applied(nodepool, Pause())
    assert plan_restore(changed, NOW + timedelta(seconds=1)).outcome is Outcome.CHANGED


def test_drift_is_reported_for_template_labels_but_not_for_limits(nodepool) -> None:
    assert plan_apply(nodepool, [SetTemplateLabels({"a": "b"})], NOW).drift.startswith("all nodes")
    assert plan_apply(nodepool, [AllowArchitectures(("arm64",))], NOW).drift.startswith("nodes that no longer")
    assert plan_apply(nodepool, [Pause()], NOW).drift == "none"


def test_a_pool_without_the_opt_in_label_is_refused(nodepool) -> None:
    del nodepool["metadata"]["labels"][MANAGED_LABEL]
    with pytest.raises(NodePoolRefusedError, match="not opted in"):
        check_may_change(nodepool, None)


def test_a_pool_outside_the_allow_list_is_refused(nodepool) -> None:
    with pytest.raises(NodePoolRefusedError, match="not in allowed_nodepools"):
        check_may_change(nodepool, ["other-pool"])


def test_an_opted_in_listed_pool_is_accepted(nodepool) -> None:
    check_may_change(copy.deepcopy(nodepool), ["carbon-aware-batch"])


def test_a_garbled_prior_state_annotation_is_a_clear_error(nodepool) -> None:
    nodepool["metadata"]["annotations"] = {PRIOR_STATE_ANNOTATION: "{not json"}
    with pytest.raises(ValueError, match="inspect it and remove it by hand"):
        plan_restore(nodepool, NOW)
