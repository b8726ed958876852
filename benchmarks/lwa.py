"""The Let's Wait Awhile scenarios (Wiesner et al., Middleware '21), rebuilt for ``airflow-carbon replay``.

Written from the published description of the paper's simulation (dos-group/lets-wait-awhile ``simulate.py`` and
``strategy.py`` @ 5e0d1553; ../shared/reference/benchmarks.md section 1), not copied from it:

- **ML training jobs** (:func:`ml_jobs`): 3,387 jobs arriving on workdays of 2020 between 09:00 and 17:00 (UTC, as
  the data), on 30-minute steps, lasting 4 h to 89.5 h in 30-minute steps. A ``numpy.random.default_rng(0)``
  draws, in this order: how many jobs each workday gets (one multinomial draw, equal probability per workday);
  then, day by day through the calendar (weekends included, with no jobs), each job's arrival slot (uniform among
  the 16 half-hours 09:00 .. 16:30, sorted within the day); then every job's duration (uniform among 240 .. 5,370
  minutes in 30-minute steps). The job ids follow arrival order.
- **"Next workday" deadline** (:func:`next_workday_deadline`), from the job's original finish (arrival + duration)
  ``f``: on a Saturday -> 09:00 two days later; on a Sunday or after 17:00 -> 09:00 the next day (so a Friday
  evening finish may move to Saturday 09:00, as in the paper's code); before 09:00 -> 09:00 that day; otherwise
  ``f`` itself (no room to shift). A finish at 17:00 sharp is not "after 17:00"; 17:30 is.
- **Nightly job**: a 30-minute job every day at 01:00 that may move up to ``w`` either side.

``python benchmarks/lwa.py ml-jobs OUT.csv`` writes the ML jobs as a ``--jobs`` file (deadline = latest finish);
issue 16 (interruptible jobs) reuses it. Nothing here reads the Let's Wait Awhile data; the benchmark does.
"""

from __future__ import annotations

import argparse
import csv
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from airflow_carbon_provider.carbon.series import Series
    from airflow_carbon_provider.replay.jobs import Jobs

YEAR = 2020
ML_JOBS = 3387
STEP = timedelta(minutes=30)
WORKDAY = (9 * 60, 17 * 60)  # minutes after midnight: arrivals from 09:00, before 17:00
DURATIONS = (4 * 60, 90 * 60)  # minutes: from 4 h, below 90 h


@dataclass(frozen=True)
class Job:
    name: str
    arrival: datetime
    duration: timedelta

    @property
    def deadline(self) -> datetime:
        return next_workday_deadline(self.arrival + self.duration)


def ml_jobs(n: int = ML_JOBS, seed: int = 0) -> list[Job]:
    """The ML training jobs of the paper's scenario II (see the module docstring for the draw order)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    first = datetime(YEAR, 1, 1, tzinfo=UTC)
    days = [first + timedelta(days=i) for i in range((datetime(YEAR + 1, 1, 1, tzinfo=UTC) - first).days)]
    workdays = [d for d in days if d.weekday() < 5]
    per_workday = dict(zip(workdays, rng.multinomial(n, [1 / len(workdays)] * len(workdays)).tolist(), strict=True))
    slots = np.arange(WORKDAY[0], WORKDAY[1], 30)
    arrivals: list[datetime] = []
    for day in days:
        minutes = np.sort(rng.choice(slots, size=per_workday.get(day, 0)))
        arrivals.extend(day + timedelta(minutes=int(m)) for m in minutes)
    durations = rng.choice(np.arange(DURATIONS[0], DURATIONS[1], 30), size=n)
    return [
        Job(str(i), arrival, timedelta(minutes=int(minutes)))
        for i, (arrival, minutes) in enumerate(zip(arrivals, durations.tolist(), strict=True))
    ]


def next_workday_deadline(finish: datetime) -> datetime:
    """The paper's "next workday" rule: the latest finish of a job that would finish at ``finish`` unshifted."""
    nine = finish.replace(hour=9, minute=0, second=0, microsecond=0)
    clock = finish.hour + (0.5 if finish.minute == 30 else 0.0)
    if finish.weekday() == 5:
        return nine + timedelta(days=2)
    if finish.weekday() == 6 or clock > 17:
        return nine + timedelta(days=1)
    if clock < 9:
        return nine
    return finish


def _duration_text(duration: timedelta) -> str:
    hours, rest = divmod(int(duration.total_seconds()) // 60, 60)
    return f"{hours}h{rest}m" if rest else f"{hours}h"


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def write_jobs(jobs: list[Job], out: Path) -> None:
    """A ``--jobs`` file: earliest = nominal = arrival, deadline = the latest finish."""
    with out.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(("name", "earliest", "nominal", "duration", "deadline"))
        for job in jobs:
            arrival = _iso(job.arrival)
            writer.writerow((job.name, arrival, arrival, _duration_text(job.duration), _iso(job.deadline)))


def sampled_every_30_minutes(series: Series) -> Series:
    """The series as the paper reads it: only the rows at :00 and :30, each standing for its half hour."""
    import numpy as np

    from airflow_carbon_provider.carbon.series import Series as SeriesClass

    starts = series.view_starts()
    keep = np.isclose(np.mod(starts, 1800.0), 0.0)
    kept = starts[keep]
    return SeriesClass.from_arrays(kept, kept + 1800.0, series.view_values()[keep])


def region_series(data: Path, region: str, *, sampled: bool = True) -> Series:
    """A Let's Wait Awhile file (``de``, ``gb``, ``fr``): sampled every 30 minutes as the paper reads it, or at its
    own resolution."""
    from airflow_carbon_provider.carbon.csv_series import load_series
    from airflow_carbon_provider.carbon.series import Series as SeriesClass

    series = SeriesClass.from_readings(load_series(data / f"{region}_{YEAR}.csv"))
    return sampled_every_30_minutes(series) if sampled else series


def nightly_jobs(truth: Series, window: timedelta) -> list[Jobs]:
    """The nightly job: 30 minutes every day at 01:00, free to move ``window`` either side; jobs whose window
    reaches outside the data (the first night, for windows over an hour) are left out."""
    from airflow_carbon_provider.carbon.policy import DeadlineKind
    from airflow_carbon_provider.replay.jobs import scheduled_jobs

    return [
        scheduled_jobs(
            truth,
            cron="0 1 * * *",
            duration=STEP,
            before=window,
            after=window,
            kind=DeadlineKind.START,
            warmup=timedelta(0),
        )
    ]


def ml_job_groups(truth: Series, jobs_file: Path) -> list[Jobs]:
    """The ML jobs read back from their ``--jobs`` file (finish deadlines), those whose window fits the data."""
    from airflow_carbon_provider.carbon.policy import DeadlineKind
    from airflow_carbon_provider.replay.jobs import fit_to_data, read_jobs

    groups = [fit_to_data(g, truth, timedelta(0)) for g in read_jobs(jobs_file, DeadlineKind.FINISH)]
    return [g for g in groups if len(g)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    ml = sub.add_parser("ml-jobs", help="write the ML training jobs as a --jobs CSV file")
    ml.add_argument("out", type=Path)
    args = parser.parse_args(argv)
    jobs = ml_jobs()
    write_jobs(jobs, args.out)
    print(f"wrote {len(jobs)} jobs to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
