"""Plan the deletes of a subscription: each after its backup, under the safety rules.

A database is deleted when the spec says ``state: absent`` or, with prune on, when no file
names it. ``lifecycle.preventDestroy`` refuses a delete; deleting more than a share of a
subscription's databases is refused unless ``--force`` is given.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from reconciler.cloud import paths
from reconciler.model import Lifecycle, LiveDatabase, LiveSubscription
from reconciler.plan import ActionKind, ApiRequest, PlannedAction, Refusal, RefusalRule
from reconciler.planning.backups import backup_steps
from reconciler.planning.steps import Steps, subject

log = logging.getLogger(__name__)

#: More than this share of a subscription's live databases deleted needs ``--force`` …
DELETE_THRESHOLD_PERCENT = 30
#: … when the subscription has at least this many live databases.
DELETE_THRESHOLD_MIN_DATABASES = 4
_PRUNED_HINT = (
    "; name it in a file with state: absent and a lifecycle.backupPath "
    "(or backupBeforeDelete: false)"
)


@dataclass(frozen=True)
class Doomed:
    """A live database the plan deletes, with the lifecycle that governs it."""

    db: LiveDatabase
    lifecycle: Lifecycle
    reason: str
    pruned: bool


def delete_steps(sub: LiveSubscription, doomed: Sequence[Doomed], force: bool) -> Steps:
    """Return each delete (after its backup) and the delete safety refusals."""
    if not doomed:
        return Steps()
    steps = _threshold(sub, len(doomed), force)
    for d in doomed:
        if d.lifecycle.prevent_destroy:
            steps += Steps.refused(_prevented(sub.id, d.db))
        if d.lifecycle.backup_before_delete:
            hint = _PRUNED_HINT if d.pruned else ""
            steps += backup_steps(sub.id, d.db, d.lifecycle, "before delete", hint)
        request = ApiRequest("DELETE", paths.database(sub.id, d.db.id))
        delete = PlannedAction(ActionKind.DELETE, sub.id, d.db.id, d.db.name, (), request, d.reason)
        steps += Steps.of([delete])
    return steps


def _prevented(sub_id: int, db: LiveDatabase) -> Refusal:
    """Return the refusal of deleting a database whose lifecycle prevents it."""
    message = (
        f"{subject(sub_id, db.name, db.id)}: lifecycle.preventDestroy is set but the plan "
        "would delete it"
    )
    return Refusal(RefusalRule.PREVENT_DESTROY, sub_id, message, db.name, db.id)


def _threshold(sub: LiveSubscription, deletes: int, force: bool) -> Steps:
    """Refuse deleting more than 30 % of a subscription's (≥ 4) live databases without force."""
    total = len(sub.databases)
    too_many = (
        total >= DELETE_THRESHOLD_MIN_DATABASES and deletes * 100 > total * DELETE_THRESHOLD_PERCENT
    )
    if too_many and not force:
        message = (
            f'subscription {sub.id} "{sub.name}": the plan deletes {deletes} of its {total} '
            f"live databases, more than {DELETE_THRESHOLD_PERCENT} %; use --force to allow it"
        )
        return Steps.refused(Refusal(RefusalRule.DELETE_THRESHOLD, sub.id, message))
    if too_many:
        log.info(
            "subscription %s: %s of %s databases deleted under --force", sub.id, deletes, total
        )
    return Steps()
