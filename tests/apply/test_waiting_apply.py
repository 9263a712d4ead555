"""An apply against the simulator: a repeated kind of action polls less; virtual time."""

from __future__ import annotations

from collections.abc import Callable

from executor_support import DB_PATH, SimAccount, account_factory, update

from reconciler.apply.waiting import TASK_SCHEDULE
from reconciler.simulator import RunningSimulator

TASK_SECONDS = 4.0
PROVISION_SECONDS = 3.0


def polls_after_each_write(account: SimAccount) -> list[tuple[int, int]]:
    """Return, per write, the task polls and the database polls that followed it."""
    counts: list[tuple[int, int]] = []
    for method, path in account.calls:
        if method != "GET":
            counts.append((0, 0))
        elif counts and path.startswith("/tasks/"):
            counts[-1] = (counts[-1][0] + 1, counts[-1][1])
        elif counts and path == DB_PATH:
            counts[-1] = (counts[-1][0], counts[-1][1] + 1)
    return counts


def test_a_repeated_update_polls_less_and_takes_no_longer(
    make_simulator: Callable[..., RunningSimulator],
) -> None:
    account = account_factory(make_simulator)(TASK_SECONDS, PROVISION_SECONDS)
    report = account.run(*(update({"datasetSizeInGb": size}) for size in (2, 3, 4)))
    first, second, third = polls_after_each_write(account)
    # the database polls include the one before the next write
    assert first == (len(TASK_SCHEDULE.times(TASK_SECONDS)), 7)
    # one provisioning seen: its database is first polled at half of it, then 10 % apart;
    # two that agree: halfway into the shortest's bounds, where it is done
    assert second == (2, 6)
    assert third == (2, 1)
    assert [round(done.elapsed, 3) for done in report.done] == [7.723, 7.489, 7.239]
