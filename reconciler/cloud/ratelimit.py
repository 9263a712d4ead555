"""The API's rate limit, seen from the client: the wait after a 429 and the request budget.

Redis Cloud allows an account a fixed number of requests per one-minute window (400 at the
time of writing) and answers 429 beyond it. A 429 means the request was not processed, so
the client may re-send any method. The answer may say how long to wait, in
``x-rate-limit-retry-after-seconds`` or in the standard ``Retry-After`` (seconds or an HTTP
date); without either, waiting 1 s only burns requests in a window a minute long, so the
back-off starts at 5 s. Every answer may carry ``X-Rate-Limit-Remaining``, which lets the
client pause before the budget is spent instead of collecting 429s.

A 429 on a write has a second meaning: the account is busy changing other resources. At
most three subscriptions of an account may be changing (not ``active``) at once, and a
write that would make a fourth change is refused with 429, error type
``TOO_MANY_PENDING_SUBSCRIPTIONS`` and the text "Too many resources are concurrently created
/ updated / deleted in the account. Please re-submit API requests after resource changes are
completed". Provisioning takes minutes, so the request-rate back-off (two minutes at most)
does not fit it: :func:`account_busy` tells the two apart, and the client raises at once for
the caller to wait for the account (:data:`BUSY_FIRST_WAIT` onwards, :func:`busy_delay`).

On top of that, the client keeps its own traffic under a share of the account's limit
(:data:`DEFAULT_REQUESTS_PER_MINUTE`, half of it, by default): at most that many requests in
any 60 s, a sliding window. A full minute's worth may go at once, so a short burst (a plan
reading 100 pages) never waits; sustained polling by several lanes is paced.
"""

from __future__ import annotations

import email.utils
import logging
import math
import random
import threading
import time
from collections import deque
from collections.abc import Callable

logger = logging.getLogger(__name__)

# 429 without a delay header: 5 s, 10 s, 20 s … at most a minute, plus up to 20 % jitter.
_BACKOFF_FIRST = 5.0
_BACKOFF_CAP = 60.0
_MIN_RATE_LIMIT_WAIT = 1.0
_RATE_WINDOW = 60.0
_BUDGET_RESERVE = 0
#: The account's documented limit: requests per minute per API key.
ACCOUNT_REQUESTS_PER_MINUTE = 400
#: This client's default share of it: half, leaving room for other tools and runs.
DEFAULT_REQUESTS_PER_MINUTE = ACCOUNT_REQUESTS_PER_MINUTE // 2
#: The longest wait a 429 can ask for; a larger (or absurd, like 1e308) value is clamped.
MAX_RETRY_AFTER = 3600.0

#: What a 429 to a write refused while the account is busy means, when it does not say.
ACCOUNT_BUSY = "too many subscriptions of the account are changing at once; nothing was queued"
#: The error type of a 429 refusing a write while too many subscriptions are changing.
TOO_MANY_CHANGES_TYPE = "TOO_MANY_PENDING_SUBSCRIPTIONS"
# The API's words for it, compared lower-case with spaces squeezed.
_TOO_MANY_CHANGES_WORDS = "concurrently created / updated / deleted"
# Re-sending a write refused while the account is busy: 5 s, then half the time waited so
# far, at most 30 s (provisioning takes minutes; a re-send costs one request).
BUSY_FIRST_WAIT = 5.0
BUSY_WAIT_CAP = 30.0

#: ``header(name)``: an answer's header value (any case), or None.
HeaderLookup = Callable[[str], "str | None"]


