"""Plan the changes of a database that exists: backup → upgrade → update, and notices.

The field catalogue decides what each differing field needs: ``redisVersion`` goes through
the upgrade request (never down), an updatable field through the update request, and a
create-only field is refused (Redis Cloud would have to recreate the database). A database
matched by its ``databaseId`` whose spec ``name`` differs is renamed by the update. A spec
field the live read did not let compare becomes a :class:`~reconciler.plan.Notice`.
"""

from __future__ import annotations

from typing import Any

from reconciler.cloud import paths
from reconciler.compare import (
    UPDATE_FIELDS,
    Comparison,
    RequestForms,
    Uncompared,
    compare_database,
    request_value,
    version_tuple,
)
from reconciler.model import DatabaseSpec, LiveDatabase, LiveSubscription
from reconciler.plan import (
    ActionKind,
    ApiRequest,
    FieldChange,
    Notice,
    PlannedAction,
    Refusal,
    RefusalRule,
)
from reconciler.planning.backups import backup_steps
from reconciler.planning.steps import Steps, show, subject

#: Reasons of the two updates around a default-user switch that comes with a new password.
AFTER_PASSWORD_REASON = "after the password: the API refuses both in one request"
BEFORE_PASSWORD_REASON = (
    "before the password: the API refuses a new password while the default user is disabled"
)
_VERSION = "redisVersion"
_PASSWORD = "password"
_DEFAULT_USER = "enableDefaultUser"
_NAME = "name"
_DATABASE_ID = "databaseId"


def change_steps(
    sub: LiveSubscription, want: DatabaseSpec, have: LiveDatabase, forms: RequestForms | None = None
) -> Steps:
    """Return backup → upgrade → update for an existing database, with their refusals.

    The notices name the spec fields the live read did not let compare. ``forms`` remembers
    the live request forms of this planning pass (None: computed here).
    """
    comparison = compare_database(
        want.fields, have.raw, sub.raw, ignore=want.lifecycle.ignore_changes, forms=forms
    )
    notices = Steps(notices=tuple(_notice(sub.id, have, u) for u in comparison.uncompared))
    changes = _renamed(want, have) + comparison.changes
    if not changes:
        return notices
    steps = _upgrade_and_update(sub.id, want, have, comparison, changes)
    if steps.actions and want.lifecycle.backup_before_update:
        backup = backup_steps(sub.id, have, want.lifecycle, "before update")
        steps = Steps(backup.actions + steps.actions, steps.refusals + backup.refusals)
    return steps + notices


def _notice(sub_id: int, have: LiveDatabase, uncompared: Uncompared) -> Notice:
    """Return the plan's notice of a field that could not be compared."""
    return Notice(sub_id, have.name, have.id, uncompared.field, uncompared.message)


def _renamed(want: DatabaseSpec, have: LiveDatabase) -> tuple[FieldChange, ...]:
    """Return the ``name`` change of a database matched by its ``databaseId`` ((): none)."""
    if _DATABASE_ID not in want.fields or want.name == have.name:
        return ()
    return (FieldChange(_NAME, have.name, want.name),)


def _upgrade_and_update(
    sub_id: int,
    want: DatabaseSpec,
    have: LiveDatabase,
    comparison: Comparison,
    changes: tuple[FieldChange, ...],
) -> Steps:
    """Return the upgrade and update(s) of the changes; create-only changes are refused."""
    where = subject(sub_id, want.name, have.id)
    steps = Steps()
    updatable: list[FieldChange] = []
    refused: set[str] = set()
    for change in changes:
        top = change.path.split(".", 1)[0]
        if top == _VERSION:
            steps += _upgrade(sub_id, have, where, change)
        elif top in UPDATE_FIELDS:
            updatable.append(change)
        elif top not in refused:
            refused.add(top)
            before, after = comparison.have[top], comparison.desired[top]
            steps += Steps.refused(_create_only(sub_id, have, where, top, before, after))
    if updatable:
        live_enabled = comparison.live.get(_DEFAULT_USER, True) is not False
        steps += _update_steps(sub_id, have, want, updatable, live_enabled)
    return steps


