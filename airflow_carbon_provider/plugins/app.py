"""The FastAPI sub-app behind the Carbon views, protected by Airflow's own authentication and DAG permissions.

Airflow mounts plugin sub-apps without any auth, so every route declares it: ``get_user`` accepts the
``Authorization: Bearer`` header (REST clients) or the ``_token`` cookie the UI sets at login, which the
browser also sends to the same-origin iframe of the Carbon tab. The run tab needs read access to the DAG's
XComs; the overview lists only runs of DAGs whose XComs the user may read.
"""

from __future__ import annotations

from typing import Annotated

from airflow.api_fastapi.app import get_auth_manager
from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity, DagDetails
from airflow.api_fastapi.common.db.common import SessionDep  # noqa: TC002 (FastAPI resolves it at runtime)
from airflow.api_fastapi.core_api.security import GetUserDep, requires_access_dag
from fastapi import Depends, FastAPI, Query, Request
from fastapi.responses import HTMLResponse
from starlette.exceptions import HTTPException

from airflow_carbon_provider.plugins.pages import error_page, overview_page, run_page
from airflow_carbon_provider.plugins.store import load_run, recent_runs

# No script at all, styles inline only, nothing fetched from anywhere: escaping is the first defence, this the second.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def create_carbon_app() -> FastAPI:
    """The app mounted at ``/carbon``: ``/`` (recent runs across DAGs) and ``/dags/{dag_id}/runs/{run_id}``."""
    app = FastAPI(title="Carbon", docs_url=None, redoc_url=None, openapi_url=None)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> HTMLResponse:
        messages = {401: "Sign in to Airflow to see carbon data.", 403: "You may not read this DAG's carbon data."}
        message = messages.get(exc.status_code, str(exc.detail))
        return _html(error_page(f"Carbon: {exc.status_code}", message), exc.status_code)

    @app.get("/", response_class=HTMLResponse)
    def overview(
        user: GetUserDep, session: SessionDep, limit: Annotated[int, Query(ge=1, le=200)] = 50
    ) -> HTMLResponse:
        auth_manager = get_auth_manager()
        readable = auth_manager.get_authorized_dag_ids(user=user, method="GET")
        runs = recent_runs(session, readable, limit)
        xcom_readable = {
            dag_id
            for dag_id in {run.dag_id for run in runs}
            if auth_manager.is_authorized_dag(
                method="GET", access_entity=DagAccessEntity.XCOM, details=DagDetails(id=dag_id), user=user
            )
        }
        return _html(overview_page([run for run in runs if run.dag_id in xcom_readable]))

    @app.get(
        "/dags/{dag_id}/runs/{run_id}",
        response_class=HTMLResponse,
        dependencies=[Depends(requires_access_dag("GET", DagAccessEntity.XCOM))],
    )
    def run_tab(dag_id: str, run_id: str, session: SessionDep) -> HTMLResponse:
        run = load_run(session, dag_id, run_id)
        if run is None:
            return _html(error_page("Carbon: run not found", f"No run {run_id!r} of DAG {dag_id!r}."), 404)
        return _html(run_page(run))

    return app


def _html(content: str, status_code: int = 200) -> HTMLResponse:
    return HTMLResponse(content, status_code=status_code, headers=SECURITY_HEADERS)