class RateBudget:
    """The request budget: this client's own share, and the account's as the API reports it.

    * Own share: at most ``per_minute`` requests in any 60 s (a sliding window over the times
      requests were let through); a request past it waits until the oldest leaves the window.
    * The account's: ``X-Rate-Limit-Remaining``. The API does not say when its one-minute
      window started, so a window is assumed to start when the remaining count is first seen
      (or seen going up). Once it reaches the reserve, every request waits until that window
      has ended.

    Thread-safe: lanes share one budget. No lock is held while sleeping.

    Raises:
        ValueError: ``per_minute`` is below 1.
    """

    def __init__(
        self,
        clock: Callable[[], float],
        sleep: Callable[[float], None],
        per_minute: int = DEFAULT_REQUESTS_PER_MINUTE,
    ) -> None:
        if per_minute < 1:
            raise ValueError(f"requests per minute must be at least 1, not {per_minute}")
        self._clock = clock
        self._sleep = sleep
        self._per_minute = per_minute
        self._lock = threading.Lock()
        self._sent: deque[float] = deque()
        self._window_start: float | None = None
        self._last_remaining: int | None = None
        self._resume_at = 0.0

    @property
    def per_minute(self) -> int:
        """The most requests let through in any 60 s."""
        return self._per_minute

    def wait_turn(self) -> None:
        """Sleep until the budget allows another request; count it as sent."""
        while True:
            delay = self._take_or_delay()
            if delay <= 0:
                return
            logger.info("API request budget spent; waiting %.1fs", delay)
            self._sleep(delay)

    def _take_or_delay(self) -> float:
        """Count a request now and return 0, or return the seconds until one may go."""
        with self._lock:
            now = self._clock()
            while self._sent and self._sent[0] + _RATE_WINDOW <= now:
                self._sent.popleft()
            delay = self._resume_at - now
            if len(self._sent) >= self._per_minute:
                delay = max(delay, self._sent[0] + _RATE_WINDOW - now)
            if delay <= 0:
                self._sent.append(now)
            return delay

    def observe(self, header: HeaderLookup) -> None:
        """Record the ``X-Rate-Limit-Remaining`` header of an answer, if any."""
        remaining = _count_header(header("X-Rate-Limit-Remaining"))
        if remaining is None:
            return
        with self._lock:
            now = self._clock()
            last = self._last_remaining
            if self._window_start is None or last is None or remaining > last:
                self._window_start = now
            self._last_remaining = remaining
            if remaining <= _BUDGET_RESERVE:
                self._resume_at = max(self._resume_at, self._window_start + _RATE_WINDOW)


def rate_limit_delay(header: HeaderLookup, attempt: int) -> float:
    """Return the seconds to wait after the ``attempt``-th (0-based) 429 in a row.

    At least 1 s and at most :data:`MAX_RETRY_AFTER`, whatever the headers say.
    """
    seconds = _seconds_header(header("x-rate-limit-retry-after-seconds"))
    if seconds is None:
        seconds = _retry_after(header("Retry-After"))
    if seconds is None:
        base = min(_BACKOFF_CAP, _BACKOFF_FIRST * 2**attempt)
        seconds = base * (1 + 0.2 * random.random())
    return min(max(seconds, _MIN_RATE_LIMIT_WAIT), MAX_RETRY_AFTER)


def account_busy(method: str, error_type: str, description: str, header: HeaderLookup) -> bool:
    """Return whether a 429 means "the account is busy changing other subscriptions".

    Only a write can be refused so (a GET changes nothing). It is when the answer's error
    type is :data:`TOO_MANY_CHANGES_TYPE`, when its description carries the API's words for it
    ("concurrently created / updated / deleted"), or when ``X-Rate-Limit-Remaining`` shows
    requests left in the window (then the request rate is not the reason). Anything else,
    an empty or unreadable answer included, is the request rate.
    """
    if method.upper() == "GET":
        return False
    if error_type.strip().upper() == TOO_MANY_CHANGES_TYPE:
        return True
    if _TOO_MANY_CHANGES_WORDS in " ".join(description.lower().split()):
        return True
    remaining = _count_header(header("X-Rate-Limit-Remaining"))
    return remaining is not None and remaining > 0


def busy_delay(waited: float) -> float:
    """Return the seconds to wait before re-sending a write refused as "account busy".

    ``waited`` is the time since the first refusal: :data:`BUSY_FIRST_WAIT`, then half of
    ``waited``, at most :data:`BUSY_WAIT_CAP`.
    """
    return min(BUSY_WAIT_CAP, max(BUSY_FIRST_WAIT, waited / 2))


def describe_wait(seconds: float) -> str:
    """Return a wait as a short text: ``"42s"``, or ``"3600s (the most waited)"`` at the clamp."""
    text = f"{seconds:.0f}s"
    return f"{text} (the most waited)" if seconds >= MAX_RETRY_AFTER else text


def _seconds_header(value: str | None) -> float | None:
    try:
        seconds = float(value) if value is not None else None
    except ValueError:
        return None
    return seconds if seconds is not None and math.isfinite(seconds) else None


def _count_header(value: str | None) -> int | None:
    """A whole count (``X-Rate-Limit-Remaining``), or None when absent or not a number."""
    try:
        return int(value) if value is not None else None
    except ValueError:  # also a number of more digits than Python converts
        return None


def _retry_after(value: str | None) -> float | None:
    """``Retry-After`` is either seconds or an HTTP date."""
    seconds = _seconds_header(value)
    if seconds is not None or value is None:
        return seconds
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    # An HTTP date is wall-clock time; the injected clock is monotonic and cannot say.
    return when.timestamp() - time.time()
