"""The client of the Redis Cloud REST API v1: parsed JSON in, :mod:`reconciler.errors` out.

Every transport failure and every non-2xx answer is translated here, once:

* A GET that gets no answer, or still a 5xx after the transport's retries, raises
  :class:`ApiUnavailableError`.
* A write (POST/PUT/DELETE) is sent exactly once; one whose answer is lost or is a 5xx raises
  :class:`UnknownOutcomeError`, and the caller re-reads before deciding anything. A request
  the transport could not send at all raises :class:`ApiUnavailableError` for any method.
* A 429 means "not processed", so every method is re-sent after the wait the API asks for
  (see :mod:`reconciler.cloud.ratelimit`), up to ``rate_limit_wait_max`` seconds in total;
  ``X-Rate-Limit-Remaining`` feeds a budget that pauses before the next request once spent.
* Except a 429 to a write that says the account is busy changing other subscriptions
  (:func:`~reconciler.cloud.ratelimit.account_busy`): that raises
  :class:`AccountBusyError` at once, since it lasts minutes; the caller decides how long
  to wait for the account.
* Every request first takes its turn in the client's own budget: at most
  ``max_requests_per_minute`` in any 60 s (default 200, half the account's 400), shared by
  every thread using the client (the lanes of a parallel apply, the reader's workers).

HTTP itself is a :class:`~reconciler.cloud.wire.Transport`: by default
:class:`~reconciler.cloud.transport.RequestsTransport`, or any object passed as
``transport=``.

Secrets: request bodies and headers never reach a message or a log line; :class:`Secret`
values are revealed only while serialising the body. An error answer echoing them back is
scrubbed of the body's secrets and of the API key and secret before it is shortened.
"""

from __future__ import annotations

import ipaddress
import itertools
import json
import logging
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Mapping
from typing import Any

