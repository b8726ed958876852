"""What a Kubernetes API server checks when a custom resource is written, built from the CRD file alone.

The fake API server (``tests/fakes/kube_api.py``) validates every write with this, **independently of the
provider's own validator** (``airflow_carbon_provider.karpenter.validation``): the schema is checked with
``jsonschema`` straight from ``openAPIV3Schema``, and every ``x-kubernetes-validations`` rule runs on a different
CEL engine (the Rust ``cel`` crate via ``common-expression-language``, where the provider uses cel-python), with the
Kubernetes ``find`` function written here on Python's ``re``. A bug in the provider's validator therefore shows up
as a disagreement with this fake instead of being copied into it.

Semantics followed (kube-apiserver, ``apiextensions-apiserver/pkg/apiserver/schema``):

- ``self`` is the value at the schema node that declares a rule; transition rules (those reading ``oldSelf``) run
  only when that value can be correlated with the old object, i.e. on an update.
- An evaluation error (``int("abc")``, a missing key) rejects the object, as a failed rule does.
- Ratcheting (KEP-4008, GA in 1.33): an error, schema or CEL, is dropped when the value at a correlatable
  ancestor-or-self of its field is unchanged from the old object. Object properties and map values correlate by
  key; list items only in ``x-kubernetes-list-type: map`` (by key fields) or ``set`` (by value) lists. Transition
  rules are never ratcheted.
- Errors are reported in the API server's words: ``<field>: Invalid value: "<type>": <message>`` for a CEL rule,
  ``Required value``, ``Unsupported value`` and ``in body should ...`` for the schema.

Not emulated (as before): defaulting, pruning of unknown fields, CEL cost limits.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cel
import jsonschema
import yaml

ABSENT: Any = object()
RULES = "x-kubernetes-validations"
Segment = str | int
EVALUATION_ERRORS = (RuntimeError, TypeError, KeyError, ValueError, IndexError)


def find(value: str, pattern: str) -> str:
    """Kubernetes' CEL regex library ``<string>.find(<regex>)``: the first match, or ``''``."""
    match = re.search(pattern, value)
    return match.group(0) if match else ""


@dataclass(frozen=True)
class FieldError:
    """One ``details.causes[]`` entry of a 422 ``Status``."""

    field: str
    message: str
    reason: str = "FieldValueInvalid"

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


@dataclass(frozen=True)
class Rule:
    schema_path: tuple[str, ...]  # property names, "[]" for list items, "{}" for map values
    node_type: str
    source: str
    message: str
    program: Any

    @property
    def is_transition(self) -> bool:
        return re.search(r"\boldSelf\b", self.source) is not None


class CustomResourceValidation:
    """The schema and CEL rules of one served version of one CRD."""

    def __init__(self, crd: dict[str, Any], version: str = "v1") -> None:
        served = [item for item in crd["spec"]["versions"] if item["name"] == version]
        if not served:
            raise ValueError(f"the CRD {crd['metadata']['name']} has no version {version}")
        self.schema: dict[str, Any] = served[0]["schema"]["openAPIV3Schema"]
        self._schema_checker = jsonschema.Draft4Validator(self.schema)
        self.rules = [
            _rule(path, node, item) for path, node in _schema_nodes(self.schema) for item in node.get(RULES, [])
        ]

    def errors(self, new: dict[str, Any], old: dict[str, Any] | None = None) -> list[FieldError]:
        """Every reason the API server refuses to store ``new`` (as an update of ``old`` when given)."""
        previous = ABSENT if old is None else old
        found = [
            _schema_error(error)
            for error in self._schema_checker.iter_errors(new)
            if not self._correlate(new, previous, tuple(error.absolute_path))[1]
        ]
        for rule in self.rules:
            for path, value in _values_at(new, rule.schema_path, ()):
                old_value, unchanged = self._correlate(new, previous, path)
                if rule.is_transition and old_value is ABSENT:
                    continue
                if unchanged and not rule.is_transition:
                    continue
                if not _passes(rule, value, old_value):
                    found.append(FieldError(_field(path), f'Invalid value: "{rule.node_type}": {rule.message}'))
        return found

    def _correlate(self, new: Any, old: Any, path: tuple[Segment, ...]) -> tuple[Any, bool]:
        """The old value correlated with ``new`` at ``path`` (or ABSENT), and whether the path is ratcheted."""
        schema = self.schema
        unchanged = old is not ABSENT and new == old
        for segment in path:
            schema, new, old = _step(schema, new, old, segment)
            unchanged = unchanged or (old is not ABSENT and new == old)
        return old, unchanged


def _schema_nodes(node: dict[str, Any], path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], dict[str, Any]]]:
    """Every node of a structural schema with its path: property names, ``[]`` for items, ``{}`` for map values."""
    yield path, node
    children = list(node.get("properties", {}).items())
    children += [(step, node.get(key)) for step, key in (("[]", "items"), ("{}", "additionalProperties"))]
    for step, child in children:
        if isinstance(child, dict):
            yield from _schema_nodes(child, (*path, step))


