"""Rate limiting (fixed 60-second window per API key) and request statistics.

The real API allows 400 requests a minute per key and answers 429 beyond that, with the
delay in ``x-rate-limit-retry-after-seconds`` (Redis's "Use the REST API" documentation and
its support article on 429 errors); the Go SDK (``internal/http_client.go``) reads
``X-Rate-Limit-Remaining``. Statistics count API requests per ``METHOD /route-template``.
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from reconciler.simulator.faults import Fault

WINDOW_SECONDS = 60.0
# Kinds of injected faults, as counted in the statistics.
FAULT_KINDS = tuple(fault.value for fault in Fault)


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
