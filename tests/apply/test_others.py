"""Other runs at work on the account: waited out before the first write, or refused at once.

Over real HTTP to the scripted account of ``fake_account`` and to the simulator, on clocks
that move only when slept on.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fake_account import (
    DB,
    DB_PATH,
    SID,
    Account,
    StepClock,
    apply_over_http,
    delete,
    task_json,
    update,
)
from fake_api import Reply, Seen

from reconciler import cli
from reconciler.apply import apply_plan, make_progress
from reconciler.apply.others import describe_task, refusal_text, unfinished_of_others
from reconciler.cli import Runtime
from reconciler.cloud import ApiClient
from reconciler.errors import ApplyFailedError, ConflictError
from reconciler.plan import ActionKind, ApiRequest, Plan, PlannedAction
from reconciler.simulator import RunningSimulator

OTHER = "o-1"
UPDATING = "databaseUpdateRequest"


def other_task(*script: str) -> dict[str, Any]:
    """Another run's task; its listings show ``script`` in turn, then the last status."""
    return {"taskId": OTHER, "commandType": UPDATING, "script": list(script)}


def failure(account: Account, clock: StepClock, *actions: Any, **options: Any) -> str:
    with pytest.raises(ApplyFailedError) as caught:
        apply_over_http(account, clock, *actions, **options)
    return str(caught.value)


@pytest.fixture
def clock() -> StepClock:
    return StepClock()


# -------------------------------------------------------------------- the pieces


def test_unfinished_tasks_of_others_leave_out_final_and_known_ones() -> None:
    listed = [
        task_json("a", UPDATING, "processing-completed"),
        task_json("b", UPDATING, "processing-error"),
        task_json("c", UPDATING, "received"),
        task_json("d", UPDATING, "processing-in-progress"),
        task_json("e", UPDATING, "initialized"),
        task_json("f", UPDATING, "some-new-status"),
    ]
    names = [t["taskId"] for t in unfinished_of_others(listed, known={"d"})]
    assert names == ["c", "e", "f"]


@pytest.mark.parametrize(
    ("task", "text"),
    [
        (task_json("t-5", UPDATING, "received"), "task t-5 (databaseUpdateRequest, received)"),
        ({"taskId": "t-6", "status": "received"}, "task t-6 (received)"),
        ({"taskId": "t-7"}, "task t-7"),
    ],
)
def test_a_task_is_described_by_its_id_type_and_status(task: dict[str, Any], text: str) -> None:
    assert describe_task(task) == text


@pytest.mark.parametrize(
    ("error_type", "description", "text"),
    [
        ("DATABASE_NOT_ACTIVE", "busy", "HTTP 409 DATABASE_NOT_ACTIVE: busy"),
        ("", "409 Conflict", "HTTP 409: 409 Conflict"),
        ("CONFLICT_ERROR", "", "HTTP 409 CONFLICT_ERROR"),
        ("", "", "HTTP 409 (empty answer)"),
    ],
)
def test_a_refusal_quotes_the_type_and_description_of_the_answer(
    error_type: str, description: str, text: str
) -> None:
    assert refusal_text(ConflictError("PUT", "/x", 409, error_type, description)) == text


# -------------------------------------------------------------------- waiting for others


def test_another_runs_task_is_waited_out_before_the_first_write(clock: StepClock) -> None:
    account = Account(
        others=[other_task("received", "processing-in-progress", "processing-completed")]
    )
    out = io.StringIO()
    progress = make_progress(out, tty=False, wall_clock=clock)
    report = apply_over_http(account, clock, update(datasetSizeInGb=2), progress=progress)
    assert report.done[0].status == "done"
    assert account.writes == [("PUT", DB_PATH)]
    lines = [line.split(": ", 1)[1] for line in out.getvalue().splitlines()]
    assert lines[3] == "sending PUT (0s)"  # the quiet state is not shown
    assert lines[:3] == [
        "started",
        "waiting: another run's task o-1 (databaseUpdateRequest, received) is unfinished (0s)",
        "waiting: another run's task o-1 (databaseUpdateRequest, processing-in-progress) is "
        "unfinished (0s)",
    ]
    sub = f"/subscriptions/{SID}"
    assert account.reads[:7] == [sub, DB_PATH, "/tasks", "/tasks", "/tasks", sub, DB_PATH]


def test_other_runs_are_looked_for_once_per_subscription(clock: StepClock) -> None:
    account = Account()
    apply_over_http(account, clock, update(datasetSizeInGb=2), update(datasetSizeInGb=3))
    assert account.reads.count("/tasks") == 1
    assert account.writes == [("PUT", DB_PATH)] * 2


