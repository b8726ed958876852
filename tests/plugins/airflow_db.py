"""Pytest plugin (registered in tests/conftest.py): one migrated Airflow metadata DB per test session.

Tests that need the DB (mark them ``db``) request ``airflow_home``: a throwaway AIRFLOW_HOME with a
migrated SQLite database and an empty dags folder, configured for this process (migrated once, ~4 s).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

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
