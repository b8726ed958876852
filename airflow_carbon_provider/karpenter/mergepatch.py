"""RFC 7386 JSON merge patch: apply one, and compute the smallest one between two documents.

Kubernetes uses this patch type for custom resources (strategic merge patch is refused with 415). Lists are
replaced whole and ``null`` deletes a key, which is why list-valued fields are always sent complete.
"""

from __future__ import annotations

import copy
from typing import Any


def apply_merge_patch(target: Any, patch: Any) -> Any:
    """The document ``target`` becomes after ``patch`` (neither argument is modified)."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result: dict[str, Any] = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = apply_merge_patch(result.get(key), value)
    return result


def create_merge_patch(original: dict[str, Any], modified: dict[str, Any]) -> dict[str, Any]:
    """A merge patch that turns ``original`` into ``modified``, holding only what differs."""
    patch: dict[str, Any] = {}
    for key in original.keys() - modified.keys():
        patch[key] = None
    for key, value in modified.items():
        if key not in original:
            patch[key] = copy.deepcopy(value)
        elif isinstance(value, dict) and isinstance(original[key], dict):
            nested = create_merge_patch(original[key], value)
            if nested:
                patch[key] = nested
        elif value != original[key]:
            patch[key] = copy.deepcopy(value)
    return patch
