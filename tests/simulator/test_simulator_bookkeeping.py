"""The simulator's bookkeeping that keeps a request proportional to its answer, not to the
account: the next event (reconciler/simulator/state.py, effects.advance), the database
index, and statuses evaluated only for the databases a list page answers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from conftest import FakeClock

from reconciler.simulator import SimulatorConfig, api, reads, timeline, views
from reconciler.simulator.api import ApiRequest, Simulator
from reconciler.simulator.effects import advance
from reconciler.simulator.seed import account_from_document
from reconciler.simulator.timeline import live_databases

SUB = 3001
FIRST_ID = 70001
TASK = 1.0
PROVISION = 4.0
COUNT = 250


class Walked(list[Any]):
    """A list that counts how often it is walked (``for``, comprehensions, ``sorted``)."""

    walks = 0

    def __iter__(self) -> Iterator[Any]:
        self.walks += 1
        return super().__iter__()


def _database(index: int) -> dict[str, Any]:
    return {
        "databaseId": FIRST_ID + index,
        "name": f"db-{index:04d}",
        "redisVersion": "7.4",
        "datasetSizeInGb": 1,
        "replication": True,
        "dataPersistence": "none",
    }


def make(clock: FakeClock, count: int = COUNT) -> Simulator:
    """A simulator whose account holds one subscription of ``count`` databases."""
    sim = Simulator(SimulatorConfig(clock=clock, task_seconds=TASK, provision_seconds=PROVISION))
    document = {
        "account": {
            "id": 1001,
            "subscriptions": [
                {
                    "id": SUB,
                    "name": "big",
                    "provider": "AWS",
                    "region": "us-east-1",
                    "databases": [_database(i) for i in range(count)],
                }
            ],
        }
    }
    sim.account = account_from_document(document, "test", clock())
    return sim


def watch(sim: Simulator) -> tuple[Walked, Walked]:
    """Make the account's database and task lists count their walks; return them."""
    databases, tasks = Walked(sim.account.data["databases"]), Walked(sim.account.data["tasks"])
    sim.account.data["databases"], sim.account.data["tasks"] = databases, tasks
    return databases, tasks


def request(database: int | None = None, body: Any = None, **query: str) -> ApiRequest:
    params = (
        {"subscriptionId": SUB}
        if database is None
        else {
            "subscriptionId": SUB,
            "databaseId": database,
        }
    )
    return ApiRequest(params=params, query=query, body=body)


# --- the next event ----------------------------------------------------------------------------


def test_advance_walks_nothing_while_nothing_is_pending(fake_clock: FakeClock) -> None:
    sim = make(fake_clock)
    advance(sim.account, fake_clock(), PROVISION)  # learns there is no next event
    databases, tasks = watch(sim)
    for _ in range(5):
        fake_clock.advance(3600.0)
        assert advance(sim.account, fake_clock(), PROVISION) is False
    assert (databases.walks, tasks.walks) == (0, 0)
    assert sim.account.next_event() == float("inf")


def test_a_new_task_is_learnt_once_then_waited_for(fake_clock: FakeClock) -> None:
    sim = make(fake_clock)
    submitted = fake_clock()
    sim.call(api.update_database, request(FIRST_ID, {"datasetSizeInGb": 2}))
    databases, tasks = watch(sim)
    fake_clock.advance(TASK / 2)
    assert advance(sim.account, fake_clock(), PROVISION) is False
    assert (databases.walks, tasks.walks) == (1, 1)  # the new task's end, learnt once
    assert sim.account.next_event() == submitted + TASK
    fake_clock.advance(TASK / 2 - 0.01)
    assert advance(sim.account, fake_clock(), PROVISION) is False
    assert (databases.walks, tasks.walks) == (1, 1)  # before the end: nothing walked
    fake_clock.advance(0.01)
    assert advance(sim.account, fake_clock(), PROVISION) is True  # the end: it takes effect
    record = sim.account.database(SUB, FIRST_ID)
    assert record is not None
    assert (record["datasetSizeInGb"], record["pendingStatus"]) == (2, "active-change-pending")


