"""The FastAPI sub-app behind the Carbon views: the UI bundle and a small JSON API, under Airflow's own auth.

Airflow mounts plugin sub-apps without any auth, so every API route declares it: ``get_user`` accepts the
``Authorization: Bearer`` header (REST clients) or the ``_token`` cookie the UI sets at login, which the
browser sends with the views' same-origin requests. A run needs read access to the DAG's XComs; the fleet
lists only runs of DAGs whose XComs the user may read. The bundle and its icons are static files, public
like the Airflow UI's own assets.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from airflow.api_fastapi.app import get_auth_manager
from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity, DagDetails
from airflow.api_fastapi.common.db.common import SessionDep  # noqa: TC002 (FastAPI resolves it at runtime)
from airflow.api_fastapi.core_api.security import GetUserDep, requires_access_dag
from fastapi import Depends, FastAPI, Query, Request
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

from airflow_carbon_provider.carbon.clock import SystemClock
from airflow_carbon_provider.plugins.fleet_view import FleetQuery, SortKey, Status, fleet_view
from airflow_carbon_provider.plugins.store import fleet, load_run

DIST = Path(__file__).parent / "www" / "dist"
DEFAULT_RANGE = timedelta(days=7)
JSON_HEADERS = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}


def create_carbon_app() -> FastAPI:
    """The app mounted at ``/carbon``: ``/static/`` (bundle, icons) and ``/api/runs/...``, ``/api/fleet``."""
    app = FastAPI(title="Carbon", docs_url=None, redoc_url=None, openapi_url=None)
    clock = SystemClock()

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        messages = {401: "Sign in to Airflow to see carbon data.", 403: "You may not read this DAG's carbon data."}
        return _json({"detail": messages.get(exc.status_code, str(exc.detail))}, exc.status_code)

    @app.get(
        "/api/runs/{dag_id}/{run_id}",
        dependencies=[Depends(requires_access_dag("GET", DagAccessEntity.XCOM))],
    )
    def run_carbon(dag_id: str, run_id: str, session: SessionDep) -> JSONResponse:
        run = load_run(session, dag_id, run_id)
        if run is None:
            return _json({"detail": f"No run {run_id!r} of DAG {dag_id!r}."}, 404)
        return _json(run.to_json())

    @app.get("/api/fleet")
    def fleet_carbon(
        *,
        user: GetUserDep,
        session: SessionDep,
        since: Annotated[datetime | None, Query(description="ISO-8601; default: 7 days ago")] = None,
        until: Annotated[datetime | None, Query(description="ISO-8601; default: no upper bound")] = None,
        q: Annotated[
            str,
            Query(
                max_length=200,
                description="runs whose DAG, run, state, status, zone or reason contains this text (any case)",
            ),
        ] = "",
        status: Annotated[Status | None, Query(description="only runs of this carbon status")] = None,
        sort: Annotated[SortKey, Query(description="the column the runs are ordered by")] = "run_after",
        order: Annotated[Literal["asc", "desc"], Query()] = "desc",
        offset: Annotated[int, Query(ge=0)] = 0,
        limit: Annotated[int | None, Query(ge=0, description="default: every matching run")] = None,
        tz: Annotated[str, Query(description="IANA time zone of the trend's days, e.g. Europe/Paris")] = "UTC",
    ) -> JSONResponse:
        auth_manager = get_auth_manager()
        start = _utc(since, "since") if since else clock.now() - DEFAULT_RANGE
        end = _utc(until, "until") if until else None
        query = FleetQuery(q, status, sort, descending=order == "desc", offset=offset, limit=limit, tz=_zone(tz))
        readable = {
            dag_id
            for dag_id in auth_manager.get_authorized_dag_ids(user=user, method="GET")
            if auth_manager.is_authorized_dag(
                method="GET", access_entity=DagAccessEntity.XCOM, details=DagDetails(id=dag_id), user=user
            )
        }
        view = fleet_view(fleet(session, readable, start, end), query)
        return _json({"since": start.isoformat(), "until": end.isoformat() if end else None, "tz": tz, **view})

    app.mount("/static", StaticFiles(directory=DIST, check_dir=False), name="static")
    return app


def _utc(moment: datetime, name: str) -> datetime:
    if moment.tzinfo is None:
        raise HTTPException(422, f"{name} must carry a UTC offset, e.g. 2026-01-01T00:00:00Z")
    return moment.astimezone(UTC)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ValueError, ZoneInfoNotFoundError):
        raise HTTPException(422, f"tz must be an IANA time zone such as Europe/Paris or UTC, got {name!r}") from None


def _json(content: Any, status_code: int = 200) -> JSONResponse:
    return JSONResponse(content, status_code=status_code, headers=JSON_HEADERS)
