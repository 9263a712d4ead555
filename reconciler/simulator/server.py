"""The HTTP side: a threading HTTP/1.1 server (keep-alive) and its lifecycle.

:func:`serve_in_background` starts the simulator on a thread and returns a
:class:`RunningSimulator`; :func:`serve_forever` blocks until Ctrl-C. Stopping closes every
open keep-alive connection, waits for the handler threads, and saves the state. Client
disconnects never print tracebacks.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from reconciler.simulator.api import Simulator
from reconciler.simulator.config import SimulatorConfig
from reconciler.simulator.gateway import Answer, Gateway, encode
from reconciler.simulator.replies import ApiProblem, Reply

logger = logging.getLogger(__name__)

API_PREFIX = "/v1"
JOIN_TIMEOUT_SECONDS = 5.0
_DISCONNECTS = (ConnectionError, TimeoutError, socket.timeout)


class SimulatorHTTPServer(ThreadingHTTPServer):
    """A threading server that keeps track of its connections so it can close them."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], gateway: Gateway) -> None:
        self.gateway = gateway
        self._connections: dict[Any, threading.Thread] = {}
        self._connections_lock = threading.Lock()
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, SimulatorRequestHandler)

    def process_request(self, request: Any, client_address: Any) -> None:
        """Serve one connection on its own (tracked) thread."""
        thread = threading.Thread(
            target=self.process_request_thread,
            args=(request, client_address),
            name="simulator-connection",
            daemon=True,
        )
        with self._connections_lock:
            self._connections[request] = thread
        thread.start()

    def shutdown_request(self, request: Any) -> None:
        """Forget and close a finished connection."""
        with self._connections_lock:
            self._connections.pop(request, None)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Shut every open connection down and wait for its handler thread to finish."""
        with self._connections_lock:
            open_connections = list(self._connections.items())
        for connection, _ in open_connections:
            with contextlib.suppress(OSError):  # already closed by its handler
                connection.shutdown(socket.SHUT_RDWR)
        for _, thread in open_connections:
            thread.join(JOIN_TIMEOUT_SECONDS)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Log handler failures; a client that went away is not worth a traceback."""
        logger.debug("connection from %s ended with an error", client_address, exc_info=True)


class SimulatorRequestHandler(BaseHTTPRequestHandler):
    """Reads one request at a time from a keep-alive connection and answers it."""

    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes: without TCP_NODELAY, Nagle's algorithm
    # and the client's delayed ACK would add ~40 ms to every keep-alive answer.
    disable_nagle_algorithm = True
    server: SimulatorHTTPServer
    server_version = "RedisCloudSimulator/1"

    def do_GET(self) -> None:
        """Answer a GET."""
        self._dispatch()

    def do_POST(self) -> None:
        """Answer a POST."""
        self._dispatch()

    def do_PUT(self) -> None:
        """Answer a PUT."""
        self._dispatch()

    def do_DELETE(self) -> None:
        """Answer a DELETE."""
        self._dispatch()

    def do_PATCH(self) -> None:
        """Answer a PATCH (no route takes it: 404/405)."""
        self._dispatch()

    def handle(self) -> None:
        """Serve the connection; a client hanging up is normal, not an error."""
        try:
            super().handle()
        except _DISCONNECTS:
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the base class's stderr logging (requests are logged in :meth:`_dispatch`)."""

    def _dispatch(self) -> None:
        started = time.perf_counter()
        url = urlsplit(self.path)
        answer = self._answer(url.path, url.query)
        # Logged before the answer goes out, so a client that has its answer sees the line.
        self._log(url.path, answer, started)
        if answer.drop:
            self.close_connection = True
        else:
            self._send(answer)

    def _answer(self, path: str, query: str) -> Answer:
        gateway = self.server.gateway
        try:
            body = self._read_body()
        except ApiProblem as problem:
            self.close_connection = True
            return encode(Reply.problem(problem))
        if path.startswith("/_simulator/"):
            return gateway.control(self.command, path)
        if path != API_PREFIX and not path.startswith(API_PREFIX + "/"):
            return encode(Reply.problem(ApiProblem(404, "ENTITY_NOT_FOUND", "No such path")))
        headers = {name.lower(): value for name, value in self.headers.items()}
        host = self.headers.get("Host") or "{}:{}".format(*self.server.server_address[:2])
        api_path = path[len(API_PREFIX) :] or "/"
        try:
            return gateway.api(
                self.command, api_path, query, headers, body, f"http://{host}{API_PREFIX}"
            )
        except Exception:
            logger.exception("simulator failed on %s %s", self.command, path)
            return encode(
                Reply.problem(ApiProblem(500, "GENERAL_ERROR", "Internal simulator error"))
            )

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            raise ApiProblem(411, "BAD_REQUEST", "Chunked request bodies are not supported")
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            raise ApiProblem(400, "BAD_REQUEST", "Bad Content-Length") from None
        return self.rfile.read(length) if length > 0 else b""

    def _send(self, answer: Answer) -> None:
        self.send_response(answer.status)
        for name, value in answer.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer.body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if answer.body and self.command != "HEAD":
            self.wfile.write(answer.body)

    def _log(self, path: str, answer: Answer, started: float) -> None:
        # Method, path and status only: headers (API keys) and bodies (passwords) never.
        status = "dropped" if answer.drop else str(answer.status)
        line = f"{self.command} {path} {status} {(time.perf_counter() - started) * 1000:.1f}ms"
        logger.debug("%s", line)
        log = self.server.gateway.config.log
        if log is not None:
            log(line)


