"""Tests for reconciler.apply.executor against a scripted account over HTTP, on a fake clock.

Only what the simulator (test_executor.py, test_executor_recovery.py) cannot play is here:
a subscription pending after a create that is already active, a create task without a
resource id, task errors as bare strings and unknown task statuses, unknown and ``error``
database statuses, updates the API silently ignores, a 403 ``SUBSCRIPTION_NOT_ACTIVE``, a
name clash on a database not listed, an API that does not list tasks, and a task error
echoing a secret.

:class:`ScriptedAccount` is a responder served by the shared fake API (``tests/fake_api.py``)
and spoken to through a real :class:`ApiClient`. It answers GETs from the stored account,
with per-path status *scripts* consumed one per GET (``"404"`` answers Not Found); when a
script runs out its last entry becomes the stored state. Tasks move through their script
one GET at a time; the first time a task is seen ``processing-completed`` its effect is
applied. Writes can be given faults, answered as the API would (409 and 403 error bodies,
a dropped connection, a 502). Time only moves when the executor and the client sleep, so
nothing here waits.
"""

from __future__ import annotations

import copy
import io
import json
import logging
from collections.abc import Mapping
from typing import Any

import pytest
from executor_support import (
    CANARY,
    DB,
    DB_PATH,
    SID,
    SUB_PATH,
    SteppingClock,
    backup,
    create,
    delete,
    plan_of,
    update,
    upgrade,
)
from fake_api import FakeApi, Reply, Seen

from reconciler.apply.executor import apply_plan
from reconciler.apply.progress import make_progress
from reconciler.apply.report import ApplyReport, iso_utc
from reconciler.cloud import ApiClient
from reconciler.errors import ApplyFailedError
from reconciler.plan import PlannedAction
from reconciler.secrets import Secret

NEW_ID = 51170960
NEW_PATH = f"{SUB_PATH}/databases/{NEW_ID}"

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


class _Refused(Exception):
    """An answer other than 200, raised from the internals and sent as it is."""

    def __init__(self, reply: Reply) -> None:
        super().__init__(reply.status)
        self.reply = reply


def _error(status: int, error_type: str, description: str) -> _Refused:
    return _Refused(Reply(status, {"error": {"type": error_type, "description": description}}))


def _not_found(path: str) -> _Refused:
    return _error(404, "NOT_FOUND", f"{path} not found")


class ScriptedAccount:
    """A scripted account; :meth:`reply` is the responder served by :class:`FakeApi`."""

    def __init__(self, clock: SteppingClock) -> None:
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

    # ---------------------------------------------------------------- responder

    def reply(self, seen: Seen) -> Reply:
        """Answer one request."""
        try:
            if seen.method == "GET":
                return Reply(200, self._read(seen.route, seen.query))
            return self._write(seen.method, seen.route, seen.json() if seen.body else None)
        except _Refused as refused:
            return refused.reply

    def _read(self, path: str, params: Mapping[str, Any]) -> Any:
        self.calls.append(("GET", path))
        if path == SUB_PATH:
            status = self._scripted(path) or self.subscription["status"]
            return {**self.subscription, "status": status}
        if path == f"{SUB_PATH}/databases":
            return self._page(params)
        if path == "/tasks":
            if not self.list_tasks:
                raise _not_found(path)
            return {"tasks": [self._task_view(t) for t in self.tasks.values()]}
        if path.startswith("/tasks/"):
            return self._get_task(path, path.removeprefix("/tasks/"))
        return self._get_db(path, int(path.rsplit("/", 1)[1]))

    def _write(self, method: str, path: str, body: Any = None) -> Reply:
        self.calls.append((method, path))
        self.bodies.append(body)
        fault = self.write_faults.pop(0) if self.write_faults else "ok"
        if fault == "lost-before":
            return Reply(drop=True)
        if fault == "409":
            raise _error(409, "DATABASE_NOT_ACTIVE", "not active")
        if fault == "409-name":
            raise _error(409, "DATABASE_NAME_EXISTS", "name exists")
        if fault == "403":
            raise _error(403, "SUBSCRIPTION_NOT_ACTIVE", "pending")
        task = self._new_task(method, path, body)
        if fault == "lost-after-done":
            task["script"] = ["processing-completed"]
            self._advance(task)
        if fault.startswith("lost-after"):
            return Reply(502, "bad gateway", content_type="text/plain")
        view = {k: task[k] for k in ("taskId", "commandType", "status", "timestamp")}
        return Reply(202, view)

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
            raise _not_found(path)
        raw = copy.deepcopy(self.dbs[db_id])
        if status is not None:
            raw["status"] = status
        return raw

    def _page(self, params: Mapping[str, Any]) -> dict[str, Any]:
        if int(params.get("offset", 0)) > 0:
            raise _not_found(f"{SUB_PATH}/databases")
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
            raise _not_found(path)
        if task["script"][0] == "404":
            task["script"].pop(0)
            raise _not_found(path)
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


@pytest.fixture
def clock() -> SteppingClock:
    return SteppingClock()


@pytest.fixture
def api(clock: SteppingClock) -> ScriptedAccount:
    return ScriptedAccount(clock)


