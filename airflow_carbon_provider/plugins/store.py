"""Reads the carbon XComs of DAG runs from the metadata DB, inside the api-server."""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

from airflow.models.dagrun import DagRun
from airflow.models.taskinstance import TaskInstance
from airflow.models.xcom import XComModel
from airflow.utils.state import TaskInstanceState
from sqlalchemy import select

from airflow_carbon_provider.plugins.summary import RunCarbon, TaskXCom, collect_run

if TYPE_CHECKING:
    from collections.abc import Collection

    from sqlalchemy.orm import Session

RETURN_VALUE = "return_value"
SCANNED_RUNS = 200


def load_run(session: Session, dag_id: str, run_id: str) -> RunCarbon | None:
    """One run's carbon data, or None when the run does not exist."""
    run = session.scalar(select(DagRun).where(DagRun.dag_id == dag_id, DagRun.run_id == run_id))
    if run is None:
        return None
    return _collect(session, [run])[0]


def recent_runs(session: Session, dag_ids: Collection[str], limit: int) -> list[RunCarbon]:
    """The newest runs of ``dag_ids`` that carry carbon data (scanning the last SCANNED_RUNS runs)."""
    if not dag_ids:
        return []
    runs = session.scalars(
        select(DagRun)
        .where(DagRun.dag_id.in_(list(dag_ids)))
        .order_by(DagRun.run_after.desc(), DagRun.id.desc())
        .limit(SCANNED_RUNS)
    ).all()
    return [run for run in _collect(session, runs) if run.has_data or run.skipped][:limit]


def _collect(session: Session, runs: Collection[DagRun]) -> list[RunCarbon]:
    ids = [run.id for run in runs]
    xcoms: defaultdict[int, list[TaskXCom]] = defaultdict(list)
    for row in session.execute(
        select(XComModel.dag_run_id, XComModel.task_id, XComModel.map_index, XComModel.value).where(
            XComModel.dag_run_id.in_(ids), XComModel.key == RETURN_VALUE
        )
    ):
        xcoms[row.dag_run_id].append(TaskXCom(row.task_id, row.map_index, XComModel.deserialize_value(row)))
    deferred: defaultdict[tuple[str, str], list[str]] = defaultdict(list)
    for ti in session.execute(
        select(TaskInstance.dag_id, TaskInstance.run_id, TaskInstance.task_id).where(
            TaskInstance.state == TaskInstanceState.DEFERRED,
            TaskInstance.dag_id.in_({run.dag_id for run in runs}),
            TaskInstance.run_id.in_({run.run_id for run in runs}),
        )
    ):
        deferred[(ti.dag_id, ti.run_id)].append(ti.task_id)
    return [
        collect_run(
            dag_id=run.dag_id,
            run_id=run.run_id,
            run_after=run.run_after,
            state=str(run.state) if run.state else None,
            xcoms=xcoms[run.id],
            deferred_tasks=deferred[(run.dag_id, run.run_id)],
        )
        for run in runs
    ]
