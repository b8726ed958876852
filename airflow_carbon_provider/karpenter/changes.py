"""Declarative NodePool changes: small frozen values that say what to change, not how to patch it.

Each change names the fields it touches (so their prior values can be recorded) and applies itself to a copy
of the NodePool. Every change also has a plain-JSON form (``{"type": "allow_architectures", "values": ["arm64"]}``)
so DAG params and templated fields can carry it. Bad specs fail with ``ValueError`` when the change is built.

Drift: changing ``spec.template.metadata.labels`` or ``spec.template.spec.taints`` changes the NodePool hash, and
Karpenter then replaces **every node** of the pool (within disruption budgets). Requirement changes drift only
nodes that no longer satisfy them; limits, weight and disruption settings never drift nodes.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from airflow_carbon_provider.karpenter.paths import MISSING, FieldPath, delete_path, get_path, set_path

REQUIREMENTS: FieldPath = ["spec", "template", "spec", "requirements"]
OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt", "Gte", "Lte")
ARCHITECTURES = ("amd64", "arm64")
CAPACITY_TYPES = ("on-demand", "spot", "reserved")
TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
ARCH_KEY = "kubernetes.io/arch"
CAPACITY_TYPE_KEY = "karpenter.sh/capacity-type"
PAUSE_LIMITS = {"cpu": "0"}

PriorLookup = Callable[[FieldPath], tuple[bool, Any]]
"""``(recorded, value)``: whether the provider recorded the field's original value, and that value (or MISSING)."""


def _string(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name} must be a non-empty string, got {value!r}")
    return value


def _strings(values: Any, name: str) -> tuple[str, ...]:
    if isinstance(values, str) or not isinstance(values, Sequence):
        raise ValueError(f"{name} must be a list of strings, got {values!r}")
    return tuple(_string(value, f"{name}[{index}]") for index, value in enumerate(values))


def _integer(value: Any) -> Any:
    """Rendered templates give strings: accept ``"50"`` where an integer is expected (anything else unchanged)."""
    return int(value) if isinstance(value, str) and value.strip().isdigit() else value


def _quantity(value: Any, name: str) -> str:
    if isinstance(value, bool) or not isinstance(value, int | str) or value == "":
        raise ValueError(f"{name} must be a Kubernetes quantity such as '100', '64Gi' or 0, got {value!r}")
    return str(value)


@dataclass(frozen=True)
class Change:
    """Base of all changes: the fields it touches and how it rewrites them."""

    type_name: ClassVar[str] = ""
    drifts_nodes: ClassVar[bool] = False

    def paths(self) -> list[FieldPath]:
        raise NotImplementedError

    def apply(self, nodepool: dict[str, Any], prior: PriorLookup) -> None:
        """Rewrite the touched fields of ``nodepool`` in place."""
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:
        raise NotImplementedError


@dataclass(frozen=True)
class SetRequirement(Change):
    """Set the requirement for ``key``; the other requirements keep their values and order."""

    key: str
    operator: str
    values: tuple[str, ...] = ()
    min_values: int | None = None
    type_name: ClassVar[str] = "set_requirement"

    def __post_init__(self) -> None:
        _string(self.key, "key")
        if self.operator not in OPERATORS:
            raise ValueError(f"operator must be one of {', '.join(OPERATORS)}; got {self.operator!r}")
        object.__setattr__(self, "values", _strings(self.values, "values"))
        if self.operator in ("Exists", "DoesNotExist") and self.values:
            raise ValueError(f"operator {self.operator} takes no values, got {list(self.values)}")
        if self.operator == "In" and not self.values:
            raise ValueError(f"operator In needs at least one value for key {self.key!r}")
        if self.operator in ("Gt", "Lt", "Gte", "Lte") and (len(self.values) != 1 or not self.values[0].isdigit()):
            raise ValueError(
                f"operator {self.operator} needs exactly one non-negative integer value, got {self.values}"
            )
        if self.min_values is not None and not (isinstance(self.min_values, int) and 1 <= self.min_values <= 50):
            raise ValueError(f"min_values must be an integer from 1 to 50, got {self.min_values!r}")

    def paths(self) -> list[FieldPath]:
        return [[*REQUIREMENTS, {"key": self.key}]]

    def requirement(self) -> dict[str, Any]:
        item: dict[str, Any] = {"key": self.key, "operator": self.operator}
        if self.values:
            item["values"] = list(self.values)
        if self.min_values is not None:
            item["minValues"] = self.min_values
        return item

    def apply(self, nodepool: dict[str, Any], prior: PriorLookup) -> None:
        set_path(nodepool, self.paths()[0], self.requirement())

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"type": self.type_name, "key": self.key, "operator": self.operator}
        if self.values:
            data["values"] = list(self.values)
        if self.min_values is not None:
            data["min_values"] = self.min_values
        return data


