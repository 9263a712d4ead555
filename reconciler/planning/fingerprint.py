"""The plan fingerprint: a hash of the planned actions and the state they were planned from.

``apply --plan FILE`` re-plans and compares fingerprints to detect a stale plan. The hash
covers the actions (kind, ids, name, reason, changes, request), the spec's databases, and
the managed (request-shaped, non-volatile) fields of every live database in the spec's
subscriptions — so it is stable between two reads of an unchanged account. Secrets enter
it only as :func:`reconciler.secrets.salted_digest` values.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

from reconciler.compare import live_to_request
from reconciler.model import (
    DatabaseSpec,
    DesiredState,
    Lifecycle,
    LiveDatabase,
    LiveState,
    LiveSubscription,
)
from reconciler.plan import PlannedAction
from reconciler.secrets import Secret, salted_digest


def compute_fingerprint(
    plan_actions: Iterable[PlannedAction], live: LiveState, desired: DesiredState, salt: str
) -> str:
    """Return ``"sha256:<hex>"`` of :func:`fingerprint_document`."""
    text = fingerprint_document(plan_actions, live, desired, salt)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def fingerprint_document(
    plan_actions: Iterable[PlannedAction], live: LiveState, desired: DesiredState, salt: str
) -> str:
    """Return the canonical JSON text the fingerprint hashes (sorted keys, compact).

    Every :class:`reconciler.secrets.Secret` in it has been replaced by its salted digest,
    so the text holds no secret in clear.
    """
    document = {
        "actions": [_action(a) for a in plan_actions],
        "desired": [_database_spec(d) for s in desired.subscriptions for d in s.databases],
        "live": _live(live, [s.id for s in desired.subscriptions]),
    }
    # json's C encoder walks the document; only values it cannot encode (secrets, sets,
    # other mappings) reach the hook, which keeps this cheap over thousands of databases.
    return json.dumps(
        document,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=lambda value: _encodable(value, salt),
    )


def _action(action: PlannedAction) -> dict[str, Any]:
    """Return the hashed facts of one action."""
    return {
        "kind": action.kind.value,
        "subscriptionId": action.subscription_id,
        "databaseId": action.database_id,
        "name": action.name,
        "reason": action.reason,
        "changes": [[c.path, c.before, c.after, c.sensitive] for c in action.changes],
        "request": [action.request.method, action.request.path, action.request.body],
    }


def _database_spec(spec: DatabaseSpec) -> dict[str, Any]:
    """Return the hashed facts of one desired database (location left out: moves are no-ops).

    Tags enter only when managed, so a spec without tags keeps its fingerprint.
    """
    facts = {
        "subscriptionId": spec.subscription_id,
        "name": spec.name,
        "state": spec.state,
        "fields": dict(spec.fields),
        "lifecycle": _lifecycle(spec.lifecycle),
        "import": None
        if spec.import_ is None
        else [spec.import_.source_type, spec.import_.import_from_uri],
    }
    return facts if spec.tags is None else {**facts, "tags": spec.tags}


def _lifecycle(lifecycle: Lifecycle) -> list[Any]:
    """Return the lifecycle directives as a list (cheaper than dataclasses.asdict)."""
    return [
        lifecycle.prevent_destroy,
        lifecycle.backup_before_delete,
        lifecycle.backup_before_update,
        lifecycle.backup_path,
        lifecycle.ignore_changes,
    ]


def _live(live: LiveState, subscription_ids: list[int]) -> dict[str, Any]:
    """Return the hashed facts of the spec's live subscriptions, keyed by id."""
    out: dict[str, Any] = {}
    for sub_id in dict.fromkeys(subscription_ids):
        sub = live.subscriptions.get(sub_id)
        out[str(sub_id)] = None if sub is None else _subscription(sub)
    return out


def _subscription(sub: LiveSubscription) -> dict[str, Any]:
    """Return a subscription's stable facts and its databases' managed fields, by id."""
    return {
        "name": sub.name,
        "deploymentType": sub.raw.get("deploymentType"),
        "publicEndpointAccess": sub.raw.get("publicEndpointAccess"),
        "databases": {
            str(db.id): _live_database(db, sub) for db in sorted(sub.databases, key=lambda d: d.id)
        },
    }


def _live_database(db: LiveDatabase, sub: LiveSubscription) -> dict[str, Any]:
    """Return a live database's name, managed fields and tags (only when they were read)."""
    facts = {"name": db.name, "fields": live_to_request(db.raw, sub.raw)}
    return facts if db.tags is None else {**facts, "tags": db.tags}


def _encodable(value: Any, salt: str) -> Any:
    """Return a JSON stand-in for ``value``: secrets as salted digests, sets sorted."""
    if isinstance(value, Secret):
        return salted_digest(value, salt)
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=repr)
    return repr(value)  # Secret's own repr is masked; nothing else here holds one
