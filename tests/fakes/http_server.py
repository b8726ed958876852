"""A real HTTP server on 127.0.0.1 (random port) with per-route handlers, a scripted fault schedule and a request log.

It serves in one of two ways, chosen by the ``serve`` fixture for the test that asks: in a thread
(``http.server``) for synchronous tests, or as an asyncio server inside an asyncio test's own event loop, which
runs on virtual time (:mod:`tests.virtual_time`): there a response's ``delay`` and ``drip`` are virtual seconds,
so a hanging or dripping service costs no real time and no thread scheduling can make an answer late. Reused by
the source, hook, sensor and trigger tests; the API emulators in :mod:`tests.fakes.carbon_apis` register their
routes on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.client import responses
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from pytest_asyncio import is_async_test


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    params: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    at: float

    def param(self, name: str) -> str | None:
        values = self.params.get(name)
        return values[0] if values else None


@dataclass(frozen=True)
class FakeResponse:
    """What to answer; ``drop`` closes the connection without a response (a transport error for the client).

    ``delay`` waits before answering; ``drip`` sends the body one byte per ``drip`` seconds (a slow-loris answer
    whose every read arrives within the client's read timeout).
    """

    status: int = 200
    body: Any = None
    raw: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    drop: bool = False
    drip: float = 0.0

    def encoded(self) -> bytes:
        if self.raw is not None:
            return self.raw
        return b"" if self.body is None else json.dumps(self.body).encode()

    def head(self, length: int) -> list[tuple[str, str]]:
        """Header lines (after the status line) for a body of ``length`` bytes."""
        lines = [("Content-Type", self.headers.get("Content-Type", "application/json"))]
        lines += [(name, value) for name, value in self.headers.items() if name != "Content-Type"]
        return [*lines, ("Content-Length", str(length))]


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up (timeout test) leaves a broken pipe: expected, not worth a traceback."""
        exc = sys.exc_info()[1]
        if not isinstance(exc, ConnectionError):
            super().handle_error(request, client_address)


Handler = Callable[[RecordedRequest, re.Match[str]], FakeResponse]


@dataclass
class _Fault:
    pattern: re.Pattern[str]
    response: FakeResponse


class FakeHttpServer:
    """Routes are regexes over the path; the first scripted fault matching a request is served instead, once."""

    def __init__(self) -> None:
        self.routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self.requests: list[RecordedRequest] = []
        self._faults: list[_Fault] = []
        self._lock = threading.Lock()
        self._socket = socket.create_server(("127.0.0.1", 0))  # listening from now on, however it will serve
        self._threaded: _QuietServer | None = None
        self._in_loop: asyncio.Task[asyncio.Server] | None = None

    @property
    def url(self) -> str:
        host, port = self._socket.getsockname()[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> FakeHttpServer:
        """Serve from a thread (delays in real seconds)."""
        self._threaded = _QuietServer(self._socket.getsockname(), self._handler_class(), bind_and_activate=False)
        self._threaded.socket.close()
        self._threaded.socket = self._socket
        self._threaded.daemon_threads = True
        threading.Thread(
            target=self._threaded.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-http", daemon=True
        ).start()
        return self

    def serve_in(self, loop: asyncio.AbstractEventLoop) -> FakeHttpServer:
        """Serve from ``loop`` once it runs (delays in that loop's seconds: virtual in asyncio tests)."""
        self._in_loop = loop.create_task(asyncio.start_server(self._serve_connection, sock=self._socket))
        return self

    def stop(self) -> None:
        if self._threaded is not None:
            self._threaded.shutdown()
            self._threaded.server_close()
        if self._in_loop is not None:
            if self._in_loop.done() and not self._in_loop.cancelled():
                self._in_loop.result().close()
            else:
                self._in_loop.cancel()
        self._socket.close()

    def __enter__(self) -> FakeHttpServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def route(self, method: str, pattern: str, handler: Handler) -> None:
        self.routes.append((method, re.compile(pattern), handler))

    def script(self, *responses: FakeResponse, path: str = ".*") -> None:
        """Serve ``responses`` in order to the next requests whose path matches ``path``, then the normal handler."""
        with self._lock:
            self._faults.extend(_Fault(re.compile(path), r) for r in responses)

    def count(self, path: str = ".*") -> int:
        """Requests so far whose path matches the regex ``path``."""
        with self._lock:
            return sum(1 for r in self.requests if re.fullmatch(path, r.path))

    def matching(self, path: str = ".*") -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if re.fullmatch(path, r.path)]

    def clear_log(self) -> None:
        with self._lock:
            self.requests.clear()

    def _dispatch(self, request: RecordedRequest) -> FakeResponse:
        with self._lock:
            self.requests.append(request)
            fault = next((f for f in self._faults if f.pattern.fullmatch(request.path)), None)
            if fault is not None:
                self._faults.remove(fault)
                return fault.response
        for method, pattern, handler in self.routes:
            match = pattern.fullmatch(request.path)
            if match and method == request.method:
                return handler(request, match)
        return FakeResponse(404, {"status": "error", "message": f"no route for {request.method} {request.path}"})

    async def _serve_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """HTTP/1.1 on one connection, request after request, with delays on the loop's time."""
        loop = asyncio.get_running_loop()
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                request_line, *lines = head.decode("latin-1").split("\r\n")[:-2]
                method, target, _version = request_line.split(" ", 2)
                headers = {name.strip().lower(): value.strip() for name, _, value in (x.partition(":") for x in lines)}
                if int(headers.get("content-length") or 0):
                    await reader.readexactly(int(headers["content-length"]))
                parts = urlsplit(target)
                request = RecordedRequest(
                    method, parts.path, parse_qs(parts.query, keep_blank_values=True), headers, loop.time()
                )
                response = self._dispatch(request)
                await asyncio.sleep(response.delay)
                if response.drop:
                    return
                payload = response.encoded()
                status = f"HTTP/1.1 {response.status} {responses.get(response.status, 'Unknown')}\r\n"
                head_lines = "".join(f"{name}: {value}\r\n" for name, value in response.head(len(payload)))
                writer.write(f"{status}{head_lines}\r\n".encode("latin-1"))
                for index, chunk in enumerate(_chunks(payload, response.drip)):
                    await asyncio.sleep(response.drip if index else 0)
                    writer.write(chunk)
                    await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            return  # the client closed the connection or gave up (a timeout test), or the test ended: expected
        finally:
            writer.close()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                self._serve("GET")

            def do_POST(self) -> None:
                self._serve("POST")

            def _serve(self, method: str) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("content-length") or 0)
                if length:
                    self.rfile.read(length)
                request = RecordedRequest(
                    method=method,
                    path=parts.path,
                    params=parse_qs(parts.query, keep_blank_values=True),
                    headers={k.lower(): v for k, v in self.headers.items()},
                    at=time.monotonic(),
                )
                response = fake._dispatch(request)
                time.sleep(response.delay)
                if response.drop:
                    self.close_connection = True
                    self.connection.close()
                    return
                payload = response.encoded()
                self.send_response(response.status)
                for name, value in response.head(len(payload)):
                    self.send_header(name, value)
                self.end_headers()
                for index, chunk in enumerate(_chunks(payload, response.drip)):
                    time.sleep(response.drip if index else 0)
                    self.wfile.write(chunk)
                    self.wfile.flush()

            def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
                return

        return _Handler


def _chunks(payload: bytes, drip: float) -> Iterator[bytes]:
    """The body in one piece, or byte by byte when it drips."""
    if not drip:
        yield payload
        return
    for index in range(len(payload)):
        yield payload[index : index + 1]


@pytest.fixture
def serve(request: pytest.FixtureRequest) -> Iterator[Callable[[FakeHttpServer], FakeHttpServer]]:
    """``serve(server)`` starts a fake server the way the test needs it, and stops it afterwards.

    An asyncio test gets it inside its own (virtual-time) event loop, so delays are virtual; any other test gets
    a thread.
    """
    loop = request.getfixturevalue("virtual_loop") if is_async_test(request.node) else None
    started: list[FakeHttpServer] = []

    def start(server: FakeHttpServer) -> FakeHttpServer:
        started.append(server.serve_in(loop) if loop is not None else server.start())
        return server

    yield start
    for server in started:
        with contextlib.suppress(OSError):
            server.stop()
