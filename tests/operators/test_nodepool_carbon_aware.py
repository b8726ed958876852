"""CarbonAwareNodePoolOperator: the carbon-driven reconcile loop, with the real CarbonIntensityHook replaying
real intensity data and the fake Kubernetes API server holding the pool."""

from __future__ import annotations

import json
import statistics
from datetime import UTC, datetime, timedelta

import pytest

from airflow_carbon_provider.carbon.csv_series import load_series
from airflow_carbon_provider.carbon.hysteresis import Hysteresis
from airflow_carbon_provider.karpenter.bundled import example_nodepool
from airflow_carbon_provider.karpenter.state import GATE_STATE_ANNOTATION
from airflow_carbon_provider.operators.nodepool import CarbonAwareNodePoolOperator
from tests.conftest import BUNDLED_DATA
from tests.operators.nodepool_fixtures import *  # noqa: F403 - the kube_api and clock fixtures
from tests.operators.nodepool_fixtures import CONN, CONTEXT, NAME

CARBON_CONN = "carbon_replay"
CLEAN = [{"type": "resume"}, {"type": "allow_capacity_types", "values": ["spot", "on-demand"]}]
DIRTY = [{"type": "pause"}]
SPAIN = BUNDLED_DATA / "ES_2023.csv"  # Electricity Maps, hourly, bundled with the package
NOISY_DAY = datetime(2023, 10, 20, tzinfo=UTC)  # Spain hovers around 90 gCO₂e/kWh all night, then swings


@pytest.fixture
def replay_at(monkeypatch):
    """Point the carbon connection's replay clock at ``when`` on Spain's real 2023 series."""

    def at(when: datetime) -> None:
        extra = {"source": "replay", "replay_file": str(SPAIN), "replay_start": when.isoformat()}
        monkeypatch.setenv(
            f"AIRFLOW_CONN_{CARBON_CONN.upper()}", json.dumps({"conn_type": "carbon_intensity", "extra": extra})
        )

    return at


def reconcile(clock, low: float, high: float, **kwargs) -> CarbonAwareNodePoolOperator:
    kwargs.setdefault("kubernetes_conn_id", CONN)
    kwargs.setdefault("min_interval", 0)
    return CarbonAwareNodePoolOperator(
        task_id="carbon_reconcile",
        nodepool_name=NAME,
        clean_changes=CLEAN,
        dirty_changes=DIRTY,
        threshold_low=low,
        threshold_high=high,
        carbon_conn_id=CARBON_CONN,
        wait_for_ready=1,
        clock=clock,
        **kwargs,
    )


def test_a_dirty_grid_applies_the_dirty_profile_and_stores_the_gate_on_the_pool(kube_api, clock, replay_at) -> None:
    replay_at(NOISY_DAY + timedelta(minutes=1))
    result = reconcile(clock, low=50, high=60).execute(CONTEXT)
    assert result["grid_state"] == "dirty"
    assert result["previous_grid_state"] is None
    assert result["reading"]["zone"] == "ES_2023"
    assert result["profile"] == DIRTY
    stored = kube_api.get(NAME)
    assert stored["spec"]["limits"]["cpu"] == "0"
    assert json.loads(stored["metadata"]["annotations"][GATE_STATE_ANNOTATION])["state"] == "dirty"


