"""``airflow-carbon replay``: how much would carbon-aware start shifting save for my jobs in my region?"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from airflow_carbon_provider.carbon.policy import DeadlineKind, Policy, Threshold
from airflow_carbon_provider.carbon.waiting import DEFAULT_POLL_INTERVAL

if TYPE_CHECKING:
    from airflow_carbon_provider.carbon.series import Series
    from airflow_carbon_provider.replay.engine import Decisions, Scenario
    from airflow_carbon_provider.replay.jobs import Jobs

DESCRIPTION = """\
Replay policies on recorded carbon-intensity data and report what they save against running every job at its
nominal time. Jobs: by default one released every --release-every (after --warmup of history) that may start
within --slack; or one per --schedule fire time that may move --shift-before/--shift-after; or the rows of --jobs.
Closed loop (default): every waiting job polls every --poll-interval and decides with the same function the
sensor's trigger uses, on exactly the data the trigger would have then. --open-loop plans forecast/auto once at the
first possible start instead. oracle knows the future (the limit); forecast reads the true future plus noise;
auto has no forecast source (the built-in forecaster). Intensities in gCO₂e/kWh, savings as total reductions."""


def parse_duration(text: str) -> timedelta:
    from airflow_carbon_provider.replay.jobs import parse_duration as parse

    try:
        return parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _positive_duration(text: str) -> timedelta:
    value = parse_duration(text)
    if value <= timedelta(0):
        raise argparse.ArgumentTypeError(f"{text!r} must be longer than 0")
    return value


def _threshold(text: str) -> Threshold:
    try:
        return Threshold.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _cron(text: str) -> str:
    from airflow_carbon_provider.replay.jobs import check_cron

    try:
        return check_cron(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be a whole number >= 1")
    return value


def _default_high(low: Threshold) -> Threshold:
    if low.percentile:
        return Threshold(min(100.0, low.value + 15), percentile=True)
    return Threshold(low.value * 1.15)


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "replay",
        help="replay policies on recorded carbon-intensity data and report the savings",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--data", action="append", required=True, type=Path, metavar="FILE_OR_DIR",
                        help="a CSV (datetime,carbon_intensity or an Electricity Maps export) or a directory of CSVs; "
                             "the zone is the file stem; repeatable. Sub-hourly data are used at their own "
                             "resolution: jobs may start on any data step")  # fmt: skip
    jobs = parser.add_argument_group("jobs (pick one form)")
    jobs.add_argument("--duration", action="append", type=_positive_duration, metavar="DURATION",
                      help="job duration, e.g. 4h or 4h30m; repeatable (default 1h, 4h, 8h)")  # fmt: skip
    jobs.add_argument("--slack", type=parse_duration, default=None,
                      help="released jobs: time from release to the deadline (default 24h)")  # fmt: skip
    jobs.add_argument("--release-every", type=_positive_duration, default=timedelta(hours=1),
                      help="released jobs: one job released every ... (default 1h)")  # fmt: skip
    jobs.add_argument("--schedule", type=_cron, metavar="CRON",
                      help="one job at each fire time of this cron expression (UTC), e.g. '0 1 * * *'; the fire "
                           "time is the nominal start (the baseline)")  # fmt: skip
    jobs.add_argument("--shift-before", type=parse_duration, default=timedelta(0), metavar="DURATION",
                      help="--schedule: the job may start this long before its fire time (default 0h)")  # fmt: skip
    jobs.add_argument("--shift-after", type=parse_duration, default=None, metavar="DURATION",
                      help="--schedule: ... and until this long after it, the deadline (default 24h)")  # fmt: skip
    jobs.add_argument("--jobs", type=Path, metavar="FILE.csv",
                      help="one job per row, header name,earliest,nominal,duration,deadline (ISO-8601 UTC times, "
                           "durations like 4h30m; nominal = when it would run unshifted, default earliest; "
                           "deadline = latest finish, or latest start with --deadline-kind start)")  # fmt: skip
    jobs.add_argument("--deadline-kind", choices=[k.value for k in DeadlineKind], default=None,
                      help="start: start by the deadline; finish: finish by it (default: finish for --jobs, start "
                           "otherwise)")  # fmt: skip
    jobs.add_argument("--warmup", type=parse_duration, default=timedelta(hours=48), metavar="DURATION",
                      help="history before the first job may start (default 48h; 0h allowed)")  # fmt: skip
    how = parser.add_argument_group("policies")
    how.add_argument("--policy", action="append", choices=[p.value for p in Policy],
                     help="repeatable (default: all six)")  # fmt: skip
    how.add_argument("--threshold", type=_threshold, default=Threshold(25.0, percentile=True),
                     help="threshold/hysteresis low threshold: gCO₂e/kWh or a percentile of the trailing history "
                          "window such as p25 (default p25)")  # fmt: skip
    how.add_argument("--threshold-high", type=_threshold, default=None,
                     help="hysteresis high threshold (default: 15 points or 15%% above --threshold)")  # fmt: skip
    how.add_argument("--min-dwell", type=parse_duration, default=timedelta(0), help="hysteresis minimum dwell")
    how.add_argument("--history-window", type=parse_duration, default=timedelta(days=14),
                     help="history read by percentiles and the built-in forecaster (default 14d)")  # fmt: skip
    how.add_argument("--poll-interval", type=_positive_duration, default=DEFAULT_POLL_INTERVAL,
                     help=f"closed loop: how often a waiting job decides (default "
                          f"{DEFAULT_POLL_INTERVAL.total_seconds() / 60:g}m, the sensor's default)")  # fmt: skip
    how.add_argument("--open-loop", action="store_true",
                     help="forecast/auto plan once at the first possible start and keep the plan; threshold/"
                          "hysteresis check at every new reading with one gate per zone (the earlier "
                          "model)")  # fmt: skip
    how.add_argument("--forecast-error", type=float, default=0.05,
                     help="forecast policy: each data point of the series gets Gaussian noise with sigma = this x "
                          "the series' mean intensity, one draw per point and seed, fixed for the whole run "
                          "(Wiesner et al.; default 0.05)")  # fmt: skip
    how.add_argument("--seed", type=int, default=1, help="first seed of the forecast noise (default 1)")
    how.add_argument("--seeds", type=_count, default=1,
                     help="repeat forecast with this many seeds (--seed, --seed+1, ...) and report the mean and "
                          "the spread (default 1)")  # fmt: skip
    out = parser.add_argument_group("output")
    out.add_argument("--decisions", type=Path, metavar="OUT.csv",
                     help="write every job's decision: zone,policy,seed,job,earliest,nominal,deadline,duration_h,"
                          "release,start")  # fmt: skip
    out.add_argument("--plot", type=Path, metavar="OUT.html|OUT.svg",
                     help="draw savings per zone and policy (the oracle is the bar's limit) and a sample week per "
                          "zone with the intensity, nominal times and chosen starts")  # fmt: skip
    out.add_argument("--json", action="store_true", help="print JSON instead of a table (no progress bar)")
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


def deadline_kind(args: argparse.Namespace) -> DeadlineKind:
    if args.deadline_kind:
        return DeadlineKind(args.deadline_kind)
    return DeadlineKind.FINISH if args.jobs else DeadlineKind.START


def scenario_from_args(args: argparse.Namespace) -> Scenario:
    from airflow_carbon_provider.replay.engine import ALL_POLICIES, Scenario

    return Scenario(
        deadline_kind=deadline_kind(args),
        policies=tuple(dict.fromkeys(Policy(p) for p in args.policy)) if args.policy else ALL_POLICIES,
        threshold=args.threshold,
        threshold_high=args.threshold_high or _default_high(args.threshold),
        min_dwell=args.min_dwell,
        forecast_error=args.forecast_error,
        seeds=tuple(range(args.seed, args.seed + args.seeds)),
        poll_interval=args.poll_interval,
        open_loop=args.open_loop,
        history_window=args.history_window,
    )


def _check_forms(args: argparse.Namespace) -> None:
    forms = [name for name, given in (("--jobs", args.jobs), ("--schedule", args.schedule)) if given]
    if len(forms) > 1:
        raise ValueError("give --jobs or --schedule, not both")
    if args.slack is not None and forms:
        raise ValueError(f"--slack describes released jobs; with {forms[0]} the window comes from {forms[0]}")
    if args.schedule is None and (args.shift_after is not None or args.shift_before):
        raise ValueError("--shift-before/--shift-after need --schedule")
    if args.jobs and args.duration:
        raise ValueError("--duration does not apply to --jobs (each row has its duration)")


def job_groups(args: argparse.Namespace, truth: Series) -> list[Jobs]:
    """The jobs the arguments describe, on one zone's series."""
    from airflow_carbon_provider.replay.jobs import fit_to_data, read_jobs, released_jobs, scheduled_jobs, total

    kind = deadline_kind(args)
    if args.jobs:
        given = read_jobs(args.jobs, kind)
        fitting = [fit_to_data(g, truth, args.warmup) for g in given]
        left_out = total(given) - total(fitting)
        if left_out:
            print(f"note: {left_out} of the {total(given)} jobs of {args.jobs} have a window outside the data of "
                  f"this zone (after the {args.warmup} warm-up) and are left out", file=sys.stderr)  # fmt: skip
        return fitting
    durations = args.duration or [timedelta(hours=h) for h in (1, 4, 8)]
    if args.schedule:
        after = timedelta(hours=24) if args.shift_after is None else args.shift_after
        return [
            scheduled_jobs(
                truth,
                cron=args.schedule,
                duration=d,
                before=args.shift_before,
                after=after,
                kind=kind,
                warmup=args.warmup,
            )
            for d in durations
        ]
    slack = timedelta(hours=24) if args.slack is None else args.slack
    return [
        released_jobs(truth, duration=d, slack=slack, kind=kind, every=args.release_every, warmup=args.warmup)
        for d in durations
    ]


