"""What a task does to the account when its processing ends (lazily, on the next access).

:func:`advance` applies every task whose processing has ended, in the order they ended,
each as of its own end time, then forgets databases whose deletion has finished. A task's
effect decides its outcome: ``{"resourceId": …}`` on success, ``{"error": {type, status,
description}}`` on failure — an object in every real answer seen (Go SDK tests, Terraform
provider issues), though the OpenAPI description types it as a bare string.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from reconciler.simulator import catalog, systemlog
from reconciler.simulator.consistency import check_default_user
from reconciler.simulator.records import Record, merge_update
from reconciler.simulator.replies import ApiProblem, error_object
from reconciler.simulator.state import Account
from reconciler.simulator.timeline import database_status, iso_time, live_databases

Task = dict[str, Any]
Outcome = dict[str, Any]
Effect = Callable[[Account, Task, float, float], Outcome]


def advance(account: Account, now: float, provision_seconds: float) -> bool:
    """Apply the effects of every task that has finished by ``now``; purge deleted databases.

    Each finished write task records its end in the system log.

    Does nothing (and scans nothing) before the account's next event
    (:meth:`~reconciler.simulator.state.Account.next_event`).

    Returns True when the account changed (so it must be saved).
    """
    if now < account.next_event():
        return False
    due = [task for task in account.tasks if task["outcome"] is None and task["endAt"] <= now]
    due.sort(key=lambda task: float(task["endAt"]))  # stable: equal ends keep submit order
    for task in due:
        own = task.get("provisionSeconds")
        task["outcome"] = _outcome(account, task, provision_seconds if own is None else own)
        systemlog.task_ended(account, task)
    gone = [db for db in account.databases if database_status(db, now) is None]
    for record in gone:
        account.remove_database(record)
    account.forget_next_event()  # the tasks just ended no longer bound it
    return bool(due or gone)


def _outcome(account: Account, task: Task, provision_seconds: float) -> Outcome:
    if task["forceError"]:
        return {
            "error": error_object(
                500,
                "GENERAL_ERROR",
                f"An unexpected error occurred; contact support with your task ID {task['taskId']}",
            )
        }
    if task["payload"].get("dryRun"):
        return {"resource": {"dryRun": True}}
    try:
        return EFFECTS[task["kind"]](account, task, float(task["endAt"]), provision_seconds)
    except ApiProblem as problem:
        return {"error": problem.as_error()}


def _target(account: Account, task: Task, at: float) -> Record:
    """Return the task's database as it is at ``at``; raise a task error when it is gone."""
    if account.subscription(task["subscriptionId"]) is None:
        raise ApiProblem(
            404, "SUBSCRIPTION_NOT_FOUND", f"Subscription {task['subscriptionId']} not found"
        )
    record = account.database(task["subscriptionId"], task["databaseId"])
    # A database whose delete has been processed is gone for every later task.
    if record is None or database_status(record, at) in (None, "deleting"):
        raise ApiProblem(404, "DATABASE_NOT_FOUND", f"Database {task['databaseId']} not found")
    return record


def _check_name_free(
    account: Account, subscription_id: int, name: str, own_id: int, at: float
) -> None:
    for other in live_databases(account, subscription_id, at):
        if other["name"] == name and other["databaseId"] != own_id:
            raise ApiProblem(
                409, "DATABASE_NAME_EXISTS", f'A database named "{name}" already exists'
            )


def _set_pending(
    account: Account, record: Record, status: str, at: float, provision_seconds: float
) -> None:
    record.update(pendingStatus=status, pendingUntil=at + provision_seconds, lastModified=at)
    account.note_event(at + provision_seconds)


def _create(account: Account, task: Task, at: float, provision_seconds: float) -> Outcome:
    record: Record = dict(task["payload"]["record"])
    if account.subscription(task["subscriptionId"]) is None:
        raise ApiProblem(
            404, "SUBSCRIPTION_NOT_FOUND", f"Subscription {task['subscriptionId']} not found"
        )
    _check_name_free(account, task["subscriptionId"], record["name"], record["databaseId"], at)
    if any(
        db["port"] == record["port"] for db in live_databases(account, task["subscriptionId"], at)
    ):
        raise ApiProblem(400, "DATABASE_PORT_IS_UNAVAILABLE", f"Port {record['port']} is in use")
    _set_pending(account, record, "pending", at, provision_seconds)
    record["activatedOn"] = at
    account.add_database(record)
    return {"resourceId": record["databaseId"]}


def _update(account: Account, task: Task, at: float, provision_seconds: float) -> Outcome:
    record = _target(account, task, at)
    changes: Mapping[str, Any] = task["payload"]["changes"]
    check_default_user(record, changes)  # an update queued before may have disabled it
    if "name" in changes:
        _check_name_free(account, task["subscriptionId"], changes["name"], record["databaseId"], at)
    merged = merge_update(record, changes)
    record.clear()
    record.update(merged)
    _set_pending(account, record, "active-change-pending", at, provision_seconds)
    return {"resourceId": record["databaseId"]}