@dataclass(frozen=True)
class RemoveRequirement(Change):
    """Drop the requirement for ``key`` (no-op when there is none)."""

    key: str
    type_name: ClassVar[str] = "remove_requirement"

    def __post_init__(self) -> None:
        _string(self.key, "key")

    def paths(self) -> list[FieldPath]:
        return [[*REQUIREMENTS, {"key": self.key}]]

    def apply(self, nodepool: dict[str, Any], prior: PriorLookup) -> None:
        delete_path(nodepool, self.paths()[0])

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type_name, "key": self.key}


@dataclass(frozen=True)
class _AllowValues(Change):
    """Restrict one well-known requirement to the listed values."""

    values: tuple[str, ...]
    requirement_key: ClassVar[str] = ""
    allowed: ClassVar[tuple[str, ...]] = ()

    def __post_init__(self) -> None:
        values = _strings(self.values, "values")
        unknown = sorted(set(values) - set(self.allowed))
        if not values or unknown:
            raise ValueError(
                f"{self.type_name} values must be a non-empty list from {', '.join(self.allowed)}; got {list(values)}"
            )
        object.__setattr__(self, "values", values)

    def _as_requirement(self) -> SetRequirement:
        return SetRequirement(self.requirement_key, "In", self.values)

    def paths(self) -> list[FieldPath]:
        return self._as_requirement().paths()

    def apply(self, nodepool: dict[str, Any], prior: PriorLookup) -> None:
        self._as_requirement().apply(nodepool, prior)

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type_name, "values": list(self.values)}


@dataclass(frozen=True)
class AllowArchitectures(_AllowValues):
    """Only these CPU architectures (``kubernetes.io/arch In [...]``), e.g. arm64 when the grid is dirty."""

    type_name: ClassVar[str] = "allow_architectures"
    requirement_key: ClassVar[str] = ARCH_KEY
    allowed: ClassVar[tuple[str, ...]] = ARCHITECTURES


@dataclass(frozen=True)
class AllowCapacityTypes(_AllowValues):
    """Only these capacity types (``karpenter.sh/capacity-type In [...]``), e.g. spot when the grid is clean."""

    type_name: ClassVar[str] = "allow_capacity_types"
    requirement_key: ClassVar[str] = CAPACITY_TYPE_KEY
    allowed: ClassVar[tuple[str, ...]] = CAPACITY_TYPES


@dataclass(frozen=True)
class SetLimits(Change):
    """Set (or with ``None`` remove) the named resource limits; other limits are untouched. Never drifts nodes."""

    limits: tuple[tuple[str, str | None], ...]
    type_name: ClassVar[str] = "set_limits"

    def __init__(self, limits: Mapping[str, int | str | None] | Sequence[tuple[str, int | str | None]]) -> None:
        items = list(limits.items()) if isinstance(limits, Mapping) else list(limits)
        if not items:
            raise ValueError("limits must name at least one resource, e.g. {'cpu': '100'}")
        normalized = tuple(
            (_string(name, "limits key"), None if value is None else _quantity(value, f"limits[{name!r}]"))
            for name, value in items
        )
        object.__setattr__(self, "limits", normalized)

    def paths(self) -> list[FieldPath]:
        return [["spec", "limits", name] for name, _ in self.limits]

    def apply(self, nodepool: dict[str, Any], prior: PriorLookup) -> None:
        for (_, value), path in zip(self.limits, self.paths(), strict=True):
            if value is None:
                delete_path(nodepool, path)
            else:
                set_path(nodepool, path, value)

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type_name, "limits": dict(self.limits)}


