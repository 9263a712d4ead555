"""Waits paced from what this run has already seen: fewer polls, no longer waits.

What is learned
---------------
Every wait of an action's task, and every wait after it for the database and the
subscription to settle, leaves a :class:`Sample`: the work took more than ``lower`` seconds
(the last poll that saw it pending) and at most ``upper`` (the poll that saw it done, or for
a task, its end as its timestamp tells, when usable: see below).
:class:`LearnedWaits` keeps, per key, the last :data:`SAMPLES_KEPT` samples; schedules are
built from their :func:`merge` (an estimate of the *shortest* such wait: ``upper`` the
smallest upper bound, ``lower`` the largest lower bound below it) and from whether they
:func:`agree` (could all be one duration). It is created once per apply run, is shared by
all its actions (and lanes: a lock guards it), so it stays small.

Keys: every task of the run shares one key (durations of one kind of task vary as much as
across kinds, so one run-wide shortest is the safe lead; a task's time counts from its
submission, so waiting in the account's queue only lengthens it, and the shortest stays
the one that did not wait); settle waits are keyed by kind and what is awaited
(``update/database``, ``create/subscription``): provisioning differs by kind.

How it paces
------------
- A task is first polled at :data:`LEAD` (90 %) of the shortest task seen so far (never
  before :data:`reconciler.apply.waiting.MIN_POLL_DELAY`), then each delay is
  :data:`TASK_GROWTH` (35 %) of the time waited; with nothing seen yet, the usual schedule
  (:data:`reconciler.apply.waiting.TASK_SCHEDULE`: 0.5 s, then 25 %). Once the first poll
  is placed near the shortest, a wider growth pays: on the apply benchmark over 14 seeds of
  task durations (2-20 s) it keeps the overhead at most 1.044 and the task polls below the
  Go SDK's on every seed, where 25 % costs more polls and 40 % more waiting.
- Settle waits are timed from the end of the task, read from the completed task's
  ``timestamp`` (the API's clock, converted through the wall clock, and believed only when
  it falls between the last poll that saw the task pending and the one that saw it done:
  skew never moves it outside what polling proved). Nothing seen yet: the usual schedule
  (at once, then 25 %). Samples that agree (the durations look constant): the first polls
  land halfway between the shortest's bounds and then at its upper bound (each wait
  narrows the estimate). Samples that vary (or only one): one poll at a low point, the
  shortest's lower bound (at least :data:`UPPER_SHARE` of its upper one) times
  ``n / (n + 1)`` for ``n`` samples (the chance the next wait is the shortest yet is about
  ``1 / (n + 1)``: a lone sample gives no more than half of it), then
  :data:`SETTLE_GROWTH` (10 %) of the time waited, so a wait that lasts longer than the
  shortest is seen at most 10 % late, never one sample's length late. Placed from one
  sample alone, a first poll of a database provisioning 10-60 s came up to 29 s after it
  was active; a wait begun after its early polls polls at once.
- The second settle wait of an action (the subscription, after the database) polls at once
  and then grows by :data:`SETTLE_GROWTH`: the provisioning was just seen over. Without a
  usable timestamp a settle wait is timed from its own start, on the usual schedule, and
  teaches nothing.
- A task whose kind then provisions is polled no closer than the first poll of the database
  wait that follows (its slack): seeing the task done up to that late costs nothing,
  because that wait is timed from the task's end and would not poll sooner.

Every bound stays: polls are at least ``MIN_POLL_DELAY`` and at most ``MAX_POLL_DELAY``
apart once past the learned first polls, and the poller's deadline and stop flag govern
every wait.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from reconciler.apply.waiting import (
    MAX_POLL_DELAY,
    MIN_POLL_DELAY,
    TASK_SCHEDULE,
    Poller,
    Schedule,
)
from reconciler.cloud import tasks

T = TypeVar("T")

LEAD = 0.9  # a task is first polled at this fraction of the shortest task seen
TASKS_KEY = "task"
TASK_GROWTH = 0.35  # a task's delays once its first poll is placed from the run (see above)
TIMESTAMP_TOLERANCE = 0.5  # seconds a task's end stamp may fall outside what polling proved
SETTLE_GROWTH = 0.1  # a settle wait's delays past its learned polls: this share of the time waited
UPPER_SHARE = 0.75  # a varying settle wait's low point: at least this share of the shortest
SAMPLES_KEPT = 32  # samples kept per key (the newest)
AGREE_MIN = 2  # samples needed before durations may look constant (one says nothing)


@dataclass(frozen=True)
class Sample:
    """A wait's length as polling saw it: more than ``lower``, at most ``upper`` seconds."""

    lower: float
    upper: float


