"""Read a NodePool's status conditions after a change: a patch the API server accepts can still leave the
pool NotReady (Karpenter's runtime validation), and a not-Ready pool is not used for scheduling."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

WATCHED = ("Ready", "ValidationSucceeded")


@dataclass(frozen=True)
class ConditionReport:
    """Ready/ValidationSucceeded as Karpenter last reported them, and whether that report covers our change."""

    generation: int | None
    conditions: dict[str, dict[str, Any]]

    @classmethod
    def of(cls, nodepool: dict[str, Any]) -> ConditionReport:
        found = {
            item["type"]: item
            for item in (nodepool.get("status") or {}).get("conditions") or []
            if isinstance(item, dict) and item.get("type") in WATCHED
        }
        generation = nodepool.get("metadata", {}).get("generation")
        return cls(generation if isinstance(generation, int) else None, found)

    @property
    def current(self) -> bool:
        """True once Karpenter has observed the NodePool's current generation."""
        ready = self.conditions.get("Ready")
        if ready is None or self.generation is None:
            return False
        observed = ready.get("observedGeneration")
        return isinstance(observed, int) and observed >= self.generation

    @property
    def problems(self) -> list[str]:
        return [
            f"{kind}=False ({item.get('reason', '')}: {item.get('message', '')})"
            for kind, item in sorted(self.conditions.items())
            if item.get("status") == "False"
        ]

    def to_dict(self) -> dict[str, Any]:
        return {
            "current": self.current,
            "generation": self.generation,
            "status": {kind: item.get("status") for kind, item in sorted(self.conditions.items())},
            "problems": self.problems,
        }
