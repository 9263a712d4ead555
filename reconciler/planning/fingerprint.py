"""The plan fingerprint: a hash of the planned actions and the state they were planned from.

``apply --plan FILE`` re-plans and compares fingerprints to detect a stale plan. The hash
covers the actions (kind, ids, name, reason, changes, request), the spec's databases, and
the managed (request-shaped, non-volatile) fields of every live database in the spec's
subscriptions — so it is stable between two reads of an unchanged account. Secrets enter
it only as :func:`reconciler.secrets.salted_digest` values.

:func:`fingerprint_basis` keeps the same facts in pieces small enough to tell WHAT moved: a
digest per spec file, per live subscription and per live database field, and one digest over
every secret. A saved plan file holds it, so ``apply --plan`` can name what changed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

from reconciler.compare import RequestForms
from reconciler.model import (
    DatabaseSpec,
    DesiredState,
    Lifecycle,
    LiveDatabase,
    LiveState,
    LiveSubscription,
)
from reconciler.plan import PlannedAction
from reconciler.secrets import MASK, Secret, map_leaves, salted_digest

#: Hex digits kept of each digest in a basis: enough to notice a change, short in the file.
BASIS_DIGEST_HEX = 16


def compute_fingerprint(
    plan_actions: Iterable[PlannedAction],
    live: LiveState,
    desired: DesiredState,
    salt: str,
    forms: RequestForms | None = None,
) -> str:
    """Return ``"sha256:<hex>"`` of :func:`fingerprint_document`."""
    text = fingerprint_document(plan_actions, live, desired, salt, forms)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def fingerprint_document(
    plan_actions: Iterable[PlannedAction],
    live: LiveState,
    desired: DesiredState,
    salt: str,
    forms: RequestForms | None = None,
) -> str:
    """Return the canonical JSON text the fingerprint hashes (sorted keys, compact).

    Every :class:`reconciler.secrets.Secret` in it has been replaced by its salted digest,
    so the text holds no secret in clear. ``forms`` supplies the live request forms already
    computed by the planning pass (None: computed here).
    """
    document = {
        "actions": [_action(a) for a in plan_actions],
        "desired": [_database_spec(d) for s in desired.subscriptions for d in s.databases],
        "live": _live(live, [s.id for s in desired.subscriptions], forms),
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


def _live(
    live: LiveState, subscription_ids: list[int], forms: RequestForms | None = None
) -> dict[str, Any]:
    """Return the hashed facts of the spec's live subscriptions, keyed by id."""
    memo = RequestForms() if forms is None else forms
    out: dict[str, Any] = {}
    for sub_id in dict.fromkeys(subscription_ids):
        sub = live.subscriptions.get(sub_id)
        out[str(sub_id)] = None if sub is None else _subscription(sub, memo)
    return out


def _subscription(sub: LiveSubscription, forms: RequestForms) -> dict[str, Any]:
    """Return a subscription's stable facts and its databases' managed fields, by id."""
    return {
        "name": sub.name,
        "deploymentType": sub.raw.get("deploymentType"),
        "publicEndpointAccess": sub.raw.get("publicEndpointAccess"),
        "databases": {
            str(db.id): _live_database(db, sub, forms)
            for db in sorted(sub.databases, key=lambda d: d.id)
        },
    }


def _live_database(db: LiveDatabase, sub: LiveSubscription, forms: RequestForms) -> dict[str, Any]:
    """Return a live database's name, managed fields and tags (only when they were read)."""
    facts = {"name": db.name, "fields": forms.of(db.raw, sub.raw)}
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


# --------------------------------------------------------------------------- the basis


def fingerprint_basis(live: LiveState, desired: DesiredState, salt: str) -> dict[str, Any]:
    """Return the facts a plan was made from, as salted digests that tell what moved.

    ``{"spec": {file: digest}, "live": {subscription id: None | {"subscription": digest,
    "databases": {database id: {"name": name, "fields": {field: digest}}}}}, "secrets":
    digest}``. Secrets are left out of every digest but ``secrets`` (one digest over all of
    them, spec and live), so a changed secret is reported without saying which value.
    """
    secrets: list[Any] = []
    spec: dict[str, list[Any]] = {file: [] for file in desired.files}
    for sub in desired.subscriptions:
        for database in sub.databases:
            facts = _database_spec(database)
            spec.setdefault(database.location.file, []).append(_without_secrets(facts, secrets))
    return {
        "spec": {file: _digest(facts, salt) for file, facts in spec.items()},
        "live": {
            key: None if value is None else _live_basis(value, salt, secrets)
            for key, value in _live(live, [s.id for s in desired.subscriptions]).items()
        },
        "secrets": _digest(secrets, salt),
    }


def _live_basis(sub: dict[str, Any], salt: str, secrets: list[Any]) -> dict[str, Any]:
    """Return one live subscription's digests: its own facts, then field by field."""
    databases = sub.pop("databases")
    return {
        "subscription": _digest(sub, salt),
        "databases": {
            db_id: {
                "name": db["name"],
                "fields": {
                    name: _digest(_without_secrets(value, secrets), salt)
                    for name, value in sorted(db["fields"].items())
                },
            }
            for db_id, db in databases.items()
        },
    }


def _without_secrets(value: Any, secrets: list[Any]) -> Any:
    """Return ``value`` with each secret replaced by the mask, the secret added to ``secrets``."""

    def leaf(item: Any) -> Any:
        if isinstance(item, Secret):
            secrets.append(item)
            return MASK
        return item

    return map_leaves(value, leaf)


def _digest(value: Any, salt: str) -> str:
    """Return a short salted digest of a JSON-like value (secrets as salted digests)."""
    text = json.dumps(
        value,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=lambda item: _encodable(item, salt),
    )
    return hashlib.sha256((salt + "\0" + text).encode()).hexdigest()[:BASIS_DIGEST_HEX]
