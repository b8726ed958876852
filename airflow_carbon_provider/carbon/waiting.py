"""One poll of a carbon wait, as pure functions: what to fetch, and what to do with what came back.

The sensor (on a worker, sync) and the trigger (in the triggerer, async) only fetch; every decision is made
here, on top of the planner, so both behave identically and the rules are testable without Airflow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from airflow_carbon_provider.carbon.choices import parse_choice
from airflow_carbon_provider.carbon.hysteresis import Gates
from airflow_carbon_provider.carbon.outlook import Outlook
from airflow_carbon_provider.carbon.planner import Plan, Verdicts, explain, verdicts
from airflow_carbon_provider.carbon.policy import PlanSpec, Policy
from airflow_carbon_provider.carbon.readings import Reading, normalize_series
from airflow_carbon_provider.carbon.series import from_epoch

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    import numpy as np
    import numpy.typing as npt

    from airflow_carbon_provider.carbon.series import FloatArray

WAIT_KIND = "airflow_carbon_provider.wait/v1"
DEFAULT_POLL_INTERVAL = timedelta(minutes=5)
"""How often a wait polls unless told otherwise (the sensor's default; the replay's too)."""


class OnDeadline(StrEnum):
    """At the deadline: start anyway (fail-open, the default), skip the downstream job, or fail."""

    RUN = "run"
    SKIP = "skip"
    FAIL = "fail"

    @classmethod
    def parse(cls, value: object) -> OnDeadline:
        return parse_choice(cls, value, "on_deadline")


@dataclass(frozen=True)
class Needs:
    """What a poll fetches beyond the latest reading: only what the policy reads, so N waits cost few requests."""

    forecast: bool
    history: timedelta | None


def needs(spec: PlanSpec, has_forecast: bool) -> Needs:
    percentile = any(t is not None and t.percentile for t in (spec.threshold, spec.threshold_high))
    forecast = has_forecast and spec.policy in (Policy.FORECAST, Policy.AUTO)
    wants_history = percentile or (spec.policy is Policy.AUTO and not has_forecast)
    return Needs(forecast=forecast, history=spec.history_window if wants_history else None)


@dataclass(frozen=True)
class ZoneData:
    """What one poll got for one zone; ``error`` names the fault when the source failed."""

    latest: Reading | None = None
    forecast: Sequence[Reading] = ()
    history: Sequence[Reading] = ()
    error: str | None = None

    def known(self) -> list[Reading]:
        """Measured readings known now: the history plus the latest reading."""
        measured = [r for r in self.history if not r.forecast]
        return normalize_series([*measured, self.latest] if self.latest else measured)


class Status(StrEnum):
    START = "start"
    WAIT = "wait"
    DEADLINE = "deadline"


@dataclass(frozen=True)
class Decision:
    """What one poll concluded, as of ``now``: ``zone`` is where the job starts (None while it waits);
    ``best_zone`` the zone whose plan starts first, then cleanest (None without data), whatever the status."""

    status: Status
    zone: str | None
    best_zone: str | None
    plans: Mapping[str, Plan]
    now: datetime
    next_check: datetime
    faults: Mapping[str, str] = field(default_factory=dict)

    def summary(self, latest_start: datetime) -> str:
        """One log line: where things stand."""
        parts = []
        for zone, zone_plan in self.plans.items():
            now_value = "n/a" if zone_plan.intensity_now is None else f"{zone_plan.intensity_now:.0f}"
            parts.append(f"{zone}={now_value} gCO₂e/kWh (plan {zone_plan.start:%Y-%m-%d %H:%M}Z, {zone_plan.used})")
        parts.extend(f"{zone}: {fault}" for zone, fault in self.faults.items())
        left = max(timedelta(0), latest_start - self.now)
        return (
            f"{self.status.value}: {'; '.join(parts) or 'no data'} | next check {self.next_check:%Y-%m-%d %H:%M:%S}Z"
            f" | {left.total_seconds() / 3600:.2f} h left to the latest start {latest_start:%Y-%m-%d %H:%M}Z"
        )


def latest_start(spec: PlanSpec, deadline: datetime) -> datetime:
    return deadline - spec.latest_start_offset()


def outlook_of(zone_data: ZoneData, *, now: datetime, history_window: timedelta) -> Outlook | None:
    """The zone's outlook at ``now``, or None when the poll got no usable data for it."""
    if zone_data.error or zone_data.latest is None:
        return None
    return Outlook(now=now, history=zone_data.known(), forecast=zone_data.forecast, history_window=history_window)


