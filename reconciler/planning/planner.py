"""Turn desired and live state into a :class:`reconciler.plan.Plan`.

For each subscription of the spec, databases are matched by name. An existing database
gets ``backup`` (when its lifecycle asks) → ``upgrade`` → ``update`` (two of them when a new
password comes with a default-user switch); a missing one gets ``create`` → follow-up
``update`` (fields the create call does not accept) → ``import``.
All ``delete`` actions come last, each after its backup. Safety rules do not stop
planning: they are collected in :attr:`Plan.refusals`, so the user sees the whole plan and
why it cannot be applied.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from reconciler.cloud import paths
from reconciler.compare import (
    CompareContext,
    comparable_fields,
    diff_fields,
    live_to_request,
    request_value,
    version_tuple,
)
from reconciler.model import (
    DatabaseSpec,
    DesiredState,
    ImportSpec,
    Lifecycle,
    LiveDatabase,
    LiveState,
    LiveSubscription,
    SubscriptionSpec,
)
from reconciler.plan import (
    NEW_DATABASE_ID,
    ActionKind,
    ApiRequest,
    FieldChange,
    Plan,
    PlannedAction,
    SubscriptionSummary,
    UnmanagedDatabase,
)
from reconciler.planning.fingerprint import compute_fingerprint
from reconciler.secrets import Secret, contains_secret

log = logging.getLogger(__name__)

#: More than this share of a subscription's live databases deleted needs ``--force`` …
DELETE_THRESHOLD_PERCENT = 30
#: … when the subscription has at least this many live databases.
DELETE_THRESHOLD_MIN_DATABASES = 4

#: Fields ``POST /subscriptions/{id}/databases`` accepts (SPEC ``DatabaseCreateRequest``;
#: ``autoMinorVersionUpgrade`` from GO/TF).
CREATE_FIELDS = frozenset(
    {
        "protocol", "port", "memoryLimitInGb", "datasetSizeInGb", "redisVersion",
        "respVersion", "supportOSSClusterApi", "useExternalEndpointForOSSClusterApi",
        "dataPersistence", "dataEvictionPolicy", "replication", "replicaOf", "replica",
        "throughputMeasurement", "localThroughputMeasurement", "averageItemSizeInBytes",
        "periodicBackupPath", "remoteBackup", "sourceIp", "clientSslCertificate",
        "clientTlsCertificates", "enableTls", "password", "saslUsername", "saslPassword",
        "alerts", "modules", "shardingType", "queryPerformanceFactor",
        "autoMinorVersionUpgrade",
    }
)  # fmt: skip

#: Fields ``PUT /subscriptions/{id}/databases/{id}`` accepts (SPEC; GO adds the last two).
UPDATE_FIELDS = frozenset(
    {
        "name", "memoryLimitInGb", "datasetSizeInGb", "respVersion", "throughputMeasurement",
        "dataPersistence", "dataEvictionPolicy", "replication", "regexRules", "replicaOf",
        "replica", "supportOSSClusterApi", "useExternalEndpointForOSSClusterApi", "password",
        "saslUsername", "saslPassword", "sourceIp", "clientSslCertificate",
        "clientTlsCertificates", "enableTls", "enableDefaultUser", "periodicBackupPath",
        "remoteBackup", "alerts", "queryPerformanceFactor", "autoMinorVersionUpgrade",
        "ramPercentage",
    }
)  # fmt: skip

FOLLOW_UP_REASON = "fields the create call does not accept"
#: Reasons of the two updates around a default-user switch that comes with a new password.
AFTER_PASSWORD_REASON = "after the password: the API refuses both in one request"
BEFORE_PASSWORD_REASON = (
    "before the password: the API refuses a new password while the default user is disabled"
)
#: Fields sent by the follow-up update right after a create (enableDefaultUser, regexRules).
_FOLLOW_UP_FIELDS = UPDATE_FIELDS - CREATE_FIELDS - {"name"}


@dataclass
class _Builder:
    """The plan being built: mutable lists, frozen into a Plan at the end."""

    summaries: list[SubscriptionSummary] = field(default_factory=list)
    actions: list[PlannedAction] = field(default_factory=list)
    deletes: list[PlannedAction] = field(default_factory=list)
    unmanaged: list[UnmanagedDatabase] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Doomed:
    """A live database the plan deletes, with the lifecycle that governs it."""

    db: LiveDatabase
    lifecycle: Lifecycle
    reason: str
    pruned: bool


def build_plan(
    desired: DesiredState, live: LiveState, *, force: bool = False, salt: str = ""
) -> Plan:
    """Return the plan that brings ``live`` in line with ``desired``.

    ``force`` lifts the delete safety threshold (no other rule). ``salt`` seeds the salted
    secret digests of the fingerprint. Never raises for a refused plan: refusals are listed
    in the returned plan, which must then not be applied.
    """
    b = _Builder()
    for spec in merge_subscriptions(desired):
        _plan_subscription(b, spec, live, force)
    actions = (*b.actions, *b.deletes)
    return Plan(
        subscriptions=tuple(b.summaries),
        actions=actions,
        unmanaged=tuple(b.unmanaged),
        refusals=tuple(b.refusals),
        fingerprint=compute_fingerprint(actions, live, desired, salt),
    )


def merge_subscriptions(desired: DesiredState) -> list[SubscriptionSpec]:
    """Return one SubscriptionSpec per id, in first-seen order (databases concatenated).

    The spec loader normally merges already; a subscription named by several entries is
    pruned when any of them asks for it.
    """
    merged: dict[int, SubscriptionSpec] = {}
    for sub in desired.subscriptions:
        seen = merged.get(sub.id)
        if seen is None:
            merged[sub.id] = sub
        else:
            databases = seen.databases + sub.databases
            merged[sub.id] = replace(seen, prune=seen.prune or sub.prune, databases=databases)
    return list(merged.values())


def _plan_subscription(b: _Builder, spec: SubscriptionSpec, live: LiveState, force: bool) -> None:
    """Add the actions, unmanaged databases and refusals of one subscription."""
    sub = live.subscriptions.get(spec.id)
    if sub is None:
        b.summaries.append(SubscriptionSummary(spec.id, "", 0, len(spec.databases)))
        b.refusals.append(f"subscription {spec.id} does not exist (or this API key cannot see it)")
        return
    b.summaries.append(
        SubscriptionSummary(sub.id, sub.name, len(sub.databases), len(spec.databases))
    )
    if not sub.is_pro_single_region:
        kind = sub.raw.get("deploymentType")
        b.refusals.append(
            f'subscription {sub.id} "{sub.name}" is not a Pro single-region subscription '
            f"(deploymentType {kind!r}); reconciler manages only those"
        )
        return
    by_name: dict[str, LiveDatabase] = {}
    for db in sub.databases:
        by_name.setdefault(db.name, db)
    doomed: list[_Doomed] = []
    for want in spec.databases:
        have = by_name.get(want.name)
        if want.state == "absent":
            if have is not None:
                doomed.append(_Doomed(have, want.lifecycle, "state: absent", pruned=False))
        elif have is None:
            b.actions.extend(_create_actions(spec.id, want))
        else:
            b.actions.extend(_change_actions(b, sub, want, have))
    _collect_unnamed(b, spec, sub, doomed)
    _plan_deletes(b, sub, doomed, force)


def _collect_unnamed(
    b: _Builder, spec: SubscriptionSpec, sub: LiveSubscription, doomed: list[_Doomed]
) -> None:
    """Doom (prune on) or list as unmanaged (prune off) the live databases named in no file."""
    named = {d.name for d in spec.databases}
    for db in sub.databases:
        if db.name in named:
            continue
        if spec.prune:
            doomed.append(_Doomed(db, Lifecycle(), "named in no file; prune is on", pruned=True))
        else:
            b.unmanaged.append(UnmanagedDatabase(sub.id, db.id, db.name))


def _subject(sub_id: int, name: str, db_id: int | None = None) -> str:
    """Return how refusals name a database."""
    where = f"subscription {sub_id} database {name!r}"
    return f"{where} (db {db_id})" if db_id is not None else where


def _show(value: Any) -> str:
    """Return a value for a refusal message (secrets masked)."""
    return str(value) if isinstance(value, Secret) else repr(value)


# --------------------------------------------------------------------------- existing databases


def _change_actions(
    b: _Builder, sub: LiveSubscription, want: DatabaseSpec, have: LiveDatabase
) -> list[PlannedAction]:
    """Return backup → upgrade → update for an existing database (refusals into ``b``)."""
    live_req = live_to_request(have.raw, sub.raw)
    context = CompareContext.for_database(want.fields, live_req, sub.raw)
    desired_c, live_c = comparable_fields(want.fields, live_req, context)
    changes = diff_fields(desired_c, live_c, ignore=want.lifecycle.ignore_changes)
    if not changes:
        return []
    subject = _subject(sub.id, want.name, have.id)
    actions: list[PlannedAction] = []
    updatable: list[FieldChange] = []
    refused: set[str] = set()
    for change in changes:
        top = change.path.split(".", 1)[0]
        if top == "redisVersion":
            actions.extend(_upgrade(b, sub.id, have, subject, change))
        elif top in UPDATE_FIELDS:
            updatable.append(change)
        elif top not in refused:
            refused.add(top)
            b.refusals.append(_recreate_message(subject, top, live_c[top], desired_c[top]))
    if updatable:
        live_enabled = live_req.get("enableDefaultUser", True) is not False
        actions.extend(_update_actions(b, sub.id, have, want, updatable, live_enabled))
    if actions and want.lifecycle.backup_before_update:
        actions[:0] = _backup(b, sub.id, have, want.lifecycle, "before update")
    return actions


def _recreate_message(subject: str, field_name: str, before: Any, after: Any) -> str:
    """Return the refusal for a create-only field that differs."""
    return (
        f"{subject}: {field_name} cannot change from {_show(before)} to {_show(after)} on an "
        "existing database; Redis Cloud would have to recreate it (delete it and create it again)"
    )


def _upgrade(
    b: _Builder, sub_id: int, have: LiveDatabase, subject: str, change: FieldChange
) -> list[PlannedAction]:
    """Return the upgrade action for a redisVersion change, or refuse a downgrade."""
    target, current = version_tuple(change.after), version_tuple(change.before)
    if target is None or current is None:
        b.refusals.append(
            f"{subject}: redisVersion cannot change from {_show(change.before)} to "
            f"{_show(change.after)}: they are not comparable versions"
        )
        return []
    if target < current:
        b.refusals.append(
            f"{subject}: redisVersion cannot go down from {_show(change.before)} to "
            f"{_show(change.after)}; Redis Cloud only upgrades"
        )
        return []
    body = {"targetRedisVersion": str(change.after)}
    request = ApiRequest("POST", paths.database_upgrade(sub_id, have.id), body)
    return [PlannedAction(ActionKind.UPGRADE, sub_id, have.id, have.name, (change,), request)]


def _update_actions(
    b: _Builder,
    sub_id: int,
    have: LiveDatabase,
    want: DatabaseSpec,
    changes: list[FieldChange],
    live_enabled: bool,
) -> list[PlannedAction]:
    """Return the update(s) of ``changes``: one PUT, or two around a default-user switch.

    The API refuses a new password in a request that disables the default user, and a new
    password while it is disabled (facts §2.6). So disabling goes in a second PUT after the
    password, enabling in a first PUT before it, and a new password for a default user that
    stays disabled is refused (into ``b``) and left out.
    """
    if not any(c.path == "password" for c in changes):
        return [_update_action(sub_id, have, want, changes)]
    switch = [c for c in changes if c.path == "enableDefaultUser"]
    others = [c for c in changes if c.path != "enableDefaultUser"]
    if switch and switch[0].after is False:
        last = _update_action(sub_id, have, want, switch, AFTER_PASSWORD_REASON)
        return [_update_action(sub_id, have, want, others), last]
    if switch:
        first = _update_action(sub_id, have, want, switch, BEFORE_PASSWORD_REASON)
        return [first, _update_action(sub_id, have, want, others)]
    if live_enabled:
        return [_update_action(sub_id, have, want, changes)]
    b.refusals.append(
        f"{_subject(sub_id, have.name, have.id)}: the password cannot change while the "
        "default user is disabled (the API refuses it); set enableDefaultUser: true, or keep "
        "the live password (leave password out of the spec or list it in "
        "lifecycle.ignoreChanges)"
    )
    rest = [c for c in changes if c.path != "password"]
    return [_update_action(sub_id, have, want, rest)] if rest else []


def _update_action(
    sub_id: int,
    have: LiveDatabase,
    want: DatabaseSpec,
    changes: list[FieldChange],
    reason: str = "",
) -> PlannedAction:
    """Return the PUT that sends the desired value of every changed top-level field."""
    fields = dict.fromkeys(c.path.split(".", 1)[0] for c in changes)
    body = {f: request_value(f, want.fields[f]) for f in fields}
    request = ApiRequest("PUT", paths.database(sub_id, have.id), body)
    return PlannedAction(
        ActionKind.UPDATE, sub_id, have.id, have.name, tuple(changes), request, reason
    )


def _backup(
    b: _Builder, sub_id: int, have: LiveDatabase, lifecycle: Lifecycle, reason: str, hint: str = ""
) -> list[PlannedAction]:
    """Return the backup action for ``have``, or refuse when it has nowhere to go.

    The database's own remote backup location is used when it has one, else
    ``lifecycle.backupPath`` as an ad-hoc path.
    """
    location = _backup_location(have.raw)
    body: dict[str, Any] = {}
    if location is None and lifecycle.backup_path:
        location = request_value("adhocBackupPath", lifecycle.backup_path)
        body = {"adhocBackupPath": location}
    if location is None:
        b.refusals.append(
            f"{_subject(sub_id, have.name, have.id)}: a backup is required {reason} but the "
            f"database has no backup location and no lifecycle.backupPath{hint}"
        )
        return []
    change = FieldChange("destination", None, location, sensitive=isinstance(location, Secret))
    request = ApiRequest("POST", paths.database_backup(sub_id, have.id), body)
    return [
        PlannedAction(ActionKind.BACKUP, sub_id, have.id, have.name, (change,), request, reason)
    ]


def _backup_location(raw: Mapping[str, Any]) -> Any:
    """Return the remote backup destination (credentials wrapped) when remote backup is on.

    Returns None when the database has no remote backup location.
    """
    backup = raw.get("backup")
    if not isinstance(backup, Mapping) or backup.get("enableRemoteBackup") is not True:
        return None
    destination = backup.get("destination")
    if not isinstance(destination, str) or not destination:
        return "(configured location)"
    return request_value("destination", destination)


# --------------------------------------------------------------------------- new databases


def _create_actions(sid: int, want: DatabaseSpec) -> list[PlannedAction]:
    """Return create → follow-up update → import for a database that does not exist."""
    body: dict[str, Any] = {"name": want.name, **_request_fields(want.fields, CREATE_FIELDS)}
    create = ApiRequest("POST", paths.databases(sid), body)
    changes = _creation_changes(body, skip="name")
    actions = [PlannedAction(ActionKind.CREATE, sid, None, want.name, changes, create)]
    follow_up = _request_fields(want.fields, _FOLLOW_UP_FIELDS)
    if follow_up:
        request = ApiRequest("PUT", paths.database(sid, NEW_DATABASE_ID), follow_up)
        changes = _creation_changes(follow_up)
        actions.append(
            PlannedAction(
                ActionKind.UPDATE, sid, None, want.name, changes, request, FOLLOW_UP_REASON
            )
        )
    if want.import_ is not None:
        actions.append(_import_action(sid, want, want.import_))
    return actions


def _request_fields(fields: Mapping[str, Any], accepted: frozenset[str]) -> dict[str, Any]:
    """Return the spec fields named in ``accepted``, in request form (secrets wrapped)."""
    return {f: request_value(f, v) for f, v in fields.items() if f in accepted}


def _creation_changes(body: Mapping[str, Any], skip: str = "") -> tuple[FieldChange, ...]:
    """Return ``(field, None, value)`` for every body field but ``skip``."""
    return tuple(
        FieldChange(f, None, v, sensitive=contains_secret(v)) for f, v in body.items() if f != skip
    )


def _import_action(sid: int, want: DatabaseSpec, spec: ImportSpec) -> PlannedAction:
    """Return the import (``spec``) that follows the create of ``want`` in subscription ``sid``."""
    body = {
        "sourceType": spec.source_type,
        "importFromUri": request_value("importFromUri", list(spec.import_from_uri)),
    }
    request = ApiRequest("POST", paths.database_import(sid, NEW_DATABASE_ID), body)
    return PlannedAction(ActionKind.IMPORT, sid, None, want.name, _creation_changes(body), request)


# --------------------------------------------------------------------------- deletes


def _plan_deletes(b: _Builder, sub: LiveSubscription, doomed: list[_Doomed], force: bool) -> None:
    """Add each delete (after its backup) and the delete safety refusals."""
    if not doomed:
        return
    _check_threshold(b, sub, len(doomed), force)
    for d in doomed:
        if d.lifecycle.prevent_destroy:
            b.refusals.append(
                f"{_subject(sub.id, d.db.name, d.db.id)}: lifecycle.preventDestroy is set but "
                "the plan would delete it"
            )
        if d.lifecycle.backup_before_delete:
            hint = (
                "; name it in a file with state: absent and a lifecycle.backupPath "
                "(or backupBeforeDelete: false)"
                if d.pruned
                else ""
            )
            b.deletes.extend(_backup(b, sub.id, d.db, d.lifecycle, "before delete", hint))
        request = ApiRequest("DELETE", paths.database(sub.id, d.db.id))
        b.deletes.append(
            PlannedAction(ActionKind.DELETE, sub.id, d.db.id, d.db.name, (), request, d.reason)
        )


def _check_threshold(b: _Builder, sub: LiveSubscription, deletes: int, force: bool) -> None:
    """Refuse deleting more than 30 % of a subscription's (≥ 4) live databases without force."""
    total = len(sub.databases)
    too_many = (
        total >= DELETE_THRESHOLD_MIN_DATABASES and deletes * 100 > total * DELETE_THRESHOLD_PERCENT
    )
    if too_many and not force:
        b.refusals.append(
            f'subscription {sub.id} "{sub.name}": the plan deletes {deletes} of its {total} '
            f"live databases, more than {DELETE_THRESHOLD_PERCENT} %; use --force to allow it"
        )
    elif too_many:
        log.info(
            "subscription %s: %s of %s databases deleted under --force", sub.id, deletes, total
        )
