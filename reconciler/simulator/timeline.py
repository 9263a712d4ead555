"""Time-derived states: task phases, database and subscription statuses.

Nothing runs in the background. A task stores when it was submitted and when its
processing starts and ends (one task processed at a time per account: a queued task starts
when the previous one ends); its phase is read off the clock on each access. A database
stores its pending status and until when it lasts. The clock is wall-clock seconds, so a
restarted simulator picks up where the last one stopped.

Phases of a task of length T (``task_seconds``) with a free queue::

    0 ─ 0.1T unknown (404) ─ 0.3T received ─ T processing-in-progress ─▶ completed/error
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from reconciler.simulator.records import Record
from reconciler.simulator.state import Account

UNKNOWN_FRACTION = 0.1
RECEIVED_FRACTION = 0.3

COMMAND_TYPES: Mapping[str, str] = {
    "create": "databaseCreateRequest",
    "update": "databaseUpdateRequest",
    "delete": "databaseDeleteRequest",
    "backup": "databaseBackupRequest",
    "import": "databaseImportRequest",
    "upgrade": "databaseUpgradeRequest",
    "backup-status": "databaseBackupStatusRequest",
    "import-status": "databaseImportStatusRequest",
}
# Status requests only read; they do not wait in the account's write queue.
UNQUEUED_KINDS = ("backup-status", "import-status")
# Writes that create, update or delete a resource: each makes its subscription non-active
# (changing) from submission until its provisioning ends.
CHANGING_KINDS = ("create", "update", "delete", "upgrade")
# At most this many subscriptions of an account may be non-active at once.
MAX_CHANGING_SUBSCRIPTIONS = 3


@functools.lru_cache(maxsize=4096)
def iso_time(at: float) -> str:
    """Return ``at`` as the API writes resource times: ISO-8601 UTC, whole seconds.

    Cached: a page of databases repeats the same few times (creation, the volatile tick).
    """
    return datetime.fromtimestamp(at, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_time_precise(at: float) -> str:
    """Return ``at`` as the API writes task times: ISO-8601 UTC with microseconds."""
    return datetime.fromtimestamp(at, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def database_status(record: Mapping[str, Any], at: float) -> str | None:
    """Return the database's status at time ``at``; None once a delete has finished."""
    pending_until = record.get("pendingUntil")
    if record.get("pendingStatus") and pending_until is not None:
        if at < pending_until:
            return str(record["pendingStatus"])
        if record["pendingStatus"] == "deleting":
            return None
    return str(record.get("status", "active"))


def is_creating(record: Mapping[str, Any], at: float) -> bool:
    """Return True while a newly created database is still provisioning."""
    return record.get("pendingStatus") == "pending" and database_status(record, at) == "pending"


def subscription_status(account: Account, subscription: Mapping[str, Any], at: float) -> str:
    """Return the subscription's status at ``at``: ``pending`` while a create provisions."""
    base = str(subscription.get("status", "active"))
    if base != "active":
        return base
    creating = any(is_creating(db, at) for db in account.databases_in(int(subscription["id"])))
    return "pending" if creating else "active"


def live_databases(account: Account, subscription_id: int, at: float) -> list[Record]:
    """Return the subscription's databases that still exist at ``at``, in id order.

    Before the account's next event no deletion has finished, so every database is still
    there: no status is evaluated (a page of the list then costs its own length only).
    """
    databases = account.databases_in(subscription_id)
    if at < account.next_event():
        return databases
    return [db for db in databases if database_status(db, at) is not None]


def new_task(
    account: Account,
    *,
    kind: str,
    subscription_id: int,
    database_id: int | None,
    payload: Mapping[str, Any],
    now: float,
    task_seconds: float,
    provision_seconds: float | None = None,
    force_error: bool = False,
) -> dict[str, Any]:
    """Create, schedule and store a task; return its record.

    A queued task's processing starts at the later of 0.3T after submission and the end
    of the account's previous task, and lasts 0.7T. ``provision_seconds``, when given, is
    how long the database then stays pending (else the simulator's setting applies).
    """
    queued = kind not in UNQUEUED_KINDS
    earliest_start = now + RECEIVED_FRACTION * task_seconds
    start = max(earliest_start, account.queue_free_at) if queued else earliest_start
    end = start + (1 - RECEIVED_FRACTION) * task_seconds
    if queued:
        account.queue_free_at = end
    task: dict[str, Any] = {
        "taskId": str(uuid.uuid4()),
        "kind": kind,
        "commandType": COMMAND_TYPES[kind],
        "subscriptionId": subscription_id,
        "databaseId": database_id,
        "payload": dict(payload),
        "submittedAt": now,
        "visibleAt": now + UNKNOWN_FRACTION * task_seconds,
        "startAt": start,
        "endAt": end,
        "forceError": force_error,
        "outcome": None,
    }
    if provision_seconds is not None:
        task["provisionSeconds"] = provision_seconds
    account.add_task(task)
    return task


def task_phase(task: Mapping[str, Any], now: float) -> str | None:
    """Return the task's status at ``now``; None while the API does not know it yet.

    A finished task's status comes from its outcome, which
    :func:`reconciler.simulator.effects.advance` records once ``endAt`` has passed.
    """
    if now < task["visibleAt"]:
        return None
    if now < task["startAt"]:
        return "received"
    outcome = task.get("outcome")
    if now < task["endAt"] or outcome is None:
        return "processing-in-progress"
    return "processing-error" if "error" in outcome else "processing-completed"


def pending_writes(account: Account, subscription_id: int) -> list[dict[str, Any]]:
    """Return the subscription's create/update tasks whose effect has not happened yet."""
    return [
        task
        for task in account.tasks
        if task["outcome"] is None
        and task["subscriptionId"] == subscription_id
        and task["kind"] in ("create", "update")
    ]


# Tasks that change a database: while one is queued or processing, other writes wait.
DATABASE_WRITE_KINDS = ("update", "delete", "upgrade", "import", "backup")


def unfinished_write(
    account: Account, subscription_id: int, database_id: int
) -> dict[str, Any] | None:
    """Return the database's oldest write task still queued or processing, or None.

    Dry runs change nothing and do not count.
    """
    return next(
        (
            task
            for task in account.tasks
            if task["outcome"] is None
            and task["kind"] in DATABASE_WRITE_KINDS
            and task["subscriptionId"] == subscription_id
            and task["databaseId"] == database_id
            and not task["payload"].get("dryRun")
        ),
        None,
    )


def is_provisioning(record: Mapping[str, Any], at: float) -> bool:
    """Return True while the database is in a pending status (after a task, before active)."""
    pending_until = record.get("pendingUntil")
    return bool(record.get("pendingStatus")) and pending_until is not None and at < pending_until


def changing_subscriptions(account: Account, now: float) -> set[int]:
    """Return the ids of the subscriptions that are non-active (changing) at ``now``.

    A subscription changes while its status is not ``active``, while one of its databases
    provisions, and while a create, update, delete or upgrade on it (not a dry run) is
    queued or processing: that task will make it change, so it holds its place from
    submission.
    """
    changing = {
        int(sub["id"])
        for sub in account.subscriptions
        if subscription_status(account, sub, now) != "active"
    }
    changing.update(
        int(db["subscriptionId"]) for db in account.databases if is_provisioning(db, now)
    )
    changing.update(
        int(task["subscriptionId"])
        for task in account.tasks
        if task["outcome"] is None
        and task["kind"] in CHANGING_KINDS
        and not task["payload"].get("dryRun")
    )
    return changing
