"""Where the Carbon views live in the Airflow UI: shared by the plugin (which registers them) and the extra link
(which points at them), so neither imports the other."""

from __future__ import annotations

from urllib.parse import quote, urlsplit

URL_PREFIX = "/carbon"
RUN_TAB_ROUTE = "carbon_run"
TASK_TAB_ROUTE = "carbon_task"
NAV_ROUTE = "carbon"


def base_path(path: str) -> str:
    """``path`` under the api-server's ``[api] base_url`` (``/airflow`` when served at ``host/airflow/``)."""
    from airflow.configuration import conf

    return urlsplit(conf.get("api", "base_url", fallback="/") or "/").path.rstrip("/") + path


def task_tab(dag_id: str, run_id: str, task_id: str, map_index: int = -1) -> str:
    """The Carbon tab of one task instance in the Airflow UI."""
    mapped = f"/mapped/{map_index}" if map_index >= 0 else ""
    parts = (quote(dag_id, safe=""), quote(run_id, safe=""), quote(task_id, safe=""))
    return base_path(f"/dags/{parts[0]}/runs/{parts[1]}/tasks/{parts[2]}{mapped}/plugin/{TASK_TAB_ROUTE}")
