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
from airflow_carbon_provider.carbon.planner import Plan, choose_zone, plan
from airflow_carbon_provider.carbon.policy import PlanSpec, Policy
from airflow_carbon_provider.carbon.readings import Reading, normalize_series

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

WAIT_KIND = "airflow_carbon_provider.wait/v1"


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
    """What one poll concluded, as of ``now``."""

    status: Status
    zone: str | None
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


def decide(
    spec: PlanSpec,
    *,
    now: datetime,
    deadline: datetime,
    data: Mapping[str, ZoneData],
    poll_interval: timedelta,
    gate_states: Mapping[str, Any] | None = None,
) -> Decision:
    """Plan every zone that has data and decide: start now (in which zone), keep waiting, or deadline."""
    plans: dict[str, Plan] = {}
    faults = {zone: zone_data.error for zone, zone_data in data.items() if zone_data.error is not None}
    for zone, zone_data in data.items():
        if zone_data.error or zone_data.latest is None:
            continue
        plans[zone] = plan(
            spec,
            now=now,
            deadline=deadline,
            history=zone_data.known(),
            forecast=zone_data.forecast,
            gate_state=(gate_states or {}).get(zone),
        )
    ready = {zone: p for zone, p in plans.items() if p.run_now and not p.deadline_forced}
    last_start = latest_start(spec, deadline)
    if ready:
        return Decision(Status.START, choose_zone(ready), plans, now, now, faults)
    if now >= last_start:
        return Decision(Status.DEADLINE, choose_zone(plans) if plans else None, plans, now, now, faults)
    candidates = [now + poll_interval, last_start, *(p.start for p in plans.values() if p.start > now)]
    return Decision(Status.WAIT, None, plans, now, min(candidates), faults)


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
