"""CarbonReportOperator on the bundled Spanish 2023 data, checked against sums of the CSV's hourly values."""

from __future__ import annotations

import json
import socket
import time
from datetime import UTC, datetime

import pytest

from airflow_carbon_provider.operators.carbon_report import CarbonReportOperator

# ES_2023.csv: 2023-10-12 hours 01-04 = 311.57, 312.84, 315.17, 324.57; hours 11-14 = 123.95, 123.62, 116.26, 117.27
AT_RELEASE = 311.57 + 312.84 + 315.17 + 324.57
IN_WINDOW = 123.95 + 123.62 + 116.26 + 117.27
WAIT = {
    "kind": "airflow_carbon_provider.wait/v1",
    "zone": "ES",
    "source": "replay",
    "release": "2023-10-12T01:00:00+00:00",
    "start": "2023-10-12T11:00:00+00:00",
    "deadline": "2023-10-13T01:00:00+00:00",
    "deadline_forced": False,
    "notes": [],
}


class RuntimeTI:
    def __init__(self, xcoms: dict) -> None:
        self.xcoms = xcoms

    def xcom_pull(self, task_ids: str):
        return self.xcoms.get(task_ids)


@pytest.fixture(autouse=True)
def replay_after_the_job(monkeypatch):
    extra = {
        "source": "replay",
        "zone": "ES",
        "replay_start": "2023-10-12T16:00:00+00:00",
        "replay_wall_origin": time.time(),
    }
    monkeypatch.setenv(
        "AIRFLOW_CONN_CARBON_INTENSITY_DEFAULT", json.dumps({"conn_type": "carbon_intensity", "extra": extra})
    )


def report(**kwargs) -> CarbonReportOperator:
    return CarbonReportOperator(
        task_id="carbon_report", watts=1000, pue=1.0, job_end="2023-10-12T15:00:00+00:00", **kwargs
    )


def test_emitted_and_avoided_are_the_hourly_intensities_times_the_energy():
    payload = report().execute({"ti": RuntimeTI({"wait_for_green_window": WAIT})})
    assert payload["energy_kwh"] == pytest.approx(4.0)
    assert payload["emitted_g"] == pytest.approx(IN_WINDOW)
    assert payload["baseline_g"] == pytest.approx(AT_RELEASE)
    assert payload["avoided_g"] == pytest.approx(AT_RELEASE - IN_WINDOW)
    assert payload["degraded"] is False


def test_the_report_carries_the_intensity_series_around_both_windows():
    payload = report().execute({"ti": RuntimeTI({"wait_for_green_window": WAIT})})
    starts = [datetime.fromisoformat(p["start"]) for p in payload["series"]]
    assert min(starts) <= datetime(2023, 10, 12, 1, tzinfo=UTC)
    assert max(starts) >= datetime(2023, 10, 12, 14, tzinfo=UTC)


def test_without_the_sensor_xcom_it_says_which_task_to_point_at():
    with pytest.raises(ValueError, match="wait_task_id 'wait_for_green_window' returned no XCom"):
        report().execute({"ti": RuntimeTI({})})


def test_an_unknown_instance_type_fails_when_the_dag_is_parsed():
    with pytest.raises(ValueError, match=r"instance_type 'z9\.mega' is not in the power table"):
        CarbonReportOperator(task_id="carbon_report", instance_type="z9.mega")


@pytest.fixture
def statsd_listener():
    """A StatsD server on 127.0.0.1 and Airflow's StatsD logger pointed at it (tags in InfluxDB form)."""
    import statsd
    from airflow.sdk._shared.observability.metrics import stats
    from airflow.sdk._shared.observability.metrics.statsd_logger import get_statsd_logger

    server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    server.bind(("127.0.0.1", 0))
    server.settimeout(2)
    port = server.getsockname()[1]
    stats.initialize(
        factory=lambda: get_statsd_logger(
            stats_class=statsd.StatsClient,
            host="127.0.0.1",
            port=port,
            prefix="airflow",
            influxdb_tags_enabled=True,
            statsd_influxdb_enabled=True,
        ),
        export_legacy_names=False,
    )
    yield server
    stats.initialize(factory=stats.NoStatsLogger, export_legacy_names=False)
    server.close()


def test_grams_emitted_and_avoided_reach_statsd_tagged_by_dag_task_and_zone(statsd_listener):
    op = report()
    op.execute({"ti": RuntimeTI({"wait_for_green_window": WAIT})})
    packets = []
    while True:
        try:
            packets.append(statsd_listener.recv(4096).decode())
        except TimeoutError:
            break
    metrics = dict(line.rsplit(":", 1) for packet in packets for line in packet.splitlines())
    tags = f"dag_id={op.dag_id},task_id=carbon_report,zone=ES"
    assert float(metrics[f"airflow.carbon.emitted_g,{tags}"].removesuffix("|g")) == pytest.approx(IN_WINDOW)
    assert float(metrics[f"airflow.carbon.avoided_g,{tags}"].removesuffix("|g")) == pytest.approx(
        AT_RELEASE - IN_WINDOW
    )
    assert metrics[f"airflow.carbon.avoided_g_total,{tags}"] == f"{round(AT_RELEASE - IN_WINDOW)}|c"
