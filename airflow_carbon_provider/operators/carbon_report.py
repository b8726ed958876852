"""Report what a carbon-aware run emitted and avoided, after the job."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

from airflow_carbon_provider.carbon.accounting import build_report, series_window
from airflow_carbon_provider.carbon.power import power_model
from airflow_carbon_provider.carbon.readings import parse_utc
from airflow_carbon_provider.hooks.carbon_intensity import CarbonIntensityHook
from airflow_carbon_provider.links.carbon_intensity import CarbonZoneLink
from airflow_carbon_provider.metrics import emit_report_metrics

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    from airflow.sdk import Context


class CarbonReportOperator(BaseOperator):
    """Account for the job that ran after a :class:`CarbonIntensitySensor`: grams of CO2e emitted and avoided.

    The job's interval runs from the start the sensor chose (its XCom) to ``job_end`` (default: now, on the
    connection's clock, so the report runs right after the job). Power comes from ``instance_type`` (a table
    with cited coefficients) or ``watts``. The result is returned as XCom and emitted as metrics.

    :param wait_task_id: task id of the CarbonIntensitySensor whose XCom gives zone, release and start.
    :param carbon_conn_id: connection of the carbon source that gives the measured history.
    :param zone: zone to account for; default: the zone the sensor chose.
    :param instance_type: AWS instance type of the job's node(s), e.g. ``p4d.24xlarge``.
    :param watts: IT power in watts per instance; overrides the table.
    :param count: number of instances.
    :param pue: data-centre PUE; default the cloud's (AWS 1.135).
    :param job_start: ISO-8601 start of the job, if not the sensor's chosen start (templated).
    :param job_end: ISO-8601 end of the job, if not now (templated).
    """

    template_fields: Sequence[str] = ("zone", "job_start", "job_end", "instance_type")
    operator_extra_links = (CarbonZoneLink(),)
    ui_color = "#d8f3dc"

    def __init__(
        self,
        *,
        wait_task_id: str = "wait_for_green_window",
        carbon_conn_id: str = CarbonIntensityHook.default_conn_name,
        zone: str | None = None,
        instance_type: str | None = None,
        watts: float | None = None,
        count: int = 1,
        pue: float | None = None,
        cloud: str = "aws",
        job_start: str | None = None,
        job_end: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        # Validate the power model now, at DAG-parse time, unless it depends on a template.
        if instance_type is None or "{{" not in instance_type:
            power_model(instance_type, watts=watts, count=count, pue=pue, cloud=cloud)
        self.wait_task_id = wait_task_id
        self.carbon_conn_id = carbon_conn_id
        self.zone = zone
        self.instance_type = instance_type
        self.watts = watts
        self.count = count
        self.pue = pue
        self.cloud = cloud
        self.job_start = job_start
        self.job_end = job_end

    def execute(self, context: Context) -> dict[str, Any]:
        wait: dict[str, Any] = context["ti"].xcom_pull(task_ids=self.wait_task_id) or {}
        if not wait:
            raise ValueError(
                f"wait_task_id {self.wait_task_id!r} returned no XCom: point it at the CarbonIntensitySensor task"
            )
        hook = CarbonIntensityHook(carbon_conn_id=self.carbon_conn_id)
        zone = self.zone or str(wait["zone"])
        release = parse_utc(str(wait["release"]), "release")
        start = parse_utc(self.job_start or str(wait["start"]), "job_start")
        end: datetime = parse_utc(self.job_end, "job_end") if self.job_end else hook.clock.now()
        window_start, window_end = series_window(release, start, end)
        history = hook.get_history(zone, window_start, min(window_end, hook.clock.now()))
        report = build_report(
            zone=zone,
            source=str(wait.get("source") or hook.source_name),
            release=release,
            start=start,
            end=end,
            power=power_model(self.instance_type, watts=self.watts, count=self.count, pue=self.pue, cloud=self.cloud),
            history=history,
            deadline=parse_utc(str(wait["deadline"]), "deadline") if wait.get("deadline") else None,
            deadline_forced=bool(wait.get("deadline_forced")),
            notes=tuple(wait.get("notes") or ()),
        )
        payload = report.to_dict()
        self.log.info(
            "Carbon report for %s: %.1f kWh, emitted %s gCO₂e, avoided %s gCO₂e vs starting at release (waited %.1f h)",
            zone,
            report.energy_kwh,
            _grams(report.emitted_g),
            _grams(report.avoided_g),
            payload["waited_seconds"] / 3600,
        )
        for note in report.notes:
            self.log.warning("Carbon report degraded: %s", note)
        emit_report_metrics(payload, dag_id=self.dag_id, task_id=self.task_id)
        return payload


def _grams(value: float | None) -> str:
    return "unknown" if value is None else f"{value:,.0f}"