def merge(known: Sample | None, seen: Sample) -> Sample:
    """Return the estimate of the shortest wait after ``seen``, ``known`` the one before.

    ``upper`` is the smallest upper bound; ``lower`` the largest lower bound below it.
    """
    if known is None:
        return seen
    upper = min(known.upper, seen.upper)
    return Sample(max((s.lower for s in (known, seen) if s.lower < upper), default=0.0), upper)


def shortest_of(samples: Sequence[Sample]) -> Sample | None:
    """Return the estimate of the shortest of ``samples`` (see :func:`merge`); None if none."""
    shortest: Sample | None = None
    for sample in samples:
        shortest = merge(shortest, sample)
    return shortest


def agree(samples: Sequence[Sample]) -> bool:
    """Return True when at least two ``samples`` could all be one duration.

    That is when none surely lasted longer than the shortest's upper bound (every lower
    bound is at most that): the durations look constant, so bisecting toward the shortest
    pays. Otherwise they vary, and a poll placed from one of them may come too late.
    """
    shortest = shortest_of(samples)
    if shortest is None or len(samples) < AGREE_MIN:
        return False
    return all(s.lower <= shortest.upper for s in samples)


def task_schedule(shortest: Sample | None, slack: float = 0.0) -> Schedule:
    """Return the schedule of a task's wait, the shortest task seen being ``shortest``.

    ``slack`` is a delay known to cost nothing (see the module docstring); at most
    :data:`MAX_POLL_DELAY`.
    """
    slack = min(slack, MAX_POLL_DELAY)
    if shortest is None:
        return Schedule(early=TASK_SCHEDULE.early, slack=slack)
    first = max(MIN_POLL_DELAY, LEAD * shortest.upper)
    return Schedule(early=(first,), slack=slack, growth=TASK_GROWTH)


def settle_schedule(samples: Sequence[Sample]) -> Schedule:
    """Return the schedule of a settle wait timed from the task's end (see the docstring).

    ``samples`` are the waits seen for the same key, oldest first.
    """
    shortest = shortest_of(samples)
    if shortest is None:
        return Schedule()
    if agree(samples) and shortest.lower > 0:
        early = ((shortest.lower + shortest.upper) / 2, shortest.upper)
        return Schedule(early=early, growth=SETTLE_GROWTH)
    low = max(shortest.lower, UPPER_SHARE * shortest.upper)
    first = low * len(samples) / (len(samples) + 1)
    if first <= 0:
        return Schedule()
    return Schedule(early=(first,), growth=SETTLE_GROWTH)


def settle_key(kind: str, noun: str) -> str:
    """Return the key of the settle waits of ``kind`` for ``noun`` (``database``, …)."""
    return f"{kind}/{noun}"


class LearnedWaits:
    """The waits seen in one apply run, per key (the last :data:`SAMPLES_KEPT` of each);
    safe to share between threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._samples: dict[str, tuple[Sample, ...]] = {}

    def samples(self, key: str) -> tuple[Sample, ...]:
        """Return the samples kept for ``key``, oldest first (empty when none was seen)."""
        with self._lock:
            return self._samples.get(key, ())

    def shortest(self, key: str) -> Sample | None:
        """Return the estimate of the shortest wait of ``key``; None when none was seen."""
        return shortest_of(self.samples(key))

    def record(self, key: str, sample: Sample) -> None:
        """Add the ``sample`` of one wait of ``key`` (forgetting the oldest past the bound)."""
        with self._lock:
            kept = (*self._samples.get(key, ()), sample)
            self._samples[key] = kept[-SAMPLES_KEPT:]

    def task_schedule(self, kind: str) -> Schedule:
        """Return the schedule of the wait for a task of ``kind``.

        Its slack is when the database settle wait that follows would first poll: a task
        seen done that much late still leaves that poll where it was.
        """
        settle = self.settle_schedule(kind, "database")
        slack = settle.early[0] if settle.early else 0.0
        return task_schedule(self.shortest(TASKS_KEY), slack)

    def settle_schedule(self, kind: str, noun: str) -> Schedule:
        """Return the schedule of a wait for ``noun`` to settle after a task of ``kind``."""
        return settle_schedule(self.samples(settle_key(kind, noun)))


class _Timed(Generic[T]):
    """A probe that notes when it last saw the work pending (clock time), if ever."""

    def __init__(self, probe: Callable[[], tuple[str, T | None]], clock: Callable[[], float]):
        self._probe = probe
        self._clock = clock
        self.pending_at: float | None = None
        self.done_at = 0.0

    def __call__(self) -> tuple[str, T | None]:
        at = self._clock()
        state, value = self._probe()
        if value is None:
            self.pending_at = at
        else:
            self.done_at = at
        return state, value

    def sample(self, since: float) -> Sample:
        """Return this wait's sample, the work having begun at clock time ``since``."""
        lower = 0.0 if self.pending_at is None else max(0.0, self.pending_at - since)
        return Sample(lower, max(0.0, self.done_at - since))


