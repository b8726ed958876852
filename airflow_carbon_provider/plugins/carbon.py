"""The Airflow plugin (entry point ``airflow.plugins``): a Carbon tab on DAG runs and a Carbon page in the menu.

Every Airflow process loads entry-point plugins, task processes included, so this module stays light: the
FastAPI app (and the api-server modules it needs) is built on the first request, in the api-server only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow.plugins_manager import AirflowPlugin

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, MutableMapping

    Message = MutableMapping[str, Any]

URL_PREFIX = "/carbon"
RUN_TAB_ROUTE = "carbon_run"


class LazyCarbonApp:
    """ASGI app that builds :func:`create_carbon_app` when the api-server first routes a request to it."""

    def __init__(self) -> None:
        self._app: Callable[..., Awaitable[None]] | None = None

    async def __call__(
        self,
        scope: Message,
        receive: Callable[[], Awaitable[Message]],
        send: Callable[[Message], Awaitable[None]],
    ) -> None:
        if self._app is None:
            from airflow_carbon_provider.plugins.app import create_carbon_app

            self._app = create_carbon_app()
        await self._app(scope, receive, send)

    def __repr__(self) -> str:
        return "airflow_carbon_provider.plugins.app:create_carbon_app"


class CarbonPlugin(AirflowPlugin):
    """Mounts the Carbon sub-app at ``/carbon`` and shows it as iframes inside the Airflow UI."""

    name = "carbon"
    fastapi_apps = [{"app": LazyCarbonApp(), "url_prefix": URL_PREFIX, "name": "Carbon"}]
    external_views = [
        {
            "name": "Carbon",
            "href": f"{URL_PREFIX}/dags/{{DAG_ID}}/runs/{{RUN_ID}}",
            "destination": "dag_run",
            "url_route": RUN_TAB_ROUTE,
        },
        {
            "name": "Carbon",
            "href": f"{URL_PREFIX}/",
            "destination": "nav",
            "category": "browse",
            "url_route": "carbon",
        },
    ]
