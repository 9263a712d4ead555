"""The backup an existing database gets before an update or a delete (when asked)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.cloud import paths
from reconciler.compare import request_value
from reconciler.model import Lifecycle, LiveDatabase
from reconciler.plan import (
    ActionKind,
    ApiRequest,
    FieldChange,
    PlannedAction,
    Refusal,
    RefusalRule,
)
from reconciler.planning.steps import Steps, subject
from reconciler.secrets import Secret

#: The request field of an ad-hoc backup destination (``POST .../backup``).
ADHOC_BACKUP_PATH = "adhocBackupPath"


def backup_steps(
    sub_id: int, have: LiveDatabase, lifecycle: Lifecycle, reason: str, hint: str = ""
) -> Steps:
    """Return the backup action for ``have``, or a refusal when it has nowhere to go.

    The database's own remote backup location is used when it has one, else
    ``lifecycle.backupPath`` as an ad-hoc path. ``reason`` says what the backup comes
    before; ``hint`` is appended to the refusal.
    """
    location = backup_location(have.raw)
    body: dict[str, Any] = {}
    if location is None and lifecycle.backup_path:
        location = request_value(ADHOC_BACKUP_PATH, lifecycle.backup_path)
        body = {ADHOC_BACKUP_PATH: location}
    if location is None:
        message = (
            f"{subject(sub_id, have.name, have.id)}: a backup is required {reason} but the "
            f"database has no backup location and no lifecycle.backupPath{hint}"
        )
        return Steps.refused(
            Refusal(RefusalRule.NO_BACKUP_LOCATION, sub_id, message, have.name, have.id)
        )
    change = FieldChange("destination", None, location, sensitive=isinstance(location, Secret))
    request = ApiRequest("POST", paths.database_backup(sub_id, have.id), body)
    action = PlannedAction(
        ActionKind.BACKUP, sub_id, have.id, have.name, (change,), request, reason
    )
    return Steps.of([action])


def backup_location(raw: Mapping[str, Any]) -> Any:
    """Return the remote backup destination (credentials wrapped) when remote backup is on.

    Returns None when the database has no remote backup location, and
    ``"(configured location)"`` when remote backup is on but the read does not say where.
    """
    backup = raw.get("backup")
    if not isinstance(backup, Mapping) or backup.get("enableRemoteBackup") is not True:
        return None
    destination = backup.get("destination")
    if not isinstance(destination, str) or not destination:
        return "(configured location)"
    return request_value("destination", destination)
