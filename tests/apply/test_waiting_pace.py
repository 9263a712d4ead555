"""Tests for apply.pace and waiting.Schedule: waits paced from the run's durations; no waiting."""

from __future__ import annotations

import datetime
import threading
from collections.abc import Callable
from typing import Any

import pytest
from conftest import FakeClock

from reconciler.apply.pace import (
    TASKS_KEY,
    ActionPace,
    LearnedWaits,
    Sample,
    merge,
    settle_key,
    settle_schedule,
    task_end,
    task_schedule,
)
from reconciler.apply.waiting import (
    MAX_POLL_DELAY,
    TASK_SCHEDULE,
    Poller,
    Schedule,
    poll_times,
)


def rounded(times: list[float]) -> list[float]:
    return [round(t, 3) for t in times]


# -------------------------------------------------------------------- the schedule, pure


@pytest.mark.parametrize("duration", [0.3, 2.0, 5.0, 10.0, 60.0, 3600.0])
def test_the_schedule_of_a_task_never_seen_is_todays(duration: float) -> None:
    assert TASK_SCHEDULE.times(duration) == poll_times(duration)
    assert task_schedule(None).times(duration) == poll_times(duration)


def test_the_default_schedule_polls_at_once_then_grows() -> None:
    assert rounded(Schedule().times(4.0)) == [0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.125, 3.906, 4.883]


@pytest.mark.parametrize(
    ("shortest", "first"),
    [(None, 0.5), (Sample(4.0, 5.0), 4.5), (Sample(1.5, 2.0), 1.8), (Sample(0.0, 0.3), 0.5)],
)
def test_a_task_is_first_polled_at_ninety_percent_of_the_shortest_seen(
    shortest: Sample | None, first: float
) -> None:
    assert task_schedule(shortest).first_poll(0.0) == pytest.approx(first)


def test_after_a_learned_first_poll_a_task_wait_grows_by_35_percent_of_the_time_waited() -> None:
    times = task_schedule(Sample(4.0, 5.0)).times(10.0)
    assert rounded(times) == [4.5, 6.075, 8.201, 11.072]


def test_a_task_followed_by_provisioning_is_polled_that_far_apart() -> None:
    times = task_schedule(Sample(1.5, 2.0), slack=5.0).times(20.0)
    assert rounded(times) == [1.8, 6.8, 11.8, 16.8, 22.68]  # 35 % of 16.8 s is more


@pytest.mark.parametrize(("slack", "delay"), [(0.0, 15.0), (5.0, 15.0), (100.0, MAX_POLL_DELAY)])
def test_every_delay_stays_within_the_maximum(slack: float, delay: float) -> None:
    schedule = Schedule(early=(1.0,), slack=slack)
    assert schedule.next_poll(3600.0) - 3600.0 == delay


@pytest.mark.parametrize("elapsed", [0.0, 0.1, 1.0, 1.9])
def test_past_the_early_polls_the_delay_is_at_least_the_minimum(elapsed: float) -> None:
    assert Schedule().next_poll(elapsed) - elapsed >= 0.5


def test_an_early_poll_within_a_millisecond_of_the_last_is_that_poll() -> None:
    schedule = Schedule(early=(2.0, 3.0))
    assert schedule.next_poll(1.9995) == 3.0
    assert schedule.next_poll(2.5) == 3.0
    assert schedule.next_poll(3.0) == 3.75


@pytest.mark.parametrize(
    "shortest", [None, Sample(0.0, 3.0)], ids=["nothing seen", "never seen pending"]
)
def test_a_settle_wait_without_a_lower_bound_polls_at_once(shortest: Sample | None) -> None:
    assert settle_schedule(shortest) == Schedule()


def test_a_settle_wait_polls_halfway_into_the_shortest_then_at_its_end() -> None:
    schedule = settle_schedule(Sample(4.9, 6.1))
    assert rounded(schedule.times(6.0)) == [5.5, 6.1]
    assert rounded(schedule.times(5.0)) == [5.5]


def test_a_settle_wait_begun_late_polls_at_once() -> None:
    schedule = settle_schedule(Sample(4.0, 6.0))
    assert schedule.times(5.0, start=5.2) == [5.2]
    assert rounded(schedule.times(6.5, start=5.2)) == [5.2, 6.0, 7.5]