def run(api: ScriptedAccount, *actions: PlannedAction, **options: Any) -> ApplyReport:
    """Apply ``actions`` to ``api`` through a real client on its clock, served over HTTP."""
    clock = api.clock
    with FakeApi(api.reply) as server:
        client = ApiClient(
            server.url, "fake-key-0001", "fake-secret-0001", sleep=clock.sleep, clock=clock
        )
        with client:
            plan = plan_of(*actions)
            return apply_plan(
                plan, client, clock=clock, sleep=clock.sleep, wall_clock=clock, **options
            )


def failure(api: ScriptedAccount, *actions: PlannedAction, **options: Any) -> ApplyFailedError:
    with pytest.raises(ApplyFailedError) as caught:
        run(api, *actions, **options)
    return caught.value


# -------------------------------------------------------------------- creates


def test_create_waits_out_the_subscription_going_pending(api: ScriptedAccount) -> None:
    run(api, create())
    assert api.calls[-3:] == [("GET", NEW_PATH), ("GET", SUB_PATH), ("GET", SUB_PATH)]


def test_create_without_resource_id_finds_the_database_by_name(api: ScriptedAccount) -> None:
    original = api._apply

    def apply_without_id(task: dict[str, Any]) -> dict[str, Any]:
        original(task)
        return {}

    api._apply = apply_without_id  # type: ignore[method-assign]
    report = run(api, create())
    assert report.done[0].action.database_id == NEW_ID


# -------------------------------------------------------------------- tasks


def test_the_next_action_is_not_started_after_a_failure(api: ScriptedAccount) -> None:
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
    api: ScriptedAccount, script: list[str], message: str
) -> None:
    api.next_tasks.append({"script": script})
    error = failure(api, update({"datasetSizeInGb": 2}))
    assert str(error) == f"update sessions (db 51170941): task t-1 {message}"


# -------------------------------------------------------------------- statuses


def test_unknown_pending_database_statuses_are_waited_out(api: ScriptedAccount) -> None:
    api.scripts[DB_PATH] = ["dynamic-endpoints-creation-pending", "brand-new-status", "active"]
    out = io.StringIO()
    progress = make_progress(out, tty=False, wall_clock=api.clock)
    report = run(api, update({"datasetSizeInGb": 2}), progress=progress)
    assert report.done[0].status == "done"
    assert "database brand-new-status" in out.getvalue()


def test_database_error_status_is_a_failure(api: ScriptedAccount) -> None:
    api.scripts[DB_PATH] = ["active-change-pending", "error"]
    error = failure(api, update({"datasetSizeInGb": 2}))
    assert str(error) == "update sessions (db 51170941): database 51170941 entered status 'error'"
    assert api.writes() == []


def test_silent_no_op_is_an_error(api: ScriptedAccount) -> None:
    api.ignore_updates = True
    error = failure(api, update({"datasetSizeInGb": 2, "dataEvictionPolicy": "allkeys-lru"}))
    assert str(error) == (
        "update sessions (db 51170941): silent no-op: fields still differ after update: "
        "datasetSizeInGb, dataEvictionPolicy (task t-1)"
    )


def test_silent_no_op_of_an_upgrade_is_an_error(api: ScriptedAccount) -> None:
    api.ignore_updates = True
    error = failure(api, upgrade("8.2"))
    assert str(error) == (
        "upgrade sessions (db 51170941): silent no-op: redisVersion is 7.4 after the upgrade "
        "to 8.2 (task t-1)"
    )


# -------------------------------------------------------------------- 409 and "not active"


def test_409_not_active_is_waited_out_and_sent_again(api: ScriptedAccount) -> None:
    api.write_faults = ["409", "403", "ok"]
    report = run(api, update({"datasetSizeInGb": 2}))
    assert api.count("PUT") == 3
    assert report.done[0].status == "done"
    assert api.dbs[DB]["datasetSizeInGb"] == 2


def test_409_name_clash_with_a_different_database_fails_at_once(api: ScriptedAccount) -> None:
    api.dbs[NEW_ID] = db_raw(NEW_ID, "reports", datasetSizeInGb=1)
    api.write_faults = ["409-name"]
    error = failure(api, create(datasetSizeInGb=5))
    assert str(error) == (
        f"create reports (db {NEW_ID}): POST {SUB_PATH}/databases: HTTP 409, "
        "DATABASE_NAME_EXISTS: name exists; it differs from this create in: datasetSizeInGb"
    )
    assert api.count("POST") == 1


# -------------------------------------------------------------------- lost answers


def test_lost_answer_on_create_adopts_the_database_found_by_name(api: ScriptedAccount) -> None:
    api.list_tasks = False
    api.write_faults = ["lost-after-done"]
    report = run(api, create())
    assert api.count("POST") == 1
    assert report.done[0].action.database_id == NEW_ID
    assert report.done[0].note == "answer lost; the change was in place"


# -------------------------------------------------------------------- secrets and report


def test_report_progress_and_logs_never_hold_a_secret(
    api: ScriptedAccount, caplog: pytest.LogCaptureFixture
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
