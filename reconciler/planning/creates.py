"""Plan a database that does not exist yet: create → follow-up update → import.

The create request does not accept every field: those the update request alone accepts
(``enableDefaultUser``, ``regexRules``) go in a follow-up update on the new database. Both
that update and the import address the database by :data:`~reconciler.plan.NEW_DATABASE_ID`,
which the executor replaces with the id the create returned.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from reconciler.cloud import paths
from reconciler.compare import CREATE_FIELDS, UPDATE_FIELDS, request_value
from reconciler.model import DatabaseSpec, ImportSpec
from reconciler.plan import NEW_DATABASE_ID, ActionKind, ApiRequest, FieldChange, PlannedAction
from reconciler.secrets import contains_secret

FOLLOW_UP_REASON = "fields the create call does not accept"
#: Fields sent by the follow-up update right after a create (enableDefaultUser, regexRules).
FOLLOW_UP_FIELDS = UPDATE_FIELDS - CREATE_FIELDS


def create_actions(sid: int, want: DatabaseSpec) -> list[PlannedAction]:
    """Return create → follow-up update → import for a database that does not exist."""
    body: dict[str, Any] = {"name": want.name, **_request_fields(want.fields, CREATE_FIELDS)}
    create = ApiRequest("POST", paths.databases(sid), body)
    changes = _creation_changes(body, skip="name")
    actions = [PlannedAction(ActionKind.CREATE, sid, None, want.name, changes, create)]
    follow_up = _request_fields(want.fields, FOLLOW_UP_FIELDS)
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


def _request_fields(fields: Mapping[str, Any], accepted: Collection[str]) -> dict[str, Any]:
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
