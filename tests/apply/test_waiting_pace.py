"""Tests for apply.pace and waiting.Schedule: waits paced from the run's durations; no waiting."""

from __future__ import annotations

import datetime
import itertools
import threading
from typing import Any

import pytest

from reconciler.apply.pace import (
    SAMPLES_KEPT,
    TASKS_KEY,
    LearnedWaits,
    Sample,
    agree,
    merge,
    settle_key,
    settle_schedule,
    task_end,
    task_schedule,
)
from reconciler.apply.waiting import (
    MAX_POLL_DELAY,
    TASK_SCHEDULE,
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


def test_a_settle_wait_with_nothing_seen_polls_at_once_then_grows_by_a_quarter() -> None:
    assert settle_schedule(()) == Schedule()


def test_a_settle_wait_never_seen_pending_polls_first_at_half_of_three_quarters_of_it() -> None:
    assert settle_schedule([Sample(0.0, 3.0)]) == Schedule(early=(1.125,), growth=0.1)


AGREEING = [Sample(4.9, 6.1), Sample(5.0, 6.5)]  # both could have lasted 6.1 s


def test_samples_that_agree_are_bisected_halfway_into_the_shortest_then_at_its_end() -> None:
    assert agree(AGREEING)
    schedule = settle_schedule(AGREEING)
    assert rounded(schedule.times(6.0)) == [5.55, 6.1]
    assert rounded(schedule.times(5.0)) == [5.55]
    assert rounded(schedule.times(7.0)) == [5.55, 6.1, 6.71, 7.381]  # then 10 % of the time


def test_a_settle_wait_begun_late_polls_at_once() -> None:
    schedule = settle_schedule(AGREEING)
    assert schedule.times(5.0, start=5.8) == [5.8]
    assert rounded(schedule.times(6.5, start=5.8)) == [5.8, 6.1, 6.71]


@pytest.mark.parametrize(
    ("samples", "agreed"),
    [
        ([], False),
        ([Sample(4.9, 6.1)], False),
        (AGREEING, True),
        ([Sample(35.0, 43.8), Sample(11.0, 13.6)], False),
        ([Sample(11.0, 13.6), Sample(13.5, 15.0), Sample(12.0, 14.0)], True),
        ([Sample(11.0, 13.6), Sample(13.7, 15.0)], False),
    ],
    ids=["none", "one", "two alike", "far apart", "three overlapping", "just apart"],
)
def test_samples_agree_when_they_could_all_be_one_duration(
    samples: list[Sample], agreed: bool
) -> None:
    assert agree(samples) is agreed


@pytest.mark.parametrize(
    ("samples", "first"),
    [
        ([Sample(35.0, 43.8)], 17.5),  # one sample: half of its lower bound
        ([Sample(35.0, 43.8), Sample(11.0, 13.6)], 7.333),  # two: 2/3 of the shortest's
        ([Sample(35.0, 43.8), Sample(0.0, 12.0)], 6.0),  # no lower bound: 3/4 of its upper
        ([Sample(35.0, 43.8)] * 3 + [Sample(11.0, 13.6)], 8.8),  # four: 4/5
    ],
)
def test_varying_settle_waits_first_poll_at_a_low_point_of_the_shortest(
    samples: list[Sample], first: float
) -> None:
    schedule = settle_schedule(samples)
    assert not agree(samples)
    assert schedule.growth == 0.1
    assert schedule.early == (pytest.approx(first, abs=1e-3),)


@pytest.mark.parametrize("duration", [0.1, 5.0, 12.0, 12.8, 20.0, 45.0, 60.0, 600.0, 3600.0])
@pytest.mark.parametrize(
    "samples",
    [[Sample(55.0, 60.0)], [Sample(35.0, 43.8), Sample(11.0, 13.6)], [Sample(0.0, 30.0)]],
    ids=["one long sample", "varying", "never seen pending"],
)
def test_a_varying_settle_wait_sees_the_end_at_most_a_tenth_late_past_its_first_poll(
    samples: list[Sample], duration: float
) -> None:
    schedule = settle_schedule(samples)
    times = schedule.times(duration)
    late = times[-1] - max(duration, times[0])
    assert late <= max(0.5, 0.1 * times[-2] if len(times) > 1 else 0.0) + 1e-9
    # a poll's interval is never more than 10 % of the time waited, the minimum, or 15 s
    for before, after in itertools.pairwise(times):
        assert after - before <= min(MAX_POLL_DELAY, max(0.5, 0.1 * before)) + 1e-9


def test_a_lone_long_sample_no_longer_delays_a_short_wait_by_its_length() -> None:
    # a database provisioning 12.8 s after one that took 55-60 s: seen at half the lone
    # sample's lower bound (27.5 s), where polling halfway into its bounds saw it at 57.5 s
    assert settle_schedule([Sample(55.0, 60.0)]).times(12.8) == [27.5]


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
    for sample in AGREEING:
        learned.record(settle_key("update", "database"), sample)
    # the task's slack is where the database wait that follows first polls
    assert learned.task_schedule("update") == Schedule(early=(1.8,), slack=5.55, growth=0.35)
    assert learned.task_schedule("backup") == Schedule(early=(1.8,), growth=0.35)
    assert learned.settle_schedule("update", "database") == Schedule(early=(5.55, 6.1), growth=0.1)
    assert learned.settle_schedule("update", "subscription") == Schedule()


def test_the_store_keeps_the_newest_samples_of_each_key() -> None:
    learned = LearnedWaits()
    for n in range(SAMPLES_KEPT + 5):
        learned.record("k", Sample(float(n), n + 1.0))
    kept = learned.samples("k")
    assert len(kept) == SAMPLES_KEPT == 32
    assert kept[0] == Sample(5.0, 6.0)
    assert learned.shortest("k") == Sample(5.0, 6.0)  # the older, shorter ones are forgotten


def test_the_store_is_safe_to_share_between_threads() -> None:
    learned = LearnedWaits()

    def lane(offset: int) -> None:
        for i in range(2000):
            learned.record(TASKS_KEY, Sample(1.0 + offset, 2.0 + offset + i / 1000))

    lanes = [threading.Thread(target=lane, args=(n,)) for n in range(8)]
    for thread in lanes:
        thread.start()
    for thread in lanes:
        thread.join()
    kept = learned.samples(TASKS_KEY)
    assert len(kept) == SAMPLES_KEPT
    assert all(s.lower in {1.0 + n for n in range(8)} for s in kept)


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
