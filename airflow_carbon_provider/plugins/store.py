"""Reads the carbon XComs of DAG runs from the metadata DB, inside the api-server.

The dashboard reads only the scalar fields it shows, extracted by the database from the JSON values
(``value["emitted_g"]`` compiles to SQLite's ``json_extract``, Postgres' ``->>`` and MySQL's
``JSON_EXTRACT``), so ten thousand runs never mean parsing ten thousand intensity series in Python.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow.models.dagrun import DagRun
from airflow.models.taskinstance import TaskInstance
from airflow.models.xcom import XComModel
from sqlalchemy import and_, select

from airflow_carbon_provider.plugins.fleet import KINDS, PAYLOAD_FIELDS, TEXTS, CarbonXComRow, FleetRun, fleet_runs
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
    # Numbers, flags and notes come back as JSON (never cast in SQL, where a mistyped value would read as 0 or
    # fail the whole query on Postgres) and are type-checked in fleet.py; texts come back as text.
    fields = [(value[name].as_string() if name in TEXTS else value[name]).label(name) for name in PAYLOAD_FIELDS]
    query = (
        select(
            DagRun.dag_id,
            DagRun.run_id,
            DagRun.state,
            DagRun.run_after,
            TaskInstance.state.label("task_state"),
            *fields,
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
        CarbonXComRow.parse(
            dag_id=row.dag_id,
            run_id=row.run_id,
            run_state=str(row.state) if row.state else None,
            run_after=row.run_after,
            task_state=str(row.task_state) if row.task_state else None,
            payload={name: getattr(row, name) for name in PAYLOAD_FIELDS},
        )
        for row in session.execute(query)
    )
    return fleet_runs(row for row in rows if row is not None)
