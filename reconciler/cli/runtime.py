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
    from reconciler.cloud.wire import Transport


@dataclass(frozen=True)
class Runtime:
    """The clocks, sleep and pacing options a command runs with; the default is real time.

    - ``clock``: monotonic seconds, for deadlines and the rate-limit budget.
    - ``sleep``: waits between polls and retries.
    - ``wall_clock``: epoch seconds, to stamp the run report and match task timestamps.
    - ``read_concurrency``: how many requests the live reader has in flight at once, over
      the subscriptions and the pages of a large one together.
    - ``backoff_factor``: urllib3's back-off between GET retries; urllib3 sleeps on the
      real clock, not on ``sleep``, so tests on a fake clock set it to 0.
    - ``transport``: makes the HTTP transport of each API client (None: the real one,
      ``requests`` with the retry rules); tests pass a fake to script the API's answers.

    The pacing defaults are those of ``ApiClient`` and ``read_live``.
    """

    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    wall_clock: Callable[[], float] = time.time
    read_concurrency: int = 4
    backoff_factor: float = 0.5
    transport: Callable[[], Transport] | None = None
