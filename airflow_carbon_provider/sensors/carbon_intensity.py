"""Wait for a green window before a job starts, without holding a worker slot, never past the deadline."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseSensorOperator, PokeReturnValue
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

from airflow_carbon_provider.carbon.clock import SystemClock
from airflow_carbon_provider.carbon.policy import PlanSpec, Policy, Threshold
from airflow_carbon_provider.carbon.readings import as_utc, parse_utc
from airflow_carbon_provider.carbon.waiting import (
    DEFAULT_POLL_INTERVAL,
    Decision,
    OnDeadline,
    Status,
    ZoneData,
    decide,
    latest_start,
    needs,
    wait_payload,
)
from airflow_carbon_provider.hooks.carbon_intensity import CarbonIntensityHook
from airflow_carbon_provider.links.carbon_intensity import CarbonZoneLink
from airflow_carbon_provider.metrics import emit_wait_metrics
from airflow_carbon_provider.triggers.carbon_intensity import CarbonIntensityTrigger

if TYPE_CHECKING:
    from collections.abc import Sequence

    from airflow.sdk import Context

    from airflow_carbon_provider.carbon.clock import Clock


class CarbonIntensitySensor(BaseSensorOperator):
    """Wait until the grid in ``zone`` (or the best of several zones) is clean enough to start a job.

    The planner decides from forecasts (the source's, or a built-in one from history) when the job's
    ``duration`` is cleanest before the deadline; the wait runs in the triggerer (``deferrable=True``), re-plans
    at every poll and fires at the planned start, or at the deadline whatever the data says.

    :param carbon_conn_id: connection of type ``carbon_intensity`` (default: the replay source on bundled data).
    :param zone: a zone, a cloud region (``aws:eu-north-1``) or a list of them (the cleanest one wins);
        default: the connection's zone. Templated.
    :param policy: ``auto`` (default), ``forecast``, ``threshold``, ``hysteresis`` or ``now``.
    :param threshold: start below this intensity: gCO₂e/kWh (``250``) or a percentile of recent history
        (``"p25"``); required by ``threshold`` and ``hysteresis`` (its low threshold).
    :param threshold_high: hysteresis only: the gate closes again above this.
    :param min_dwell: hysteresis only: how long a crossing must last.
    :param duration: the job's expected run time; the planner keeps the whole job in the clean window.
    :param deadline: a timedelta from the release (the sensor's first start) or an absolute datetime / ISO-8601
        string with an offset. Templated.
    :param deadline_kind: ``finish`` (the job must finish by the deadline, the default) or ``start``.
    :param on_deadline: at the deadline: ``run`` (fail-open, default), ``skip`` or ``fail``.
    :param poll_interval: how often to re-check (on the connection's clock).
    :param deferrable: wait in the triggerer (default) rather than in a worker slot.
    :param clock: overrides the source's clock for this process's polls (tests, embedding); not handed to the
        trigger, which runs elsewhere on the connection's clock.
    """

    template_fields: Sequence[str] = ("zone", "deadline")
    operator_extra_links = (CarbonZoneLink(),)
    ui_color = "#b7e4c7"

    def __init__(
        self,
        *,
        carbon_conn_id: str = CarbonIntensityHook.default_conn_name,
        zone: str | Sequence[str] | None = None,
        policy: str = Policy.AUTO.value,
        threshold: float | str | None = None,
        threshold_high: float | str | None = None,
        min_dwell: timedelta = timedelta(0),
        duration: timedelta = timedelta(hours=1),
        deadline: timedelta | datetime | str = timedelta(hours=12),
        deadline_kind: str = "finish",
        on_deadline: str = OnDeadline.RUN.value,
        poll_interval: timedelta = DEFAULT_POLL_INTERVAL,
        history_window: timedelta = timedelta(days=14),
        deferrable: bool = True,
        clock: Clock | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.spec = PlanSpec(
            policy=policy,  # type: ignore[arg-type]
            duration=duration,
            deadline_kind=deadline_kind,  # type: ignore[arg-type]
            threshold=Threshold.parse(threshold, "threshold") if threshold is not None else None,
            threshold_high=Threshold.parse(threshold_high, "threshold_high") if threshold_high is not None else None,
            min_dwell=min_dwell,
            history_window=history_window,
        )
        if self.spec.policy is Policy.ORACLE:
            raise ValueError("policy 'oracle' sees the future and exists only in `airflow-carbon replay`")
        self.on_deadline = OnDeadline.parse(on_deadline)
        if not isinstance(poll_interval, timedelta) or poll_interval <= timedelta(0):
            raise ValueError(f"poll_interval must be a positive timedelta, got {poll_interval!r}")
        _check_zone(zone)
        _check_deadline(deadline, self.spec)
        self.carbon_conn_id = carbon_conn_id
        self.zone = zone
        self.deadline = deadline
        self.poll_interval_td = poll_interval
        self.deferrable = deferrable
        self._clock = clock
        self._gate_states: dict[str, Any] = {}
        self._release_intensity: float | None = None  # the first reading this sensor saw
        self._released_at: datetime | None = None

    # ----------------------------------------------------------------- entry points
    def execute(self, context: Context) -> Any:
        hook = CarbonIntensityHook(carbon_conn_id=self.carbon_conn_id, clock=self._clock)
        clock = hook.clock
        self.poke_interval = max(1.0, clock.wall_seconds(self.poll_interval_td))
        if not self.deferrable:
            return super().execute(context)
        decision, release, deadline = self._check(context, hook)
        if decision.status is not Status.WAIT:
            return self._conclude(context, hook, decision, release, deadline)
        left = clock.wall_seconds(latest_start(self.spec, deadline) - decision.now)
        self.defer(
            trigger=CarbonIntensityTrigger(
                carbon_conn_id=self.carbon_conn_id,
                zones=self._zones(hook),
                spec=self.spec.to_dict(),
                release=release.isoformat(),
                deadline=deadline.isoformat(),
                poll_interval=self.poll_interval_td.total_seconds(),
                on_deadline=self.on_deadline.value,
                intensity_at_release=self._release_intensity,
            ),
            method_name="execute_complete",
            # A safety net only: the trigger itself fires at the deadline.
            timeout=timedelta(seconds=left + 2 * self.poke_interval + 60),
        )
        return None

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> dict[str, Any]:
        if not event or "payload" not in event:
            raise AirflowFailException(f"CarbonIntensityTrigger sent an unexpected event: {event!r}")
        return self._finish(context, str(event["status"]), dict(event["payload"]))

    def poke(self, context: Context) -> PokeReturnValue:
        hook = CarbonIntensityHook(carbon_conn_id=self.carbon_conn_id, clock=self._clock)
        decision, release, deadline = self._check(context, hook)
        if decision.status is Status.WAIT:
            return PokeReturnValue(is_done=False)
        return PokeReturnValue(is_done=True, xcom_value=self._conclude(context, hook, decision, release, deadline))

    # ----------------------------------------------------------------- one poll, shared by both modes
    def _check(self, context: Context, hook: CarbonIntensityHook) -> tuple[Decision, datetime, datetime]:
        """Poll the zones once and decide; remembers the hysteresis gates and the intensity at release."""
        release = self._release(context, hook.clock)
        deadline = self._resolve_deadline(release)
        decision, data = self._poll(hook, self._zones(hook), deadline)
        self._gate_states.update({z: p.gate_state for z, p in decision.plans.items() if p.gate_state is not None})
        if self._release_intensity is None:
            self._release_intensity = _first_intensity(data)
        self.log.info("Carbon wait %s", decision.summary(latest_start(self.spec, deadline)))
        return decision, release, deadline

    def _conclude(
        self, context: Context, hook: CarbonIntensityHook, decision: Decision, release: datetime, deadline: datetime
    ) -> dict[str, Any]:
        payload = wait_payload(
            decision,
            spec=self.spec,
            release=release,
            deadline=deadline,
            source=hook.source_name,
            intensity_at_release=self._release_intensity,
        )
        return self._finish(context, decision.status.value, payload)

    # ----------------------------------------------------------------- helpers
    def _finish(self, context: Context, status: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Apply ``on_deadline`` when the deadline forced the decision, emit metrics, return the XCom."""
        if status == Status.DEADLINE.value:
            why = "; ".join(payload.get("notes") or []) or "deadline reached"
            if self.on_deadline is OnDeadline.SKIP:
                raise AirflowSkipException(f"Carbon wait: deadline reached, skipping (on_deadline='skip'): {why}")
            if self.on_deadline is OnDeadline.FAIL:
                raise AirflowFailException(f"Carbon wait: deadline reached, failing (on_deadline='fail'): {why}")
            self.log.warning("Carbon wait: deadline reached, starting anyway (on_deadline='run'): %s", why)
        else:
            self.log.info(
                "Green window: starting in %s at %s gCO₂e/kWh (planned mean %s) after %.1f h",
                payload.get("zone"),
                payload.get("intensity_at_start"),
                payload.get("planned_mean"),
                float(payload.get("waited_seconds") or 0) / 3600,
            )
        emit_wait_metrics(payload, dag_id=self.dag_id, task_id=self.task_id)
        return payload

    def _poll(
        self, hook: CarbonIntensityHook, zones: list[str], deadline: datetime
    ) -> tuple[Decision, dict[str, ZoneData]]:
        need = needs(self.spec, hook.has_forecast)
        now = hook.clock.now()
        window_end = latest_start(self.spec, deadline) + self.spec.duration
        data: dict[str, ZoneData] = {}
        for zone in zones:
            try:
                latest = hook.get_current_intensity(zone)
                forecast = hook.get_forecast(zone, horizon=window_end - now) if need.forecast else []
                history = hook.get_history(zone, now - need.history, now) if need.history else []
                data[zone] = ZoneData(latest=latest, forecast=forecast, history=history)
            except Exception as exc:  # a data fault is decided on (deadline behaviour), not raised
                data[zone] = ZoneData(error=f"{type(exc).__name__}: {exc}")
        now = hook.clock.now()  # decide as of when the answers are in
        decision = decide(
            self.spec,
            now=now,
            deadline=deadline,
            data=data,
            poll_interval=self.poll_interval_td,
            gate_states=self._gate_states,
        )
        return decision, data

    def _zones(self, hook: CarbonIntensityHook) -> list[str]:
        zones = [self.zone] if isinstance(self.zone, str) else list(self.zone or [])
        if not zones:
            zones = [hook.default_zone]
        _check_zone(zones)
        return zones

    def _release(self, context: Context, clock: Clock) -> datetime:
        """When the job was released: this sensor's first run (its first poke, in reschedule mode)."""
        if self._released_at is None:
            first = context["ti"].get_first_reschedule_date(context) if self.reschedule else None
            self._released_at = clock.at(first) if first else clock.now()
        return self._released_at

    def _resolve_deadline(self, release: datetime) -> datetime:
        if isinstance(self.deadline, timedelta):
            return release + self.deadline
        if isinstance(self.deadline, datetime):
            return as_utc(self.deadline, "deadline")
        return parse_utc(str(self.deadline), "deadline")


def _first_intensity(data: dict[str, ZoneData]) -> float | None:
    return next((d.latest.intensity for d in data.values() if d.latest is not None), None)


def _check_zone(zone: str | Sequence[str] | None) -> None:
    if zone is None or isinstance(zone, str):
        if isinstance(zone, str) and not zone.strip():
            raise ValueError("zone must be a non-empty zone name, a cloud region like 'aws:eu-north-1', or a list")
        return
    zones = list(zone)
    if not zones or not all(isinstance(z, str) and z.strip() for z in zones):
        raise ValueError(f"zone must be a non-empty list of non-empty zone names, got {zone!r}")


def _check_deadline(deadline: timedelta | datetime | str, spec: PlanSpec) -> None:
    """Catch impossible deadlines when the DAG is parsed (templated strings are checked at run time)."""
    if isinstance(deadline, timedelta):
        if deadline <= timedelta(0):
            raise ValueError(f"deadline must be a positive timedelta from the release, got {deadline}")
        if deadline < spec.latest_start_offset():
            raise ValueError(
                f"deadline ({deadline}) is shorter than duration ({spec.duration}) with deadline_kind='finish': "
                "the job cannot finish in time; lengthen the deadline or use deadline_kind='start'"
            )
    elif isinstance(deadline, datetime):
        deadline = as_utc(deadline, "deadline")
        if deadline - spec.latest_start_offset() <= SystemClock().now():
            raise ValueError(f"deadline {deadline.isoformat()} leaves no time to start the job (it is in the past)")
    elif not isinstance(deadline, str):
        raise ValueError(f"deadline must be a timedelta, a datetime or an ISO-8601 string, got {deadline!r}")
