"""The Airflow plugin (entry point ``airflow.plugins``): the Carbon views, native in the Airflow UI.

``react_apps`` (Airflow 3.1+) put one JavaScript bundle (``www/``, built into ``www/dist/carbon.js``) in four
places: a Carbon tab on every DAG run and task instance, a Carbon page in the navigation and a widget on the
home dashboard. The host UI imports the bundle and renders the component it registers under each app's name.
The bundle and the JSON API it reads are served by the FastAPI sub-app mounted at ``/carbon``.

Every Airflow process loads entry-point plugins, task processes included, so this module stays light: the
FastAPI app (and the api-server modules it needs) is built on the first request, in the api-server only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow.plugins_manager import AirflowPlugin

from airflow_carbon_provider.ui_paths import NAV_ROUTE, RUN_TAB_ROUTE, TASK_TAB_ROUTE, URL_PREFIX, base_path

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, MutableMapping

    Message = MutableMapping[str, Any]

VIEWS_NAME = "Carbon"  # the tabs and the nav page: one component that picks its view from the route
WIDGET_NAME = "Carbon footprint"  # the dashboard widget, registered by the same bundle under its own name


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


def host_shares_chakra() -> bool:
    """Airflow >= 3.2 hands plugins its React Router and Chakra UI (globals the bundle uses); 3.1 only React."""
    from airflow import __version__
    from packaging.version import Version

    return Version(__version__).release >= (3, 2)


def react_apps() -> list[dict[str, Any]]:
    """The four views; none on Airflow 3.1, whose UI cannot host them (the JSON API is still served)."""
    if not host_shares_chakra():
        return []
    static = f"{URL_PREFIX}/static"
    common = {
        "bundle_url": base_path(f"{static}/carbon.js"),
        "icon": base_path(f"{static}/carbon-icon.svg"),
        "icon_dark_mode": base_path(f"{static}/carbon-icon-dark.svg"),
    }
    return [
        {"name": VIEWS_NAME, "destination": "dag_run", "url_route": RUN_TAB_ROUTE, **common},
        {"name": VIEWS_NAME, "destination": "task_instance", "url_route": TASK_TAB_ROUTE, **common},
        {"name": VIEWS_NAME, "destination": "nav", "url_route": NAV_ROUTE, "category": "browse", **common},
        {"name": WIDGET_NAME, "destination": "dashboard", "url_route": "carbon_dashboard", **common},
    ]


class CarbonPlugin(AirflowPlugin):
    """Mounts the Carbon sub-app at ``/carbon`` and registers its React views with the Airflow UI."""

    name = "carbon"
    fastapi_apps = [{"app": LazyCarbonApp(), "url_prefix": URL_PREFIX, "name": "Carbon"}]
    react_apps = react_apps()
