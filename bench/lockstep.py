"""A virtual clock that runs the lanes of a parallel apply one at a time, reproducibly.

:class:`Lockstep` is the clock (``lockstep()``), the wall clock (the same POSIX seconds),
``sleep`` and ``run_lanes`` of a test (``apply_plan(..., clock=lockstep, sleep=lockstep.sleep,
wall_clock=lockstep, run_lanes=lockstep.run_lanes)``). Each lane is a real thread, but only
the lane holding the baton runs: ``sleep`` hands it to the lane with the earliest wake-up
(ties to the lower lane number) and moves virtual time to that wake-up. A lane that returns
hands it on likewise. So a run is the same every time, and hours pass in no time.

Outside ``run_lanes`` (a serial run, the test itself), ``sleep`` just moves time forward.
Threads that are not lanes (the simulator's server) may read the clock at any time.
``on_sleep(lane, now)`` is called before every sleep of a lane (lane numbers from 1; 0
outside lanes): a test makes it request a stop or raise ``KeyboardInterrupt`` there.

No lane may hold a lock while it sleeps (another lane would block on it with the baton).

One copy lives here for the tests, one in ``bench/lockstep.py`` for the benchmarks (tests
do not import bench, and neither is product code); ``tests/test_lockstep_copies.py`` keeps
them identical.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

START = 1795788185.0  # 2026-11-27T14:03:05Z


@dataclass
class _Lane:
    number: int
    wake: float
    done: bool = False


class Lockstep:
    """Virtual time for lanes run one at a time (see the module docstring)."""

    def __init__(
        self, start: float = START, on_sleep: Callable[[int, float], None] | None = None
    ) -> None:
        self.now = start
        self.on_sleep = on_sleep
        self.slept: list[tuple[int, float]] = []  # (lane, seconds) of every sleep
        self._cond = threading.Condition()
        self._lanes: dict[int, _Lane] = {}  # thread ident -> lane
        self._running: _Lane | None = None

    def __call__(self) -> float:
        """Return the virtual time (POSIX seconds)."""
        return self.now

    def sleep(self, seconds: float) -> None:
        """Let the virtual time pass: hand the baton to the lane that wakes first."""
        lane = self._lanes.get(threading.get_ident())
        if self.on_sleep is not None:
            self.on_sleep(lane.number if lane else 0, self.now)
        with self._cond:
            self.slept.append((lane.number if lane else 0, seconds))
            if lane is None:
                self.now += max(0.0, seconds)
                return
            lane.wake = self.now + max(0.0, seconds)
            self._hand_over()
            self._cond.wait_for(lambda: self._running is lane)

    def run_lanes(self, lanes: Sequence[Callable[[], None]]) -> None:
        """Run ``lanes`` one at a time on virtual time; return when all have returned.

        Raises:
            BaseException: the first exception a lane raised.
        """
        errors: list[BaseException] = []
        threads = [
            threading.Thread(target=self._lane_body, args=(number, lane, errors), daemon=True)
            for number, lane in enumerate(lanes, start=1)
        ]
        with self._cond:
            for thread in threads:
                thread.start()
            self._cond.wait_for(lambda: len(self._lanes) == len(threads))
            self._hand_over()
            self._cond.wait_for(lambda: all(lane.done for lane in self._lanes.values()))
            self._lanes.clear()
        for thread in threads:
            thread.join()
        if errors:
            raise errors[0]

    def _lane_body(
        self, number: int, lane: Callable[[], None], errors: list[BaseException]
    ) -> None:
        me = _Lane(number, self.now)
        with self._cond:
            self._lanes[threading.get_ident()] = me
            self._cond.notify_all()
            self._cond.wait_for(lambda: self._running is me)
        try:
            lane()
        except BaseException as exc:  # handed to run_lanes' caller
            errors.append(exc)
        finally:
            with self._cond:
                me.done = True
                self._hand_over()

    def _hand_over(self) -> None:
        """Give the baton to the waiting lane that wakes first (caller holds the lock)."""
        waiting = [lane for lane in self._lanes.values() if not lane.done]
        if not waiting:
            self._running = None
        else:
            lane = min(waiting, key=lambda lane: (lane.wake, lane.number))
            self.now = max(self.now, lane.wake)
            self._running = lane
        self._cond.notify_all()
