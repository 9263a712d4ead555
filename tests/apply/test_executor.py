"""Tests for reconciler.apply.executor against the API simulator, on a stepping clock.

The simulator serves the example account on the test's clock; the executor's client speaks
HTTP to it through a transport that records every request. Time only moves when the
executor sleeps, so nothing here waits. Tasks take ``task_seconds`` (unknown for the first
tenth, ``received`` until 0.3 of it, then ``processing-in-progress``) and a database stays
pending ``provision_seconds`` after its task. What the simulator cannot be made to do on
cue (statuses scripted per GET, lost answers, 409s) is in test_executor_scripted.py.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from executor_support import (
    CANARY,
    DB_PATH,
    SUB_PATH,
    SimAccount,
    account_factory,
    act,
    backup,
    create,
    delete,
    follow_up,
    import_,
    update,
    upgrade,
)

from reconciler.apply.progress import NullProgress, make_progress
from reconciler.apply.report import ActionOutcome
from reconciler.errors import ApplyInterruptedError, NotFoundError
from reconciler.plan import ActionKind, PlannedAction
from reconciler.secrets import Secret
from reconciler.simulator import RunningSimulator

NEW_ID = 51180010  # the id the simulator gives the next database of the example account
NEW_PATH = f"{SUB_PATH}/databases/{NEW_ID}"
LEGACY = 51170942  # legacy-cache: no backup location


@pytest.fixture
def account_on(make_simulator: Callable[..., RunningSimulator]) -> Callable[..., SimAccount]:
    """Return a factory of example accounts, each in a simulator on its own clock."""
    return account_factory(make_simulator)


@pytest.fixture
def account(account_on: Callable[..., SimAccount]) -> SimAccount:
    """The example account; tasks and pending statuses last 1 s."""
    return account_on()


def task_polls(account: SimAccount) -> list[int]:
    """The statuses of the answers to every GET of a task, in order."""
    pairs = zip(account.calls, account.transport.statuses, strict=False)
    return [status for (method, path), status in pairs if path.startswith("/tasks/")]


# -------------------------------------------------------------------- happy paths


@pytest.mark.parametrize(
    ("action", "write"),
    [
        (update({"datasetSizeInGb": 2}), ("PUT", DB_PATH)),
        (create(datasetSizeInGb=5), ("POST", f"{SUB_PATH}/databases")),
        (backup(), ("POST", f"{DB_PATH}/backup")),
        (upgrade(), ("POST", f"{DB_PATH}/upgrade")),
        (delete(), ("DELETE", DB_PATH)),
    ],
)
def test_every_kind_of_action_is_sent_once_followed_and_done(
    account: SimAccount, action: PlannedAction, write: tuple[str, str]
) -> None:
    report = account.run(action)
    assert account.writes() == [write]
    assert [o.status for o in report.done] == ["done"]
    assert [report.done[0].task_id] == account.task_ids()
    assert report.failed is None and report.not_started == []
    assert report.status == "applied"


def test_update_waits_for_the_database_and_the_subscription_after_the_task(
    account: SimAccount,
) -> None:
    account.run(update({"datasetSizeInGb": 2}))
    [task] = account.task_ids()
    assert account.calls == [
        ("GET", SUB_PATH),
        ("GET", DB_PATH),
        ("GET", "/tasks"),  # no other run's task unfinished: the first write may go
        ("PUT", DB_PATH),
        ("GET", f"/tasks/{task}"),  # 0.5 s: processing-in-progress
        ("GET", f"/tasks/{task}"),  # 1.0 s: processing-completed
        ("GET", DB_PATH),  # active-change-pending
        ("GET", DB_PATH),  # active-change-pending
        ("GET", DB_PATH),  # active
        ("GET", SUB_PATH),
    ]
    assert account.get(DB_PATH)["datasetSizeInGb"] == 2


def test_delete_waits_until_the_database_is_gone(account: SimAccount) -> None:
    account.run(delete())
    assert account.calls[-3:] == [("GET", DB_PATH), ("GET", DB_PATH), ("GET", SUB_PATH)]
    assert account.transport.statuses[-2] == 404
    with pytest.raises(NotFoundError):
        account.get(DB_PATH)


def test_upgrade_checks_the_new_version(account: SimAccount) -> None:
    account.run(upgrade("8.2"))
    assert account.get(DB_PATH)["redisVersion"] == "8.2"


def test_create_then_follow_up_update_then_import_use_the_new_id(account: SimAccount) -> None:
    report = account.run(create(datasetSizeInGb=5), follow_up(enableDefaultUser=False), import_())
    assert account.writes() == [
        ("POST", f"{SUB_PATH}/databases"),
        ("PUT", NEW_PATH),
        ("POST", f"{NEW_PATH}/import"),
    ]
    assert [o.action.database_id for o in report.done] == [NEW_ID, NEW_ID, NEW_ID]
    assert [o.action.label for o in report.done] == [
        f"create reports (db {NEW_ID})",
        f"update reports (db {NEW_ID})",
        f"import reports (db {NEW_ID})",
    ]
    assert account.get(NEW_PATH)["security"]["enableDefaultUser"] is False


def test_a_follow_up_without_its_create_fails_before_sending(account: SimAccount) -> None:
    error = account.failure(follow_up(enableDefaultUser=False))
    assert str(error) == (
        "update reports: no database id for 'reports': its create has not run in this apply"
    )
    assert account.calls == []


def test_delete_of_an_already_deleted_database_is_done_with_a_note(account: SimAccount) -> None:
    report = account.run(delete(51170999, "ghost"))
    assert account.writes() == []
    assert report.done[0].note == "already deleted"


def test_password_update_is_verified_against_the_single_get(account: SimAccount) -> None:
    report = account.run(update({"password": Secret(CANARY)}))
    assert report.done[0].status == "done"
    assert account.get(DB_PATH)["security"]["password"] == CANARY


# -------------------------------------------------------------------- tasks and statuses


def test_early_task_404s_are_tolerated(account_on: Callable[..., SimAccount]) -> None:
    account = account_on(task_seconds=20.0)  # unknown (404) for its first 2 s
    report = account.run(update({"datasetSizeInGb": 2}))
    assert task_polls(account) == [404, 404, 404] + [200] * 12  # polls at 0.5 … 23.3 s
    assert report.done[0].status == "done"


def test_task_processing_error_is_surfaced_with_all_four_facts(account: SimAccount) -> None:
    legacy_backup = act(
        ActionKind.BACKUP, "legacy-cache", LEGACY, "POST", f"{SUB_PATH}/databases/{LEGACY}/backup"
    )
    error = account.failure(backup(), legacy_backup, delete())
    [_, task] = account.task_ids()
    description = (
        "The database has no backup location: configure remoteBackup or give adhocBackupPath"
    )
    message = (
        f"backup legacy-cache (db {LEGACY}): task {task} failed: 400 BAD_REQUEST "
        f"DATABASE_BACKUP_NOT_CONFIGURED: {description}"
    )
    assert str(error) == message
    assert account.writes() == [
        ("POST", f"{DB_PATH}/backup"),
        ("POST", f"{SUB_PATH}/databases/{LEGACY}/backup"),
    ]
    failed = error.report.failed
    assert failed is not None and failed.task_id == task and failed.error is not None
    assert (failed.error.error_type, failed.error.status, failed.error.description) == (
        "DATABASE_BACKUP_NOT_CONFIGURED",
        "400 BAD_REQUEST",
        description,
    )
    assert error.report.summary_text() == "\n".join(
        [
            "Done (1): backup sessions (db 51170941)",
            f"Failed: {message}",
            "Not started (1): delete sessions (db 51170941)",
        ]
    )
    assert error.report.status == "failed"


def test_timeout_names_what_was_awaited_and_the_last_state(
    account_on: Callable[..., SimAccount],
) -> None:
    account = account_on(provision_seconds=1000.0)
    account.client.write("PUT", DB_PATH, {"datasetSizeInGb": 3})  # pending for 1000 s
    account.clock.sleep(2.0)
    before = account.count("GET", DB_PATH)
    started = account.clock.now
    error = account.failure(update({"datasetSizeInGb": 2}), timeout=120)
    assert str(error) == (
        "update sessions (db 51170941): timed out after 120s waiting for database 51170941 "
        "to be active; last state seen: active-change-pending"
    )
    assert account.count("GET", DB_PATH) - before == 25  # at 0, 0.5, 1 … 89.0, 111.3, 120 s
    assert account.clock.now - started == pytest.approx(120)
    assert account.count("PUT") == 1  # only the one made here


# -------------------------------------------------------------------- interruption


def test_interruption_between_actions_reports_done_and_not_started(account: SimAccount) -> None:
    class StopAfterFirst(NullProgress):
        stop = False

        def action_finished(self, action: PlannedAction, outcome: ActionOutcome) -> None:
            self.stop = True

    sink = StopAfterFirst()
    with pytest.raises(ApplyInterruptedError) as caught:
        account.run(
            backup(),
            update({"datasetSizeInGb": 2}),
            delete(),
            progress=sink,
            stop_requested=lambda: sink.stop,
        )
    report = caught.value.report
    assert [o.action.label for o in report.done] == ["backup sessions (db 51170941)"]
    assert report.interrupted is None
    assert [s.label for s in report.not_started] == [
        "update sessions (db 51170941)",
        "delete sessions (db 51170941)",
    ]
    assert account.writes() == [("POST", f"{DB_PATH}/backup")]
    assert report.status == "interrupted"


def test_interruption_while_following_a_task_reports_the_task(
    account_on: Callable[..., SimAccount],
) -> None:
    account = account_on(task_seconds=2.0)  # received at the first poll (0.5 s)
    polled: list[str] = []
    account.transport.on_send = lambda method, path: polled.append(path)
    stop = lambda: any(path.startswith("/tasks/") for path in polled)  # noqa: E731
    with pytest.raises(ApplyInterruptedError) as caught:
        account.run(update({"datasetSizeInGb": 2}), delete(), stop_requested=stop)
    [task] = account.task_ids()
    assert account.count("GET", f"/tasks/{task}") == 1  # stopped after the current request
    assert caught.value.report.summary_text() == "\n".join(
        [
            "Done (0): nothing",
            "Interrupted: update sessions (db 51170941): stopped before it finished "
            f"(task {task}, last seen: task received); re-run plan to see where it stands",
            "Not started (1): delete sessions (db 51170941)",
        ]
    )


def test_interruption_before_the_request_counts_the_action_as_not_started(
    account_on: Callable[..., SimAccount],
) -> None:
    account = account_on(provision_seconds=3.0)
    account.elsewhere("POST", f"{SUB_PATH}/databases", {"name": "other"}, settle=1.0)
    with pytest.raises(ApplyInterruptedError) as caught:
        account.run(
            update({"datasetSizeInGb": 2}), stop_requested=lambda: account.count("GET") >= 1
        )
    report = caught.value.report
    assert account.calls == [("GET", SUB_PATH)]  # pending: the executor waits, sees the stop
    assert report.interrupted is None
    assert [s.label for s in report.not_started] == ["update sessions (db 51170941)"]


# -------------------------------------------------------------------- report and progress


def test_report_to_dict_of_a_complete_run(account: SimAccount) -> None:
    report = account.run(update({"datasetSizeInGb": 2}))
    document = report.to_dict()
    assert document["formatVersion"] == 1
    assert document["status"] == "applied"
    assert document["startedAt"] == "2026-11-27T14:03:05Z"
    assert document["done"][0]["taskId"] == account.task_ids()[0]
    assert document["done"][0]["action"] == "update"
    assert document["failed"] is None and document["notStarted"] == []


def test_plain_progress_of_an_update(account_on: Callable[..., SimAccount]) -> None:
    account = account_on(task_seconds=2.0)
    out = io.StringIO()
    progress = make_progress(out, tty=False, wall_clock=account.clock)
    account.run(backup(), update({"datasetSizeInGb": 2}), progress=progress)
    lines = out.getvalue().splitlines()
    prefix = "apply 2/2 update sessions (db 51170941)"
    assert lines[-6:] == [  # first task poll at 90 % of the backup's 2 s: after "received"
        f"2026-11-27T14:03:07Z {prefix}: started",
        f"2026-11-27T14:03:07Z {prefix}: sending PUT (0s)",
        f"2026-11-27T14:03:08Z {prefix}: task processing-in-progress (1s)",
        f"2026-11-27T14:03:09Z {prefix}: task processing-completed (2s)",
        f"2026-11-27T14:03:09Z {prefix}: database active-change-pending (2s)",
        f"2026-11-27T14:03:10Z {prefix}: done (3s)",
    ]


def test_live_progress_of_an_update(account_on: Callable[..., SimAccount]) -> None:
    account = account_on(task_seconds=2.0)
    out = io.StringIO()
    account.run(update({"datasetSizeInGb": 2}), progress=make_progress(out, tty=True, width=200))
    line = "\r\x1b[K[1/1] update sessions (db 51170941): "
    assert out.getvalue() == (
        f"{line}starting"
        f"{line}sending PUT (0s)"
        f"{line}task received (0s)"
        f"{line}task processing-in-progress (1s)"
        f"{line}task processing-in-progress (1s)"  # each poll repaints the line
        f"{line}task processing-completed (2s)"
        f"{line}database active-change-pending (2s)"
        f"{line}database active-change-pending (2s)"
        f"{line}done (3s)\n"
    )
