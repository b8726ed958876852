"""A migrated Airflow metadata DB with finished runs of the sample DAGs, and the real Airflow API app over it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

DAG_FILE = Path(__file__).parent / "dag_files" / "carbon_sample_dags.py"
USERS = {"admin": "admin", "reader": "viewer", "outsider": "viewer", "nobody": ""}


@dataclass(frozen=True)
class AirflowHome:
    path: Path
    dags: Path


@pytest.fixture(scope="session")
def airflow_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AirflowHome]:
    """A throwaway AIRFLOW_HOME with a migrated SQLite DB, configured for this process (once per session)."""
    home = tmp_path_factory.mktemp("airflow_home")
    dags = home / "dags"
    dags.mkdir()
    env = {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__AUTH_MANAGER": "tests.plugins.auth_manager.DagScopedAuthManager",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": ",".join(f"{user}:{role}" for user, role in USERS.items()),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
        "AIRFLOW__API_AUTH__JWT_SECRET": "carbon-plugin-tests-only-" + "x" * 64,
        "AIRFLOW__API__SECRET_KEY": "carbon-plugin-tests-only-" + "y" * 64,
    }
    patch = pytest.MonkeyPatch()
    for name, value in env.items():
        patch.setenv(name, value)
    airflow = Path(sys.executable).with_name("airflow")
    subprocess.run([str(airflow), "db", "migrate"], check=True, capture_output=True, timeout=180)
    from airflow import settings

    settings.configure_vars()
    settings.configure_orm()
    yield AirflowHome(home, dags)
    settings.dispose_orm()
    patch.undo()


@pytest.fixture(scope="session")
def sample_runs(airflow_home: AirflowHome) -> dict[str, str]:
    """Run each sample DAG once with ``dag.test()`` (real task execution, real XCom writes); dag_id -> run_id."""
    shutil.copy(DAG_FILE, airflow_home.dags / DAG_FILE.name)
    from airflow.dag_processing.dagbag import DagBag
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session
    from airflow.utils.state import TaskInstanceState
    from sqlalchemy import update

    bag = DagBag(dag_folder=str(airflow_home.dags))
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
def api(sample_runs: dict[str, str]) -> Iterator[TestClient]:
    """Airflow's own API app (``create_app``), which mounts the plugin found through its entry point."""
    from airflow.api_fastapi.app import create_app, purge_cached_app
    from fastapi.testclient import TestClient

    with TestClient(create_app(apps="core"), base_url="http://127.0.0.1") as client:
        yield client
    purge_cached_app()


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
