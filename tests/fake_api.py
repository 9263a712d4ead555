"""A scripted fake HTTP API on loopback, for the tests of code that speaks to the API.

``FakeApi(responder)`` serves on ``127.0.0.1`` (a free port) under the base path ``/v1``,
until :meth:`FakeApi.close` (or the end of a ``with`` block). A *responder* is any callable
taking the :class:`Seen` request and returning the :class:`Reply` to send; two are ready:

- :func:`in_order` — the replies in order, then the last one again and again;
- :func:`by_route` — ``{(METHOD, path): Reply | responder}``, the path relative to the base
  (``/subscriptions/1``), matched with its query first (``/tasks?offset=0``), then without;
  anything else gets ``fallback`` (by default a JSON 404 naming the route).

A test with its own account logic passes its own function (see ``tests/cloud/test_reader.py``).

Hostile answers are :class:`Reply` fields, so a suite of bad answers needs no other server:

- ``body``: dict/list go out as JSON, str as UTF-8, bytes exactly as given, None as empty;
- ``content_type``: ``application/json`` by default, any other, or None for no header at
  all (a ``Content-Type`` in ``headers`` wins);
- ``delay``: seconds to wait before answering (timeouts, concurrency);
- ``drop``: read the request, then close the connection without a byte of answer;
- ``cut``: announce a body four times longer than sent, then hang up (a truncated answer);
- ``raw``: write these bytes instead of an HTTP answer, then close (garbage on the wire).

What was asked is recorded: :attr:`FakeApi.seen` lists every :class:`Seen` in arrival order,
:meth:`FakeApi.paths` their paths relative to the base, and :attr:`FakeApi.max_in_flight`
the most requests being answered at once.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

BASE = "/v1"


@dataclass(frozen=True)
class Reply:
    """One scripted answer (see the module docstring for the hostile fields)."""

    status: int = 200
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)
    content_type: str | None = "application/json"
    delay: float = 0.0
    drop: bool = False
    cut: bool = False
    raw: bytes | None = None

    def payload(self) -> bytes:
        """The body's bytes."""
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode()
        return b"" if self.body is None else json.dumps(self.body).encode()

    def header_lines(self, length: int) -> dict[str, str]:
        """The headers to send for a body of ``length`` bytes."""
        lines = {} if self.content_type is None else {"Content-Type": self.content_type}
        named = {k.lower() for k in self.headers}
        lines = {k: v for k, v in lines.items() if k.lower() not in named}
        lines.update(self.headers)
        lines["Content-Length"] = str(length * 4 if self.cut else length)
        if self.cut:
            lines["Connection"] = "close"
        return lines


@dataclass(frozen=True)
class Seen:
    """One request received; ``path`` as sent, base and query included."""

    method: str
    path: str
    headers: Mapping[str, str]
    body: bytes

    @property
    def api_path(self) -> str:
        """The path relative to the base, query included (``/subscriptions?offset=0``)."""
        return self.path.removeprefix(BASE)

    @property
    def route(self) -> str:
        """The path relative to the base, without query (``/subscriptions``)."""
        return urllib.parse.urlsplit(self.api_path).path

    @property
    def query(self) -> dict[str, str]:
        """The query parameters (the last value of each)."""
        return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))

    def json(self) -> Any:
        """The request body parsed as JSON."""
        return json.loads(self.body)


Responder = Callable[[Seen], Reply]


def in_order(*replies: Reply) -> Responder:
    """Answer with ``replies`` in order, then repeat the last (a plain 200 if none)."""
    script = list(replies) or [Reply()]
    lock = threading.Lock()
    count = 0

    def answer(seen: Seen) -> Reply:
        nonlocal count
        with lock:
            count += 1
            return script[min(count, len(script)) - 1]

    return answer


def not_found(seen: Seen) -> Reply:
    """A JSON 404 naming the route nobody scripted."""
    description = f"no route {seen.method} {seen.route}"
    return Reply(404, {"error": {"type": "NOT_FOUND", "description": description}})


def by_route(
    routes: Mapping[tuple[str, str], Reply | Responder], fallback: Responder = not_found
) -> Responder:
    """Answer ``(METHOD, path)`` from ``routes`` (query-specific entries first)."""

    def answer(seen: Seen) -> Reply:
        route = routes.get((seen.method, seen.api_path), routes.get((seen.method, seen.route)))
        if route is None:
            return fallback(seen)
        return route if isinstance(route, Reply) else route(seen)

    return answer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out apart: no 40 ms delayed-ACK stall
    server: _Server

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        seen = Seen(self.command, self.path, dict(self.headers), body)
        api = self.server.api
        api.entered(seen)
        try:
            self._answer(api.responder(seen))
        finally:
            api.left()

    def _answer(self, reply: Reply) -> None:
        time.sleep(reply.delay)
        if reply.raw is not None or reply.drop:
            self.wfile.write(reply.raw or b"")
            self.close_connection = True
            return
        payload = reply.payload()
        self.send_response(reply.status)
        for name, value in reply.header_lines(len(payload)).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)
        if reply.cut:
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    api: FakeApi

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Quiet: a client that timed out or hung up leaves a broken pipe behind, on purpose."""


class FakeApi:
    """A loopback HTTP server answering with ``responder``; records what it was asked."""

    def __init__(self, responder: Responder) -> None:
        self.responder = responder
        self.seen: list[Seen] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.api = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        """The base URL to give a client: ``http://127.0.0.1:PORT/v1``."""
        return f"http://127.0.0.1:{self._server.server_address[1]}{BASE}"

    def paths(self) -> list[str]:
        """The paths asked so far, relative to the base, query included, in arrival order."""
        with self._lock:
            return [seen.api_path for seen in self.seen]

    def entered(self, seen: Seen) -> None:
        """Record a request about to be answered (called by the handler)."""
        with self._lock:
            self.seen.append(seen)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def left(self) -> None:
        """Record a request answered (called by the handler)."""
        with self._lock:
            self.in_flight -= 1

    def close(self) -> None:
        """Stop serving and wait for the server thread."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def __enter__(self) -> FakeApi:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
