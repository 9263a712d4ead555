"""Hand-built plans for the renderer and plan-file tests.

``act(kind, name, db, *changes, sub=PROD, body=None, reason="")`` builds a
``PlannedAction`` with the request the planner would send for it.

Imported as a plain module (``from plan_factory import …``): pytest's default "prepend"
import mode puts tests/ on ``sys.path``.
"""

from __future__ import annotations

from typing import Any

from reconciler.plan import NEW_DATABASE_ID, ActionKind, ApiRequest, FieldChange, PlannedAction

PROD, STAGING = 2001234, 2005678
CANARY = "canary-Pw-7f3a9c"

_ROUTES = {
    ActionKind.CREATE: ("POST", ""),
    ActionKind.UPDATE: ("PUT", "/{db}"),
    ActionKind.DELETE: ("DELETE", "/{db}"),
    ActionKind.BACKUP: ("POST", "/{db}/backup"),
    ActionKind.UPGRADE: ("POST", "/{db}/upgrade"),
    ActionKind.IMPORT: ("POST", "/{db}/import"),
}


def act(
    kind: ActionKind,
    name: str,
    db: int | None = None,
    *changes: tuple[Any, ...],
    sub: int = PROD,
    body: Any = None,
    reason: str = "",
) -> PlannedAction:
    """Build an action; changes are (path, before, after[, sensitive]) tuples."""
    method, suffix = _ROUTES[kind]
    path = f"/subscriptions/{sub}/databases" + suffix.format(db=db or NEW_DATABASE_ID)
    return PlannedAction(
        kind=kind,
        subscription_id=sub,
        database_id=db,
        name=name,
        changes=tuple(FieldChange(*c) for c in changes),
        request=ApiRequest(method, path, body),
        reason=reason,
    )
