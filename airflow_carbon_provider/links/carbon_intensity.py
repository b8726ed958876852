"""Operator extra link to a view that matches the task's data: the zone's page at a live source, or, for
replayed data (which no public page shows), the task's own Carbon tab in the Airflow UI.

In Airflow 3 ``get_link`` runs on the worker when the task finishes *and* each time it defers, before any
result exists; the URL is stored as an XCom. So the link prefers the zone the task reported (the one that won
among several candidates) and falls back to the zone it was configured with, never raising.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from airflow.sdk import BaseOperatorLink

from airflow_carbon_provider.carbon.payloads import payload_kind
from airflow_carbon_provider.carbon.regions import is_cloud_region, resolve_zone
from airflow_carbon_provider.ui_paths import task_tab

if TYPE_CHECKING:
    from airflow.sdk import BaseOperator
    from airflow.sdk.types import TaskInstanceKey

log = logging.getLogger(__name__)

REPLAY = "replay"
ELECTRICITY_MAPS_ZONE = "https://app.electricitymaps.com/zone/{zone}"
ELECTRICITY_MAPS_MAP = "https://app.electricitymaps.com/map"
SOURCE_PAGES = {
    "ukgrid": "https://carbonintensity.org.uk/",
    "watttime": "https://watttime.org/",
}


def zone_url(zone: str, source: str | None) -> str:
    """The public page for ``zone`` at ``source``; Electricity Maps' zone page for the GSF SDK too.

    A cloud region (``aws:eu-north-1``) links to the grid zone it maps to, or to the whole map when unmapped.
    """
    if source in SOURCE_PAGES:
        return SOURCE_PAGES[source]
    if is_cloud_region(zone):
        try:
            zone = resolve_zone(zone, "electricitymaps")
        except ValueError:
            return ELECTRICITY_MAPS_MAP
    return ELECTRICITY_MAPS_ZONE.format(zone=quote(zone, safe=""))


class CarbonZoneLink(BaseOperatorLink):
    """ "Carbon zone" button: the zone the task ran against, else the first configured zone."""

    name = "Carbon zone"

    def get_link(self, operator: BaseOperator, *, ti_key: TaskInstanceKey) -> str:
        reported = _reported(ti_key)
        source = (
            _text(reported.get("source")) or _text(getattr(operator, "source", None)) or _connection_source(operator)
        )
        if source == REPLAY:
            return task_tab(ti_key.dag_id, ti_key.run_id, ti_key.task_id, ti_key.map_index)
        zone = _text(reported.get("zone")) or configured_zone(operator)
        if zone is None:
            return ""
        return zone_url(zone, source)


def configured_zone(operator: Any) -> str | None:
    """``operator.zone``, else ``operator.zones``; the first one when it is a list of candidates."""
    for attribute in ("zone", "zones"):
        value = getattr(operator, attribute, None)
        if isinstance(value, list | tuple):
            value = value[0] if value else None
        if (zone := _text(value)) is not None:
            return zone
    return None


def _connection_source(operator: Any) -> str | None:
    """The source named by the operator's carbon connection (read locally, no request), or None."""
    conn_id = getattr(operator, "carbon_conn_id", None)
    if not isinstance(conn_id, str):
        return None
    from airflow_carbon_provider.hooks.carbon_intensity import CarbonIntensityHook

    try:
        return CarbonIntensityHook(carbon_conn_id=conn_id).source_name
    except Exception:  # a broken connection fails the task itself, with its own error; the link just falls back
        log.debug("Could not read connection %s for the link", conn_id, exc_info=True)
        return None


def _reported(ti_key: TaskInstanceKey) -> dict[str, Any]:
    """The task's own carbon XCom, or {} while it has none (deferred, failed) or XCom cannot be read."""
    from airflow.sdk.execution_time.xcom import XCom

    try:
        value = XCom.get_value(ti_key=ti_key, key="return_value")
    except Exception:  # the link must never fail the task's finalisation; fall back to the configured zone
        log.debug("No readable XCom for %s yet; linking the configured zone", ti_key, exc_info=True)
        return {}
    return value if payload_kind(value) is not None else {}


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
