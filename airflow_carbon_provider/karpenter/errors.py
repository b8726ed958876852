"""Errors of the NodePool machinery, each saying what to do about it."""

from __future__ import annotations


class NodePoolRefusedError(ValueError):
    """The NodePool is not one this provider may change (not opted in, or not in the allow-list)."""


class NodePoolValidationError(ValueError):
    """The NodePool after the change would violate the NodePool CRD; nothing was sent."""

    def __init__(self, name: str, violations: list[str]) -> None:
        self.violations = violations
        super().__init__(f"NodePool {name}: the change would be rejected by the CRD: " + "; ".join(violations))


class KarpenterApiError(RuntimeError):
    """The Kubernetes API refused a NodePool request."""

    def __init__(self, message: str, status: int | None = None, reason: str = "") -> None:
        self.status = status
        self.reason = reason
        super().__init__(message)


class KarpenterApiVersionError(KarpenterApiError):
    """The cluster does not serve ``karpenter.sh/v1``."""


class NodePoolNotReadyError(RuntimeError):
    """After the change the NodePool reports ``Ready`` or ``ValidationSucceeded`` = False."""
