"""The jobs a replay places: released every hour with a slack, fired by a cron schedule, or listed in a CSV file.

A job may start from ``earliest`` to its latest start; ``nominal`` is when it would run without carbon-aware
shifting (the baseline). A job whose window does not lie inside the data (after the warm-up history) is left out:
it cannot be evaluated as it was given.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from airflow_carbon_provider.carbon.policy import DeadlineKind
from airflow_carbon_provider.carbon.series import from_epoch

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from airflow_carbon_provider.carbon.series import FloatArray, Series

JOB_COLUMNS = ("name", "earliest", "nominal", "duration", "deadline")
FILE_LABEL = "jobs"
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(days|day|d|hr|h|min|m|sec|s)", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hr": 3600, "d": 86400, "day": 86400, "days": 86400}


def parse_duration(text: str) -> timedelta:
    """``90m``, ``4h``, ``1.5h``, ``4h30m``, ``2d``, ``0h``; a bare number is an error (the unit is never guessed)."""
    compact = text.strip()
    parts = list(_PART.finditer(compact))
    if not compact or not parts or "".join(p.group(0) for p in parts) != re.sub(r"\s+", "", compact):
        raise ValueError(f"{text!r} is not a duration such as 30m, 4h, 4h30m, 1.5h or 2d")
    return timedelta(seconds=sum(float(p.group(1)) * _UNIT_SECONDS[p.group(2).lower()] for p in parts))


@dataclass(frozen=True)
class Jobs:
    """Jobs of one group (e.g. one duration), as parallel arrays of epoch seconds and durations in seconds."""

    label: str
    names: tuple[str, ...]
    earliest: FloatArray
    nominal: FloatArray
    deadline: FloatArray
    latest: FloatArray
    duration: FloatArray

    def __len__(self) -> int:
        return len(self.earliest)

    def select(self, mask: Any) -> Jobs:
        import numpy as np

        index = np.flatnonzero(mask)
        return Jobs(
            self.label,
            tuple(self.names[i] for i in index),
            self.earliest[index],
            self.nominal[index],
            self.deadline[index],
            self.latest[index],
            self.duration[index],
        )

    @property
    def uniform_duration(self) -> float | None:
        """The jobs' common duration in seconds, or None when they differ."""
        if not len(self) or (self.duration != self.duration[0]).any():
            return None
        return float(self.duration[0])


def _offset(kind: DeadlineKind, duration: Any) -> Any:
    return duration if kind is DeadlineKind.FINISH else 0.0 * duration


def fit_to_data(jobs: Jobs, truth: Series, warmup: timedelta) -> Jobs:
    """The jobs whose whole window (earliest start to latest start + duration) lies in the data after ``warmup``."""
    first = truth.first_start + warmup.total_seconds()
    return jobs.select((jobs.earliest >= first) & (jobs.latest + jobs.duration <= truth.last_end))


def _named(
    label: str, *, nominal: FloatArray, earliest: FloatArray, deadline: FloatArray, duration: float, kind: DeadlineKind
) -> Jobs:
    import numpy as np

    lengths = np.full(len(nominal), duration)
    names = tuple(from_epoch(t).strftime("%Y-%m-%dT%H:%MZ") for t in nominal.tolist())
    return Jobs(label, names, earliest, nominal, deadline, deadline - _offset(kind, lengths), lengths)


def released_jobs(
    truth: Series, *, duration: timedelta, slack: timedelta, kind: DeadlineKind, every: timedelta, warmup: timedelta
) -> Jobs:
    """A job released every ``every`` from ``warmup`` after the data start, each with ``slack`` to its deadline;
    only jobs whose whole window lies inside the data."""
    import numpy as np

    d = duration.total_seconds()
    latest_offset = slack.total_seconds() - _offset(kind, d)
    first = truth.first_start + warmup.total_seconds()
    last = truth.last_end - max(latest_offset, 0.0) - d
    release = np.arange(first, last + 1e-6, every.total_seconds())
    return _named(
        _label(duration),
        nominal=release,
        earliest=release,
        deadline=release + slack.total_seconds(),
        duration=d,
        kind=kind,
    )


