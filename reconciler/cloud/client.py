"""The one HTTP boundary: a small client for the Redis Cloud REST API v1.

This is the only module that imports ``requests``/``urllib3``; every transport problem and
every non-2xx answer is translated here, once, into :mod:`reconciler.errors`.

Retry rules (DESIGN §6, facts §5.4):

* GETs are retried on 500/502/503/504 and connection errors by urllib3's ``Retry``.
* Writes (POST/PUT/DELETE) are sent exactly once. A write whose answer is lost or is a 5xx
  raises :class:`UnknownOutcomeError`; the caller re-reads before deciding anything.
* A 429 means "not processed", so every method is re-sent after the wait the API asks for
  (``x-rate-limit-retry-after-seconds``, else ``Retry-After``, else back-off with jitter),
  up to ``rate_limit_wait_max`` seconds in total. ``X-Rate-Limit-Remaining`` feeds a
  client-side budget that pauses before the next request once the budget is spent.

Secrets: request bodies and headers never reach a message or a log line; :class:`Secret`
values are revealed only while serialising the body. An error answer echoing them back is
scrubbed of the body's secrets and of the API key and secret before it is shortened.
"""

from __future__ import annotations

import email.utils
import http.client
import http.cookiejar
import inspect
import ipaddress
import itertools
import json
import logging
import math
import random
import socket
import ssl
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator, Mapping
from types import TracebackType
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ConnectTimeoutError, ReadTimeoutError
from urllib3.util.retry import Retry

from reconciler import __version__
from reconciler.cloud.errorbody import error_details
from reconciler.errors import (
    ApiError,
    ApiUnavailableError,
    AuthenticationError,
    BadResponseError,
    ConflictError,
    NotFoundError,
    RateLimitedError,
    UnknownOutcomeError,
    UsageError,
)
from reconciler.secrets import clear_values, mask_uri, reveal

logger = logging.getLogger(__name__)

DEFAULT_API_URL = "https://api.redislabs.com/v1"

_WRITE_METHODS = frozenset({"POST", "PUT", "DELETE", "PATCH"})
_RETRY_STATUSES = (500, 502, 503, 504)
_CONNECT_TIMEOUT_MAX = 10.0
# A 503 Retry-After is slept by urllib3 with the real clock: keep it bounded.
_SERVER_RETRY_AFTER_MAX = 30.0
# 429 without a delay header: 5 s, 10 s, 20 s … (the window is a minute long, so 1 s
# retries only burn requests), at most a minute, plus up to 20 % jitter.
_BACKOFF_FIRST = 5.0
_BACKOFF_CAP = 60.0
_MIN_RATE_LIMIT_WAIT = 1.0
_RATE_WINDOW = 60.0
_BUDGET_RESERVE = 0
_UNKNOWN_OUTCOME = "the change may or may not have taken effect; re-read before retrying"


