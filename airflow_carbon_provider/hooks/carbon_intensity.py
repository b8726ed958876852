"""Airflow hook over every carbon-intensity source: one connection type, typed readings, sync and async.

Async methods read the connection with ``aget_connection`` (safe in the triggerer); sync methods run the
same async client code. Without a ``carbon_intensity_default`` connection the hook replays the bundled data.
"""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from airflow.sdk import BaseHook
from airflow.sdk.exceptions import AirflowNotFoundException

from airflow_carbon_provider.carbon.config import SourceConfig, SourceKind, build_source
from airflow_carbon_provider.carbon.regions import resolve_zone

if TYPE_CHECKING:
    from collections.abc import Coroutine

    from airflow.sdk import Connection

    from airflow_carbon_provider.carbon.clock import Clock
    from airflow_carbon_provider.carbon.http import RetryPolicy
    from airflow_carbon_provider.carbon.readings import Reading
    from airflow_carbon_provider.carbon.sources.base import CarbonSource

T = TypeVar("T")


class CarbonIntensityHook(BaseHook):
    """Current, forecast and historical grid carbon intensity for a zone, from the connection's source.

    :param carbon_conn_id: connection of type ``carbon_intensity``; a missing default connection means replay.
    :param clock: overrides the source's clock (tests, the replay CLI).
    :param retry: overrides the web sources' retry policy (tests, embedding); never read from the connection.
    """

    conn_name_attr = "carbon_conn_id"
    default_conn_name = "carbon_intensity_default"
    conn_type = "carbon_intensity"
    hook_name = "Carbon Intensity"

    def __init__(
        self, carbon_conn_id: str = default_conn_name, *, clock: Clock | None = None, retry: RetryPolicy | None = None
    ) -> None:
        super().__init__()
        if not carbon_conn_id:
            raise ValueError("carbon_conn_id must name a connection (default: carbon_intensity_default)")
        self.carbon_conn_id = carbon_conn_id
        self._clock = clock
        self._retry = retry
        self._config: SourceConfig | None = None
        self._source: CarbonSource | None = None

    # ----------------------------------------------------------------- source and capabilities
    def get_source(self) -> CarbonSource:
        if self._source is None:
            try:
                conn = self.get_connection(self.carbon_conn_id)
            except AirflowNotFoundException:
                return self._use(self._fallback())
            self._mask(conn.password)
            return self._use(self._config_from(conn, conn.extra_dejson))
        return self._source

    async def aget_source(self) -> CarbonSource:
        """The source, reading the connection without blocking the event loop."""
        if self._source is None:
            try:
                conn = await self.aget_connection(self.carbon_conn_id)
            except AirflowNotFoundException:
                config = self._fallback()
            else:
                if conn.password:
                    from airflow.sdk.log import amask_secret

                    await amask_secret(conn.password)
                extra = await conn.aextra_dejson() if hasattr(conn, "aextra_dejson") else conn.extra_dejson
                config = self._config_from(conn, extra)
            if config.source is SourceKind.REPLAY:  # building it reads the data file: keep that off the event loop
                return await asyncio.to_thread(self._use, config)
            return self._use(config)
        return self._source

    def get_conn(self) -> CarbonSource:
        """Airflow's conventional accessor: the configured source client."""
        return self.get_source()

    @property
    def source_name(self) -> str:
        return self.get_source().name

    @property
    def has_forecast(self) -> bool:
        return self.get_source().has_forecast

    @property
    def clock(self) -> Clock:
        return self.get_source().clock

    @property
    def default_zone(self) -> str:
        """The connection's zone (cloud regions resolved), or the replay source's default zone."""
        self.get_source()
        return self._zone(None)

    # ----------------------------------------------------------------- readings
    def get_current_intensity(self, zone: str | None = None) -> Reading:
        source = self.get_source()
        return _run_sync(source.latest(self._zone(zone)))

    def get_forecast(self, zone: str | None = None, horizon: timedelta = timedelta(hours=24)) -> list[Reading]:
        source = self.get_source()
        return _run_sync(source.forecast(self._zone(zone), horizon))

    def get_history(self, zone: str | None, start: datetime, end: datetime) -> list[Reading]:
        source = self.get_source()
        return _run_sync(source.history(self._zone(zone), start, end))

    async def aget_current_intensity(self, zone: str | None = None) -> Reading:
        source = await self.aget_source()
        return await source.latest(self._zone(zone))

    async def aget_forecast(self, zone: str | None = None, horizon: timedelta = timedelta(hours=24)) -> list[Reading]:
        source = await self.aget_source()
        return await source.forecast(self._zone(zone), horizon)

    async def aget_history(self, zone: str | None, start: datetime, end: datetime) -> list[Reading]:
        source = await self.aget_source()
        return await source.history(self._zone(zone), start, end)

    def test_connection(self) -> tuple[bool, str]:
        """Fetch the latest reading for the default zone (the UI's Test button)."""
        try:
            source = self.get_source()
            reading = self.get_current_intensity()
        except Exception as exc:
            return False, f"{type(exc).__name__}: {exc}"
        return True, (
            f"{source.name}: {reading.zone} {reading.intensity:.0f} gCO₂e/kWh ({reading.signal.value}) "
            f"for {reading.start:%Y-%m-%d %H:%M}-{reading.end:%H:%M} UTC"
            + (" (estimated)" if reading.estimated else "")
        )

    # ----------------------------------------------------------------- internals
    def _config_from(self, conn: Connection, extra: dict[str, Any]) -> SourceConfig:
        return SourceConfig.from_connection(host=conn.host, login=conn.login, password=conn.password, extra=extra)

    def _fallback(self) -> SourceConfig:
        if self.carbon_conn_id != self.default_conn_name:
            raise AirflowNotFoundException(
                f"carbon_conn_id {self.carbon_conn_id!r} is not defined; create a carbon_intensity connection "
                f"or use {self.default_conn_name!r} (which falls back to replaying bundled data)"
            )
        self.log.info(
            "No %r connection: using the replay source on the bundled data (no key, no network)",
            self.default_conn_name,
        )
        return SourceConfig()

    def _use(self, config: SourceConfig) -> CarbonSource:
        from airflow_carbon_provider.carbon.http import on_runtime_secret

        on_runtime_secret(CarbonIntensityHook._mask)  # bearer tokens a source obtains are masked like passwords
        self._config = dataclasses.replace(config, retry=self._retry) if self._retry else config
        self._source = build_source(self._config, clock=self._clock)
        self.log.debug("Carbon source %s from connection %r", self._source, self.carbon_conn_id)
        return self._source

    def _zone(self, zone: str | None) -> str:
        assert self._config is not None
        assert self._source is not None
        chosen = zone or self._config.zone or getattr(self._source, "default_zone", None)
        if not chosen:
            raise ValueError(
                f"zone: pass zone=... or set the 'zone' field of connection {self.carbon_conn_id!r} "
                f"(source {self._config.source.value})"
            )
        return resolve_zone(chosen, self._config.source)

    @staticmethod
    def _mask(secret: str | None) -> None:
        if secret:
            from airflow.sdk.log import mask_secret

            mask_secret(secret)


def _run_sync(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a source call from sync code (imports the HTTP layer only when a reading is asked for)."""
    from airflow_carbon_provider.carbon.http import run_sync

    return run_sync(coroutine)