def _create_only(
    sub_id: int, have: LiveDatabase, where: str, field: str, before: Any, after: Any
) -> Refusal:
    """Return the refusal for a create-only field that differs."""
    message = (
        f"{where}: {field} cannot change from {show(before)} to {show(after)} on an "
        "existing database; Redis Cloud would have to recreate it (delete it and create it again)"
    )
    return Refusal(RefusalRule.CREATE_ONLY, sub_id, message, have.name, have.id, field)


def _upgrade(sub_id: int, have: LiveDatabase, where: str, change: FieldChange) -> Steps:
    """Return the upgrade action for a redisVersion change, or refuse a downgrade."""
    target, current = version_tuple(change.after), version_tuple(change.before)
    before, after = show(change.before), show(change.after)
    if target is None or current is None:
        message = (
            f"{where}: redisVersion cannot change from {before} to {after}: they are not "
            "comparable versions"
        )
        rule = RefusalRule.VERSION_NOT_COMPARABLE
    elif target < current:
        message = (
            f"{where}: redisVersion cannot go down from {before} to {after}; "
            "Redis Cloud only upgrades"
        )
        rule = RefusalRule.DOWNGRADE
    else:
        body = {"targetRedisVersion": str(change.after)}
        request = ApiRequest("POST", paths.database_upgrade(sub_id, have.id), body)
        action = PlannedAction(ActionKind.UPGRADE, sub_id, have.id, have.name, (change,), request)
        return Steps.of([action])
    return Steps.refused(Refusal(rule, sub_id, message, have.name, have.id, _VERSION))


def _update_steps(
    sub_id: int,
    have: LiveDatabase,
    want: DatabaseSpec,
    changes: list[FieldChange],
    live_enabled: bool,
) -> Steps:
    """Return the update(s) of ``changes``: one PUT, or two around a default-user switch.

    The API refuses a new password in a request that disables the default user, and a new
    password while the default user is disabled. So disabling goes in a second PUT after the
    password, enabling in a first PUT before it, and a new password for a default user that
    stays disabled is refused and left out.
    """
    if not any(c.path == _PASSWORD for c in changes):
        return Steps.of([_update_action(sub_id, have, want, changes)])
    switch = [c for c in changes if c.path == _DEFAULT_USER]
    others = [c for c in changes if c.path != _DEFAULT_USER]
    if switch and switch[0].after is False:
        last = _update_action(sub_id, have, want, switch, AFTER_PASSWORD_REASON)
        return Steps.of([_update_action(sub_id, have, want, others), last])
    if switch:
        first = _update_action(sub_id, have, want, switch, BEFORE_PASSWORD_REASON)
        return Steps.of([first, _update_action(sub_id, have, want, others)])
    if live_enabled:
        return Steps.of([_update_action(sub_id, have, want, changes)])
    rest = [c for c in changes if c.path != _PASSWORD]
    actions = [_update_action(sub_id, have, want, rest)] if rest else []
    return Steps(tuple(actions), (_password_while_disabled(sub_id, have),))


def _password_while_disabled(sub_id: int, have: LiveDatabase) -> Refusal:
    """Return the refusal of a new password for a default user that stays disabled."""
    message = (
        f"{subject(sub_id, have.name, have.id)}: the password cannot change while the "
        "default user is disabled (the API refuses it); set enableDefaultUser: true, or keep "
        "the live password (leave password out of the spec or list it in "
        "lifecycle.ignoreChanges)"
    )
    rule = RefusalRule.PASSWORD_WHILE_DEFAULT_USER_DISABLED
    return Refusal(rule, sub_id, message, have.name, have.id, _PASSWORD)


def _update_action(
    sub_id: int,
    have: LiveDatabase,
    want: DatabaseSpec,
    changes: list[FieldChange],
    reason: str = "",
) -> PlannedAction:
    """Return the PUT that sends the desired value of every changed top-level field."""
    fields = dict.fromkeys(c.path.split(".", 1)[0] for c in changes)
    body = {f: want.name if f == _NAME else request_value(f, want.fields[f]) for f in fields}
    request = ApiRequest("PUT", paths.database(sub_id, have.id), body)
    return PlannedAction(
        ActionKind.UPDATE, sub_id, have.id, have.name, tuple(changes), request, reason
    )
