"""Pieces shared by the text and Markdown renderers.

Grouping of actions under their subscription, the compact value notation
(``{dataset-size: 80}``, ``[10.0.0.0/16]``, ``true``), the one-line detail of backup,
upgrade and import actions, and the summary counts. Every value passes through the
masking here: a :class:`~reconciler.secrets.Secret` prints as ``(sensitive)`` and a URI
with credentials loses them, so no caller can print a secret by accident.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.plan import (
    ActionKind,
    FieldChange,
    Notice,
    Plan,
    PlannedAction,
    SubscriptionSummary,
    UnmanagedDatabase,
)
from reconciler.secrets import MASK, Secret, contains_secret, mask_text

SENSITIVE_CHANGED = "(sensitive value changed)"
SENSITIVE_VALUE = "(sensitive value)"
UNSET = "(unset)"
NO_CHANGES = "No changes. The live account matches the spec."
REFUSED_WITHOUT_ACTIONS = "No actions: the plan is refused (see above)."
NOT_COMPARED_WITHOUT_ACTIONS = (
    "No changes planned, but some spec fields could not be compared (see above)."
)


@dataclass(frozen=True)
class SubscriptionBlock:
    """The actions, unmanaged databases and notices of one subscription, in plan order.

    ``summary`` is None when the plan names a subscription id it has no header facts for.
    """

    id: int
    summary: SubscriptionSummary | None
    actions: tuple[PlannedAction, ...]
    unmanaged: tuple[UnmanagedDatabase, ...]
    notices: tuple[Notice, ...] = ()


def group_by_subscription(plan: Plan) -> list[SubscriptionBlock]:
    """Return one block per subscription: the plan's subscriptions first, in their order.

    Actions keep their relative plan order inside a block, so a subscription's backup and
    delete (which the plan puts after every other action) close its block.
    """
    summaries = {s.id: s for s in plan.subscriptions}
    order = list(summaries)
    for sub_id in (
        [a.subscription_id for a in plan.actions]
        + [u.subscription_id for u in plan.unmanaged]
        + [n.subscription_id for n in plan.notices]
    ):
        if sub_id not in order:
            order.append(sub_id)
    return [
        SubscriptionBlock(
            id=sub_id,
            summary=summaries.get(sub_id),
            actions=tuple(a for a in plan.actions if a.subscription_id == sub_id),
            unmanaged=tuple(u for u in plan.unmanaged if u.subscription_id == sub_id),
            notices=tuple(n for n in plan.notices if n.subscription_id == sub_id),
        )
        for sub_id in order
    ]


def subscription_header(block: SubscriptionBlock) -> str:
    """Return ``Subscription 2001234 "prod" — 4 databases live, 3 in spec``."""
    if block.summary is None:
        return f"Subscription {block.id}"
    s = block.summary
    noun = "database" if s.live_databases == 1 else "databases"
    return (
        f'Subscription {s.id} "{s.name}" — {s.live_databases} {noun} live, '
        f"{s.spec_databases} in spec"
    )


def database_label(name: str, database_id: int | None) -> str:
    """Return ``sessions (db 51170941)``, or the bare name when the id is not known yet."""
    return name if database_id is None else f"{name} (db {database_id})"


def unmanaged_text(db: UnmanagedDatabase) -> str:
    """Return ``unmanaged analytics (db 51170950): in no file; prune is off``."""
    return f"unmanaged {database_label(db.name, db.database_id)}: in no file; prune is off"


def notices_by_database(notices: tuple[Notice, ...]) -> list[tuple[str, tuple[Notice, ...]]]:
    """Return ``(database label, its notices)`` per database, in first-seen order."""
    grouped: dict[tuple[str, int], list[Notice]] = {}
    for notice in notices:
        grouped.setdefault((notice.database_name, notice.database_id), []).append(notice)
    return [(database_label(name, db_id), tuple(found)) for (name, db_id), found in grouped.items()]


def format_value(value: Any) -> str:
    """Return the compact, masked notation of a JSON-like value.

    Lists of ``{name, value}`` mappings (alerts) read ``{dataset-size: 80}``, other lists
    ``[a, b]``, mappings ``{key: value}``, booleans and None in JSON spelling, strings bare
    (``""`` when empty) with credentials in URIs masked.
    """
    if isinstance(value, Secret):
        return MASK
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return mask_text(value) if value else '""'
    if isinstance(value, enum.Enum):
        return format_value(value.value)
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {format_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (set, frozenset)):
        return "[" + ", ".join(sorted(format_value(v) for v in value)) + "]"
    if isinstance(value, (list, tuple)):
        return _format_sequence(value)
    return str(value)


def _format_sequence(items: list[Any] | tuple[Any, ...]) -> str:
    """Return ``{n1: v1, n2: v2}`` for name/value pairs (alerts), else ``[a, b]``."""
    if items and all(isinstance(i, Mapping) and set(i) == {"name", "value"} for i in items):
        pairs = (f"{format_value(i['name'])}: {format_value(i['value'])}" for i in items)
        return "{" + ", ".join(pairs) + "}"
    return "[" + ", ".join(format_value(i) for i in items) + "]"


def is_sensitive(change: FieldChange) -> bool:
    """True when the change is flagged sensitive or either side holds a Secret."""
    return change.sensitive or contains_secret(change.before) or contains_secret(change.after)


def creates_value(action: PlannedAction) -> bool:
    """True when the action sets values on a database that does not exist yet.

    That is a create, and the follow-up update and import after it: their changes have no
    before side worth showing, so only the new value is printed.
    """
    return action.kind is ActionKind.CREATE or action.database_id is None


def change_text(change: FieldChange, action: PlannedAction) -> str:
    """Return ``1 → 2`` (just ``5`` on a database not created yet), or a sensitive placeholder.

    A top-level None on either side of a real change reads ``(unset)``.
    """
    creating = creates_value(action)
    if is_sensitive(change):
        return SENSITIVE_VALUE if creating else SENSITIVE_CHANGED
    if creating or (change.before is None and action.kind not in _BEFORE_SHOWN):
        return format_value(change.after)
    return f"{_side(change.before)} → {_side(change.after)}"


# Kinds whose changes show a missing before side as (unset): a field or a tag being added.
_BEFORE_SHOWN = (ActionKind.UPDATE, ActionKind.TAG)


def _side(value: Any) -> str:
    return UNSET if value is None else format_value(value)


# The change each kind shows on its head line rather than under it.
_INLINE_PATHS = {
    ActionKind.UPGRADE: "redisVersion",
    ActionKind.BACKUP: "destination",
    ActionKind.IMPORT: "importFromUri",
}


def inline_change(action: PlannedAction) -> FieldChange | None:
    """Return the change shown on the head line, or None.

    That is an upgrade's redisVersion, a backup's destination, an import's source URIs.
    """
    path = _INLINE_PATHS.get(action.kind)
    return next((c for c in action.changes if c.path == path), None)


def listed_changes(action: PlannedAction) -> tuple[FieldChange, ...]:
    """Return the changes shown under the head line (all but the inline one)."""
    inline = inline_change(action)
    return tuple(c for c in action.changes if c is not inline)


def action_detail(action: PlannedAction) -> str:
    """Return the head-line detail: backup destination, upgrade versions, import source.

    Empty for the other kinds. The inline change is preferred; the request body is the
    fallback (``adhocBackupPath``, ``targetRedisVersion``, ``importFromUri``).
    """
    body = action.request.body if isinstance(action.request.body, Mapping) else {}
    inline = inline_change(action)
    if action.kind is ActionKind.BACKUP:
        where = inline.after if inline is not None else body.get("adhocBackupPath")
        return f"to {_uris(where)}" if where else "to its backup location"
    if action.kind is ActionKind.IMPORT:
        uris = inline.after if inline is not None else body.get("importFromUri")
        return f"from {_uris(uris)}" if uris else ""
    if action.kind is ActionKind.UPGRADE:
        if inline is not None:
            return f"redisVersion {change_text(inline, action)}"
        target = body.get("targetRedisVersion")
        return f"redisVersion → {format_value(target)}" if target is not None else ""
    return ""


def _uris(value: Any) -> str:
    """Return one URI, or several joined by commas, masked."""
    if isinstance(value, (list, tuple)):
        return ", ".join(format_value(v) for v in value)
    return format_value(value)


def summary_counts(plan: Plan) -> dict[str, int]:
    """Return the count of every action kind plus ``unmanaged``, in summary order."""
    counts = {kind.value: plan.count(kind) for kind in SUMMARY_ORDER}
    counts["unmanaged"] = len(plan.unmanaged)
    return counts


SUMMARY_ORDER = (
    ActionKind.CREATE,
    ActionKind.UPDATE,
    ActionKind.TAG,
    ActionKind.UPGRADE,
    ActionKind.BACKUP,
    ActionKind.IMPORT,
    ActionKind.DELETE,
)


def summary_line(plan: Plan) -> str:
    """Return ``Plan: 1 to create, 1 to update, 1 to delete, 1 backup.  Unmanaged: 1.``.

    Tags, upgrades and imports are named only when there are some; a plan without actions
    reads :data:`NO_CHANGES` (or :data:`REFUSED_WITHOUT_ACTIONS` when it is refused,
    :data:`NOT_COMPARED_WITHOUT_ACTIONS` when fields could not be compared). The unmanaged
    and not-compared counts are appended when there are some.
    """
    if not plan.actions:
        text = REFUSED_WITHOUT_ACTIONS if plan.refusals else NO_CHANGES
        if not plan.refusals and plan.notices:
            text = NOT_COMPARED_WITHOUT_ACTIONS
    else:
        parts = [
            f"{plan.count(ActionKind.CREATE)} to create",
            f"{plan.count(ActionKind.UPDATE)} to update",
        ]
        for kind in (ActionKind.TAG, ActionKind.UPGRADE, ActionKind.IMPORT):
            if plan.count(kind):
                parts.append(f"{plan.count(kind)} to {kind.value}")
        parts.append(f"{plan.count(ActionKind.DELETE)} to delete")
        backups = plan.count(ActionKind.BACKUP)
        parts.append(f"{backups} backup" + ("" if backups == 1 else "s"))
        text = "Plan: " + ", ".join(parts) + "."
    if plan.unmanaged:
        text += f"  Unmanaged: {len(plan.unmanaged)}."
    if plan.notices:
        text += f"  Not compared: {len(plan.notices)}."
    return text
