"""Plan the tags of a database: one ``tag`` action that overwrites them all.

Tags are managed only when the spec writes ``tags`` (``{}`` removes every tag). They are set
by ``PUT …/tags`` with the whole desired set, a synchronous call: on an existing database
when any key or value differs, and on a new one right after its create (and the actions
following the create), addressed by :data:`~reconciler.plan.NEW_DATABASE_ID`. Each key
added, changed or removed is a change ``tags.KEY``; keys are compared exactly.
"""

from __future__ import annotations

from collections.abc import Mapping

from reconciler.cloud import paths, tags_body
from reconciler.model import DatabaseSpec, LiveDatabase
from reconciler.plan import NEW_DATABASE_ID, ActionKind, ApiRequest, FieldChange, PlannedAction
from reconciler.planning.steps import Steps

#: The reason of the tag action that follows a create.
AFTER_CREATE_REASON = "the create call does not take tags"
#: The prefix of a tag's change path: ``tags.team``.
TAG_PATH = "tags."


def tag_steps(sid: int, want: DatabaseSpec, have: LiveDatabase | None) -> Steps:
    """Return the tag action of ``want`` in subscription ``sid`` (``have``: the live one).

    Nothing when the spec does not manage tags, the database is to be deleted, or the tags
    are as wanted. ``have`` None means the database is created by this plan.
    """
    if want.tags is None or want.state == "absent":
        return Steps()
    if have is None:
        if not want.tags:
            return Steps()
        changes = tuple(FieldChange(TAG_PATH + k, None, v) for k, v in want.tags.items())
        path = paths.database_tags(sid, NEW_DATABASE_ID)
        request = ApiRequest("PUT", path, tags_body(want.tags))
        action = PlannedAction(
            ActionKind.TAG, sid, None, want.name, changes, request, AFTER_CREATE_REASON
        )
        return Steps.of([action])
    changes = tag_changes(want.tags, have.tags or {})
    if not changes:
        return Steps()
    request = ApiRequest("PUT", paths.database_tags(sid, have.id), tags_body(want.tags))
    return Steps.of([PlannedAction(ActionKind.TAG, sid, have.id, have.name, changes, request)])


def tag_changes(want: Mapping[str, str], have: Mapping[str, str]) -> tuple[FieldChange, ...]:
    """Return one change per key added, changed or removed, sorted by key."""
    keys = sorted(set(want) | set(have))
    return tuple(
        FieldChange(TAG_PATH + key, have.get(key), want.get(key))
        for key in keys
        if want.get(key) != have.get(key)
    )
