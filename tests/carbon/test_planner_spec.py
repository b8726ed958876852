"""PlanSpec and Threshold: validation at DAG-parse time and the JSON round trip for trigger kwargs."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from airflow_carbon_provider.carbon.policy import DeadlineKind, PlanSpec, Policy, Threshold


def test_threshold_parses_absolute_values_and_percentiles():
    assert Threshold.parse(250) == Threshold(250.0)
    assert Threshold.parse("120.5") == Threshold(120.5)
    assert Threshold.parse("p25") == Threshold(25.0, percentile=True)
    assert Threshold.parse("P100") == Threshold(100.0, percentile=True)


@pytest.mark.parametrize("bad", [-1, "-5", "abc", "p101", "p", float("nan"), True, None])
def test_threshold_rejects_garbage_naming_the_parameter(bad):
    with pytest.raises(ValueError, match=r"threshold_high must be a number >= 0 .* or a percentile"):
        Threshold.parse(bad, "threshold_high")


def test_spec_defaults_to_auto_with_a_finish_deadline():
    spec = PlanSpec(duration=timedelta(hours=2))
    assert spec.policy is Policy.AUTO
    assert spec.deadline_kind is DeadlineKind.FINISH
    assert spec.latest_start_offset() == timedelta(hours=2)


def test_spec_accepts_strings_for_enums_and_thresholds():
    spec = PlanSpec(policy="hysteresis", threshold="p20", threshold_high="p40", deadline_kind="start")  # type: ignore[arg-type]
    assert spec.policy is Policy.HYSTERESIS
    assert spec.high == Threshold(40.0, percentile=True)
    assert spec.latest_start_offset() == timedelta(0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"policy": "greedy"}, r"policy must be one of 'now', 'threshold', 'hysteresis', 'forecast', 'auto'"),
        ({"deadline_kind": "end"}, r"deadline_kind must be one of 'start', 'finish'"),
        ({"duration": timedelta(0)}, r"duration must be > 0"),
        ({"policy": "threshold"}, r"threshold is required for policy 'threshold'"),
        ({"policy": "hysteresis", "threshold": 200, "threshold_high": 100}, r"threshold_high .* must be >= threshold"),
        ({"policy": "threshold", "threshold": -3}, r"threshold must be a number >= 0"),
        ({"policy": "forecast", "threshold": 100, "threshold_high": 200}, r"threshold_high is only used by"),
        ({"min_dwell": timedelta(minutes=-1)}, r"min_dwell must be >= 0"),
        ({"history_window": timedelta(minutes=5)}, r"history_window must be >= 1 hour"),
        ({"policy": "hysteresis", "threshold": "p20", "threshold_high": 300}, r"both be absolute or both"),
    ],
)
def test_spec_rejects_bad_input_naming_the_parameter(kwargs, message):
    with pytest.raises(ValueError, match=message):
        PlanSpec(**kwargs)


def test_spec_round_trips_through_json():
    spec = PlanSpec(
        policy=Policy.HYSTERESIS,
        duration=timedelta(hours=4),
        deadline_kind=DeadlineKind.START,
        threshold=Threshold.parse("p25"),
        threshold_high=Threshold.parse("p60"),
        min_dwell=timedelta(minutes=30),
        history_window=timedelta(days=7),
    )
    assert PlanSpec.from_dict(json.loads(json.dumps(spec.to_dict()))) == spec
