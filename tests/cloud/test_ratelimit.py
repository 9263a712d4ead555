"""Tests for reconciler.cloud.ratelimit.RateBudget: the client's own share of the limit.

Virtual time only: a :class:`lockstep.Lockstep` clock, whose lanes (threads) run one at a
time, so lanes sharing one budget are reproducible.
"""

from __future__ import annotations

import pytest
from lockstep import START, Lockstep

from reconciler.cloud.ratelimit import DEFAULT_REQUESTS_PER_MINUTE, RateBudget


def most_in_a_minute(times: list[float]) -> int:
    """Return the most of ``times`` inside any 60 s window."""
    ordered = sorted(times)
    return max(sum(1 for t in ordered if start <= t < start + 60) for start in ordered)


def test_the_default_share_is_half_the_account_limit() -> None:
    assert DEFAULT_REQUESTS_PER_MINUTE == 200
    assert RateBudget(Lockstep(), Lockstep().sleep).per_minute == 200


def test_a_full_minute_of_requests_goes_at_once_then_the_next_waits_for_the_oldest() -> None:
    clock = Lockstep()
    budget = RateBudget(clock, clock.sleep, per_minute=200)
    for _ in range(200):
        budget.wait_turn()
    assert clock.slept == [] and clock() == START
    clock.sleep(20)
    budget.wait_turn()
    assert clock() == START + 60  # the first request left the window
    assert clock.slept[-1] == (0, 40)


def test_a_plan_reading_a_hundred_pages_never_waits() -> None:
    clock = Lockstep()
    budget = RateBudget(clock, clock.sleep)
    for _ in range(100):
        budget.wait_turn()
    assert clock.slept == []


@pytest.mark.parametrize("per_minute", [0, -5])
def test_a_share_below_one_request_is_refused(per_minute: int) -> None:
    clock = Lockstep()
    with pytest.raises(
        ValueError, match=f"requests per minute must be at least 1, not {per_minute}"
    ):
        RateBudget(clock, clock.sleep, per_minute=per_minute)


@pytest.mark.parametrize("per_minute", [200, 50])
def test_lanes_polling_together_never_pass_the_share_in_any_minute(per_minute: int) -> None:
    clock = Lockstep()
    budget = RateBudget(clock, clock.sleep, per_minute=per_minute)
    sent: list[float] = []

    def lane(interval: float) -> None:
        while clock() < START + 300:
            budget.wait_turn()
            sent.append(clock())
            clock.sleep(interval)

    clock.run_lanes([lambda: lane(0.1), lambda: lane(0.25), lambda: lane(1.0)])
    assert most_in_a_minute(sent) == per_minute
    assert len(sent) >= per_minute * 5  # paced, not starved: a full share every minute


def test_a_spent_account_budget_pauses_every_lane_until_its_window_ends() -> None:
    clock = Lockstep()
    budget = RateBudget(clock, clock.sleep)
    headers = {"X-Rate-Limit-Remaining": "3"}
    budget.observe(headers.get)
    clock.sleep(10)
    budget.observe({"X-Rate-Limit-Remaining": "0"}.get)
    sent: list[float] = []

    def lane() -> None:
        budget.wait_turn()
        sent.append(clock())

    clock.run_lanes([lane, lane])
    assert sent == [START + 60, START + 60]
