"""The fleet dashboard's rows: one per DAG run with carbon data, and the rule for what counts as avoided.

Pure code over plain values (``store.py`` reads them from the metadata DB). A run's grams emitted always count
(the job ran); grams avoided count only for a run that succeeded with its job accounted: a failed or skipped
run is shown, with its state, but never credited with carbon it did not save.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from airflow_carbon_provider.carbon.payloads import NODEPOOL_KIND, REPORT_KIND, WAIT_KIND, WAIT_STATE_KIND

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from datetime import datetime

KINDS = (REPORT_KIND, WAIT_KIND, WAIT_STATE_KIND, NODEPOOL_KIND)
FAILED_TASK_STATES = frozenset({"failed", "upstream_failed"})
SKIPPED_TASK_STATES = frozenset({"skipped"})
MAX_REASONS = 3
NUMBERS = ("emitted_g", "baseline_g", "avoided_g", "energy_kwh", "waited_seconds")
TEXTS = ("kind", "zone", "source", "best_zone", "why")
FLAGS = ("deadline_forced", "degraded")
PAYLOAD_FIELDS = (*TEXTS, *NUMBERS, *FLAGS, "notes")


@dataclass(frozen=True, slots=True)
class CarbonXComRow:
    """The fields of one carbon XCom the dashboard needs, extracted in SQL (no series, no full payload).

    The payload fields come in the order of ``PAYLOAD_FIELDS`` (the SQL returns them as one array in that order).
    """

    dag_id: str
    run_id: str
    run_state: str | None
    run_after: datetime | None
    task_state: str | None
    kind: str
    zone: str | None = None
    source: str | None = None
    best_zone: str | None = None  # a wait state's best zone so far
    why: str | None = None  # a wait state's sentence
    emitted_g: float | None = None
    baseline_g: float | None = None
    avoided_g: float | None = None
    energy_kwh: float | None = None
    waited_seconds: float | None = None
    deadline_forced: bool | None = None
    degraded: bool | None = None
    notes: list[str] | None = None

    @classmethod
    def parse(
        cls,
        dag_id: str,
        run_id: str,
        run_state: str | None,
        run_after: datetime | None,
        task_state: str | None,
        *,
        fields: Sequence[Any],
    ) -> CarbonXComRow | None:
        """The row from ``fields`` (values of ``PAYLOAD_FIELDS``, in order), or None when one has the wrong type
        (the run view names such payloads; totals skip them). Runs once per XCom row: kept to plain loops."""
        if len(fields) != len(PAYLOAD_FIELDS) or fields[0] not in KINDS:
            return None
        for at in _TEXTS_AT:
            if fields[at] is not None and type(fields[at]) is not str:
                return None
        for at in _NUMBERS_AT:
            value = fields[at]
            if value is not None and not (type(value) in (int, float) and math.isfinite(value)):
                return None
        for at in _FLAGS_AT:
            if fields[at] is not None and type(fields[at]) is not bool:
                return None
        notes = fields[_NOTES_AT]
        values = [*fields[:_NOTES_AT], [str(note) for note in notes] if isinstance(notes, list) else None]
        return cls(dag_id, run_id, run_state, run_after, task_state, *values)


_TEXTS_AT = range(len(TEXTS))
_NUMBERS_AT = range(len(TEXTS), len(TEXTS) + len(NUMBERS))
_FLAGS_AT = range(len(TEXTS) + len(NUMBERS), len(TEXTS) + len(NUMBERS) + len(FLAGS))
_NOTES_AT = PAYLOAD_FIELDS.index("notes")


@dataclass
class FleetRun:
    """One DAG run on the dashboard."""

    dag_id: str
    run_id: str
    state: str | None
    run_after: datetime | None
    zones: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    emitted_g: float | None = None
    baseline_g: float | None = None
    avoided_g: float | None = None
    energy_kwh: float | None = None
    waited_seconds: float | None = None
    forced: bool = False
    degraded: bool = False
    reasons: list[str] = field(default_factory=list)
    has_report: bool = False
    has_wait: bool = False
    waiting: bool = False
    nodepool_changes: int = 0
    skipped_task: bool = False
    failed_task: bool = False

    @property
    def status(self) -> str:
        """failed | skipped | waiting | accounted | waited (the job started, no report yet) | nodepool."""
        if self.state == "failed" or self.failed_task:
            return "failed"
        if self.skipped_task:
            return "skipped"
        if self.waiting:
            return "waiting"
        if self.has_report:
            return "accounted"
        return "nodepool" if self.nodepool_changes and not self.has_wait else "waited"

    @property
    def counted_avoided_g(self) -> float | None:
        """Avoided grams that count towards totals: only a successful run's accounted job."""
        return self.avoided_g if self.state == "success" and self.status == "accounted" else None

    def to_json(self) -> dict[str, Any]:
        return {
            "dag_id": self.dag_id,
            "run_id": self.run_id,
            "state": self.state,
            "status": self.status,
            "run_after": self.run_after.isoformat() if self.run_after else None,
            "zones": self.zones,
            "sources": self.sources,
            "emitted_g": self.emitted_g,
            "baseline_g": self.baseline_g,
            "avoided_g": self.avoided_g,
            "counted_avoided_g": self.counted_avoided_g,
            "energy_kwh": self.energy_kwh,
            "waited_seconds": self.waited_seconds,
            "forced": self.forced,
            "degraded": self.degraded,
            "reasons": self.reasons,
            "nodepool_changes": self.nodepool_changes,
        }


