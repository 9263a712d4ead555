"""The real transport: HTTP over ``requests`` and ``urllib3``, the only module importing them.

:class:`RequestsTransport` implements :class:`reconciler.cloud.wire.Transport`:

* GETs are retried by urllib3's ``Retry`` on 500/502/503/504 and on connection errors, with
  exponential back-off and jitter; a 503's ``Retry-After`` is honoured, capped at 30 s,
  because urllib3 sleeps on the real clock.
* Writes (POST/PUT/DELETE/PATCH) are sent exactly once: the API offers no idempotency key,
  so a re-sent create could create a second database.
* A 429 is never retried here: the API did not process the request, and
  :class:`~reconciler.cloud.client.ApiClient` waits as long as the API asks, on its injected
  clock, within its own limit.
* Redirects are not followed, and the cookie jar refuses every cookie, so one session can be
  shared by every thread (urllib3's connection pool is thread-safe).
* The environment is honoured as ``requests`` honours it (``HTTP(S)_PROXY``, ``ALL_PROXY``,
  ``NO_PROXY``, ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE``, ``.netrc``), but read once per
  transport (the CA bundle) and once per scheme and host (proxies, netrc), not per request.

Bounds: connecting waits at most 10 s (or ``timeout``, if shorter); then each attempt's
request, the answer's headers and its whole body must be through within ``timeout`` seconds
— a watchdog shuts the socket down at the deadline, so an answer trickling in byte by byte
stops too. A GET's retries (at most ``get_retries``) each get a deadline of their own.
The body is read at most :data:`MAX_ANSWER_BYTES` as sent and as decompressed (only gzip
and deflate are asked for, and decompressed here in bounded steps: a gzip bomb stops at the
cap).

Every ``requests``/``urllib3`` exception becomes a :class:`~reconciler.cloud.wire.TransportError`
holding a short reason and whether the request may have been sent; the exception itself is
dropped, since it holds the prepared request, credentials and body included.
"""

from __future__ import annotations

import contextlib
import http.client
import http.cookiejar
import inspect
import os
import socket
import ssl
import threading
import zlib
from collections.abc import Callable, Iterator, Mapping
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, HTTPError, ReadTimeoutError
from urllib3.util.retry import Retry

from reconciler.cloud.wire import Answer, TransportError

_RETRY_STATUSES = (500, 502, 503, 504)
_CONNECT_TIMEOUT_MAX = 10.0
# A 503 Retry-After is slept by urllib3 with the real clock: keep it bounded.
_SERVER_RETRY_AFTER_MAX = 30.0
#: The most bytes of one answer read, as sent and once decompressed.
MAX_ANSWER_BYTES = 32 * 1024 * 1024
_CHUNK = 64 * 1024


class _AnswerTooLarge(Exception):
    """The answer passed :data:`MAX_ANSWER_BYTES`."""


class _Watch:
    """The deadline of each attempt of one send, and whether the watchdog fired.

    The socket is taken once the request is sent: the connection may let go of it when the
    answer says ``Connection: close``, while the answer is still read from it.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expired = False
        self._timer: threading.Timer | None = None
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()

    def arm(self) -> None:
        """Start the deadline of one attempt (a retry gets a new one)."""
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
            self.expired = False
            self._sock = None
            self._timer = threading.Timer(self.seconds, self._expire)
            self._timer.daemon = True
            self._timer.start()

    def bind(self, sock: socket.socket | None) -> None:
        """Watch ``sock``, the attempt's socket, its request sent; shut it if already late."""
        with self._lock:
            self._sock = sock
            late = self.expired
        if late:
            _shut(sock)

    def disarm(self) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
            self._sock = None

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            sock = self._sock
        _shut(sock)


def _shut(sock: socket.socket | None) -> None:
    """Shut ``sock`` down both ways, so that a read blocked on it returns at once."""
    if sock is not None:
        with contextlib.suppress(OSError):  # already closed: nothing left to stop
            sock.shutdown(socket.SHUT_RDWR)


#: The watch of the send in progress on this thread (urllib3 calls back on the same thread).
_CURRENT = threading.local()


class _WatchedHTTPConnection(HTTPConnection):
    def request(self, *args: Any, **kwargs: Any) -> None:
        watch = getattr(_CURRENT, "watch", None)
        if watch is not None:
            watch.arm()
        super().request(*args, **kwargs)
        if watch is not None:
            watch.bind(self.sock)


class _WatchedHTTPSConnection(HTTPSConnection):
    def request(self, *args: Any, **kwargs: Any) -> None:
        watch = getattr(_CURRENT, "watch", None)
        if watch is not None:
            watch.arm()
        super().request(*args, **kwargs)
        if watch is not None:
            watch.bind(self.sock)


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


