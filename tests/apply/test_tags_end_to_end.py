"""Database tags end to end: ``reconciler plan`` / ``apply`` against the shared fake API.

The fake account below answers the calls the tags feature makes (the subscription, the
database list, one database, ``GET``/``PUT …/tags``, a create and its task), so the whole
command line runs over loopback HTTP and every request is counted.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fake_api import FakeApi, Reply, Seen

from reconciler import cli
from reconciler.cli import Runtime

SID = 2001234
SUB = f"/subscriptions/{SID}"
DBS = f"{SUB}/databases"


class Clock:
    """A clock that moves only when slept on."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += max(0.0, seconds)


class Account:
    """One subscription; databases ``sessions`` (db 1, tagged) and ``cache`` (db 2)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.dbs: dict[int, dict[str, Any]] = {
            1: {"databaseId": 1, "name": "sessions", "status": "active", "protocol": "redis"},
            2: {"databaseId": 2, "name": "cache", "status": "active", "protocol": "redis"},
        }
        self.tags: dict[int, list[dict[str, str]]] = {
            1: [{"key": "env", "value": "prod"}, {"key": "old", "value": "yes"}]
        }
        self.tasks: dict[str, dict[str, Any]] = {}

    def reply(self, seen: Seen) -> Reply:
        with self.lock:
            return self._reply(seen)

    def _reply(self, seen: Seen) -> Reply:
        route, method = seen.route, seen.method
        if (method, route) == ("GET", SUB):
            return Reply(200, {"id": SID, "name": "prod", "status": "active"})
        if (method, route) == ("GET", DBS):
            return self._page(int(seen.query["offset"]))
        if (method, route) == ("POST", DBS):
            return self._create(seen.json())
        if (method, route) == ("GET", "/logs"):  # plan reads who changed what: nobody
            return Reply(200, {"entries": []})
        if (method, route) == ("GET", "/tasks"):  # apply looks for other runs' tasks
            return Reply(200, {"tasks": list(self.tasks.values())})
        if route.startswith("/tasks/"):
            return Reply(200, self.tasks[route.removeprefix("/tasks/")])
        parts = route.removeprefix(DBS + "/").split("/")
        db_id = int(parts[0])
        if db_id not in self.dbs:
            return Reply(404, {"error": {"type": "DATABASE_NOT_FOUND"}})
        if parts[1:] == ["tags"]:
            return self._tags(method, db_id, seen)
        return Reply(200, self.dbs[db_id])

    def _page(self, offset: int) -> Reply:
        if offset:
            return Reply(404, None)
        block = {
            "subscriptionId": SID,
            "numberOfDatabases": len(self.dbs),
            "databases": list(self.dbs.values()),
        }
        return Reply(200, {"accountId": 1, "subscription": [block]})

    def _create(self, body: dict[str, Any]) -> Reply:
        db_id = max(self.dbs) + 1
        self.dbs[db_id] = {**body, "databaseId": db_id, "status": "active"}  # read back as sent
        task = {
            "taskId": f"task-{db_id}",
            "commandType": "databaseCreateRequest",
            "status": "processing-completed",
            "response": {"resourceId": db_id},
        }
        self.tasks[task["taskId"]] = task
        return Reply(202, {"taskId": task["taskId"], "status": "received"})

    def _tags(self, method: str, db_id: int, seen: Seen) -> Reply:
        if method == "PUT":
            self.tags[db_id] = [{"key": t["key"], "value": t["value"]} for t in seen.json()["tags"]]
        listed = self.tags.get(db_id)
        body: dict[str, Any] = {"accountId": 1, "links": []}
        if listed is not None:  # a database never tagged answers without "tags"
            body["tags"] = [{**t, "createdAt": "2026-01-01T00:00:00Z"} for t in listed]
        return Reply(200, body)


@pytest.fixture
def account() -> Account:
    return Account()


@pytest.fixture
def api(account: Account, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeApi]:
    monkeypatch.setenv("REDIS_API_KEY", "key")
    monkeypatch.setenv("REDIS_API_SECRET", "secret")
    monkeypatch.setenv("NO_COLOR", "1")
    with FakeApi(account.reply) as fake:
        yield fake


def run(capsys: pytest.CaptureFixture[str], api: FakeApi, *argv: str) -> tuple[int, str]:
    clock = Clock()
    runtime = Runtime(clock=clock, sleep=clock.sleep, wall_clock=clock, backoff_factor=0.0)
    code = cli.main([*argv, "--api-url", api.url], runtime)
    out, err = capsys.readouterr()
    return code, out + err


def spec(folder: Path, databases: str) -> str:
    path = folder / "prod.yaml"
    path.write_text(f"version: 1\nsubscriptions:\n  - id: {SID}\n    databases:\n{databases}")
    return str(path)


TAGGED = """\
      - name: sessions
        tags: {env: staging, team: payments}
      - name: cache
      - name: reports
        datasetSizeInGb: 1
        tags: {team: reports}