from reconciler import __version__
from reconciler.cloud.errorbody import error_details
from reconciler.cloud.ratelimit import (
    ACCOUNT_BUSY,
    DEFAULT_REQUESTS_PER_MINUTE,
    RateBudget,
    account_busy,
    describe_wait,
    rate_limit_delay,
)
from reconciler.cloud.transport import RequestsTransport
from reconciler.cloud.wire import Answer, Transport, TransportError
from reconciler.errors import (
    AccountBusyError,
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
from reconciler.secrets import clear_values, mask_url, reveal, url_secrets

logger = logging.getLogger(__name__)

DEFAULT_API_URL = "https://api.redislabs.com/v1"

_WRITE_METHODS = frozenset({"POST", "PUT", "DELETE", "PATCH"})
_UNKNOWN_OUTCOME = "the change may or may not have taken effect; re-read before retrying"
_STATUS_ERRORS: dict[int, type[ApiError]] = {
    401: AuthenticationError,
    403: AuthenticationError,
    404: NotFoundError,
    409: ConflictError,
    429: AccountBusyError,  # the 429 that is the request rate is re-sent (see _send)
}


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
        raise UsageError(f"invalid API URL {mask_url(url)!r}: expected https://HOST[/PATH]")
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


class ApiClient:
    """A Redis Cloud API v1 client: parsed JSON in, :mod:`reconciler.errors` out.

    Safe to share between threads (the reader uses a few, a parallel apply one per lane), and
    so is its request budget. ``get_retries`` and
    ``backoff_factor`` configure the default transport; ``get_retries`` is also the count an
    :class:`ApiUnavailableError` names, so pass the same to an injected ``transport``. The
    client owns its transport: :meth:`close` closes it.

    Raises:
        UsageError: ``base_url`` refused by :func:`check_api_url`.
        ValueError: ``max_requests_per_minute`` below 1.
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
        transport: Transport | None = None,
        max_requests_per_minute: int = DEFAULT_REQUESTS_PER_MINUTE,
    ) -> None:
        self._base_url = check_api_url(base_url)
        # Credentials or tokens in the URL itself are never shown.
        self._shown_url = mask_url(self._base_url)
        self._timeout = timeout
        self._rate_limit_wait_max = rate_limit_wait_max
        self._get_retries = get_retries
        self._sleep = sleep
        self._budget = RateBudget(clock, sleep, max_requests_per_minute)
        self._count_lock = threading.Lock()
        self._request_count = 0
        # An error body may echo the request headers back: scrubbed like request secrets.
        self._credentials = (api_key, api_secret, *url_secrets(self._base_url))
        self._headers = _request_headers(api_key, api_secret)
        if transport is None:
            transport = RequestsTransport(get_retries=get_retries, backoff_factor=backoff_factor)
        self._transport = transport

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
        shown = f"{path}?{urllib.parse.urlencode(params)}" if params else path
        answer = self._send("GET", shown, None, ())
        return _parse(answer, "GET", shown)

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
        answer = self._send(method, path, data, tuple(clear_values(body)))
        return _parse(answer, method, path)

    def close(self) -> None:
        """Close the transport's pooled connections."""
        self._transport.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _count(self, attempts: int) -> None:
        with self._count_lock:
            self._request_count += attempts

    def _send(self, method: str, path: str, data: bytes | None, secrets: tuple[str, ...]) -> Answer:
        """Send until the answer is not a 429 of the request rate; return a 2xx answer.

        Raises:
            AccountBusyError: a 429 to a write because the account is busy, at once.
            ApiError: a non-2xx answer, no answer, or 429s past ``rate_limit_wait_max``.
        """
        waited = 0.0
        for attempt in itertools.count():
            self._budget.wait_turn()
            answer = self._send_once(method, path, data)
            if answer.status != 429 or self._account_busy(answer, method):
                self._budget.observe(answer.header)
                if not 200 <= answer.status < 300:
                    raise self._status_error(answer, method, path, secrets)
                return answer
            delay = rate_limit_delay(answer.header, attempt)
            if waited + delay > self._rate_limit_wait_max:
                raise self._rate_limited(answer, method, path, waited, delay)
            logger.info("%s %s: rate limited (429); retrying in %.1fs", method, path, delay)
            self._sleep(delay)
            waited += delay
        raise AssertionError("unreachable")  # pragma: no cover - itertools.count is endless

    def _account_busy(self, answer: Answer, method: str) -> bool:
        """Is a 429 the account busy changing other subscriptions (not the request rate)?"""
        error_type, description = _error_details(answer, self._credentials)
        return account_busy(method, error_type, description, answer.header)

    def _send_once(self, method: str, path: str, data: bytes | None) -> Answer:
        """Send through the transport; return its answer, any status."""
        url = self._base_url + path
        # Only timing a log line, never deciding a wait: the real clock is fine here.
        started = time.perf_counter()
        try:
            answer = self._transport.send(method, url, self._headers, data, self._timeout)
        except TransportError as exc:
            elapsed = time.perf_counter() - started
            logger.debug("%s %s -> %s after %.3fs", method, path, exc.reason, elapsed)
            self._count(exc.attempts)
            error = self._transport_error(exc, method, path)
        else:
            elapsed = time.perf_counter() - started
            logger.debug("%s %s -> %s in %.3fs", method, path, answer.status, elapsed)
            self._count(answer.attempts)
            return answer
        raise error  # outside the handler: no __context__ to carry along

    def _transport_error(self, exc: TransportError, method: str, path: str) -> ApiError:
        if not exc.sent:
            described = f"cannot reach {self._shown_url}: {exc.reason}"
            return ApiUnavailableError(method, path, 0, "", described)
        if method == "GET":
            described = f"request to {self._shown_url} failed: {exc.reason}"
            return ApiUnavailableError(method, path, 0, "", described)
        described = f"request sent but {exc.reason}; {_UNKNOWN_OUTCOME}"
        return UnknownOutcomeError(method, path, 0, "", described)

    def _status_error(
        self, answer: Answer, method: str, path: str, secrets: tuple[str, ...]
    ) -> ApiError:
        status = answer.status
        error_type, description = _error_details(answer, (*secrets, *self._credentials))
        if 300 <= status < 400:
            location = mask_url(answer.header("Location") or "")
            description = f"unexpected redirect to {location or '(no location)'}"
        kind: type[ApiError] = _STATUS_ERRORS.get(status, ApiError)
        if status >= 500 and method == "GET":
            kind = ApiUnavailableError
            retried = f"{self._shown_url} still failing after {self._get_retries} retries"
            description = "; ".join(x for x in (description, retried) if x)
        elif status >= 500:
            kind = UnknownOutcomeError
            description = "; ".join(x for x in (description, _UNKNOWN_OUTCOME) if x)
        elif status == 429:
            description = description or ACCOUNT_BUSY
        return kind(method, path, status, error_type, description)

    def _rate_limited(
        self, answer: Answer, method: str, path: str, waited: float, delay: float
    ) -> RateLimitedError:
        error_type, _ = _error_details(answer, self._credentials)
        description = (
            f"too many requests; gave up after waiting {waited:.0f}s "
            f"(the next wait, {describe_wait(delay)}, would pass the "
            f"{describe_wait(self._rate_limit_wait_max)} limit)"
        )
        return RateLimitedError(method, path, 429, error_type, description)


def _request_headers(api_key: str, api_secret: str) -> dict[str, str]:
    """The headers of every request: credentials, JSON both ways, who is asking."""
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    return {
        "x-api-key": api_key,
        "x-api-secret-key": api_secret,
        "Accept": "application/json",
        "Content-Type": "application/json",
        "User-Agent": f"reconciler/{__version__} (python {python})",
    }


def _parse(answer: Answer, method: str, path: str) -> Any:
    """Return the answer's JSON.

    Raises:
        BadResponseError: the body is not JSON (the body itself is never quoted).
    """
    try:
        return json.loads(answer.body)
    except ValueError:
        pass  # no chaining: a JSONDecodeError carries the whole body, passwords included
    kind = answer.header("Content-Type") or "no Content-Type"
    described = f"answer is not JSON ({kind}, {len(answer.body)} bytes)"
    raise BadResponseError(method, path, answer.status, "", described)


def _error_details(answer: Answer, secrets: tuple[str, ...]) -> tuple[str, str]:
    """Return ``(error type, description)`` of a non-2xx answer, ``secrets`` masked."""
    return error_details(answer.body, answer.header("Content-Type") or "", secrets)
