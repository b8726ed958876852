"""A real HTTP server on 127.0.0.1 (random port) with per-route handlers, a scripted fault schedule and a request log.

Serves sync and async clients alike (it is a threaded ``http.server``). Reused by the source, hook, sensor and
trigger tests; the API emulators in :mod:`tests.fakes.carbon_apis` register their routes on it.
"""

from __future__ import annotations

import json
import re
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


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
    """What to answer; ``drop`` closes the connection without a response (a transport error for the client)."""

    status: int = 200
    body: Any = None
    raw: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    drop: bool = False

    def encoded(self) -> bytes:
        if self.raw is not None:
            return self.raw
        return b"" if self.body is None else json.dumps(self.body).encode()


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
        self._server = _QuietServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-http", daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> FakeHttpServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

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
                if response.delay:
                    time.sleep(response.delay)
                if response.drop:
                    self.close_connection = True
                    self.connection.close()
                    return
                payload = response.encoded()
                self.send_response(response.status)
                self.send_header("Content-Type", response.headers.get("Content-Type", "application/json"))
                for name, value in response.headers.items():
                    if name != "Content-Type":
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
                return

        return _Handler
