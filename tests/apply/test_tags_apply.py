"""Tests for applying a ``tag`` action: synchronous, no task, checked by re-reading the tags."""

from __future__ import annotations

from typing import Any

import pytest
from fake_account import StepClock
from fake_api import FakeApi, Reply, Seen, not_found

from reconciler.apply.executor import apply_plan
from reconciler.cloud import ApiClient
from reconciler.errors import ApplyFailedError
from reconciler.plan import ActionKind, ApiRequest, FieldChange, Plan, PlannedAction

SID, DB = 2001234, 7
SUB = f"/subscriptions/{SID}"
DB_PATH = f"{SUB}/databases/{DB}"
TAGS = f"{DB_PATH}/tags"


class TagApi:
    """One active database and its tags, served over HTTP; writes may be given faults, in order."""

    def __init__(self) -> None:
        self.tags: dict[str, str] = {"env": "prod"}
        self.calls: list[tuple[str, str]] = []
        self.faults: list[str] = []  # "409", "lost" (applied, answer lost), "lost-unapplied"
        self.ignore_writes = False
        self.db_status = ["active"]

    def reply(self, seen: Seen) -> Reply:
        """Answer one request."""
        self.calls.append((seen.method, seen.route))
        if seen.method == "GET":
            return self._read(seen)
        fault = self.faults.pop(0) if self.faults else ""
        if fault == "409":
            error = {"type": "DATABASE_NOT_ACTIVE", "description": "not active"}
            return Reply(409, {"error": error})
        body = seen.json()
        if not self.ignore_writes and fault != "lost-unapplied":
            self.tags = {t["key"]: t["value"] for t in body["tags"]}
        if fault.startswith("lost"):
            return Reply(drop=True)
        return Reply(200, {"accountId": 1, "tags": body["tags"]})

    def _read(self, seen: Seen) -> Reply:
        if seen.route == SUB:
            return Reply(200, {"id": SID, "status": "active"})
        if seen.route == DB_PATH:
            status = self.db_status.pop(0) if len(self.db_status) > 1 else self.db_status[0]
            return Reply(200, {"databaseId": DB, "name": "sessions", "status": status})
        if seen.route == TAGS:
            tags = [{"key": k, "value": v} for k, v in self.tags.items()]
            return Reply(200, {"accountId": 1, "tags": tags})
        return not_found(seen)


def tag_plan(tags: dict[str, str]) -> Plan:
    body = {"tags": [{"key": k, "value": v} for k, v in tags.items()]}
    changes = (FieldChange("tags.env", "prod", tags.get("env")),)
    action = PlannedAction(
        ActionKind.TAG, SID, DB, "sessions", changes, ApiRequest("PUT", TAGS, body)
    )
    return Plan((), (action,))


def run(api: TagApi, plan: Plan) -> Any:
    clock = StepClock()
    with FakeApi(api.reply) as server:
        client = ApiClient(
            server.url, "fake-key-0001", "fake-secret-0001", sleep=clock.sleep, clock=clock
        )
        with client:
            return apply_plan(plan, client, clock=clock, sleep=clock.sleep, wall_clock=clock)


def test_sent_once_no_task_then_read_back() -> None:
    api = TagApi()
    report = run(api, tag_plan({"env": "staging", "team": "payments"}))
    assert api.tags == {"env": "staging", "team": "payments"}
    assert api.calls == [
        ("GET", SUB),
        ("GET", DB_PATH),
        ("GET", "/tasks"),  # no other run's task unfinished: the first write may go
        ("PUT", TAGS),
        ("GET", TAGS),
    ]
    (done,) = report.done
    assert (done.status, done.task_id, done.note) == ("done", None, "")


def test_waits_for_the_database_to_be_active_first() -> None:
    api = TagApi()
    api.db_status = ["active-change-pending", "active"]
    run(api, tag_plan({}))
    assert api.calls == [
        ("GET", SUB),
        ("GET", DB_PATH),
        ("GET", DB_PATH),
        ("GET", "/tasks"),
        ("PUT", TAGS),
        ("GET", TAGS),
    ]
    assert api.tags == {}


def test_tags_not_taken_are_a_silent_no_op() -> None:
    api = TagApi()
    api.ignore_writes = True
    with pytest.raises(ApplyFailedError) as caught:
        run(api, tag_plan({"env": "staging", "team": "payments"}))
    failed = caught.value.report.failed
    assert failed is not None and failed.error is not None
    assert failed.error.message == "silent no-op: tags still differ after the update: env, team"


def test_a_refused_write_waits_and_is_sent_again() -> None:
    api = TagApi()
    api.faults = ["409"]
    run(api, tag_plan({"env": "staging"}))
    assert [c for c in api.calls if c[0] == "PUT"] == [("PUT", TAGS), ("PUT", TAGS)]
    assert api.tags == {"env": "staging"}


def test_a_lost_answer_whose_tags_are_in_place_is_not_sent_again() -> None:
    api = TagApi()
    api.faults = ["lost"]
    report = run(api, tag_plan({"env": "staging"}))
    assert [c for c in api.calls if c[0] == "PUT"] == [("PUT", TAGS)]
    assert not any(path.startswith("/tasks/") for _, path in api.calls)  # no task to follow
    assert report.done[0].note == "answer lost; the change was in place"


def test_a_lost_answer_without_its_tags_is_sent_again_after_the_grace() -> None:
    api = TagApi()
    api.faults = ["lost-unapplied"]
    report = run(api, tag_plan({"env": "staging"}))
    assert [c for c in api.calls if c[0] == "PUT"] == [("PUT", TAGS), ("PUT", TAGS)]
    assert not any(path.startswith("/tasks/") for _, path in api.calls)  # no task to follow
    assert api.tags == {"env": "staging"}
    assert report.done[0].note == "answer lost, no trace found; sent again"