class RunningSimulator:
    """A simulator serving on a background thread; a context manager that stops it."""

    def __init__(
        self, server: SimulatorHTTPServer, thread: threading.Thread, config: SimulatorConfig
    ) -> None:
        self._server = server
        self._thread = thread
        self._stopped = False
        self.config = config
        self.gateway = server.gateway
        self.simulator: Simulator = server.gateway.simulator
        host, port = server.server_address[:2]
        self.host = "127.0.0.1" if host in ("0.0.0.0", "") else str(host)
        self.port = int(port)
        shown = f"[{self.host}]" if ":" in self.host else self.host
        self.url = f"http://{shown}:{self.port}{API_PREFIX}"
        self.api_key = config.api_key
        self.api_secret = config.api_secret

    def stats(self) -> dict[str, Any]:
        """Return the request statistics (as ``GET /_simulator/stats`` does)."""
        return self.gateway.stats.snapshot()

    def reset(self) -> None:
        """Put the account back to the seed (as ``POST /_simulator/reset`` does)."""
        self.gateway.reset()

    def stop(self) -> None:
        """Stop serving, close connections, wait for handlers, save the state (idempotent)."""
        if self._stopped:
            return
        self._stopped = True
        self._server.shutdown()
        self._server.close_connections()
        self._server.server_close()
        self._thread.join(JOIN_TIMEOUT_SECONDS)
        with self.simulator.lock:
            self.simulator.save()

    def __enter__(self) -> RunningSimulator:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def serve_in_background(config: SimulatorConfig) -> RunningSimulator:
    """Start the simulator on a background thread; return it once it accepts connections.

    Raises:
        UsageError: the state or seed file is unusable.
        OSError: the address cannot be bound.
    """
    gateway = Gateway(Simulator(config), config)
    server = SimulatorHTTPServer((config.host, config.port), gateway)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.02}, name="simulator", daemon=True
    )
    thread.start()
    running = RunningSimulator(server, thread, config)
    logger.info("Redis Cloud API simulator listening on %s", running.url)
    return running


def wait_until_interrupted() -> None:
    """Block the calling (main) thread until Ctrl-C raises KeyboardInterrupt."""
    never = threading.Event()
    while not never.wait(0.5):  # short waits keep the main thread responsive to signals
        pass


def serve_forever(config: SimulatorConfig) -> None:
    """Serve until Ctrl-C (KeyboardInterrupt), then shut down cleanly and save the state.

    Raises:
        UsageError: the state or seed file is unusable.
        OSError: the address cannot be bound.
    """
    running = serve_in_background(config)
    if config.log is not None:
        config.log(f"Redis Cloud API simulator listening on {running.url}")
        if config.users:
            config.log("users: " + ", ".join(user.label() for user in config.all_users()))
    try:
        wait_until_interrupted()
    except KeyboardInterrupt:
        logger.info("simulator interrupted; shutting down")
    finally:
        running.stop()