@dataclass(frozen=True)
class Pause(Change):
    """Stop new nodes in this pool (``limits.cpu: "0"``). Existing nodes keep running; nothing drifts."""

    type_name: ClassVar[str] = "pause"

    def paths(self) -> list[FieldPath]:
        return [["spec", "limits", name] for name in PAUSE_LIMITS]

    def apply(self, nodepool: dict[str, Any], prior: PriorLookup) -> None:
        for name, value in PAUSE_LIMITS.items():
            set_path(nodepool, ["spec", "limits", name], value)

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type_name}


@dataclass(frozen=True)
class Resume(Change):
    """Undo this provider's :class:`Pause`: the limits go back to their recorded values.

    A pool the provider did not pause is left alone (a human's ``cpu: 0`` is not ours to lift).
    """

    type_name: ClassVar[str] = "resume"

    def paths(self) -> list[FieldPath]:
        return Pause().paths()

    def apply(self, nodepool: dict[str, Any], prior: PriorLookup) -> None:
        for path in self.paths():
            recorded, value = prior(path)
            if not recorded or get_path(nodepool, path) != PAUSE_LIMITS[str(path[-1])]:
                continue
            if value is MISSING:
                delete_path(nodepool, path)
            else:
                set_path(nodepool, path, copy.deepcopy(value))
        limits_recorded, limits = prior(["spec", "limits"])
        if limits_recorded and limits is MISSING and get_path(nodepool, ["spec", "limits"]) == {}:
            delete_path(nodepool, ["spec", "limits"])

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type_name}


@dataclass(frozen=True)
class SetWeight(Change):
    """Pool priority 1-100 (higher is tried first). Never drifts nodes."""

    weight: int
    type_name: ClassVar[str] = "set_weight"

    def __post_init__(self) -> None:
        if isinstance(self.weight, bool) or not isinstance(self.weight, int) or not 1 <= self.weight <= 100:
            raise ValueError(f"weight must be an integer from 1 to 100, got {self.weight!r}")

    def paths(self) -> list[FieldPath]:
        return [["spec", "weight"]]

    def apply(self, nodepool: dict[str, Any], prior: PriorLookup) -> None:
        set_path(nodepool, ["spec", "weight"], self.weight)

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type_name, "weight": self.weight}


def _dicts(items: Any, name: str, required: tuple[str, ...]) -> tuple[dict[str, Any], ...]:
    if isinstance(items, str | Mapping) or not isinstance(items, Sequence):
        raise ValueError(f"{name} must be a list of objects, got {items!r}")
    result = []
    for index, item in enumerate(items):
        if not isinstance(item, Mapping):
            raise ValueError(f"{name}[{index}] must be an object, got {item!r}")
        missing = [key for key in required if key not in item]
        if missing:
            raise ValueError(f"{name}[{index}] is missing {', '.join(missing)}")
        result.append(copy.deepcopy(dict(item)))
    return tuple(result)


@dataclass(frozen=True)
class SetDisruptionBudgets(Change):
    """Replace ``spec.disruption.budgets`` (e.g. ``[{"nodes": "0", "reasons": ["Drifted"]}]`` holds drift back)."""

    budgets: tuple[dict[str, Any], ...] = field(hash=False)
    type_name: ClassVar[str] = "set_disruption_budgets"

    def __post_init__(self) -> None:
        object.__setattr__(self, "budgets", _dicts(self.budgets, "budgets", ("nodes",)))

    def paths(self) -> list[FieldPath]:
        return [["spec", "disruption", "budgets"]]

    def apply(self, nodepool: dict[str, Any], prior: PriorLookup) -> None:
        set_path(nodepool, self.paths()[0], [copy.deepcopy(budget) for budget in self.budgets])

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type_name, "budgets": [copy.deepcopy(budget) for budget in self.budgets]}


@dataclass(frozen=True)
class SetTemplateLabels(Change):
    """Set (``None`` removes) labels of the nodes this pool creates. **Drift: replaces every node of the pool.**"""

    labels: tuple[tuple[str, str | None], ...]
    type_name: ClassVar[str] = "set_template_labels"
    drifts_nodes: ClassVar[bool] = True

    def __init__(self, labels: Mapping[str, str | None] | Sequence[tuple[str, str | None]]) -> None:
        items = list(labels.items()) if isinstance(labels, Mapping) else list(labels)
        if not items:
            raise ValueError("labels must name at least one label")
        for key, value in items:
            _string(key, "labels key")
            if value is not None and not isinstance(value, str):
                raise ValueError(f"labels[{key!r}] must be a string or None, got {value!r}")
        object.__setattr__(self, "labels", tuple(items))

    def paths(self) -> list[FieldPath]:
        return [["spec", "template", "metadata", "labels", key] for key, _ in self.labels]

    def apply(self, nodepool: dict[str, Any], prior: PriorLookup) -> None:
        for (_, value), path in zip(self.labels, self.paths(), strict=True):
            if value is None:
                delete_path(nodepool, path)
            else:
                set_path(nodepool, path, value)

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type_name, "labels": dict(self.labels)}


