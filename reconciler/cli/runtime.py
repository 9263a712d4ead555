"""What a command takes from the world besides its flags and the environment: time.

The commands pass one :class:`Runtime` down to the API client, the live reader and the
executor, so tests run the real command line on a clock of their own (no monkeypatching).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reconciler.apply.lanes import RunLanes
    from reconciler.cloud.wire import Transport

#: ``reconciler.cloud.ratelimit.DEFAULT_REQUESTS_PER_MINUTE`` and
#: ``reconciler.apply.lanes.MAX_PARALLEL``, known here without importing the client or the
#: executor at start-up (a test checks they are the same).
DEFAULT_REQUESTS_PER_MINUTE = 200
MAX_PARALLEL = 3


@dataclass(frozen=True)
class Runtime:
    """The clocks, sleep and pacing options a command runs with; the default is real time.

    - ``clock``: monotonic seconds, for deadlines and the rate-limit budget.
    - ``sleep``: waits between polls and retries.
    - ``wall_clock``: epoch seconds, to stamp the run report and match task timestamps.
    - ``read_concurrency``: how many subscriptions the live reader reads at once; the pages
      of a large subscription may have up to ``max(read_concurrency, PAGE_CONCURRENCY)`` (8)
      requests in flight (1 keeps every request one after another).
    - ``backoff_factor``: urllib3's back-off between GET retries; urllib3 sleeps on the
      real clock, not on ``sleep``, so tests on a fake clock set it to 0.
    - ``transport``: makes the HTTP transport of each API client (None: the real one,
      ``requests`` with the retry rules); tests pass a fake to script the API's answers.
    - ``max_requests_per_minute``: the API client's own request budget (``--max-requests-
      per-minute`` sets it for ``plan`` and ``apply``).
    - ``run_lanes``: starts the lanes of ``apply --parallel`` (None: one thread each); tests
      pass a scheduler running them one at a time on virtual time (``clock``, ``sleep``).

    The pacing defaults are those of ``ApiClient`` and ``read_live``.
    """

    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    wall_clock: Callable[[], float] = time.time
    read_concurrency: int = 4
    backoff_factor: float = 0.5
    transport: Callable[[], Transport] | None = None
    max_requests_per_minute: int = DEFAULT_REQUESTS_PER_MINUTE
    run_lanes: RunLanes | None = None