class _WatchedAdapter(HTTPAdapter):
    """An adapter whose connections arm the current send's deadline on every request."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _WatchedHTTPPool,
            "https": _WatchedHTTPSPool,
        }


class _GetOnlyRetry(Retry):
    """urllib3's ``Retry`` narrowed to what is safe for this API.

    urllib3 re-sends every method after a connect error and retries a GET 429 carrying
    ``Retry-After`` by itself (sleeping on the real clock); we want writes sent exactly once
    and 429 left to the client, so both are switched off. Every granted retry calls
    ``on_retry`` so the transport can count the sends it made.
    """

    RETRY_AFTER_STATUS_CODES = frozenset({503})
    on_retry: Callable[[], None] | None = None

    def new(self, **kw: Any) -> _GetOnlyRetry:
        retry = super().new(**kw)
        retry.on_retry = self.on_retry
        return retry

    def increment(
        self,
        method: str | None = None,
        url: str | None = None,
        response: Any = None,
        error: Exception | None = None,
        _pool: Any = None,
        _stacktrace: TracebackType | None = None,
    ) -> _GetOnlyRetry:
        if method is not None and method.upper() != "GET":
            # An exhausted copy makes the base class raise exactly as urllib3 would.
            spent = self.new(total=0)
            return Retry.increment(spent, method, url, response, error, _pool, _stacktrace)
        retry = super().increment(method, url, response, error, _pool, _stacktrace)
        if self.on_retry is not None:
            self.on_retry()
        return retry

    def get_retry_after(self, response: Any) -> float | None:
        seconds = super().get_retry_after(response)
        return None if seconds is None else min(seconds, _SERVER_RETRY_AFTER_MAX)


def _get_retry(retries: int, backoff_factor: float) -> _GetOnlyRetry:
    options: dict[str, Any] = {"backoff_factor": backoff_factor}
    if "backoff_jitter" in inspect.signature(Retry.__init__).parameters:  # urllib3 >= 2
        options["backoff_jitter"] = backoff_factor
    return _GetOnlyRetry(
        total=retries,
        other=0,
        allowed_methods=frozenset({"GET"}),
        status_forcelist=_RETRY_STATUSES,
        respect_retry_after_header=True,
        raise_on_status=False,
        raise_on_redirect=False,
        **options,
    )


class RequestsTransport:
    """A :class:`~reconciler.cloud.wire.Transport` over one shared ``requests.Session``.

    ``get_retries`` bounds the re-sends of one GET; ``backoff_factor`` scales urllib3's
    sleep between them (0 in tests: urllib3 sleeps on the real clock).
    """

    def __init__(
        self, *, get_retries: int = 4, backoff_factor: float = 0.5, pool_size: int = 16
    ) -> None:
        # Retries happen in the thread that sent the request: a per-thread count suffices.
        self._retries = threading.local()
        retry = _get_retry(get_retries, backoff_factor)
        retry.on_retry = self._count_retry
        self._session = requests.Session()
        self._session.trust_env = False  # read here and in _environment, not per request
        self._verify: bool | str = (
            os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
        )
        self._environ: dict[tuple[str, str], tuple[dict[str, str], Any]] = {}
        for scheme in ("https://", "http://"):
            self._session.mount(scheme, _WatchedAdapter(max_retries=retry, pool_maxsize=pool_size))
        self._session.cookies.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))

    def send(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None, timeout: float
    ) -> Answer:
        """Send one request (a GET possibly several times); return the answer, any status.

        Raises:
            TransportError: no answer; ``sent`` is False when nothing can have left.
        """
        self._retries.count = 0
        proxies, auth = self._environment(url)
        watch = _Watch(timeout)
        _CURRENT.watch = watch
        try:
            response = self._session.request(
                method,
                url,
                headers={**headers, "Accept-Encoding": "gzip, deflate"},
                data=body,
                timeout=(min(timeout, _CONNECT_TIMEOUT_MAX), timeout),
                allow_redirects=False,
                stream=True,
                proxies=proxies,
                verify=self._verify,
                auth=auth,
            )
            with response:
                content = _bounded_body(response)
        except (requests.RequestException, HTTPError, _AnswerTooLarge, OSError, zlib.error) as exc:
            error = self._failure(exc, watch)
        else:
            return Answer(response.status_code, dict(response.headers), content, self._attempts())
        finally:
            watch.disarm()
            _CURRENT.watch = None
        # Raised outside the handler: the requests exception (which holds the prepared
        # request, headers and body included) must not travel on as __context__.
        raise error

    def _environment(self, url: str) -> tuple[dict[str, str], Any]:
        """Return what ``requests`` takes from the environment for ``url`` (proxies, netrc
        credentials or None), read on the first request to its scheme and host only."""
        parts = urlsplit(url)
        key = (parts.scheme, parts.netloc)
        found = self._environ.get(key)
        if found is None:
            found = (requests.utils.get_environ_proxies(url), requests.utils.get_netrc_auth(url))
            self._environ[key] = found
        return found

    def _failure(self, exc: BaseException, watch: _Watch) -> TransportError:
        """The TransportError for ``exc``, raised while sending or reading the answer."""
        if isinstance(exc, _AnswerTooLarge):
            reason = f"answer larger than {MAX_ANSWER_BYTES // 2**20} MiB"
            return TransportError(reason, sent=True, attempts=self._attempts())
        if watch.expired:
            reason = f"timed out after {watch.seconds:g}s waiting for an answer"
            return TransportError(reason, sent=True, attempts=self._attempts())
        if isinstance(exc, requests.RequestException):
            reason = _reason(exc, watch.seconds)
            return TransportError(reason, sent=not _never_sent(exc), attempts=self._attempts())
        # urllib3's own errors while streaming the body, a broken socket, a bad gzip stream.
        return TransportError("answer cut short", sent=True, attempts=self._attempts())

    def close(self) -> None:
        """Close the pooled connections."""
        self._session.close()

    def _count_retry(self) -> None:
        self._retries.count = getattr(self._retries, "count", 0) + 1

    def _attempts(self) -> int:
        return 1 + int(getattr(self._retries, "count", 0))


def _bounded_body(response: requests.Response) -> bytes:
    """Read the whole body, decompressing gzip or deflate here, both sides capped.

    Raises:
        _AnswerTooLarge: more than :data:`MAX_ANSWER_BYTES` sent or decompressed.
        zlib.error: a compressed body that does not decompress.
        requests.RequestException, OSError: the answer broke off.
    """
    encoding = (response.headers.get("Content-Encoding") or "").strip().lower()
    # 47: a zlib or a gzip header, told apart automatically.
    inflate = zlib.decompressobj(47) if encoding in ("gzip", "x-gzip", "deflate") else None
    raw, out = 0, bytearray()
    for chunk in response.raw.stream(_CHUNK, decode_content=False):
        raw += len(chunk)
        if raw > MAX_ANSWER_BYTES:
            raise _AnswerTooLarge()
        out += _inflated(inflate, chunk, MAX_ANSWER_BYTES - len(out)) if inflate else chunk
        if len(out) > MAX_ANSWER_BYTES:
            raise _AnswerTooLarge()
    if inflate is not None:
        out += inflate.flush()
    return bytes(out)


def _inflated(inflate: Any, chunk: bytes, room: int) -> bytes:
    """Decompress ``chunk`` without producing more than ``room`` + 1 bytes at once."""
    out = bytearray(inflate.decompress(chunk, room + 1))
    while inflate.unconsumed_tail and len(out) <= room:
        out += inflate.decompress(inflate.unconsumed_tail, room + 1 - len(out))
    if len(out) > room:
        raise _AnswerTooLarge()
    return bytes(out)


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """Walk an exception, its args, ``reason``, ``__cause__`` and ``__context__``."""
    seen: set[int] = set()
    todo = [exc]
    while todo:
        current = todo.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        linked = [*current.args, getattr(current, "reason", None)]
        linked += [current.__cause__, current.__context__]
        todo.extend(x for x in linked if isinstance(x, BaseException))


def _never_sent(exc: requests.RequestException) -> bool:
    """True when the failure happened before any byte of the request left."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    return any(
        isinstance(c, (ConnectTimeoutError, ssl.SSLCertVerificationError)) for c in _causes(exc)
    )


def _reason(exc: requests.RequestException, read_timeout: float) -> str:
    """A short human reason for a transport failure (no object reprs)."""
    causes = list(_causes(exc))
    for cause in causes:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return f"TLS certificate verification failed ({cause.verify_message})"
    checks: list[tuple[type[BaseException] | tuple[type[BaseException], ...], str]] = [
        (ConnectionRefusedError, "connection refused"),
        (socket.gaierror, "cannot resolve the host name"),
        (requests.ConnectTimeout, "connection timed out"),
        (
            (requests.ReadTimeout, ReadTimeoutError),
            f"timed out after {read_timeout:g}s waiting for an answer",
        ),
        (requests.exceptions.SSLError, "TLS error"),
        (http.client.RemoteDisconnected, "connection closed without an answer"),
        (ConnectionResetError, "connection reset"),
        (requests.exceptions.ChunkedEncodingError, "answer cut short"),
    ]
    for kind, reason in checks:
        if any(isinstance(c, kind) for c in causes):
            return reason
    return "connection failed"
