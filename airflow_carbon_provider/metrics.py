"""Carbon numbers as Airflow metrics, so they reach StatsD / OpenTelemetry and Grafana.

Gauges carry the per-run value (intensity, waited seconds, grams); counters accumulate grams over runs.
Tags (dag_id, task_id, zone) reach back ends that keep them (OTel, tag-aware StatsD).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping

PREFIX = "carbon"


def _tags(payload: Mapping[str, Any], dag_id: str, task_id: str) -> dict[str, str]:
    return {"dag_id": dag_id, "task_id": task_id, "zone": str(payload.get("zone") or "unknown")}


def emit_wait_metrics(payload: Mapping[str, Any], *, dag_id: str, task_id: str) -> None:
    """After a carbon wait: the intensity the job starts at, the one it was released at, and the wait."""
    from airflow.sdk.observability.stats import Stats

    tags = _tags(payload, dag_id, task_id)
    for key in ("intensity_at_start", "intensity_at_release"):
        if payload.get(key) is not None:
            Stats.gauge(f"{PREFIX}.{key}_g_per_kwh", float(payload[key]), tags=tags)
    Stats.gauge(f"{PREFIX}.waited_seconds", float(payload.get("waited_seconds") or 0.0), tags=tags)
    if payload.get("deadline_forced"):
        Stats.incr(f"{PREFIX}.deadline_forced", tags=tags)


def emit_report_metrics(payload: Mapping[str, Any], *, dag_id: str, task_id: str) -> None:
    """After a carbon report: grams emitted and avoided, as gauges (this run) and counters (running total)."""
    from airflow.sdk.observability.stats import Stats

    tags = _tags(payload, dag_id, task_id)
    for key in ("emitted_g", "avoided_g", "energy_kwh"):
        value = payload.get(key)
        if value is None:
            continue
        Stats.gauge(f"{PREFIX}.{key}", float(value), tags=tags)
        if key != "energy_kwh" and value > 0:
            Stats.incr(f"{PREFIX}.{key}_total", count=round(float(value)), tags=tags)