"""

TEXT_PLAN = f"""\
Subscription {SID} "prod" — 2 databases live, 3 in spec

  # tag sessions (db 1)
      tags.env              prod → staging
      tags.old              yes → (unset)
      tags.team             (unset) → payments
  + create reports
      datasetSizeInGb       1
  # tag reports     the create call does not take tags
      tags.team             reports

Plan: 1 to create, 0 to update, 2 to tag, 0 to delete, 0 backups.
"""


def tag_requests(api: FakeApi) -> list[str]:
    return [f"{s.method} {s.route}" for s in api.seen if s.route.endswith("/tags")]


def test_text_plan_shows_tag_changes_and_reads_only_managed_tags(
    api: FakeApi, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out = run(capsys, api, "plan", spec(tmp_path, TAGGED))
    assert (code, out) == (0, TEXT_PLAN)
    assert tag_requests(api) == [f"GET {DBS}/1/tags"]  # cache's spec has no tags; reports is new


def test_json_plan_holds_the_tag_action_and_its_request(
    api: FakeApi, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out = run(capsys, api, "plan", spec(tmp_path, TAGGED), "--format", "json")
    document = json.loads(out)
    assert code == 0
    assert document["summary"]["tag"] == 2
    first, _, last = document["actions"]
    assert first == {
        "action": "tag",
        "subscriptionId": SID,
        "databaseId": 1,
        "name": "sessions",
        "reason": "",
        "changes": [
            {"path": "tags.env", "before": "prod", "after": "staging", "sensitive": False},
            {"path": "tags.old", "before": "yes", "after": None, "sensitive": False},
            {"path": "tags.team", "before": None, "after": "payments", "sensitive": False},
        ],
        "request": {
            "method": "PUT",
            "path": f"{DBS}/1/tags",
            "body": {
                "tags": [{"key": "env", "value": "staging"}, {"key": "team", "value": "payments"}]
            },
        },
    }
    assert last["request"] == {
        "method": "PUT",
        "path": f"{DBS}/{{databaseId}}/tags",
        "body": {"tags": [{"key": "team", "value": "reports"}]},
    }


def test_markdown_plan_lists_tag_changes(
    api: FakeApi, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out = run(capsys, api, "plan", spec(tmp_path, TAGGED), "--format", "markdown")
    assert code == 0
    assert "| tag | 2 |" in out
    row = (
        "| \\# | tag | sessions (db 1) | `tags.env`: prod → staging<br>`tags.old`: yes → (unset)"
        "<br>`tags.team`: (unset) → payments |"
    )
    assert row in out.splitlines()


def test_apply_sets_tags_without_tasks_then_converges(
    api: FakeApi, account: Account, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = spec(tmp_path, TAGGED)
    code, _ = run(capsys, api, "apply", path, "--yes")
    assert code == 0
    assert account.tags[1] == [
        {"key": "env", "value": "staging"},
        {"key": "team", "value": "payments"},
    ]
    assert account.tags[3] == [{"key": "team", "value": "reports"}]
    assert tag_requests(api) == [
        f"GET {DBS}/1/tags",  # the plan's read
        f"PUT {DBS}/1/tags",
        f"GET {DBS}/1/tags",  # the check
        f"PUT {DBS}/3/tags",  # the new database, after its create
        f"GET {DBS}/3/tags",
    ]
    assert [s.route for s in api.seen if s.route.startswith("/tasks/")] == ["/tasks/task-3"]
    api.seen.clear()
    code, out = run(capsys, api, "plan", path, "--detailed-exitcode")
    assert (code, out.splitlines()[-1]) == (0, "No changes. The live account matches the spec.")
    assert tag_requests(api) == [f"GET {DBS}/1/tags", f"GET {DBS}/3/tags"]


def test_empty_tags_clear_every_tag(
    api: FakeApi, account: Account, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = spec(tmp_path, "      - name: sessions\n        tags: {}\n")
    code, _ = run(capsys, api, "apply", path, "--yes")
    assert code == 0
    assert account.tags[1] == []
    puts = [s.json() for s in api.seen if s.method == "PUT"]
    assert puts == [{"tags": []}]


def test_a_spec_without_tags_sends_no_tag_request(
    api: FakeApi, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = spec(
        tmp_path, "      - name: sessions\n      - name: reports\n        datasetSizeInGb: 1\n"
    )
    code, _ = run(capsys, api, "apply", path, "--yes")
    assert code == 0
    assert tag_requests(api) == []