def run(args: argparse.Namespace) -> int:
    from airflow_carbon_provider.replay.engine import replay_zone
    from airflow_carbon_provider.replay.progress import progress_bar
    from airflow_carbon_provider.replay.results import format_table, summarize, write_decisions

    _check_forms(args)
    scenario = scenario_from_args(args)
    zones = load_zones(args.data)
    groups = {zone: job_groups(args, truth) for zone, truth in zones.items()}
    for zone, zone_groups in groups.items():
        if not any(len(g) for g in zone_groups):
            raise ValueError(f"zone {zone!r}: no job fits inside the data (check the time range and --warmup)")
    decisions: list[Decisions] = []
    tasks = sum(len(scenario.runs(p)) for p in scenario.policies) * len(zones)
    with progress_bar(tasks, enabled=not args.json) as tick:
        for zone, truth in zones.items():
            decisions.extend(replay_zone(truth, zone, [g for g in groups[zone] if len(g)], scenario, tick))
    summaries = summarize(zones, decisions)
    if args.decisions:
        with args.decisions.open("w", encoding="utf-8", newline="") as out:
            write_decisions(decisions, out)
    if args.plot:
        from airflow_carbon_provider.replay.plot import write_plot

        write_plot(args.plot, zones, summaries, decisions)
    if args.json:
        json.dump([s.to_dict() for s in summaries], sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        print(format_table(summaries))
    return 0
