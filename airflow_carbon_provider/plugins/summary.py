"""What one DAG run's carbon XComs say, task by task, for the run and task-instance views.

Four kinds of payload are recognised by their ``kind`` (never by task id): the sensor's wait result, the
report, the trigger's live wait state and a NodePool change. Anything else is ignored; a payload that claims
to be ours but breaks the contract is left out with a note naming the task.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from airflow_carbon_provider.carbon.payloads import (
    CarbonReport,
    MalformedPayloadError,
    parse_nodepool,
    parse_payload,
    parse_wait_state,
)
from airflow_carbon_provider.carbon.wait_state import WAIT_STATE_KEY

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import datetime

RETURN_VALUE = "return_value"
CARBON_KEYS = (RETURN_VALUE, WAIT_STATE_KEY)


@dataclass(frozen=True, slots=True)
class TaskXCom:
    """One XCom row as read from the metadata DB."""

    task_id: str
    map_index: int
    value: Any
    key: str = RETURN_VALUE


@dataclass(frozen=True, slots=True)
class TaskRun:
    """One task instance of the run: its state and times, for the views' run-state badges and links."""

    task_id: str
    map_index: int
    state: str | None
    start_date: datetime | None = None
    end_date: datetime | None = None


@dataclass
class TaskCarbon:
    """The carbon payloads of one task instance (each already validated), as the API returns them."""

    task_id: str
    map_index: int
    state: str | None = None
    start_date: datetime | None = None
    end_date: datetime | None = None
    report: dict[str, Any] | None = None
    wait: dict[str, Any] | None = None
    wait_state: dict[str, Any] | None = None
    nodepool: dict[str, Any] | None = None
    parsed_report: CarbonReport | None = field(default=None, repr=False)

    @property
    def has_data(self) -> bool:
        return any((self.report, self.wait, self.wait_state, self.nodepool))

    def to_json(self) -> dict[str, Any]:
        return {
            "task_id": self.task_id,
            "map_index": self.map_index,
            "label": task_label(self.task_id, self.map_index),
            "state": self.state,
            "start_date": self.start_date.isoformat() if self.start_date else None,
            "end_date": self.end_date.isoformat() if self.end_date else None,
            "report": self.report,
            "wait": self.wait,
            "wait_state": self.wait_state,
            "nodepool": self.nodepool,
        }


@dataclass(frozen=True)
class RunCarbon:
    """The carbon payloads of one run, task by task, and the ones skipped as malformed."""

    dag_id: str
    run_id: str
    run_after: datetime | None
    state: str | None
    tasks: tuple[TaskCarbon, ...] = ()
    skipped: tuple[str, ...] = field(default=())

    @property
    def has_data(self) -> bool:
        return bool(self.tasks)

    def to_json(self) -> dict[str, Any]:
        reports = [task.parsed_report for task in self.tasks if task.parsed_report]
        return {
            "dag_id": self.dag_id,
            "run_id": self.run_id,
            "state": self.state,
            "run_after": self.run_after.isoformat() if self.run_after else None,
            "tasks": [task.to_json() for task in self.tasks],
            "skipped": list(self.skipped),
            "totals": {
                "emitted_g": _total(report.emitted_g for report in reports),
                "baseline_g": _total(report.baseline_g for report in reports),
                "avoided_g": _total(report.avoided_g for report in reports),
                "energy_kwh": _total(report.energy_kwh for report in reports),
            },
        }


def collect_run(
    *,
    dag_id: str,
    run_id: str,
    run_after: datetime | None,
    state: str | None,
    xcoms: Iterable[TaskXCom],
    tasks: Iterable[TaskRun] = (),
) -> RunCarbon:
    """Sort one run's XComs into each task's payloads; malformed ones become notes."""
    states = {(task.task_id, task.map_index): task for task in tasks}
    found: dict[tuple[str, int], TaskCarbon] = {}
    skipped: list[str] = []
    for row in sorted(xcoms, key=lambda row: (row.task_id, row.map_index, row.key)):
        try:
            slot, value, report = _classify(row)
        except MalformedPayloadError as exc:
            skipped.append(
                f"Skipped the malformed carbon payload of task {task_label(row.task_id, row.map_index)}: {exc}"
            )
            continue
        if slot is None:
            continue
        ti = states.get((row.task_id, row.map_index))
        entry = found.setdefault(
            (row.task_id, row.map_index),
            TaskCarbon(
                row.task_id,
                row.map_index,
                state=ti.state if ti else None,
                start_date=ti.start_date if ti else None,
                end_date=ti.end_date if ti else None,
            ),
        )
        setattr(entry, slot, value)
        entry.parsed_report = report or entry.parsed_report
    return RunCarbon(
        dag_id=dag_id,
        run_id=run_id,
        run_after=run_after,
        state=state,
        tasks=tuple(found.values()),
        skipped=tuple(skipped),
    )


def _classify(row: TaskXCom) -> tuple[str | None, dict[str, Any] | None, CarbonReport | None]:
    """Which slot of TaskCarbon the row fills (None: not ours), its value, and the parsed report if it is one."""
    if row.key == WAIT_STATE_KEY:
        return ("wait_state", row.value, None) if parse_wait_state(row.value) else (None, None, None)
    if (nodepool := parse_nodepool(row.value)) is not None:
        return "nodepool", nodepool, None
    payload = parse_payload(row.value)
    if payload is None:
        return None, None, None
    if isinstance(payload, CarbonReport):
        return "report", row.value, payload
    return "wait", row.value, None


def task_label(task_id: str, map_index: int) -> str:
    return task_id if map_index < 0 else f"{task_id}[{map_index}]"


def _total(values: Iterable[float | None]) -> float | None:
    known = [value for value in values if value is not None]
    return sum(known) if known else None