def fleet_runs(rows: Iterable[CarbonXComRow]) -> list[FleetRun]:
    """Fold the XCom rows into one FleetRun per DAG run, newest first."""
    runs: dict[tuple[str, str], FleetRun] = {}
    for row in rows:
        run = runs.get((row.dag_id, row.run_id))
        if run is None:
            run = runs[(row.dag_id, row.run_id)] = FleetRun(row.dag_id, row.run_id, row.run_state, row.run_after)
        _add(run, row)
    return sorted(runs.values(), key=lambda run: (run.run_after is not None, run.run_after), reverse=True)


def _add(run: FleetRun, row: CarbonXComRow) -> None:
    run.failed_task |= row.task_state in FAILED_TASK_STATES
    run.skipped_task |= row.task_state in SKIPPED_TASK_STATES
    if row.zone and row.zone not in run.zones:
        run.zones.append(row.zone)
    if row.source and row.source not in run.sources:
        run.sources.append(row.source)
    if row.kind == NODEPOOL_KIND:
        run.nodepool_changes += 1
        return
    if row.kind == WAIT_STATE_KIND:
        run.waiting |= row.task_state == "deferred"
        if row.task_state in SKIPPED_TASK_STATES | FAILED_TASK_STATES and row.why:
            _reason(run, row.why)
        if row.best_zone and row.best_zone not in run.zones:
            run.zones.append(row.best_zone)
        return
    run.forced |= bool(row.deadline_forced)
    run.degraded |= bool(row.degraded)
    if row.deadline_forced:
        _reason(run, "started at the deadline, not in a green window")
    for note in row.notes if isinstance(row.notes, list) else []:
        _reason(run, str(note))
    if row.waited_seconds is not None:
        run.waited_seconds = max(run.waited_seconds or 0.0, row.waited_seconds)
    if row.kind == WAIT_KIND:
        run.has_wait = True
        return
    run.has_report = True
    run.emitted_g = _plus(run.emitted_g, row.emitted_g)
    run.baseline_g = _plus(run.baseline_g, row.baseline_g)
    run.avoided_g = _plus(run.avoided_g, row.avoided_g)
    run.energy_kwh = _plus(run.energy_kwh, row.energy_kwh)


def _reason(run: FleetRun, reason: str) -> None:
    if reason not in run.reasons and len(run.reasons) < MAX_REASONS:
        run.reasons.append(reason)


def _plus(total: float | None, value: float | None) -> float | None:
    if value is None:
        return total
    return value if total is None else total + value
