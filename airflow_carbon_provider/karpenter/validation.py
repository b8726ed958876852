"""Validate a NodePool against the real NodePool CRD before anything is sent: OpenAPI v3 schema and CEL rules.

The schema is checked with ``jsonschema``; every ``x-kubernetes-validations`` rule is evaluated with cel-python,
with ``self`` bound to the value at the rule's schema node (and ``oldSelf`` to the old value for transition rules,
which run only when there is an old value, as on an update). The Kubernetes CEL library's ``find`` (first regex
match, RE2 syntax) is not part of standard CEL and is implemented here with google-re2.

Like an API server with validation ratcheting (KEP-4008), CEL rules are not re-evaluated on a value equal to
the old object's (the schema is still checked whole). Not covered (the server still checks these): CRD
defaulting, pruning of unknown fields, list-map/set uniqueness, CEL cost limits, and Karpenter's own runtime
validation (which shows up as ``ValidationSucceeded=False`` on the pool after the patch).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import celpy
import jsonschema
import re2  # type: ignore[import-untyped]
import yaml
from celpy import celtypes
from celpy.adapter import json_to_cel
from celpy.evaluation import CELEvalError

from airflow_carbon_provider.karpenter.bundled import BUNDLED_CRDS, DEFAULT_CRD, bundled_crd

if TYPE_CHECKING:
    from pathlib import Path


def _find(value: celtypes.StringType, pattern: celtypes.StringType) -> celtypes.StringType:
    """Kubernetes CEL ``<string>.find(<regex>)``: the first match, or the empty string."""
    match = re2.search(str(pattern), str(value))
    return celtypes.StringType(match.group(0) if match else "")


CEL_FUNCTIONS: dict[str, Any] = {"find": _find}


@dataclass(frozen=True)
class CelRule:
    """One ``x-kubernetes-validations`` rule at one schema node (``*`` = any list item, ``{}`` = any map value)."""

    schema_path: tuple[str, ...]
    rule: str
    message: str
    program: Any = field(compare=False, repr=False)

    @property
    def is_transition(self) -> bool:
        return "oldSelf" in self.rule


@dataclass(frozen=True)
class SkippedRule:
    schema_path: tuple[str, ...]
    rule: str
    reason: str


class NodePoolValidator:
    """Checks NodePool objects against one version of the NodePool CRD."""

    def __init__(self, crd: dict[str, Any], version: str = "v1", source: str = "<crd>") -> None:
        versions = {item["name"]: item for item in crd.get("spec", {}).get("versions", [])}
        if version not in versions:
            raise ValueError(f"{source} has no version {version!r} (it has {sorted(versions)})")
        self.source = source
        self.schema: dict[str, Any] = versions[version]["schema"]["openAPIV3Schema"]
        self._schema_validator = jsonschema.Draft4Validator(self.schema)
        self.rules: list[CelRule] = []
        self.skipped_rules: list[SkippedRule] = []
        self._compile(self.schema, ())

    @classmethod
    def from_file(cls, path: str | Path, version: str = "v1") -> NodePoolValidator:
        with open(path, encoding="utf-8") as handle:
            return cls(yaml.safe_load(handle), version, source=str(path))

    @classmethod
    def bundled(cls, name: str = DEFAULT_CRD) -> NodePoolValidator:
        """The CRD shipped in this package: ``core`` (Karpenter v1.14.1) or ``aws`` (AWS provider v1.14.1)."""
        if name not in BUNDLED_CRDS:
            bundled_crd(name)  # raises the ValueError naming what is allowed
        return _bundled(name)

    def _compile(self, node: dict[str, Any], path: tuple[str, ...]) -> None:
        environment = celpy.Environment()
        for item in node.get("x-kubernetes-validations", []):
            rule, message = item["rule"], item.get("message") or f"failed rule: {item['rule']}"
            try:
                program = environment.program(environment.compile(rule), functions=CEL_FUNCTIONS)
            except Exception as exc:
                self.skipped_rules.append(SkippedRule(path, rule, f"{type(exc).__name__}: {exc}"))
                continue
            self.rules.append(CelRule(path, rule, message, program))
        for name, child in node.get("properties", {}).items():
            self._compile(child, (*path, name))
        if isinstance(node.get("items"), dict):
            self._compile(node["items"], (*path, "*"))
        if isinstance(node.get("additionalProperties"), dict):
            self._compile(node["additionalProperties"], (*path, "{}"))

    def validate(self, nodepool: dict[str, Any], old: dict[str, Any] | None = None) -> list[str]:
        """Every violation as ``"<field>: <message>"``; empty when the object is valid."""
        violations = [
            f"{_dotted(error.absolute_path) or '<root>'}: {error.message}"
            for error in sorted(self._schema_validator.iter_errors(nodepool), key=lambda e: list(e.absolute_path))
        ]
        for rule in self.rules:
            for where, value, old_value in _values_at(nodepool, old, rule.schema_path, ()):
                if rule.is_transition and old_value is _ABSENT:
                    continue
                if old_value is not _ABSENT and value == old_value:
                    continue  # ratcheting: an unchanged value is not re-checked (KEP-4008, GA in Kubernetes 1.33)
                if not self._passes(rule, value, old_value):
                    violations.append(f"{where or '<root>'}: {rule.message}")
        return violations

    @staticmethod
    def _passes(rule: CelRule, value: Any, old_value: Any) -> bool:
        activation = {"self": json_to_cel(value)}
        if old_value is not _ABSENT:
            activation["oldSelf"] = json_to_cel(old_value)
        try:
            result = rule.program.evaluate(activation)
        except CELEvalError:
            return False  # the API server rejects an object whose rule errors (e.g. int("abc"))
        return result is True or (isinstance(result, celtypes.BoolType) and bool(result))


_ABSENT: Any = object()


def _dotted(parts: Any) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _values_at(
    value: Any, old: Any, schema_path: tuple[str, ...], where: tuple[str | int, ...]
) -> list[tuple[str, Any, Any]]:
    """Concrete values (with the correlated old value) matching a schema path."""
    if not schema_path:
        return [(_dotted(where), value, old if old is not None else _ABSENT)]
    head, rest = schema_path[0], schema_path[1:]
    found: list[tuple[str, Any, Any]] = []
    if head == "*":
        if isinstance(value, list):
            # items of an atomic list correlate with the old object only when the whole list is unchanged
            old_items = old if isinstance(old, list) and old == value else [None] * len(value)
            for index, item in enumerate(value):
                found.extend(_values_at(item, old_items[index], rest, (*where, index)))
    elif head == "{}":
        if isinstance(value, dict):
            old_map = old if isinstance(old, dict) else {}
            for key, item in value.items():
                found.extend(_values_at(item, old_map.get(key), rest, (*where, key)))
    elif isinstance(value, dict) and head in value:
        old_child = old.get(head) if isinstance(old, dict) else None
        found.extend(_values_at(value[head], old_child, rest, (*where, head)))
    return found


@functools.cache
def _bundled(name: str) -> NodePoolValidator:
    return NodePoolValidator(bundled_crd(name), source=f"bundled {name} CRD")