def check_api_url(url: str) -> str:
    """Return ``url`` without its trailing slash.

    Raises:
        UsageError: not ``https://HOST…``, or ``http://`` to a host other than a loopback one
            (127.0.0.0/8, ``localhost``, ``[::1]``).
    """
    text = url.strip().rstrip("/")
    parts = urllib.parse.urlsplit(text)
    try:
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        host = ""
    if parts.scheme.lower() not in ("http", "https") or not host:
        raise UsageError(f"invalid API URL {mask_uri(url)!r}: expected https://HOST[/PATH]")
    if parts.scheme.lower() == "http" and not _is_loopback(host):
        raise UsageError(f"refusing plain http:// to a non-loopback host {host!r}: use https://")
    return text


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _GetOnlyRetry(Retry):
    """urllib3's ``Retry`` narrowed to what is safe for this API.

    urllib3 re-sends every method after a connect error and retries a GET 429 carrying
    ``Retry-After`` by itself (sleeping on the real clock); we want writes sent exactly once
    and 429 left to :class:`ApiClient`, so both are switched off. Every granted retry calls
    ``on_retry`` so the client can count the requests it sent.
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


class _RateBudget:
    """The account's request budget as last reported by ``X-Rate-Limit-Remaining``.

    The API does not say when its one-minute window started, so a window is assumed to start
    when the remaining count is first seen (or seen going up). Once it reaches the reserve,
    every request waits until that window has ended.
    """

    def __init__(self, clock: Callable[[], float], sleep: Callable[[float], None]) -> None:
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._window_start: float | None = None
        self._last_remaining: int | None = None
        self._resume_at = 0.0

    def wait_turn(self) -> None:
        """Sleep until the budget allows another request (holding the lock on purpose)."""
        with self._lock:
            delay = self._resume_at - self._clock()
            if delay > 0:
                logger.info("API request budget spent; waiting %.1fs", delay)
                self._sleep(delay)

    def observe(self, headers: Mapping[str, str]) -> None:
        """Record the ``X-Rate-Limit-Remaining`` header of an answer, if any."""
        try:
            remaining = int(headers.get("X-Rate-Limit-Remaining", ""))
        except ValueError:
            return
        with self._lock:
            now = self._clock()
            last = self._last_remaining
            if self._window_start is None or last is None or remaining > last:
                self._window_start = now
            self._last_remaining = remaining
            if remaining <= _BUDGET_RESERVE:
                self._resume_at = max(self._resume_at, self._window_start + _RATE_WINDOW)


class ApiClient:
    """A Redis Cloud API v1 client: parsed JSON in, :mod:`reconciler.errors` out.

    One ``requests.Session`` is shared by every thread (the reader uses a few): the adapter
    is mounted once, urllib3's connection pool is thread-safe, and the only other mutable
    state of a session, its cookie jar, is made to refuse every cookie.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        api_secret: str,
        *,
        timeout: float = 30.0,
        get_retries: int = 4,
        rate_limit_wait_max: float = 120.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        backoff_factor: float = 0.5,
    ) -> None:
        self._base_url = check_api_url(base_url)
        self._timeout = (min(timeout, _CONNECT_TIMEOUT_MAX), timeout)
        self._rate_limit_wait_max = rate_limit_wait_max
        self._get_retries = get_retries
        self._sleep = sleep
        self._budget = _RateBudget(clock, sleep)
        self._count_lock = threading.Lock()
        self._request_count = 0
        # An error body may echo the request headers back: scrubbed like request secrets.
        self._credentials = (api_key, api_secret)
        self._session = self._new_session(api_key, api_secret, get_retries, backoff_factor)

    def _new_session(
        self, api_key: str, api_secret: str, retries: int, backoff_factor: float
    ) -> requests.Session:
        retry = _get_retry(retries, backoff_factor)
        retry.on_retry = self._count_request
        session = requests.Session()
        session.mount("https://", HTTPAdapter(max_retries=retry, pool_maxsize=16))
        session.mount("http://", HTTPAdapter(max_retries=retry, pool_maxsize=16))
        session.cookies.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
        python = f"{sys.version_info.major}.{sys.version_info.minor}"
        session.headers.update(
            {
                "x-api-key": api_key,
                "x-api-secret-key": api_secret,
                "Accept": "application/json",
                "Content-Type": "application/json",
                "User-Agent": f"reconciler/{__version__} (python {python})",
            }
        )
        return session

    @property
    def base_url(self) -> str:
        """The API base URL, without trailing slash."""
        return self._base_url

    @property
    def request_count(self) -> int:
        """HTTP requests sent so far, retries included."""
        return self._request_count

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """GET ``path`` (e.g. ``/subscriptions/1``) and return the parsed JSON answer.

        Raises:
            ApiError: a subclass per failure (see :mod:`reconciler.errors`).
        """
        # The query is part of the path named in errors and logs: it tells which page failed.
        shown = _shown_path(path, params)
        response = self._send("GET", shown, None, ())
        return self._parse(response, "GET", shown)

    def write(self, method: str, path: str, body: Any = None) -> Any:
        """Send one POST/PUT/DELETE and return the parsed JSON answer (the task).

        ``body`` may hold :class:`Secret` values; they are revealed only in the bytes sent.

        Raises:
            UnknownOutcomeError: the answer was lost or was a 5xx; never re-sent.
            ApiError: another subclass per failure (see :mod:`reconciler.errors`).
            ValueError: ``method`` is not a write method.
        """
        method = method.upper()
        if method not in _WRITE_METHODS:
            raise ValueError(f"not a write method: {method}")
        data = None if body is None else json.dumps(reveal(body)).encode()
        response = self._send(method, path, data, tuple(clear_values(body)))
        return self._parse(response, method, path)

    def close(self) -> None:
        """Close the pooled connections."""
        self._session.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _count_request(self) -> None:
        with self._count_lock:
            self._request_count += 1

    def _send(
        self, method: str, path: str, data: bytes | None, secrets: tuple[str, ...]
    ) -> requests.Response:
        """Send until the answer is not a 429; return any non-429 answer."""
        waited = 0.0
        for attempt in itertools.count():
            self._budget.wait_turn()
            response = self._send_once(method, path, data)
            if response.status_code != 429:
                self._budget.observe(response.headers)
                if not 200 <= response.status_code < 300:
                    raise self._status_error(response, method, path, secrets)
                return response
            delay = _rate_limit_delay(response.headers, attempt)
            if waited + delay > self._rate_limit_wait_max:
                raise self._rate_limited(response, method, path, waited, delay)
            logger.info("%s %s: rate limited (429); retrying in %.1fs", method, path, delay)
            self._sleep(delay)
            waited += delay
        raise AssertionError("unreachable")  # pragma: no cover - itertools.count is endless

    def _send_once(self, method: str, path: str, data: bytes | None) -> requests.Response:
        started = time.perf_counter()
        self._count_request()
        try:
            response = self._session.request(
                method,
                self._base_url + path,
                data=data,
                timeout=self._timeout,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            elapsed = time.perf_counter() - started
            logger.debug("%s %s -> %s after %.3fs", method, path, type(exc).__name__, elapsed)
            error = self._transport_error(exc, method, path)
        else:
            elapsed = time.perf_counter() - started
            logger.debug("%s %s -> %s in %.3fs", method, path, response.status_code, elapsed)
            return response
        # Raised outside the handler: the requests exception (which holds the prepared
        # request, headers and body included) must not travel on as __context__.
        raise error

    def _transport_error(self, exc: requests.RequestException, method: str, path: str) -> ApiError:
        reason = _transport_reason(exc, self._timeout[1])
        if _never_sent(exc):
            return ApiUnavailableError(
                method, path, 0, "", f"cannot reach {self._base_url}: {reason}"
            )
        if method == "GET":
            described = f"request to {self._base_url} failed: {reason}"
            return ApiUnavailableError(method, path, 0, "", described)
        return UnknownOutcomeError(
            method, path, 0, "", f"request sent but {reason}; {_UNKNOWN_OUTCOME}"
        )

    def _status_error(
        self, response: requests.Response, method: str, path: str, secrets: tuple[str, ...]
    ) -> ApiError:
        status = response.status_code
        error_type, description = _error_details(response, (*secrets, *self._credentials))
        if 300 <= status < 400:
            location = mask_uri(response.headers.get("Location", ""))
            description = f"unexpected redirect to {location or '(no location)'}"
        kind: type[ApiError] = _STATUS_ERRORS.get(status, ApiError)
        if status >= 500 and method == "GET":
            kind = ApiUnavailableError
            retried = f"{self._base_url} still failing after {self._get_retries} retries"
            description = "; ".join(x for x in (description, retried) if x)
        elif status >= 500:
            kind = UnknownOutcomeError
            description = "; ".join(x for x in (description, _UNKNOWN_OUTCOME) if x)
        return kind(method, path, status, error_type, description)

    def _rate_limited(
        self, response: requests.Response, method: str, path: str, waited: float, delay: float
    ) -> RateLimitedError:
        error_type, _ = _error_details(response, self._credentials)
        description = (
            f"too many requests; gave up after waiting {waited:.0f}s "
            f"(the next wait, {delay:.0f}s, would pass the {self._rate_limit_wait_max:.0f}s limit)"
        )
        return RateLimitedError(method, path, 429, error_type, description)

    def _parse(self, response: requests.Response, method: str, path: str) -> Any:
        content = response.content
        try:
            return json.loads(content)
        except ValueError:
            pass  # no chaining: a JSONDecodeError carries the whole body, passwords included
        kind = response.headers.get("Content-Type") or "no Content-Type"
        described = f"answer is not JSON ({kind}, {len(content)} bytes)"
        raise BadResponseError(method, path, response.status_code, "", described)


_STATUS_ERRORS: dict[int, type[ApiError]] = {
    401: AuthenticationError,
    403: AuthenticationError,
    404: NotFoundError,
    409: ConflictError,
    429: RateLimitedError,
}


def _shown_path(path: str, params: Mapping[str, Any] | None) -> str:
    return f"{path}?{urllib.parse.urlencode(params)}" if params else path


def _rate_limit_delay(headers: Mapping[str, str], attempt: int) -> float:
    """Return the seconds to wait after the ``attempt``-th (0-based) 429 in a row."""
    seconds = _seconds_header(headers.get("x-rate-limit-retry-after-seconds"))
    if seconds is None:
        seconds = _retry_after(headers.get("Retry-After"))
    if seconds is None:
        base = min(_BACKOFF_CAP, _BACKOFF_FIRST * 2**attempt)
        seconds = base * (1 + 0.2 * random.random())
    return max(seconds, _MIN_RATE_LIMIT_WAIT)


def _seconds_header(value: str | None) -> float | None:
    try:
        seconds = float(value) if value is not None else None
    except ValueError:
        return None
    return seconds if seconds is not None and math.isfinite(seconds) else None


def _retry_after(value: str | None) -> float | None:
    """``Retry-After`` is either seconds or an HTTP date."""
    seconds = _seconds_header(value)
    if seconds is not None or value is None:
        return seconds
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return when.timestamp() - time.time()


def _error_details(response: requests.Response, secrets: tuple[str, ...]) -> tuple[str, str]:
    """Return ``(error type, description)`` of a non-2xx answer, ``secrets`` masked."""
    return error_details(response.content, response.headers.get("Content-Type", ""), secrets)


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


def _transport_reason(exc: requests.RequestException, read_timeout: float) -> str:
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
