"""Publishes a carbon wait's live state (``carbon/wait_state.py``) as the XCom ``carbon_wait_state`` of its task.

Written from the triggerer through the supervisor (``XCom.aset``, Airflow 3.3+; ``XCom.set`` in a worker
thread before that), never on the event loop's thread, and only when the content changed: a thousand waits
re-polling unchanged forecasts cost no writes. Airflow keeps a task's XComs when it resumes from a deferral
(it clears them only at the start of a fresh try), so the last snapshot is still there after the job started.
A failed write is logged and retried at the next poll; it never disturbs the wait itself.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Protocol

from airflow_carbon_provider.carbon.clock import SystemClock
from airflow_carbon_provider.carbon.wait_state import WAIT_STATE_KEY, build_wait_state, fingerprint

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Mapping
    from datetime import datetime

    from airflow_carbon_provider.carbon.clock import Clock
    from airflow_carbon_provider.carbon.policy import PlanSpec
    from airflow_carbon_provider.carbon.waiting import Decision, ZoneData

log = logging.getLogger(__name__)


class TaskInstanceRef(Protocol):
    """What the triggerer sets as ``trigger.task_instance`` (a runtime TI or its DTO): enough to address XCom."""

    dag_id: str
    task_id: str
    run_id: str
    map_index: int


async def write_xcom(ti: TaskInstanceRef, snapshot: dict[str, Any]) -> None:
    """Store ``snapshot`` under WAIT_STATE_KEY on ``ti`` through the configured XCom backend."""
    from airflow.sdk.execution_time.xcom import XCom

    address = {"dag_id": ti.dag_id, "task_id": ti.task_id, "run_id": ti.run_id, "map_index": ti.map_index}
    if hasattr(XCom, "aset"):
        await XCom.aset(WAIT_STATE_KEY, snapshot, **address)
        return
    from asgiref.sync import sync_to_async  # Airflow < 3.3: the sync call, off the event loop's thread

    await sync_to_async(XCom.set)(WAIT_STATE_KEY, snapshot, **address)


class WaitStatePublisher:
    """Builds each poll's snapshot and writes it when its fingerprint differs from the last one written."""

    def __init__(
        self,
        *,
        task_instance: Callable[[], TaskInstanceRef | None],
        spec: PlanSpec,
        release: datetime,
        deadline: datetime,
        on_deadline: str,
        source: str,
        clock: Clock,
        write: Callable[[TaskInstanceRef, dict[str, Any]], Awaitable[None]] = write_xcom,
        wall: Clock | None = None,
    ) -> None:
        self._task_instance, self._write = task_instance, write
        self._spec, self._release, self._deadline = spec, release, deadline
        self._on_deadline, self._source, self._clock = on_deadline, source, clock
        self._wall = wall or SystemClock()
        self._written: str | None = None

    async def publish(self, decision: Decision, data: Mapping[str, ZoneData]) -> bool:
        """Write this poll's snapshot if it says something new; True when it was written."""
        ti = self._task_instance()
        if ti is None:  # run inline by `dag.test()`: no task instance to write to
            return False
        snapshot = build_wait_state(
            decision,
            spec=self._spec,
            release=self._release,
            deadline=self._deadline,
            on_deadline=self._on_deadline,
            source=self._source,
            data=data,
            wall_time=self._wall.now(),
            speed=_speed(self._clock),
        )
        digest = fingerprint(snapshot)
        if digest == self._written:
            return False
        try:
            await self._write(ti, snapshot)
        except Exception:  # the view is a convenience; the wait must go on whatever happens to it
            log.warning("Could not publish the carbon wait state of %s; retrying at the next poll", ti, exc_info=True)
            return False
        self._written = digest
        return True


def _speed(clock: Clock) -> float:
    """Grid-clock seconds per real second (1 on the real clock, the replay speed on a replay)."""
    hour = clock.wall_seconds(timedelta(hours=1))
    return 3600 / hour if hour > 0 else 1.0
