"""SimpleAuthManager with one user limited to chosen DAGs, to test per-DAG authorisation for real.

SimpleAuthManager grants read access to every DAG or none; Airflow deployments with FAB or Keycloak grant it
per DAG. This subclass keeps everything of SimpleAuthManager (login, JWTs, roles) and only narrows what the
user ``outsider`` may read, the way such an auth manager would.
"""

from __future__ import annotations

from typing import Any

from airflow.api_fastapi.auth.managers.simple.simple_auth_manager import SimpleAuthManager

OUTSIDER = "outsider"
OUTSIDER_DAGS = frozenset({"carbon_green_run"})


class DagScopedAuthManager(SimpleAuthManager):
    def is_authorized_dag(self, *, method: Any, user: Any, access_entity: Any = None, details: Any = None) -> bool:
        if user.username == OUTSIDER and (details is None or details.id not in OUTSIDER_DAGS):
            return False
        return super().is_authorized_dag(method=method, user=user, access_entity=access_entity, details=details)
