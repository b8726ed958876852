"""Virtual time for asyncio tests: an event loop whose clock jumps to its next timer when nothing else can happen.

Days of simulated waiting (trigger polls, retry back-off, HTTP timeouts, fake servers that hang or drip) run in
milliseconds, and run the same on an idle laptop and on two cores under full load, because CPU time and real
latency never show on the virtual clock.

**The rule.** Virtual time stands still while anything is runnable or really on its way, and jumps straight to the
next timer only when the loop is provably waiting for nothing but timers:

1. no callback is ready (asyncio's own rule: a loop with work to do never sleeps);
2. a zero-timeout poll of the selector finds no I/O ready;
3. no executor job (``run_in_executor``, ``asyncio.to_thread``, ``getaddrinfo``) is pending and no
   ``create_connection`` is still connecting;
4. every TCP connection the loop made or accepted is *quiet*: both of its ends belong to this loop (a client from
   ``create_connection`` paired with a connection accepted by ``create_server``) and every byte and EOF one end
   wrote has been received by the other (or the receiver is gone). Bytes are counted in the transports and
   protocols, not asked of the kernel, so nothing depends on when the kernel or a thread delivers them.

A connection whose other end is not in this loop (a server in a thread, another process) is the outside world:
while it is open virtual time stands still, so a threaded server's answer arrives at the same virtual instant
however long it really takes, but its delays cannot be virtual. **Fakes whose timing matters (hang, slow answer,
drip, Retry-After) therefore serve from inside the same loop with their delays on virtual time**
(:class:`tests.fakes.http_server.FakeHttpServer` does so in asyncio tests); a thread that will call back into the
loop must be an executor job. A timeout in a test is a safety net, never the thing measured: when virtual time
is held for ``stall_seconds`` of real time, or nothing at all is scheduled or in flight for that long, the loop
raises :class:`VirtualTimeStalledError` naming what it waits for.

Not :pypi:`looptime`: it fast-forwards after a fixed number of idle loop cycles and advances time in real-time
steps while executor work is pending, so under load a jump can happen while an answer is still on its way.
"""

from __future__ import annotations

import asyncio
import selectors
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from airflow_carbon_provider.carbon.readings import as_utc

REAL_TICK = 0.05
"""Real seconds between re-checks while virtual time is held (events usually wake the loop sooner)."""


class VirtualTimeStalledError(RuntimeError):
    """Virtual time could not move for too long in real time: something in flight never arrived (a hang)."""


@dataclass(eq=False)
class _End:
    """One end of a TCP connection made or accepted by the loop, with what went through it."""

    local: Any
    remote: Any
    sent: int = 0
    received: int = 0
    wrote_eof: bool = False
    saw_eof: bool = False
    lost: bool = False
    peer: _End | None = None

    def delivered_to(self, other: _End) -> bool:
        """Everything this end wrote has reached ``other`` (or ``other`` is gone and no longer waits for it)."""
        return other.lost or (other.received >= self.sent and (other.saw_eof or not self.wrote_eof))

    def describe(self) -> str:
        where = f"{_address(self.local)} -> {_address(self.remote)}"
        if self.peer is None:
            return f"connection {where} to something outside the loop (open)"
        return f"connection {where}: {self.peer.received} of {self.sent} bytes delivered, {self.received} received"


def _address(address: Any) -> str:
    return f"{address[0]}:{address[1]}" if isinstance(address, tuple) else str(address)


class _TrackedTransport(asyncio.Transport):
    """The real transport, counting what is written through it."""

    def __init__(self, inner: asyncio.Transport, end: _End, protocol: _TrackedProtocol) -> None:
        super().__init__()
        self._inner, self._end, self._protocol = inner, end, protocol

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not self._inner.is_closing():
            self._end.sent += len(data)
        self._inner.write(data)

    def writelines(self, list_of_data: Any) -> None:
        for data in list_of_data:
            self.write(data)

    def write_eof(self) -> None:
        self._end.wrote_eof = True
        self._inner.write_eof()

    def close(self) -> None:
        self._end.wrote_eof = True
        self._inner.close()

    def abort(self) -> None:
        self._end.wrote_eof = True
        self._inner.abort()

    def can_write_eof(self) -> bool:
        return self._inner.can_write_eof()

    def is_closing(self) -> bool:
        return self._inner.is_closing()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._inner.get_extra_info(name, default)

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        assert isinstance(protocol, asyncio.Protocol)
        self._protocol.inner = protocol

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self._protocol.inner

    def is_reading(self) -> bool:
        return self._inner.is_reading()

    def pause_reading(self) -> None:
        self._inner.pause_reading()

    def resume_reading(self) -> None:
        self._inner.resume_reading()

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        self._inner.set_write_buffer_limits(high, low)

    def get_write_buffer_size(self) -> int:
        return self._inner.get_write_buffer_size()

    def get_write_buffer_limits(self) -> tuple[int, int]:
        return self._inner.get_write_buffer_limits()


class _TrackedProtocol(asyncio.Protocol):
    """Stands between the real transport and the caller's protocol, counting what is received."""

    def __init__(self, loop: VirtualEventLoop, inner: asyncio.Protocol) -> None:
        if isinstance(inner, asyncio.BufferedProtocol):
            raise TypeError("VirtualEventLoop tracks plain asyncio.Protocol connections only")
        self.loop, self.inner = loop, inner
        self.end = _End(None, None)
        self.transport: _TrackedTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.end.local, self.end.remote = transport.get_extra_info("sockname"), transport.get_extra_info("peername")
        self.loop._track(self.end)
        self.transport = _TrackedTransport(transport, self.end, self)
        self.inner.connection_made(self.transport)

    def data_received(self, data: bytes) -> None:
        self.end.received += len(data)
        self.inner.data_received(data)

    def eof_received(self) -> bool | None:
        self.end.saw_eof = True
        return self.inner.eof_received()

    def connection_lost(self, exc: Exception | None) -> None:
        self.end.lost = True
        self.loop._forget_lost()
        self.inner.connection_lost(exc)

    def pause_writing(self) -> None:
        self.inner.pause_writing()

    def resume_writing(self) -> None:
        self.inner.resume_writing()