def test_a_clean_grid_applies_the_clean_profile(kube_api, clock, replay_at) -> None:
    replay_at(NOISY_DAY + timedelta(minutes=1))
    result = reconcile(clock, low=400, high=450).execute(CONTEXT)
    assert result["grid_state"] == "clean"
    requirements = kube_api.get(NAME)["spec"]["template"]["spec"]["requirements"]
    assert requirements[1] == {"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["spot", "on-demand"]}


def test_a_clean_grid_lifts_the_pause_the_dirty_profile_set(kube_api, clock, replay_at) -> None:
    replay_at(NOISY_DAY + timedelta(minutes=1))
    reconcile(clock, low=50, high=60).execute(CONTEXT)
    clock.advance(timedelta(hours=1))
    result = reconcile(clock, low=400, high=450).execute(CONTEXT)
    assert (result["previous_grid_state"], result["grid_state"]) == ("dirty", "clean")
    assert kube_api.get(NAME)["spec"]["limits"]["cpu"] == "1000"


def test_the_gate_is_kept_on_the_pool_between_runs_while_a_crossing_dwells(kube_api, clock, replay_at) -> None:
    replay_at(NOISY_DAY + timedelta(minutes=1))
    reconcile(clock, low=50, high=60, min_dwell=timedelta(hours=2)).execute(CONTEXT)
    clock.advance(timedelta(hours=1))
    replay_at(NOISY_DAY + timedelta(hours=1, minutes=1))
    pending = reconcile(clock, low=400, high=450, min_dwell=timedelta(hours=2)).execute(CONTEXT)
    assert pending["grid_state"] == "dirty"  # below low, but not for min_dwell yet
    gate = json.loads(kube_api.get(NAME)["metadata"]["annotations"][GATE_STATE_ANNOTATION])
    assert gate["pending_since"] is not None
    assert kube_api.get(NAME)["spec"]["limits"]["cpu"] == "0"


def test_a_garbled_gate_annotation_is_a_clear_error(kube_api, clock, replay_at) -> None:
    replay_at(NOISY_DAY + timedelta(minutes=1))
    kube_api.write(NAME, lambda np: np["metadata"]["annotations"].update({GATE_STATE_ANNOTATION: "{oops"}))
    with pytest.raises(ValueError, match="remove it to let the gate start afresh"):
        reconcile(clock, low=50, high=60).execute(CONTEXT)


def count_pool_switches(kube_api, clock, replay_at, low: float, high: float) -> int:
    """Run the operator hourly over the noisy day on a fresh pool; count runs that changed its spec."""
    kube_api.add(example_nodepool())
    switches = -1  # the first run only puts the pool into its starting profile
    for hour in range(24):
        replay_at(NOISY_DAY + timedelta(hours=hour, minutes=1))
        clock.advance(timedelta(hours=1))
        if reconcile(clock, low, high).execute(CONTEXT)["outcome"] == "changed":
            switches += 1
    return switches


def gate_flips(low: float, high: float, series) -> int:
    gate, flips = None, 0
    for reading in series:
        stepped = Hysteresis(low, high).step(gate, reading.intensity, reading.start)
        flips += gate is not None and stepped.state is not gate.state
        gate = stepped
    return flips


def test_hysteresis_keeps_a_noisy_real_signal_from_toggling_the_pool(kube_api, clock, replay_at) -> None:
    hourly = [reading for reading in load_series(SPAIN) if NOISY_DAY <= reading.start < NOISY_DAY + timedelta(days=1)]
    single_threshold = count_pool_switches(kube_api, clock, replay_at, low=90, high=90)
    with_hysteresis = count_pool_switches(kube_api, clock, replay_at, low=81, high=99)
    assert single_threshold == gate_flips(90, 90, hourly) == 8
    assert with_hysteresis == gate_flips(81, 99, hourly) == 2


def test_over_a_whole_noisy_year_a_10_percent_band_at_least_halves_the_toggles() -> None:
    year = load_series(BUNDLED_DATA / "NO_2023.csv")  # Norway: a low, flat signal that crosses its median often
    median = statistics.median_low(reading.intensity for reading in year)
    assert gate_flips(median, median, year) == 702
    assert gate_flips(median * 0.9, median * 1.1, year) == 104


def test_without_a_kubernetes_connection_it_dry_runs_on_the_example_pool(clock, replay_at) -> None:
    replay_at(NOISY_DAY + timedelta(minutes=1))
    result = reconcile(clock, low=50, high=60, kubernetes_conn_id=None).execute(CONTEXT)
    assert result["mode"] == "offline-dry-run"
    assert result["patch"]["spec"] == {"limits": {"cpu": "0"}}
    assert GATE_STATE_ANNOTATION in result["patch"]["metadata"]["annotations"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"threshold_low": 300, "threshold_high": 200}, "threshold_high"),
        ({"threshold_low": -1, "threshold_high": 200}, "threshold_low must be >= 0"),
        ({"clean_changes": []}, "clean_changes must hold at least one change"),
        ({"dirty_changes": [{"type": "nope"}]}, r"dirty_changes\[0\]: unknown change type"),
    ],
)
def test_bad_arguments_fail_at_construction(kwargs, message) -> None:
    arguments = {"clean_changes": CLEAN, "dirty_changes": DIRTY, "threshold_low": 100, "threshold_high": 200, **kwargs}
    with pytest.raises(ValueError, match=message):
        CarbonAwareNodePoolOperator(task_id="t", nodepool_name=NAME, **arguments)
