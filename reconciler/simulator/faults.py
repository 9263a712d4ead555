"""Seeded, reproducible faults for API requests (never for ``/_simulator`` routes).

With probability ``fault_rate`` per API request a fault is drawn from
``random.Random(fault_seed)``: a 500 or 503 answer, a dropped connection (closed without
an answer, nothing done), and for writes also a lost answer (the write takes effect, then
the connection is closed) or a task that fails (``processing-error``, ``GENERAL_ERROR``).
The same seed and the same request sequence give the same faults.
"""

from __future__ import annotations

import enum
import random
import threading


class Fault(enum.Enum):
    """What goes wrong with one request."""

    ERROR_500 = "500"
    ERROR_503 = "503"
    DROP = "drop"
    LOST_ANSWER = "lost-answer"
    FAILING_TASK = "failing-task"


READ_FAULTS = (Fault.ERROR_500, Fault.ERROR_503, Fault.DROP)
WRITE_FAULTS = (*READ_FAULTS, Fault.LOST_ANSWER, Fault.FAILING_TASK)


class FaultInjector:
    """Draws faults for requests; thread-safe, reproducible for one request sequence."""

    def __init__(self, rate: float, seed: int) -> None:
        self.rate = rate
        self.seed = seed
        self._lock = threading.Lock()
        self._random = random.Random(seed)

    def reset(self) -> None:
        """Start the fault sequence again from the seed."""
        with self._lock:
            self._random = random.Random(self.seed)

    def draw(self, is_write: bool) -> Fault | None:
        """Return the fault for the next request, or None (no draw at all when rate is 0)."""
        if self.rate <= 0:
            return None
        with self._lock:
            if self._random.random() >= self.rate:
                return None
            return self._random.choice(WRITE_FAULTS if is_write else READ_FAULTS)
