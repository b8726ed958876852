"""The carbon wait, running in the triggerer: poll, re-plan, fire at the planned start or the deadline."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_carbon_provider.carbon.policy import PlanSpec
from airflow_carbon_provider.carbon.readings import parse_utc
from airflow_carbon_provider.carbon.waiting import (
    Decision,
    Needs,
    OnDeadline,
    Status,
    ZoneData,
    decide,
    latest_start,
    needs,
    wait_payload,
)
from airflow_carbon_provider.hooks.carbon_intensity import CarbonIntensityHook
from airflow_carbon_provider.triggers.wait_state import WaitStatePublisher

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Mapping, Sequence

    from airflow_carbon_provider.carbon.clock import Clock
    from airflow_carbon_provider.carbon.http import RetryPolicy
    from airflow_carbon_provider.carbon.planner import Plan

ERROR_RETRY_FIRST = timedelta(seconds=30)


class CarbonIntensityTrigger(BaseTrigger):
    """Wait in the triggerer until a zone's grid is green enough, or the deadline.

    Everything it needs travels as plain JSON: the connection id (never a secret), the zones, the plan spec
    and the times. Readings are shared with every other carbon trigger in the process through the hook's
    coalescing cache, so N waits on Z zones make at most Z requests per endpoint and poll.

    Fires ``{"status": "start" | "deadline", "payload": <sensor XCom>, "faults": {...}}``; the sensor decides
    what a deadline means (run, skip or fail).
    """

    def __init__(
        self,
        *,
        carbon_conn_id: str,
        zones: Sequence[str],
        spec: dict[str, Any],
        release: str,
        deadline: str,
        poll_interval: float,
        on_deadline: str = OnDeadline.RUN.value,
        intensity_at_release: float | None = None,
        clock: Clock | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.carbon_conn_id = carbon_conn_id
        self.zones = list(zones)
        self.spec = spec
        self.release = release
        self.deadline = deadline
        self.poll_interval = poll_interval
        self.on_deadline = on_deadline
        self.intensity_at_release = intensity_at_release
        # In-process overrides of the source's clock and retry policy (tests, embedding); never serialized.
        self._clock, self._retry = clock, retry
        self._last_errors: dict[str, str] = {}  # per zone: what the source last failed with

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "carbon_conn_id": self.carbon_conn_id,
                "zones": self.zones,
                "spec": self.spec,
                "release": self.release,
                "deadline": self.deadline,
                "poll_interval": self.poll_interval,
                "on_deadline": self.on_deadline,
                "intensity_at_release": self.intensity_at_release,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        spec = PlanSpec.from_dict(self.spec)
        release = parse_utc(self.release, "release")
        deadline = parse_utc(self.deadline, "deadline")
        poll = timedelta(seconds=self.poll_interval)
        hook = CarbonIntensityHook(carbon_conn_id=self.carbon_conn_id, clock=self._clock, retry=self._retry)
        source = await hook.aget_source()
        clock = source.clock
        need = needs(spec, source.has_forecast)
        gate_states: dict[str, Any] = {}
        failures = 0
        last_start = latest_start(spec, deadline)
        publisher = WaitStatePublisher(
            task_instance=lambda: self.task_instance,
            spec=spec,
            release=release,
            deadline=deadline,
            on_deadline=self.on_deadline,
            source=source.name,
            clock=clock,
        )
        while True:
            asked = clock.now()
            # A hanging or slow source must not hold the wait past the deadline plus one poll.
            budget = clock.wall_seconds(max(last_start - asked, timedelta(0)) + poll)
            data = await self._fetch_all(hook, need, asked, last_start + spec.duration, budget)
            now = clock.now()  # decide as of when the answers are in
            decision = decide(spec, now=now, deadline=deadline, data=data, poll_interval=poll, gate_states=gate_states)
            gate_states.update(_gates(decision.plans))
            await publisher.publish(decision, data)  # the Carbon views' live state (XCom carbon_wait_state)
            self.log.info("Carbon wait %s", decision.summary(last_start))
            if decision.status is not Status.WAIT:
                payload = wait_payload(
                    decision,
                    spec=spec,
                    release=release,
                    deadline=deadline,
                    source=source.name,
                    intensity_at_release=self.intensity_at_release,
                )
                yield TriggerEvent({"status": decision.status.value, "payload": payload, "faults": decision.faults})
                return
            failures = failures + 1 if len(decision.faults) == len(self.zones) else 0
            next_check = _retry_sooner(decision, now, failures)
            await asyncio.sleep(clock.wall_seconds(next_check - now))

    async def _fetch_all(
        self, hook: CarbonIntensityHook, need: Needs, now: datetime, window_end: datetime, budget: float
    ) -> dict[str, ZoneData]:
        try:
            async with asyncio.timeout(budget):
                results = await asyncio.gather(*(self._fetch(hook, zone, need, now, window_end) for zone in self.zones))
        except TimeoutError:
            return {zone: ZoneData(error=self._timed_out(zone, budget)) for zone in self.zones}
        return dict(zip(self.zones, results, strict=True))

    async def _fetch(
        self, hook: CarbonIntensityHook, zone: str, need: Needs, now: datetime, window_end: datetime
    ) -> ZoneData:
        try:
            latest = await hook.aget_current_intensity(zone)
            forecast = await hook.aget_forecast(zone, horizon=window_end - now) if need.forecast else []
            history = await hook.aget_history(zone, now - need.history, now) if need.history else []
        except Exception as exc:  # a data fault must never escape into the triggerer: the deadline handles it
            self._last_errors[zone] = f"{type(exc).__name__}: {exc}"
            return ZoneData(error=self._last_errors[zone])
        self._last_errors.pop(zone, None)
        return ZoneData(latest=latest, forecast=forecast, history=history)

    def _timed_out(self, zone: str, budget: float) -> str:
        """A poll that hangs still names the fault the source gave before, so the deadline note says what broke."""
        earlier = self._last_errors.get(zone)
        return f"no answer within {budget:.1f} s" + (f" (before that: {earlier})" if earlier else "")


def _gates(plans: Mapping[str, Plan]) -> dict[str, Any]:
    return {zone: p.gate_state for zone, p in plans.items() if p.gate_state is not None}


def _retry_sooner(decision: Decision, now: datetime, failures: int) -> datetime:
    """After data faults, look again sooner (30 s, doubling) but never later than the planned next check."""
    if not failures:
        return decision.next_check
    return min(decision.next_check, now + ERROR_RETRY_FIRST * (1 << min(failures - 1, 10)))
