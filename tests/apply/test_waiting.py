"""Tests for apply.waiting (schedule, poller, status probes); no waiting."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from reconciler.apply.waiting import (
    Poller,
    StopRequested,
    poll_delay,
    poll_stats,
    poll_times,
    status_probe,
)
from reconciler.errors import (
    ApiUnavailableError,
    ResourceFailedError,
    WaitTimeoutError,
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def poller(clock: FakeClock, timeout: float = 60.0, **options: Any) -> Poller:
    return Poller(clock=clock, sleep=clock.sleep, started=clock.now, timeout=timeout, **options)


def states(*values: str | None) -> Callable[[], tuple[str, str | None]]:
    """Return a probe answering ``(state, value)`` pairs: a state ``"x=done"`` ends the wait."""
    it: Iterator[str | None] = iter(values)

    def probe() -> tuple[str, str | None]:
        state = next(it) or ""
        return state, state if state.endswith("=done") else None

    return probe


# -------------------------------------------------------------------- the schedule


@pytest.mark.parametrize(
    ("elapsed", "delay"),
    [(0, 0.5), (1, 0.5), (2, 0.5), (4, 1.0), (10, 2.5), (20, 5.0), (60, 15.0), (3600, 15.0)],
)
def test_poll_delay_is_a_quarter_of_the_time_waited_within_bounds(
    elapsed: float, delay: float
) -> None:
    assert poll_delay(elapsed) == delay


def test_a_two_second_task_is_seen_at_once_with_four_polls() -> None:
    assert poll_times(2.0) == [0.5, 1.0, 1.5, 2.0]
    assert poll_stats(2.0).polls == 4
    assert poll_stats(2.0).lag == 0.0


def test_a_twenty_second_task_is_seen_within_four_seconds_with_fifteen_polls() -> None:
    stats = poll_stats(20.0)
    assert stats.polls == 15
    assert stats.seen_at == pytest.approx(23.28, abs=0.01)
    assert stats.overhead == pytest.approx(0.164, abs=0.001)


@pytest.mark.parametrize(("duration", "polls"), [(0.3, 1), (5, 9), (10, 12), (60, 20), (3600, 256)])
def test_polls_grow_slowly_with_the_duration(duration: float, polls: int) -> None:
    assert poll_stats(duration).polls == polls


def test_overhead_for_two_to_twenty_second_tasks_matches_the_module_docstring() -> None:
    stats = [poll_stats(tenths / 10) for tenths in range(20, 201)]
    assert max(s.overhead for s in stats) <= 0.25
    assert statistics.mean(s.overhead for s in stats) == pytest.approx(0.118, abs=0.001)
    assert statistics.mean(s.lag for s in stats) == pytest.approx(1.33, abs=0.01)
    assert (min(s.polls for s in stats), max(s.polls for s in stats)) == (4, 15)


# -------------------------------------------------------------------- the poller


def test_wait_polls_on_the_schedule_and_returns_the_value() -> None:
    clock = FakeClock()
    seen: list[tuple[str, str]] = []
    value = poller(clock, on_state=lambda noun, state: seen.append((noun, state))).wait(
        "task t-1",
        "processing-completed",
        states("received", "in-progress", "in-progress", "x=done"),
        noun="task",
        first_delay=0.5,
    )
    assert value == "x=done"
    assert clock.slept == [0.5, 0.5, 0.5, 0.5]
    assert seen == [
        ("task", "received"),
        ("task", "in-progress"),
        ("task", "in-progress"),
        ("task", "x=done"),
    ]


def test_wait_checks_at_once_without_a_first_delay() -> None:
    clock = FakeClock()
    assert poller(clock).wait("database 1", "active", states("x=done")) == "x=done"
    assert clock.slept == []


def test_timeout_names_what_was_awaited_and_the_last_state() -> None:
    clock = FakeClock()
    with pytest.raises(WaitTimeoutError) as caught:
        poller(clock, timeout=30).wait(
            "database 51170941", "active", lambda: ("active-change-pending", None)
        )
    assert str(caught.value) == (
        "timed out after 30s waiting for database 51170941 to be active; "
        "last state seen: active-change-pending"
    )
    assert clock.now == 30  # the last poll lands on the deadline, not after it
    assert caught.value.last_state == "active-change-pending"


def test_watch_returns_none_when_its_own_limit_passes() -> None:
    clock = FakeClock()
    result = poller(clock).watch(lambda: ("no trace yet", None), until=5.0)
    assert (result.state, result.value) == ("no trace yet", None)
    assert clock.now == 5.0


def test_stop_request_is_noticed_between_polls_within_a_second() -> None:
    clock = FakeClock()
    stop_at = 20.3
    p = poller(clock, timeout=100, stop_requested=lambda: clock.now >= stop_at)
    with pytest.raises(StopRequested):
        p.wait("database 1", "active", lambda: ("pending", None))
    assert stop_at <= clock.now < stop_at + 1.0
    assert max(clock.slept) <= 1.0  # long delays are slept in short slices


def test_a_few_unreachable_polls_are_tolerated() -> None:
    clock = FakeClock()
    answers: list[Any] = [ApiUnavailableError("GET", "/x", 503)] * 3 + ["x=done"]

    def probe() -> tuple[str, str | None]:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer, answer

    assert poller(clock).wait("x", "done", probe) == "x=done"


def test_too_many_unreachable_polls_fail() -> None:
    clock = FakeClock()

    def probe() -> tuple[str, None]:
        raise ApiUnavailableError("GET", "/x", 503)

    with pytest.raises(ApiUnavailableError):
        poller(clock).wait("x", "done", probe)


# -------------------------------------------------------------------- status probes


@pytest.mark.parametrize(
    "status",
    ["pending", "active-change-pending", "dynamic-endpoints-creation-pending", "brand-new", ""],
)
def test_any_status_but_active_and_error_is_pending(status: str) -> None:
    probe = status_probe(lambda: {"status": status}, "database 1")
    assert probe() == (status or "(no status)", None)


def test_active_is_done_and_returns_the_object() -> None:
    raw = {"status": "active", "name": "x"}
    assert status_probe(lambda: raw, "database 1")() == ("active", raw)


def test_error_status_is_a_failure() -> None:
    with pytest.raises(ResourceFailedError) as caught:
        status_probe(lambda: {"status": "error"}, "subscription 7")()
    assert str(caught.value) == "subscription 7 entered status 'error'"
