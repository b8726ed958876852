"""What the Carbon page shows of the fleet: the runs that pass its filter, in its order, one page of them, and
the totals, per-DAG and per-zone tables and trend of *all* those runs.

Computed in the api-server, so ten thousand runs never travel to the browser: the page receives the aggregates
and the rows it draws; the CSV export asks for every matching row in the same order (no ``limit``), so it holds
exactly what the table shows. Pure code over ``FleetRun`` values (``fleet.py``); the rule of what counts as
avoided is ``FleetRun.counted_avoided_g``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence

    from airflow_carbon_provider.plugins.fleet import FleetRun

Status = Literal["accounted", "waiting", "waited", "skipped", "failed", "nodepool"]
SortKey = Literal[
    "run_after", "dag_id", "run_id", "state", "status", "zones", "emitted_g", "avoided_g", "baseline_g",
    "energy_kwh", "waited_seconds", "flags", "reasons",
]  # fmt: skip
NO_ZONE = "(none)"
HOURLY_UP_TO = timedelta(days=2)
"""The trend has an hourly step when the runs span at most two days, else a daily one (days of the user's zone)."""


def flags(run: FleetRun) -> str:
    return ", ".join(name for name, on in (("deadline start", run.forced), ("degraded", run.degraded)) if on)


SORT_VALUES: dict[str, Callable[[FleetRun], Any]] = {
    "run_after": lambda run: run.run_after,
    "dag_id": lambda run: run.dag_id,
    "run_id": lambda run: run.run_id,
    "state": lambda run: run.state,
    "status": lambda run: run.status,
    "zones": lambda run: " ".join(run.zones),
    "emitted_g": lambda run: run.emitted_g,
    "avoided_g": lambda run: run.counted_avoided_g,
    "baseline_g": lambda run: run.baseline_g,
    "energy_kwh": lambda run: run.energy_kwh,
    "waited_seconds": lambda run: run.waited_seconds,
    "flags": flags,
    "reasons": lambda run: "; ".join(run.reasons),
}


@dataclass(frozen=True)
class FleetQuery:
    """The page's controls: a text filter, a status, the sort column and direction, the page, the user's zone."""

    text: str = ""
    status: Status | None = None
    sort: SortKey = "run_after"
    descending: bool = True
    offset: int = 0
    limit: int | None = None  # None: every matching run (the CSV export)
    tz: tzinfo = UTC


@dataclass
class Totals:
    """Sums over some runs. Emitted grams and energy count for every run; avoided (and its at-release
    baseline) only where ``counted_avoided_g`` says so."""

    runs: int = 0
    emitted_g: float = 0.0
    avoided_g: float = 0.0
    baseline_g: float = 0.0
    energy_kwh: float = 0.0
    by_status: dict[str, int] = field(default_factory=dict)
    forced: int = 0
    degraded: int = 0

    def add(self, run: FleetRun) -> None:
        status = run.status
        counted = run.counted_avoided_g
        self.runs += 1
        self.emitted_g += run.emitted_g or 0.0
        self.energy_kwh += run.energy_kwh or 0.0
        if counted is not None:
            self.avoided_g += counted
            self.baseline_g += run.baseline_g or 0.0
        self.by_status[status] = self.by_status.get(status, 0) + 1
        self.forced += run.forced
        self.degraded += run.degraded

    def to_json(self) -> dict[str, Any]:
        return {
            "runs": self.runs,
            "emitted_g": self.emitted_g,
            "avoided_g": self.avoided_g,
            "baseline_g": self.baseline_g,
            "energy_kwh": self.energy_kwh,
            "by_status": self.by_status,
            "forced": self.forced,
            "degraded": self.degraded,
        }


def matches(run: FleetRun, needle: str) -> bool:
    """The filter box: ``needle`` (lower case) in the DAG, run id, state, status, a zone or a reason."""
    if not needle:
        return True
    fields = (run.dag_id, run.run_id, run.state or "", run.status, *run.zones, *run.reasons)
    return any(needle in text.lower() for text in fields)


def selected(runs: Iterable[FleetRun], query: FleetQuery) -> list[FleetRun]:
    """The runs that pass the filter and the status, in the query's order (unknown values last either way;
    ties keep the newest-first order)."""
    needle = query.text.strip().lower()
    kept = [run for run in runs if (query.status is None or run.status == query.status) and matches(run, needle)]
    value = SORT_VALUES[query.sort]
    known = [(value(run), run) for run in kept]
    unknown = [run for key, run in known if key is None]
    ordered = sorted(((key, run) for key, run in known if key is not None), key=_sort_key, reverse=query.descending)
    return [run for _, run in ordered] + unknown


def _sort_key(item: tuple[Any, FleetRun]) -> Any:
    key = item[0]
    return (key.casefold(), key) if isinstance(key, str) else key


def grouped(runs: Iterable[FleetRun], keys: Callable[[FleetRun], Sequence[str]]) -> list[dict[str, Any]]:
    """Totals per key (a run with several zones counts in each; one without any under ``(none)``)."""
    groups: dict[str, Totals] = {}
    for run in runs:
        for key in keys(run) or (NO_ZONE,):
            groups.setdefault(key, Totals()).add(run)
    return [{"key": key, **totals.to_json()} for key, totals in groups.items()]


def trend(runs: Iterable[FleetRun], tz: tzinfo) -> dict[str, Any]:
    """Emitted grams, and what starting at release would have emitted, per hour or per day of the zone ``tz``,
    over the runs with an accounted job."""
    dated = [run for run in runs if run.run_after is not None and run.emitted_g is not None]
    if not dated:
        return {"step": None, "points": []}
    times = [run.run_after for run in dated if run.run_after is not None]
    step = "hour" if max(times) - min(times) <= HOURLY_UP_TO else "day"
    points: dict[datetime, list[float]] = {}  # by the UTC start: two local 01:00 hours where clocks go back
    for run, moment in zip(dated, times, strict=True):
        local = moment.astimezone(tz).replace(minute=0, second=0, microsecond=0)
        start = (local.replace(hour=0) if step == "day" else local).astimezone(UTC)
        sums = points.setdefault(start, [0.0, 0.0])
        sums[0] += run.emitted_g or 0.0
        sums[1] += run.baseline_g if run.baseline_g is not None else run.emitted_g or 0.0
    return {
        "step": step,
        "points": [
            {"start": start.isoformat(), "end": _end(start, step, tz).isoformat(), "emitted_g": e, "baseline_g": b}
            for start, (e, b) in sorted(points.items())
        ],
    }


def _end(start: datetime, step: str, tz: tzinfo) -> datetime:
    """An hour later, or the next local midnight (a day is 23 or 25 hours long where clocks change)."""
    if step == "hour":
        return start + timedelta(hours=1)
    midnight = start.astimezone(tz).replace(tzinfo=None) + timedelta(days=1)
    return midnight.replace(tzinfo=tz).astimezone(UTC)


def fleet_view(runs: Sequence[FleetRun], query: FleetQuery) -> dict[str, Any]:
    """The JSON the Carbon page draws: aggregates over every matching run, and the requested page of them."""
    shown = selected(runs, query)
    totals = Totals()
    for run in shown:
        totals.add(run)
    end = None if query.limit is None else query.offset + query.limit
    return {
        "runs_in_range": len(runs),
        "matched": len(shown),
        "totals": totals.to_json(),
        "by_dag": grouped(shown, lambda run: (run.dag_id,)),
        "by_zone": grouped(shown, lambda run: run.zones),
        "trend": trend(shown, query.tz),
        "sort": query.sort,
        "order": "desc" if query.descending else "asc",
        "offset": query.offset,
        "limit": query.limit,
        "runs": [run.to_json() for run in shown[query.offset : end]],
    }