class _VirtualSelector(selectors.DefaultSelector):
    """The platform selector; a wait with a timeout becomes a poll, then a virtual jump (see the module rules)."""

    def __init__(self) -> None:
        super().__init__()
        self.loop: VirtualEventLoop | None = None

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        assert self.loop is not None
        return self.loop._select(super().select, timeout)


class VirtualEventLoop(asyncio.SelectorEventLoop):
    """An asyncio loop on virtual time (starting at 0.0); see the module docstring for when time moves."""

    def __init__(self, *, stall_seconds: float = 120.0) -> None:
        selector = _VirtualSelector()
        super().__init__(selector)
        selector.loop = self
        self.stall_seconds = stall_seconds
        self._now = 0.0
        self._jobs: set[asyncio.Future[Any]] = set()
        self._connecting = 0
        self._ends: dict[tuple[Any, Any], _End] = {}

    def time(self) -> float:
        return self._now

    # ----------------------------------------------------------------- what keeps virtual time still
    def run_in_executor(self, executor: Any, func: Callable[..., Any], *args: Any) -> asyncio.Future[Any]:
        job = super().run_in_executor(executor, func, *args)
        self._jobs.add(job)
        job.add_done_callback(self._jobs.discard)
        return job

    async def create_connection(
        self, protocol_factory: Callable[[], asyncio.BaseProtocol], *args: Any, **kwargs: Any
    ) -> tuple[asyncio.Transport, asyncio.BaseProtocol]:
        self._connecting += 1
        try:
            _, tracked = await super().create_connection(self._tracked(protocol_factory), *args, **kwargs)
        finally:
            self._connecting -= 1
        assert isinstance(tracked, _TrackedProtocol)
        assert tracked.transport is not None
        return tracked.transport, tracked.inner

    async def create_server(
        self, protocol_factory: Callable[[], asyncio.BaseProtocol], *args: Any, **kwargs: Any
    ) -> asyncio.Server:
        return await super().create_server(self._tracked(protocol_factory), *args, **kwargs)

    def _tracked(self, protocol_factory: Callable[[], asyncio.BaseProtocol]) -> Callable[[], _TrackedProtocol]:
        def make() -> _TrackedProtocol:
            inner = protocol_factory()
            assert isinstance(inner, asyncio.Protocol)
            return _TrackedProtocol(self, inner)

        return make

    def _track(self, end: _End) -> None:
        peer = self._ends.get((end.remote, end.local))
        if peer is not None and peer.peer is None:
            end.peer, peer.peer = peer, end
        self._ends[(end.local, end.remote)] = end

    def _forget_lost(self) -> None:
        for key, end in list(self._ends.items()):
            if end.lost and (end.peer is None or end.peer.lost):
                del self._ends[key]

    def holds(self) -> list[str]:
        """What keeps virtual time from moving now (empty: the loop waits for timers only)."""
        reasons = [f"executor job {job!r}" for job in self._jobs if not job.done()]
        if self._connecting:
            reasons.append(f"{self._connecting} create_connection() still connecting")
        for end in self._ends.values():
            if end.lost:
                continue
            if end.peer is None or not (end.delivered_to(end.peer) and end.peer.delivered_to(end)):
                reasons.append(end.describe())
        return reasons

    # ----------------------------------------------------------------- the selector's side
    def _select(
        self, select: Callable[[float | None], list[tuple[selectors.SelectorKey, int]]], timeout: float | None
    ) -> list[tuple[selectors.SelectorKey, int]]:
        events = select(0)
        if events or timeout == 0:
            return events
        started = time.monotonic()
        while True:
            holds = self.holds()
            if not holds and timeout is not None:
                self._advance(timeout)
                return []
            events = select(REAL_TICK)
            if events:
                return events
            if time.monotonic() - started > self.stall_seconds:
                waiting = "; ".join(holds) if holds else "nothing is scheduled and nothing is in flight"
                raise VirtualTimeStalledError(f"virtual time stood still for {self.stall_seconds:.0f} s: {waiting}")

    def _advance(self, seconds: float) -> None:
        self._now += seconds
        scheduled = getattr(self, "_scheduled", None)  # land exactly on the next timer despite float rounding
        if scheduled:
            first = scheduled[0].when()
            if self._now < first < self._now + 1e-6:
                self._now = first


@dataclass(frozen=True)
class LoopClock:
    """A :class:`~airflow_carbon_provider.carbon.clock.Clock` reading a loop's time: ``origin`` at loop time ``start``.

    One loop second is one second on this clock, so a trigger's ``asyncio.sleep(clock.wall_seconds(d))`` moves
    it by exactly ``d``.
    """

    loop: asyncio.AbstractEventLoop
    origin: datetime
    start: float

    @classmethod
    def on(cls, loop: asyncio.AbstractEventLoop, origin: datetime) -> LoopClock:
        """A clock showing ``origin`` now, on ``loop``'s time."""
        return cls(loop, as_utc(origin, "origin"), loop.time())

    def now(self) -> datetime:
        return self.origin + timedelta(seconds=self.loop.time() - self.start)

    def wall_seconds(self, delta: timedelta) -> float:
        return max(0.0, delta.total_seconds())

    def at(self, wall: datetime) -> datetime:
        """Virtual time has no relation to real instants: every one maps to now (as for a manual clock)."""
        return self.now()
