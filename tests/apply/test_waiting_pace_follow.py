"""Tests for apply.pace.ActionPace: an action's waits paced from the run; virtual time."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from conftest import FakeClock
from test_waiting_pace import stamp

from reconciler.apply.pace import TASKS_KEY, ActionPace, LearnedWaits, Sample, settle_key
from reconciler.apply.waiting import Poller

# -------------------------------------------------------------------- an action's waits


def until(clock: FakeClock, at: float, pending: str, done: str) -> Callable[[], Any]:
    """Return a probe pending until clock time ``at``, then done; it records each poll."""
    polls: list[float] = []

    def probe() -> tuple[str, str | None]:
        polls.append(clock())
        return (done, done) if clock() >= at else (pending, None)

    probe.polls = polls  # type: ignore[attr-defined]
    return probe


def follow(
    learned: LearnedWaits, clock: FakeClock, task_seconds: float, settle_seconds: float
) -> tuple[list[float], list[float]]:
    """Follow one update's task and database on ``clock``; return both waits' poll times."""
    start = clock()
    poller = Poller(clock=clock, sleep=clock.advance, started=start, timeout=600.0)
    ended = start + task_seconds
    pace = ActionPace(learned, "update", clock, wall_clock=lambda: clock() + 10.0)
    task_probe = until(clock, ended, "processing-in-progress", "processing-completed")

    def task() -> tuple[str, dict[str, str] | None]:
        state, value = task_probe()
        return state, None if value is None else {"timestamp": stamp(ended + 10.0)}

    pace.follow_task(poller, "task t-1", "processing-completed", task)
    assert pace.task_end == pytest.approx(ended, abs=1e-3)
    db_probe = until(clock, ended + settle_seconds, "active-change-pending", "active")
    pace.wait(poller, "database 1", "active", db_probe, "database")
    task_polls = [round(t - start, 3) for t in task_probe.polls]  # type: ignore[attr-defined]
    db_polls = [round(t - ended, 3) for t in db_probe.polls]  # type: ignore[attr-defined]
    return task_polls, db_polls


def bounds(learned: LearnedWaits, key: str) -> tuple[float, float]:
    shortest = learned.shortest(key)
    assert shortest is not None
    return round(shortest.lower, 3), round(shortest.upper, 3)


def test_a_repeated_kind_polls_less_and_sees_the_end_as_soon(fake_clock: FakeClock) -> None:
    learned = LearnedWaits()
    first = follow(learned, fake_clock, task_seconds=4.0, settle_seconds=3.0)
    assert first == (
        [0.5, 1.0, 1.5, 2.0, 2.5, 3.125, 3.906, 4.883],
        [0.883, 1.383, 1.883, 2.383, 2.979, 3.723],
    )
    # the task's stamp says it took 4.0 s, not the 4.88 s polling alone proved
    assert learned.shortest(TASKS_KEY) == Sample(3.90625, 4.0)
    assert bounds(learned, settle_key("update", "database")) == (2.979, 3.723)
    second = follow(learned, fake_clock, task_seconds=4.0, settle_seconds=3.0)
    # one sample: the database is first polled at half its lower bound (1.489 s), and the
    # task no closer than that: its end seen 1.089 s late, before that first poll
    assert second == ([3.6, 5.089], [1.489, 1.989, 2.489, 2.989, 3.489])
    assert bounds(learned, settle_key("update", "database")) == (2.989, 3.489)
    third = follow(learned, fake_clock, task_seconds=4.0, settle_seconds=3.0)
    # two samples that agree: halfway into the shortest's bounds, where it is done
    assert third == ([3.6, 6.839], [3.239])
    fourth = follow(learned, fake_clock, task_seconds=4.0, settle_seconds=3.0)
    assert fourth == ([3.6, 6.714], [3.114])  # the estimate narrows: its end is seen sooner
    assert bounds(learned, settle_key("update", "database")) == (2.989, 3.114)


def test_varying_provisioning_is_seen_at_most_a_tenth_late(fake_clock: FakeClock) -> None:
    learned = LearnedWaits()
    seen = []
    for provisioning in (40.0, 12.8, 30.0, 11.0, 25.0):
        task_polls, db_polls = follow(learned, fake_clock, 2.0, provisioning)
        seen.append((len(task_polls), db_polls[-1]))
    assert seen == [
        (4, 45.475),  # nothing learned: the usual schedule, a quarter of the time waited
        (2, 18.19),  # one sample (40 s): first poll at half of it, not at 40 s
        (2, 31.398),  # then 10 % of the time waited: 1.4 s late
        (2, 11.255),
        (2, 25.689),
    ]


def test_the_subscription_after_the_database_is_polled_at_once(fake_clock: FakeClock) -> None:
    learned = LearnedWaits()
    learned.record(settle_key("update", "subscription"), Sample(29.0, 30.0))
    follow(learned, fake_clock, task_seconds=2.0, settle_seconds=3.0)
    poller = Poller(clock=fake_clock, sleep=fake_clock.advance, started=fake_clock(), timeout=60)
    pace = ActionPace(learned, "update", fake_clock, fake_clock)
    pace.task_end = fake_clock() - 3.0
    db_probe = until(fake_clock, fake_clock(), "active-change-pending", "active")
    pace.wait(poller, "database 1", "active", db_probe, "database")
    sub_probe = until(fake_clock, fake_clock() + 1.0, "pending", "active")
    start = fake_clock()
    pace.wait(poller, "subscription 1", "active", sub_probe, "subscription")
    polls = [round(t - start, 3) for t in sub_probe.polls]  # type: ignore[attr-defined]
    assert polls == [0.0, 0.5, 1.0]  # not at 29 s: the provisioning was just seen over


def test_waits_before_the_task_keep_the_usual_schedule(fake_clock: FakeClock) -> None:
    learned = LearnedWaits()
    learned.record(settle_key("update", "database"), Sample(4.9, 6.1))
    poller = Poller(clock=fake_clock, sleep=fake_clock.advance, started=fake_clock(), timeout=60)
    pace = ActionPace(learned, "update", fake_clock, fake_clock)
    probe = until(fake_clock, fake_clock() + 1.0, "active-change-pending", "active")
    pace.wait(poller, "database 1", "active", probe, "database")
    assert [t - probe.polls[0] for t in probe.polls] == [0.0, 0.5, 1.0]  # type: ignore[attr-defined]
    assert learned.shortest(settle_key("update", "database")) == Sample(4.9, 6.1)


def test_without_a_task_stamp_the_settle_wait_is_usual_and_teaches_nothing(
    fake_clock: FakeClock,
) -> None:
    learned = LearnedWaits()
    poller = Poller(clock=fake_clock, sleep=fake_clock.advance, started=fake_clock(), timeout=60)
    pace = ActionPace(learned, "update", fake_clock, fake_clock)
    done_at = fake_clock() + 2.0

    def task() -> tuple[str, dict[str, str] | None]:
        return ("processing-completed", {}) if fake_clock() >= done_at else ("received", None)

    pace.follow_task(poller, "task t-1", "processing-completed", task)
    assert pace.task_end is None
    assert learned.shortest(TASKS_KEY) == Sample(1.5, 2.0)
    probe = until(fake_clock, fake_clock() + 1.0, "active-change-pending", "active")
    pace.wait(poller, "database 1", "active", probe, "database")
    assert [t - probe.polls[0] for t in probe.polls] == [0.0, 0.5, 1.0]  # type: ignore[attr-defined]
    assert learned.shortest(settle_key("update", "database")) is None
