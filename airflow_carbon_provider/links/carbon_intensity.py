"""Operator extra link to the grid zone's page at the carbon-data source.

In Airflow 3 ``get_link`` runs on the worker when the task finishes *and* each time it defers, before any
result exists; the URL is stored as an XCom. So the link prefers the zone the task reported (the one that won
among several candidates) and falls back to the zone it was configured with, never raising.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from airflow.sdk import BaseOperatorLink

from airflow_carbon_provider.plugins.payloads import payload_kind

if TYPE_CHECKING:
    from airflow.sdk import BaseOperator
    from airflow.sdk.types import TaskInstanceKey

log = logging.getLogger(__name__)

ELECTRICITY_MAPS_ZONE = "https://app.electricitymaps.com/zone/{zone}"
SOURCE_PAGES = {
    "ukgrid": "https://carbonintensity.org.uk/",
    "watttime": "https://watttime.org/",
}


def zone_url(zone: str, source: str | None) -> str:
    """The public page for ``zone`` at ``source``; Electricity Maps' zone map for replay and the GSF SDK too."""
    if source in SOURCE_PAGES:
        return SOURCE_PAGES[source]
    return ELECTRICITY_MAPS_ZONE.format(zone=quote(zone, safe=""))


class CarbonZoneLink(BaseOperatorLink):
    """ "Carbon zone" button: the zone the task ran against, else the first configured zone."""

    name = "Carbon zone"

    def get_link(self, operator: BaseOperator, *, ti_key: TaskInstanceKey) -> str:
        reported = _reported(ti_key)
        zone = _text(reported.get("zone")) or configured_zone(operator)
        if zone is None:
            return ""
        return zone_url(zone, _text(reported.get("source")) or _text(getattr(operator, "source", None)))


def configured_zone(operator: Any) -> str | None:
    """``operator.zone``, else the first of ``operator.zones``, else None."""
    zone = _text(getattr(operator, "zone", None))
    if zone is not None:
        return zone
    zones = getattr(operator, "zones", None)
    if isinstance(zones, list | tuple) and zones:
        return _text(zones[0])
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