def _rule(path: tuple[str, ...], node: dict[str, Any], item: dict[str, str]) -> Rule:
    message = item.get("message") or f"failed rule: {item['rule']}"
    return Rule(path, node.get("type", "object"), item["rule"], message, cel.compile(item["rule"]))


def _step(schema: dict[str, Any], new: Any, old: Any, segment: Segment) -> tuple[dict[str, Any], Any, Any]:
    """One level down: the child schema, the new child and its correlated old child (ABSENT when there is none)."""
    if isinstance(segment, int):
        items = schema.get("items", {})
        item = new[segment]
        list_type = schema.get("x-kubernetes-list-type", "atomic")
        if not isinstance(old, list) or list_type == "atomic":
            return items, item, ABSENT
        if list_type == "set":
            return items, item, item if item in old else ABSENT
        keys = schema.get("x-kubernetes-list-map-keys", [])
        same = [o for o in old if isinstance(o, dict) and all(o.get(k) == item.get(k) for k in keys)]
        return items, item, same[0] if same else ABSENT
    child_schema = schema.get("properties", {}).get(segment) or schema.get("additionalProperties") or {}
    if not isinstance(child_schema, dict):
        child_schema = {}
    old_child = old.get(segment, ABSENT) if isinstance(old, dict) else ABSENT
    return child_schema, new[segment], old_child


def _values_at(
    value: Any, schema_path: tuple[str, ...], where: tuple[Segment, ...]
) -> list[tuple[tuple[Segment, ...], Any]]:
    if not schema_path:
        return [(where, value)]
    head, rest = schema_path[0], schema_path[1:]
    if head == "[]":
        if not isinstance(value, list):
            return []
        return [found for i, item in enumerate(value) for found in _values_at(item, rest, (*where, i))]
    if head == "{}":
        if not isinstance(value, dict):
            return []
        return [found for key, item in value.items() for found in _values_at(item, rest, (*where, key))]
    if isinstance(value, dict) and head in value:
        return _values_at(value[head], rest, (*where, head))
    return []


def _passes(rule: Rule, value: Any, old_value: Any) -> bool:
    variables = {"self": value}
    if old_value is not ABSENT:
        variables["oldSelf"] = old_value
    try:
        result = rule.program.execute(cel.Context(variables=variables, functions={"find": find}))
    except EVALUATION_ERRORS:
        return False
    return result is True


def _field(path: tuple[Segment, ...] | list[Segment]) -> str:
    text = ""
    for segment in path:
        text += f"[{segment}]" if isinstance(segment, int) else (f".{segment}" if text else str(segment))
    return text or "<root>"


def _quoted(value: Any) -> str:
    if isinstance(value, dict):
        return '"object"'
    if isinstance(value, list):
        return '"array"'
    return json.dumps(value)


def _schema_error(error: jsonschema.ValidationError) -> FieldError:
    """A jsonschema error as kube-openapi words it (``k8s.io/kube-openapi/pkg/validation/errors``)."""
    path = list(error.absolute_path)
    field = _field(path)
    body = f"{field} in body"
    value = error.instance
    keyword = error.validator
    if keyword == "required":
        missing = re.match(r"'([^']+)'", error.message)
        name = missing.group(1) if missing else "?"
        return FieldError(_field([*path, name]), "Required value", "FieldValueRequired")
    if keyword == "enum":
        allowed = ", ".join(json.dumps(v) for v in error.validator_value)
        return FieldError(
            field, f"Unsupported value: {_quoted(value)}: supported values: {allowed}", "FieldValueNotSupported"
        )
    if keyword == "type":
        wrong = type(value).__name__
        return FieldError(field, f'Invalid value: "{wrong}": {body} must be of type {error.validator_value}: "{wrong}"')
    expectations = {
        "pattern": f"should match '{error.validator_value}'",
        "minimum": f"should be greater than or equal to {error.validator_value}",
        "maximum": f"should be less than or equal to {error.validator_value}",
        "minLength": f"should be at least {error.validator_value} chars long",
        "maxLength": f"should be at most {error.validator_value} chars long",
        "minItems": f"should have at least {error.validator_value} items",
        "maxItems": f"should have at most {error.validator_value} items",
        "maxProperties": f"should have at most {error.validator_value} properties",
    }
    expectation = expectations.get(str(keyword), f"is invalid: {error.message}")
    return FieldError(field, f"Invalid value: {_quoted(value)}: {body} {expectation}")


@functools.cache
def crd_validation(path: Path, version: str = "v1") -> CustomResourceValidation:
    """The validation of a CRD file, compiled once per test session."""
    return CustomResourceValidation(yaml.safe_load(path.read_text(encoding="utf-8")), version)
