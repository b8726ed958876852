from __future__ import annotations

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
    change_from_dict,
    parse_changes,
)

EVERY_CHANGE = [
    SetRequirement("node.kubernetes.io/instance-type", "NotIn", ("m5.large",)),
    SetRequirement("karpenter.k8s.aws/instance-cpu", "Gt", ("3",)),
    SetRequirement("topology.kubernetes.io/zone", "Exists"),
    SetRequirement("kubernetes.io/arch", "In", ("arm64", "amd64"), min_values=2),
    RemoveRequirement("kubernetes.io/os"),
    AllowArchitectures(("arm64",)),
    AllowCapacityTypes(("spot", "on-demand")),
    Pause(),
    Resume(),
    SetWeight(50),
    SetLimits({"cpu": "200", "memory": None}),
    SetDisruptionBudgets(({"nodes": "0", "reasons": ["Drifted"]},)),
    SetTemplateLabels({"team": "ml", "workload-class": None}),
    SetTaints(({"key": "carbon", "value": "flexible", "effect": "NoSchedule"},)),
]


@pytest.mark.parametrize("change", EVERY_CHANGE, ids=lambda c: c.type_name)
def test_every_change_round_trips_through_its_json_form(change) -> None:
    assert change_from_dict(change.to_dict()) == change


def test_changes_parse_from_plain_json_as_templated_params_give_them() -> None:
    changes = parse_changes('[{"type": "allow_architectures", "values": ["arm64"]}, {"type": "pause"}]')
    assert changes == (AllowArchitectures(("arm64",)), Pause())


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"type": "explode"}, "unknown change type 'explode'"),
        ({"values": ["arm64"]}, "must be an object with a 'type'"),
        ({"type": "allow_architectures", "values": ["x86"]}, "allow_architectures values must be a non-empty list"),
        ({"type": "allow_capacity_types", "values": []}, "allow_capacity_types values must be a non-empty list"),
        ({"type": "set_requirement", "key": "a", "operator": "Equals", "values": ["b"]}, "operator must be one of"),
        ({"type": "set_requirement", "key": "a", "operator": "In"}, "operator In needs at least one value"),
        ({"type": "set_requirement", "key": "a", "operator": "Gt", "values": ["x"]}, "exactly one non-negative"),
        ({"type": "set_requirement", "key": "a", "operator": "Exists", "values": ["x"]}, "takes no values"),
        ({"type": "set_requirement", "operator": "In", "values": ["x"]}, "missing field 'key'"),
        ({"type": "set_weight", "weight": 0}, "weight must be an integer from 1 to 100"),
        ({"type": "set_weight", "weight": "fifty"}, "weight must be an integer"),
        ({"type": "set_limits", "limits": {}}, "limits must name at least one resource"),
        ({"type": "set_limits", "limits": {"cpu": True}}, "must be a Kubernetes quantity"),
        ({"type": "set_taints", "taints": [{"key": "a", "effect": "Never"}]}, "effect must be one of"),
        ({"type": "set_disruption_budgets", "budgets": [{"reasons": ["Drifted"]}]}, "missing nodes"),
    ],
)
def test_bad_change_specs_fail_with_a_clear_value_error(spec, message) -> None:
    with pytest.raises(ValueError, match=message):
        parse_changes([spec])


def test_parse_error_names_the_position_of_the_bad_change() -> None:
    with pytest.raises(ValueError, match=r"changes\[1\]: unknown change type"):
        parse_changes([{"type": "pause"}, {"type": "nope"}])


def test_changes_must_be_a_list() -> None:
    with pytest.raises(ValueError, match="changes must be a list"):
        parse_changes({"type": "pause"})


def test_only_template_labels_and_taints_are_marked_as_drifting_every_node() -> None:
    drifting = {change.type_name for change in EVERY_CHANGE if change.drifts_nodes}
    assert drifting == {"set_template_labels", "set_taints"}


def test_integers_rendered_by_a_template_as_strings_are_accepted() -> None:
    assert change_from_dict({"type": "set_weight", "weight": "50"}) == SetWeight(50)
