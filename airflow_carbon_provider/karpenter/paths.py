"""Addresses of the NodePool fields a change touches, and reading/writing a document through them.

A path is a list of segments: a string selects a map key, ``{"key": k}`` selects the element of a list whose
``key`` is ``k`` (how requirements are identified). Paths are plain JSON so they can be stored in an annotation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Sequence

Segment = str | dict[str, str]
FieldPath = list[Segment]  # a field address, e.g. ["spec", "limits", "cpu"] (not a file path)

MISSING: Any = object()


def _element_index(items: list[Any], selector: dict[str, str]) -> int | None:
    key = selector["key"]
    for index, item in enumerate(items):
        if isinstance(item, dict) and item.get("key") == key:
            return index
    return None


def get_path(document: Any, path: Sequence[Segment]) -> Any:
    """The value at ``path``, or :data:`MISSING`."""
    node = document
    for segment in path:
        if isinstance(segment, dict):
            if not isinstance(node, list):
                return MISSING
            index = _element_index(node, segment)
            if index is None:
                return MISSING
            node = node[index]
        else:
            if not isinstance(node, dict) or segment not in node:
                return MISSING
            node = node[segment]
    return node


def element_position(document: Any, path: Sequence[Segment]) -> int | None:
    """For a path ending in a list selector: the element's index in its list (None when absent)."""
    if not path or not isinstance(path[-1], dict):
        return None
    parent = get_path(document, path[:-1])
    return _element_index(parent, path[-1]) if isinstance(parent, list) else None


def missing_prefix(document: Any, path: Sequence[Segment]) -> FieldPath:
    """The shortest prefix of ``path`` that does not exist in ``document`` (``path`` itself when all parents do)."""
    for length in range(1, len(path) + 1):
        if get_path(document, path[:length]) is MISSING:
            return list(path[:length])
    return list(path)


def set_path(document: dict[str, Any], path: FieldPath, value: Any, position: int | None = None) -> None:
    """Write ``value`` at ``path``, creating missing maps and lists; a new list element goes to ``position``."""
    node: Any = document
    for depth, segment in enumerate(path[:-1]):
        following = path[depth + 1]
        if isinstance(segment, dict):
            index = _element_index(node, segment)
            if index is None:
                node.append({"key": segment["key"]})
                index = len(node) - 1
            node = node[index]
        else:
            if segment not in node:
                node[segment] = [] if isinstance(following, dict) else {}
            node = node[segment]
    last = path[-1]
    if isinstance(last, dict):
        index = _element_index(node, last)
        if index is not None:
            node[index] = value
        elif position is None:
            node.append(value)
        else:
            node.insert(min(position, len(node)), value)
    else:
        node[last] = value


def delete_path(document: dict[str, Any], path: FieldPath) -> None:
    """Remove the value at ``path`` if it exists."""
    parent = get_path(document, path[:-1])
    last = path[-1]
    if isinstance(last, dict):
        if isinstance(parent, list):
            index = _element_index(parent, last)
            if index is not None:
                del parent[index]
    elif isinstance(parent, dict):
        parent.pop(last, None)


def format_path(path: FieldPath) -> str:
    """Human form for logs and errors, e.g. ``spec.template.spec.requirements[key=kubernetes.io/arch]``."""
    text = ""
    for segment in path:
        if isinstance(segment, dict):
            text += f"[key={segment['key']}]"
        else:
            text += f".{segment}" if text else segment
    return text
