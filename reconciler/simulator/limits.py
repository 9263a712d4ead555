"""Account-wide limits (rate, concurrent changes) and request statistics.

The real API allows 400 requests a minute per key and answers 429 beyond that, with the
delay in ``x-rate-limit-retry-after-seconds`` (Redis's "Use the REST API" documentation and
its support article on 429 errors); the Go SDK (``internal/http_client.go``) reads
``X-Rate-Limit-Remaining``. Statistics count API requests per ``METHOD /route-template``.

At most three subscriptions of an account may be non-active (changing) at once; the API
answers a write beyond that with 429 and the message of :data:`TOO_MANY_CHANGES` (its
OpenAPI 429 description): the request is refused at submission, not queued.
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from reconciler.simulator.faults import Fault
from reconciler.simulator.replies import ApiProblem
from reconciler.simulator.state import Account
from reconciler.simulator.timeline import MAX_CHANGING_SUBSCRIPTIONS, changing_subscriptions

WINDOW_SECONDS = 60.0
# Kinds of injected faults, as counted in the statistics.
FAULT_KINDS = tuple(fault.value for fault in Fault)
# The OpenAPI description of the API's 429 on writes (its stray closing parenthesis dropped).
TOO_MANY_CHANGES = (
    "Too many resources are concurrently created / updated / deleted in the account. "
    "Please re-submit API requests after resource changes are completed"
)


def require_capacity(account: Account, subscription_id: int, now: float) -> None:
    """Refuse a change that would make a fourth subscription non-active at once.

    A subscription already changing may take more changes.

    Raises:
        ApiProblem: 429 ``TOO_MANY_PENDING_SUBSCRIPTIONS`` when
            :data:`~reconciler.simulator.timeline.MAX_CHANGING_SUBSCRIPTIONS` other
            subscriptions are changing.
    """
    changing = changing_subscriptions(account, now)
    if subscription_id not in changing and len(changing) >= MAX_CHANGING_SUBSCRIPTIONS:
        raise ApiProblem(429, "TOO_MANY_PENDING_SUBSCRIPTIONS", TOO_MANY_CHANGES)


@dataclass(frozen=True)
class RateDecision:
    """Whether one request may go on, how many remain, and how long to wait if not."""

    allowed: bool
    remaining: int
    retry_after: int = 0


class RateLimiter:
    """Fixed-window request budget per API key; ``limit`` 0 disables it."""

    def __init__(self, limit: int, clock: Callable[[], float]) -> None:
        self.limit = limit
        self._clock = clock
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[float, int]] = {}

    @property
    def enabled(self) -> bool:
        """Return True when a limit is set."""
        return self.limit > 0

    def reset(self) -> None:
        """Forget every window."""
        with self._lock:
            self._windows.clear()

    def check(self, key: str) -> RateDecision:
        """Count one request for ``key``; return whether it is within the budget.

        A refused request does not use up budget.
        """
        now = self._clock()
        with self._lock:
            start, count = self._windows.get(key, (now, 0))
            if now - start >= WINDOW_SECONDS:
                start, count = now, 0
            if count >= self.limit:
                wait = max(1, math.ceil(start + WINDOW_SECONDS - now))
                self._windows[key] = (start, count)
                return RateDecision(False, 0, wait)
            self._windows[key] = (start, count + 1)
            return RateDecision(True, self.limit - count - 1)


class RequestStats:
    """Counts of API requests per route template, method and answer status."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._routes: Counter[str] = Counter()
        self._methods: Counter[str] = Counter()
        self._statuses: Counter[str] = Counter()
        self._faults: Counter[str] = Counter({kind: 0 for kind in FAULT_KINDS})

    def reset(self) -> None:
        """Forget every count."""
        with self._lock:
            self._routes.clear()
            self._methods.clear()
            self._statuses.clear()
            self._faults = Counter({kind: 0 for kind in FAULT_KINDS})

    def count(self, method: str, template: str, status: int | str) -> None:
        """Count one request (``status`` is the HTTP code, or ``"dropped"``)."""
        with self._lock:
            self._routes[f"{method} {template}"] += 1
            self._methods[method] += 1
            self._statuses[str(status)] += 1

    def count_fault(self, kind: str) -> None:
        """Count one injected fault of ``kind`` (a :data:`FAULT_KINDS` member)."""
        with self._lock:
            self._faults[kind] += 1

    def snapshot(self) -> dict[str, Any]:
        """Return ``{"total", "routes", "methods", "statuses", "faults"}`` (sorted keys).

        ``faults`` counts injected faults per kind, every kind listed (0 when none fired).
        """
        with self._lock:
            return {
                "total": sum(self._methods.values()),
                "routes": dict(sorted(self._routes.items())),
                "methods": dict(sorted(self._methods.items())),
                "statuses": dict(sorted(self._statuses.items())),
                "faults": dict(sorted(self._faults.items())),
            }
