"""The simulated account (subscriptions, database records, tasks) and its state file.

The account is plain JSON-able data so it can be saved after every change and loaded by
the next process (``--api-url sim:`` runs plan and apply in separate processes). Times are
wall-clock seconds, so progress derived from them carries on across restarts. The file is
written atomically (temporary file + ``os.replace``); its secrets are the simulator's own
fake data.
"""

from __future__ import annotations

import bisect
import json
import logging
import math
import os
import tempfile
from pathlib import Path
from typing import Any

from reconciler.errors import UsageError
from reconciler.simulator.records import Record

logger = logging.getLogger(__name__)

STATE_FORMAT_VERSION = 1
MAX_TASKS = 1000
MAX_LOG_ENTRIES = 10000


class Account:
    """One Redis Cloud account: its subscriptions, databases and tasks.

    Besides ``data`` it keeps two caches (never saved), so that a read costs time in
    proportion to its answer, not to the account:

    - the databases by subscription (in id order) and by id, kept by :meth:`add_database`
      and rebuilt after :meth:`remove_database`;
    - the next event (:meth:`next_event`): no task ends and no deleting database disappears
      before it. It is a lower bound: :meth:`note_event` lowers it for each new end;
      :meth:`add_task` and :meth:`forget_next_event` have it scanned again.
    """

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        # State files written before the system log existed have none yet.
        data.setdefault("systemLog", [])
        data.setdefault("nextLogId", 1)
        self._by_subscription: dict[int, list[Record]] | None = None
        self._by_id: dict[tuple[int, int], Record] | None = None
        self._next_event: float | None = None

    @classmethod
    def empty(cls, account_id: int) -> Account:
        """Return an account with no subscriptions."""
        return cls(
            {
                "formatVersion": STATE_FORMAT_VERSION,
                "accountId": account_id,
                "subscriptions": [],
                "databases": [],
                "tasks": [],
                "queueFreeAt": 0.0,
                "nextDatabaseId": 1,
            }
        )

    @property
    def account_id(self) -> int:
        """Return the account id."""
        return int(self.data["accountId"])

    @property
    def subscriptions(self) -> list[dict[str, Any]]:
        """Return the subscription records, in id order."""
        return sorted(self.data["subscriptions"], key=lambda sub: int(sub["id"]))

    @property
    def tasks(self) -> list[dict[str, Any]]:
        """Return the task records, oldest first (the live list, not a copy)."""
        tasks: list[dict[str, Any]] = self.data["tasks"]
        return tasks

    @property
    def databases(self) -> list[Record]:
        """Return every database record (the live list, not a copy)."""
        databases: list[Record] = self.data["databases"]
        return databases

    @property
    def queue_free_at(self) -> float:
        """Return when the account's task queue finishes its last queued task."""
        return float(self.data["queueFreeAt"])

    @queue_free_at.setter
    def queue_free_at(self, value: float) -> None:
        self.data["queueFreeAt"] = value

    def subscription(self, subscription_id: int) -> dict[str, Any] | None:
        """Return the subscription record with this id, or None."""
        return next((s for s in self.data["subscriptions"] if s["id"] == subscription_id), None)

    def databases_in(self, subscription_id: int) -> list[Record]:
        """Return the database records of one subscription, in id order (a new list)."""
        return list(self._index()[0].get(subscription_id, ()))

    def database(self, subscription_id: int, database_id: int) -> Record | None:
        """Return the database record with these ids, or None."""
        return self._index()[1].get((subscription_id, database_id))

    def _index(self) -> tuple[dict[int, list[Record]], dict[tuple[int, int], Record]]:
        """Return the database caches (by subscription, by ids), built again when a database
        was removed since."""
        if self._by_subscription is not None and self._by_id is not None:
            return self._by_subscription, self._by_id
        by_subscription: dict[int, list[Record]] = {}
        by_id: dict[tuple[int, int], Record] = {}
        for db in sorted(self.databases, key=lambda db: int(db["databaseId"])):
            by_subscription.setdefault(db["subscriptionId"], []).append(db)
            by_id.setdefault((db["subscriptionId"], db["databaseId"]), db)
        self._by_subscription, self._by_id = by_subscription, by_id
        return by_subscription, by_id

    def next_event(self) -> float:
        """Return a time before which no task ends and no deleting database disappears.

        ``inf`` when nothing is pending. Cached: scans the tasks and databases only when
        :meth:`forget_next_event` was called since (or never computed).
        """
        if self._next_event is None:
            ends = [float(task["endAt"]) for task in self.tasks if task["outcome"] is None]
            ends += [
                float(db["pendingUntil"])
                for db in self.databases
                if db.get("pendingStatus") == "deleting" and db.get("pendingUntil") is not None
            ]
            self._next_event = min(ends, default=math.inf)
        return self._next_event

    def note_event(self, at: float) -> None:
        """Record that something ends at ``at`` (a task, a database's pending status)."""
        if self._next_event is not None:
            self._next_event = min(self._next_event, at)

    def forget_next_event(self) -> None:
        """Have :meth:`next_event` scan the account again (after tasks have ended)."""
        self._next_event = None

    def add_subscription(self, record: dict[str, Any]) -> None:
        """Add a subscription record."""
        self.data["subscriptions"].append(record)

    def add_database(self, record: Record) -> None:
        """Add a database record and keep the id counter past its id."""
        self.databases.append(record)
        self.data["nextDatabaseId"] = max(self.data["nextDatabaseId"], record["databaseId"] + 1)
        if self._by_subscription is not None and self._by_id is not None:
            siblings = self._by_subscription.setdefault(record["subscriptionId"], [])
            bisect.insort(siblings, record, key=lambda db: int(db["databaseId"]))
            self._by_id.setdefault((record["subscriptionId"], record["databaseId"]), record)

    def remove_database(self, record: Record) -> None:
        """Remove a database record."""
        self.databases.remove(record)
        self._by_subscription = self._by_id = None

    def reserve_database_id(self) -> int:
        """Return a fresh database id (never reused, even if the create fails)."""
        database_id = int(self.data["nextDatabaseId"])
        self.data["nextDatabaseId"] = database_id + 1
        return database_id

    def task(self, task_id: str) -> dict[str, Any] | None:
        """Return the task record with this id, or None."""
        return next((task for task in self.tasks if task["taskId"] == task_id), None)

    @property
    def system_log(self) -> list[dict[str, Any]]:
        """Return the system log entries, oldest first (the live list, not a copy)."""
        entries: list[dict[str, Any]] = self.data["systemLog"]
        return entries

    def add_log_entry(self, fields: dict[str, Any]) -> dict[str, Any]:
        """Store a system log entry with the next id; forget the oldest past the cap.

        Returns the stored entry (``id`` first, then ``fields``).
        """
        entry = {"id": int(self.data["nextLogId"]), **fields}
        self.data["nextLogId"] = entry["id"] + 1
        self.system_log.append(entry)
        del self.system_log[: max(0, len(self.system_log) - MAX_LOG_ENTRIES)]
        return entry

    def add_task(self, task: dict[str, Any]) -> None:
        """Add a task record, forgetting the oldest finished ones past :data:`MAX_TASKS`."""
        self.tasks.append(task)
        self._next_event = None  # scanned again, whatever the task holds
        excess = len(self.tasks) - MAX_TASKS
        if excess > 0:
            finished = [t for t in self.tasks if t.get("outcome") is not None][:excess]
            for old in finished:
                self.tasks.remove(old)


def load_account(path: Path) -> Account:
    """Return the account saved in ``path``.

    Raises:
        UsageError: the file cannot be read or is not a simulator state file.
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read simulator state {path}: {exc}") from None
    if not isinstance(data, dict) or data.get("formatVersion") != STATE_FORMAT_VERSION:
        raise UsageError(f"{path} is not a simulator state file (format {STATE_FORMAT_VERSION})")
    return Account(data)


def save_account(account: Account, path: Path) -> None:
    """Write ``account`` to ``path`` atomically (temporary file in the same folder + replace).

    Raises:
        OSError: the folder is not writable.
    """
    payload = json.dumps(account.data, indent=1, sort_keys=True)
    folder = path.parent if str(path.parent) else Path(".")
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(payload)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    logger.debug("simulator state saved to %s", path)
