"""A small account served by the shared fake HTTP API, for apply tests over real HTTP.

One subscription (:data:`SID`) holding database :data:`DB` ``sessions``; a write accepted
takes effect at once and its task is ``processing-completed`` at the first look. What makes
a test is scripted on the :class:`Account`:

- ``refusals``: replies to the next writes, in order (409s and 403s of any body shape);
- ``statuses``: per database id, the statuses its next GETs answer (then ``active``);
- ``others``: tasks of another run listed by ``GET /tasks``; each holds a ``script`` of the
  statuses its next listings show (the last one stays);
- ``before_write``: called with each write before it is answered (another run acting).

``writes`` and ``reads`` record what was asked (method and path; path of each GET).

:func:`apply_over_http` runs a plan through a real :class:`ApiClient` on the fake clock.

Imported as a plain module (``from fake_account import …``): pytest's default "prepend"
import mode puts this folder on ``sys.path``.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from fake_api import FakeApi, Reply, Seen

from reconciler.apply import apply_plan
from reconciler.apply.report import ApplyReport
from reconciler.cloud import ApiClient
from reconciler.plan import ActionKind, ApiRequest, Plan, PlannedAction

SID = 7
DB = 70
NEW = 71
SUB_PATH = f"/subscriptions/{SID}"
DBS_PATH = f"{SUB_PATH}/databases"
DB_PATH = f"{DBS_PATH}/{DB}"
_DB_ROUTE = re.compile(rf"^{DBS_PATH}/(\d+)$")


def db_raw(db_id: int, name: str, **fields: Any) -> dict[str, Any]:
    """Return a database in the API's read shape."""
    raw: dict[str, Any] = {
        "databaseId": db_id,
        "name": name,
        "protocol": "redis",
        "status": "active",
        "datasetSizeInGb": 1,
        "dataPersistence": "none",
    }
    raw.update(fields)
    return raw


def task_json(task_id: str, command: str, status: str, **extra: Any) -> dict[str, Any]:
    """Return a task as ``GET /tasks`` lists it."""
    stamp = "2027-01-15T08:00:00.123456Z"
    return {
        "taskId": task_id,
        "commandType": command,
        "status": status,
        "timestamp": stamp,
        **extra,
    }


@dataclass
class Account:
    """The scripted account; :meth:`reply` is the fake API's responder."""

    dbs: dict[int, dict[str, Any]] = field(default_factory=lambda: {DB: db_raw(DB, "sessions")})
    refusals: list[Reply] = field(default_factory=list)
    statuses: dict[int, list[str]] = field(default_factory=dict)
    others: list[dict[str, Any]] = field(default_factory=list)
    before_write: Callable[[Seen], None] | None = None
    tasks: dict[str, dict[str, Any]] = field(default_factory=dict)
    writes: list[tuple[str, str]] = field(default_factory=list)
    reads: list[str] = field(default_factory=list)

    def reply(self, seen: Seen) -> Reply:
        """Answer one request."""
        if seen.method == "GET":
            self.reads.append(seen.route)
            return self._read(seen)
        self.writes.append((seen.method, seen.route))
        if self.before_write is not None:
            self.before_write(seen)
        if self.refusals:
            return self.refusals.pop(0)
        return self._accept(seen)

    # ------------------------------------------------------------------ reads

    def _read(self, seen: Seen) -> Reply:
        route = seen.route
        if route == SUB_PATH:
            return Reply(200, {"id": SID, "name": "prod", "status": "active"})
        if route == DBS_PATH:
            return self._page(int(seen.query.get("offset", "0")))
        if route == "/tasks":
            return Reply(200, {"tasks": [*self._list_others(), *self.tasks.values()]})
        if route.startswith("/tasks/"):
            task = self.tasks.get(route.removeprefix("/tasks/"))
            return Reply(200, task) if task else _not_found("ENTITY_NOT_FOUND", route)
        match = _DB_ROUTE.match(route)
        db_id = int(match.group(1)) if match else -1
        if db_id not in self.dbs:
            return _not_found("DATABASE_NOT_FOUND", route)
        raw = copy.deepcopy(self.dbs[db_id])
        script = self.statuses.get(db_id)
        if script:
            raw["status"] = script.pop(0)
        return Reply(200, raw)

    def _page(self, offset: int) -> Reply:
        if offset:
            return _not_found("NOT_FOUND", DBS_PATH)
        listed = list(self.dbs.values())
        block = {"subscriptionId": SID, "numberOfDatabases": len(listed), "databases": listed}
        return Reply(200, {"subscription": [block]})

    def _list_others(self) -> Iterator[dict[str, Any]]:
        for task in self.others:
            script = task["script"]
            status = script.pop(0) if len(script) > 1 else script[0]
            yield task_json(task["taskId"], task["commandType"], status)

    # ------------------------------------------------------------------ writes

    def _accept(self, seen: Seen) -> Reply:
        task_id = f"t-{len(self.tasks) + 1}"
        command, resource = self._apply(seen)
        status = "processing-error" if "error" in resource else "processing-completed"
        task = task_json(task_id, command, status)
        task["response"] = resource
        self.tasks[task_id] = task
        return Reply(202, task_json(task_id, command, "received"))

    def _apply(self, seen: Seen) -> tuple[str, dict[str, Any]]:
        if seen.method == "POST" and seen.route == DBS_PATH:
            body = seen.json()
            self.dbs[NEW] = {**db_raw(NEW, body["name"]), **body}
            return "databaseCreateRequest", {"resourceId": NEW}
        match = _DB_ROUTE.match(seen.route)
        db_id = int(match.group(1)) if match else -1
        if db_id not in self.dbs:
            error = {"type": "DATABASE_NOT_FOUND", "description": f"Database {db_id} not found"}
            return _command(seen.method), {"error": error}
        if seen.method == "DELETE":
            del self.dbs[db_id]
        else:
            self.dbs[db_id].update(seen.json())
        return _command(seen.method), {"resourceId": db_id}


