"""Bad input everywhere is refused with a ValueError that names the parameter and what is allowed.

One table per surface: sensor arguments (at DAG parse), connection fields (when the hook first builds its
source, i.e. the first task or the UI's Test button), replay CSV files named by a connection, and NodePool
names and change specs (at DAG parse).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from airflow_carbon_provider.hooks.carbon_intensity import CarbonIntensityHook
from airflow_carbon_provider.operators.nodepool import NodePoolOperator
from airflow_carbon_provider.sensors.carbon_intensity import CarbonIntensitySensor

SENSOR_ARGUMENTS = [
    ({"policy": "cheapest"}, r"policy must be one of 'now', 'threshold', 'hysteresis', 'forecast', 'auto'"),
    (
        {"policy": "threshold", "threshold": "p150"},
        r"threshold must be a number >= 0 \(gCO₂e/kWh\) or a percentile 'p0'..'p100'",
    ),
    ({"policy": "threshold", "threshold": "lots"}, r"threshold must be a number >= 0 .* got 'lots'"),
    (
        {"policy": "threshold", "threshold": 1, "threshold_high": 2},
        r"threshold_high is only used by policy 'hysteresis'",
    ),
    ({"duration": timedelta(0)}, r"duration must be > 0 \(the job's expected run time\)"),
    (
        {"min_dwell": timedelta(minutes=-1), "policy": "hysteresis", "threshold": 1, "threshold_high": 2},
        r"min_dwell must be >= 0",
    ),
    ({"deadline": 12}, r"deadline must be a timedelta, a datetime or an ISO-8601 string"),
    ({"deadline_kind": "end"}, r"deadline_kind must be one of 'start', 'finish'"),
    ({"on_deadline": "ignore"}, r"on_deadline must be one of 'run', 'skip', 'fail'"),
    ({"poll_interval": 300}, r"poll_interval must be a positive timedelta"),
    ({"zone": ["DE", ""]}, r"zone must be a non-empty list of non-empty zone names"),
    ({"history_window": timedelta(0)}, r"history_window must be >= 1 hour"),
    ({"deadline": datetime(2020, 1, 1, tzinfo=UTC)}, r"deadline .* in the past"),
]


@pytest.mark.parametrize(("kwargs", "message"), SENSOR_ARGUMENTS, ids=[str(k) for k, _ in SENSOR_ARGUMENTS])
def test_sensor_arguments_are_checked_when_the_dag_is_parsed(kwargs, message):
    with pytest.raises(ValueError, match=message):
        CarbonIntensitySensor(task_id="wait", **kwargs)


CONNECTIONS = [
    ({"extra": {"source": "carbonara"}}, r"source must be one of 'electricitymaps', 'watttime', 'ukgrid'"),
    ({"extra": {"source": "electricitymaps"}}, r"password: the electricitymaps source needs an API token"),
    ({"password": "x" * 12, "extra": {"source": "watttime"}}, r"login/password: the watttime source needs"),
    ({"host": "ftp://example.com", "extra": {"source": "ukgrid"}}, r"host: base URL .* must be an http\(s\) URL"),
    ({"host": "api.example.com", "extra": {"source": "ukgrid"}}, r"host: base URL .* must be an http\(s\) URL"),
    ({"extra": {"source": "ukgrid", "token": "oops"}}, r"extra: unknown field\(s\) \['token'\]; allowed: source, zone"),
    ({"extra": {"replay_speed": "fast"}}, r"replay_speed must be a number"),
    ({"extra": {"replay_speed": 0}}, r"replay_speed must be > 0"),
    ({"extra": {"source": "ukgrid", "timeout": -1}}, r"timeout must be > 0 seconds"),
    ({"extra": {"source": "ukgrid", "timeout": "inf"}}, r"timeout must be a finite number, got 'inf'"),
    ({"extra": {"replay_speed": "inf"}}, r"replay_speed must be a finite number"),
    ({"extra": {"replay_wall_origin": "nan"}}, r"replay_wall_origin must be a finite number"),
    ({"extra": {"emission_factor": "scope3"}}, r"emission_factor must be 'lifecycle' or 'direct'"),
    ({"extra": {"source": "carbon_aware_sdk", "signal": "avg"}}, r"signal must be one of 'average', 'marginal'"),
    ({"extra": {"replay_start": "yesterday"}}, r"replay_start .* is not an ISO-8601 timestamp"),
    ({"extra": {"replay_start": "2023-10-12T05:00:00"}}, r"replay_start .* must be timezone-aware"),
    (
        {"extra": {"zone": "aws:mars-north-1"}},
        r"zone: cloud region 'aws:mars-north-1' has no replay zone \(mapped regions for replay: ",
    ),
]


@pytest.mark.parametrize(("fields", "message"), CONNECTIONS, ids=[json.dumps(f) for f, _ in CONNECTIONS])
def test_connection_fields_are_checked_when_the_source_is_built(fields, message, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_BAD_INPUT", json.dumps({"conn_type": "carbon_intensity", **fields}))
    with pytest.raises(ValueError, match=message):
        CarbonIntensityHook("bad_input").get_source()


REPLAY_FILES = [
    ("", r"empty file; expected a header datetime,carbon_intensity"),
    (
        "time,value\n2023-01-01T00:00:00Z,1\n",
        r"unrecognised header \['time', 'value'\]; expected 'datetime,carbon_intensity'",
    ),
    ("datetime,carbon_intensity\n", r"no data rows"),
    ("datetime,carbon_intensity\n01/02/2023 10:00,1\n", r":2: timestamp '01/02/2023 10:00' is not ISO-8601"),
    ("datetime,carbon_intensity\n2023-01-01T00:00:00+01:00,1\n", r":2: timestamp .* is not UTC; convert it"),
    ("datetime,carbon_intensity\n2023-01-01T00:00:00,1\n", r":2: timestamp .* has no UTC offset"),
    (
        "datetime,carbon_intensity\n2023-01-01T00:00:00Z,1\n2023-01-01T00:00:00Z,2\n",
        r"duplicated timestamp 2023-01-01T00:00:00\+00:00",
    ),
]


@pytest.mark.parametrize(("text", "message"), REPLAY_FILES, ids=[m for _, m in REPLAY_FILES])
def test_a_bad_replay_file_named_by_a_connection_is_refused_with_file_and_line(text, message, tmp_path, monkeypatch):
    path: Path = tmp_path / "DE.csv"
    path.write_text(text)
    extra = {"source": "replay", "replay_file": str(path)}
    monkeypatch.setenv("AIRFLOW_CONN_BAD_REPLAY", json.dumps({"conn_type": "carbon_intensity", "extra": extra}))
    with pytest.raises(ValueError, match=message) as raised:
        CarbonIntensityHook("bad_replay").get_source()
    assert str(path) in str(raised.value)


NODEPOOL_ARGUMENTS = [
    ({"nodepool_name": "GPU_Pool"}, r"nodepool_name must be a Kubernetes object name \(lowercase DNS-1123"),
    ({"nodepool_name": "a" * 254}, r"nodepool_name must be a Kubernetes object name"),
    ({"allowed_nodepools": "gpu"}, r"allowed_nodepools must be a list of NodePool names, not a string"),
    ({"allowed_nodepools": ["other"]}, r"nodepool_name 'gpu' is not in allowed_nodepools \['other'\]"),
    ({"action": "delete"}, r"action must be one of apply, restore"),
    ({"changes": []}, r"changes must hold at least one change for action='apply'"),
    ({"changes": [{"type": "explode"}]}, r"unknown change type 'explode'; allowed: "),
    ({"changes": [{"kind": "pause"}]}, r"a change must be an object with a 'type' \(one of "),
    ({"changes": [{"type": "set_weight", "weight": 500}]}, r"weight must be an integer from 1 to 100"),
    (
        {"changes": [{"type": "set_requirement", "key": "kubernetes.io/arch", "operator": "Near", "values": ["x"]}]},
        r"operator must be one of In, NotIn",
    ),
    ({"changes": "not json"}, r"changes given as a string must be a JSON list of changes"),
    ({"min_interval": -5}, r"min_interval must be >= 0"),
    ({"max_attempts": 0}, r"max_attempts must be an integer >= 1"),
    ({"crd": "karpenter-v0"}, r"crd must be one of .*, a .yaml/.json CRD file path, or None"),
]


@pytest.mark.parametrize(("kwargs", "message"), NODEPOOL_ARGUMENTS, ids=[str(k)[:60] for k, _ in NODEPOOL_ARGUMENTS])
def test_nodepool_names_and_changes_are_checked_when_the_dag_is_parsed(kwargs, message):
    arguments = {"nodepool_name": "gpu", "changes": [{"type": "pause"}], **kwargs}
    with pytest.raises(ValueError, match=message):
        NodePoolOperator(task_id="pool", **arguments)
