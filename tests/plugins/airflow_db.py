"""Pytest plugin (registered in tests/conftest.py): one migrated Airflow metadata DB per test session.

Tests that need the DB (mark them ``db``) request ``airflow_home``: a throwaway AIRFLOW_HOME with a
migrated SQLite database and an empty dags folder, configured for this process (migrated once, ~4 s).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest


@dataclass(frozen=True)
class AirflowHome:
    path: Path
    dags: Path


@pytest.fixture(scope="session")
def airflow_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AirflowHome]:
    home = tmp_path_factory.mktemp("airflow_home")
    dags = home / "dags"
    dags.mkdir()
    patch = pytest.MonkeyPatch()
    patch.setenv("AIRFLOW_HOME", str(home))
    patch.setenv("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", f"sqlite:///{home}/airflow.db")
    patch.setenv("AIRFLOW__CORE__DAGS_FOLDER", str(dags))
    patch.setenv("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    from airflow import settings
    from airflow.utils.db import initdb

    settings.configure_vars()
    settings.configure_orm()
    initdb()  # what `airflow db migrate` does on an empty DB (tables from the ORM, alembic stamped), in-process
    yield AirflowHome(home, dags)
    settings.dispose_orm()
    patch.undo()


@dataclass(frozen=True)
class FinishedRun:
    state: str
    return_values: dict[str, Any]  # task_id -> the task's XCom return value


def run_dag_file(home: AirflowHome, source: Path, dag_id: str) -> FinishedRun:
    """``dag.test()`` one DAG file from the session's DAG bundle (where ``dag.test()`` serializes from), then the
    run's return values from the metadata DB. The file is removed afterwards: the dags folder is shared."""
    from airflow.dag_processing.dagbag import DagBag
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    path = home.dags / source.name
    shutil.copy(source, path)
    try:
        run = DagBag(dag_folder=str(path)).get_dag(dag_id).test()
    finally:
        path.unlink()
    with create_session() as session:
        rows = session.execute(
            select(XComModel.task_id, XComModel.value).where(
                XComModel.dag_run_id == run.id, XComModel.key == "return_value"
            )
        )
        values = {row.task_id: XComModel.deserialize_value(row) for row in rows}
    return FinishedRun(str(run.state), values)