def _delete(account: Account, task: Task, at: float, provision_seconds: float) -> Outcome:
    record = _target(account, task, at)
    _set_pending(account, record, "deleting", at, provision_seconds)
    return {"resourceId": record["databaseId"]}


def _upgrade(account: Account, task: Task, at: float, provision_seconds: float) -> Outcome:
    record = _target(account, task, at)
    target = str(task["payload"]["targetRedisVersion"])
    if catalog.version_key(target) <= catalog.version_key(str(record["redisVersion"])):
        raise ApiProblem(
            400,
            "DATABASE_UPGRADE_INVALID_REDIS_VERSION",
            f"Cannot upgrade Redis version {record['redisVersion']} to {target}",
        )
    record["redisVersion"] = target
    record["lastUpgrade"] = {"target": target, "at": at, "until": at + provision_seconds}
    _set_pending(account, record, "active-change-pending", at, provision_seconds)
    return {"resourceId": record["databaseId"]}


def backup_location(record: Mapping[str, Any], adhoc_path: str | None) -> str:
    """Return where a backup of ``record`` goes.

    Raises:
        ApiProblem: no location at all (``DATABASE_BACKUP_NOT_CONFIGURED``), remote backup
            switched off (``DATABASE_BACKUP_DISABLED``), or a path of no known storage type.
    """
    if adhoc_path:
        prefixes = tuple(p for group in catalog.BACKUP_PATH_PREFIXES.values() for p in group)
        if not adhoc_path.startswith(prefixes):
            raise ApiProblem(
                400, "DATABASE_INVALID_BACKUP_PATH", "adhocBackupPath has no known storage scheme"
            )
        return adhoc_path
    remote = record.get("remoteBackup") or {}
    if remote.get("storagePath"):
        if remote.get("active") is False:
            raise ApiProblem(400, "DATABASE_BACKUP_DISABLED", "Database backup is disabled")
        return str(remote["storagePath"])
    if record.get("periodicBackupPath"):
        return str(record["periodicBackupPath"])
    raise ApiProblem(
        400,
        "DATABASE_BACKUP_NOT_CONFIGURED",
        "The database has no backup location: configure remoteBackup or give adhocBackupPath",
    )


def _backup(account: Account, task: Task, at: float, provision_seconds: float) -> Outcome:
    record = _target(account, task, at)
    backup_location(record, task["payload"].get("adhocBackupPath"))
    record["lastBackup"] = {"time": at, "status": "success"}
    return {"resourceId": record["databaseId"]}


def check_import_uris(source_type: str, uris: list[str]) -> None:
    """Check import URIs against their source type (no URI is echoed: it may hold a secret).

    Raises:
        ApiProblem: no URI, several Redis sources, or a URI malformed for ``source_type``.
    """
    if not uris:
        raise ApiProblem(400, "DATABASE_IMPORT_URI_NOT_PROVIDED", "importFromUri is empty")
    if source_type == "redis" and len(uris) > 1:
        raise ApiProblem(
            400, "DATABASE_IMPORT_MULTIPLE_REDIS_SOURCES", "Only one Redis source is allowed"
        )
    prefixes, error_type = catalog.IMPORT_URI_RULES[source_type]
    for index, uri in enumerate(uris):
        rest = uri.split("://", 1)[1] if uri.startswith(prefixes) else ""
        host, _, path = rest.partition("/")
        if not host or (source_type != "redis" and not path):
            raise ApiProblem(
                400, error_type, f"importFromUri[{index}] is not a valid {source_type} URI"
            )


def _import(account: Account, task: Task, at: float, provision_seconds: float) -> Outcome:
    record = _target(account, task, at)
    check_import_uris(task["payload"]["sourceType"], list(task["payload"]["importFromUri"]))
    record["lastImport"] = {"time": at, "until": at + provision_seconds}
    record["lastModified"] = at
    return {"resourceId": record["databaseId"]}


def _backup_status(account: Account, task: Task, at: float, provision_seconds: float) -> Outcome:
    record = _target(account, task, at)
    last = record.get("lastBackup")
    if last is None:
        backup_location(record, None)
        return {"resourceId": record["databaseId"], "resource": {"status": "never-run"}}
    else:
        resource: dict[str, Any] = {
            "status": last["status"],
            "lastBackupTime": iso_time(last["time"]),
            "failureReason": None,
        }
    return {"resourceId": record["databaseId"], "resource": resource}


def _import_status(account: Account, task: Task, at: float, provision_seconds: float) -> Outcome:
    record = _target(account, task, at)
    last = record.get("lastImport")
    if last is None:
        resource: dict[str, Any] = {"status": "none"}
    else:
        status = "importing" if at < last["until"] else "completed"
        resource = {
            "status": status,
            "lastImportTime": iso_time(last["time"]),
            "failureReason": None,
            "failureReasonParams": [],
        }
    return {"resourceId": record["databaseId"], "resource": resource}


EFFECTS: Mapping[str, Effect] = {
    "create": _create,
    "update": _update,
    "delete": _delete,
    "upgrade": _upgrade,
    "backup": _backup,
    "import": _import,
    "backup-status": _backup_status,
    "import-status": _import_status,
}
