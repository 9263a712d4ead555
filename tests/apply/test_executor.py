"""Tests for reconciler.apply.executor, against an in-memory fake API and a fake clock.

The fake answers GETs from the stored account, with per-path status *scripts* consumed one
per GET (``"404"`` answers Not Found); when a script runs out its last entry becomes the
stored state. Tasks move through their script one GET at a time; the first time a task is
seen ``processing-completed`` its effect is applied. Writes can be given faults. Time only
moves when the executor sleeps, so nothing here waits.
"""

from __future__ import annotations

import copy
import io
import json
import logging
from collections.abc import Mapping
from typing import Any

import pytest

from reconciler.apply.executor import apply_plan
from reconciler.apply.progress import NullProgress, make_progress
from reconciler.apply.report import ActionOutcome, ApplyReport, iso_utc
from reconciler.errors import (
    ApiUnavailableError,
    ApplyFailedError,
    ApplyInterruptedError,
    AuthenticationError,
    ConflictError,
    NotFoundError,
    UnknownOutcomeError,
)
from reconciler.plan import NEW_DATABASE_ID, ActionKind, ApiRequest, Plan, PlannedAction
from reconciler.secrets import Secret, reveal

SID = 2001234
DB = 51170941
NEW_ID = 51170960
START = 1795788185.0  # 2026-11-27T14:03:05Z
SUB_PATH = f"/subscriptions/{SID}"
DB_PATH = f"{SUB_PATH}/databases/{DB}"
NEW_PATH = f"{SUB_PATH}/databases/{NEW_ID}"
CANARY = "canary-password-7f3a9c"

_COMMANDS = {
    ("POST", "databases"): "databaseCreateRequest",
    ("PUT", "db"): "databaseUpdateRequest",
    ("DELETE", "db"): "databaseDeleteRequest",
    ("POST", "backup"): "databaseBackupRequest",
    ("POST", "import"): "databaseImportRequest",
    ("POST", "upgrade"): "databaseUpgradeRequest",
}
_AFTER = {  # database statuses after each kind of task completes
    "databaseCreateRequest": ["pending", "active"],
    "databaseUpdateRequest": ["active-change-pending", "active"],
    "databaseDeleteRequest": ["deleting", "404"],
    "databaseUpgradeRequest": ["active-upgrade-pending", "active"],
    "databaseBackupRequest": ["active"],
    "databaseImportRequest": ["importing", "active"],
}
_SECURITY = {
    "password": "password",
    "enableDefaultUser": "enableDefaultUser",
    "sourceIp": "sourceIps",
}


class FakeClock:
    """A clock whose sleep advances it; also the wall clock (POSIX seconds)."""

    def __init__(self) -> None:
        self.now = START
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.slept.append(seconds)
        self.now += seconds


def db_raw(db_id: int = DB, name: str = "sessions", **fields: Any) -> dict[str, Any]:
    """Return a database in the API's read shape."""
    raw: dict[str, Any] = {
        "databaseId": db_id,
        "name": name,
        "protocol": "redis",
        "status": "active",
        "redisVersion": "7.4",
        "datasetSizeInGb": 1,
        "dataPersistence": "aof-every-1-second",
        "dataEvictionPolicy": "volatile-lru",
        "replication": True,
        "security": {
            "password": "seed-sessions-password-0000000001",
            "enableDefaultUser": True,
            "sourceIps": ["0.0.0.0/0"],
        },
        "alerts": [],
    }
    raw.update(fields)
    return raw


