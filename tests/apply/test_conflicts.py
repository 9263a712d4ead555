"""Refused writes (409, 403, other 4xx) of any body shape: decided by re-reading, bounded.

Over real HTTP to the scripted account of ``fake_account`` (the shared fake API) and to the
simulator, each on a clock that moves only when slept on: minutes of waiting cost nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
from fake_account import (
    DB,
    DB_PATH,
    DBS_PATH,
    NEW,
    SID,
    Account,
    StepClock,
    apply_over_http,
    create,
    db_raw,
    update,
)
from fake_api import Reply

from reconciler.apply import apply_plan
from reconciler.cloud import ApiClient
from reconciler.errors import ApplyFailedError
from reconciler.plan import ActionKind, ApiRequest, Plan, PlannedAction
from reconciler.simulator import RunningSimulator

# (a 409 answer, how a timeout quotes it)
SHAPES_409 = {
    "json-object": (
        Reply(409, {"error": {"type": "DATABASE_NOT_ACTIVE", "description": "Database 70 busy"}}),
        "HTTP 409 DATABASE_NOT_ACTIVE: Database 70 busy",
    ),
    "json-flat": (
        Reply(409, {"type": "CONFLICT_ERROR", "description": "Try again later"}),
        "HTTP 409 CONFLICT_ERROR: Try again later",
    ),
    "html": (
        Reply(
            409,
            "<html><head><title>409 Conflict</title></head><body><h1>nginx</h1></body></html>",
            content_type="text/html",
        ),
        "HTTP 409: 409 Conflict",
    ),
    "empty": (Reply(409, None, content_type=None), "HTTP 409 (empty answer)"),
    "plain-text": (
        Reply(409, "Conflict: the resource is busy\nplease retry", content_type="text/plain"),
        "HTTP 409: Conflict: the resource is busy",
    ),
}
SHAPE_IDS = list(SHAPES_409)
DONE = "processing-completed"


def refusal(shape: str) -> Reply:
    return SHAPES_409[shape][0]


def failure(account: Account, clock: StepClock, *actions: Any, **options: Any) -> str:
    with pytest.raises(ApplyFailedError) as caught:
        apply_over_http(account, clock, *actions, **options)
    return str(caught.value)


@pytest.fixture
def clock() -> StepClock:
    return StepClock()


# -------------------------------------------------------------------- 409: "not now"


@pytest.mark.parametrize("shape", SHAPE_IDS)
def test_a_409_of_any_shape_is_waited_out_and_sent_again(shape: str, clock: StepClock) -> None:
    account = Account(refusals=[refusal(shape), refusal(shape)])
    report = apply_over_http(account, clock, update(datasetSizeInGb=2))
    assert report.done[0].status == "done"
    assert account.writes == [("PUT", DB_PATH)] * 3
    assert account.dbs[DB]["datasetSizeInGb"] == 2


@pytest.mark.parametrize("shape", SHAPE_IDS)
def test_a_409_that_never_clears_fails_at_the_busy_timeout_quoting_the_answer(
    shape: str, clock: StepClock
) -> None:
    account = Account(refusals=[refusal(shape)] * 10_000)
    message = failure(account, clock, update(datasetSizeInGb=2))
    assert message == (
        f"update sessions (db {DB}): timed out after 600s waiting for PUT {DB_PATH} to be "
        f"accepted; last state seen: {SHAPES_409[shape][1]}"
    )
    assert clock.elapsed == pytest.approx(600)  # not the action's hour


def test_the_busy_timeout_is_a_parameter(clock: StepClock) -> None:
    account = Account(refusals=[refusal("empty")] * 10_000)
    message = failure(account, clock, update(datasetSizeInGb=2), busy_timeout=90)
    assert message.startswith(f"update sessions (db {DB}): timed out after 90s waiting for PUT")
    assert clock.elapsed == pytest.approx(90)


def test_the_busy_timeout_never_outlasts_the_action_timeout(clock: StepClock) -> None:
    account = Account(refusals=[refusal("empty")] * 10_000)
    message = failure(account, clock, update(datasetSizeInGb=2), timeout=120, busy_timeout=600)
    assert message.startswith(f"update sessions (db {DB}): timed out after 120s waiting for PUT")
    assert clock.elapsed == pytest.approx(120)


def test_a_resource_still_pending_at_the_busy_timeout_is_named_beside_the_answer(
    clock: StepClock,
) -> None:
    account = Account(
        refusals=[refusal("json-object")], statuses={DB: ["active"] + ["pending"] * 999}
    )
    message = failure(account, clock, update(datasetSizeInGb=2), busy_timeout=60)
    assert message == (
        f"update sessions (db {DB}): timed out after 60s waiting for PUT {DB_PATH} to be "
        f"accepted; last state seen: HTTP 409 DATABASE_NOT_ACTIVE: Database 70 busy; "
        f"database {DB} still pending"
    )


# -------------------------------------------------------------------- 409: a name clash


@pytest.mark.parametrize("shape", SHAPE_IDS)
def test_a_create_refused_while_its_name_is_held_adopts_an_equal_database(
    shape: str, clock: StepClock
) -> None:
    def taken(seen: Any) -> None:  # another run's create lands just before ours
        account.dbs[NEW] = db_raw(NEW, "reports", datasetSizeInGb=5)

    account = Account(refusals=[refusal(shape)], before_write=taken)
    report = apply_over_http(account, clock, create(datasetSizeInGb=5))
    assert account.writes == [("POST", DBS_PATH)]
    assert report.done[0].action.database_id == NEW
    assert report.done[0].note == (
        "the name was taken by a database being created (an earlier run?); adopted"
    )


@pytest.mark.parametrize(
    ("shape", "answer"),
    [
        ("json-object", "HTTP 409, DATABASE_NOT_ACTIVE: Database 70 busy"),
        ("html", "HTTP 409: 409 Conflict"),
        ("empty", f"HTTP 409: database {NEW} already holds the name 'reports'"),
    ],
)
def test_a_create_refused_while_a_different_database_holds_its_name_fails_at_once(
    shape: str, answer: str, clock: StepClock
) -> None:
    account = Account(refusals=[refusal(shape)])
    account.dbs[NEW] = db_raw(NEW, "reports", datasetSizeInGb=1)
    message = failure(account, clock, create(datasetSizeInGb=5))
    assert message == (
        f"create reports (db {NEW}): POST {DBS_PATH}: {answer}; it differs from this create "
        "in: datasetSizeInGb"
    )
    assert account.writes == [("POST", DBS_PATH)]
    assert clock.elapsed < 60


@pytest.mark.parametrize("shape", SHAPE_IDS)
def test_a_create_refused_while_its_name_is_free_is_sent_again(
    shape: str, clock: StepClock
) -> None:
    account = Account(refusals=[refusal(shape)])
    report = apply_over_http(account, clock, create(datasetSizeInGb=5))
    assert account.writes == [("POST", DBS_PATH)] * 2
    assert report.done[0].action.database_id == NEW
    assert report.done[0].note == ""


# -------------------------------------------------------------------- 403


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (Reply(403, None, content_type=None), f"PUT {DB_PATH}: HTTP 403"),
        (
            Reply(403, "<html><title>403 Forbidden</title></html>", content_type="text/html"),
            f"PUT {DB_PATH}: HTTP 403: 403 Forbidden",
        ),
        (
            Reply(403, {"error": {"type": "UNAUTHORIZED", "description": "read-only key"}}),
            f"PUT {DB_PATH}: HTTP 403, UNAUTHORIZED: read-only key",
        ),
    ],
)
def test_a_403_while_all_reads_active_and_quiet_fails_at_once(
    reply: Reply, message: str, clock: StepClock
) -> None:
    account = Account(refusals=[reply] * 10)
    assert failure(account, clock, update(datasetSizeInGb=2)) == (
        f"update sessions (db {DB}): {message}"
    )
    assert account.writes == [("PUT", DB_PATH)]


@pytest.mark.parametrize(
    "busy",
    [
        {"statuses": {DB: ["active", "active-change-pending", "active"]}},
        {"others": [{"taskId": "o-1", "commandType": "x", "script": [DONE, "received", DONE]}]},
    ],
    ids=["database-pending", "other-run-task"],  # the task is listed only after the refusal
)
def test_a_403_of_no_shape_while_something_is_busy_is_waited_out(
    busy: dict[str, Any], clock: StepClock
) -> None:
    account = Account(refusals=[Reply(403, None, content_type=None)], **busy)
    report = apply_over_http(account, clock, update(datasetSizeInGb=2))
    assert report.done[0].status == "done"
    assert account.writes == [("PUT", DB_PATH)] * 2


def test_a_401_fails_at_once_even_while_something_is_busy(clock: StepClock) -> None:
    account = Account(statuses={DB: ["active", "pending"]})
    account.refusals = [Reply(401, None, content_type=None)] * 10
    assert failure(account, clock, update(datasetSizeInGb=2)) == (
        f"update sessions (db {DB}): PUT {DB_PATH}: HTTP 401"
    )
    assert account.writes == [("PUT", DB_PATH)]


def test_a_403_whose_type_says_not_active_is_waited_out(clock: StepClock) -> None:
    body = {"error": {"type": "SUBSCRIPTION_NOT_ACTIVE", "description": "Cannot preform"}}
    account = Account(refusals=[Reply(403, body)])
    report = apply_over_http(account, clock, update(datasetSizeInGb=2))
    assert report.done[0].status == "done"
    assert account.writes == [("PUT", DB_PATH)] * 2


# -------------------------------------------------------------------- a change someone else made


def upgrade_to(version: str) -> PlannedAction:
    path = f"{DB_PATH}/upgrade"
    body = {"targetRedisVersion": version}
    return PlannedAction(
        ActionKind.UPGRADE, SID, DB, "sessions", (), ApiRequest("POST", path, body)
    )


TOO_OLD = {"error": {"type": "DATABASE_UPGRADE_INVALID_REDIS_VERSION", "description": "not newer"}}


def test_an_upgrade_refused_because_someone_else_made_it_is_done(clock: StepClock) -> None:
    account = Account(refusals=[Reply(400, TOO_OLD)])
    account.before_write = lambda seen: account.dbs[DB].update(redisVersion="8.2")
    report = apply_over_http(account, clock, upgrade_to("8.2"))
    assert (report.done[0].status, report.done[0].note) == (
        "done",
        "refused, but the change was in place: done by someone else",
    )
    assert account.writes == [("POST", f"{DB_PATH}/upgrade")]


@pytest.mark.parametrize(
    ("reply", "action", "message"),
    [
        (
            Reply(400, TOO_OLD),
            upgrade_to("8.2"),
            f"POST {DB_PATH}/upgrade: HTTP 400, DATABASE_UPGRADE_INVALID_REDIS_VERSION: not newer",
        ),
        (
            Reply(422, None, content_type=None),
            update(datasetSizeInGb=2),
            f"PUT {DB_PATH}: HTTP 422",
        ),
    ],
    ids=["upgrade", "update"],
)
def test_a_bad_request_whose_change_is_not_in_place_fails(
    reply: Reply, action: PlannedAction, message: str, clock: StepClock
) -> None:
    account = Account(refusals=[reply])
    account.dbs[DB]["redisVersion"] = "7.4"
    assert failure(account, clock, action) == f"{action_label(action)}: {message}"


def action_label(action: PlannedAction) -> str:
    return f"{action.kind.value} {action.name} (db {action.database_id})"


# -------------------------------------------------------------------- the simulator


def test_the_simulators_409_not_active_is_waited_out(
    make_simulator: Callable[..., RunningSimulator],
    sim_api: Callable[..., Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, "reconciler.apply")
    clock = StepClock()
    running = make_simulator(task_seconds=20.0, provision_seconds=30.0, clock=clock)
    other = sim_api(running)
    path = "/subscriptions/2001234/databases/51170941"
    own = PlannedAction(
        ActionKind.UPDATE,
        2001234,
        51170941,
        "sessions",
        (),
        ApiRequest("PUT", path, {"datasetSizeInGb": 3}),
    )

    class OtherRunFirst(ApiClient):
        """Another run's update of the same database is processed just before ours is sent."""

        other_sent = False

        def write(self, method: str, path: str, body: Any = None) -> Any:
            if not self.other_sent:
                self.other_sent = True
                assert other.put(path, {"datasetSizeInGb": 2}).status_code == 200
                clock.sleep(25.0)  # its task is processed; the database is pending
            return super().write(method, path, body)

    with OtherRunFirst(running.url, running.api_key, running.api_secret, clock=clock) as client:
        plan = Plan(subscriptions=(), actions=(own,))
        report = apply_plan(plan, client, clock=clock, sleep=clock.sleep, wall_clock=clock)
    assert report.done[0].status == "done"
    assert (
        f"PUT {path} refused (HTTP 409 DATABASE_NOT_ACTIVE: Database 51170941 is not active "
        "(status: active-change-pending)); waiting to send again" in caplog.messages
    )
    answer = other.get(path).json()
    assert (answer["status"], answer["datasetSizeInGb"]) == ("active", 3)