def scheduled_jobs(
    truth: Series,
    *,
    cron: str,
    duration: timedelta,
    before: timedelta,
    after: timedelta,
    kind: DeadlineKind,
    warmup: timedelta,
) -> Jobs:
    """One job at each fire time of ``cron`` (UTC): it may start from ``before`` earlier to ``after`` later (a
    deadline of ``kind``); the baseline starts at the fire time."""
    import numpy as np
    from croniter import croniter

    d = duration.total_seconds()
    if after.total_seconds() < _offset(kind, d):
        raise ValueError(f"--shift-after ({after}) is shorter than the duration ({duration}) with a finish deadline")
    begin = from_epoch(truth.first_start + warmup.total_seconds() - 1e-6)
    fires: list[float] = []
    schedule = croniter(cron, begin)
    while True:
        fire = schedule.get_next(datetime).timestamp()
        if fire + d > truth.last_end:
            break
        fires.append(fire)
    nominal = np.asarray(fires, dtype=np.float64)
    jobs = _named(
        _label(duration),
        nominal=nominal,
        earliest=nominal - before.total_seconds(),
        deadline=nominal + after.total_seconds(),
        duration=d,
        kind=kind,
    )
    return fit_to_data(jobs, truth, warmup)


def check_cron(expression: str) -> str:
    from croniter import croniter

    if not croniter.is_valid(expression):
        raise ValueError(f"--schedule {expression!r} is not a cron expression such as '0 1 * * *'")
    return expression


def read_jobs(path: Path, kind: DeadlineKind) -> list[Jobs]:
    """The jobs of a CSV file ``name,earliest,nominal,duration,deadline`` (ISO-8601 UTC; ``nominal`` empty means
    ``earliest``; ``deadline`` of ``kind``), one group per duration (all labelled ``jobs``) so jobs of one length
    share their plans."""
    import numpy as np

    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ValueError(f"--jobs {path}: {exc.strerror or exc}") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if tuple(reader.fieldnames or ()) != JOB_COLUMNS:
        raise ValueError(f"--jobs {path}: the header must be {','.join(JOB_COLUMNS)}, got {reader.fieldnames}")
    rows: list[tuple[str, float, float, float, float]] = []
    for line, row in enumerate(reader, start=2):
        where = f"--jobs {path} line {line}"
        earliest = _utc(row["earliest"], f"{where} earliest")
        nominal = _utc(row["nominal"], f"{where} nominal") if (row["nominal"] or "").strip() else earliest
        try:
            duration = parse_duration(row["duration"] or "").total_seconds()
        except ValueError as exc:
            raise ValueError(f"{where} duration: {exc}") from None
        deadline = _utc(row["deadline"], f"{where} deadline")
        if duration <= 0:
            raise ValueError(f"{where} duration: must be > 0")
        latest = deadline - (duration if kind is DeadlineKind.FINISH else 0.0)
        if not earliest <= nominal <= latest:
            raise ValueError(
                f"{where}: needs earliest <= nominal <= latest start ({kind.value} deadline), got earliest "
                f"{row['earliest']}, nominal {row['nominal'] or row['earliest']}, deadline {row['deadline']}"
            )
        rows.append(((row["name"] or "").strip() or str(line - 1), earliest, nominal, duration, deadline))
    if not rows:
        raise ValueError(f"--jobs {path}: no jobs")
    groups = []
    for length in sorted({r[3] for r in rows}):
        mine = [r for r in rows if r[3] == length]
        deadlines = np.array([r[4] for r in mine])
        groups.append(
            Jobs(
                FILE_LABEL,
                tuple(r[0] for r in mine),
                np.array([r[1] for r in mine]),
                np.array([r[2] for r in mine]),
                deadlines,
                deadlines - _offset(kind, length),
                np.full(len(mine), length),
            )
        )
    return groups


def _utc(text: str | None, where: str) -> float:
    value = (text or "").strip()
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00") if value.endswith("Z") else value)
    except ValueError:
        raise ValueError(f"{where}: {value!r} is not an ISO-8601 time such as 2020-01-01T01:00Z") from None
    if parsed.tzinfo is None:
        raise ValueError(f"{where}: {value!r} has no time zone; write UTC times with a Z or +00:00")
    return parsed.astimezone(UTC).timestamp()


def _label(duration: timedelta) -> str:
    hours = duration.total_seconds() / 3600
    return f"{hours:g}h"


def total(groups: Sequence[Jobs]) -> int:
    return sum(len(g) for g in groups)