WAITING, STARTING, AT_DEADLINE = 0, 1, 2
"""Status codes of :class:`WaitDecisions` (:class:`Status` WAIT, START, DEADLINE)."""
_STATUS = {WAITING: Status.WAIT, STARTING: Status.START, AT_DEADLINE: Status.DEADLINE}


@dataclass(frozen=True)
class WaitDecisions:
    """What one poll concluded for many waits of one spec: arrays indexed like the waits (epoch seconds).

    ``zone`` (where the wait starts) and ``best`` (the zone whose plan starts first, then cleanest, whatever the
    status) index ``zones`` (-1: none); ``verdicts`` holds each zone's plans for the waits.
    """

    status: npt.NDArray[np.int8]
    zone: npt.NDArray[np.intp]
    best: npt.NDArray[np.intp]
    next_check: FloatArray
    zones: tuple[str, ...]
    verdicts: Mapping[str, Verdicts]


def decide_many(
    spec: PlanSpec,
    *,
    now: datetime,
    latest: FloatArray,
    outlooks: Mapping[str, Outlook],
    poll_interval: timedelta,
    gates: Mapping[str, Gates] | None = None,
) -> WaitDecisions:
    """The poll decision for waits with latest starts ``latest`` (epoch s), all on the zones of ``outlooks``.

    A wait starts when some zone's plan says "now" (the lowest expected mean among those wins), hits its deadline
    when its latest start has come, else waits until the next poll, its latest start or the earliest planned start,
    whichever comes first. :func:`decide` is this rule for one wait.
    """
    import numpy as np

    now_s = now.timestamp()
    latest = np.asarray(latest, dtype=np.float64)
    n = len(latest)
    per_zone = {zone: verdicts(o, spec, latest, (gates or {}).get(zone)) for zone, o in outlooks.items()}
    ready = [v.run_now & ~v.forced for v in per_zone.values()]
    starting = np.logical_or.reduce(ready) if ready else np.zeros(n, dtype=bool)
    status = np.where(starting, STARTING, np.where(now_s >= latest, AT_DEADLINE, WAITING)).astype(np.int8)
    best = _cheapest(per_zone, outlooks, [np.ones(n, dtype=bool)] * len(per_zone), n)
    zone = np.where(starting, _cheapest(per_zone, outlooks, ready, n), best)
    next_check = np.minimum(now_s + poll_interval.total_seconds(), latest)
    for v in per_zone.values():
        next_check = np.where(v.start > now_s, np.minimum(next_check, v.start), next_check)
    next_check = np.where(status == WAITING, next_check, now_s)
    return WaitDecisions(status, np.where(status == WAITING, -1, zone), best, next_check, tuple(per_zone), per_zone)


def _cheapest(per_zone: Mapping[str, Verdicts], outlooks: Mapping[str, Outlook], eligible: list[Any], n: int) -> Any:
    """For each wait, the index of the eligible zone that starts first, then with the lowest expected mean (its
    current intensity when unknown; unknown last); ties keep zone order; -1 when no zone is eligible."""
    import numpy as np

    if len(per_zone) == 1:
        return np.where(eligible[0], 0, -1)
    best, first, value = np.full(n, -1), np.full(n, np.inf), np.full(n, np.inf)
    for index, ((zone, v), ok) in enumerate(zip(per_zone.items(), eligible, strict=True)):
        now_value = outlooks[zone].intensity_now
        cost = np.where(np.isnan(v.expected), np.inf if now_value is None else now_value, v.expected)
        when = np.where(v.run_now, 0.0, v.start)
        better = ok & ((best < 0) | (when < first) | ((when == first) & (cost < value)))
        best, first, value = np.where(better, index, best), np.where(better, when, first), np.where(better, cost, value)
    return best


