"""Reads the carbon XComs of DAG runs from the metadata DB, inside the api-server.

The dashboard reads only the scalar fields it shows, extracted by the database from the JSON values as one
JSON array per row (``json_fields.py``), so ten thousand runs never mean parsing ten thousand intensity series
in Python, nor a dozen JSON decodes per row.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow.models.dagrun import DagRun
from airflow.models.taskinstance import TaskInstance
from airflow.models.xcom import XComModel
from sqlalchemy import and_, select

from airflow_carbon_provider.plugins.fleet import KINDS, PAYLOAD_FIELDS, CarbonXComRow, FleetRun, fleet_runs
from airflow_carbon_provider.plugins.json_fields import JsonFields
from airflow_carbon_provider.plugins.summary import CARBON_KEYS, RunCarbon, TaskRun, TaskXCom, collect_run

if TYPE_CHECKING:
    from collections.abc import Collection
    from datetime import datetime

    from sqlalchemy.orm import Session


def load_run(session: Session, dag_id: str, run_id: str) -> RunCarbon | None:
    """One run's carbon data, task by task, or None when the run does not exist."""
    run = session.scalar(select(DagRun).where(DagRun.dag_id == dag_id, DagRun.run_id == run_id))
    if run is None:
        return None
    xcoms = [
        TaskXCom(row.task_id, row.map_index, XComModel.deserialize_value(row), row.key)
        for row in session.execute(
            select(XComModel.task_id, XComModel.map_index, XComModel.key, XComModel.value).where(
                XComModel.dag_run_id == run.id, XComModel.key.in_(CARBON_KEYS)
            )
        )
    ]
    tasks = [
        TaskRun(ti.task_id, ti.map_index, str(ti.state) if ti.state else None, ti.start_date, ti.end_date)
        for ti in session.execute(
            select(
                TaskInstance.task_id,
                TaskInstance.map_index,
                TaskInstance.state,
                TaskInstance.start_date,
                TaskInstance.end_date,
            ).where(TaskInstance.dag_id == dag_id, TaskInstance.run_id == run_id)
        )
    ]
    return collect_run(
        dag_id=run.dag_id,
        run_id=run.run_id,
        run_after=run.run_after,
        state=str(run.state) if run.state else None,
        xcoms=xcoms,
        tasks=tasks,
    )


def fleet(session: Session, dag_ids: Collection[str], since: datetime, until: datetime | None) -> list[FleetRun]:
    """Runs of ``dag_ids`` released in ``[since, until)`` that carry carbon data, newest first."""
    if not dag_ids:
        return []
    value = XComModel.value
    kind = value["kind"].as_string()
    ti = and_(
        TaskInstance.dag_id == XComModel.dag_id,
        TaskInstance.run_id == XComModel.run_id,
        TaskInstance.task_id == XComModel.task_id,
        TaskInstance.map_index == XComModel.map_index,
    )
    # Every field comes back as JSON, typed as stored (never cast in SQL, where a mistyped value would read as 0
    # or fail the whole query on Postgres), and is type-checked in fleet.py.
    query = (
        select(
            DagRun.dag_id,
            DagRun.run_id,
            DagRun.state,
            DagRun.run_after,
            TaskInstance.state.label("task_state"),
            JsonFields(value, PAYLOAD_FIELDS).label("fields"),
        )
        .join(DagRun, DagRun.id == XComModel.dag_run_id)
        .outerjoin(TaskInstance, ti)
        .where(
            XComModel.key.in_(CARBON_KEYS),
            kind.in_(KINDS),
            DagRun.dag_id.in_(list(dag_ids)),
            DagRun.run_after >= since,
        )
    )
    if until is not None:
        query = query.where(DagRun.run_after < until)
    rows = (
        CarbonXComRow.parse(dag_id, run_id, run_state or None, run_after, task_state or None, fields=fields)
        # Core execution: plain rows, without the ORM's per-row bookkeeping (a third of the query's time here).
        for dag_id, run_id, run_state, run_after, task_state, fields in session.connection().execute(query)
    )
    return fleet_runs(row for row in rows if row is not None)
