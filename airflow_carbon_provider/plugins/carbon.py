"""The Airflow plugin (entry point ``airflow.plugins``): a Carbon tab on DAG runs and a Carbon page in the menu."""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from airflow_carbon_provider.plugins.app import create_carbon_app

URL_PREFIX = "/carbon"
RUN_TAB_ROUTE = "carbon_run"


class CarbonPlugin(AirflowPlugin):
    """Mounts the Carbon sub-app at ``/carbon`` and shows it as iframes inside the Airflow UI."""

    name = "carbon"
    fastapi_apps = [{"app": create_carbon_app(), "url_prefix": URL_PREFIX, "name": "Carbon"}]
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