def decide(
    spec: PlanSpec,
    *,
    now: datetime,
    deadline: datetime,
    data: Mapping[str, ZoneData],
    poll_interval: timedelta,
    gate_states: Mapping[str, Any] | None = None,
    outlooks: Mapping[str, Outlook] | None = None,
) -> Decision:
    """Plan every zone that has data and decide for one wait: start now (in which zone), keep waiting, or deadline.

    ``outlooks`` (optional): the zones' outlooks at ``now``, built once and shared by every wait polling then
    (they must have been built with ``spec.history_window``); by default they are built from ``data``.
    """
    import numpy as np

    faults = {zone: zone_data.error for zone, zone_data in data.items() if zone_data.error is not None}
    usable: dict[str, Outlook] = {}
    for zone, zone_data in data.items():
        if outlooks is None:
            found = outlook_of(zone_data, now=now, history_window=spec.history_window)
        else:
            found = outlooks.get(zone) if zone_data.error is None and zone_data.latest is not None else None
            if found is not None and found.history_window != spec.history_window:
                raise ValueError(f"outlook of {zone!r} was built for another history_window than the spec's")
        if found is not None:
            usable[zone] = found
    gate_states = gate_states or {}
    gates = {zone: Gates.of([gate_states.get(zone)]) for zone in usable} if spec.policy is Policy.HYSTERESIS else None
    last = np.array([latest_start(spec, deadline).timestamp()])
    many = decide_many(spec, now=now, latest=last, outlooks=usable, poll_interval=poll_interval, gates=gates)
    plans = {zone: explain(o, spec, many.verdicts[zone], 0, gate_states.get(zone)) for zone, o in usable.items()}
    status = _STATUS[int(many.status[0])]
    chosen, best = int(many.zone[0]), int(many.best[0])
    next_check = float(many.next_check[0])
    return Decision(
        status=status,
        zone=many.zones[chosen] if chosen >= 0 else None,
        best_zone=many.zones[best] if best >= 0 else None,
        plans=plans,
        now=now,
        next_check=now if next_check == now.timestamp() else from_epoch(next_check),
        faults=faults,
    )


def wait_payload(
    decision: Decision,
    *,
    spec: PlanSpec,
    release: datetime,
    deadline: datetime,
    source: str,
    intensity_at_release: float | None,
) -> dict[str, Any]:
    """The sensor's XCom: where and when the job starts, and on what grounds."""
    chosen = decision.plans.get(decision.zone) if decision.zone else None
    notes = list(chosen.notes) if chosen else []
    notes.extend(f"{zone}: {fault}" for zone, fault in decision.faults.items())
    forced = decision.status is Status.DEADLINE
    if forced:
        notes.append("deadline reached before a green window" if chosen else "deadline reached without usable data")
    return {
        "kind": WAIT_KIND,
        "zone": decision.zone,
        "release": release.isoformat(),
        "start": decision.now.isoformat(),
        "deadline": deadline.isoformat(),
        "waited_seconds": max(0.0, (decision.now - release).total_seconds()),
        "intensity_at_start": chosen.intensity_now if chosen else None,
        "intensity_at_release": intensity_at_release,
        "planned_mean": chosen.expected_mean if chosen else None,
        "policy": spec.policy.value,
        "used": chosen.used if chosen else None,
        "source": source,
        "deadline_forced": forced,
        "degraded": forced or bool(decision.faults) or bool(chosen and chosen.degraded),
        "notes": notes,
        "zones": {zone: p.intensity_now for zone, p in decision.plans.items()},
    }
