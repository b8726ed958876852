"""A readable field-by-field difference between two NodePools, for logs and XCom."""

from __future__ import annotations

from typing import Any


def diff_objects(before: Any, after: Any, prefix: str = "") -> list[dict[str, Any]]:
    """Changed leaves as ``{"path", "before", "after"}``; lists compare whole (as merge patch sends them).

    An absent side is reported as ``None``.
    """
    if isinstance(before, dict) and isinstance(after, dict):
        entries = []
        for key in sorted(before.keys() | after.keys()):
            path = f"{prefix}.{key}" if prefix else key
            entries.extend(diff_objects(before.get(key), after.get(key), path))
        return entries
    if before == after:
        return []
    return [{"path": prefix, "before": before, "after": after}]


def format_diff(entries: list[dict[str, Any]]) -> str:
    return "\n".join(f"  {entry['path']}: {entry['before']!r} -> {entry['after']!r}" for entry in entries) or "  (none)"
