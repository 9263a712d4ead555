"""Lanes of a parallel apply: each a thread, with one subscription's action at a time.

The API works on at most three subscriptions that are not ``active`` at once (the others'
writes are refused until one settles), so at most :data:`MAX_PARALLEL` lanes run.
:data:`RunLanes` is the seam that starts them: :func:`run_in_threads` in production; tests and
benchmarks pass a scheduler of their own that runs the lanes one at a time on virtual time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

#: The most subscriptions applied at once: the API's limit of non-active subscriptions.
MAX_PARALLEL = 3

#: ``run_lanes(lanes)``: run every callable of ``lanes`` at the same time; return when all
#: have returned. The callables never raise.
RunLanes = Callable[[Sequence[Callable[[], None]]], None]

_JOIN_SLICE = 0.2


def run_in_threads(lanes: Sequence[Callable[[], None]]) -> None:
    """Run each lane in a daemon thread and wait for all of them.

    The wait wakes every ``0.2`` s so that a signal (Ctrl-C) reaches the main thread; a
    ``KeyboardInterrupt`` raised there propagates (the daemon lanes die with the process).
    """
    threads = [
        threading.Thread(target=lane, name=f"apply-lane-{number}", daemon=True)
        for number, lane in enumerate(lanes, start=1)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        while thread.is_alive():
            thread.join(_JOIN_SLICE)