def _command(method: str) -> str:
    return "databaseDeleteRequest" if method == "DELETE" else "databaseUpdateRequest"


def _not_found(error_type: str, route: str) -> Reply:
    return Reply(404, {"error": {"type": error_type, "description": f"{route} not found"}})


# ---------------------------------------------------------------------- plans and runs


def update(**body: Any) -> PlannedAction:
    """Return the update of ``sessions`` with ``body``."""
    return PlannedAction(
        ActionKind.UPDATE, SID, DB, "sessions", (), ApiRequest("PUT", DB_PATH, body)
    )


def create(name: str = "reports", **body: Any) -> PlannedAction:
    """Return the create of database ``name`` with ``body``."""
    request = ApiRequest("POST", DBS_PATH, {"name": name, **body})
    return PlannedAction(ActionKind.CREATE, SID, None, name, (), request)


def delete() -> PlannedAction:
    """Return the delete of ``sessions``."""
    return PlannedAction(ActionKind.DELETE, SID, DB, "sessions", (), ApiRequest("DELETE", DB_PATH))


class StepClock:
    """A clock that moves only when slept on; the wall clock too (POSIX seconds)."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.start = start
        self.now = start

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        """Move the clock forward instead of waiting."""
        self.now += max(0.0, seconds)

    @property
    def elapsed(self) -> float:
        """Seconds slept since the start."""
        return self.now - self.start


@contextmanager
def served(account: Account) -> Iterator[FakeApi]:
    """Serve ``account`` on loopback for the ``with`` block."""
    with FakeApi(account.reply) as api:
        yield api


def apply_over_http(
    account: Account, clock: StepClock, *actions: PlannedAction, **options: Any
) -> ApplyReport:
    """Apply ``actions`` to ``account`` through a real client on ``clock``; return the report.

    Raises:
        ApplyFailedError: as :func:`reconciler.apply.apply_plan` does.
    """
    with served(account) as api:
        client = ApiClient(
            api.url, "fake-key-0001", "fake-secret-0001", sleep=clock.sleep, clock=clock
        )
        with client:
            plan = Plan(subscriptions=(), actions=tuple(actions))
            return apply_plan(
                plan, client, clock=clock, sleep=clock.sleep, wall_clock=clock, **options
            )
