"""Fixtures of the executor tests: the example account in a simulator on a stepping clock.

- ``account_on(task_seconds=1, provision_seconds=1)``: a factory of ``SimAccount``s, each on
  a fresh ``SteppingClock``; a lost-and-done answer (``"lost-after-done"``) moves the clock
  by the task and provisioning time.
- ``account``: one with the defaults.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from executor_support import SimAccount, SteppingClock

from reconciler.simulator import RunningSimulator


@pytest.fixture
def account_on(
    make_simulator: Callable[..., RunningSimulator],
) -> Callable[..., SimAccount]:
    """Return a factory: the example account in a simulator on a fresh stepping clock."""

    def start(task_seconds: float = 1.0, provision_seconds: float = 1.0) -> SimAccount:
        clock = SteppingClock()
        running = make_simulator(
            clock=clock, task_seconds=task_seconds, provision_seconds=provision_seconds
        )
        account = SimAccount(running, clock)
        account.transport.settle_seconds = task_seconds + provision_seconds
        return account

    return start


@pytest.fixture
def account(account_on: Callable[..., SimAccount]) -> SimAccount:
    """The example account; tasks and pending statuses last 1 s."""
    return account_on()
