"""DAGs whose tasks return carbon payloads exactly as the sensor and report operator do (self-contained file).

Copied into the dags folder of the test Airflow home (and of the browser test's ``airflow standalone``), so it
imports nothing from the test suite. The live wait state is built by the provider's own code from a real
decision, so the views read exactly what a trigger publishes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from airflow.sdk import dag, get_current_context, task
from airflow.sdk.exceptions import AirflowSkipException

from airflow_carbon_provider.carbon.policy import PlanSpec
from airflow_carbon_provider.carbon.readings import Reading
from airflow_carbon_provider.carbon.wait_state import WAIT_STATE_KEY, build_wait_state
from airflow_carbon_provider.carbon.waiting import ZoneData, decide
from airflow_carbon_provider.operators.nodepool import NodePoolOperator

RELEASE = datetime(2023, 6, 1, 10, 0, tzinfo=UTC)
MARKUP = "<script>alert('zone')</script>"


def iso(moment: datetime) -> str:
    return moment.isoformat()


def sample_wait(zone: str = "ES") -> dict[str, Any]:
    return {
        "kind": "airflow_carbon_provider.wait/v1",
        "zone": zone,
        "release": iso(RELEASE),
        "start": iso(RELEASE + timedelta(hours=3)),
        "waited_seconds": 10800.0,
        "intensity_at_start": 95.0,
        "intensity_at_release": 212.0,
        "planned_mean": 101.5,
        "policy": "forecast",
        "source": "replay",
        "deadline_forced": False,
        "degraded": False,
        "notes": [],
        "zones": {zone: 95.0, "PL": 610.0},
    }


def sample_report(zone: str = "ES", notes: list[str] | None = None) -> dict[str, Any]:
    start = RELEASE + timedelta(hours=3)
    series = [
        {
            "start": iso(RELEASE + timedelta(hours=hour)),
            "end": iso(RELEASE + timedelta(hours=hour + 1)),
            "intensity": [212.0, 180.0, 140.0, 95.0, 90.0, 120.0, 160.0][hour + 1],
            "forecast": hour >= 3,
        }
        for hour in range(-1, 6)
    ]
    return {
        "kind": "airflow_carbon_provider.report/v1",
        "zone": zone,
        "source": "replay",
        "release": iso(RELEASE),
        "deadline": iso(RELEASE + timedelta(hours=8)),
        "start": iso(start),
        "end": iso(start + timedelta(hours=2)),
        "waited_seconds": 10800.0,
        "energy_kwh": 6.3,
        "power_w": 3000.0,
        "pue": 1.05,
        "instance_type": "g5.xlarge",
        "emitted_g": 582.75,
        "baseline_g": 1234.5,
        "avoided_g": 651.75,
        "intensity_mean": 92.5,
        "intensity_baseline_mean": 196.0,
        "intensity_at_start": 95.0,
        "intensity_at_release": 212.0,
        "deadline_forced": False,
        "degraded": False,
        "notes": notes or ["replayed from bundled ES 2023 data"],
        "series": series,
    }


def sample_wait_state(now: datetime = RELEASE + timedelta(minutes=30)) -> dict[str, Any]:
    """What a forecast-policy trigger publishes 30 minutes into a wait: the low is at 14:00 (100 gCO₂e/kWh)."""
    values = [212.0, 200.0, 180.0, 150.0, 100.0, 100.0, 160.0, 220.0, 240.0, 250.0, 260.0]
    hour = now.replace(minute=0)
    readings = [
        Reading("ES", hour + timedelta(hours=h), hour + timedelta(hours=h + 1), v, forecast=h > 0, source="replay")
        for h, v in enumerate(values)
    ]
    history = [Reading("ES", hour - timedelta(hours=h), hour - timedelta(hours=h - 1), 230.0) for h in (3, 2, 1)]
    data = {"ES": ZoneData(latest=readings[0], forecast=readings[1:], history=history)}
    spec = PlanSpec(policy="forecast", duration=timedelta(hours=2))  # type: ignore[arg-type]
    deadline = RELEASE + timedelta(hours=10)
    decision = decide(spec, now=now, deadline=deadline, data=data, poll_interval=timedelta(minutes=15))
    return build_wait_state(
        decision,
        spec=spec,
        release=RELEASE,
        deadline=deadline,
        on_deadline="run",
        source="replay",
        data=data,
        wall_time=now,
        speed=1.0,
    )


def push_wait_state() -> None:
    get_current_context()["ti"].xcom_push(key=WAIT_STATE_KEY, value=sample_wait_state())


@dag(dag_id="carbon_green_run", schedule=None, start_date=datetime(2023, 1, 1, tzinfo=UTC), catchup=False)
def carbon_green_run() -> None:
    @task(multiple_outputs=False)
    def wait_for_green() -> dict[str, Any]:
        return sample_wait()

    @task(multiple_outputs=False)
    def carbon_report() -> dict[str, Any]:
        return sample_report()

    @task(multiple_outputs=False)
    def unrelated() -> dict[str, Any]:
        return {"rows": 3}

    wait_for_green() >> carbon_report() >> unrelated()


@dag(dag_id="carbon_markup", schedule=None, start_date=datetime(2023, 1, 1, tzinfo=UTC), catchup=False)
def carbon_markup() -> None:
    @task(multiple_outputs=False)
    def carbon_report() -> dict[str, Any]:
        return sample_report(zone=MARKUP, notes=["<img src=x onerror=alert('note')>"])

    @task(multiple_outputs=False)
    def broken_report() -> dict[str, Any]:
        return {**sample_report(), "emitted_g": "<b>lots</b>"}

    carbon_report() >> broken_report()


@dag(dag_id="no_carbon", schedule=None, start_date=datetime(2023, 1, 1, tzinfo=UTC), catchup=False)
def no_carbon() -> None:
    @task(multiple_outputs=False)
    def plain() -> int:
        return 42

    plain()


@dag(dag_id="carbon_deferred", schedule=None, start_date=datetime(2023, 1, 1, tzinfo=UTC), catchup=False)
def carbon_deferred() -> None:
    @task(multiple_outputs=False)
    def wait_for_green() -> None:
        """Stands in for a sensor that published its plan; the test marks it deferred (a run still waiting)."""
        push_wait_state()

    wait_for_green()


@dag(dag_id="carbon_failed_run", schedule=None, start_date=datetime(2023, 1, 1, tzinfo=UTC), catchup=False)
def carbon_failed_run() -> None:
    """The job was accounted, then the run failed: its grams are shown, its avoided grams never counted."""

    @task(multiple_outputs=False)
    def carbon_report() -> dict[str, Any]:
        return sample_report(zone="NO")

    @task
    def publish() -> None:
        raise RuntimeError("the publishing step failed")

    carbon_report() >> publish()


@dag(dag_id="carbon_skipped_wait", schedule=None, start_date=datetime(2023, 1, 1, tzinfo=UTC), catchup=False)
def carbon_skipped_wait() -> None:
    @task(multiple_outputs=False)
    def wait_for_green() -> None:
        """A sensor with on_deadline='skip' that reached its deadline: its last plan stays, the task skips."""
        push_wait_state()
        raise AirflowSkipException("Carbon wait: deadline reached, skipping (on_deadline='skip')")

    wait_for_green()


@dag(dag_id="carbon_nodepool", schedule=None, start_date=datetime(2023, 1, 1, tzinfo=UTC), catchup=False)
def carbon_nodepool() -> None:
    NodePoolOperator(
        task_id="open_pool",
        nodepool_name="batch",
        changes=[{"type": "allow_capacity_types", "values": ["spot", "on-demand"]}],
    )


carbon_green_run()
carbon_markup()
no_carbon()
carbon_deferred()
carbon_failed_run()
carbon_skipped_wait()
carbon_nodepool()
