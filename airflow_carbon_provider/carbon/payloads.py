"""Typed views of the carbon XCom payloads the plugin shows, validated field by field.

XComs are written by tasks (or anyone with the REST API), so nothing in them is trusted: a payload whose
``kind`` is ours but whose fields are missing or mistyped is rejected with a reason, never half-shown.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow_carbon_provider.carbon.accounting import REPORT_KIND
from airflow_carbon_provider.carbon.readings import parse_utc
from airflow_carbon_provider.carbon.wait_state import WAIT_STATE_KIND
from airflow_carbon_provider.carbon.waiting import WAIT_KIND
from airflow_carbon_provider.karpenter.plan import NODEPOOL_KIND

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

__all__ = [
    "NODEPOOL_KIND",
    "REPORT_KIND",
    "WAIT_KIND",
    "WAIT_STATE_KIND",
    "CarbonReport",
    "CarbonWait",
    "MalformedPayloadError",
    "parse_nodepool",
    "parse_payload",
    "parse_wait_state",
]


class MalformedPayloadError(ValueError):
    """A payload that claims to be ours (by ``kind``) but does not follow the contract."""


@dataclass(frozen=True, slots=True)
class SeriesPoint:
    start: datetime
    end: datetime
    intensity: float
    forecast: bool


@dataclass(frozen=True, slots=True)
class CarbonWait:
    """What the CarbonIntensitySensor decided: when it released and when the job could start.

    ``zone`` is None when the deadline came without usable data for any zone; ``candidates`` maps each zone
    considered to its intensity at the decision (spatial shifting).
    """

    zone: str | None
    source: str
    release: datetime
    start: datetime
    deadline: datetime | None
    waited_seconds: float
    intensity_at_start: float | None
    intensity_at_release: float | None
    policy: str
    deadline_forced: bool
    degraded: bool
    notes: tuple[str, ...]
    candidates: tuple[tuple[str, float | None], ...] = ()


@dataclass(frozen=True, slots=True)
class CarbonReport:
    """What the CarbonReportOperator measured after the job: energy, grams emitted and avoided.

    Grams and means are None when the intensity history did not cover the run (the report is then degraded).
    """

    zone: str
    source: str
    release: datetime
    deadline: datetime | None
    start: datetime
    end: datetime
    waited_seconds: float
    energy_kwh: float
    power_w: float
    pue: float
    instance_type: str | None
    emitted_g: float | None
    baseline_g: float | None
    avoided_g: float | None
    intensity_mean: float | None
    intensity_baseline_mean: float | None
    intensity_at_start: float | None
    intensity_at_release: float | None
    deadline_forced: bool
    degraded: bool
    notes: tuple[str, ...]
    series: tuple[SeriesPoint, ...]


Payload = CarbonReport | CarbonWait


def payload_kind(value: Any) -> str | None:
    """The ``kind`` of a value if it is one of ours, else None (other tasks' XComs are ignored)."""
    if isinstance(value, dict) and value.get("kind") in (REPORT_KIND, WAIT_KIND):
        return str(value["kind"])
    return None


def parse_payload(value: Any) -> Payload | None:
    """Parse one XCom value: None when it is not ours, MalformedPayloadError when it is ours but broken."""
    kind = payload_kind(value)
    if kind == REPORT_KIND:
        return _parse_report(value)
    if kind == WAIT_KIND:
        return _parse_wait(value)
    return None


def _parse_wait(raw: Mapping[str, Any]) -> CarbonWait:
    return CarbonWait(
        zone=_text(raw, "zone") if raw.get("zone") is not None else None,
        source=_text(raw, "source"),
        release=_time(raw, "release"),
        start=_time(raw, "start"),
        deadline=_optional_time(raw, "deadline"),
        waited_seconds=_number(raw, "waited_seconds"),
        intensity_at_start=_optional_number(raw, "intensity_at_start"),
        intensity_at_release=_optional_number(raw, "intensity_at_release"),
        policy=_text(raw, "policy"),
        deadline_forced=_flag(raw, "deadline_forced"),
        degraded=_flag(raw, "degraded"),
        notes=_notes(raw),
        candidates=_candidates(raw),
    )


def _parse_report(raw: Mapping[str, Any]) -> CarbonReport:
    return CarbonReport(
        zone=_text(raw, "zone"),
        source=_text(raw, "source"),
        release=_time(raw, "release"),
        deadline=_optional_time(raw, "deadline"),
        start=_time(raw, "start"),
        end=_time(raw, "end"),
        waited_seconds=_number(raw, "waited_seconds"),
        energy_kwh=_number(raw, "energy_kwh"),
        power_w=_number(raw, "power_w"),
        pue=_number(raw, "pue"),
        instance_type=_text(raw, "instance_type") if raw.get("instance_type") is not None else None,
        emitted_g=_optional_number(raw, "emitted_g"),
        baseline_g=_optional_number(raw, "baseline_g"),
        avoided_g=_optional_number(raw, "avoided_g"),
        intensity_mean=_optional_number(raw, "intensity_mean"),
        intensity_baseline_mean=_optional_number(raw, "intensity_baseline_mean"),
        intensity_at_start=_optional_number(raw, "intensity_at_start"),
        intensity_at_release=_optional_number(raw, "intensity_at_release"),
        deadline_forced=_flag(raw, "deadline_forced"),
        degraded=_flag(raw, "degraded"),
        notes=_notes(raw),
        series=_series(raw),
    )


def _text(raw: Mapping[str, Any], key: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value:
        raise MalformedPayloadError(f"{key!r} must be a non-empty string, got {type(value).__name__}")
    return value


def _number(raw: Mapping[str, Any], key: str) -> float:
    value = raw.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise MalformedPayloadError(f"{key!r} must be a finite number, got {value!r:.40}")
    return float(value)


def _optional_number(raw: Mapping[str, Any], key: str) -> float | None:
    return None if raw.get(key) is None else _number(raw, key)


def _flag(raw: Mapping[str, Any], key: str) -> bool:
    value = raw.get(key, False)
    if not isinstance(value, bool):
        raise MalformedPayloadError(f"{key!r} must be true or false, got {type(value).__name__}")
    return value


def _time(raw: Mapping[str, Any], key: str) -> datetime:
    try:
        return parse_utc(_text(raw, key), key)
    except MalformedPayloadError:
        raise
    except ValueError as exc:
        raise MalformedPayloadError(str(exc)) from exc


def _optional_time(raw: Mapping[str, Any], key: str) -> datetime | None:
    return None if raw.get(key) is None else _time(raw, key)


def _notes(raw: Mapping[str, Any]) -> tuple[str, ...]:
    notes = raw.get("notes", [])
    if not isinstance(notes, list) or not all(isinstance(note, str) for note in notes):
        raise MalformedPayloadError("'notes' must be a list of strings")
    return tuple(notes)


def _candidates(raw: Mapping[str, Any]) -> tuple[tuple[str, float | None], ...]:
    zones = raw.get("zones") or {}
    if not isinstance(zones, dict):
        raise MalformedPayloadError("'zones' must map zone names to intensities")
    return tuple((str(zone), _optional_number(zones, zone)) for zone in sorted(zones))


def _series(raw: Mapping[str, Any]) -> tuple[SeriesPoint, ...]:
    points = raw.get("series", [])
    if not isinstance(points, list):
        raise MalformedPayloadError("'series' must be a list")
    parsed = []
    for index, point in enumerate(points):
        if not isinstance(point, dict):
            raise MalformedPayloadError(f"series[{index}] must be an object")
        try:
            parsed.append(
                SeriesPoint(
                    start=_time(point, "start"),
                    end=_time(point, "end"),
                    intensity=_number(point, "intensity"),
                    forecast=_flag(point, "forecast"),
                )
            )
        except MalformedPayloadError as exc:
            raise MalformedPayloadError(f"series[{index}]: {exc}") from exc
    return tuple(sorted(parsed, key=lambda point: point.start))


def parse_wait_state(value: Any) -> bool:
    """True for a live wait-state snapshot (``carbon/wait_state.py``); MalformedPayloadError when it is broken."""
    if not isinstance(value, dict) or value.get("kind") != WAIT_STATE_KIND:
        return False
    if value.get("status") not in ("wait", "start", "deadline"):
        raise MalformedPayloadError(f"'status' must be wait, start or deadline, got {value.get('status')!r:.40}")
    for key in ("release", "deadline", "latest_start", "decided_at"):
        _time(value, key)
    zones = value.get("zones")
    if not isinstance(zones, list) or not all(isinstance(zone, dict) and _text(zone, "zone") for zone in zones):
        raise MalformedPayloadError("'zones' must be a list of objects with a 'zone'")
    for zone in zones:
        _series(zone)
    return True


NODEPOOL_FIELDS = ("nodepool", "action", "outcome", "reason", "diff", "drift", "mode", "dry_run", "grid_state")


def parse_nodepool(value: Any) -> dict[str, Any] | None:
    """A NodePool operator's summary, reduced to what the views show (not the whole pool), or None if not one."""
    if not isinstance(value, dict) or value.get("kind") != NODEPOOL_KIND:
        return None
    _text(value, "nodepool")
    _text(value, "outcome")
    if not isinstance(value.get("diff", []), list):
        raise MalformedPayloadError("'diff' must be a list")
    summary = {key: value.get(key) for key in NODEPOOL_FIELDS}
    reading = value.get("reading")
    summary["intensity"] = _optional_number(reading, "intensity") if isinstance(reading, dict) else None
    return summary