@dataclass(frozen=True)
class SetTaints(Change):
    """Replace the taints of the nodes this pool creates. **Drift: replaces every node of the pool.**"""

    taints: tuple[dict[str, Any], ...] = field(hash=False)
    type_name: ClassVar[str] = "set_taints"
    drifts_nodes: ClassVar[bool] = True

    def __post_init__(self) -> None:
        taints = _dicts(self.taints, "taints", ("key", "effect"))
        for index, taint in enumerate(taints):
            if taint["effect"] not in TAINT_EFFECTS:
                raise ValueError(f"taints[{index}].effect must be one of {', '.join(TAINT_EFFECTS)}")
        object.__setattr__(self, "taints", taints)

    def paths(self) -> list[FieldPath]:
        return [["spec", "template", "spec", "taints"]]

    def apply(self, nodepool: dict[str, Any], prior: PriorLookup) -> None:
        set_path(nodepool, self.paths()[0], [copy.deepcopy(taint) for taint in self.taints])

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type_name, "taints": [copy.deepcopy(taint) for taint in self.taints]}


_BUILDERS: dict[str, Callable[[dict[str, Any]], Change]] = {
    SetRequirement.type_name: lambda d: SetRequirement(
        d["key"], d["operator"], d.get("values", ()), _integer(d.get("min_values"))
    ),
    RemoveRequirement.type_name: lambda d: RemoveRequirement(d["key"]),
    AllowArchitectures.type_name: lambda d: AllowArchitectures(d["values"]),
    AllowCapacityTypes.type_name: lambda d: AllowCapacityTypes(d["values"]),
    SetLimits.type_name: lambda d: SetLimits(d["limits"]),
    Pause.type_name: lambda d: Pause(),
    Resume.type_name: lambda d: Resume(),
    SetWeight.type_name: lambda d: SetWeight(_integer(d["weight"])),
    SetDisruptionBudgets.type_name: lambda d: SetDisruptionBudgets(d["budgets"]),
    SetTemplateLabels.type_name: lambda d: SetTemplateLabels(d["labels"]),
    SetTaints.type_name: lambda d: SetTaints(d["taints"]),
}
CHANGE_TYPES = tuple(_BUILDERS)


def change_from_dict(data: Mapping[str, Any]) -> Change:
    """Build a change from its JSON form; unknown types and missing fields are ``ValueError``s."""
    if not isinstance(data, Mapping) or "type" not in data:
        raise ValueError(f"a change must be an object with a 'type' (one of {', '.join(CHANGE_TYPES)}); got {data!r}")
    builder = _BUILDERS.get(str(data["type"]))
    if builder is None:
        raise ValueError(f"unknown change type {data['type']!r}; allowed: {', '.join(CHANGE_TYPES)}")
    try:
        return builder(dict(data))
    except KeyError as exc:
        raise ValueError(f"change {data['type']!r} is missing field {exc.args[0]!r}") from exc
    except TypeError as exc:
        raise ValueError(f"change {data['type']!r} is malformed: {exc}") from exc


def parse_changes(items: Any, name: str = "changes") -> tuple[Change, ...]:
    """Changes given as :class:`Change` objects or their JSON form (a list, or a JSON string of one)."""
    if isinstance(items, str):
        try:
            items = json.loads(items)
        except ValueError as exc:
            raise ValueError(f"{name} given as a string must be a JSON list of changes: {exc}") from exc
    if isinstance(items, str | Mapping) or not isinstance(items, Sequence):
        raise ValueError(f"{name} must be a list of changes, got {items!r}")
    parsed = []
    for index, item in enumerate(items):
        try:
            parsed.append(item if isinstance(item, Change) else change_from_dict(item))
        except ValueError as exc:
            raise ValueError(f"{name}[{index}]: {exc}") from exc
    return tuple(parsed)
