"""Finished runs of the sample DAGs in the session's metadata DB, and the real Airflow API app over it."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

    from tests.plugins.airflow_db import AirflowHome

DAG_FILE = Path(__file__).parent / "dag_files" / "carbon_sample_dags.py"
USERS = {"admin": "admin", "reader": "viewer", "outsider": "viewer", "nobody": ""}


@pytest.fixture(scope="session")
def sample_runs(airflow_home: AirflowHome) -> dict[str, str]:
    """Run each sample DAG once with ``dag.test()`` (real task execution, real XCom writes); dag_id -> run_id."""
    shutil.copy(DAG_FILE, airflow_home.dags / DAG_FILE.name)
    from airflow.dag_processing.dagbag import DagBag
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session
    from airflow.utils.state import TaskInstanceState
    from sqlalchemy import update

    bag = DagBag(dag_folder=str(airflow_home.dags / DAG_FILE.name))  # the session's dags folder is shared
    assert not bag.import_errors, bag.import_errors
    runs = {dag_id: bag.dags[dag_id].test().run_id for dag_id in sorted(bag.dags)}
    with create_session() as session:
        session.execute(
            update(TaskInstance)
            .where(TaskInstance.dag_id == "carbon_deferred")
            .values(state=TaskInstanceState.DEFERRED)
        )
    return runs


@pytest.fixture(scope="session")
def api(airflow_home: AirflowHome, sample_runs: dict[str, str]) -> Iterator[TestClient]:
    """Airflow's own API app (``create_app``), which mounts the plugin found through its entry point.

    Users log in through SimpleAuthManager; DagScopedAuthManager narrows what ``outsider`` may read.
    """
    from airflow.api_fastapi.app import create_app, purge_cached_app
    from fastapi.testclient import TestClient

    patch = pytest.MonkeyPatch()
    patch.setenv("AIRFLOW__CORE__AUTH_MANAGER", "tests.plugins.auth_manager.DagScopedAuthManager")
    patch.setenv("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS", ",".join(f"{u}:{r}" for u, r in USERS.items()))
    patch.setenv("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE", str(airflow_home.path / "passwords.json"))
    patch.setenv("AIRFLOW__API_AUTH__JWT_SECRET", "carbon-plugin-tests-only-" + "x" * 64)
    patch.setenv("AIRFLOW__API__SECRET_KEY", "carbon-plugin-tests-only-" + "y" * 64)
    with TestClient(create_app(apps="core"), base_url="http://127.0.0.1") as client:
        yield client
    purge_cached_app()
    patch.undo()


@pytest.fixture(scope="session")
def tokens(api: TestClient, airflow_home: AirflowHome) -> dict[str, str]:
    """A JWT per test user, from the real ``POST /auth/token`` login of SimpleAuthManager."""
    import json

    passwords = json.loads((airflow_home.path / "passwords.json").read_text())
    result = {}
    for user in USERS:
        response = api.post("/auth/token", json={"username": user, "password": passwords[user]})
        assert response.status_code == 201, response.text
        result[user] = response.json()["access_token"]
    return result
