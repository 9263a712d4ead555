"""Executor recovery against the API simulator: lost answers, busy databases, wire outages.

The account is the simulator's (tests/apply/conftest.py); faults are real ones. Answers are
lost on the wire by the recording transport (``write_faults``: the request never arrives,
or it takes effect and its answer is lost, possibly after its task is done); a database is
made busy by another client's write just before the executor's; a task stays unknown
because it is long (the simulator answers 404 for its first tenth).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from executor_support import (
    DB_PATH,
    SUB_PATH,
    SimAccount,
    account_factory,
    backup,
    create,
    delete,
    follow_up,
    update,
    upgrade,
)

from reconciler.errors import NotFoundError
from reconciler.simulator import RunningSimulator

NEW_ID = 51180010  # the id the simulator gives the next database of the example account
NEW_PATH = f"{SUB_PATH}/databases/{NEW_ID}"
UNKNOWN = "the change may or may not have taken effect; re-read before retrying"


@pytest.fixture
def account_on(make_simulator: Callable[..., RunningSimulator]) -> Callable[..., SimAccount]:
    """Return a factory of example accounts, each in a simulator on its own clock."""
    return account_factory(make_simulator)


@pytest.fixture
def account(account_on: Callable[..., SimAccount]) -> SimAccount:
    """The example account; tasks and pending statuses last 1 s."""
    return account_on()


def names_in_subscription(account: SimAccount) -> list[str]:
    page = account.get(f"{SUB_PATH}/databases")
    return sorted(db["name"] for db in page["subscription"][0]["databases"])


# -------------------------------------------------------------------- lost answers


def test_lost_answer_on_create_follows_the_listed_task_without_creating_again(
    account: SimAccount,
) -> None:
    account.transport.write_faults = ["lost-after"]
    report = account.run(create(), follow_up(enableDefaultUser=False))
    [lost, _] = account.task_ids()  # the create's task, whose answer the executor never saw
    assert account.count("POST") == 1
    assert report.done[0].task_id == lost
    assert report.done[0].note == f"answer lost; followed task {lost}"
    assert account.writes()[1] == ("PUT", NEW_PATH)


def test_lost_answer_on_create_adopts_the_database_that_is_in_place(account: SimAccount) -> None:
    account.transport.write_faults = ["lost-after-done"]
    report = account.run(create())
    assert account.count("POST") == 1
    assert report.done[0].action.database_id == NEW_ID
    assert report.done[0].note == "answer lost; the change was in place"


def test_lost_answer_on_create_that_did_not_happen_is_sent_again(account: SimAccount) -> None:
    account.transport.write_faults = ["lost-before"]
    report = account.run(create())
    assert account.count("POST") == 2
    assert report.done[0].note == "answer lost, no trace found; sent again"
    assert names_in_subscription(account).count("reports") == 1


def test_answers_lost_every_time_give_up_after_three_sends(account: SimAccount) -> None:
    account.transport.write_faults = ["lost-before"] * 5
    error = account.failure(create())
    assert account.count("POST") == 3
    assert str(error) == (
        f"create reports: POST {SUB_PATH}/databases: request sent but connection reset after "
        f"sending; {UNKNOWN}"
    )
    assert "reports" not in names_in_subscription(account)


def test_an_older_task_of_the_same_type_is_not_taken_for_the_lost_one(
    account: SimAccount,
) -> None:
    account.run(update({"datasetSizeInGb": 2}))  # leaves its task in GET /tasks
    account.clock.sleep(3600)
    account.transport.write_faults = ["lost-before"]
    account.run(update({"datasetSizeInGb": 3}))
    assert account.count("PUT") == 3
    assert account.get(DB_PATH)["datasetSizeInGb"] == 3


@pytest.mark.parametrize(
    ("fault", "deletes", "note"),
    [
        ("lost-after-done", 1, "answer lost; the change was in place"),
        ("lost-after", 1, "answer lost; followed task {task}"),
        ("lost-before", 2, "answer lost, no trace found; sent again"),
    ],
)
def test_lost_answer_on_delete(account: SimAccount, fault: str, deletes: int, note: str) -> None:
    account.transport.write_faults = [fault]
    report = account.run(delete())
    assert account.count("DELETE") == deletes
    with pytest.raises(NotFoundError):
        account.get(DB_PATH)
    assert report.done[0].status == "done"
    assert report.done[0].note == note.format(task=account.task_ids()[0])


@pytest.mark.parametrize(("fault", "puts"), [("lost-after-done", 1), ("lost-before", 2)])
def test_lost_answer_on_update(account: SimAccount, fault: str, puts: int) -> None:
    account.transport.write_faults = [fault]
    account.run(update({"datasetSizeInGb": 2}))
    assert account.count("PUT") == puts
    assert account.get(DB_PATH)["datasetSizeInGb"] == 2


@pytest.mark.parametrize(("fault", "posts"), [("lost-after", 1), ("lost-before", 2)])
def test_lost_answer_on_backup_follows_a_listed_task_or_sends_again(
    account: SimAccount, fault: str, posts: int
) -> None:
    account.transport.write_faults = [fault]
    account.run(backup())
    assert account.count("POST") == posts


def test_lost_answer_on_upgrade_done_when_the_version_is_already_the_target(
    account: SimAccount,
) -> None:
    account.transport.write_faults = ["lost-after-done"]
    report = account.run(upgrade("8.2"))
    assert account.count("POST") == 1
    assert report.done[0].note == "answer lost; the change was in place"
    assert account.get(DB_PATH)["redisVersion"] == "8.2"


# -------------------------------------------------------------------- busy account


def busy_before_each_put(account: SimAccount, times: int) -> None:
    """Before each of the executor's next ``times`` PUTs, another client's update lands."""
    left = [times]

    def race(method: str, path: str) -> None:
        if method == "PUT" and left[0] > 0:
            left[0] -= 1
            account.elsewhere("PUT", DB_PATH, {"datasetSizeInGb": 3}, settle=1.0)

    account.transport.on_send = race


def test_409_not_active_is_waited_out_and_sent_again(account: SimAccount) -> None:
    busy_before_each_put(account, 1)
    report = account.run(update({"datasetSizeInGb": 2}))
    pairs = zip(account.calls, account.transport.statuses, strict=True)
    puts = [status for (method, _), status in pairs if method == "PUT"]
    assert puts == [409, 200]
    assert report.done[0].status == "done"
    assert account.get(DB_PATH)["datasetSizeInGb"] == 2


def test_409_until_the_deadline_times_out(account: SimAccount) -> None:
    busy_before_each_put(account, 1000)
    error = account.failure(update({"datasetSizeInGb": 2}), timeout=60)
    assert str(error) == (
        f"update sessions (db 51170941): timed out after 59s waiting for PUT {DB_PATH} to be "
        "accepted; last state seen: HTTP 409 DATABASE_NOT_ACTIVE: Database 51170941 is not "
        "active (status: active-change-pending)"
    )
    assert account.get(DB_PATH)["datasetSizeInGb"] == 3


def test_subscription_pending_is_waited_out_before_sending(
    account_on: Callable[..., SimAccount],
) -> None:
    account = account_on(provision_seconds=3.0)
    account.elsewhere("POST", f"{SUB_PATH}/databases", {"name": "other"}, settle=1.0)
    account.run(update({"datasetSizeInGb": 2}))
    first_db_read = account.calls.index(("GET", DB_PATH))
    assert set(account.calls[:first_db_read]) == {("GET", SUB_PATH)}
    assert first_db_read == 7  # pending for 3 s: read at 0, 0.5 … 2.5 s, active at 3.1 s
    assert account.calls.index(("PUT", DB_PATH)) > first_db_read


# -------------------------------------------------------------------- tasks and the wire


def test_a_task_that_stays_unknown_fails_after_a_few_404s_and_some_seconds(
    account_on: Callable[..., SimAccount],
) -> None:
    account = account_on(task_seconds=1000.0)  # unknown (404) for its first 100 s
    error = account.failure(update({"datasetSizeInGb": 2}))
    [task] = account.task_ids()
    assert str(error) == (
        f"update sessions (db 51170941): GET /tasks/{task}: HTTP 404, ENTITY_NOT_FOUND: "
        "the task is still unknown 12s after it was accepted"
    )
    assert account.count("GET", f"/tasks/{task}") == 12  # 0.5, 1 … 9.5 s tolerated; 11.9 not


def test_a_short_api_outage_while_polling_is_tolerated(account: SimAccount) -> None:
    outages = iter([True, True, False])
    account.transport.failing_get = lambda path: path.startswith("/tasks/") and next(outages, False)
    report = account.run(update({"datasetSizeInGb": 2}))
    assert report.done[0].status == "done"
    polls = [
        status
        for (method, path), status in zip(account.calls, account.transport.statuses, strict=True)
        if path.startswith("/tasks/")
    ]
    assert polls[:3] == [0, 0, 200]  # two polls lost on the wire, then answered