def test_told_not_to_wait_apply_refuses_at_once_naming_the_task(clock: StepClock) -> None:
    account = Account(others=[other_task("processing-in-progress")])
    message = failure(account, clock, update(datasetSizeInGb=2), wait_for_others=False)
    assert message == (
        f"update sessions (db {DB}): subscription {SID} is busy: another run's task o-1 "
        "(databaseUpdateRequest, processing-in-progress) is unfinished; not waiting "
        "(--no-wait-for-others); run apply again once it is done"
    )
    assert account.writes == []
    assert clock.elapsed == 0


def test_a_task_that_never_finishes_is_waited_for_at_most_the_busy_timeout(
    clock: StepClock,
) -> None:
    account = Account(others=[other_task("received"), other_task("received")])
    message = failure(account, clock, update(datasetSizeInGb=2), busy_timeout=300)
    assert message == (
        f"update sessions (db {DB}): timed out after 300s waiting for subscription {SID} to be "
        "free of other runs' tasks; last state seen: waiting: another run's task o-1 "
        "(databaseUpdateRequest, received) is unfinished (and 1 more)"
    )
    assert account.writes == []
    assert clock.elapsed == pytest.approx(300)


class NoTaskList(Account):
    """An account whose ``GET /tasks`` answers 404."""

    def reply(self, seen: Seen) -> Reply:
        if seen.method == "GET" and seen.route == "/tasks":
            self.reads.append(seen.route)
            return Reply(404, None, content_type=None)
        return super().reply(seen)


def test_tasks_that_cannot_be_listed_are_not_waited_for(clock: StepClock) -> None:
    account = NoTaskList(others=[other_task("received")])
    report = apply_over_http(account, clock, update(datasetSizeInGb=2))
    assert report.done[0].status == "done"
    assert account.reads.count("/tasks") == 1


# -------------------------------------------------------------------- a delete someone else did


def test_a_delete_whose_task_fails_because_someone_else_deleted_it_is_done(
    clock: StepClock,
) -> None:
    account = Account()
    account.before_write = lambda seen: account.dbs.pop(DB, None)  # theirs was processed first
    report = apply_over_http(account, clock, delete())
    outcome = report.done[0]
    assert (outcome.status, outcome.note, outcome.task_id) == (
        "done",
        "already deleted by someone else",
        "t-1",
    )


def test_a_delete_answered_404_because_someone_else_deleted_it_is_done(clock: StepClock) -> None:
    account = Account()
    gone = {"error": {"type": "DATABASE_NOT_FOUND", "description": "Database 70 not found"}}
    account.refusals = [Reply(404, gone)]
    account.before_write = lambda seen: account.dbs.pop(DB, None)
    report = apply_over_http(account, clock, delete())
    assert (report.done[0].status, report.done[0].note) == (
        "done",
        "already deleted by someone else",
    )


class DeletedAfterReads(Account):
    """Once ``deleting`` reads are scripted, the database is gone after the last of them."""

    def reply(self, seen: Seen) -> Reply:
        answer = super().reply(seen)
        if seen.method == "GET" and seen.route == DB_PATH and self.statuses.get(DB) == []:
            self.dbs.pop(DB, None)
        return answer


def test_a_delete_refused_while_someone_elses_delete_runs_is_done(clock: StepClock) -> None:
    account = DeletedAfterReads(refusals=[Reply(409, None, content_type=None)])
    account.before_write = lambda seen: account.statuses.update({DB: ["deleting", "deleting"]})
    report = apply_over_http(account, clock, delete())
    assert (report.done[0].status, report.done[0].note) == (
        "done",
        "already deleted by someone else",
    )
    assert account.writes == [("DELETE", DB_PATH)]


class FailingDeletes(Account):
    """An account whose delete tasks fail, leaving the database in place."""

    def _apply(self, seen: Seen) -> tuple[str, dict[str, Any]]:
        error = {"type": "GENERAL_ERROR", "status": "500 INTERNAL_SERVER_ERROR"}
        return "databaseDeleteRequest", {"error": {**error, "description": "contact support"}}


def test_a_delete_task_failing_while_the_database_is_still_there_fails(clock: StepClock) -> None:
    message = failure(FailingDeletes(), clock, delete())
    assert message == (
        f"delete sessions (db {DB}): task t-1 failed: 500 INTERNAL_SERVER_ERROR GENERAL_ERROR: "
        "contact support"
    )


# -------------------------------------------------------------------- the simulator

PROD, SESSIONS, LEGACY = 2001234, 51170941, 51170942
SESSIONS_PATH = f"/subscriptions/{PROD}/databases/{SESSIONS}"
LEGACY_PATH = f"/subscriptions/{PROD}/databases/{LEGACY}"


def sim_update(size: int) -> PlannedAction:
    request = ApiRequest("PUT", SESSIONS_PATH, {"datasetSizeInGb": size})
    return PlannedAction(ActionKind.UPDATE, PROD, SESSIONS, "sessions", (), request)


