"""``airflow-carbon replay``: how much would carbon-aware start shifting save for my jobs in my region?"""

from __future__ import annotations

import argparse
import json
import re
import sys
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from airflow_carbon_provider.carbon.policy import DeadlineKind, Policy, Threshold

if TYPE_CHECKING:
    from airflow_carbon_provider.carbon.series import Series
    from airflow_carbon_provider.replay.engine import Decisions, Scenario

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|hr|d|day|days)\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hr": 3600, "d": 86400, "day": 86400, "days": 86400}


def parse_duration(text: str) -> timedelta:
    """``90m``, ``4h``, ``1.5h``, ``2d``; a bare number is an error (the unit is never guessed)."""
    match = _DURATION.match(text)
    if not match:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration such as 30m, 4h, 1.5h or 2d")
    return timedelta(seconds=float(match.group(1)) * _UNIT_SECONDS[match.group(2).lower()])


def _threshold(text: str) -> Threshold:
    try:
        return Threshold.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _default_high(low: Threshold) -> Threshold:
    if low.percentile:
        return Threshold(min(100.0, low.value + 15), percentile=True)
    return Threshold(low.value * 1.15)


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "replay",
        help="replay policies on recorded carbon-intensity data and report the savings",
        description=(
            "Release a job every --release-every over each series (after 48 h of history) and let each policy pick "
            "its start within the slack, seeing only data up to its simulated time. oracle knows the future (the "
            "limit); forecast plans on the true future plus --forecast-error noise; auto uses no forecast source "
            "(the built-in forecaster). Savings are total reductions vs starting at release."
        ),
    )
    parser.add_argument("--data", action="append", required=True, type=Path, metavar="FILE_OR_DIR",
                        help="a CSV (datetime,carbon_intensity or an Electricity Maps export) or a directory of CSVs; "
                             "the zone is the file stem; repeatable")  # fmt: skip
    parser.add_argument("--duration", action="append", type=parse_duration, metavar="DURATION",
                        help="job duration, e.g. 4h; repeatable (default 1h, 4h, 8h)")  # fmt: skip
    parser.add_argument("--slack", type=parse_duration, default=timedelta(hours=24),
                        help="time from release to the deadline (default 24h)")  # fmt: skip
    parser.add_argument("--deadline-kind", choices=[k.value for k in DeadlineKind], default=DeadlineKind.START.value,
                        help="start: start within the slack; finish: finish within it (default start)")  # fmt: skip
    parser.add_argument("--policy", action="append", choices=[p.value for p in Policy],
                        help="repeatable (default: all six)")  # fmt: skip
    parser.add_argument("--threshold", type=_threshold, default=Threshold(25.0, percentile=True),
                        help="threshold/hysteresis low threshold: gCO₂e/kWh or a percentile of the trailing "
                             "history window such as p25 (default p25)")  # fmt: skip
    parser.add_argument("--threshold-high", type=_threshold, default=None,
                        help="hysteresis high threshold (default: 15 points or 15%% above --threshold)")  # fmt: skip
    parser.add_argument("--min-dwell", type=parse_duration, default=timedelta(0), help="hysteresis minimum dwell")
    parser.add_argument("--history-window", type=parse_duration, default=timedelta(days=14),
                        help="history read by percentiles and the built-in forecaster (default 14d)")  # fmt: skip
    parser.add_argument("--release-every", type=parse_duration, default=timedelta(hours=1),
                        help="one job released every ... (default 1h)")  # fmt: skip
    parser.add_argument("--forecast-error", type=float, default=0.05,
                        help="forecast policy: noise sigma as a fraction of mean intensity (default 0.05)")  # fmt: skip
    parser.add_argument("--seed", type=int, default=1, help="seed of the forecast noise (default 1)")
    parser.add_argument("--decisions", type=Path, metavar="OUT.csv",
                        help="write every job's decision: zone,policy,duration_h,release,start")  # fmt: skip
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.set_defaults(handler=run)


def data_files(paths: list[Path]) -> list[Path]:
    """The files named, a directory standing for every ``*.csv`` directly in it (sorted)."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix.lower() == ".csv" and p.is_file())
            if not found:
                raise ValueError(f"--data {path}: directory has no .csv files")
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            raise ValueError(f"--data {path}: no such file or directory")
    return files


def load_zones(paths: list[Path]) -> dict[str, Series]:
    from airflow_carbon_provider.carbon.csv_series import load_series, zone_from_path
    from airflow_carbon_provider.carbon.series import Series

    zones: dict[str, Series] = {}
    for path in data_files(paths):
        zone = zone_from_path(path)
        if zone in zones:
            raise ValueError(f"--data {path}: zone {zone!r} is given twice (zones are file stems)")
        zones[zone] = Series.from_readings(load_series(path))
    return zones


def scenario_from_args(args: argparse.Namespace) -> Scenario:
    from airflow_carbon_provider.replay.engine import ALL_POLICIES, Scenario

    return Scenario(
        durations=tuple(args.duration or (timedelta(hours=1), timedelta(hours=4), timedelta(hours=8))),
        slack=args.slack,
        deadline_kind=DeadlineKind(args.deadline_kind),
        policies=tuple(dict.fromkeys(Policy(p) for p in args.policy)) if args.policy else ALL_POLICIES,
        threshold=args.threshold,
        threshold_high=args.threshold_high or _default_high(args.threshold),
        min_dwell=args.min_dwell,
        release_every=args.release_every,
        forecast_error=args.forecast_error,
        seed=args.seed,
        history_window=args.history_window,
    )


def run(args: argparse.Namespace) -> int:
    from airflow_carbon_provider.replay.engine import replay_zone
    from airflow_carbon_provider.replay.results import format_table, summarize, write_decisions

    scenario = scenario_from_args(args)
    zones = load_zones(args.data)
    summaries = []
    decisions: list[Decisions] = []
    for zone, truth in zones.items():
        zone_decisions = replay_zone(truth, zone, scenario)
        summaries.extend(summarize(truth, zone_decisions))
        decisions.extend(zone_decisions)
    if args.decisions:
        with args.decisions.open("w", encoding="utf-8", newline="") as out:
            write_decisions(decisions, out)
    if args.json:
        json.dump([s.to_dict() for s in summaries], sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        print(format_table(summaries))
    return 0
