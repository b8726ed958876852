"""The offline demo (`make demo`): carbon_aware_gpu_training end to end on bundled real grid data.

No key, no network, no cluster: the replay source serves Spain's 2023 grid (Electricity Maps data) from
2023-10-12 01:00 UTC, 30 minutes of grid time per real second; the sensor really defers and its trigger really
runs (inline, as `airflow dags test` does); the NodePool steps are offline dry runs and the training is a
local stand-in. It ends with the carbon report. The Airflow home is a throwaway folder, .airflow/demo.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
HOME = REPO / ".airflow" / "demo"
DAG_ID = "carbon_aware_gpu_training"
REPLAY_START = "2023-10-12T01:00:00+00:00"
SPEED = 1800.0


def configure() -> None:
    """Environment for a throwaway Airflow home; must happen before Airflow is imported."""
    HOME.mkdir(parents=True, exist_ok=True)
    os.environ.update(
        {
            "AIRFLOW_HOME": str(HOME),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{HOME / 'airflow.db'}",
            "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "example_dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        }
    )


def start_replay() -> None:
    """The replay connection: Spain's grid from 2023-10-12 01:00 UTC, which the replay reaches when the sensor
    first asks (everything runs in this one process under ``dag.test()``, so all tasks share that clock)."""
    replay = {"source": "replay", "zone": "ES", "replay_start": REPLAY_START, "replay_speed": SPEED}
    os.environ["AIRFLOW_CONN_CARBON_INTENSITY_DEFAULT"] = json.dumps({"conn_type": "carbon_intensity", "extra": replay})


def run_demo() -> dict[str, Any]:
    from airflow import settings
    from airflow.dag_processing.dagbag import DagBag
    from airflow.models.xcom import XComModel
    from airflow.utils.db import initdb
    from airflow.utils.session import create_session
    from sqlalchemy import select

    settings.configure_vars()
    settings.configure_orm()
    if not (HOME / ".migrated").exists():
        initdb()
        (HOME / ".migrated").touch()
    bag = DagBag(dag_folder=str(REPO / "example_dags" / f"{DAG_ID}.py"))
    if bag.import_errors:
        raise SystemExit(f"example DAG failed to import: {bag.import_errors}")
    start_replay()
    run = bag.get_dag(DAG_ID).test()
    if run.state != "success":
        raise SystemExit(f"the demo run ended {run.state}; see the log above")
    with create_session() as session:
        row = session.execute(
            select(XComModel.value).where(
                XComModel.dag_run_id == run.id, XComModel.task_id == "carbon_report", XComModel.key == "return_value"
            )
        ).first()
    if row is None:
        raise SystemExit("the run has no carbon report")
    report: dict[str, Any] = XComModel.deserialize_value(row)
    return report


def format_report(report: dict[str, Any]) -> str:
    def when(text: str | None) -> str:
        return "-" if not text else text.replace("T", " ")[:16] + " UTC"

    def grams(value: float | None) -> str:
        return "unknown" if value is None else f"{value:,.0f} gCO₂e"

    avoided, baseline = report.get("avoided_g"), report.get("baseline_g")
    share = f" ({avoided / baseline:.0%} less)" if avoided is not None and baseline else ""
    lines = [
        f"Carbon report: {DAG_ID} in zone {report['zone']} (source {report['source']})",
        f"  released    {when(report['release'])} at {report['intensity_at_release']:.0f} gCO₂e/kWh",
        f"  started     {when(report['start'])} at {report['intensity_at_start']:.0f} gCO₂e/kWh"
        f"  (waited {report['waited_seconds'] / 3600:.1f} h; deadline {when(report.get('deadline'))})",
        f"  finished    {when(report['end'])}",
        f"  energy      {report['energy_kwh']:.2f} kWh ({report['instance_type']}, PUE {report['pue']})",
        f"  emitted     {grams(report['emitted_g'])} at a mean {report['intensity_mean']:.0f} gCO₂e/kWh",
        f"  at release  {grams(baseline)} at a mean {report['intensity_baseline_mean']:.0f} gCO₂e/kWh",
        f"  avoided     {grams(avoided)}{share}",
    ]
    if report.get("deadline_forced"):
        lines.append("  the deadline forced the start")
    lines.extend(f"  note: {note}" for note in report.get("notes") or [])
    lines.append("Data: contains data from Electricity Maps, made available under the ODbL 1.0.")
    return "\n".join(lines)


def main() -> int:
    configure()
    started = time.monotonic()
    report = run_demo()
    print("\n" + format_report(report))
    print(f"\n(demo ran in {time.monotonic() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