def test_two_runs_on_the_simulator_one_waits_for_the_others_task(
    make_simulator: Callable[..., RunningSimulator],
    sim_api: Callable[..., Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, "reconciler.apply")
    clock = StepClock()
    running = make_simulator(task_seconds=20.0, provision_seconds=30.0, clock=clock)
    other = sim_api(running)
    assert other.put(SESSIONS_PATH, {"datasetSizeInGb": 2}).status_code == 200
    clock.sleep(3.0)  # the simulator lists a task 2 s (0.1 of its length) after it is sent
    with ApiClient(running.url, running.api_key, running.api_secret, clock=clock) as client:
        plan = Plan(subscriptions=(), actions=(sim_update(3),))
        report = apply_plan(plan, client, clock=clock, sleep=clock.sleep, wall_clock=clock)
    assert report.done[0].status == "done"
    assert report.done[0].note == ""
    theirs = other.get("/tasks").json()["tasks"][0]["taskId"]
    assert (
        f"waiting: another run's task {theirs} (databaseUpdateRequest, received) is unfinished; "
        f"subscription {PROD} not written to yet"
    ) in caplog.messages
    assert other.get(SESSIONS_PATH).json()["datasetSizeInGb"] == 3


def test_a_delete_racing_another_runs_delete_on_the_simulator_is_done(
    make_simulator: Callable[..., RunningSimulator], sim_api: Callable[..., Any]
) -> None:
    clock = StepClock()
    running = make_simulator(task_seconds=20.0, provision_seconds=30.0, clock=clock)
    other = sim_api(running)

    theirs: list[int] = []

    class TheirsFirst(ApiClient):
        """Another run's delete of the same database is sent just before ours (once)."""

        def write(self, method: str, path: str, body: Any = None) -> Any:
            if not theirs:
                theirs.append(other.delete(path).status_code)
            return super().write(method, path, body)

    action = PlannedAction(
        ActionKind.DELETE, PROD, LEGACY, "legacy-cache", (), ApiRequest("DELETE", LEGACY_PATH)
    )
    with TheirsFirst(running.url, running.api_key, running.api_secret, clock=clock) as client:
        plan = Plan(subscriptions=(), actions=(action,))
        report = apply_plan(plan, client, clock=clock, sleep=clock.sleep, wall_clock=clock)
    outcome = report.done[0]
    assert theirs == [200]
    assert (outcome.status, outcome.note) == ("done", "already deleted by someone else")
    # The simulator refuses ours with a 409 while theirs is queued (no task of ours), or,
    # had ours been queued too, fails its task with DATABASE_NOT_FOUND: done either way.
    tasks = other.get("/tasks").json()["tasks"]
    ours = [task for task in tasks if task["taskId"] == outcome.task_id]
    assert all(t["response"]["error"]["type"] == "DATABASE_NOT_FOUND" for t in ours)
    assert other.get(LEGACY_PATH).status_code == 404


SPEC = """\
version: 1
subscriptions:
  - id: 2001234
    databases:
      - name: legacy-cache
        state: absent
        lifecycle: {backupBeforeDelete: false}
"""


@pytest.mark.parametrize(
    ("flags", "code", "last"),
    [
        (
            ["--no-wait-for-others"],
            1,
            "error: delete legacy-cache (db 51170942): subscription 2001234 is busy: another "
            "run's task {task} (databaseUpdateRequest, received) is unfinished; not waiting "
            "(--no-wait-for-others); run apply again once it is done",
        ),
        (
            ["--busy-timeout", "10s"],
            1,
            "error: delete legacy-cache (db 51170942): timed out after 10s waiting for "
            "subscription 2001234 to be free of other runs' tasks; last state seen: waiting: "
            "another run's task {task} (databaseUpdateRequest, processing-in-progress) is "
            "unfinished",
        ),
        ([], 0, "Done (1): delete legacy-cache (db 51170942)"),
    ],
    ids=["no-wait", "busy-timeout", "wait"],
)
def test_the_apply_command_waits_for_others_or_not(
    flags: list[str],
    code: int,
    last: str,
    make_simulator: Callable[..., RunningSimulator],
    sim_api: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    clock = StepClock()
    running = make_simulator(task_seconds=30.0, provision_seconds=5.0, clock=clock)
    monkeypatch.setenv("REDIS_API_KEY", running.api_key)
    monkeypatch.setenv("REDIS_API_SECRET", running.api_secret)
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    answer = sim_api(running).put(SESSIONS_PATH, {"datasetSizeInGb": 2})
    clock.sleep(5.0)  # listed from 3 s, received until 9 s, processed until 30 s
    runtime = Runtime(clock=clock, sleep=clock.sleep, wall_clock=clock, backoff_factor=0.0)
    argv = ["apply", str(spec), "--yes", *flags, "--api-url", running.url]
    assert cli.main(argv, runtime) == code
    out, err = capsys.readouterr()
    lines = (err if code else out).strip().splitlines()
    assert lines[-1] == last.format(task=answer.json()["taskId"])