class FakeApi:
    """An in-memory account speaking the ApiClient interface."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.subscription: dict[str, Any] = {"id": SID, "name": "prod", "status": "active"}
        self.dbs: dict[int, dict[str, Any]] = {DB: db_raw()}
        self.scripts: dict[str, list[str]] = {}
        self.tasks: dict[str, dict[str, Any]] = {}
        self.next_tasks: list[dict[str, Any]] = []  # {"script": [...], "error": ...} per task
        self.write_faults: list[str] = []
        self.ignore_updates = False
        self.list_tasks = True
        self.calls: list[tuple[str, str]] = []
        self.bodies: list[Any] = []
        self.next_db_id = NEW_ID
        self.on_get: Any = None

    # ---------------------------------------------------------------- ApiClient interface

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        self.calls.append(("GET", path))
        if self.on_get is not None:
            self.on_get(path)
        if path == SUB_PATH:
            status = self._scripted(path) or self.subscription["status"]
            return {**self.subscription, "status": status}
        if path == f"{SUB_PATH}/databases":
            return self._page(params or {})
        if path == "/tasks":
            if not self.list_tasks:
                raise NotFoundError("GET", path, 404)
            return {"tasks": [self._task_view(t) for t in self.tasks.values()]}
        if path.startswith("/tasks/"):
            return self._get_task(path, path.removeprefix("/tasks/"))
        return self._get_db(path, int(path.rsplit("/", 1)[1]))

    def write(self, method: str, path: str, body: Any = None) -> Any:
        self.calls.append((method, path))
        self.bodies.append(body)
        fault = self.write_faults.pop(0) if self.write_faults else "ok"
        if fault == "lost-before":
            raise UnknownOutcomeError(method, path, 0, "", "connection reset after sending")
        if fault == "409":
            raise ConflictError(method, path, 409, "DATABASE_NOT_ACTIVE", "not active")
        if fault == "409-name":
            raise ConflictError(method, path, 409, "DATABASE_NAME_EXISTS", "name exists")
        if fault == "403":
            raise AuthenticationError(method, path, 403, "SUBSCRIPTION_NOT_ACTIVE", "pending")
        task = self._new_task(method, path, reveal(body))
        if fault == "lost-after-done":
            task["script"] = ["processing-completed"]
            self._advance(task)
        if fault.startswith("lost-after"):
            raise UnknownOutcomeError(method, path, 502, "", "bad gateway")
        return {k: task[k] for k in ("taskId", "commandType", "status", "timestamp")}

    # ---------------------------------------------------------------- counting

    def count(self, method: str, path: str | None = None) -> int:
        return sum(1 for m, p in self.calls if m == method and (path is None or p == path))

    def writes(self) -> list[tuple[str, str]]:
        return [(m, p) for m, p in self.calls if m != "GET"]

    # ---------------------------------------------------------------- internals

    def _scripted(self, path: str) -> str | None:
        script = self.scripts.get(path)
        if not script:
            return None
        status = script.pop(0)
        if not script:
            del self.scripts[path]
            self._settle(path, status)
        return status

    def _settle(self, path: str, status: str) -> None:
        if path == SUB_PATH:
            self.subscription["status"] = status
            return
        db_id = int(path.rsplit("/", 1)[1])
        if status == "404":
            self.dbs.pop(db_id, None)
        elif db_id in self.dbs:
            self.dbs[db_id]["status"] = status

    def _get_db(self, path: str, db_id: int) -> dict[str, Any]:
        status = self._scripted(path)
        if status == "404" or db_id not in self.dbs:
            raise NotFoundError("GET", path, 404)
        raw = copy.deepcopy(self.dbs[db_id])
        if status is not None:
            raw["status"] = status
        return raw

    def _page(self, params: Mapping[str, Any]) -> dict[str, Any]:
        if params.get("offset", 0) > 0:
            raise NotFoundError("GET", f"{SUB_PATH}/databases", 404)
        listed = [{k: v for k, v in d.items() if k != "security"} for d in self.dbs.values()]
        return {"subscription": [{"subscriptionId": SID, "databases": listed}]}

    def _new_task(self, method: str, path: str, body: Any) -> dict[str, Any]:
        tail = path.rsplit("/", 1)[1]
        key = "databases" if tail == "databases" else tail if not tail.isdigit() else "db"
        spec = self.next_tasks.pop(0) if self.next_tasks else {}
        task_id = f"t-{len(self.tasks) + 1}"
        task = {
            "taskId": task_id,
            "commandType": _COMMANDS[(method, key)],
            "status": "received",
            "timestamp": iso_utc(self.clock.now).replace("Z", ".123456Z"),
            "script": list(spec.get("script", ["received", "processing-in-progress", TASK_DONE])),
            "error": spec.get("error"),
            "path": path,
            "body": body,
            "applied": False,
        }
        self.tasks[task_id] = task
        return task

    def _get_task(self, path: str, task_id: str) -> dict[str, Any]:
        task = self.tasks.get(task_id)
        if task is None:
            raise NotFoundError("GET", path, 404)
        if task["script"][0] == "404":
            task["script"].pop(0)
            raise NotFoundError("GET", path, 404)
        self._advance(task)
        return self._task_view(task)

    def _advance(self, task: dict[str, Any]) -> None:
        task["status"] = task["script"].pop(0) if len(task["script"]) > 1 else task["script"][0]
        if task["status"] == "processing-error":
            task["response"] = {"error": task["error"]} if task["error"] is not None else {}
        if task["status"] == TASK_DONE and not task["applied"]:
            task["applied"] = True
            task["response"] = self._apply(task)

    def _task_view(self, task: dict[str, Any]) -> dict[str, Any]:
        keys = ("taskId", "commandType", "status", "timestamp", "response")
        view = {k: task[k] for k in keys if k in task}
        view["description"] = "Task request failed during processing."
        return view

    def _apply(self, task: dict[str, Any]) -> dict[str, Any]:
        kind, path, body = task["commandType"], task["path"], task["body"] or {}
        if kind == "databaseCreateRequest":
            db_id, self.next_db_id = self.next_db_id, self.next_db_id + 1
            self.dbs[db_id] = db_raw(db_id, body["name"])
            self._update(db_id, body)
            self.scripts[f"{SUB_PATH}/databases/{db_id}"] = list(_AFTER[kind])
            self.scripts[SUB_PATH] = ["pending", "active"]
            return {"resourceId": db_id}
        db_path = (
            path.rsplit("/", 1)[0] if kind in _AFTER and not path.split("/")[-1].isdigit() else path
        )
        db_id = int(db_path.rsplit("/", 1)[1])
        if kind == "databaseUpdateRequest" and not self.ignore_updates:
            self._update(db_id, body)
        if kind == "databaseUpgradeRequest" and not self.ignore_updates:
            self.dbs[db_id]["redisVersion"] = body["targetRedisVersion"]
        self.scripts[db_path] = list(_AFTER[kind])
        return {"resourceId": db_id}

    def _update(self, db_id: int, body: Mapping[str, Any]) -> None:
        raw = self.dbs[db_id]
        for field, value in body.items():
            if field in _SECURITY:
                raw["security"][_SECURITY[field]] = value
            elif field != "name":
                raw[field] = value


TASK_DONE = "processing-completed"


# -------------------------------------------------------------------- plan builders


def act(
    kind: ActionKind, name: str, db_id: int | None, method: str, path: str, body: Any = None
) -> PlannedAction:
    return PlannedAction(kind, SID, db_id, name, (), ApiRequest(method, path, body))


def update(body: Mapping[str, Any], db_id: int = DB, name: str = "sessions") -> PlannedAction:
    return act(ActionKind.UPDATE, name, db_id, "PUT", f"{SUB_PATH}/databases/{db_id}", dict(body))


def create(name: str = "reports", **body: Any) -> PlannedAction:
    return act(
        ActionKind.CREATE, name, None, "POST", f"{SUB_PATH}/databases", {"name": name, **body}
    )


def follow_up(name: str = "reports", **body: Any) -> PlannedAction:
    path = f"{SUB_PATH}/databases/{NEW_DATABASE_ID}"
    return act(ActionKind.UPDATE, name, None, "PUT", path, body)


def import_(name: str = "reports") -> PlannedAction:
    body = {"sourceType": "aws-s3", "importFromUri": ["s3://seed/reports.rdb"]}
    path = f"{SUB_PATH}/databases/{NEW_DATABASE_ID}/import"
    return act(ActionKind.IMPORT, name, None, "POST", path, body)


def backup(db_id: int = DB, name: str = "sessions") -> PlannedAction:
    path = f"{SUB_PATH}/databases/{db_id}/backup"
    return act(
        ActionKind.BACKUP, name, db_id, "POST", path, {"adhocBackupPath": "s3://backups/adhoc"}
    )


def upgrade(version: str = "8.2", db_id: int = DB, name: str = "sessions") -> PlannedAction:
    path = f"{SUB_PATH}/databases/{db_id}/upgrade"
    return act(ActionKind.UPGRADE, name, db_id, "POST", path, {"targetRedisVersion": version})


def delete(db_id: int = DB, name: str = "sessions") -> PlannedAction:
    return act(ActionKind.DELETE, name, db_id, "DELETE", f"{SUB_PATH}/databases/{db_id}")


def plan_of(*actions: PlannedAction) -> Plan:
    return Plan(subscriptions=(), actions=tuple(actions))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def api(clock: FakeClock) -> FakeApi:
    return FakeApi(clock)


def run(api: FakeApi, *actions: PlannedAction, **options: Any) -> ApplyReport:
    clock = api.clock
    return apply_plan(
        plan_of(*actions), api, clock=clock, sleep=clock.sleep, wall_clock=clock, **options
    )


def failure(api: FakeApi, *actions: PlannedAction, **options: Any) -> ApplyFailedError:
    with pytest.raises(ApplyFailedError) as caught:
        run(api, *actions, **options)
    return caught.value


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
    api: FakeApi, action: PlannedAction, write: tuple[str, str]
) -> None:
    report = run(api, action)
    assert api.writes() == [write]
    assert [o.status for o in report.done] == ["done"]
    assert report.done[0].task_id == "t-1"
    assert report.failed is None and report.not_started == []
    assert report.status == "applied"


def test_update_waits_for_the_database_and_the_subscription_after_the_task(api: FakeApi) -> None:
    run(api, update({"datasetSizeInGb": 2}))
    assert api.calls == [
        ("GET", SUB_PATH),
        ("GET", DB_PATH),
        ("GET", "/tasks"),  # no other run's task unfinished: the first write may go
        ("PUT", DB_PATH),
        ("GET", "/tasks/t-1"),
        ("GET", "/tasks/t-1"),
        ("GET", "/tasks/t-1"),
        ("GET", DB_PATH),  # active-change-pending
        ("GET", DB_PATH),  # active
        ("GET", SUB_PATH),
    ]
    assert api.dbs[DB]["datasetSizeInGb"] == 2


def test_delete_waits_until_the_database_is_gone(api: FakeApi) -> None:
    run(api, delete())
    assert DB not in api.dbs
    assert api.calls[-3:] == [("GET", DB_PATH), ("GET", DB_PATH), ("GET", SUB_PATH)]


def test_upgrade_checks_the_new_version(api: FakeApi) -> None:
    run(api, upgrade("8.2"))
    assert api.dbs[DB]["redisVersion"] == "8.2"


def test_create_then_follow_up_update_then_import_use_the_new_id(api: FakeApi) -> None:
    report = run(api, create(datasetSizeInGb=5), follow_up(enableDefaultUser=False), import_())
    assert api.writes() == [
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
    assert api.dbs[NEW_ID]["security"]["enableDefaultUser"] is False


def test_create_waits_out_the_subscription_going_pending(api: FakeApi) -> None:
    run(api, create())
    assert api.calls[-3:] == [("GET", NEW_PATH), ("GET", SUB_PATH), ("GET", SUB_PATH)]


def test_create_without_resource_id_finds_the_database_by_name(api: FakeApi) -> None:
    original = api._apply

    def apply_without_id(task: dict[str, Any]) -> dict[str, Any]:
        original(task)
        return {}

    api._apply = apply_without_id  # type: ignore[method-assign]
    report = run(api, create())
    assert report.done[0].action.database_id == NEW_ID


def test_a_follow_up_without_its_create_fails_before_sending(api: FakeApi) -> None:
    error = failure(api, follow_up(enableDefaultUser=False))
    assert str(error) == (
        "update reports: no database id for 'reports': its create has not run in this apply"
    )
    assert api.calls == []


def test_delete_of_an_already_deleted_database_is_done_with_a_note(api: FakeApi) -> None:
    del api.dbs[DB]
    report = run(api, delete())
    assert api.writes() == []
    assert report.done[0].note == "already deleted"


# -------------------------------------------------------------------- tasks


def test_early_task_404s_are_tolerated(api: FakeApi) -> None:
    api.next_tasks.append({"script": ["404", "404", "404", "received", TASK_DONE]})
    report = run(api, update({"datasetSizeInGb": 2}))
    assert api.count("GET", "/tasks/t-1") == 5
    assert report.done[0].status == "done"


def test_a_task_that_stays_unknown_fails_after_a_few_404s_and_some_seconds(api: FakeApi) -> None:
    api.next_tasks.append({"script": ["404"] * 100 + [TASK_DONE]})
    error = failure(api, update({"datasetSizeInGb": 2}))
    assert str(error) == (
        "update sessions (db 51170941): GET /tasks/t-1: HTTP 404: "
        "the task is still unknown 12s after it was accepted"
    )
    assert api.count("GET", "/tasks/t-1") == 12  # polls at 0.5, 1 … 9.5 s tolerated; 11.9 s not


def test_task_processing_error_is_surfaced_with_all_four_facts(api: FakeApi) -> None:
    error_object = {
        "type": "DATABASE_INVALID_ALERTS",
        "status": "400 BAD_REQUEST",
        "description": "Invalid alerts",
    }
    api.next_tasks += [{}, {"script": ["received", "processing-error"], "error": error_object}]
    error = failure(
        api, backup(), update({"alerts": [{"name": "dataset-size", "value": 900}]}), delete()
    )
    message = (
        "update sessions (db 51170941): "
        "task t-2 failed: 400 BAD_REQUEST DATABASE_INVALID_ALERTS: Invalid alerts"
    )
    assert str(error) == message
    failed = error.report.failed
    assert failed is not None and failed.task_id == "t-2" and failed.error is not None
    assert (failed.error.error_type, failed.error.status, failed.error.description) == (
        "DATABASE_INVALID_ALERTS",
        "400 BAD_REQUEST",
        "Invalid alerts",
    )
    assert error.report.summary_text() == "\n".join(
        [
            "Done (1): backup sessions (db 51170941)",
            f"Failed: {message}",
            "Not started (1): delete sessions (db 51170941)",
        ]
    )


def test_the_next_action_is_not_started_after_a_failure(api: FakeApi) -> None:
    api.next_tasks.append({"script": ["processing-error"], "error": "DATABASE_BACKUP_DISABLED"})
    error = failure(api, backup(), delete())
    assert api.writes() == [("POST", f"{DB_PATH}/backup")]
    assert str(error) == (
        "backup sessions (db 51170941): task t-1 failed: DATABASE_BACKUP_DISABLED: "
        "Task request failed during processing."
    )
    assert [s.label for s in error.report.not_started] == ["delete sessions (db 51170941)"]
    assert error.report.status == "failed"


@pytest.mark.parametrize(
    ("script", "message"),
    [
        (
            ["received", "processing-cancelled"],
            "failed: processing-cancelled: unexpected task status 'processing-cancelled'",
        ),
        (["processing-error"], "failed: processing-error: Task request failed during processing."),
    ],
)
def test_unknown_terminal_task_status_and_bare_error_are_failures(
    api: FakeApi, script: list[str], message: str
) -> None:
    api.next_tasks.append({"script": script})
    error = failure(api, update({"datasetSizeInGb": 2}))
    assert str(error) == f"update sessions (db 51170941): task t-1 {message}"


# -------------------------------------------------------------------- statuses


def test_unknown_pending_database_statuses_are_waited_out(api: FakeApi) -> None:
    api.scripts[DB_PATH] = ["dynamic-endpoints-creation-pending", "brand-new-status", "active"]
    out = io.StringIO()
    progress = make_progress(out, tty=False, wall_clock=api.clock)
    report = run(api, update({"datasetSizeInGb": 2}), progress=progress)
    assert report.done[0].status == "done"
    assert "database brand-new-status" in out.getvalue()


def test_database_error_status_is_a_failure(api: FakeApi) -> None:
    api.scripts[DB_PATH] = ["active-change-pending", "error"]
    error = failure(api, update({"datasetSizeInGb": 2}))
    assert str(error) == "update sessions (db 51170941): database 51170941 entered status 'error'"
    assert api.writes() == []


def test_subscription_pending_is_waited_out_before_sending(api: FakeApi) -> None:
    api.scripts[SUB_PATH] = ["pending", "encryption_key_pending", "active"]
    run(api, update({"datasetSizeInGb": 2}))
    assert api.calls[:4] == [("GET", SUB_PATH)] * 3 + [("GET", DB_PATH)]


def test_silent_no_op_is_an_error(api: FakeApi) -> None:
    api.ignore_updates = True
    error = failure(api, update({"datasetSizeInGb": 2, "dataEvictionPolicy": "allkeys-lru"}))
    assert str(error) == (
        "update sessions (db 51170941): silent no-op: fields still differ after update: "
        "datasetSizeInGb, dataEvictionPolicy (task t-1)"
    )


def test_silent_no_op_of_an_upgrade_is_an_error(api: FakeApi) -> None:
    api.ignore_updates = True
    error = failure(api, upgrade("8.2"))
    assert str(error) == (
        "upgrade sessions (db 51170941): silent no-op: redisVersion is 7.4 after the upgrade "
        "to 8.2 (task t-1)"
    )


def test_password_update_is_verified_against_the_single_get(api: FakeApi) -> None:
    report = run(api, update({"password": Secret(CANARY)}))
    assert report.done[0].status == "done"
    assert api.dbs[DB]["security"]["password"] == CANARY


def test_timeout_names_what_was_awaited_and_the_last_state(api: FakeApi) -> None:
    api.dbs[DB]["status"] = "active-change-pending"
    error = failure(api, update({"datasetSizeInGb": 2}), timeout=120)
    assert str(error) == (
        "update sessions (db 51170941): timed out after 120s waiting for database 51170941 "
        "to be active; last state seen: active-change-pending"
    )
    assert api.count("GET", DB_PATH) == 25  # at 0, 0.5, 1 … 89.0, 111.3 and 120 s
    assert api.clock.now - START == pytest.approx(120)


def test_a_short_api_outage_while_polling_is_tolerated(api: FakeApi) -> None:
    original = api.get
    outages = iter([True, True, False])

    def flaky(path: str, params: Mapping[str, Any] | None = None) -> Any:
        if path.startswith("/tasks/") and next(outages, False):
            raise ApiUnavailableError("GET", path, 503)
        return original(path, params)

    api.get = flaky  # type: ignore[method-assign]
    assert run(api, update({"datasetSizeInGb": 2})).done[0].status == "done"


# -------------------------------------------------------------------- 409 and "not active"


def test_409_not_active_is_waited_out_and_sent_again(api: FakeApi) -> None:
    api.write_faults = ["409", "403", "ok"]
    report = run(api, update({"datasetSizeInGb": 2}))
    assert api.count("PUT") == 3
    assert report.done[0].status == "done"
    assert api.dbs[DB]["datasetSizeInGb"] == 2


def test_409_name_clash_with_a_different_database_fails_at_once(api: FakeApi) -> None:
    api.dbs[NEW_ID] = db_raw(NEW_ID, "reports", datasetSizeInGb=1)
    api.write_faults = ["409-name"]
    error = failure(api, create(datasetSizeInGb=5))
    assert str(error) == (
        f"create reports (db {NEW_ID}): POST {SUB_PATH}/databases: HTTP 409, "
        "DATABASE_NAME_EXISTS: name exists; it differs from this create in: datasetSizeInGb"
    )
    assert api.count("POST") == 1


def test_409_until_the_deadline_times_out(api: FakeApi) -> None:
    api.write_faults = ["409"] * 1000
    error = failure(api, update({"datasetSizeInGb": 2}), timeout=60)
    assert str(error) == (
        f"update sessions (db 51170941): timed out after 60s waiting for PUT {DB_PATH} to be "
        "accepted; last state seen: HTTP 409 DATABASE_NOT_ACTIVE: not active"
    )


# -------------------------------------------------------------------- lost answers


def test_lost_answer_on_create_follows_the_listed_task_without_creating_again(api: FakeApi) -> None:
    api.write_faults = ["lost-after"]
    report = run(api, create(), follow_up(enableDefaultUser=False))
    assert api.count("POST") == 1
    assert report.done[0].task_id == "t-1"
    assert report.done[0].note == "answer lost; followed task t-1"
    assert api.writes()[1] == ("PUT", NEW_PATH)


def test_lost_answer_on_create_adopts_the_database_found_by_name(api: FakeApi) -> None:
    api.list_tasks = False
    api.write_faults = ["lost-after-done"]
    report = run(api, create())
    assert api.count("POST") == 1
    assert report.done[0].action.database_id == NEW_ID
    assert report.done[0].note == "answer lost; the change was in place"


def test_lost_answer_on_create_that_did_not_happen_is_sent_again(api: FakeApi) -> None:
    api.write_faults = ["lost-before"]
    report = run(api, create())
    assert api.count("POST") == 2
    assert report.done[0].note == "answer lost, no trace found; sent again"
    assert list(api.dbs) == [DB, NEW_ID]


def test_answers_lost_every_time_give_up_after_three_sends(api: FakeApi) -> None:
    api.write_faults = ["lost-before"] * 5
    error = failure(api, create())
    assert api.count("POST") == 3
    assert str(error) == (
        f"create reports: POST {SUB_PATH}/databases: connection reset after sending"
    )


def test_an_older_task_of_the_same_type_is_not_taken_for_the_lost_one(api: FakeApi) -> None:
    run(api, update({"datasetSizeInGb": 2}))  # leaves task t-1 in GET /tasks
    api.clock.now += 3600
    api.write_faults = ["lost-before"]
    run(api, update({"datasetSizeInGb": 3}))
    assert api.count("PUT") == 3


@pytest.mark.parametrize(
    ("fault", "deletes"), [("lost-after-done", 1), ("lost-after", 1), ("lost-before", 2)]
)
def test_lost_answer_on_delete(api: FakeApi, fault: str, deletes: int) -> None:
    api.list_tasks = fault == "lost-after"  # the others are found by re-reading the database
    api.write_faults = [fault]
    report = run(api, delete())
    assert api.count("DELETE") == deletes
    assert DB not in api.dbs
    assert report.done[0].status == "done"


@pytest.mark.parametrize(("fault", "puts"), [("lost-after-done", 1), ("lost-before", 2)])
def test_lost_answer_on_update(api: FakeApi, fault: str, puts: int) -> None:
    api.list_tasks = False
    api.write_faults = [fault]
    run(api, update({"datasetSizeInGb": 2}))
    assert api.count("PUT") == puts
    assert api.dbs[DB]["datasetSizeInGb"] == 2


@pytest.mark.parametrize(("fault", "posts"), [("lost-after", 1), ("lost-before", 2)])
def test_lost_answer_on_backup_follows_a_listed_task_or_sends_again(
    api: FakeApi, fault: str, posts: int
) -> None:
    api.write_faults = [fault]
    run(api, backup())
    assert api.count("POST") == posts


def test_lost_answer_on_upgrade_done_when_the_version_is_already_the_target(api: FakeApi) -> None:
    api.list_tasks = False
    api.write_faults = ["lost-after-done"]
    run(api, upgrade("8.2"))
    assert api.count("POST") == 1


# -------------------------------------------------------------------- interruption


def test_interruption_between_actions_reports_done_and_not_started(api: FakeApi) -> None:
    class StopAfterFirst(NullProgress):
        stop = False

        def action_finished(self, action: PlannedAction, outcome: ActionOutcome) -> None:
            self.stop = True

    sink = StopAfterFirst()
    with pytest.raises(ApplyInterruptedError) as caught:
        run(
            api,
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
    assert api.writes() == [("POST", f"{DB_PATH}/backup")]
    assert report.status == "interrupted"


def test_interruption_while_following_a_task_reports_the_task(api: FakeApi) -> None:
    stop_now = {"flag": False}
    api.on_get = lambda path: stop_now.update(flag=path == "/tasks/t-1")
    with pytest.raises(ApplyInterruptedError) as caught:
        run(api, update({"datasetSizeInGb": 2}), delete(), stop_requested=lambda: stop_now["flag"])
    error = caught.value
    assert api.count("GET", "/tasks/t-1") == 1  # stopped after the current request
    assert error.report.summary_text() == "\n".join(
        [
            "Done (0): nothing",
            "Interrupted: update sessions (db 51170941): stopped before it finished "
            "(task t-1, last seen: task received); re-run plan to see where it stands",
            "Not started (1): delete sessions (db 51170941)",
        ]
    )


def test_interruption_before_the_request_counts_the_action_as_not_started(api: FakeApi) -> None:
    api.scripts[SUB_PATH] = ["pending", "active"]
    with pytest.raises(ApplyInterruptedError) as caught:
        run(api, update({"datasetSizeInGb": 2}), stop_requested=lambda: api.count("GET") >= 1)
    report = caught.value.report
    assert api.writes() == []
    assert report.interrupted is None
    assert [s.label for s in report.not_started] == ["update sessions (db 51170941)"]


# -------------------------------------------------------------------- secrets and report


def test_report_progress_and_logs_never_hold_a_secret(
    api: FakeApi, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    error_object = {
        "type": "DATABASE_PASSWORD_IS_TOO_LONG",
        "status": "400 BAD_REQUEST",
        "description": f"password {CANARY} is too long",  # a server echoing it back
    }
    api.next_tasks.append({})  # the backup's task: normal
    api.next_tasks.append({"script": ["processing-error"], "error": error_object})
    out = io.StringIO()
    progress = make_progress(out, tty=False, wall_clock=api.clock)
    api.write_faults = ["ok", "lost-before"]
    error = failure(api, backup(), update({"password": Secret(CANARY)}), progress=progress)
    document = json.dumps(error.report.to_dict())
    assert CANARY not in document
    assert CANARY not in error.report.summary_text()
    assert CANARY not in str(error)
    assert CANARY not in out.getvalue()
    assert CANARY not in caplog.text
    assert "password (sensitive) is too long" in document


def test_report_to_dict_of_a_complete_run(api: FakeApi) -> None:
    report = run(api, update({"datasetSizeInGb": 2}))
    document = report.to_dict()
    assert document["formatVersion"] == 1
    assert document["status"] == "applied"
    assert document["startedAt"] == "2026-11-27T14:03:05Z"
    assert document["done"][0]["taskId"] == "t-1"
    assert document["done"][0]["action"] == "update"
    assert document["failed"] is None and document["notStarted"] == []


# -------------------------------------------------------------------- progress through apply


def test_plain_progress_of_an_update(api: FakeApi) -> None:
    out = io.StringIO()
    progress = make_progress(out, tty=False, wall_clock=api.clock)
    run(api, backup(), update({"datasetSizeInGb": 2}), progress=progress)
    lines = out.getvalue().splitlines()
    prefix = "apply 2/2 update sessions (db 51170941)"
    assert lines[-7:] == [
        f"2026-11-27T14:03:06Z {prefix}: started",
        f"2026-11-27T14:03:06Z {prefix}: sending PUT (0s)",
        f"2026-11-27T14:03:07Z {prefix}: task received (0s)",
        f"2026-11-27T14:03:07Z {prefix}: task processing-in-progress (1s)",
        f"2026-11-27T14:03:08Z {prefix}: task processing-completed (1s)",
        f"2026-11-27T14:03:08Z {prefix}: database active-change-pending (1s)",
        f"2026-11-27T14:03:08Z {prefix}: done (2s)",
    ]


def test_live_progress_of_an_update(api: FakeApi) -> None:
    out = io.StringIO()
    run(api, update({"datasetSizeInGb": 2}), progress=make_progress(out, tty=True, width=200))
    line = "\r\x1b[K[1/1] update sessions (db 51170941): "
    assert out.getvalue() == (
        f"{line}starting"
        f"{line}sending PUT (0s)"
        f"{line}task received (0s)"
        f"{line}task processing-in-progress (1s)"
        f"{line}task processing-completed (1s)"
        f"{line}database active-change-pending (1s)"
        f"{line}done (2s)\n"
    )
