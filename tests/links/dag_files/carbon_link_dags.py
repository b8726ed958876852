"""Tasks carrying CarbonZoneLink: one that reports a winning zone, one that fails first, one that defers first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from airflow.providers.standard.triggers.temporal import DateTimeTrigger
from airflow.sdk import BaseOperator, dag

from airflow_carbon_provider.links.carbon_intensity import CarbonZoneLink


class ZonedOperator(BaseOperator):
    """Stands in for the carbon sensor: candidate zones, then returns the wait payload naming the winner."""

    operator_extra_links = (CarbonZoneLink(),)

    def __init__(self, *, zones: list[str], winner: str | None, defer: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.zones = zones
        self.winner = winner
        self.defer_first = defer

    def execute(self, context: Any) -> dict[str, Any]:
        if self.defer_first:
            self.defer(trigger=DateTimeTrigger(moment=datetime.now(UTC) + timedelta(seconds=1)), method_name="done")
        return self.done(context)

    def done(self, context: Any, event: Any = None) -> dict[str, Any]:
        if self.winner is None:
            raise RuntimeError("carbon source unavailable")
        return {"kind": "airflow_carbon_provider.wait/v1", "zone": self.winner, "source": "electricitymaps"}


@dag(dag_id="carbon_link", schedule=None, start_date=datetime(2023, 1, 1, tzinfo=UTC), catchup=False)
def carbon_link() -> None:
    ZonedOperator(task_id="reported", zones=["FR", "NO"], winner="NO")
    ZonedOperator(task_id="failed", zones=["FR", "NO"], winner=None)
    ZonedOperator(task_id="deferred", zones=["DE"], winner="SE", defer=True)


@dag(dag_id="carbon_link_never_reports", schedule=None, start_date=datetime(2023, 1, 1, tzinfo=UTC), catchup=False)
def carbon_link_never_reports() -> None:
    ZonedOperator(task_id="deferred", zones=["PL"], winner=None, defer=True)


carbon_link()
carbon_link_never_reports()