def test_a_deleted_database_is_gone_at_its_end_without_a_request_between(
    fake_clock: FakeClock,
) -> None:
    sim = make(fake_clock)
    sim.call(api.delete_database, request(FIRST_ID + 1))
    fake_clock.advance(TASK)
    sim.call(reads.get_subscription, request())  # the task ends: the database is deleting
    end = fake_clock() + PROVISION
    assert sim.account.next_event() == end
    still = [db["databaseId"] for db in live_databases(sim.account, SUB, end - 0.001)]
    gone = [db["databaseId"] for db in live_databases(sim.account, SUB, end)]
    assert FIRST_ID + 1 in still
    assert FIRST_ID + 1 not in gone
    assert len(gone) == COUNT - 1
    fake_clock.advance(PROVISION)
    answer = sim.call(reads.list_databases, request(offset="0", limit="3")).body
    assert [db["databaseId"] for db in answer["subscription"][0]["databases"]] == [
        FIRST_ID,
        FIRST_ID + 2,
        FIRST_ID + 3,
    ]
    assert answer["subscription"][0]["numberOfDatabases"] == COUNT - 1
    assert sim.account.database(SUB, FIRST_ID + 1) is None


# --- the database index ------------------------------------------------------------------------


def test_a_created_database_joins_the_index_in_id_order(fake_clock: FakeClock) -> None:
    sim = make(fake_clock, count=3)
    body = {"name": "new-one", "datasetSizeInGb": 1}
    sim.call(api.create_database, request(body=body))
    fake_clock.advance(TASK)
    sim.call(reads.get_subscription, request())
    listed = [db["name"] for db in sim.account.databases_in(SUB)]
    assert listed == ["db-0000", "db-0001", "db-0002", "new-one"]
    created = sim.account.databases_in(SUB)[-1]
    assert sim.account.database(SUB, created["databaseId"]) is created
    assert sim.account.database(SUB + 1, created["databaseId"]) is None


def test_databases_in_answers_a_copy(fake_clock: FakeClock) -> None:
    sim = make(fake_clock, count=3)
    sim.account.databases_in(SUB).clear()
    assert len(sim.account.databases_in(SUB)) == 3


# --- a list page evaluates the statuses of its own databases only ------------------------------


@pytest.fixture
def evaluated(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The ids of the databases whose status is evaluated, in order."""
    seen: list[int] = []
    original: Callable[[Any, float], str | None] = timeline.database_status

    def recording(record: Any, at: float) -> str | None:
        seen.append(int(record["databaseId"]))
        return original(record, at)

    for module in (timeline, views, api):
        monkeypatch.setattr(module, "database_status", recording)
    return seen


def test_a_page_evaluates_only_its_databases(fake_clock: FakeClock, evaluated: list[int]) -> None:
    sim = make(fake_clock)
    answer = sim.call(reads.list_databases, request(offset="100", limit="10")).body
    page = [db["databaseId"] for db in answer["subscription"][0]["databases"]]
    assert page == list(range(FIRST_ID + 100, FIRST_ID + 110))
    assert answer["subscription"][0]["numberOfDatabases"] == COUNT
    assert evaluated == page


def test_a_page_past_a_finished_delete_checks_every_database(
    fake_clock: FakeClock, evaluated: list[int]
) -> None:
    """Between a deletion's end and the advance that purges it, statuses are evaluated."""
    sim = make(fake_clock, count=5)
    sim.call(api.delete_database, request(FIRST_ID))
    fake_clock.advance(TASK)
    sim.call(reads.get_subscription, request())  # the task ends: the database is deleting
    fake_clock.advance(PROVISION)
    evaluated.clear()
    assert [db["databaseId"] for db in live_databases(sim.account, SUB, fake_clock())] == [
        FIRST_ID + 1,
        FIRST_ID + 2,
        FIRST_ID + 3,
        FIRST_ID + 4,
    ]
    assert evaluated == [FIRST_ID + n for n in range(5)]
