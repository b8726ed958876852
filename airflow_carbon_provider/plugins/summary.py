"""What one DAG run's carbon XComs add up to, for the run tab and the across-DAGs page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from airflow_carbon_provider.carbon.payloads import (
    CarbonReport,
    CarbonWait,
    MalformedPayloadError,
    parse_payload,
)

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import datetime


@dataclass(frozen=True, slots=True)
class TaskXCom:
    """One ``return_value`` XCom row as read from the metadata DB."""

    task_id: str
    map_index: int
    value: Any


P = TypeVar("P", CarbonReport, CarbonWait)


@dataclass(frozen=True, slots=True)
class TaskPayload(Generic[P]):
    task_id: str
    map_index: int
    payload: P

    @property
    def label(self) -> str:
        return task_label(self.task_id, self.map_index)


@dataclass(frozen=True, slots=True)
class RunCarbon:
    """The carbon payloads of one run, the ones skipped as malformed, and tasks still deferred."""

    dag_id: str
    run_id: str
    run_after: datetime | None
    state: str | None
    reports: tuple[TaskPayload[CarbonReport], ...] = ()
    waits: tuple[TaskPayload[CarbonWait], ...] = ()
    skipped: tuple[str, ...] = ()
    deferred_tasks: tuple[str, ...] = ()

    @property
    def _payloads(self) -> list[CarbonReport | CarbonWait]:
        return [entry.payload for entry in self.reports] + [entry.payload for entry in self.waits]

    @property
    def has_data(self) -> bool:
        return bool(self.reports or self.waits)

    @property
    def zones(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(payload.zone for payload in self._payloads if payload.zone))

    @property
    def emitted_g(self) -> float | None:
        """Grams over the reports that have them; None when none does."""
        return _total(entry.payload.emitted_g for entry in self.reports)

    @property
    def avoided_g(self) -> float | None:
        return _total(entry.payload.avoided_g for entry in self.reports)

    @property
    def waited_seconds(self) -> float | None:
        waited = [payload.waited_seconds for payload in self._payloads]
        return max(waited) if waited else None

    @property
    def first(self) -> CarbonReport | CarbonWait | None:
        """The payload whose intensities the overview shows: the first report, else the first wait."""
        if self.reports:
            return self.reports[0].payload
        return self.waits[0].payload if self.waits else None


def collect_run(
    *,
    dag_id: str,
    run_id: str,
    run_after: datetime | None,
    state: str | None,
    xcoms: Iterable[TaskXCom],
    deferred_tasks: Iterable[str] = (),
) -> RunCarbon:
    """Sort one run's ``return_value`` XComs into reports and waits by ``kind``; malformed ones become notes."""
    reports: list[TaskPayload[CarbonReport]] = []
    waits: list[TaskPayload[CarbonWait]] = []
    skipped: list[str] = []
    for row in sorted(xcoms, key=lambda row: (row.task_id, row.map_index)):
        try:
            payload = parse_payload(row.value)
        except MalformedPayloadError as exc:
            label = task_label(row.task_id, row.map_index)
            skipped.append(f"Skipped the malformed carbon payload of task {label}: {exc}")
            continue
        if payload is None:
            continue
        if isinstance(payload, CarbonReport):
            reports.append(TaskPayload(row.task_id, row.map_index, payload))
        else:
            waits.append(TaskPayload(row.task_id, row.map_index, payload))
    return RunCarbon(
        dag_id=dag_id,
        run_id=run_id,
        run_after=run_after,
        state=state,
        reports=tuple(reports),
        waits=tuple(waits),
        skipped=tuple(skipped),
        deferred_tasks=tuple(sorted(deferred_tasks)),
    )


def task_label(task_id: str, map_index: int) -> str:
    return task_id if map_index < 0 else f"{task_id}[{map_index}]"


def _total(values: Iterable[float | None]) -> float | None:
    known = [value for value in values if value is not None]
    return sum(known) if known else None
