"""The trigger's wait-state publisher: one write per new content, none without a task instance, never a crash."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from airflow_carbon_provider.carbon.clock import ManualClock
from airflow_carbon_provider.triggers.wait_state import WaitStatePublisher
from tests.carbon.test_wait_state import FORECAST, NOW, RELEASE, poll, zone_data


@dataclass(frozen=True)
class TI:
    dag_id: str = "dag"
    task_id: str = "wait"
    run_id: str = "run"
    map_index: int = -1


class Recorder:
    def __init__(self, fail: int = 0) -> None:
        self.written: list[dict[str, Any]] = []
        self.fail = fail

    async def __call__(self, ti: TI, snapshot: dict[str, Any]) -> None:
        if self.fail:
            self.fail -= 1
            raise ConnectionError("supervisor went away")
        self.written.append(snapshot)


def publisher(write: Recorder, ti: TI | None = TI()) -> WaitStatePublisher:
    return WaitStatePublisher(
        task_instance=lambda: ti,
        spec=FORECAST,
        release=RELEASE,
        deadline=NOW + timedelta(hours=12),
        on_deadline="run",
        source="replay",
        clock=ManualClock(NOW),
        write=write,
        wall=ManualClock(NOW),
    )


@pytest.mark.asyncio
async def test_unchanged_polls_write_once() -> None:
    write, data = Recorder(), {"ES": zone_data([300, 180])}
    pub = publisher(write)

    for minutes in (0, 5, 10):
        await pub.publish(poll(data, now=NOW + timedelta(minutes=minutes)), data)

    assert len(write.written) == 1
    assert write.written[0]["decided_at"] == NOW.isoformat()


@pytest.mark.asyncio
async def test_a_new_forecast_is_written() -> None:
    write = Recorder()
    pub = publisher(write)
    first, second = {"ES": zone_data([300, 180])}, {"ES": zone_data([300, 120])}

    await pub.publish(poll(first), first)
    await pub.publish(poll(second, now=NOW + timedelta(minutes=5)), second)

    assert [s["zones"][0]["planned_mean"] for s in write.written] == [180, 120]


@pytest.mark.asyncio
async def test_a_failed_write_is_retried_at_the_next_poll(caplog) -> None:
    write, data = Recorder(fail=1), {"ES": zone_data([300, 180])}
    pub = publisher(write)

    assert await pub.publish(poll(data), data) is False
    assert await pub.publish(poll(data, now=NOW + timedelta(minutes=5)), data) is True
    assert "Could not publish the carbon wait state" in caplog.text


@pytest.mark.asyncio
async def test_nothing_is_written_without_a_task_instance() -> None:
    write, data = Recorder(), {"ES": zone_data([300, 180])}

    assert await publisher(write, ti=None).publish(poll(data), data) is False
    assert write.written == []


@pytest.mark.asyncio
async def test_the_replay_speed_is_published_for_the_views_clock() -> None:
    from airflow_carbon_provider.carbon.clock import ScaledClock

    write, data = Recorder(), {"ES": zone_data([300])}
    pub = publisher(write)
    pub._clock = ScaledClock(NOW, wall_origin=0.0, speed=600.0)

    await pub.publish(poll(data), data)

    assert write.written[0]["clock"]["speed"] == pytest.approx(600.0)