# -------------------------------------------------------------------- what is learned


@pytest.mark.parametrize(
    ("known", "seen", "merged"),
    [
        (None, Sample(1.0, 2.0), Sample(1.0, 2.0)),
        (Sample(4.9, 6.1), Sample(0.0, 5.5), Sample(4.9, 5.5)),
        (Sample(4.9, 5.5), Sample(5.2, 5.5), Sample(5.2, 5.5)),
        (Sample(2.0, 2.5), Sample(10.0, 12.5), Sample(2.0, 2.5)),
        (Sample(4.9, 5.5), Sample(5.6, 7.0), Sample(4.9, 5.5)),
        (Sample(4.9, 5.5), Sample(0.0, 4.0), Sample(0.0, 4.0)),
    ],
)
def test_merge_keeps_an_estimate_of_the_shortest_wait(
    known: Sample | None, seen: Sample, merged: Sample
) -> None:
    assert merge(known, seen) == merged


def test_the_store_schedules_from_what_it_was_told() -> None:
    learned = LearnedWaits()
    assert learned.task_schedule("update") == TASK_SCHEDULE
    assert learned.settle_schedule("update", "database") == Schedule()
    learned.record(TASKS_KEY, Sample(1.5, 2.0))
    learned.record(settle_key("update", "database"), Sample(4.9, 6.1))
    assert learned.task_schedule("update") == Schedule(early=(1.8,), slack=4.9, growth=0.35)
    assert learned.task_schedule("backup") == Schedule(early=(1.8,), growth=0.35)
    assert learned.settle_schedule("update", "database") == Schedule(early=(5.5, 6.1))
    assert learned.settle_schedule("update", "subscription") == Schedule()


def test_the_store_is_safe_to_share_between_threads() -> None:
    learned = LearnedWaits()

    def lane(offset: int) -> None:
        for i in range(2000):
            learned.record(TASKS_KEY, Sample(1.0, 2.0 + offset + i / 1000))

    lanes = [threading.Thread(target=lane, args=(n,)) for n in range(8)]
    for thread in lanes:
        thread.start()
    for thread in lanes:
        thread.join()
    assert learned.shortest(TASKS_KEY) == Sample(1.0, 2.0)


# -------------------------------------------------------------------- the task's end


def stamp(posix: float) -> str:
    moment = datetime.datetime.fromtimestamp(posix, datetime.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


WALL = 1_800_000_000.0  # the wall clock when the monotonic clock reads 100


@pytest.mark.parametrize(
    ("ended", "expected"),
    [(WALL - 3.0, 97.0), (WALL - 5.0, 95.0), (WALL - 5.3, 95.0), (WALL + 0.2, 100.0)],
    ids=["inside", "at the pending poll", "a little before: kept inside", "a little after"],
)
def test_the_task_end_comes_from_its_stamp_kept_inside_what_polling_saw(
    ended: float, expected: float
) -> None:
    task = {"timestamp": stamp(ended)}
    assert task_end(task, 95.0, 100.0, 100.0, WALL) == pytest.approx(expected, abs=1e-3)


@pytest.mark.parametrize(
    "task",
    [
        {},
        {"timestamp": "yesterday"},
        {"timestamp": stamp(WALL - 60)},
        {"timestamp": stamp(WALL + 9)},
    ],
    ids=["no stamp", "unreadable", "long before: skewed clock", "after it was seen"],
)
def test_an_unusable_task_stamp_tells_nothing(task: dict[str, Any]) -> None:
    assert task_end(task, 95.0, 100.0, 100.0, WALL) is None


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
    # the task: first at 90 % of 4.0 s, then no sooner than the provisioning's lower bound
    # (2.979 s): seen 2.579 s late, still inside the provisioning; the database: halfway
    # into the provisioning's bounds, where it is done
    assert second == ([3.6, 6.579], [3.351])
    third = follow(learned, fake_clock, task_seconds=4.0, settle_seconds=3.0)
    assert third == ([3.6, 6.579], [3.165])  # the estimate narrows: its end is seen sooner
    assert bounds(learned, settle_key("update", "database")) == (2.979, 3.165)


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
