"""Waiting for asynchronous work: one poll schedule and one poller.

The poller follows Terraform's ``StateChangeConf``: pending and target states, a timeout
naming the last state seen.

The schedule
------------
A task is polled first :data:`FIRST_POLL_DELAY` (0.5 s) after the request; after that the
delay before the next poll is::

    poll_delay(elapsed) = min(MAX_POLL_DELAY, max(MIN_POLL_DELAY, elapsed * POLL_GROWTH))
                        = min(15, max(0.5, elapsed * 0.25))

so polls land at 0.5, 1.0, 1.5, 2.0, 2.5, 3.1, 3.9, 4.9, 6.1, 7.6, 9.5, 11.9, 14.9, 18.6,
23.3, 29.1 … s, and every 15 s once 60 s have passed. Each delay is a quarter of the time
already waited, so the time between a task finishing and us seeing it is at most 25 % of its
duration (plus the 0.5 s floor), while the number of polls grows with the logarithm of the
duration. Expected cost for tasks of 2-20 s (0.1 s steps, see :func:`poll_stats`): 4-15
polls (a 2 s task: 4 polls, seen at 2.0 s; a 10 s task: 12 polls, seen at 11.9 s; a 20 s
task: 15 polls, seen at 23.3 s); mean lag 1.3 s; mean overhead (lag ÷ duration) 11.8 %,
worst 24.6 %. The Go SDK's 1, 2, 4, 8 … s doubling sees a 9 s task at 15 s (67 %);
Terraform's 10 s delay and 30 s interval sees a 2 s task at 10 s (400 %). The 15 s cap keeps
an hour-long wait at 256 polls (about 4 a minute), far below the account's 400 requests a
minute even with the database and subscription polls added.

That is the schedule of a task when nothing is known yet (:data:`TASK_SCHEDULE`) and, polling
at once instead of after 0.5 s, of every other wait. :class:`Schedule` generalises it: first
polls placed from what the run has seen, a slack (a delay known to cost nothing), times
counted from when the awaited work began rather than from the wait's start, and the same
bounds; :mod:`reconciler.apply.pace` builds such schedules from the run's own durations.

The poller
----------
:class:`Poller` runs one probe until it reports a value, with an injected clock and sleep (so
tests never wait), a deadline shared by every wait of one action (``timeout`` seconds after
it started), a stop flag checked
between polls (Ctrl-C stops after the current request), and a callback told every state seen.
A timeout raises :class:`reconciler.errors.WaitTimeoutError` naming what was awaited, the
state wanted and the last state seen.

Probes
------
:func:`status_probe` reads a database or subscription: ``active`` is done, ``error`` fails
(:class:`reconciler.errors.ResourceFailedError`), any other status is pending: the API keeps
adding transitional statuses. :func:`task_probe` reads ``GET /tasks/{id}`` (the task
vocabulary is :mod:`reconciler.cloud.tasks`): ``processing-completed`` is done; the 404s of a
task just accepted are tolerated; ``processing-error``, a ``response.error`` (object or bare
string) or an unknown status raises :class:`reconciler.errors.TaskFailedError` with the task
id, error type, status and description.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from reconciler.cloud import tasks
from reconciler.errors import (
    ApiUnavailableError,
    NotFoundError,
    ResourceFailedError,
    WaitTimeoutError,
)

log = logging.getLogger(__name__)

FIRST_POLL_DELAY = 0.5
MIN_POLL_DELAY = 0.5
MAX_POLL_DELAY = 15.0
POLL_GROWTH = 0.25
STOP_CHECK_SLICE = 1.0  # a Ctrl-C is noticed within this many seconds of sleeping
MAX_UNREACHABLE_POLLS = 3  # consecutive polls the API may be down (after the client's retries)
EARLY_MISSES_LIMIT = 5  # 404s on a new task or database tolerated before EARLY_MISSES_WINDOW …
EARLY_MISSES_WINDOW = 10.0  # … and for this many seconds whatever their number
SAME_MOMENT = 1e-3  # a poll planned this close to the last one is that poll (float noise)

T = TypeVar("T")


class StopRequested(Exception):
    """Internal signal: the user asked to stop; raised between requests, never mid-request."""


def poll_delay(elapsed: float) -> float:
    """Return the seconds to wait before the next poll, ``elapsed`` seconds into a wait."""
    return min(MAX_POLL_DELAY, max(MIN_POLL_DELAY, elapsed * POLL_GROWTH))


@dataclass(frozen=True)
class Schedule:
    """When one wait polls, in seconds since the awaited work began.

    ``early`` are the times of the first polls (ascending), placed from what the run has seen;
    a wait begun after the first of them polls at once. After them (or from the start, when
    there are none) the delay before the next poll, ``elapsed`` seconds in, is
    ``min(max_delay, max(min_delay, slack, elapsed * growth))``: ``slack`` is a delay known
    to cost nothing (work seen that much late still gives time to spare). The default
    schedule polls at once, then :func:`poll_delay`.
    """

    early: tuple[float, ...] = ()
    slack: float = 0.0
    growth: float = POLL_GROWTH
    min_delay: float = MIN_POLL_DELAY
    max_delay: float = MAX_POLL_DELAY

    def first_poll(self, elapsed: float) -> float:
        """Return when to poll first, the wait beginning ``elapsed`` seconds into the work.

        That is the first early time, or at once when it has passed already.
        """
        return self.early[0] if self.early and self.early[0] > elapsed else elapsed

    def next_poll(self, elapsed: float) -> float:
        """Return when to poll next after a poll ``elapsed`` seconds into the work."""
        later = [t for t in self.early if t > elapsed + SAME_MOMENT]
        if later:
            return later[0]
        delay = max(self.min_delay, self.slack, elapsed * self.growth)
        return elapsed + min(self.max_delay, delay)

    def times(self, duration: float, start: float = 0.0) -> list[float]:
        """Return when a wait begun ``start`` s into work lasting ``duration`` s polls.

        The last time is the poll that sees the work finished. Pure: for tests and benchmarks.
        """
        times = [self.first_poll(start)]
        while times[-1] < duration:
            times.append(self.next_poll(times[-1]))
        return times


TASK_SCHEDULE = Schedule(early=(FIRST_POLL_DELAY,))  # a task of a kind never seen before


def poll_times(duration: float, *, first_delay: float = FIRST_POLL_DELAY) -> list[float]:
    """Return when a wait polls work that finishes ``duration`` seconds in.

    The last time is the poll that sees it finished. Pure: for benchmarks and docs.
    """
    times = [first_delay]
    while times[-1] < duration:
        times.append(times[-1] + poll_delay(times[-1]))
    return times


@dataclass(frozen=True)
class PollStats:
    """What waiting for work of a given duration costs: polls made and time lost."""

    duration: float
    polls: int
    seen_at: float

    @property
    def lag(self) -> float:
        """Seconds between the work finishing and the poll that saw it."""
        return self.seen_at - self.duration

    @property
    def overhead(self) -> float:
        """``lag`` as a fraction of ``duration`` (0 for zero-length work)."""
        return self.lag / self.duration if self.duration else 0.0


def poll_stats(duration: float) -> PollStats:
    """Return the polls and the lag of waiting for work finishing ``duration`` s in."""
    times = poll_times(duration)
    return PollStats(duration=duration, polls=len(times), seen_at=times[-1])


def status_probe(
    fetch: Callable[[], Mapping[str, Any]], what: str, *, target: str = "active"
) -> Callable[[], tuple[str, Mapping[str, Any] | None]]:
    """Return a probe over a resource's ``status``: ``target`` is done, ``error`` fails.

    Any other status, including ones never seen before, is pending (the API keeps adding
    transitional statuses). The probe raises
    :class:`reconciler.errors.ResourceFailedError` on ``error``.
    """

    def probe() -> tuple[str, Mapping[str, Any] | None]:
        raw = fetch()
        status = str(raw.get("status", "")) or "(no status)"
        if status == target:
            return status, raw
        if status == "error":
            raise ResourceFailedError(what, status)
        return status, None

    return probe


def early_misses(clock: Callable[[], float]) -> Callable[[], bool]:
    """Return a check to call on each 404: True while it may be a new thing not yet visible.

    A task or database just created can be unknown to the API for a moment: a 404 is
    tolerated while fewer than :data:`EARLY_MISSES_LIMIT` were seen, or during the first
    :data:`EARLY_MISSES_WINDOW` seconds.
    """
    misses = 0
    since = clock()

    def tolerate() -> bool:
        nonlocal misses
        misses += 1
        return misses <= EARLY_MISSES_LIMIT or clock() - since < EARLY_MISSES_WINDOW

    return tolerate


def task_probe(
    fetch: Callable[[], Any], task_id: str, clock: Callable[[], float]
) -> Callable[[], tuple[str, Mapping[str, Any] | None]]:
    """Return a probe over ``GET /tasks/{id}`` (``fetch``) done when the task completed.

    The probe tolerates early 404s (see :func:`early_misses`), then raises NotFoundError;
    it raises TaskFailedError when the task failed (see
    :func:`reconciler.cloud.tasks.task_state`).
    """
    tolerate = early_misses(clock)
    since = clock()

    def probe() -> tuple[str, Mapping[str, Any] | None]:
        try:
            task = fetch()
        except NotFoundError as exc:
            if tolerate():
                return "not found yet", None
            detail = f"the task is still unknown {clock() - since:.0f}s after it was accepted"
            raise NotFoundError(exc.method, exc.path, 404, exc.error_type, detail) from exc
        return tasks.task_state(task_id, task)

    return probe


@dataclass(frozen=True)
class Watched(Generic[T]):
    """The end of a watch: the last state seen and the value (None when time ran out)."""

    state: str
    value: T | None


class Poller:
    """Runs probes on a schedule until done, the deadline passes or a stop is requested."""

    def __init__(
        self,
        *,
        clock: Callable[[], float],
        sleep: Callable[[float], None],
        started: float,
        timeout: float,
        stop_requested: Callable[[], bool] = lambda: False,
        on_state: Callable[[str, str], None] | None = None,
    ) -> None:
        self.clock = clock
        self._sleep = sleep
        self.started = started
        self.timeout = timeout
        self._stop_requested = stop_requested
        self._on_state = on_state

    @property
    def deadline(self) -> float:
        """When every wait of this poller ends: ``timeout`` seconds after ``started``."""
        return self.started + self.timeout

    def wait(
        self,
        what: str,
        wanted: str,
        probe: Callable[[], tuple[str, T | None]],
        *,
        noun: str = "",
        first_delay: float = 0.0,
        schedule: Schedule | None = None,
        since: float | None = None,
    ) -> T:
        """Poll ``probe`` until it returns a value; return that value.

        ``probe`` returns ``(state, value)``; a non-None value ends the wait. ``noun`` names
        the thing in progress reports (``task``, ``database``). ``schedule`` and ``since``
        are as for :meth:`watch`. Raises WaitTimeoutError at the deadline (naming ``what``,
        ``wanted`` and the last state), StopRequested when a stop was asked for, and whatever
        the probe raises.
        """
        result = self.watch(
            probe,
            until=self.deadline,
            noun=noun,
            first_delay=first_delay,
            schedule=schedule,
            since=since,
        )
        if result.value is not None:
            return result.value
        raise WaitTimeoutError(what, wanted, result.state or "(not seen)", self.timeout)

    def watch(
        self,
        probe: Callable[[], tuple[str, T | None]],
        *,
        until: float,
        noun: str = "",
        first_delay: float = 0.0,
        schedule: Schedule | None = None,
        since: float | None = None,
    ) -> Watched[T]:
        """Poll ``probe`` until it returns a value or ``until`` passes; never raise a timeout.

        Polls follow ``schedule`` (default: the first after ``first_delay`` seconds, then
        :func:`poll_delay`), timed from ``since``, the clock time the awaited work began
        (default: now; never later than now). Returns the last state and the value (None
        when time ran out). A few consecutive ApiUnavailableError answers are tolerated (the
        client already retried each).
        """
        start = self.clock()
        origin = start if since is None else min(since, start)
        if schedule is None:
            schedule = Schedule(early=(first_delay,) if first_delay else ())
        first = origin + schedule.first_poll(start - origin)
        if first > start:
            self.pause(min(first - start, max(0.0, until - start)))
        unreachable = 0
        while True:
            try:
                state, value = probe()
                unreachable = 0
            except ApiUnavailableError as exc:
                unreachable += 1
                if unreachable > MAX_UNREACHABLE_POLLS:
                    raise
                log.warning("API unreachable while polling, will retry: %s", exc)
                state, value = "(API unreachable)", None
            if self._on_state is not None:
                self._on_state(noun, state)
            now = self.clock()
            if value is not None or now >= until:
                return Watched(state, value)
            self.pause(max(0.0, min(origin + schedule.next_poll(now - origin) - now, until - now)))

    def pause(self, seconds: float) -> None:
        """Sleep ``seconds`` in short slices; raise StopRequested when a stop is asked for."""
        self.check_stop()
        remaining = seconds
        while remaining > 0:
            step = min(STOP_CHECK_SLICE, remaining)
            self._sleep(step)
            remaining -= step
            self.check_stop()

    def check_stop(self) -> None:
        """Raise StopRequested when the user asked to stop."""
        if self._stop_requested():
            raise StopRequested
