"""Helpers of the executor tests: a stepping clock, plan builders, an account to apply to.

- ``SteppingClock``: a clock that moves only when the executor (or the client) sleeps on it;
  also the wall clock (POSIX seconds) of the simulator the test runs.
- ``act``, ``update``, ``create``, ``follow_up``, ``import_``, ``backup``, ``upgrade``,
  ``delete``, ``plan_of``: planned actions on the example account (subscription 2001234,
  database 51170941 "sessions").
- ``SimAccount``: the example account served by the simulator on the test's clock, an
  ``ApiClient`` to it whose transport records every request (``calls``: method and path
  below the base, query left out) and can lose answers (``RecordingTransport``), and
  ``run``/``failure`` applying actions through it; ``elsewhere`` writes as another client.
- ``account_factory(make_simulator)``: a factory of such accounts, each on a fresh clock
  (the test modules' ``account_on`` fixture; ``account`` is one with the defaults).

Imported as a plain module (``from executor_support import …``): pytest's default
"prepend" import mode puts tests/apply/ on ``sys.path`` for the tests here.
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from collections.abc import Callable, Mapping
from typing import Any

import pytest

from reconciler.apply.executor import apply_plan
from reconciler.apply.report import ApplyReport
from reconciler.cloud import Answer, ApiClient, RequestsTransport, TransportError
from reconciler.errors import ApplyFailedError
from reconciler.plan import NEW_DATABASE_ID, ActionKind, ApiRequest, Plan, PlannedAction
from reconciler.simulator import RunningSimulator

SID = 2001234
DB = 51170941
START = 1795788185.0  # 2026-11-27T14:03:05Z
SUB_PATH = f"/subscriptions/{SID}"
DB_PATH = f"{SUB_PATH}/databases/{DB}"
CANARY = "canary-password-7f3a9c"


class SteppingClock:
    """A clock whose sleep advances it; also the wall clock (POSIX seconds)."""

    def __init__(self) -> None:
        self.now = START
        self.slept: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        """Move the clock forward instead of waiting."""
        assert seconds >= 0
        with self._lock:
            self.slept.append(seconds)
            self.now += seconds


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


# -------------------------------------------------------------------- the simulated account


LOST = "connection reset after sending"


class RecordingTransport:
    """The real transport, recording every request and its answer; it can lose answers.

    ``write_faults`` is consumed one entry per write: ``"ok"``; ``"lost-before"`` (the
    request never reaches the account, the client cannot tell); ``"lost-after"`` (the write
    takes effect, its answer is lost); ``"lost-after-done"`` (likewise, and the clock moves
    ``settle_seconds`` so its task is done before anyone looks). ``failing_get(path)`` true
    makes that GET fail on the wire. ``on_send(method, path)`` runs before each request.
    """

    def __init__(self, clock: SteppingClock) -> None:
        self.calls: list[tuple[str, str]] = []
        self.statuses: list[int] = []
        self.answers: list[Any] = []
        self.write_faults: list[str] = []
        self.settle_seconds = 0.0
        self.failing_get: Callable[[str], bool] = lambda path: False
        self.on_send: Callable[[str, str], None] = lambda method, path: None
        self._clock = clock
        self._inner = RequestsTransport(get_retries=0, backoff_factor=0.0)

    def send(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None, timeout: float
    ) -> Answer:
        """Record the request, send it (or not, per the faults), record the answer."""
        path = urllib.parse.urlsplit(url).path.split("/v1", 1)[1]
        self.on_send(method, path)
        self.calls.append((method, path))
        fault = self.write_faults.pop(0) if method != "GET" and self.write_faults else "ok"
        if fault == "lost-before" or (method == "GET" and self.failing_get(path)):
            self._record(0, None)
            raise TransportError(LOST, sent=True)
        answer = self._inner.send(method, url, headers, body, timeout)
        try:
            self._record(answer.status, json.loads(answer.body or b"null"))
        except ValueError:
            self._record(answer.status, None)
        if fault == "lost-after-done":
            self._clock.sleep(self.settle_seconds)
        if fault.startswith("lost-after"):
            raise TransportError(LOST, sent=True)
        return answer

    def _record(self, status: int, answer: Any) -> None:
        self.statuses.append(status)
        self.answers.append(answer)

    def close(self) -> None:
        """Close the real transport."""
        self._inner.close()


class SimAccount:
    """The example account in a simulator on ``clock``; applies actions to it."""

    def __init__(self, running: RunningSimulator, clock: SteppingClock) -> None:
        self.running = running
        self.clock = clock
        self.transport = RecordingTransport(clock)
        self.client = ApiClient(
            running.url,
            running.api_key,
            running.api_secret,
            sleep=clock.sleep,
            clock=clock,
            get_retries=0,
            transport=self.transport,
        )
        self._other = ApiClient(
            running.url, running.api_key, running.api_secret, sleep=clock.sleep, clock=clock
        )

    @property
    def calls(self) -> list[tuple[str, str]]:
        """Every request so far: method and path below the base, without query."""
        return self.transport.calls

    def writes(self) -> list[tuple[str, str]]:
        """The requests that were not GETs."""
        return [(m, p) for m, p in self.calls if m != "GET"]

    def count(self, method: str, path: str | None = None) -> int:
        """How many ``method`` requests (to ``path``, if given) were sent."""
        return sum(1 for m, p in self.calls if m == method and (path is None or p == path))

    def task_ids(self) -> list[str]:
        """The task ids the write answers named, in order."""
        pairs = zip(self.calls, self.transport.answers, strict=False)
        return [
            a["taskId"]
            for (m, _), a in pairs
            if m != "GET" and isinstance(a, dict) and "taskId" in a
        ]

    def elsewhere(self, method: str, path: str, body: Any, settle: float) -> None:
        """Write to the account as someone else would (not recorded); wait ``settle`` s."""
        self._other.write(method, path, body)
        self.clock.sleep(settle)

    def get(self, path: str) -> Any:
        """GET ``path`` from the account (recorded like the executor's requests)."""
        return self.client.get(path)

    def run(self, *actions: PlannedAction, **options: Any) -> ApplyReport:
        """Apply ``actions`` on the account's clock; return the report."""
        return apply_plan(
            plan_of(*actions),
            self.client,
            clock=self.clock,
            sleep=self.clock.sleep,
            wall_clock=self.clock,
            **options,
        )

    def failure(self, *actions: PlannedAction, **options: Any) -> ApplyFailedError:
        """Apply ``actions``, which must fail; return the error."""
        with pytest.raises(ApplyFailedError) as caught:
            self.run(*actions, **options)
        return caught.value


# -------------------------------------------------------------------- accounts


def account_factory(
    make_simulator: Callable[..., RunningSimulator],
) -> Callable[..., SimAccount]:
    """Return a factory: the example account in a simulator on a fresh stepping clock.

    The factory takes ``task_seconds`` and ``provision_seconds`` (1 s each by default); a
    lost-and-done answer (``"lost-after-done"``) moves the clock by their sum.
    """

    def start(task_seconds: float = 1.0, provision_seconds: float = 1.0) -> SimAccount:
        clock = SteppingClock()
        running = make_simulator(
            clock=clock, task_seconds=task_seconds, provision_seconds=provision_seconds
        )
        account = SimAccount(running, clock)
        account.transport.settle_seconds = task_seconds + provision_seconds
        return account

    return start