def task_end(
    task: Mapping[str, Any], low: float, high: float, clock_now: float, wall_now: float
) -> float | None:
    """Return when the completed ``task`` ended, in clock time; None when it cannot be told.

    Its ``timestamp`` (API time) is converted through ``wall_now`` and believed only within
    :data:`TIMESTAMP_TOLERANCE` of ``low``-``high`` (when polling saw it pending, and done);
    the result is kept within those.
    """
    stamp = tasks.parse_timestamp(task.get("timestamp"))
    if stamp is None:
        return None
    end = clock_now - (wall_now - stamp)
    if not low - TIMESTAMP_TOLERANCE <= end <= high + TIMESTAMP_TOLERANCE:
        return None
    return min(max(end, low), high)


class ActionPace:
    """One action's waits after its request: paced by, and teaching, the run's store.

    :meth:`follow_task` waits for the task; every later :meth:`wait` is a settle wait timed
    from the task's end. Waits before the task (:meth:`wait` before :meth:`follow_task`)
    are left on the usual schedule.
    """

    def __init__(
        self,
        learned: LearnedWaits,
        kind: str,
        clock: Callable[[], float],
        wall_clock: Callable[[], float],
    ) -> None:
        self._learned = learned
        self._kind = kind
        self._clock = clock
        self._wall_clock = wall_clock
        self.task_end: float | None = None
        self._settled = False  # a settle wait of this action ended already

    def follow_task(
        self,
        poller: Poller,
        what: str,
        wanted: str,
        probe: Callable[[], tuple[str, Mapping[str, Any] | None]],
    ) -> Mapping[str, Any]:
        """Wait for the task as :meth:`Poller.wait` does (noun ``task``); return it."""
        start = self._clock()
        timed = _Timed(probe, self._clock)
        schedule = self._learned.task_schedule(self._kind)
        task: Mapping[str, Any] = poller.wait(
            what, wanted, timed, noun="task", schedule=schedule, since=start
        )
        low = start if timed.pending_at is None else timed.pending_at
        self.task_end = task_end(task, low, timed.done_at, self._clock(), self._wall_clock())
        sample = timed.sample(start)
        if self.task_end is not None:  # its stamp says when it ended: at most that long
            sample = Sample(sample.lower, max(sample.lower, self.task_end - start))
        self._learned.record(TASKS_KEY, sample)
        return task

    def wait(
        self,
        poller: Poller,
        what: str,
        wanted: str,
        probe: Callable[[], tuple[str, T | None]],
        noun: str,
    ) -> T:
        """Wait as :meth:`Poller.wait` does; after the task, timed from its end and learned."""
        since = self.task_end
        if since is None:
            return poller.wait(what, wanted, probe, noun=noun)
        key = settle_key(self._kind, noun)
        timed = _Timed(probe, self._clock)
        schedule = self._learned.settle_schedule(self._kind, noun)
        if self._settled:  # the provisioning was seen over: poll at once, then grow
            schedule = Schedule(growth=SETTLE_GROWTH)
        value: T = poller.wait(what, wanted, timed, noun=noun, schedule=schedule, since=since)
        self._settled = True
        self._learned.record(key, timed.sample(since))
        return value
