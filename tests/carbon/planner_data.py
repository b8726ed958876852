"""Small hand-made series for the planner tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from airflow_carbon_provider.carbon.readings import Reading

T0 = datetime(2024, 3, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)


def hourly(values: list[float], start: datetime = T0, *, forecast: bool = False, zone: str = "XX") -> list[Reading]:
    """One reading per hour from ``start``."""
    return [
        Reading(zone=zone, start=start + i * HOUR, end=start + (i + 1) * HOUR, intensity=v, forecast=forecast)
        for i, v in enumerate(values)
    ]


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)
