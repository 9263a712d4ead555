"""The JSON plan (``--format json``), format version 1, for policy checks and tooling.

The shape is documented by ``reconciler/schemas/plan.schema.json``; action names are the stable
:class:`~reconciler.plan.ActionKind` values. Nothing secret survives the conversion: every
:class:`~reconciler.secrets.Secret` becomes ``(sensitive)``, both sides of a sensitive change
become ``(sensitive)`` (a missing side stays null), and credentials in URIs are masked in
every string. A change to the shape that could break a consumer bumps
:data:`FORMAT_VERSION`.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from typing import Any

from reconciler import __version__
from reconciler.plan import (
    FieldChange,
    History,
    HistoryEntry,
    Notice,
    Plan,
    PlannedAction,
    SubscriptionSummary,
    UnmanagedDatabase,
)
from reconciler.render._common import is_sensitive, summary_counts
from reconciler.secrets import MASK, Secret, mask_text

FORMAT_VERSION = 1


def plan_to_dict(plan: Plan) -> dict[str, Any]:
    """Return the JSON form of ``plan`` (plain dicts, lists, strings, numbers), masked.

    ``notices`` is present only when the plan has some; so are ``historyNotes``, and the
    ``history`` array of an action (its database's system-log entries, newest first) or of
    a subscription (its own entries).
    """
    # An action on a database not created yet (no id) looks up -1: it has no history.
    history = {(h.subscription_id, h.database_id): h for h in plan.history}
    data: dict[str, Any] = {
        "formatVersion": FORMAT_VERSION,
        "reconcilerVersion": __version__,
        "fingerprint": plan.fingerprint,
        "summary": summary_counts(plan),
        "subscriptions": [
            _with_history(_subscription(s), history.get((s.id, None))) for s in plan.subscriptions
        ],
        "actions": [
            _with_history(_action(a), history.get((a.subscription_id, a.database_id or -1)))
            for a in plan.actions
        ],
        "unmanaged": [_unmanaged(u) for u in plan.unmanaged],
        "refusals": [mask_text(str(r)) for r in plan.refusals],
    }
    if plan.notices:  # only then: a plan without notices reads as it always did
        data["notices"] = [_notice(n) for n in plan.notices]
    if plan.history_notes:
        data["historyNotes"] = [mask_text(n) for n in plan.history_notes]
    return data


def render_json(plan: Plan) -> str:
    """Return the JSON form of ``plan``, indented by two spaces, ending with a newline."""
    return json.dumps(plan_to_dict(plan), indent=2) + "\n"


def json_value(value: Any) -> Any:
    """Return a JSON-ready, masked copy of a value from a plan.

    Secrets become ``(sensitive)``; strings have URI credentials masked; tuples become
    lists, sets sorted lists, enums their values; anything else unknown its ``str``.
    """
    if isinstance(value, Secret):
        return MASK
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, enum.Enum):
        return json_value(value.value)
    if isinstance(value, Mapping):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_value(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted((json_value(v) for v in value), key=lambda v: json.dumps(v))
    return mask_text(str(value))


def _subscription(s: SubscriptionSummary) -> dict[str, Any]:
    return {
        "id": s.id,
        "name": mask_text(s.name),
        "liveDatabases": s.live_databases,
        "specDatabases": s.spec_databases,
    }


def _action(a: PlannedAction) -> dict[str, Any]:
    return {
        "action": a.kind.value,
        "subscriptionId": a.subscription_id,
        "databaseId": a.database_id,
        "name": mask_text(a.name),
        "reason": mask_text(a.reason),
        "changes": [_change(c) for c in a.changes],
        "request": {
            "method": a.request.method,
            "path": mask_text(a.request.path),
            "body": json_value(a.request.body),
        },
    }


def _change(c: FieldChange) -> dict[str, Any]:
    sensitive = is_sensitive(c)
    return {
        "path": c.path,
        "before": _side(c.before, sensitive),
        "after": _side(c.after, sensitive),
        "sensitive": sensitive,
    }


def _side(value: Any, sensitive: bool) -> Any:
    """Return the masked side of a change; a sensitive side is the mask unless absent."""
    if sensitive:
        return None if value is None else MASK
    return json_value(value)


def _notice(n: Notice) -> dict[str, Any]:
    return {
        "subscriptionId": n.subscription_id,
        "databaseId": n.database_id,
        "name": mask_text(n.database_name),
        "field": n.field,
        "message": mask_text(n.message),
    }


def _with_history(item: dict[str, Any], history: History | None) -> dict[str, Any]:
    """Return ``item`` with a ``history`` array when there is one."""
    if history is not None:
        item["history"] = [_entry(e) for e in history.entries]
    return item


def _entry(e: HistoryEntry) -> dict[str, Any]:
    return {
        "id": e.id,
        "time": e.time,
        "originator": mask_text(e.originator),
        "apiKeyName": None if e.api_key_name is None else mask_text(e.api_key_name),
        "resource": mask_text(e.resource),
        "type": mask_text(e.type),
        "description": mask_text(e.description),
    }


def _unmanaged(u: UnmanagedDatabase) -> dict[str, Any]:
    return {"subscriptionId": u.subscription_id, "databaseId": u.database_id, "name": u.name}
