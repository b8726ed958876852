"""Turn a live NodePool plus declarative changes (or a restore) into the exact object and merge patch to send.

Pure functions over dicts: the hook calls them again on a fresh object after a 409, so what is re-applied
is the change, never an old request body.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from airflow_carbon_provider.karpenter.diff import diff_objects
from airflow_carbon_provider.karpenter.errors import NodePoolRefusedError
from airflow_carbon_provider.karpenter.mergepatch import create_merge_patch
from airflow_carbon_provider.karpenter.paths import MISSING, delete_path, get_path, set_path
from airflow_carbon_provider.karpenter.state import (
    LAST_CHANGE_ANNOTATION,
    MANAGED_LABEL,
    PRIOR_STATE_ANNOTATION,
    PriorState,
    labels_of,
    last_change,
    same_value,
)

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from airflow_carbon_provider.karpenter.changes import Change

DRIFT_ALL_FIELDS = (
    ("template", "metadata"),
    ("template", "spec", "taints"),
    ("template", "spec", "startupTaints"),
    ("template", "spec", "nodeClassRef"),
    ("template", "spec", "expireAfter"),
    ("template", "spec", "terminationGracePeriod"),
)

NODEPOOL_KIND = "airflow_carbon_provider.nodepool/v1"
"""``kind`` of the NodePool operators' XCom summary, which the Carbon views show as the run's pool changes."""


class Outcome(StrEnum):
    CHANGED = "changed"
    NOOP = "noop"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class NodePoolUpdate:
    """What one apply or restore does to one NodePool."""

    name: str
    action: str
    outcome: Outcome
    before: dict[str, Any]
    after: dict[str, Any]
    reason: str = ""
    kept_fields: tuple[str, ...] = field(default=())

    @property
    def patch(self) -> dict[str, Any] | None:
        """The merge patch, guarded by the ``resourceVersion`` it was computed from; None when nothing changes.

        A NOOP or SKIPPED plan can still carry a metadata-only patch (e.g. the carbon gate's annotation).
        """
        patch = create_merge_patch(self.before, self.after)
        if not patch:
            return None
        version = self.before.get("metadata", {}).get("resourceVersion")
        if version is not None:
            patch.setdefault("metadata", {})["resourceVersion"] = version
        return patch

    @property
    def drift(self) -> str:
        """Which existing nodes Karpenter will replace because of this change."""
        before, after = self.before.get("spec", {}), self.after.get("spec", {})
        for fields in DRIFT_ALL_FIELDS:
            if not same_value(get_path(before, list(fields)), get_path(after, list(fields))):
                return "all nodes of the pool (template hash changes)"
        requirements = ["template", "spec", "requirements"]
        if not same_value(get_path(before, requirements), get_path(after, requirements)):
            return "nodes that no longer satisfy the requirements"
        return "none"

    def diff(self) -> list[dict[str, Any]]:
        return diff_objects(_comparable(self.before), _comparable(self.after))

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe summary for XCom and logs."""
        return {
            "kind": NODEPOOL_KIND,
            "nodepool": self.name,
            "action": self.action,
            "outcome": self.outcome.value,
            "reason": self.reason,
            "patch": self.patch,
            "diff": self.diff(),
            "drift": self.drift if self.outcome is Outcome.CHANGED else "none",
            "kept_fields": list(self.kept_fields),
        }


def _comparable(nodepool: dict[str, Any]) -> dict[str, Any]:
    return {"metadata": nodepool.get("metadata", {}), "spec": nodepool.get("spec", {})}


def nodepool_name(nodepool: dict[str, Any]) -> str:
    return str(nodepool.get("metadata", {}).get("name", ""))


def check_may_change(nodepool: dict[str, Any], allowed_nodepools: Sequence[str] | None) -> None:
    """Refuse a NodePool that is not opted in by its label, or not in the caller's allow-list."""
    name = nodepool_name(nodepool)
    if allowed_nodepools is not None and name not in allowed_nodepools:
        raise NodePoolRefusedError(
            f"NodePool {name!r} is not in allowed_nodepools {sorted(allowed_nodepools)}; refusing to change it"
        )
    if labels_of(nodepool).get(MANAGED_LABEL) != "true":
        raise NodePoolRefusedError(
            f'NodePool {name!r} is not opted in: set the label {MANAGED_LABEL}: "true" on the pools this '
            "provider may change; refusing to change it"
        )


def _set_annotation(nodepool: dict[str, Any], key: str, value: str | None) -> None:
    path: list[Any] = ["metadata", "annotations", key]
    if value is None:
        delete_path(nodepool, path)
        if get_path(nodepool, ["metadata", "annotations"]) == {}:
            delete_path(nodepool, ["metadata", "annotations"])
    else:
        set_path(nodepool, path, value)


def _stamp(nodepool: dict[str, Any], prior: PriorState, now: datetime) -> None:
    _set_annotation(nodepool, PRIOR_STATE_ANNOTATION, prior.to_annotation() if prior.records else None)
    _set_annotation(nodepool, LAST_CHANGE_ANNOTATION, now.isoformat())


def plan_apply(
    nodepool: dict[str, Any],
    changes: Sequence[Change],
    now: datetime,
    min_interval: timedelta = timedelta(0),
    annotations: Mapping[str, str] | None = None,
) -> NodePoolUpdate:
    """Apply ``changes``, recording the prior value of every touched field in the ``prior-state`` annotation.

    Re-applying changes that are already in place is a no-op; a real change within ``min_interval`` of the
    pool's last change is skipped (anti-flap), not queued. ``annotations`` (the provider's own bookkeeping, e.g.
    the carbon gate) are written whatever the outcome.
    """
    name = nodepool_name(nodepool)
    before = copy.deepcopy(nodepool)
    unchanged = copy.deepcopy(nodepool)
    for key, value in (annotations or {}).items():
        _set_annotation(unchanged, key, value)
    after = copy.deepcopy(unchanged)
    prior = PriorState.of(before)
    for change in changes:
        for path in change.paths():
            prior = prior.remember(after, path)
        change.apply(after, prior.prior_value)
    if after.get("spec") == before.get("spec"):
        return NodePoolUpdate(
            name, "apply", Outcome.NOOP, before, unchanged, reason="the NodePool already has these values"
        )
    previous = last_change(before)
    if previous is not None and now - previous < min_interval:
        wait = min_interval - (now - previous)
        return NodePoolUpdate(
            name,
            "apply",
            Outcome.SKIPPED,
            before,
            unchanged,
            reason=f"last change at {previous.isoformat()} is within min_interval {min_interval}; "
            f"skipped (not queued), the next change is allowed in {wait}",
        )
    _stamp(after, prior.written_from(after), now)
    return NodePoolUpdate(name, "apply", Outcome.CHANGED, before, after, reason="changes applied")


def plan_restore(nodepool: dict[str, Any], now: datetime) -> NodePoolUpdate:
    """Put back every recorded field and drop the ``prior-state`` annotation.

    A field someone else changed after the provider wrote it is left as it is and reported in ``kept_fields``
    (their write wins over ours). Restore is never held back by the anti-flap interval.
    """
    name = nodepool_name(nodepool)
    before = copy.deepcopy(nodepool)
    prior = PriorState.of(before)
    if not prior.records:
        return NodePoolUpdate(name, "restore", Outcome.NOOP, before, before, reason="nothing recorded to restore")
    after = copy.deepcopy(nodepool)
    kept = []
    for record in reversed(prior.records):
        if not same_value(get_path(after, record.path), record.written):
            kept.append(record.label)
            continue
        if record.prior is MISSING:
            delete_path(after, record.path)
        else:
            set_path(after, record.path, copy.deepcopy(record.prior), record.position)
    _stamp(after, PriorState(), now)
    reason = "restored the recorded values"
    if kept:
        reason += f"; left {', '.join(kept)} as changed by someone else since this provider wrote it"
    return NodePoolUpdate(name, "restore", Outcome.CHANGED, before, after, reason=reason, kept_fields=tuple(kept))
