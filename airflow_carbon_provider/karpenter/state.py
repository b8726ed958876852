"""What the provider stores on a NodePool: the opt-in label, prior values of the fields it changed, and times.

Everything lives in the NodePool's own ``metadata`` (never in ``spec.template``, which would drift every node, and
never under ``karpenter.sh/``). Because the record is written in the same patch as the change, a later task or
the retry of a crashed run can always put the pool back.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from airflow_carbon_provider.carbon.readings import parse_utc
from airflow_carbon_provider.karpenter.paths import (
    MISSING,
    FieldPath,
    element_position,
    format_path,
    get_path,
    missing_prefix,
)

if TYPE_CHECKING:
    from datetime import datetime

DOMAIN = "carbon-aware.airflow-provider.io"
MANAGED_LABEL = f"{DOMAIN}/managed"
PRIOR_STATE_ANNOTATION = f"{DOMAIN}/prior-state"
LAST_CHANGE_ANNOTATION = f"{DOMAIN}/last-change"
GATE_STATE_ANNOTATION = f"{DOMAIN}/gate-state"
STATE_VERSION = 1


@dataclass(frozen=True)
class FieldRecord:
    """One field's value before the provider first touched it, and the value the provider last wrote."""

    path: FieldPath
    prior: Any = MISSING
    position: int | None = None
    written: Any = MISSING

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"path": self.path}
        if self.prior is not MISSING:
            data["prior"] = self.prior
        if self.position is not None:
            data["position"] = self.position
        if self.written is not MISSING:
            data["written"] = self.written
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FieldRecord:
        return cls(
            path=list(data["path"]),
            prior=data.get("prior", MISSING),
            position=data.get("position"),
            written=data.get("written", MISSING),
        )

    @property
    def label(self) -> str:
        return format_path(self.path)


def _covers(outer: FieldPath, inner: FieldPath) -> bool:
    return len(outer) <= len(inner) and inner[: len(outer)] == outer


@dataclass(frozen=True)
class PriorState:
    """The ordered field records kept in the ``prior-state`` annotation."""

    records: tuple[FieldRecord, ...] = field(default=())

    @classmethod
    def of(cls, nodepool: dict[str, Any]) -> PriorState:
        text = annotations_of(nodepool).get(PRIOR_STATE_ANNOTATION)
        if not text:
            return cls()
        try:
            data = json.loads(text)
            if data.get("version") != STATE_VERSION:
                raise ValueError(f"unsupported version {data.get('version')!r}")
            return cls(tuple(FieldRecord.from_dict(item) for item in data["fields"]))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            name = nodepool.get("metadata", {}).get("name", "?")
            raise ValueError(
                f"NodePool {name}: annotation {PRIOR_STATE_ANNOTATION} is not a prior-state record this provider "
                f"wrote ({exc}); inspect it and remove it by hand"
            ) from exc

    def to_annotation(self) -> str:
        fields = [record.to_dict() for record in self.records]
        return json.dumps({"version": STATE_VERSION, "fields": fields}, sort_keys=True, separators=(",", ":"))

    def recorded(self, path: FieldPath) -> FieldRecord | None:
        """The record holding ``path`` itself (not an ancestor)."""
        return next((record for record in self.records if record.path == path), None)

    def prior_value(self, path: FieldPath) -> tuple[bool, Any]:
        """``(recorded, value)`` of ``path`` before the provider's first change, looking through recorded parents."""
        for record in self.records:
            if _covers(record.path, path):
                if record.prior is MISSING:
                    return True, MISSING
                return True, get_path(record.prior, path[len(record.path) :])
        return False, MISSING

    def remember(self, document: dict[str, Any], path: FieldPath) -> PriorState:
        """Record the current value of ``path`` unless it, or a map containing it, is already recorded.

        When parents of ``path`` are missing, the outermost missing one is recorded as absent, so restoring
        deletes what the change created instead of leaving an empty map behind.
        """
        if any(_covers(record.path, path) for record in self.records):
            return self
        target = missing_prefix(document, path)
        value = get_path(document, target)
        record = FieldRecord(
            path=target,
            prior=_copy(value),
            position=element_position(document, target) if value is not MISSING else None,
        )
        return PriorState((*self.records, record))

    def written_from(self, document: dict[str, Any]) -> PriorState:
        """Note what each field holds in ``document`` and drop records whose field is back at its prior value."""
        updated = []
        for record in self.records:
            value = get_path(document, record.path)
            if same_value(value, record.prior):
                continue
            updated.append(replace(record, written=_copy(value)))
        return PriorState(tuple(updated))


def annotations_of(nodepool: dict[str, Any]) -> dict[str, str]:
    return dict(nodepool.get("metadata", {}).get("annotations") or {})


def labels_of(nodepool: dict[str, Any]) -> dict[str, str]:
    return dict(nodepool.get("metadata", {}).get("labels") or {})


def last_change(nodepool: dict[str, Any]) -> datetime | None:
    text = annotations_of(nodepool).get(LAST_CHANGE_ANNOTATION)
    return parse_utc(text, LAST_CHANGE_ANNOTATION) if text else None


def _copy(value: Any) -> Any:
    return value if value is MISSING else copy.deepcopy(value)


def same_value(left: Any, right: Any) -> bool:
    """Equality that treats :data:`MISSING` (field absent) as a value of its own."""
    if left is MISSING or right is MISSING:
        return left is right
    return bool(left == right)
